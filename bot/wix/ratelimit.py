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
import time
from collections import deque
from collections.abc import Awaitable, Callable

DEFAULT_LIMIT = 180
DEFAULT_PERIOD = 60.0


class RateLimiter:
    """At most ``limit`` acquisitions in any rolling window of ``period`` seconds.

    A sliding log: it remembers when each of the last ``limit`` acquisitions happened,
    and the next caller waits until the oldest of them is ``period`` seconds old.
    Waiters are served in arrival order.
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
        self._log: deque[float] = deque()
        self._lock = asyncio.Lock()
        # Counters for benchmarks and logs.
        self.acquired = 0  # acquisitions granted
        self.waited = 0  # acquisitions that had to wait for the window
        self.total_wait = 0.0  # seconds spent waiting, by the injected clock

    async def acquire(self) -> None:
        """Wait until one more request fits in the window, then count it."""
        async with self._lock:
            now = self._clock()
            self._expire(now)
            if len(self._log) >= self.limit:
                self.waited += 1
                while len(self._log) >= self.limit:
                    delay = self._log[0] + self.period - now
                    if delay > 0:
                        await self._sleep(delay)
                    after = self._clock()
                    self.total_wait += max(0.0, after - now)
                    now = after
                    self._expire(now)
            self._log.append(now)
            self.acquired += 1

    @property
    def in_window(self) -> int:
        """Acquisitions counted in the current window."""
        self._expire(self._clock())
        return len(self._log)

    def _expire(self, now: float) -> None:
        # An acquisition exactly `period` ago no longer shares a window with `now`. (Written
        # as `entry + period <= now` to match how the wait is computed, so a fake clock
        # advanced by exactly that wait always frees the slot.)
        while self._log and self._log[0] + self.period <= now:
            self._log.popleft()

    def __repr__(self) -> str:
        return (
            f"RateLimiter(limit={self.limit}, period={self.period}, acquired={self.acquired}, "
            f"waited={self.waited})"
        )
