"""The audit_events table and its indexes.

Revision ID: 0001
Revises:
Create Date: 2025-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("team_id", sa.String(64)),
        sa.Column("enterprise_id", sa.String(64)),
        sa.Column("user_id", sa.String(64)),
        sa.Column("channel_id", sa.String(64)),
        sa.Column("entry", sa.String(64), nullable=False),
        sa.Column("file_id", sa.String(256)),
        sa.Column("file_name", sa.String(512)),
        sa.Column("private", sa.Boolean()),
        sa.Column("asset_keys", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True)),
        sa.Column("outcome", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(1000)),
        sa.Column("wix_request_id", sa.String(128)),
    )
    op.create_index("ix_audit_events_team_at", "audit_events", ["team_id", "at"])
    op.create_index("ix_audit_events_user_at", "audit_events", ["user_id", "at"])
    op.create_index("ix_audit_events_file_at", "audit_events", ["file_id", "at"])
    op.create_index("ix_audit_events_outcome_at", "audit_events", ["outcome", "at"])
    op.create_index("ix_audit_events_at", "audit_events", ["at"])


def downgrade() -> None:
    op.drop_table("audit_events")
