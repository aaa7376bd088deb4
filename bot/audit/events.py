"""Audit events for the links a request made: one event per file.

Built from the link service's results, so the record says what was really made (or
why not) and never holds a URL: only the file, the asset keys, the expiry and Wix's
error code and request ID.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.audit import AuditEvent, Outcome
from bot.wix.errors import (
    WixAPIError,
    WixError,
    WixResponseError,
    transport_failure,
)
from bot.wix.fairness import FileQuotaError, WixBusyError
from bot.wix.links import ORIGINAL, FileLinks

MAX_REASON_CHARS = 300  # a reason is a short sentence, never a payload
ZIP_REASON = "in a permanent zip link"


@dataclass(frozen=True, slots=True)
class Requester:
    """Who asked, where, and through which entry point (``bot.audit.Entry``)."""

    entry: str
    user_id: str | None = None
    team_id: str | None = None
    enterprise_id: str | None = None
    channel_id: str | None = None
    request_id: str | None = None  # the Slack request (as in the logs), when there is one
    # Whose sites serve the request (bot.tenancy.tenant_of); None outside Slack.
    tenant: str | None = None


def link_events(
    requester: Requester,
    results: Sequence[FileLinks],
    *,
    asked_keys: Sequence[str] = (),
    at: datetime | None = None,
) -> list[AuditEvent]:
    """One event per file: ``ok`` with the asset keys made and the expiry, or the error."""
    when = at or datetime.now(UTC)
    return [_event(requester, result, tuple(asked_keys) or (ORIGINAL,), when) for result in results]


def zip_events(
    requester: Requester, files: Sequence[tuple[str, str | None]], *, at: datetime | None = None
) -> list[AuditEvent]:
    """One ``ok`` event per public file put in a zip link (``(file ID, display name)``):
    no expiry, since that link is permanent (docs/wix.md, Generate Files Download URL)."""
    when = at or datetime.now(UTC)
    return [
        AuditEvent(
            at=when,
            team_id=requester.team_id,
            enterprise_id=requester.enterprise_id,
            user_id=requester.user_id,
            channel_id=requester.channel_id,
            entry=requester.entry,
            outcome=Outcome.OK,
            file_id=file_id,
            file_name=name,
            private=False,
            reason=ZIP_REASON,
        )
        for file_id, name in files
    ]


def refusal_event(requester: Requester, reason: str, *, at: datetime | None = None) -> AuditEvent:
    """A request refused as a whole (who may, quotas): no file, the reason."""
    return AuditEvent(
        at=at or datetime.now(UTC),
        team_id=requester.team_id,
        enterprise_id=requester.enterprise_id,
        user_id=requester.user_id,
        channel_id=requester.channel_id,
        entry=requester.entry,
        outcome=Outcome.REFUSED,
        reason=reason[:MAX_REASON_CHARS],
        request_id=requester.request_id,
    )


def error_code(error: BaseException) -> str:
    """What an audit row's ``outcome`` says about a failure: Wix's code when it gave one."""
    if isinstance(error, FileQuotaError):
        return "QUOTA"
    if isinstance(error, WixBusyError):
        return "BUSY"
    if isinstance(error, WixAPIError):
        return error.code or f"HTTP_{error.status}"
    if (failure := transport_failure(error)) is not None:
        return failure.upper()
    if isinstance(error, WixResponseError):
        return "BAD_ANSWER"
    if isinstance(error, WixError):
        return "WIX_ERROR"
    return type(error).__name__


def _event(
    requester: Requester, result: FileLinks, asked: tuple[str, ...], at: datetime
) -> AuditEvent:
    facts = result.facts
    made = tuple(link.asset_key for link in result.links)
    error = result.error
    return AuditEvent(
        at=at,
        team_id=requester.team_id,
        enterprise_id=requester.enterprise_id,
        user_id=requester.user_id,
        channel_id=requester.channel_id,
        entry=requester.entry,
        outcome=Outcome.OK if result.ok else error_code(error) if error else "NO_LINKS",
        file_id=result.file_id,
        file_name=result.display_name,
        private=facts.private if facts is not None else None,
        asset_keys=made if result.ok else asked,
        expires_at=result.expires_at if result.ok else None,
        reason=_reason(result),
        wix_request_id=error.request_id if isinstance(error, WixAPIError) else None,
        request_id=requester.request_id,
    )


def _reason(result: FileLinks) -> str | None:
    if result.invalid_asset_keys:
        return f"renditions the file does not have: {', '.join(result.invalid_asset_keys)}"[
            :MAX_REASON_CHARS
        ]
    if result.error is not None and not result.ok:
        return type(result.error).__name__
    return None
