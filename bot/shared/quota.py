"""The per-member file quota, shared by every replica: one Redis sorted set per member.

Each accepted request is one entry: its score the time it was accepted (Redis's
``TIME``), its member a random ID and the number of files. One Lua script trims what
is older than the period, sums the rest and adds the request if it fits, so a member
who sends to two replicas at once still gets at most ``limit`` files a minute. A key
holds at most ``limit`` entries (every request has a file) and expires a period after
its last request. While Redis is down each replica keeps its own quota (the same
limit: a member could then get up to one quota per replica; the rate limiter still
bounds what reaches Wix).
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
from typing import Final

from redis.commands.core import AsyncScript

from bot.shared.connection import RedisUnavailable, SharedRedis
from bot.wix.fairness import QUOTA_PERIOD, FileQuota, FileQuotaError

KEY_PREFIX: Final = "medialink:quota:"
_PLAIN_ID = re.compile(r"[A-Za-z0-9]{1,40}")

# KEYS[1] the member's requests; ARGV: limit, period (ms), files, a new entry's ID.
# Returns {1, used} when taken, else {0, asked, ms until the files fit (-1: never)}.
TAKE: Final = """
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local period = tonumber(ARGV[2])
local files = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
local asks = redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')
local used = 0
for i = 1, #asks, 2 do
  used = used + tonumber(string.match(asks[i], ':(%d+)$'))
end
if used + files <= limit then
  redis.call('ZADD', KEYS[1], now, ARGV[4] .. ':' .. files)
  redis.call('PEXPIRE', KEYS[1], period + 1000)
  return {1, used + files}
end
if files > limit then
  return {0, used + files, -1}
end
local left = used
for i = 1, #asks, 2 do
  left = left - tonumber(string.match(asks[i], ':(%d+)$'))
  if left + files <= limit then
    return {0, used + files, math.max(0, tonumber(asks[i + 1]) + period - now)}
  end
end
return {0, used + files, 0}
"""


def member_key(member: str) -> str:
    """The Redis key for a member: the Slack ID as it is, anything else hashed (bounded)."""
    if _PLAIN_ID.fullmatch(member):
        return KEY_PREFIX + member
    return KEY_PREFIX + "h:" + hashlib.sha256(member.encode()).hexdigest()[:32]


class RedisFileQuota:
    """``bot.wix.fairness.MemberQuota`` on Redis, with ``FileQuota`` in-process while
    Redis is down."""

    def __init__(self, redis: SharedRedis, limit: int, period: float = QUOTA_PERIOD) -> None:
        self.redis = redis
        self.local = FileQuota(limit, period)  # validates limit and period
        self.limit = limit
        self.period_ms = max(1, math.ceil(period * 1000))
        self._take: AsyncScript = redis.client.register_script(TAKE)

    async def take_files(self, member: str, files: int, now: float) -> None:
        entry = secrets.token_hex(8)
        try:
            answer = await self.redis.call(
                lambda _: self._take(
                    keys=[member_key(member)], args=[self.limit, self.period_ms, files, entry]
                )
            )
        except RedisUnavailable:
            self.local.take(member, files, now)
            return
        if int(answer[0]) == 1:
            return
        retry_ms = int(answer[2])
        raise FileQuotaError(
            asked=int(answer[1]),
            limit=self.limit,
            retry_after=None if retry_ms < 0 else retry_ms / 1000,
        )
