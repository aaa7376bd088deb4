"""Client-side throttle so MediaLink stays under Wix's rate limit instead of hitting 429s.

Wix documents "up to 200 requests per minute, per instance" (docs/wix.md, Rate limits).
The default here, 180 per rolling 60 s, leaves headroom for token fetches, clock skew
between us and Wix's counter, and other processes sharing the instance.

Hand-written rather than ``aiolimiter`` because aiolimiter reads the event loop's clock
(``loop.time()``), so tests could only exercise it by really waiting, and serves waiters
in arrival order; this one takes an injectable ``clock`` and ``sleep``, serves
requesters round-robin and gives up at a deadline.

Several replicas share one window through a ``SharedWindow`` (``bot/shared/window.py``,
Redis): each process still decides round-robin who goes next, and the shared window
decides whether anyone may go now.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from bot.wix.fairness import Caller, WixBusyError, current_caller

DEFAULT_LIMIT = 180
DEFAULT_PERIOD = 60.0
# Shortest pause between two questions to a shared window that said "full": a bound on
# how often one process asks, whatever the window answers.
MIN_SHARED_PAUSE = 0.005


class SharedWindow(Protocol):
    """A rolling window shared with other processes (the same limit and period)."""

    async def try_take(self) -> str | float | None:
        """Take a place now: its ID (hand it to ``release``); or, when the window is
        full, the seconds until a place may be free; or ``None`` when the window cannot
        be asked (the caller then keeps to its own, smaller bound)."""
        ...

    async def release(self, place: str) -> None:
        """The request that took ``place`` ended: it counts for ``period`` from now.
        Never raises; a place not released counts from when it was taken."""
        ...


@dataclass(eq=False, slots=True)
class _Waiter:
    requester: str | None
    deadline: float | None
    turn: asyncio.Future[None] = field(repr=False)  # done: its turn came, or it gave up


class RateLimiter:
    """At most ``limit`` requests in any rolling window of ``period`` seconds.

    A sliding log of the last ``limit`` request times; when the window is full the next
    request waits until the oldest is ``period`` seconds old.

    Who goes next is decided round-robin between requesters (``Caller.requester``; the
    anonymous caller is one requester too), first come first served within one
    requester's queue: while one member's fifty files wait, another member's one file
    is next but one. Only the waiter whose turn it is watches the clock; the others
    wait for their turn.

    A waiter with a deadline (``Caller.deadline``, by ``clock``) that cannot start by
    then gets ``WixBusyError``: at once when the window shows it cannot be in time,
    otherwise when the deadline passes.

    A request holds a place while in flight and counts for ``period`` from when it
    *ended*. Wix counts a request when it arrives, somewhere between our send and its
    answer, so counting from the answer keeps every window as Wix sees it within the
    limit, even when sends bunch up behind a busy event loop.

    With a ``shared`` window (other replicas use it too) the turn holder also takes a
    place there, and waits while it is full (deadlines still apply). When it cannot be
    asked, this process keeps to ``fallback_limit`` in its own window until it can.
    """

    def __init__(
        self,
        limit: int = DEFAULT_LIMIT,
        period: float = DEFAULT_PERIOD,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        shared: SharedWindow | None = None,
        fallback_limit: int | None = None,
    ) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        if period <= 0:
            raise ValueError(f"period must be positive, not {period}")
        if fallback_limit is not None and not 1 <= fallback_limit <= limit:
            raise ValueError(f"fallback_limit must be from 1 to {limit}, not {fallback_limit}")
        self.limit = limit
        self.period = period
        self.shared = shared
        self.fallback_limit = fallback_limit if fallback_limit is not None else limit
        self.falling_back = False  # the shared window could not be asked last time
        self.clock = clock  # public: deadlines given to the limiter are read on this clock
        self._sleep = sleep
        self._log: deque[float] = deque()  # times that count, oldest first
        self._in_flight = 0
        self._released = asyncio.Event()
        # Waiting requests by requester; dict order is the round-robin order.
        self._queues: dict[str | None, deque[_Waiter]] = {}
        self._holder: _Waiter | None = None  # the waiter whose turn it is
        self._deadlines: list[tuple[float, int, _Waiter]] = []  # heap of queued deadlines
        self._order = itertools.count()  # tie-breaker for the heap
        self._wake_at = math.inf  # when the turn holder means to look at the clock again
        self._reconsider = asyncio.Event()  # set when a deadline earlier than that is queued
        # Counters for benchmarks and logs.
        self.acquired = 0  # places granted
        self.waited = 0  # grants that had to wait for the window
        self.total_wait = 0.0  # seconds spent waiting for the window, by the injected clock
        self.gave_up = 0  # waiters that met their deadline first
        # Told how long each granted place waited (turn and window), by ``clock``.
        self.on_wait: Callable[[float], None] | None = None

    @contextlib.asynccontextmanager
    async def slot(self, caller: Caller | None = None) -> AsyncIterator[None]:
        """Hold a place for one request; it counts for ``period`` after the block ends.

        ``caller`` defaults to the current one (``bot.wix.fairness.current_caller``).
        Raises ``WixBusyError`` when the request cannot start before the caller's deadline.
        """
        caller = caller if caller is not None else current_caller()
        asked = self.clock()
        waiter = await self._take_turn(caller)
        try:
            place = await self._wait_for_room(waiter.deadline)
            self._in_flight += 1
            self.acquired += 1
        finally:
            self._pass_turn()
        if self.on_wait is not None:
            self.on_wait(self.clock() - asked)
        try:
            yield
        finally:
            self._in_flight -= 1
            self._log.append(self.clock())  # appended in time order
            self._released.set()
            if place is not None and self.shared is not None:
                await self.shared.release(place)

    @property
    def in_window(self) -> int:
        """Requests counted in the current window, in flight included."""
        self._expire(self.clock())
        return len(self._log) + self._in_flight

    @property
    def queued(self) -> int:
        """Requests waiting for their turn (the one whose turn it is not included)."""
        return sum(1 for queue in self._queues.values() for w in queue if not w.turn.done())

    # -- turns: round-robin between requesters ---------------------------------------

    async def _take_turn(self, caller: Caller) -> _Waiter:
        waiter = _Waiter(
            caller.requester, caller.deadline, asyncio.get_running_loop().create_future()
        )
        self._queues.setdefault(caller.requester, deque()).append(waiter)
        if caller.deadline is not None:
            heapq.heappush(self._deadlines, (caller.deadline, next(self._order), waiter))
            if caller.deadline < self._wake_at:
                self._reconsider.set()  # the holder must watch this deadline too
        if self._holder is None:
            self._pass_turn()
        try:
            await waiter.turn  # returns at once when the turn was given above
        except BaseException:
            if self._holder is waiter:  # given the turn, but cancelled before taking it
                self._pass_turn()
            raise
        return waiter

    def _pass_turn(self) -> None:
        """Give the turn to the next requester's oldest live waiter, if any."""
        self._holder = None
        while self._queues:
            requester = next(iter(self._queues))
            queue = self._queues.pop(requester)
            while queue and queue[0].turn.done():  # cancelled or given up
                queue.popleft()
            if not queue:
                continue
            waiter = queue.popleft()
            if queue:
                self._queues[requester] = queue  # to the back of the round
            self._holder = waiter
            waiter.turn.set_result(None)
            return
        self._deadlines.clear()  # nobody is waiting: every entry is stale

    def _give_up_expired(self, now: float) -> None:
        """Fail every queued waiter whose deadline has come."""
        while self._deadlines and self._deadlines[0][0] <= now:
            _, _, waiter = heapq.heappop(self._deadlines)
            if not waiter.turn.done():
                self.gave_up += 1
                waiter.turn.set_exception(WixBusyError())

    def _next_deadline(self) -> float | None:
        while self._deadlines and self._deadlines[0][2].turn.done():
            heapq.heappop(self._deadlines)  # served or gone: no longer a deadline to watch
        return self._deadlines[0][0] if self._deadlines else None

    # -- the window --------------------------------------------------------------------

    def _has_room(self) -> bool:
        bound = self.fallback_limit if self.falling_back else self.limit
        return len(self._log) + self._in_flight < bound

    async def _wait_for_room(self, deadline: float | None) -> str | None:
        """Wait (as the turn holder) until one more request fits, or raise WixBusyError.

        Returns the place taken in the shared window, if there is one and it answered.
        """
        now = self.clock()
        self._expire(now)
        self._give_up_expired(now)
        started = now
        waiting = False
        try:
            while True:
                if self._has_room():
                    if self.shared is None:
                        return None
                    answer = await self.shared.try_take()
                    now = self.clock()
                    if isinstance(answer, str):
                        self.falling_back = False
                        return answer
                    if answer is None:  # not asked: this process's own bound decides
                        self.falling_back = True
                        if self._has_room():
                            return None
                        continue
                    self.falling_back = False
                    room_at = now + max(answer, MIN_SHARED_PAUSE)
                else:
                    room_at = math.inf  # all places in flight: room comes when one ends
                    if self._log:
                        # Only an entry leaving the window makes room.
                        room_at = self._log[0] + self.period
                if not waiting:
                    waiting = True
                    self.waited += 1
                if deadline is not None and now >= deadline:
                    raise self._give_up()
                # Unknown (inf) while every place is in flight: one may end in time.
                if deadline is not None and deadline < room_at < math.inf:
                    raise self._give_up(retry_after=room_at - now)
                await self._pause(min(room_at, self._soonest(deadline)), now)
                now = self.clock()
                self._expire(now)
                self._give_up_expired(now)
        finally:
            if waiting:
                self._wake_at = math.inf
                self.total_wait += max(0.0, self.clock() - started)

    def _give_up(self, retry_after: float | None = None) -> WixBusyError:
        self.gave_up += 1
        return WixBusyError(retry_after=retry_after)

    def _soonest(self, deadline: float | None) -> float:
        """The holder's deadline or a queued waiter's, whichever comes first (inf: none)."""
        queued = self._next_deadline()
        return min(
            deadline if deadline is not None else math.inf,
            queued if queued is not None else math.inf,
        )

    async def _pause(self, until: float, now: float) -> None:
        """Until ``until`` (inf: no timer), a request ends, or an earlier deadline is queued."""
        self._wake_at = until
        self._released.clear()
        self._reconsider.clear()
        waits: list[asyncio.Future[object]] = [
            asyncio.ensure_future(self._released.wait()),
            asyncio.ensure_future(self._reconsider.wait()),
        ]
        if until != math.inf:
            waits.append(asyncio.ensure_future(self._sleep(max(0.0, until - now))))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    def _expire(self, now: float) -> None:
        # An entry exactly `period` ago no longer shares a window with `now`. (Written
        # as `entry + period <= now` to match how the wait is computed, so a fake clock
        # advanced by exactly that wait always frees the place.)
        while self._log and self._log[0] + self.period <= now:
            self._log.popleft()

    def __repr__(self) -> str:
        return (
            f"RateLimiter(limit={self.limit}, period={self.period}, acquired={self.acquired}, "
            f"waited={self.waited})"
        )
