"""A workspace's life with MediaLink: uninstalled, tokens revoked.

``app_uninstalled``: the installation (every token), the workspace's stored settings and
every registered part's rows (``bot.workspaces.UninstallHooks``) go; the audit record
stays, until its retention period, as any record does. ``tokens_revoked``: the revoked
tokens' installations go (a revoked bot token: the whole installation, which cannot work
without it); the settings stay for a new install. The next request from that workspace
finds no installation and is refused by Bolt before any listener (docs/slack.md,
Installing in several workspaces).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext

from bot.audit import AuditEvent, AuditTrail, Entry, Outcome
from bot.slack.middleware import deps_of
from bot.slack.surfaces import APP_UNINSTALLED, TOKENS_REVOKED
from bot.tenancy import tenant_of
from bot.workspaces.service import InstallKey

if TYPE_CHECKING:
    from bot.dispatch import Dispatcher

logger = logging.getLogger(__name__)

MAX_REVOKED_USERS = 1000  # user tokens handled from one event; Slack sends a few


def _key(context: AsyncBoltContext) -> tuple[str, InstallKey] | None:
    org_wide = context.is_enterprise_install is True
    try:
        tenant = tenant_of(context.team_id, context.enterprise_id, enterprise_install=org_wide)
    except ValueError:
        logger.warning("an uninstall event named no workspace; nothing removed")
        return None
    return tenant, InstallKey(context.enterprise_id, context.team_id, org_wide)


async def app_uninstalled(ack: AsyncAck, context: AsyncBoltContext) -> None:
    await ack()
    found = _key(context)
    deps = deps_of(context)
    if found is None or deps.workspaces is None:
        return
    tenant, key = found
    failed = await deps.workspaces.uninstalled(tenant, key)
    logger.info(
        "MediaLink was uninstalled from %s%s",
        tenant,
        f"; cleaning up failed for {', '.join(failed)}" if failed else "",
    )
    _record(deps.audit, context, tenant, "app_uninstalled", failed)


async def tokens_revoked(ack: AsyncAck, event: dict[str, Any], context: AsyncBoltContext) -> None:
    await ack()
    found = _key(context)
    deps = deps_of(context)
    store = deps.workspaces.installations if deps.workspaces is not None else None
    if found is None or deps.workspaces is None or store is None:
        return
    tenant, key = found
    tokens = event.get("tokens")
    tokens = tokens if isinstance(tokens, dict) else {}
    bots, users = tokens.get("bot"), tokens.get("oauth")
    team_id = None if key.org_wide else key.team_id
    try:
        if isinstance(bots, list) and bots:
            await store.async_delete_all(enterprise_id=key.enterprise_id, team_id=team_id)
        elif isinstance(users, list):
            for user in users[:MAX_REVOKED_USERS]:
                if isinstance(user, str) and user:
                    await store.async_delete_installation(
                        enterprise_id=key.enterprise_id, team_id=team_id, user_id=user
                    )
    except Exception as error:
        logger.error(  # noqa: TRY400 - the type only: the error may quote the row
            "tokens_revoked: removing tokens failed (%s)", type(error).__name__
        )
        _record(deps.audit, context, tenant, "tokens_revoked", ["installation"])
        return
    deps.workspaces.forget(tenant)
    if isinstance(bots, list) and bots:
        logger.info("MediaLink's bot token was revoked in %s; its installation is removed", tenant)
        _record(deps.audit, context, tenant, "tokens_revoked", [])


def _record(
    audit: AuditTrail, context: AsyncBoltContext, tenant: str, why: str, failed: list[str]
) -> None:
    audit.record(
        [
            AuditEvent(
                at=datetime.now(UTC),
                team_id=context.team_id,
                enterprise_id=context.enterprise_id,
                user_id=None,
                channel_id=None,
                entry=Entry.UNINSTALL,
                outcome=Outcome.OK if not failed else "cleanup_failed",
                reason=why + (f"; failed: {', '.join(failed)}" if failed else ""),
                tenant_id=tenant,
            )
        ]
    )


def register(app: AsyncApp, dispatcher: Dispatcher) -> None:
    dispatcher.listen(app.event(APP_UNINSTALLED), app_uninstalled)
    dispatcher.listen(app.event(TOKENS_REVOKED), tokens_revoked)
