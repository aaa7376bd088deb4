"""The App Home tab: published with ``views.publish`` each time someone opens it.

The event is acknowledged at once (through the dispatcher, like every request); the
record is read and the view published after the ack. Slack sends ``app_home_opened``
for the Messages tab too, which is left alone (docs/slack.md, App Home).
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.audit import AuditEvent, AuditQuery, Outcome
from bot.slack.listeners import SlackDeps
from bot.slack.listeners.history import is_admin_now, read_record
from bot.slack.middleware import deps_of
from bot.slack.render.home import MAX_HOME_ITEMS, HomeContent, HomeLimits, render_home
from bot.slack.surfaces import APP_HOME_OPENED

if TYPE_CHECKING:
    from bot.dispatch import Dispatcher

logger = logging.getLogger(__name__)

_USER_ID = re.compile(r"[UW][A-Z0-9]{2,40}")


def home_limits(deps: SlackDeps) -> HomeLimits:
    return HomeLimits(
        max_expiry=deps.max_expiry,
        default_expiry=deps.default_expiry,
        max_refs=deps.max_refs,
        share_enabled=deps.share_enabled,
        admins=tuple(sorted(deps.policy.settings.admins)),
        private_files=deps.policy.settings.private_files.value,
    )


async def read_home(deps: SlackDeps, user_id: str, *, admin: bool) -> HomeContent:
    """The person's recent links and, for an admin, the workspace's links and refusals,
    read together; the Home tab says so when the record cannot be read."""
    queries = [AuditQuery(user_id=user_id, outcome=Outcome.OK.value, limit=MAX_HOME_ITEMS)]
    if admin:
        queries.append(AuditQuery(outcome=Outcome.OK.value, limit=MAX_HOME_ITEMS))
        queries.append(AuditQuery(outcome=Outcome.REFUSED.value, limit=MAX_HOME_ITEMS))
    found = await asyncio.gather(*(read_record(deps, query) for query in queries))
    readable = all(events is not None for events in found)
    lists: list[list[AuditEvent]] = [events or [] for events in found]
    lists += [[]] * (3 - len(lists))
    return HomeContent(
        user_id=user_id,
        is_admin=admin,
        own_links=lists[0],
        activity=lists[1],
        refusals=lists[2],
        record_readable=readable,
        settings_lines=settings_lines(deps) if admin else (),
    )


def settings_lines(deps: SlackDeps) -> list[str]:
    """The workspace's access settings as admins may change them (not the workspaces
    line: an installation serves its own)."""
    if deps.workspaces is None:
        return []
    return [line for line in deps.policy.describe() if not line.startswith("workspaces:")]


async def home_opened(
    ack: AsyncAck,
    event: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await ack()
    user_id = event.get("user")
    if event.get("tab") != "home" or not isinstance(user_id, str):
        return
    if not _USER_ID.fullmatch(user_id):
        logger.warning("app_home_opened names no usable user; nothing published")
        return
    deps = deps_of(context)
    admin = await is_admin_now(deps, context, user_id)  # after the ack: Slack may be asked
    content = await read_home(deps, user_id, admin=admin)
    view = render_home(content, home_limits(deps), now=datetime.now(UTC))
    try:
        await client.views_publish(user_id=user_id, view=view)
    except SlackApiError as error:
        # The error code only: Slack's answer may quote the view, which quotes the record.
        code = error.response.get("error") if error.response is not None else None
        logger.warning("views.publish failed: %s", code if isinstance(code, str) else "?")


def register(app: AsyncApp, dispatcher: Dispatcher) -> None:
    dispatcher.listen(app.event(APP_HOME_OPENED), home_opened)
