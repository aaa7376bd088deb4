"""Limits shared by replicas through a real Redis: Wix's window, the file quotas, the
OAuth token, and what happens while Redis is down.

Each "replica" here is its own Wix client, limiter and quota in this process, as two
processes would have them; only Redis and the fake Wix are shared.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from pydantic import SecretStr

from bot.config import SettingsError, load_settings
from bot.shared.connection import SharedRedis
from bot.shared.quota import RedisFileQuota, member_key
from bot.shared.tokens import RedisTokenCache
from bot.shared.window import RedisWindow
from bot.wix.auth import ApiKeyAuth, OAuthClientCredentials
from bot.wix.client import RetryPolicy, WixMediaClient
from bot.wix.fairness import Caller, FileQuotaError, WixBusyError, acting_for
from bot.wix.ratelimit import RateLimiter
from tests.fakes.wix import GENERATE_FILE_DOWNLOAD_URL, OAUTH_TOKEN, FakeWix
from tests.replicas.redis_server import RedisServer
from tests.replicas.windows import most_in_any_window

LIMIT = 8
PERIOD = 0.5


@pytest.fixture
def wix() -> Iterator[FakeWix]:
    with FakeWix() as fake:
        yield fake


Replica = Callable[..., WixMediaClient]


@pytest.fixture
async def replica(wix: FakeWix) -> AsyncIterator[Replica]:
    """A Wix client as one replica builds it: its own limiter over ``window``."""
    clients: list[WixMediaClient] = []

    def make(window: RedisWindow | None, *, fallback_limit: int | None = None) -> WixMediaClient:
        limiter = RateLimiter(LIMIT, PERIOD, shared=window, fallback_limit=fallback_limit)
        client = WixMediaClient(
            ApiKeyAuth(SecretStr(FakeWix.API_KEY), FakeWix.SITE_ID),
            base_url=wix.base_url,
            retry=RetryPolicy(max_attempts=1),
            limiter=limiter,
            max_concurrency=LIMIT,
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


async def burst(clients: list[WixMediaClient], file_id: str, each: int) -> None:
    await asyncio.gather(
        *(
            client.generate_file_download_url(file_id, expiration_minutes=60)
            for client in clients
            for _ in range(each)
        )
    )


def link_call_times(wix: FakeWix) -> list[float]:
    return [request.started for request in wix.requests_to(GENERATE_FILE_DOWNLOAD_URL)]


# -- Wix's window ----------------------------------------------------------------------


def test_most_in_any_window_counts_a_sliding_window() -> None:
    assert most_in_any_window([], 1.0) == 0
    assert most_in_any_window([0.0, 0.5, 0.99, 1.5, 1.6], 1.0) == 3
    assert most_in_any_window([0.0, 1.0, 2.0], 1.0) == 1


async def test_two_replicas_share_one_window(
    wix: FakeWix, replica: Replica, shared: SharedRedis
) -> None:
    file_id = wix.add_file(kind="image")
    first = replica(RedisWindow(shared, FakeWix.SITE_ID, limit=LIMIT, period=PERIOD))
    second = replica(RedisWindow(shared, FakeWix.SITE_ID, limit=LIMIT, period=PERIOD))

    await burst([first, second], file_id, each=3 * LIMIT)

    times = link_call_times(wix)
    assert len(times) == 6 * LIMIT
    # Each replica alone would allow LIMIT, together twice that: the window is shared.
    assert most_in_any_window(times, PERIOD) <= LIMIT
    assert first.limiter.waited > 0
    assert second.limiter.waited > 0
    assert shared.failures == 0


async def test_without_a_shared_window_two_replicas_send_twice_the_limit(
    wix: FakeWix, replica: Replica
) -> None:
    # The control for the test above: what sharing prevents.
    file_id = wix.add_file(kind="image")
    await burst([replica(None), replica(None)], file_id, each=LIMIT)
    assert most_in_any_window(link_call_times(wix), PERIOD) == 2 * LIMIT


async def test_a_replica_that_starts_late_gets_no_share_of_its_own(
    wix: FakeWix, replica: Replica, shared: SharedRedis
) -> None:
    file_id = wix.add_file(kind="image")
    first = replica(RedisWindow(shared, FakeWix.SITE_ID, limit=LIMIT, period=PERIOD))
    await burst([first], file_id, each=LIMIT)  # the window is now full
    late = replica(RedisWindow(shared, FakeWix.SITE_ID, limit=LIMIT, period=PERIOD))
    await burst([first, late], file_id, each=LIMIT)
    assert late.limiter.waited > 0
    assert most_in_any_window(link_call_times(wix), PERIOD) <= LIMIT


async def test_the_window_key_expires_by_itself(shared: SharedRedis) -> None:
    window = RedisWindow(shared, "site-a", limit=2, period=0.2)
    place = await window.try_take()
    assert isinstance(place, str)
    await window.try_take()
    wait = await window.try_take()  # full: the seconds until the oldest leaves
    assert isinstance(wait, float)
    assert 0 < wait <= 0.2
    await window.release(place)
    ttl = await shared.client.pttl(window.key)
    assert 0 < ttl <= 1200  # the period plus a second, never forever
    other = RedisWindow(shared, "site-b", limit=2, period=0.2)
    assert isinstance(await other.try_take(), str)  # another site has its own window


async def test_a_deadline_applies_while_waiting_for_the_shared_window(
    wix: FakeWix, replica: Replica, shared: SharedRedis
) -> None:
    long_window = RedisWindow(shared, FakeWix.SITE_ID, limit=2, period=30.0)
    busy = replica(long_window)
    file_id = wix.add_file(kind="image")
    await burst([busy], file_id, each=2)  # full for 30 s
    other = replica(RedisWindow(shared, FakeWix.SITE_ID, limit=2, period=30.0))
    caller = Caller("U0LATE", deadline=other.limiter.clock() + 1.0)
    with acting_for(caller), pytest.raises(WixBusyError) as refused:
        await other.generate_file_download_url(file_id, expiration_minutes=60)
    assert refused.value.retry_after is not None
    assert refused.value.retry_after > 1.0
    assert len(wix.requests_to(GENERATE_FILE_DOWNLOAD_URL)) == 2


# -- the file quota --------------------------------------------------------------------


async def test_a_member_gets_one_quota_across_replicas(shared: SharedRedis) -> None:
    first = RedisFileQuota(shared, 10)
    second = RedisFileQuota(shared, 10)
    await first.take_files("U0ALICE01", 6, now=0.0)
    with pytest.raises(FileQuotaError) as refused:
        await second.take_files("U0ALICE01", 6, now=0.0)
    assert refused.value.asked == 12
    assert refused.value.retry_after is not None
    assert 0 < refused.value.retry_after <= 60
    await second.take_files("U0ALICE01", 4, now=0.0)  # what is left still fits
    await second.take_files("U0BOB0002", 10, now=0.0)  # another member has their own
    with pytest.raises(FileQuotaError) as never:
        await first.take_files("U0CAROL03", 11, now=0.0)
    assert never.value.retry_after is None  # more than the limit can never fit
    ttl = await shared.client.pttl(member_key("U0ALICE01"))
    assert 0 < ttl <= 61_000


async def test_the_quota_frees_up_as_the_period_passes(shared: SharedRedis) -> None:
    quota = RedisFileQuota(shared, 3, period=0.3)
    await quota.take_files("U0ALICE01", 3, now=0.0)
    with pytest.raises(FileQuotaError) as refused:
        await quota.take_files("U0ALICE01", 1, now=0.0)
    assert refused.value.retry_after is not None
    await asyncio.sleep(refused.value.retry_after + 0.05)
    await quota.take_files("U0ALICE01", 1, now=0.0)


def test_member_keys_are_bounded_and_never_mix_members() -> None:
    assert member_key("U0ALICE01").endswith(":U0ALICE01")
    long_key = member_key("x" * 10_000)
    assert len(long_key) < 80
    assert member_key("a:b") != member_key("a;b")


# -- the OAuth token -------------------------------------------------------------------


def oauth(wix: FakeWix, cache: RedisTokenCache) -> OAuthClientCredentials:
    return OAuthClientCredentials(
        FakeWix.CLIENT_ID,
        SecretStr(FakeWix.CLIENT_SECRET),
        FakeWix.INSTANCE_ID,
        token_url=wix.base_url + OAUTH_TOKEN,
        shared=cache,
    )


def token_cache(shared: SharedRedis) -> RedisTokenCache:
    return RedisTokenCache(shared, FakeWix.CLIENT_ID, FakeWix.INSTANCE_ID)


async def test_one_token_is_fetched_for_every_replica(
    wix: FakeWix, replica: Replica, shared: SharedRedis
) -> None:
    replicas = [oauth(wix, token_cache(shared)) for _ in range(3)]
    async with httpx.AsyncClient() as http:
        headers = await asyncio.gather(*(r.headers(http) for r in replicas for _ in range(10)))
    assert wix.tokens_issued == 1
    assert len({h["Authorization"] for h in headers}) == 1
    token = headers[0]["Authorization"]
    # The token is a value, never part of a key, and expires before it goes stale.
    keys = [k.decode() if isinstance(k, bytes) else k for k in await shared.client.keys("*")]
    assert keys
    assert not any(token in key for key in keys)
    [key] = [key for key in keys if not key.endswith(":lock")]
    assert await shared.client.get(key) == token.encode()
    ttl = await shared.client.pttl(key)
    assert 0 < ttl <= (14_400 - 300) * 1000


async def test_a_token_wix_refused_is_replaced_once_for_everyone(
    wix: FakeWix, replica: Replica, shared: SharedRedis
) -> None:
    first, second = oauth(wix, token_cache(shared)), oauth(wix, token_cache(shared))
    async with httpx.AsyncClient() as http:
        old = (await first.headers(http))["Authorization"]
        await second.headers(http)
        wix.expire_tokens()
        first.invalidate()  # what the client does after Wix's 401
        new = (await first.headers(http))["Authorization"]
        second.invalidate()
        assert (await second.headers(http))["Authorization"] == new
    assert new != old
    assert wix.tokens_issued == 2


# -- Redis down ------------------------------------------------------------------------


async def test_while_redis_is_down_links_flow_within_the_fallback_bound_and_it_is_logged(
    wix: FakeWix, replica: Replica, own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    connection = SharedRedis(own_redis.url, timeout=0.2, retry_every=0.2, fallback="half")
    try:
        file_id = wix.add_file(kind="image")
        client = replica(
            RedisWindow(connection, FakeWix.SITE_ID, limit=LIMIT, period=PERIOD),
            fallback_limit=LIMIT // 2,
        )
        own_redis.stop()
        with caplog.at_level(logging.WARNING, logger="bot.shared"):
            await burst([client], file_id, each=2 * LIMIT)
            errors = [r for r in caplog.records if r.levelno == logging.ERROR]
            assert len(errors) == 1  # once per outage, not once per request
            assert "falling back to half" in errors[0].getMessage()
            assert own_redis.url not in caplog.text
            assert client.limiter.falling_back
            assert most_in_any_window(link_call_times(wix), PERIOD) <= LIMIT // 2

            own_redis.start()
            await asyncio.sleep(0.3)  # past retry_every
            await burst([client], file_id, each=LIMIT)
        assert not client.limiter.falling_back
        assert connection.available
        assert "answers again" in caplog.text
        assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1
    finally:
        await connection.aclose()


async def test_the_quota_and_the_token_work_without_redis(
    wix: FakeWix, replica: Replica, own_redis: RedisServer
) -> None:
    connection = SharedRedis(own_redis.url, timeout=0.2, retry_every=60)
    try:
        own_redis.stop()
        quota = RedisFileQuota(connection, 5)
        await quota.take_files("U0ALICE01", 5, now=100.0)
        with pytest.raises(FileQuotaError):  # the replica's own quota stands in
            await quota.take_files("U0ALICE01", 1, now=100.0)
        credentials = oauth(wix, token_cache(connection))
        async with httpx.AsyncClient() as http:
            assert (await credentials.headers(http))["Authorization"].startswith("OAUTH2.")
        assert wix.tokens_issued == 1
    finally:
        await connection.aclose()


async def test_a_redis_that_never_answers_costs_one_deadline_per_interval() -> None:
    # A listening socket that accepts and never answers: the worst kind of outage.
    connections: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(writer)
        await asyncio.sleep(30)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    connection = SharedRedis(f"redis://127.0.0.1:{port}/0", timeout=0.2, retry_every=60)
    try:
        window = RedisWindow(connection, "site", limit=5, period=1.0)
        loop = asyncio.get_running_loop()
        started = loop.time()
        assert await window.try_take() is None
        assert loop.time() - started < 5  # bounded by the deadline (generously)
        assert await window.try_take() is None  # not asked again within the interval
        assert len(connections) == 1
        assert connection.failures == 2
        assert connection.outages == 1
    finally:
        await connection.aclose()
        for writer in connections:
            writer.close()
        server.close()


# -- settings --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"REDIS_URL": "http://:hunter2@redis.internal:6379"}, "REDIS_URL is not valid"),
        ({"WIX_RATE_LIMIT": "500"}, "WIX_RATE_LIMIT is not valid"),
        ({"WIX_RATE_PERIOD": "0"}, "WIX_RATE_PERIOD is not valid"),
        ({"MEDIALINK_REPLICAS": "0"}, "MEDIALINK_REPLICAS is not valid"),
    ],
)
def test_bad_sharing_settings_say_what_to_fix_without_the_value(
    env: dict[str, str], words: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as error:
        load_settings(env_file=None)
    assert words in str(error.value)
    assert "hunter2" not in str(error.value)


def test_the_fallback_share_follows_the_replica_count(monkeypatch: pytest.MonkeyPatch) -> None:
    settings: Any = load_settings(
        env_file=None, redis_url="redis://127.0.0.1:6379/0", medialink_replicas=3
    )
    assert settings.rate_fallback_limit() == 60
    assert load_settings(env_file=None, wix_rate_limit=1).rate_fallback_limit() == 1


async def test_the_client_is_redis_py_asyncio(shared: SharedRedis) -> None:
    assert isinstance(shared.client, aioredis.Redis)
    assert await shared.call(lambda client: client.ping())
