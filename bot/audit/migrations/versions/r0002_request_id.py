"""audit_events.request_id: the Slack request a row came from, as on its log lines.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: rows written before, and rows from the CLI, have none.
    op.add_column("audit_events", sa.Column("request_id", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("audit_events") as batch:  # SQLite cannot drop in place
        batch.drop_column("request_id")
