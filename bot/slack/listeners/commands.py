"""``/medialink``: acknowledge at once, then make the links and answer through response_url.

Everything before the ack is pure and quick (reading the text); Wix is called only
after it, so Slack's 3-second deadline holds however slow Wix is. Usage, option
problems and "no Wix reference" go back in the ack itself, with no Wix call.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.audit import Entry
from bot.slack.delivery import deliver_ephemeral
from bot.slack.listeners import (
    ack_with,
    checked_options,
    fresh_link_reply,
    requester_of,
    user_id_of,
)
from bot.slack.listeners.history import history_command, wants_history
from bot.slack.messages import (
    NO_REFERENCES,
    NOTHING_FOUND_HELP,
    USAGE,
    describe_error,
    option_problems,
)
from bot.slack.middleware import deps_of
from bot.slack.options import parse_command_text
from bot.slack.render import render_nothing_found, render_notice
from bot.slack.surfaces import COMMAND
from bot.wix.links import LinkOptionsError
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
    if wants_history(str(command.get("text") or "")):
        await history_command(ack, command, respond, client, context)
        return
    deps = deps_of(context)
    request = parse_command_text(str(command.get("text") or ""))
    if request.wants_help:
        await ack_with(ack, render_notice(USAGE))
        return
    problems = list(request.problems)
    options = request.options
    if not problems:
        try:
            options = checked_options(deps, request.options)
        except LinkOptionsError as error:
            problems.append(describe_error(error))
    if problems:
        await ack_with(ack, render_notice(option_problems(problems)))
        return
    found = parse_media_refs(request.text, max_refs=deps.max_refs)
    if not found.refs:
        nothing = render_nothing_found(
            found.rejected, none_found=NO_REFERENCES, help_text=NOTHING_FOUND_HELP
        )
        await ack_with(ack, nothing)
        return
    await ack()

    requester = requester_of(context, Entry.COMMAND)
    messages = await fresh_link_reply(
        deps, requester=requester, refs=found.refs, options=options, rejected=found.rejected
    )
    await deliver_ephemeral(
        messages,
        respond=respond,
        client=client,
        channel_id=command.get("channel_id"),
        user_id=user_id_of(command),
    )


def register(app: AsyncApp, dispatcher: Dispatcher) -> None:
    dispatcher.listen(app.command(COMMAND), medialink_command)
