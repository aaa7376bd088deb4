"""Sharing Wix's request budget between the people asking for links.

Wix allows about 200 requests a minute per site (docs/wix.md, Rate limits) and the
whole process shares one rate limiter, so one member's flood must not hold everyone
else's links back. Three things here make that so:

- ``Caller``: who is asking (a Slack member ID; ``None`` for the CLI, which is a queue
  of its own) and by when their Wix calls must have started. ``LinkService.generate``
  sets it for one request with ``acting_for``; the rate limiter reads it with
  ``current_caller`` to queue the request's calls round-robin between requesters and
  to give up at the deadline. A context variable rather than a parameter through the
  client: every task the service and the client start copies the context, so the
  caller reaches the limiter without each client call carrying it.
- ``FileQuota``: at most N files per member in any rolling minute, checked before any
  Wix call. ``MemberQuota`` is what the link service asks; several replicas share one
  through Redis (``bot/shared/quota.py``).
- ``WixBusyError`` and ``FileQuotaError``: what a caller gets instead of waiting
  without end. Both are ``WixError``s, so the places that turn Wix errors into
  sentences handle them.
"""

from __future__ import annotations

import contextlib
import math
from collections import OrderedDict, deque
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol

from bot.wix.errors import WixError

QUOTA_PERIOD = 60.0  # seconds: the quota is "files per rolling minute"


class WixBusyError(WixError):
    """MediaLink could not start the Wix call in time: too much is queued ahead of it.

    ``retry_after`` is how many seconds to wait before asking again, when known.
    """

    def __init__(
        self,
        message: str = (
            "MediaLink is busy making links for other people right now; try again in a minute."
        ),
        *,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class FileQuotaError(WixBusyError):
    """A member asked for more files in a rolling minute than one member may."""

    def __init__(self, *, asked: int, limit: int, retry_after: float | None) -> None:
        self.asked = asked  # files asked for in the window, this request included
        self.limit = limit
        if retry_after is None:
            message = (
                f"You asked for {asked} files at once; the limit is {limit} a minute. "
                "Ask for fewer files at a time."
            )
        else:
            message = (
                f"You've asked for {asked} files in the last minute (the limit is {limit}); "
                f"try again in {max(1, math.ceil(retry_after))} s."
            )
        super().__init__(message, retry_after=retry_after)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a Wix call is made for, and by when it must start (by the limiter's clock)."""

    requester: str | None = None
    deadline: float | None = None


_ANONYMOUS = Caller()
_CALLER: ContextVar[Caller | None] = ContextVar("medialink_wix_caller", default=None)


def current_caller() -> Caller:
    """The caller set by the innermost ``acting_for``; anonymous and unhurried otherwise."""
    return _CALLER.get() or _ANONYMOUS


@contextlib.contextmanager
def acting_for(caller: Caller) -> Iterator[None]:
    """Make ``caller`` current for the block (and for tasks started inside it)."""
    token = _CALLER.set(caller)
    try:
        yield
    finally:
        _CALLER.reset(token)


class MemberQuota(Protocol):
    """Files per member per rolling period, as the link service asks it."""

    limit: int

    async def take_files(self, member: str, files: int, now: float) -> None:
        """Count ``files`` for ``member`` (``now`` on the service's clock), or raise
        ``FileQuotaError`` and count nothing."""
        ...


class FileQuota:
    """At most ``limit`` files per member in any rolling ``period`` seconds.

    Memory stays bounded: each member keeps at most ``limit`` entries (every accepted
    request has at least one file), and members idle for a whole period are forgotten.
    Members are kept in order of their last accepted request, so forgetting is done
    from the front and costs nothing for members still active.
    """

    def __init__(self, limit: int, period: float = QUOTA_PERIOD) -> None:
        if limit < 1:
            raise ValueError(f"limit must be at least 1, not {limit}")
        if period <= 0:
            raise ValueError(f"period must be positive, not {period}")
        self.limit = limit
        self.period = period
        # member -> (time, files) of each accepted request in the window, oldest first
        self._asks: OrderedDict[str, deque[tuple[float, int]]] = OrderedDict()

    def take(self, member: str, files: int, now: float) -> None:
        """Count ``files`` for ``member``, or raise ``FileQuotaError`` and count nothing."""
        self._forget_idle(now)
        asks = self._asks.get(member)
        if asks is None:
            asks = deque()
        while asks and asks[0][0] + self.period <= now:
            asks.popleft()
        used = sum(count for _, count in asks)
        if used + files > self.limit:
            raise FileQuotaError(
                asked=used + files, limit=self.limit, retry_after=self._room_in(asks, files, now)
            )
        asks.append((now, files))
        self._asks[member] = asks
        self._asks.move_to_end(member)

    async def take_files(self, member: str, files: int, now: float) -> None:
        """``take`` as ``MemberQuota`` asks it."""
        self.take(member, files, now)

    def __len__(self) -> int:
        """Members remembered (for tests and health checks)."""
        return len(self._asks)

    def _room_in(self, asks: deque[tuple[float, int]], files: int, now: float) -> float | None:
        """Seconds until ``files`` more fit, or None if they never can."""
        if files > self.limit:
            return None
        used = sum(count for _, count in asks)
        for at, count in asks:
            used -= count
            if used + files <= self.limit:
                return max(0.0, at + self.period - now)
        return 0.0  # unreachable: emptying the window always makes room

    def _forget_idle(self, now: float) -> None:
        while self._asks:
            member, asks = next(iter(self._asks.items()))
            if asks and asks[-1][0] + self.period > now:
                return
            del self._asks[member]
