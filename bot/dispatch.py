"""The ack machinery, one object: ``Dispatcher``.

``serve`` builds one and hands it to both ``build_app`` (which registers every listener
through it) and the HTTP server (which tells it when a verified request arrives and when
its ack has gone back to Slack). It owns everything that outlives one request's ack:

- answering Slack at ``ack()``: each listener runs as a task, and Bolt gets its answer
  the moment the listener acks, while the rest of the listener's work goes on
  (``listen``; MediaLink's app runs with ``process_before_response=True``, so Bolt sends
  the ack when the wrapper returns, with no polling);
- work after an ack giving way to acks still pending (``PendingAcks``), so a burst is
  acked before any listener's Wix calls and rendering take the event loop;
- Python's cycle collector held off while a burst's acks are pending (``CollectorHold``),
  so no collection pauses the loop between a request and its ack;
- a cap on work in flight; beyond it a request is turned away with a clear message;
- the one HTTP session every response_url post goes through, and the one every Slack
  Web API call goes through (``web_api_session``);
- apologies to the person when a verified request fails;
- stopping: replies already acked, apologies included, get a grace period to finish.

Listeners are only ever registered through ``listen``, so none can run unwrapped.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import gc
import logging
import math
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.metrics import BUSY as BUSY_REASON
from bot.metrics import EntryPoint, Metrics, RequestOutcome, Work, entry_of_body
from bot.slack.messages import BUSY
from bot.slack.respond import SessionRespond
from bot.slack.web_api import WEB_API_TIMEOUT

logger = logging.getLogger("bot.slack")

# Work after an ack gives way to other requests' acks for at most this long …
GIVE_WAY_LIMIT = 0.25  # seconds
# … and until no request has arrived for this long.
CALM = 0.002  # seconds
# Listener work running after its ack, at most; a request beyond it is turned away.
MAX_RUNNING = 500
# Every response_url post (replies and apologies) gives up after this long.
WEBHOOK_TIMEOUT = 30.0  # seconds, as slack_sdk's webhook client


class CollectorHold:
    """Python's automatic cycle collection, held off while acks are pending.

    In a burst every request's ack waits for the work before all the others' acks, and
    the objects of all those requests are alive at once, so each automatic collection
    then (one every 700 allocations) walks them all and pauses the whole burst. Held,
    the collector runs once the acks are out; refcounting still frees everything that
    is not a cycle at once. The hold is bounded (``limit``), so under a stream of
    requests with no calm between them at least one collection runs per ``limit``
    seconds.

    The collector's switch is the process's, so its state is kept once per process: a
    hold whose loop stopped before it could release (a test's) is taken over by the
    next, and a collector disabled by anyone else is left alone.
    """

    # The hold that disabled the collector, if one did; None when it is enabled, or
    # disabled by someone else.
    _holder: CollectorHold | None = None

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self._bound: asyncio.TimerHandle | None = None

    @property
    def held(self) -> bool:
        return CollectorHold._holder is self

    def hold(self) -> None:
        """Disable automatic collection until ``release()``, at most ``limit`` seconds."""
        if self.held:
            return
        if gc.isenabled():
            gc.disable()
        elif CollectorHold._holder is None:
            return  # disabled on purpose by someone else: theirs to enable
        if self._bound is not None:
            self._bound.cancel()  # a bound left from a hold another one took over
        CollectorHold._holder = self
        self._bound = asyncio.get_running_loop().call_later(self.limit, self.release)

    def release(self) -> None:
        """Enable automatic collection again (it runs at the next allocation, if due)."""
        if self._bound is not None:
            self._bound.cancel()
            self._bound = None
        if self.held:
            CollectorHold._holder = None
            gc.enable()


class PendingAcks:
    """The requests the HTTP server is answering: verified, their ack not yet returned.

    Work that follows an ack gives way to them (``drained``): an ack costs a fraction of
    a millisecond and Slack gives up on it after 3 s, while the work waits on Wix for
    hundreds of milliseconds anyway. Requests of a burst arrive a little apart, so the
    work also waits until none has arrived for ``calm`` seconds. The wait is bounded,
    so a stream of requests cannot starve the work. All waiters share one gate and one
    timer (waking each waiter separately cost more than the acks themselves).

    While requests are pending, and until the same calm, the cycle collector is held
    off (``collector``, at most ``GIVE_WAY_LIMIT``); None leaves it alone.
    """

    def __init__(self, calm: float = CALM, collector: CollectorHold | None = None) -> None:
        self.calm = calm
        self.collector = collector
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
        if self.collector is not None:
            self.collector.hold()
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
            self._bound = loop.call_later(limit, self._open)
            self._check_soon()
        await asyncio.shield(gate)  # a waiter cancelled (say, at shutdown) leaves it be

    def _waiting(self) -> bool:
        """Whether anything waits for the calm: work at the gate, or the collector."""
        gate_shut = self._gate is not None and not self._gate.done()
        return gate_shut or (self.collector is not None and self.collector.held)

    def _open(self) -> None:
        if self.collector is not None:
            self.collector.release()
        if self._gate is not None and not self._gate.done():
            self._gate.set_result(None)
        for handle in (self._check, self._bound):
            if handle is not None:
                handle.cancel()
        self._check = self._bound = None

    def _check_soon(self, delay: float = 0.0, turns: int = 2) -> None:
        if not self._waiting():
            return
        if self._check is not None:
            self._check.cancel()
        loop = asyncio.get_running_loop()
        self._check = loop.call_later(delay, self._open_if_calm, turns)

    def _open_if_calm(self, turns: int) -> None:
        self._check = None
        if not self._waiting() or self._count:
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


@dataclass(slots=True)
class Arrival:
    """One verified HTTP request on its way through Bolt (``Dispatcher.arrived``)."""

    ack_sent: asyncio.Event = field(default_factory=asyncio.Event)
    started: float = field(default_factory=time.perf_counter)  # its body read
    # For the metrics: set on the way through Bolt, read by the server after the ack.
    entry: EntryPoint = EntryPoint.UNKNOWN
    outcome: RequestOutcome = RequestOutcome.ACKED


class ListenerAck(AsyncAck):
    """``ack()`` that tells the wrapper the answer is ready, then returns once the server
    holds it and no other request waits for its own ack, so the listener's work starts
    after the acks.

    ``arrival`` is None in Socket Mode, where the work goes on at once. Only the task
    the wrapper started waits: anything else that calls ``ack()`` inside Bolt's dispatch
    (Bolt's own auto-ack) would wait for a response that cannot be sent until it returns.
    """

    def __init__(
        self,
        request: AsyncBoltRequest,
        *,
        arrival: Arrival | None,
        pending: PendingAcks,
        give_way_limit: float,
        on_acked: Callable[[], None],
        entry: EntryPoint = EntryPoint.UNKNOWN,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # untyped in Bolt
        self.request = request
        self.entry = entry
        # The reply's clock starts when the server read the request (Socket Mode: now).
        self.started = arrival.started if arrival is not None else time.perf_counter()
        # Done once Bolt can answer: at ack(), or when the listener ended without one.
        self.answered: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.work: asyncio.Task[Any] | None = None  # set by the wrapper
        self._arrival = arrival
        self._pending = pending
        self._give_way_limit = give_way_limit
        self._on_acked = on_acked

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
        is_work = self.work is not None and asyncio.current_task() is self.work
        if is_work and self._arrival is not None:
            await self._arrival.ack_sent.wait()  # set in a finally by the server
            await self._pending.drained(self._give_way_limit)
        self._on_acked()
        return response


Listener = Callable[..., Awaitable[Any]]


class Dispatcher:
    """Runs listeners so Slack is answered at ``ack()``, and keeps what outlives a request."""

    def __init__(
        self,
        *,
        give_way_limit: float = GIVE_WAY_LIMIT,
        calm: float = CALM,
        max_running: int = MAX_RUNNING,
        busy_text: str = BUSY,
        metrics: Metrics | None = None,
        hold_collector: bool = True,
    ) -> None:
        # The app's metrics (a registry of its own): the server exports them.
        self.metrics = metrics if metrics is not None else Metrics()
        self.collector = CollectorHold(give_way_limit) if hold_collector else None
        self.pending = PendingAcks(calm, self.collector)
        self.busy_text = busy_text
        self.give_way_limit = give_way_limit
        self.max_running = max_running
        self._running: set[asyncio.Task[None]] = set()  # listener work after its ack
        self._apologies: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._web_api: aiohttp.ClientSession | None = None
        self._arrival: contextvars.ContextVar[Arrival | None] = contextvars.ContextVar(
            "medialink_arrival", default=None
        )
        self.metrics.watch_in_flight(Work.LISTENER, lambda: len(self._running))

    # -- the HTTP server's side ------------------------------------------------------

    @contextlib.contextmanager
    def arrived(self, started: float | None = None) -> Iterator[Arrival]:
        """Around Bolt's dispatch of one VERIFIED request: count it as pending, and let
        its listener know when the server holds its ack (``ack_sent``). ``started``:
        when its body was read (``time.perf_counter``)."""
        arrival = Arrival() if started is None else Arrival(started=started)
        token = self._arrival.set(arrival)
        try:
            with self.pending.answering():
                yield arrival
        finally:
            arrival.ack_sent.set()
            self._arrival.reset(token)

    @property
    def arrival(self) -> Arrival | None:
        """The verified HTTP request being dispatched (None in Socket Mode)."""
        return self._arrival.get()

    async def calm(self) -> None:
        """Return once no ack is pending (at most ``give_way_limit`` seconds from now):
        for background work, such as writing the audit trail, that must not share the
        loop with a burst's acks."""
        await self.pending.drained(self.give_way_limit)

    def refused(self, reason: str) -> None:
        """Count a request refused (the access policy's reason), for the metrics."""
        arrival = self._arrival.get()
        if arrival is not None:
            arrival.outcome = RequestOutcome.REFUSED
        self.metrics.refused(reason)

    @property
    def in_verified_request(self) -> bool:
        """True inside the dispatch (and the listener work) of a request verified by the
        HTTP edge; False in Socket Mode and anywhere else."""
        return self._arrival.get() is not None

    @property
    def saturated(self) -> bool:
        """True when as much work is running as MediaLink takes on."""
        return len(self._running) >= self.max_running

    # -- listeners ---------------------------------------------------------------------

    def listen(
        self,
        route: Callable[[Listener], object],
        listener: Listener,
        *,
        turned_away: Callable[..., Coroutine[Any, Any, None]] | None = None,
    ) -> None:
        """Register ``listener`` on a Bolt route (``app.command(…)``, ``app.action(…)``…),
        wrapped so Bolt answers Slack as soon as it acks.

        ``turned_away``, given the listener's arguments, tells a request turned away as
        busy when the ack alone cannot (a workflow step must be failed); it must not raise.
        """
        route(self._answer_at_ack(listener, turned_away))

    def new_ack(self, request: AsyncBoltRequest, on_acked: Callable[[], None]) -> ListenerAck:
        """The ``ack()`` a listener gets (installed by the request middleware)."""
        arrival = self._arrival.get()
        entry = entry_of_body(request.body)
        if arrival is not None:
            arrival.entry = entry
        return ListenerAck(
            request,
            arrival=arrival,
            pending=self.pending,
            give_way_limit=self.give_way_limit,
            on_acked=on_acked,
            entry=entry,
        )

    def _answer_at_ack(
        self,
        listener: Listener,
        turned_away: Callable[..., Coroutine[Any, Any, None]] | None = None,
    ) -> Listener:
        @functools.wraps(listener)
        async def run_until_acked(**kwargs: Any) -> Any:
            ack = kwargs.get("ack")
            if not isinstance(ack, ListenerAck):  # the request middleware did not run
                raise TypeError("MediaLink's request middleware must run before listeners")
            if self.saturated:
                # Checked and counted in one step (no await between): the cap holds. A
                # slash command shows the text; what Slack shows for other payloads is
                # UNCONFIRMED (docs/slack.md, Acknowledging).
                logger.warning("busy: turned a request away (%d running)", len(self._running))
                arrival = self._arrival.get()
                if arrival is not None:
                    arrival.outcome = RequestOutcome.BUSY
                self.metrics.refused(BUSY_REASON)
                if ack.request.body.get("type") == "block_suggestion":
                    await ack(options=[])  # an options answer cannot carry a text
                else:
                    await ack(text=self.busy_text)
                if turned_away is not None:
                    self.after_ack(turned_away(**kwargs))
                return None
            work = ack.work = asyncio.create_task(self._run_to_the_end(listener, kwargs, ack))
            self._running.add(work)
            work.add_done_callback(self._running.discard)
            work.add_done_callback(ack.release)
            try:
                await ack.answered
            except asyncio.CancelledError:
                work.add_done_callback(_report_unclaimed)  # no one is left to take its failure
                raise
            if ack.acked:
                return None
            return work.result()  # it ended, or failed, without an ack

        run_until_acked.medialink_dispatched = True  # type: ignore[attr-defined]
        return run_until_acked

    async def _run_to_the_end(
        self, listener: Listener, kwargs: dict[str, Any], ack: ListenerAck
    ) -> None:
        try:
            await listener(**kwargs)
        except Exception as error:
            if not ack.acked:
                raise  # Bolt's to handle: a 500 and the app's error handler
            self._replied(ack)
            request = ack.request
            try:
                await request.context.listener_runner.listener_error_handler.handle(
                    error=error, request=request, response=None
                )
            except Exception as failure:  # the error handler is the last resort
                logger.error(  # noqa: TRY400 - names only: a traceback's messages may hold links
                    "a listener failed with %s, and reporting it failed with %s",
                    type(error).__name__,
                    type(failure).__name__,
                )
        else:
            if ack.acked:
                self._replied(ack)

    def _replied(self, ack: ListenerAck) -> None:
        """The listener's work is over, its messages posted: the reply's latency."""
        self.metrics.replied(ack.entry, time.perf_counter() - ack.started)

    # -- response_url posts ------------------------------------------------------------

    def respond(self, response_url: str) -> SessionRespond:
        """``respond()`` for ``response_url`` over the one shared HTTP session."""
        return SessionRespond(response_url=response_url, session=self._webhook_session)

    def _webhook_session(self) -> aiohttp.ClientSession:
        # Made on first use, inside the running loop; closed by ``finish``.
        if self._session is None or self._session.closed:
            self._session = _shared_session(WEBHOOK_TIMEOUT)
        return self._session

    def web_api_session(self) -> aiohttp.ClientSession:
        """The one HTTP session the Slack Web API clients share: a pool of keep-alive
        connections. Without one the SDK opens a session, a connection and a TLS
        handshake for every call and closes them after (docs/slack.md, Bolt's client).
        Made on first use, inside the running loop; closed by ``finish``. Its timeout is
        each call's deadline: the SDK applies its own only to the sessions it makes."""
        if self._web_api is None or self._web_api.closed:
            self._web_api = _shared_session(WEB_API_TIMEOUT)
        return self._web_api

    def apologise(self, response_url: str, text: str) -> None:
        """Tell the person, in the background, that their request failed.

        Only for verified requests: the caller (the app's error handler) checks.
        In the background because when a listener fails before ``ack()``, Bolt answers
        Slack only after the error handler returns.
        """
        task = asyncio.create_task(self._apologise(response_url, text))
        self._apologies.add(task)
        task.add_done_callback(self._apologies.discard)

    def after_ack(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` in the background (a refusal shown after an empty ack), waited for
        at stop like an apology. ``work`` must not raise."""
        task = asyncio.create_task(work)
        self._apologies.add(task)
        task.add_done_callback(self._apologies.discard)

    async def _apologise(self, response_url: str, text: str) -> None:
        try:
            client = AsyncWebhookClient(response_url, session=self._webhook_session())
            await client.send(text=text, response_type="ephemeral", replace_original=False)
        except Exception as failure:  # the last resort must not raise
            logger.warning("could not tell the user about the failure: %s", type(failure).__name__)

    # -- stopping ------------------------------------------------------------------------

    async def wait_idle(self, within: float) -> bool:
        """Wait up to ``within`` seconds until no work or apology is under way (work
        started meanwhile included), cancelling nothing; True if it got there."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while (busy := self._running | self._apologies) and (left := deadline - loop.time()) > 0:
            await asyncio.wait(busy, timeout=left)
        return not (self._running | self._apologies)

    async def finish(self, grace: float) -> int:
        """Wait up to ``grace`` seconds for work already acked and apologies (including
        work started meanwhile), cancel what overruns, close the HTTP session; returns
        how many were cut off."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while (busy := self._running | self._apologies) and (left := deadline - loop.time()) > 0:
            await asyncio.wait(busy, timeout=left)
        unfinished = self._running | self._apologies
        for task in unfinished:
            task.cancel()
        if unfinished:
            await asyncio.gather(*unfinished, return_exceptions=True)
        if self.collector is not None:
            self.collector.release()
        for session in (self._session, self._web_api):
            if session is not None:
                await session.close()
        return len(unfinished)


def _shared_session(deadline: float) -> aiohttp.ClientSession:
    """A session everyone's requests go through: each request within ``deadline``
    seconds, and no cookie kept, so nothing one answer sets rides along with the next
    request, whoever and whichever workspace that is for."""
    return aiohttp.ClientSession(
        timeout=aiohttp.ClientTimeout(total=deadline), cookie_jar=aiohttp.DummyCookieJar()
    )


def _report_unclaimed(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and (error := task.exception()) is not None:
        logger.error(
            "a listener failed with %s after its request was dropped", type(error).__name__
        )
