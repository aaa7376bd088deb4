"""Fixtures for several replicas: one real Redis (and the audit tests' PostgreSQL).

Redis: MEDIALINK_TEST_REDIS_URL (``.ci/run`` starts a server and sets it), or else a
throwaway server started here from the machine's redis-server. When none can be
started the tests skip and say why, except under CI (CI=true), where they fail.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator

import pytest
import redis

from bot.shared.connection import SharedRedis
from tests.audit.conftest import postgres_server, postgres_url  # noqa: F401 (fixtures)
from tests.replicas.redis_server import NoRedis, RedisServer

REDIS_URL_ENV = "MEDIALINK_TEST_REDIS_URL"


def no_redis(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"Redis is required under CI: {reason}", pytrace=False)
    pytest.skip(f"Redis tests skipped: {reason}")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[str]:
    url = os.environ.get(REDIS_URL_ENV)
    if url:
        yield url
        return
    try:
        server = RedisServer()
        server.start()
    except NoRedis as error:
        no_redis(str(error))
        return
    try:
        yield server.url
    finally:
        server.destroy()


@pytest.fixture
def redis_url(redis_server: str) -> str:
    """The server's URL, its database emptied: each test starts with no shared state."""
    client = redis.Redis.from_url(redis_server, socket_timeout=5)
    try:
        client.flushdb()
    finally:
        client.close()
    return redis_server


@pytest.fixture
async def shared(redis_url: str) -> AsyncIterator[SharedRedis]:
    connection = SharedRedis(redis_url)
    yield connection
    await connection.aclose()


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A Redis server of this test's own, to stop and start again."""
    try:
        server = RedisServer()
        server.start()
    except NoRedis as error:
        no_redis(str(error))
        raise
    try:
        yield server
    finally:
        server.destroy()
