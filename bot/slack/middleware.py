"""Bolt middleware: cross-cutting work that every request gets, so listeners don't.

Bolt's async global middleware runs before the listener and cannot wrap it (its
``next()`` only marks the chain as continuing), so this is where a request is named
and logged on arrival. Access checks, when MediaLink needs them, belong here too.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import math
import secrets
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

logger = logging.getLogger("bot.slack")

REQUEST_KEY = "medialink_request"
# An asyncio.Event the HTTP server (bot.server) puts in a request's context and sets once
# Bolt has handed it the ack.
ACK_SENT_KEY = "medialink_ack_sent"
# The HTTP server's PendingAcks, shared by every request.
PENDING_ACKS_KEY = "medialink_pending_acks"
# Work after an ack gives way to other requests' acks for at most this long.
GIVE_WAY_LIMIT = 0.25  # seconds
# … and until no request has arrived for this long.
CALM = 0.002  # seconds
# An aiohttp.ClientSession the HTTP server shares among every response_url post.
WEBHOOK_SESSION_KEY = "medialink_webhook_session"


class SessionRespond(AsyncRespond):
    """``respond()`` over one shared HTTP session.

    Bolt's ``respond()`` opens a new aiohttp session, and so a new connection (a TLS
    handshake to Slack in production), for every post; this reuses the server's.
    """

    def __init__(self, *, response_url: str, session: aiohttp.ClientSession) -> None:
        super().__init__(response_url=response_url)
        self.session = session

    async def __call__(  # type: ignore[override]  # the keyword subset MediaLink uses
        self,
        text: str = "",
        *,
        blocks: Sequence[Mapping[str, Any]] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
    ) -> WebhookResponse:
        assert self.response_url is not None  # noqa: S101 - set in __init__
        client = AsyncWebhookClient(url=self.response_url, session=self.session)
        return await client.send(
            text=text,
            blocks=[dict(block) for block in blocks] if blocks is not None else None,
            response_type=response_type,
            replace_original=replace_original,
            delete_original=delete_original,
            unfurl_links=unfurl_links,
            unfurl_media=unfurl_media,
        )


class PendingAcks:
    """The requests the HTTP server is answering: read, their ack not yet returned.

    Work that follows an ack gives way to them (``drained``), so in a burst every
    request is acked before any listener's Wix calls and rendering take the event
    loop: an ack costs a fraction of a millisecond and Slack gives up on it after 3 s,
    while the work waits on Wix for hundreds of milliseconds anyway. Requests of a burst
    arrive a little apart, so the work also waits until none has arrived for ``calm``
    seconds. The wait is bounded, so a stream of requests cannot starve the work
    (benchmarks/README.md).

    All waiting work shares one gate, opened by one check when the last pending ack
    is out; waking every waiter whenever the count touched zero cost more than the
    acks themselves in a burst of 200.
    """

    def __init__(self, calm: float | None = None) -> None:
        self.calm = CALM if calm is None else calm
        self._count = 0
        self._last_arrival = -math.inf
        self._gate: asyncio.Future[None] | None = None
        self._check: asyncio.Handle | None = None
        self._bound: asyncio.Handle | None = None

    def __len__(self) -> int:
        return self._count

    @contextlib.contextmanager
    def answering(self) -> Iterator[None]:
        """Count a request as pending while the server answers it."""
        self._count += 1
        self._last_arrival = time.monotonic()
        try:
            yield
        finally:
            self._count -= 1
            if not self._count:
                self._check_soon()

    async def drained(self, limit: float) -> None:
        """Return once no request is pending or has just arrived, or at most ``limit``
        seconds after the work now waiting began to wait."""
        gate = self._gate
        if gate is None or gate.done():
            loop = asyncio.get_running_loop()
            gate = self._gate = loop.create_future()
            # One timer for the bound, not one per waiter: a burst made hundreds.
            self._bound = loop.call_later(limit, self._open)
            self._check_soon()
        await asyncio.shield(gate)  # a waiter cancelled (say, at shutdown) leaves it be

    def _open(self) -> None:
        if self._gate is not None and not self._gate.done():
            self._gate.set_result(None)
        for handle in (self._check, self._bound):
            if handle is not None:
                handle.cancel()
        self._check = self._bound = None

    def _check_soon(self, delay: float = 0.0, turns: int = 2) -> None:
        if self._gate is None or self._gate.done():
            return
        if self._check is not None:
            self._check.cancel()
        loop = asyncio.get_running_loop()
        self._check = loop.call_later(delay, self._open_if_calm, turns)

    def _open_if_calm(self, turns: int) -> None:
        self._check = None
        if self._gate is None or self._gate.done() or self._count:
            return  # the last pending ack checks again
        since = time.monotonic() - self._last_arrival
        if since < self.calm:
            self._check_soon(self.calm - since)
        elif turns:
            # Bytes that arrived during this loop turn are parsed in the next, and their
            # request starts being answered in the one after.
            self._check_soon(0.0, turns - 1)
        else:
            self._open()


class ListenerAck(AsyncAck):
    """``ack()`` that tells ``answer_at_ack`` the answer is ready, then returns once the
    server holds it and no other request is waiting for its own ack, so the listener's
    work starts after the acks. The request is logged then, off the path to the ack.

    ``sent`` (``ACK_SENT_KEY``) and ``pending`` (``PENDING_ACKS_KEY``) come from the HTTP
    server; Socket Mode has neither, and there the work goes on at once. Only the task
    ``answer_at_ack`` started waits: anything else that calls ``ack()`` inside Bolt's
    dispatch (Bolt's own auto-ack, a listener not wrapped) would wait for a response
    that cannot be sent until it returns.
    """

    def __init__(
        self,
        request: AsyncBoltRequest,
        info: RequestInfo,
        sent: asyncio.Event | None = None,
        pending: PendingAcks | None = None,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # untyped in Bolt
        self.request = request
        self.info = info
        # Done once Bolt can answer: at ack(), or when the listener ended without one.
        self.answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.work: asyncio.Task[Any] | None = None  # set by answer_at_ack
        self._sent = sent
        self._pending = pending

    @property
    def acked(self) -> bool:
        return self.response is not None

    def release(self, _: object = None) -> None:
        """The listener is over: stop waiting for its ack."""
        if not self.answered.done():
            self.answered.set_result(None)

    async def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        response = await super().__call__(*args, **kwargs)
        self.release()
        if self.work is None or asyncio.current_task() is not self.work:
            logger.info("acked %s", self.info.describe())
            return response
        if self._sent is not None:
            await self._sent.wait()  # set in a finally by the server, whatever happens
        if self._pending is not None:
            await self._pending.drained(GIVE_WAY_LIMIT)
        logger.info("acked %s", self.info.describe())
        return response


Listener = Callable[..., Awaitable[Any]]

# Listener work still running after its ack; referenced so it is not collected, and
# awaited by finish_listener_work() when the app stops.
_running: set[asyncio.Task[None]] = set()


def answer_at_ack(listener: Listener) -> Listener:
    """Let Bolt answer Slack as soon as ``listener`` has acked, and finish it after.

    MediaLink's app runs with ``process_before_response=True``: Bolt awaits the listener
    and sends its ack when the listener returns, with no polling. Wrapped, the listener
    runs as a task and the wrapper returns at ``ack()``; what the listener does after
    that goes on in the task. Bolt's own default (``False``) instead checks for the ack
    every 10 ms while the listener runs, so a burst of commands' acks queued behind the
    earlier commands' work (benchmarks/README.md).

    A failure before the ack is Bolt's to handle (a 500 and the app's error handler); a
    failure after it goes to the same error handler, as Bolt's default mode does.
    """

    @functools.wraps(listener)
    async def run_until_acked(**kwargs: Any) -> Any:
        ack = kwargs.get("ack")
        if not isinstance(ack, ListenerAck):  # no middleware ran: nothing to return at
            return await listener(**kwargs)
        work = ack.work = asyncio.create_task(_run_to_the_end(listener, kwargs, ack))
        _running.add(work)
        work.add_done_callback(_running.discard)
        work.add_done_callback(ack.release)
        try:
            await ack.answered
        except asyncio.CancelledError:
            work.add_done_callback(_report_unclaimed)  # no one is left to take its failure
            raise
        if ack.acked:
            return None
        return work.result()  # it ended, or failed, without an ack

    return run_until_acked


async def _run_to_the_end(listener: Listener, kwargs: dict[str, Any], ack: ListenerAck) -> None:
    try:
        await listener(**kwargs)
    except Exception as error:
        if not ack.acked:
            raise
        request = ack.request
        try:
            await request.context.listener_runner.listener_error_handler.handle(
                error=error, request=request, response=None
            )
        except Exception as failure:  # the error handler is the last resort
            logger.error(  # noqa: TRY400 - names only: a traceback's messages may hold links
                "%s failed with %s, and reporting it failed with %s",
                ack.info.describe(),
                type(error).__name__,
                type(failure).__name__,
            )


def _report_unclaimed(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        logger.error(
            "a listener failed with %s after its request was dropped", type(error).__name__
        )


async def finish_listener_work(grace: float) -> int:
    """Wait up to ``grace`` seconds for work still running after its ack (replies being
    made and sent), including work started meanwhile, so stopping the app loses none;
    returns how many were cut off."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + grace
    while _running and (left := deadline - loop.time()) > 0:
        await asyncio.wait(set(_running), timeout=left)
    unfinished = set(_running)
    for task in unfinished:
        task.cancel()
    return len(unfinished)


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """What a request is, for logs: never its text, links or tokens."""

    request_id: str
    kind: str  # "command /medialink", "block_actions medialink_regenerate", …
    team_id: str | None
    user_id: str | None
    channel_id: str | None

    def describe(self) -> str:
        return (
            f"{self.kind} [{self.request_id}] user={self.user_id or '-'} "
            f"team={self.team_id or '-'} channel={self.channel_id or '-'}"
        )


# Listener tasks copy the context of the dispatch that started them, so a listener's
# logs can name the request they belong to.
current_request: contextvars.ContextVar[RequestInfo | None] = contextvars.ContextVar(
    "medialink_request", default=None
)


def describe_request(body: Mapping[str, Any]) -> str:
    """A short name for the kind of request: its type and which command, action or view."""
    if "command" in body:
        return f"command {body.get('command')}"
    kind = str(body.get("type") or "unknown")
    if kind == "block_actions":
        actions = body.get("actions") or [{}]
        first = actions[0] if isinstance(actions, list) and actions else {}
        return f"block_actions {first.get('action_id', '?') if isinstance(first, dict) else '?'}"
    if kind in {"shortcut", "message_action"}:
        return f"{kind} {body.get('callback_id', '?')}"
    if kind in {"view_submission", "view_closed"}:
        view = body.get("view") or {}
        return f"{kind} {view.get('callback_id', '?') if isinstance(view, dict) else '?'}"
    if kind == "event_callback":
        event = body.get("event") or {}
        return f"event {event.get('type', '?') if isinstance(event, dict) else '?'}"
    return kind


class RequestContext(AsyncMiddleware):
    """Name the request, remember it for the listener's logs, and give listeners
    MediaLink's ``ack()`` and ``respond()``.

    A class, not a function: Bolt calls a class's ``async_process`` directly, while a
    function middleware has its arguments built for every request, on the way to the ack.
    """

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        context = req.context
        info = RequestInfo(
            request_id=secrets.token_hex(4),
            kind=describe_request(req.body),
            team_id=context.team_id,
            user_id=context.user_id,
            channel_id=context.channel_id,
        )
        context[REQUEST_KEY] = info
        current_request.set(info)
        sent = context.get(ACK_SENT_KEY)
        pending = context.get(PENDING_ACKS_KEY)
        context["ack"] = ListenerAck(
            req,
            info,
            sent if isinstance(sent, asyncio.Event) else None,
            pending if isinstance(pending, PendingAcks) else None,
        )
        session = context.get(WEBHOOK_SESSION_KEY)
        if isinstance(session, aiohttp.ClientSession) and context.response_url:
            context["respond"] = SessionRespond(response_url=context.response_url, session=session)
        return await next()
