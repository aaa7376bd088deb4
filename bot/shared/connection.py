"""The Redis connection every shared piece uses, and what happens when Redis is down.

Every call has a deadline (socket timeouts, and the whole call under ``asyncio.timeout``)
and is never retried by the client: a caller that cannot reach Redis falls back to its
in-process stand-in at once rather than holding a Slack reply. After a failure Redis
is not asked again for ``retry_every`` seconds, so an outage costs one timeout per
interval, not one per request. The first failure of an outage is logged at ERROR
(once), the recovery at WARNING; the URL is never logged (it may hold a password).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

logger = logging.getLogger("bot.shared")

# Seconds one Redis call may take (connect, send, answer). Loopback or the same network
# answers in well under a millisecond; this only bounds the wait when it is gone.
DEFAULT_TIMEOUT: Final = 0.5
# Seconds between attempts to reach Redis again during an outage.
DEFAULT_RETRY_EVERY: Final = 2.0
# Connections at once: the limiter asks one at a time per process, quotas and token
# reads one per request in hand, so this is a bound, not a bottleneck.
MAX_CONNECTIONS: Final = 32

T = TypeVar("T")


class RedisUnavailable(Exception):
    """Redis was not asked (an outage is under way) or did not answer in time."""


def describe_url(url: str) -> str:
    """``host:port`` (or the socket path) of a Redis URL, for logs: never the password."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path or "a Unix socket"
    host = parts.hostname or "localhost"
    try:
        port = parts.port or 6379
    except ValueError:
        port = 6379
    return f"{host}:{port}"


class SharedRedis:
    """One ``redis.asyncio`` client with deadlines, and the outage state of this process.

    ``fallback`` says, for the log line, what runs instead while Redis is down.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retry_every: float = DEFAULT_RETRY_EVERY,
        fallback: str = "in-process limits",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if timeout <= 0 or retry_every < 0:
            raise ValueError("timeout must be positive and retry_every not negative")
        self.where = describe_url(url)
        self.timeout = timeout
        self.retry_every = retry_every
        self.fallback = fallback
        self._clock = clock
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=MAX_CONNECTIONS,
            timeout=timeout,  # waiting for a free connection counts too
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),  # our own fallback beats the client's retries
        )
        self.client: aioredis.Redis = aioredis.Redis(connection_pool=pool)
        self._down_since: float | None = None
        self._next_try = 0.0
        self.outages = 0  # outages seen (for tests and logs)
        self.failures = 0  # calls that failed or were not made because of an outage

    @property
    def available(self) -> bool:
        """False while an outage is under way (until a call succeeds again)."""
        return self._down_since is None

    async def call(self, operation: Callable[[aioredis.Redis], Awaitable[T]]) -> T:
        """Run ``operation`` on the client within the deadline; ``RedisUnavailable`` if
        Redis is down, is not asked during an outage, or does not answer in time."""
        now = self._clock()
        if self._down_since is not None and now < self._next_try:
            self.failures += 1
            raise RedisUnavailable(f"Redis at {self.where} is unavailable")
        try:
            # The socket timeouts bound each step; this bounds the whole call.
            async with asyncio.timeout(self.timeout * 2):
                result = await operation(self.client)
        except (RedisError, OSError, TimeoutError) as error:
            self._failed(error)
            raise RedisUnavailable(f"Redis at {self.where} did not answer") from None
        if self._down_since is not None:
            logger.warning(
                "Redis at %s answers again after %.0f s; shared limits are back in force",
                self.where,
                max(0.0, self._clock() - self._down_since),
            )
            self._down_since = None
        return result

    def _failed(self, error: BaseException) -> None:
        self.failures += 1
        now = self._clock()
        self._next_try = now + self.retry_every
        if self._down_since is None:
            self._down_since = now
            self.outages += 1
            # Only the type: a Redis error's text can quote the command and its arguments.
            logger.error(
                "Redis at %s is unreachable (%s); falling back to %s until it answers again",
                self.where,
                type(error).__name__,
                self.fallback,
            )

    async def aclose(self) -> None:
        with contextlib.suppress(RedisError, OSError):  # closing what is gone
            await self.client.aclose()
        await self.client.connection_pool.disconnect()
