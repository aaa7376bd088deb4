"""The audit trail in end-to-end tests, filled and read through the real store, as the
app would (the ``database_url`` fixture is in tests/slack/conftest.py)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.audit import AuditEvent, AuditQuery
from bot.audit.store import SqlAuditTrail


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
