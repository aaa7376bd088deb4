"""Wix's request window, shared by every replica through one Redis sorted set per site.

Each entry is one request: its score the time it counts from (when it was let through,
then, once it ended, when it ended), its member a random ID. One Lua script trims the
entries older than the period, counts the rest and adds one if there is room, so two
replicas can never both take the last place. Times are Redis's own (``TIME``), so the
replicas' clocks need not agree. The key expires a period after its last change: a
replica that stops leaves nothing behind that outlives the window. (A request still in
flight a whole period after it was let through stops counting; a Wix call's own
deadline is far shorter than Wix's minute.)
"""

from __future__ import annotations

import contextlib
import math
import secrets
from typing import Final

from redis.commands.core import AsyncScript

from bot.shared.connection import RedisUnavailable, SharedRedis

KEY_PREFIX: Final = "medialink:wix-window:"

# KEYS[1] the window; ARGV: limit, period (ms), the new place's ID.
# Returns 0 when the place was taken, else the milliseconds until the oldest leaves.
TAKE: Final = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
if redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  redis.call('PEXPIRE', KEYS[1], period + 1000)
  return 0
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return math.max(1, tonumber(oldest[2]) + period - now)
"""

# KEYS[1] the window; ARGV: period (ms), the place's ID. The place now counts from now.
RELEASE: Final = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('ZADD', KEYS[1], 'XX', 'CH', now, ARGV[2]) == 1 then
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[1]) + 1000)
end
return 0
"""


class RedisWindow:
    """``bot.wix.ratelimit.SharedWindow`` on Redis: at most ``limit`` requests to one Wix
    site in any rolling ``period`` seconds, whatever the number of replicas."""

    def __init__(self, redis: SharedRedis, site: str, *, limit: int, period: float) -> None:
        if limit < 1 or period <= 0:
            raise ValueError("limit must be at least 1 and period positive")
        self.redis = redis
        # A site or app-instance ID: not a secret, and it keeps two sites apart.
        self.key = KEY_PREFIX + site
        self.limit = limit
        self.period_ms = max(1, math.ceil(period * 1000))
        self._take: AsyncScript = redis.client.register_script(TAKE)
        self._release: AsyncScript = redis.client.register_script(RELEASE)

    async def try_take(self) -> str | float | None:
        place = secrets.token_hex(8)
        try:
            answer = await self.redis.call(
                lambda _: self._take(keys=[self.key], args=[self.limit, self.period_ms, place])
            )
        except RedisUnavailable:
            return None
        wait_ms = int(answer)
        return place if wait_ms == 0 else wait_ms / 1000

    async def release(self, place: str) -> None:
        # If this fails, the place counts from when it was taken and expires with the window.
        with contextlib.suppress(RedisUnavailable):
            await self.redis.call(
                lambda _: self._release(keys=[self.key], args=[self.period_ms, place])
            )
