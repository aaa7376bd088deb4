"""The audit trail's one table, shared by the store and its migrations.

``at`` and ``expires_at`` are stored in UTC: PostgreSQL keeps the zone
(``timestamptz``), SQLite keeps naive UTC text, which sorts and compares the same.
``asset_keys`` is a JSON array in a text column, which both databases hold alike.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

# Lengths bound what one row can cost; the store cuts longer values before writing,
# so no value can make PostgreSQL refuse a whole batch.
ID_CHARS = 64
ENTRY_CHARS = 64
FILE_ID_CHARS = 256
FILE_NAME_CHARS = 512
OUTCOME_CHARS = 64
REASON_CHARS = 1000
REQUEST_ID_CHARS = 128
ASSET_KEY_CHARS = 64
MAX_ASSET_KEYS = 100

TABLE = "audit_events"


class UtcDateTime(sa.TypeDecorator[datetime]):
    """A timezone-aware datetime in, a UTC-aware datetime out, on every database."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        # SQLite's DATETIME text has no zone: keep UTC there, without the offset.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)  # noqa: S101 - the column's type
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


metadata = sa.MetaData()

audit_events = sa.Table(
    TABLE,
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),  # SQLite: the rowid
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("team_id", sa.String(ID_CHARS)),
    sa.Column("enterprise_id", sa.String(ID_CHARS)),
    sa.Column("user_id", sa.String(ID_CHARS)),
    sa.Column("channel_id", sa.String(ID_CHARS)),
    sa.Column("entry", sa.String(ENTRY_CHARS), nullable=False),
    sa.Column("file_id", sa.String(FILE_ID_CHARS)),
    sa.Column("file_name", sa.String(FILE_NAME_CHARS)),
    sa.Column("private", sa.Boolean()),
    sa.Column("asset_keys", sa.Text(), nullable=False),
    sa.Column("expires_at", UtcDateTime()),
    sa.Column("outcome", sa.String(OUTCOME_CHARS), nullable=False),
    sa.Column("reason", sa.String(REASON_CHARS)),
    sa.Column("wix_request_id", sa.String(REQUEST_ID_CHARS)),
    sa.Column("request_id", sa.String(ID_CHARS)),  # revision 0002
    # The workspace (or org-wide install) the row belongs to (bot.tenancy); revision 0004.
    sa.Column("tenant_id", sa.String(ID_CHARS)),
    # One index per way the record is read: a workspace's, a person's, a file's
    # history, and the refusals (or a Wix error), each newest first.
    sa.Index("ix_audit_events_team_at", "team_id", "at"),
    sa.Index("ix_audit_events_user_at", "user_id", "at"),
    sa.Index("ix_audit_events_file_at", "file_id", "at"),
    sa.Index("ix_audit_events_outcome_at", "outcome", "at"),
    sa.Index("ix_audit_events_tenant_at", "tenant_id", "at"),
    # Retention deletes by age alone.
    sa.Index("ix_audit_events_at", "at"),
)
