"""Client-side throttle so MediaLink stays under Wix's rate limit instead of hitting 429s.

Wix documents "up to 200 requests per minute, per instance" (contract §5). The default
here, 180 per rolling 60 s, leaves headroom for token fetches, clock skew between us and
Wix's counter, and other processes sharing the instance.

Hand-written rather than ``aiolimiter`` because aiolimiter reads the event loop's clock
(``loop.time()``), so tests could only exercise it by really waiting; this one takes an
injectable ``clock`` and ``sleep`` and is tested with a fake clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable

DEFAULT_LIMIT = 180
DEFAULT_PERIOD = 60.0


class RateLimiter:
    """At most ``limit`` requests in any rolling window of ``period`` seconds.

    A sliding log of the last ``limit`` request times; the next caller waits until the
    oldest is ``period`` seconds old. Waiters are served in arrival order.

    ``slot()`` is what the client uses: a request holds a place while in flight and
    counts for ``period`` from when it *ended*. Wix counts a request when it arrives,
    somewhere between our send and its answer, so counting from the answer keeps every
    window as Wix sees it within the limit, even when sends bunch up behind a busy event
    loop (counting from the send let 30 calls reach Wix in a 20-per-window benchmark).
    ``acquire()`` counts from the moment of the call, for callers with no end to report.
    """

    def __init__(
        self,
        limit: int = DEFAULT_LIMIT,
        period: float = DEFAULT_PERIOD,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        if period <= 0:
            raise ValueError(f"period must be positive, not {period}")
        self.limit = limit
        self.period = period
        self._clock = clock
        self._sleep = sleep
        self._log: deque[float] = deque()  # times that count, oldest first
        self._in_flight = 0
        self._released = asyncio.Event()
        self._lock = asyncio.Lock()
        # Counters for benchmarks and logs.
        self.acquired = 0  # places granted
        self.waited = 0  # grants that had to wait for the window
        self.total_wait = 0.0  # seconds spent waiting, by the injected clock

    async def acquire(self) -> None:
        """Wait until one more request fits in the window, then count it from now."""
        async with self._lock:
            now = await self._wait_for_room()
            self._log.append(now)
            self.acquired += 1

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a place for one request; it counts for ``period`` after the block ends."""
        async with self._lock:
            await self._wait_for_room()
            self._in_flight += 1
            self.acquired += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            self._log.append(self._clock())  # appended in time order, like acquire()
            self._released.set()

    @property
    def in_window(self) -> int:
        """Requests counted in the current window, in flight included."""
        self._expire(self._clock())
        return len(self._log) + self._in_flight

    async def _wait_for_room(self) -> float:
        now = self._clock()
        self._expire(now)
        if len(self._log) + self._in_flight < self.limit:
            return now
        self.waited += 1
        started = now
        while len(self._log) + self._in_flight >= self.limit:
            if self._log:
                # Only an entry leaving the window makes room.
                delay = self._log[0] + self.period - now
                if delay > 0:
                    await self._sleep(delay)
            else:
                # Every place is held by a request in flight: wait for one to end.
                self._released.clear()
                await self._released.wait()
            now = self._clock()
            self._expire(now)
        self.total_wait += max(0.0, now - started)
        return now

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
