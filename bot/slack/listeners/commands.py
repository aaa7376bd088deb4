"""``/medialink``: acknowledge at once, then read the text, make the links and answer
through the response_url.

Nothing but the signature, the access check and the empty-text case happens before the
ack: in a burst every ack waits for the work before all the others' acks, so reading
options and references (and rendering a notice) waits until the acks are out. Wix is
called only after the ack, so Slack's 3-second deadline holds however slow Wix is.
Usage for an empty command goes back in the ack itself; option problems and "no Wix
reference" come a moment later, privately, through the response_url.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.audit import Entry
from bot.audit.events import Requester
from bot.slack.find_options import wants_find
from bot.slack.listeners import (
    SlackDeps,
    ack_with,
    answer_privately,
    fresh_link_reply,
    requester_of,
    typed_options,
)
from bot.slack.listeners.find import find_command
from bot.slack.listeners.history import history_command, wants_history
from bot.slack.listeners.sites import sites_command, wants_sites
from bot.slack.messages import (
    NO_REFERENCES,
    NOTHING_FOUND_HELP,
    USAGE,
    option_problems,
)
from bot.slack.middleware import deps_of
from bot.slack.options import parse_command_text
from bot.slack.render import render_nothing_found, render_notice
from bot.slack.render.block_kit import Message
from bot.slack.surfaces import COMMAND
from bot.wix.refs import parse_media_refs

if TYPE_CHECKING:
    from bot.dispatch import Dispatcher


async def medialink_command(
    ack: AsyncAck,
    command: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    text = str(command.get("text") or "")
    if wants_history(text):
        await history_command(ack, command, respond, client, context)
        return
    if wants_find(text):
        await find_command(ack, command, respond, client, context)
        return
    if wants_sites(text):
        await sites_command(ack, command, client, context)
        return
    if not text.strip():
        await ack_with(ack, render_notice(USAGE))
        return
    await ack()

    deps = deps_of(context)
    messages = await _reply_to(deps, text, requester_of(context, Entry.COMMAND))
    await answer_privately(messages, command, respond, client)


async def _reply_to(deps: SlackDeps, text: str, requester: Requester) -> list[Message]:
    """The reply to a command's text: usage, what is wrong with the options, "no Wix
    reference", or the links."""
    request = parse_command_text(text)
    if request.wants_help:
        return [render_notice(USAGE)]
    options, problems = typed_options(deps, request.options, request.problems)
    if problems:
        return [render_notice(option_problems(problems))]
    found = parse_media_refs(request.text, max_refs=deps.max_refs)
    if not found.refs:
        return [
            render_nothing_found(
                found.rejected, none_found=NO_REFERENCES, help_text=NOTHING_FOUND_HELP
            )
        ]
    return await fresh_link_reply(
        deps, requester=requester, refs=found.refs, options=options, rejected=found.rejected
    )


def register(app: AsyncApp, dispatcher: Dispatcher) -> None:
    dispatcher.listen(app.command(COMMAND), medialink_command)
