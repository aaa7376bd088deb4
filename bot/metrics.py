"""Every Prometheus metric MediaLink exports, named in one place.

One ``Metrics`` per app, on a registry of its own (never prometheus_client's global
one), so tests and several apps in one process do not collide. ``GET /metrics``
renders it (``bot.server``).

Every label value comes from a fixed set defined here: entry points, outcomes, Wix
endpoints and statuses, refusal reasons, kinds of work. Nothing a request carries
(user IDs, file IDs, URLs, action IDs) ever becomes a label: each ``*_label``
function maps what it is given onto its set, with a catch-all.

On the ack path a request costs two counter or histogram updates; gauges are read
only when scraped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.policy.access import Reason

if TYPE_CHECKING:
    from bot.audit import AuditTrail
    from bot.wix.links import LinkService

__all__ = ["CONTENT_TYPE_LATEST", "Metrics"]


class EntryPoint(StrEnum):
    """Where a request came in, as a label."""

    COMMAND = "command"
    MESSAGE_SHORTCUT = "message_shortcut"
    GLOBAL_SHORTCUT = "global_shortcut"
    FORM = "form"  # view submissions and closes
    SUGGESTION = "suggestion"  # the form's type-ahead asking for options (block_suggestion)
    BUTTON = "button"
    HISTORY = "history"
    EVENT = "event"  # the App Home and any other event
    CLI = "cli"
    WORKFLOW = "workflow"  # the Workflow Builder step (function_executed)

    FIND = "find"  # links made from /medialink find's results
    UNKNOWN = "unknown"  # not verified, or not a payload MediaLink knows


class RequestOutcome(StrEnum):
    ACKED = "acked"
    REFUSED = "refused"  # the access policy said no
    BUSY = "busy"  # too much work in flight: turned away
    ERROR = "error"  # a 4xx/5xx from a signed request
    UNVERIFIED = "unverified"  # no valid signature (401), or a body refused unread


class Work(StrEnum):
    LISTENER = "listener"  # listener work after its ack (the dispatcher's running set)
    LINK_REQUEST = "link_request"  # the link service's generate() calls under way


QUOTA: Final = "quota"
BUSY: Final = "busy"
REFUSAL_REASONS: Final = frozenset({*(reason.value for reason in Reason), QUOTA, BUSY})

# The Wix endpoints MediaLink calls, by path (bot/wix/client.py, bot/wix/limits.py).
WIX_ENDPOINTS: Final[Mapping[str, str]] = {
    "/site-media/v1/files/generate-file-download-url": "generate_file_download_url",
    "/site-media/v1/files/generate-download-url": "generate_files_download_url",
    "/site-media/v1/files/get-file-by-id": "get_file",
    "/site-media/v1/files/get-files": "get_files",
    "/site-media/v1/files/search": "search_files",
    "/site-media/v1/files/generate-video-stream-url": "generate_video_stream_url",
}
OTHER: Final = "other"
# A status is its code when MediaLink treats it specially, else its class.
WIX_STATUS_CODES: Final = frozenset({200, 400, 401, 403, 404, 409, 429, 500, 502, 503, 504})
WIX_FAILURES: Final = frozenset({"timeout", "unreachable", "connection", "error"})

# Seconds. The ack must be well under Slack's 3 s; a reply or a Wix call takes longer.
ACK_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 3.0)
REPLY_BUCKETS: Final = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0)
WIX_BUCKETS: Final = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0)
WAIT_BUCKETS: Final = (0.0, 0.01, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0)


def entry_label(entry: str | None) -> EntryPoint:
    """The label for an audit trail entry (``command``, ``button:regenerate``, …)."""
    if not entry:
        return EntryPoint.UNKNOWN
    if entry.startswith("button:"):
        return EntryPoint.BUTTON
    try:
        return EntryPoint(entry)
    except ValueError:
        return EntryPoint.UNKNOWN


def entry_of_body(body: Mapping[str, Any]) -> EntryPoint:
    """The label for a verified payload, from its type alone (never its content)."""
    if "command" in body:
        return EntryPoint.COMMAND
    kind = body.get("type")
    if kind == "block_actions":
        return EntryPoint.BUTTON
    if kind == "message_action":
        return EntryPoint.MESSAGE_SHORTCUT
    if kind == "shortcut":
        return EntryPoint.GLOBAL_SHORTCUT
    if kind in {"view_submission", "view_closed"}:
        return EntryPoint.FORM
    if kind == "block_suggestion":
        return EntryPoint.SUGGESTION
    if kind == "event_callback":
        event = body.get("event")
        if isinstance(event, dict) and event.get("type") == "function_executed":
            return EntryPoint.WORKFLOW
        return EntryPoint.EVENT
    return EntryPoint.UNKNOWN


def wix_endpoint_label(path: str) -> str:
    return WIX_ENDPOINTS.get(path, OTHER)


def wix_status_label(status: int) -> str:
    if status in WIX_STATUS_CODES:
        return str(status)
    return f"{status // 100}xx" if 100 <= status < 600 else OTHER


def refusal_label(reason: str) -> str:
    return reason if reason in REFUSAL_REASONS else OTHER


class Metrics:
    """MediaLink's metrics on a registry of their own."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "medialink_requests",
            "Slack requests answered, by entry point and outcome.",
            ["entry", "outcome"],
            registry=r,
        )
        self.ack_seconds = Histogram(
            "medialink_ack_seconds",
            "From a request's body read to its ack handed to the HTTP server.",
            buckets=ACK_BUCKETS,
            registry=r,
        )
        self.reply_seconds = Histogram(
            "medialink_reply_seconds",
            "From a request's arrival to the end of its listener's work (its last message).",
            ["entry"],
            buckets=REPLY_BUCKETS,
            registry=r,
        )
        self.wix_calls = Counter(
            "medialink_wix_calls",
            "HTTP attempts to Wix, by endpoint and status (code, class, or failure).",
            ["endpoint", "status"],
            registry=r,
        )
        self.wix_seconds = Histogram(
            "medialink_wix_call_seconds",
            "One HTTP attempt to Wix, sent to answer read.",
            ["endpoint"],
            buckets=WIX_BUCKETS,
            registry=r,
        )
        self.wix_retries = Counter(
            "medialink_wix_retries", "Wix attempts retried, by endpoint.", ["endpoint"], registry=r
        )
        self.ratelimit_wait_seconds = Histogram(
            "medialink_wix_ratelimit_wait_seconds",
            "Time a Wix call waited for its place in the rate limiter.",
            buckets=WAIT_BUCKETS,
            registry=r,
        )
        self.ratelimit_queued = Gauge(
            "medialink_wix_ratelimit_queued",
            "Wix calls waiting for their turn in the rate limiter.",
            registry=r,
        )
        self.links_issued = Counter(
            "medialink_links_issued",
            "Files for which links were made, by entry point.",
            ["entry"],
            registry=r,
        )
        self.refusals = Counter(
            "medialink_refusals",
            "Requests refused: the access policy's reason, the member's quota, or busy.",
            ["reason"],
            registry=r,
        )
        self.audit_buffer = Gauge(
            "medialink_audit_buffer_events",
            "Audit events recorded and not yet written to the database.",
            registry=r,
        )
        self.in_flight = Gauge(
            "medialink_in_flight", "Work under way, by kind.", ["work"], registry=r
        )
        # Children resolved once: a request's updates are then a lookup and an add.
        self._requests = {
            (entry, outcome): self.requests.labels(entry=entry.value, outcome=outcome.value)
            for entry in EntryPoint
            for outcome in RequestOutcome
        }
        self._links = {entry: self.links_issued.labels(entry=entry.value) for entry in EntryPoint}
        self._replies = {e: self.reply_seconds.labels(entry=e.value) for e in EntryPoint}
        for reason in sorted(REFUSAL_REASONS | {OTHER}):
            self.refusals.labels(reason=reason)
        for work in Work:
            self.in_flight.labels(work=work.value)

    # -- recording -------------------------------------------------------------------------

    def request_answered(self, entry: EntryPoint, outcome: RequestOutcome, seconds: float) -> None:
        self._requests[entry, outcome].inc()
        if outcome is not RequestOutcome.UNVERIFIED:
            self.ack_seconds.observe(seconds)

    def replied(self, entry: EntryPoint, seconds: float) -> None:
        self._replies[entry].observe(seconds)

    def links_made(self, entry: str | None, files: int) -> None:
        if files:
            self._links[entry_label(entry)].inc(files)

    def refused(self, reason: str) -> None:
        self.refusals.labels(reason=refusal_label(reason)).inc()

    def wix_attempt(self, path: str, status: int | str, seconds: float) -> None:
        endpoint = wix_endpoint_label(path)
        label = wix_status_label(status) if isinstance(status, int) else status
        label = label if label in _STATUSES else OTHER
        self.wix_calls.labels(endpoint=endpoint, status=label).inc()
        self.wix_seconds.labels(endpoint=endpoint).observe(seconds)

    def wix_retry(self, path: str) -> None:
        self.wix_retries.labels(endpoint=wix_endpoint_label(path)).inc()

    def ratelimit_waited(self, seconds: float) -> None:
        self.ratelimit_wait_seconds.observe(max(0.0, seconds))

    # -- wiring ------------------------------------------------------------------------------

    def watch(self, links: LinkService, audit: AuditTrail) -> None:
        """Count the link service's Wix calls and rate-limiter waits, and read its work
        under way, the limiter's queue and the audit buffer when scraped."""
        client = links.client
        client.metrics = self
        limiter = client.limiter
        limiter.on_wait = self.ratelimit_waited
        self.watch_ratelimit_queue(lambda: limiter.queued)
        self.watch_in_flight(Work.LINK_REQUEST, lambda: links.pending)
        if isinstance(getattr(audit, "pending", None), int):  # the SQL store's buffer
            self.watch_audit_buffer(lambda: float(getattr(audit, "pending", 0)))

    # -- gauges read when scraped ------------------------------------------------------

    def watch_in_flight(self, work: Work, read: Callable[[], float]) -> None:
        self.in_flight.labels(work=work.value).set_function(read)

    def watch_ratelimit_queue(self, read: Callable[[], float]) -> None:
        self.ratelimit_queued.set_function(read)

    def watch_audit_buffer(self, read: Callable[[], float]) -> None:
        self.audit_buffer.set_function(read)

    def render(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)


_STATUSES: Final = frozenset(
    {str(code) for code in WIX_STATUS_CODES}
    | {f"{n}xx" for n in range(1, 6)}
    | WIX_FAILURES
    | {OTHER}
)
