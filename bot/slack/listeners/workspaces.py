"""A workspace's life with MediaLink: its settings edited from App Home, uninstalled,
tokens revoked.

Settings: an admin's "Edit settings" (App Home) opens a modal with the workspace's
settings; saving checks again that the person is an admin (a submission is not access-
checked like a link request), validates, stores them for the tenant (in force on every
replica within ``bot.workspaces.policy.SETTINGS_TTL``) and records the change. Who is an
admin: MEDIALINK_ADMINS, whoever installed MediaLink in the workspace (OAuth mode), and
the admins the workspace's settings add (docs/slack.md, Installing in several
workspaces).

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

from pydantic import ValidationError
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.audit import AuditEvent, AuditTrail, Entry, Outcome
from bot.slack.listeners import user_id_of
from bot.slack.listeners.history import is_admin_now
from bot.slack.middleware import deps_of
from bot.slack.render.block_kit import plain, section
from bot.slack.render.settings import (
    LISTS,
    SETTINGS_BLOCK,
    SETTINGS_CALLBACK_ID,
    SETTINGS_EDIT_ACTION,
    read_settings,
    render_settings_modal,
)
from bot.slack.surfaces import APP_UNINSTALLED, TOKENS_REVOKED
from bot.tenancy import current_tenant, tenant_of
from bot.workspaces.policy import SettingsUnavailable, WorkspacePolicy
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


ONLY_ADMINS = "Only MediaLink's admins in this workspace may change its settings."
NOT_SAVED = (
    "MediaLink could not save the settings just now (its database did not answer). "
    "Try again in a moment."
)
NOT_READ = (
    "MediaLink could not read this workspace's settings just now (its database did not "
    "answer). Try again in a moment."
)


async def open_settings(
    ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient, context: AsyncBoltContext
) -> None:
    """App Home's "Edit settings": the modal, filled with the workspace's settings."""
    await ack()
    deps = deps_of(context)
    user_id = user_id_of(body)
    tenant = current_tenant.get()
    trigger_id = body.get("trigger_id")
    if deps.workspaces is None or tenant is None or not isinstance(trigger_id, str):
        return
    view: dict[str, Any]
    if not await is_admin_now(deps, context, user_id):
        view = _notice(ONLY_ADMINS)
    else:
        try:
            stored = await deps.workspaces.policies.get(tenant)
        except SettingsUnavailable:
            view = _notice(NOT_READ)
        else:
            current = stored or WorkspacePolicy.defaults(deps.policy.settings)
            always = sorted(deps.policy.settings.admins - set(current.admins))
            view = render_settings_modal(current, always_admins=always)
    try:
        await client.views_open(trigger_id=trigger_id, view=view)
    except SlackApiError as error:
        code = error.response.get("error") if error.response is not None else None
        logger.warning("views.open failed: %s", code if isinstance(code, str) else "?")


async def save_settings(
    ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], context: AsyncBoltContext
) -> None:
    """The settings modal submitted: checked, stored for the tenant, recorded."""
    deps = deps_of(context)
    user_id = user_id_of(body)
    tenant = current_tenant.get()
    first_block = SETTINGS_BLOCK + next(iter(LISTS))
    # Not behind the access check: asks Slack only when the person's role is not cached.
    if deps.workspaces is None or tenant is None or not await is_admin_now(deps, context, user_id):
        await ack(response_action="errors", errors={first_block: ONLY_ADMINS})
        return
    store = deps.workspaces.policies
    try:
        stored = await store.get(tenant)
    except SettingsUnavailable:
        await ack(response_action="errors", errors={first_block: NOT_SAVED})
        return
    current = stored or WorkspacePolicy.defaults(deps.policy.settings)
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    fields, problems = read_settings(values if isinstance(values, dict) else {}, current)
    chosen: WorkspacePolicy | None = None
    if not problems:
        try:
            chosen = WorkspacePolicy.model_validate(fields)
        except ValidationError as error:
            for detail in error.errors(include_input=False, include_url=False):
                name = str(detail["loc"][0]) if detail["loc"] else next(iter(LISTS))
                message = str(detail["msg"]).removeprefix("Value error, ")
                problems.setdefault(SETTINGS_BLOCK + name, _problem(name, message))
    if problems or chosen is None:
        await ack(response_action="errors", errors=problems)
        return
    try:
        await store.save(tenant, chosen, by=user_id)
    except Exception as error:  # the admin is told; nothing half-saved (one statement)
        logger.warning("saving a workspace's settings failed (%s)", type(error).__name__)
        await ack(response_action="errors", errors={first_block: NOT_SAVED})
        return
    await ack()
    changed = sorted(
        name
        for name in WorkspacePolicy.model_fields
        if getattr(chosen, name) != getattr(current, name)
    )
    logger.info("%s changed the settings of %s: %s", user_id, tenant, ", ".join(changed) or "none")
    deps.audit.record(
        [
            AuditEvent(
                at=datetime.now(UTC),
                team_id=context.team_id,
                enterprise_id=context.enterprise_id,
                user_id=user_id,
                channel_id=None,
                entry=Entry.SETTINGS,
                outcome=Outcome.OK,
                reason=f"changed: {', '.join(changed)}" if changed else "saved unchanged",
                tenant_id=tenant,
            )
        ]
    )


def _problem(name: str, message: str) -> str:
    if name in LISTS:
        return f"{message[:150]}: use Slack IDs, comma-separated (at most 1000)."
    return "Pick one of the choices."


def _notice(text: str) -> dict[str, Any]:
    return {
        "type": "modal",
        "title": plain("MediaLink settings"),
        "close": plain("Close"),
        "blocks": [section(text, block_id="settings_notice")],
    }


def register(app: AsyncApp, dispatcher: Dispatcher) -> None:
    dispatcher.listen(app.event(APP_UNINSTALLED), app_uninstalled)
    dispatcher.listen(app.event(TOKENS_REVOKED), tokens_revoked)
    dispatcher.listen(app.action(SETTINGS_EDIT_ACTION), open_settings)
    dispatcher.listen(app.view(SETTINGS_CALLBACK_ID), save_settings)
