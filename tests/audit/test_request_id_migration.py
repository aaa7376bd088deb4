"""Revision 0002 adds ``request_id`` to a trail that already holds rows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import create_async_engine

from bot.audit import AuditEvent, AuditQuery, Outcome
from bot.audit.store import MIGRATIONS, SqlAuditTrail


def _upgrade_to(revision: str) -> Callable[[sa.Connection], None]:
    def run(connection: sa.Connection) -> None:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    return run


async def test_a_trail_made_before_request_ids_keeps_its_rows_and_records_new_ones(
    tmp_path: Path,
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/old.db"
    engine = create_async_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade_to("0001"))
        await connection.execute(
            sa.text(
                "INSERT INTO audit_events (at, entry, asset_keys, outcome, user_id) "
                "VALUES ('2026-01-01 00:00:00', 'command', '[]', 'ok', 'U0OLD0001')"
            )
        )
    await engine.dispose()

    trail = SqlAuditTrail(url)
    try:
        await trail.migrate()
        trail.record(
            [
                AuditEvent(
                    at=datetime.now(UTC),
                    team_id="T0TEAM001",
                    enterprise_id=None,
                    user_id="U0NEW0001",
                    channel_id=None,
                    entry="command",
                    outcome=Outcome.OK,
                    request_id="a1b2c3d4",
                )
            ]
        )
        await trail.start()
        assert await trail.flush(10)
        rows = await trail.query(AuditQuery())
    finally:
        await trail.aclose()
    assert [(row.user_id, row.request_id) for row in rows] == [
        ("U0NEW0001", "a1b2c3d4"),
        ("U0OLD0001", None),
    ]
