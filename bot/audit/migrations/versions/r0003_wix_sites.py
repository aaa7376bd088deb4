"""Connected Wix sites: sites (credentials encrypted), custom domains, channel defaults.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-10
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wix_sites",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("tenant", sa.String(64), nullable=False),
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("site_id", sa.String(36), nullable=False),
        sa.Column("auth_kind", sa.String(16), nullable=False),
        sa.Column("credentials", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(64)),
        sa.Column("updated_by", sa.String(64)),
        sa.UniqueConstraint("tenant", "name", name="uq_wix_sites_tenant_name"),
    )
    op.create_table(
        "wix_site_domains",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("domain", sa.String(253), primary_key=True),
        sa.Column("site_name", sa.String(40), nullable=False),
    )
    op.create_table(
        "wix_channel_sites",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("channel_id", sa.String(64), primary_key=True),
        sa.Column("site_name", sa.String(40), nullable=False),
    )
    version = op.create_table(
        "wix_sites_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.BigInteger(), nullable=False),
    )
    op.bulk_insert(version, [{"id": 1, "version": 0}])


def downgrade() -> None:
    for table in ("wix_sites_version", "wix_channel_sites", "wix_site_domains", "wix_sites"):
        op.drop_table(table)
