"""Audit-trail fixtures: the store on SQLite and on a real PostgreSQL server.

PostgreSQL: MEDIALINK_TEST_POSTGRES_URL (``.ci/run`` starts a server and sets it), or
else a throwaway server started here from the machine's PostgreSQL binaries. When
none can be started the PostgreSQL cases skip and say why, except under CI (CI=true),
where they fail: CI must test both databases.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from bot.audit.store import SqlAuditTrail
from tests.audit.postgres import NoPostgres, PostgresCluster

POSTGRES_URL_ENV = "MEDIALINK_TEST_POSTGRES_URL"

# Fast retries, so an outage test sees recovery within a second or two.
FAST: dict[str, Any] = {
    "retry_first": 0.05,
    "retry_max": 0.5,
    "probe_every": 0.5,
    "operation_timeout": 5.0,
}


def no_postgres(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL is required under CI: {reason}", pytrace=False)
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a PostgreSQL server whose ``postgres`` database we may use."""
    url = os.environ.get(POSTGRES_URL_ENV)
    if url:
        yield url
        return
    try:
        cluster = PostgresCluster()
        cluster.start()
    except NoPostgres as error:
        no_postgres(str(error))
        return
    try:
        yield cluster.url
    finally:
        cluster.destroy()


async def _admin(server: str, statement: str) -> None:
    engine = create_async_engine(server, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(sa.text(statement))
    finally:
        await engine.dispose()


@pytest.fixture
async def postgres_url(postgres_server: str) -> AsyncIterator[str]:
    """A fresh database on the server, dropped afterwards."""
    name = f"medialink_test_{uuid.uuid4().hex[:12]}"
    await _admin(postgres_server, f'CREATE DATABASE "{name}"')
    base, _, _ = postgres_server.rpartition("/")
    yield f"{base}/{name}"
    await _admin(postgres_server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Any) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path}/audit.db"
    return str(request.getfixturevalue("postgres_url"))


MakeTrail = Callable[..., Awaitable[SqlAuditTrail]]


@pytest.fixture
async def make_trail(database_url: str) -> AsyncIterator[MakeTrail]:
    """Started trails on ``database_url`` (or another URL), closed after the test."""
    trails: list[SqlAuditTrail] = []

    async def make(url: str | None = None, *, start: bool = True, **options: Any) -> SqlAuditTrail:
        trail = SqlAuditTrail(url or database_url, **(FAST | options))
        trails.append(trail)
        if start:
            await trail.start()
        return trail

    yield make
    for trail in reversed(trails):
        await trail.aclose()


@pytest.fixture
def pg_cluster() -> Iterator[PostgresCluster]:
    """A PostgreSQL server of this test's own, to stop and start again."""
    try:
        cluster = PostgresCluster()
        cluster.start()
    except NoPostgres as error:
        no_postgres(str(error))
        raise
    try:
        yield cluster
    finally:
        cluster.destroy()
