"""The message shortcut (links from a message) and the global shortcut (a form).

A message shortcut's payload holds the whole message and a response_url, so no
history call is needed. A global shortcut has neither a channel nor a response_url:
it opens the form at once (its trigger expires in 3 seconds and works once), and
the form's conversation picker supplies the response_url (``views.py``). The form's
file picker gets its options from ``picker.py``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.audit import Entry
from bot.durations import whole_minutes
from bot.slack.listeners import (
    answer_privately,
    checked_options,
    fresh_link_reply,
    requester_of,
    user_id_of,
)
from bot.slack.message_refs import collect_refs
from bot.slack.messages import NO_REFERENCES_IN_MESSAGE, NOTHING_FOUND_IN_MESSAGE_HELP
from bot.slack.middleware import deps_of
from bot.slack.render import build_link_modal, render_nothing_found
from bot.slack.surfaces import GLOBAL_SHORTCUT, MESSAGE_SHORTCUT
from bot.wix.links import LinkOptions

if TYPE_CHECKING:
    from bot.dispatch import Dispatcher

logger = logging.getLogger(__name__)


async def links_from_message(
    ack: AsyncAck,
    shortcut: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await ack()
    deps = deps_of(context)
    user_id = user_id_of(shortcut)
    message = shortcut.get("message")
    found = collect_refs(message if isinstance(message, dict) else {}, max_refs=deps.max_refs)
    if found.refs:
        messages = await fresh_link_reply(
            deps,
            requester=requester_of(context, Entry.MESSAGE_SHORTCUT),
            refs=found.refs,
            options=checked_options(deps, LinkOptions()),
            rejected=found.rejected,
        )
    else:
        messages = [
            render_nothing_found(
                found.rejected,
                none_found=NO_REFERENCES_IN_MESSAGE,
                help_text=NOTHING_FOUND_IN_MESSAGE_HELP,
            )
        ]
    await answer_privately(messages, shortcut, respond, client, user_id=user_id)


async def open_link_form(
    ack: AsyncAck,
    shortcut: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await ack()
    deps = deps_of(context)
    view = build_link_modal(
        default_minutes=whole_minutes(deps.default_expiry),
        max_minutes=whole_minutes(deps.max_expiry),
        max_files=deps.max_refs,
    )
    try:
        await client.views_open(trigger_id=shortcut["trigger_id"], view=view)
    except SlackApiError as error:
        # trigger_expired / trigger_exchanged: Slack shows its own error; nothing to send.
        logger.warning("views.open failed: %s", error.response.get("error", "unknown error"))


def register(app: AsyncApp, dispatcher: Dispatcher) -> None:
    dispatcher.listen(
        app.shortcut({"callback_id": MESSAGE_SHORTCUT, "type": "message_action"}),
        links_from_message,
    )
    dispatcher.listen(
        app.shortcut({"callback_id": GLOBAL_SHORTCUT, "type": "shortcut"}), open_link_form
    )
