"""The tables of several workspaces: Slack's installation and state tables, and each
workspace's own policy settings.

The installation and state tables are the ones slack_sdk's SQLAlchemy stores read and
write (``slack_installations``, ``slack_bots``, ``slack_oauth_states``), built here with
the SDK's own table builders so the store and the table cannot disagree; revision 0004
creates them. ``medialink_workspace_settings`` holds what a workspace's admins changed
from App Home, keyed by tenant (``bot.tenancy.tenant_of``).
"""

from __future__ import annotations

import sqlalchemy as sa
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

from bot.audit.schema import UtcDateTime

INSTALLATIONS = "slack_installations"
BOTS = "slack_bots"
OAUTH_STATES = "slack_oauth_states"
WORKSPACE_SETTINGS = "medialink_workspace_settings"

TENANT_CHARS = 64
SETTINGS_CHARS = 64_000  # the JSON of one workspace's settings: lists of at most 1000 IDs

metadata = sa.MetaData()

installations = SQLAlchemyInstallationStore.build_installations_table(metadata, INSTALLATIONS)
bots = SQLAlchemyInstallationStore.build_bots_table(metadata, BOTS)
oauth_states = SQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, OAUTH_STATES)

workspace_settings = sa.Table(
    WORKSPACE_SETTINGS,
    metadata,
    sa.Column("tenant_id", sa.String(TENANT_CHARS), primary_key=True),
    sa.Column("settings", sa.Text(), nullable=False),  # JSON: bot.workspaces.policy
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("updated_by", sa.String(TENANT_CHARS)),
)
