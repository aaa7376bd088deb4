"""The connected sites' tables, shared by the store and its migration (revision 0003).

``wix_sites_version`` is one row whose counter every change raises in the same
transaction: a replica reads it (one indexed row) to learn that its copy is stale.
"""

from __future__ import annotations

import sqlalchemy as sa

from bot.audit.schema import UtcDateTime
from bot.sites.model import MAX_DOMAIN, MAX_ID, MAX_NAME

GUID_CHARS = 36
KIND_CHARS = 16
SEALED_CHARS = 8000  # a Fernet token of at most 4 kB of JSON, base64: about 5.6 kB

metadata = sa.MetaData()

wix_sites = sa.Table(
    "wix_sites",
    metadata,
    sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        primary_key=True,
        autoincrement=True,
    ),
    sa.Column("tenant", sa.String(MAX_ID), nullable=False),
    sa.Column("name", sa.String(MAX_NAME), nullable=False),
    sa.Column("site_id", sa.String(GUID_CHARS), nullable=False),
    sa.Column("auth_kind", sa.String(KIND_CHARS), nullable=False),
    sa.Column("credentials", sa.Text(), nullable=False),  # Fernet token, never plaintext
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("created_by", sa.String(MAX_ID)),
    sa.Column("updated_by", sa.String(MAX_ID)),
    sa.UniqueConstraint("tenant", "name", name="uq_wix_sites_tenant_name"),
)

wix_site_domains = sa.Table(
    "wix_site_domains",
    metadata,
    sa.Column("tenant", sa.String(MAX_ID), primary_key=True),
    sa.Column("domain", sa.String(MAX_DOMAIN), primary_key=True),
    sa.Column("site_name", sa.String(MAX_NAME), nullable=False),
)

wix_channel_sites = sa.Table(
    "wix_channel_sites",
    metadata,
    sa.Column("tenant", sa.String(MAX_ID), primary_key=True),
    sa.Column("channel_id", sa.String(MAX_ID), primary_key=True),  # "*": the workspace's
    sa.Column("site_name", sa.String(MAX_NAME), nullable=False),
)

wix_sites_version = sa.Table(
    "wix_sites_version",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True),
    sa.Column("version", sa.BigInteger(), nullable=False),
)
