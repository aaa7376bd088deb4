"""The audit store against real databases: SQLite and PostgreSQL (tests/audit/conftest.py)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from bot.audit import MAX_QUERY_LIMIT, AuditEvent, AuditQuery, AuditUnavailable, Entry, Outcome
from bot.audit.store import SqlAuditTrail
from tests.audit.conftest import FAST, MakeTrail
from tests.audit.postgres import PostgresCluster

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def event(n: int = 0, **fields: object) -> AuditEvent:
    values: dict[str, object] = {
        "at": NOW + timedelta(seconds=n),
        "team_id": "T1",
        "enterprise_id": "E1",
        "user_id": "U1",
        "channel_id": "C1",
        "entry": Entry.COMMAND,
        "outcome": Outcome.OK,
        "file_id": f"f{n}",
        "file_name": f"clip {n}.mp4",
        "private": False,
        "asset_keys": ("src", "720p.mp4"),
        "expires_at": NOW + timedelta(hours=1),
        "reason": None,
        "wix_request_id": f"req-{n}",
    }
    values |= fields
    return AuditEvent(**values)  # type: ignore[arg-type]


async def raw_rows(url: str) -> list[dict[str, object]]:
    """The table as stored, read without the store."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(sa.text("SELECT * FROM audit_events ORDER BY id"))
            return [dict(row._mapping) for row in result]
    finally:
        await engine.dispose()


async def eventually(check: Callable[[], bool], within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "the condition never held"
        await asyncio.sleep(0.05)


async def test_round_trip_newest_first_with_zones(make_trail: MakeTrail) -> None:
    trail = await make_trail()
    sent = [
        event(0),
        event(1, private=True, asset_keys=(), expires_at=None),
        event(2, outcome=Outcome.REFUSED, reason="guests may not make links", file_name=None),
    ]
    trail.record(sent)
    assert await trail.flush(10)
    got = await trail.query(AuditQuery(limit=10))
    assert got == list(reversed(sent))
    assert all(e.at.tzinfo is not None and e.at.utcoffset() == timedelta(0) for e in got)


async def test_times_in_other_zones_are_stored_as_the_same_instant(make_trail: MakeTrail) -> None:
    trail = await make_trail()
    plus_two = timezone(timedelta(hours=2))
    trail.record([event(0, at=NOW.astimezone(plus_two)), event(1, at=NOW - timedelta(minutes=1))])
    assert await trail.flush(10)
    got = await trail.query(AuditQuery(since=NOW - timedelta(seconds=1)))
    assert [e.file_id for e in got] == ["f0"]
    assert got[0].at == NOW


async def test_filters_and_the_limit_bound(make_trail: MakeTrail) -> None:
    trail = await make_trail()
    trail.record(
        [
            event(0, user_id="U1", team_id="T1"),
            event(1, user_id="U2", team_id="T1", outcome="NOT_FOUND"),
            event(2, user_id="U2", team_id="T2", file_id="shared"),
            event(3, user_id="U1", team_id="T2", file_id="shared", outcome=Outcome.REFUSED),
        ]
    )
    assert await trail.flush(10)

    async def ids(**query: object) -> list[str | None]:
        return [e.file_id for e in await trail.query(AuditQuery(**query))]  # type: ignore[arg-type]

    assert await ids(user_id="U1") == ["shared", "f0"]
    assert await ids(team_id="T1") == ["f1", "f0"]
    assert await ids(file_id="shared") == ["shared", "shared"]
    assert await ids(outcome="refused") == ["shared"]
    assert await ids(outcome="NOT_FOUND") == ["f1"]
    assert await ids(since=NOW + timedelta(seconds=2)) == ["shared", "shared"]
    assert await ids(user_id="U2", team_id="T2") == ["shared"]
    assert await ids(limit=1) == ["shared"]

    trail.record([event(10 + n) for n in range(MAX_QUERY_LIMIT + 5)])
    assert await trail.flush(30)
    assert len(await trail.query(AuditQuery(limit=10**9))) == MAX_QUERY_LIMIT


async def test_500_concurrent_records_leave_500_rows(
    make_trail: MakeTrail, database_url: str
) -> None:
    trail = await make_trail()

    async def one(n: int) -> None:
        await asyncio.sleep(0)
        trail.record([event(n, user_id=f"U{n % 7}")])

    await asyncio.gather(*(one(n) for n in range(500)))
    assert await trail.flush(30)
    rows = await raw_rows(database_url)
    assert len(rows) == 500
    assert sorted(str(row["file_id"]) for row in rows) == sorted(f"f{n}" for n in range(500))


async def test_writes_wait_while_the_app_gives_way_and_follow_at_once_after(
    make_trail: MakeTrail, database_url: str
) -> None:
    """Writes never hold up an ack: while serving, each batch first waits for the
    dispatcher's pending acks (``give_way``), then goes out."""
    trail = await make_trail()
    acks_out = asyncio.Event()
    waits: list[bool] = []

    async def give_way() -> None:
        waits.append(acks_out.is_set())
        await acks_out.wait()

    trail.give_way = give_way
    trail.record([event(1)])
    await eventually(lambda: bool(waits))  # the writer took the row and is waiting
    await asyncio.sleep(0.2)
    assert await raw_rows(database_url) == []  # nothing written while acks are pending
    acks_out.set()
    assert await trail.flush(10)
    assert [row["file_id"] for row in await raw_rows(database_url)] == ["f1"]
    assert waits == [False]


async def test_migrations_are_idempotent_and_safe_when_replicas_start_together(
    make_trail: MakeTrail, database_url: str
) -> None:
    replicas = [await make_trail(start=False) for _ in range(3)]
    await asyncio.gather(*(replica.migrate() for replica in replicas))
    await replicas[0].migrate()  # again: nothing to do
    later = await make_trail()
    assert later.healthy
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as connection:
            versions = (await connection.execute(sa.text("SELECT * FROM alembic_version"))).all()
            indexes = await connection.run_sync(
                lambda sync: sa.inspect(sync).get_indexes("audit_events")
            )
    finally:
        await engine.dispose()
    assert [tuple(v) for v in versions] == [("0004",)]
    assert {index["name"] for index in indexes} >= {
        "ix_audit_events_team_at",
        "ix_audit_events_user_at",
        "ix_audit_events_file_at",
        "ix_audit_events_outcome_at",
    }
    later.record([event(1)])
    assert await later.flush(10)
    assert len(await replicas[1].query(AuditQuery())) == 1


async def test_no_url_token_or_response_url_is_stored(
    make_trail: MakeTrail, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    trail = await make_trail()
    response_url = "https://hooks.slack.com/commands/T1/123/abcdefSECRET"
    signed = "https://video.wixmp.com/file.mp4?token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.sig"
    trail.record(
        [
            event(
                0,
                file_id=response_url,
                file_name=signed,
                asset_keys=("src", "https://x.example/a?b=c"),
                reason=f"Wix said no for {signed} (reply to {response_url})",
                wix_request_id="xoxb-1234567890-abcdefghij",
            )
        ]
    )
    assert await trail.flush(10)
    [row] = await raw_rows(database_url)
    stored = " ".join(str(value) for value in row.values())
    for secret in ("SECRET", "token=", "eyJ", "xoxb-1234567890", "?b=c"):
        assert secret not in stored
    assert row["file_id"] == "[redacted]"
    assert row["wix_request_id"] == "[redacted]"
    assert "video.wixmp.com" in str(row["reason"])  # the reason keeps what is not secret
    assert any("redacted" in r.getMessage() for r in caplog.records if r.levelname == "WARNING")


async def test_record_never_raises(make_trail: MakeTrail) -> None:
    trail = await make_trail()

    def broken() -> Iterator[AuditEvent]:
        yield event(0)
        raise RuntimeError("the caller's generator broke")

    trail.record(broken())
    trail.record([event(1, at="not a time")])
    assert await trail.flush(10)
    assert [e.file_id for e in await trail.query(AuditQuery())] == ["f0"]


async def test_the_buffer_is_bounded_and_drops_the_oldest(
    make_trail: MakeTrail, caplog: pytest.LogCaptureFixture
) -> None:
    trail = await make_trail(start=False, buffer_limit=10)
    trail.record(event(n) for n in range(15))
    assert trail.pending == 10
    assert trail.dropped_total == 5
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "buffer is full" in errors[0].getMessage()
    await trail.start()
    assert await trail.flush(10)
    assert [e.file_id for e in await trail.query(AuditQuery())] == [
        f"f{n}" for n in range(14, 4, -1)
    ]


async def test_retention_prunes_old_rows_at_start_and_on_demand(
    make_trail: MakeTrail, database_url: str
) -> None:
    now = datetime.now(UTC)
    writer = await make_trail(retention=timedelta(days=3650))
    writer.record([event(n, at=now - timedelta(days=400, seconds=n)) for n in range(2500)])
    writer.record([event(9000, at=now - timedelta(days=10))])
    assert await writer.flush(60)
    assert len(await raw_rows(database_url)) == 2501

    pruning = await make_trail(retention=timedelta(days=365))  # prunes at start
    deadline = time.monotonic() + 30
    while len(await raw_rows(database_url)) != 1:
        assert time.monotonic() < deadline, "retention did not prune at start"
        await asyncio.sleep(0.1)
    assert [e.file_id for e in await pruning.query(AuditQuery())] == ["f9000"]

    short = await make_trail(start=False, retention=timedelta(days=5))
    assert await short.prune() == 1
    assert await raw_rows(database_url) == []


async def test_sqlite_unwritable_then_back(
    make_trail: MakeTrail, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "not-yet"
    url = f"sqlite+aiosqlite:///{folder}/audit.db"
    trail = await make_trail(url)  # the folder is missing: SQLite cannot open the file
    assert not trail.healthy
    trail.record([event(n) for n in range(3)])
    await asyncio.sleep(0.3)  # several retries
    assert trail.pending == 3
    assert not trail.healthy
    outage = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(outage) == 1, "an outage is reported once, not once per retry"
    assert "cannot use the database" in outage[0].getMessage()

    folder.mkdir()
    await eventually(lambda: trail.healthy and trail.pending == 0)
    assert len(await trail.query(AuditQuery())) == 3
    assert any("database is back" in r.getMessage() for r in caplog.records)


async def test_postgres_stopped_then_back(
    pg_cluster: PostgresCluster, caplog: pytest.LogCaptureFixture
) -> None:
    trail = SqlAuditTrail(pg_cluster.url, **FAST)
    try:
        await trail.start()
        trail.record([event(0)])
        assert await trail.flush(10)

        await asyncio.to_thread(pg_cluster.stop)
        trail.record([event(n) for n in range(1, 6)])
        await eventually(lambda: not trail.healthy)
        assert trail.pending == 5
        await asyncio.sleep(1.0)  # retries go on
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1, "an outage is reported once, not once per retry"
        assert "cannot use the database at postgresql+asyncpg://" in errors[0].getMessage()

        await asyncio.to_thread(pg_cluster.start)
        await eventually(lambda: trail.healthy and trail.pending == 0)
        got = await trail.query(AuditQuery())
        assert sorted(str(e.file_id) for e in got) == sorted(f"f{n}" for n in range(6))
        assert any("database is back" in r.getMessage() for r in caplog.records)
    finally:
        await trail.aclose()


async def test_no_database_password_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    password = "s3cret-Passw0rd-for-audit"
    trail = SqlAuditTrail(
        f"postgresql+asyncpg://medialink:{password}@127.0.0.1:1/medialink", **FAST
    )
    assert trail.shown_url == "postgresql+asyncpg://medialink:***@127.0.0.1:1/medialink"
    try:
        await trail.start()  # nothing listens on port 1
        assert not trail.healthy
        with pytest.raises(AuditUnavailable):
            await trail.query(AuditQuery())
    finally:
        await trail.aclose()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "cannot use the database at postgresql+asyncpg://" in logged
    assert "127.0.0.1:1/medialink" in logged
    assert password not in logged


async def test_aclose_writes_what_is_pending(make_trail: MakeTrail, database_url: str) -> None:
    trail = await make_trail(start=False)  # never started, like the CLI
    trail.record([event(n) for n in range(20)])
    await trail.aclose()
    assert len(await raw_rows(database_url)) == 20


async def test_aclose_gives_up_at_its_deadline_when_the_database_is_down(
    make_trail: MakeTrail, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    trail = await make_trail(f"sqlite+aiosqlite:///{tmp_path}/missing/audit.db", close_deadline=0.5)
    trail.record([event(0)])
    await trail.aclose()
    assert any("could not be written before stopping" in r.getMessage() for r in caplog.records)
    trail.record([event(1)])  # after close: dropped, still no exception
    assert trail.pending == 1
