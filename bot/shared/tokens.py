"""The Wix app's OAuth access token, fetched once per lifetime across every replica.

The token is stored as a Redis value (never in a key, never logged) that expires when
it stops being fresh (its lifetime minus the refresh margin). A replica that finds
none takes a lock (``SET NX PX`` with a random ID; released by a compare-and-delete
script, so a lock that outlived its owner is never taken from the next one), fetches,
stores and releases; the others read it from Redis meanwhile. If Redis does not
answer, or no token appears within ``wait`` seconds, a replica fetches one itself:
links keep flowing, at the cost of an extra token.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Final

from pydantic import SecretStr
from redis.commands.core import AsyncScript

from bot.shared.connection import RedisUnavailable, SharedRedis

KEY_PREFIX: Final = "medialink:wix-token:"
# Seconds the lock is held at most: above a token fetch's own deadline.
DEFAULT_LOCK_TTL: Final = 15.0
# Seconds a replica waits for another's fetch before fetching itself.
DEFAULT_WAIT: Final = 10.0
POLL_EVERY: Final = 0.05

# KEYS[1]; ARGV[1]: the value it must still hold to be deleted.
COMPARE_AND_DELETE: Final = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

Fetch = Callable[[], Awaitable[tuple[SecretStr, float]]]


def _same(value: SecretStr, other: SecretStr | None) -> bool:
    return other is not None and hmac.compare_digest(
        value.get_secret_value().encode(), other.get_secret_value().encode()
    )


class RedisTokenCache:
    """``bot.wix.auth.TokenCache`` on Redis, for one app installation."""

    def __init__(
        self,
        redis: SharedRedis,
        client_id: str,
        instance_id: str,
        *,
        lock_ttl: float = DEFAULT_LOCK_TTL,
        wait: float = DEFAULT_WAIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.redis = redis
        # The IDs are not secrets; hashed to keep the key short and of one shape.
        name = hashlib.sha256(f"{client_id}\n{instance_id}".encode()).hexdigest()[:32]
        self.key = KEY_PREFIX + name
        self.lock_key = self.key + ":lock"
        self.lock_ttl_ms = max(1, math.ceil(lock_ttl * 1000))
        self.wait = wait
        self._clock = clock
        self._compare_and_delete: AsyncScript = redis.client.register_script(COMPARE_AND_DELETE)
        self.fetched_here = 0  # tokens this replica fetched (for tests)

    async def token(self, fetch: Fetch, *, rejected: SecretStr | None) -> tuple[SecretStr, float]:
        give_up_at = self._clock() + self.wait
        try:
            while True:
                cached = await self._read()
                if cached is not None:
                    if not _same(cached[0], rejected):
                        return cached
                    await self._delete_if(self.key, cached[0].get_secret_value())
                lock_id = await self._lock()
                if lock_id is not None:
                    try:
                        return await self._fetch_and_store(fetch, rejected)
                    finally:
                        await self._delete_if(self.lock_key, lock_id)
                if self._clock() >= give_up_at:
                    break  # the fetching replica is slow or gone: fetch here
                await asyncio.sleep(POLL_EVERY)
        except RedisUnavailable:
            pass
        self.fetched_here += 1
        return await fetch()

    async def _fetch_and_store(
        self, fetch: Fetch, rejected: SecretStr | None
    ) -> tuple[SecretStr, float]:
        cached = await self._read()  # another replica may have stored one just now
        if cached is not None and not _same(cached[0], rejected):
            return cached
        self.fetched_here += 1
        value, fresh_for = await fetch()
        fresh_ms = math.floor(fresh_for * 1000)
        if fresh_ms > 0:
            # If this fails, this replica has its token; the others fetch their own.
            with contextlib.suppress(RedisUnavailable):
                await self.redis.call(
                    lambda client: client.set(self.key, value.get_secret_value(), px=fresh_ms)
                )
        return value, fresh_for

    async def _read(self) -> tuple[SecretStr, float] | None:
        async def read(client: object) -> list[object]:
            pipe = self.redis.client.pipeline(transaction=True)
            pipe.get(self.key)
            pipe.pttl(self.key)
            return list(await pipe.execute())

        value, ttl_ms = await self.redis.call(read)
        if not isinstance(value, bytes) or not isinstance(ttl_ms, int) or ttl_ms <= 0:
            return None
        return SecretStr(value.decode()), ttl_ms / 1000

    async def _lock(self) -> str | None:
        """The lock's ID if this replica now holds it."""
        lock_id = secrets.token_hex(16)
        taken = await self.redis.call(
            lambda client: client.set(self.lock_key, lock_id, nx=True, px=self.lock_ttl_ms)
        )
        return lock_id if taken else None

    async def _delete_if(self, key: str, value: str) -> None:
        with contextlib.suppress(RedisUnavailable):  # if not, it expires by itself
            await self.redis.call(lambda _: self._compare_and_delete(keys=[key], args=[value]))
