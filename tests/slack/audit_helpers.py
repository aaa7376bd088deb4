"""The audit trail in end-to-end tests, filled and read through the real store, as the
app would (the ``database_url`` fixture is in tests/slack/conftest.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.audit import AuditEvent, AuditQuery
from bot.audit.store import SqlAuditTrail
from tests.slack.conftest import MakeMediaLink, MediaLink


async def seed(database_url: str, events: Sequence[AuditEvent]) -> None:
    """Put ``events`` in the record through the store itself, as the app would."""
    store = SqlAuditTrail(database_url)
    store.record(events)
    await store.aclose()  # writes everything recorded


async def read_back(database_url: str, query: AuditQuery) -> list[AuditEvent]:
    store = SqlAuditTrail(database_url)
    try:
        return list(await store.query(query))
    finally:
        await store.aclose()


async def started(make_medialink: MakeMediaLink, tmp_path: Path, **settings: Any) -> MediaLink:
    """MediaLink with its real audit trail on a fresh SQLite file, started."""
    medialink = await make_medialink(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}", **settings
    )
    assert medialink.services is not None
    await medialink.services.audit.start()
    return medialink


async def recorded_events(medialink: MediaLink, count: int, **query: Any) -> list[AuditEvent]:
    """The trail's events matching ``query`` once there are ``count`` (a bounded wait)."""
    assert medialink.services is not None
    deadline = time.monotonic() + 10
    while True:
        found = list(await medialink.services.audit.query(AuditQuery(limit=100, **query)))
        if len(found) >= count or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)
