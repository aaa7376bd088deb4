"""``/medialink``: acknowledge at once, then make the links and answer through response_url.

Everything before the ack is pure and quick (reading the text); Wix is called only
after it, so Slack's 3-second deadline holds however slow Wix is. Usage, option
problems and "no Wix reference" go back in the ack itself, with no Wix call.
"""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack.delivery import deliver_ephemeral
from bot.slack.listeners import COMMAND, SlackDeps, new_link_reply
from bot.slack.messages import NO_REFERENCES, USAGE, describe_error, option_problems
from bot.slack.middleware import answer_at_ack
from bot.slack.options import parse_command_text
from bot.slack.render import Message, render_notice
from bot.wix.links import LinkOptionsError
from bot.wix.refs import parse_media_refs


def register(app: AsyncApp, deps: SlackDeps) -> None:
    async def medialink_command(
        ack: AsyncAck,
        command: dict[str, Any],
        respond: AsyncRespond,
        client: AsyncWebClient,
    ) -> None:
        request = parse_command_text(str(command.get("text") or ""))
        if request.wants_help:
            await _ack_with(ack, render_notice(USAGE))
            return
        problems = list(request.problems)
        if not problems:
            try:
                deps.links.check_options(request.options)
            except LinkOptionsError as error:
                problems.append(describe_error(error))
        if problems:
            await _ack_with(ack, render_notice(option_problems(problems)))
            return
        found = parse_media_refs(request.text, max_refs=deps.max_refs)
        if not found.refs:
            await _ack_with(
                ack, render_notice(f"{NO_REFERENCES}\n\n{USAGE}", rejected=found.rejected)
            )
            return
        await ack()

        user_id = str(command.get("user_id", ""))
        messages = await new_link_reply(
            deps, user_id=user_id, refs=found.refs, options=request.options, rejected=found.rejected
        )
        await deliver_ephemeral(
            messages,
            respond=respond,
            client=client,
            channel_id=command.get("channel_id"),
            user_id=user_id,
        )

    app.command(COMMAND)(answer_at_ack(medialink_command))


async def _ack_with(ack: AsyncAck, message: Message) -> None:
    await ack(
        text=message["text"],
        blocks=message["blocks"],
        response_type="ephemeral",
        unfurl_links=False,
        unfurl_media=False,
    )
