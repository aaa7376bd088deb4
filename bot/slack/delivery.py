"""Getting messages to people: the response_url first, the Web API when it fails.

A response_url works in private channels and DMs where the bot is not a member, but
it expires after 30 minutes and 5 uses, and Bolt's ``respond()`` reports failures as
a status code instead of raising (docs/slack.md, response_url; python-slack-sdk #1296). So every
status is checked, and a failed ephemeral reply falls back to ``chat.postEphemeral``,
which needs the bot in the conversation but is better than silence. Logs name what
failed and the status, never a URL (response URLs and signed links are credentials).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.slack.respond import SessionRespond

Message = dict[str, Any]

logger = logging.getLogger(__name__)

_NETWORK_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError, OSError, SlackClientError)


@dataclass(frozen=True, slots=True)
class Delivery:
    """How many of the messages reached Slack."""

    sent: int
    total: int

    @property
    def complete(self) -> bool:
        return self.sent == self.total


async def deliver_ephemeral(
    messages: Sequence[Message],
    *,
    respond: AsyncRespond | None,
    client: AsyncWebClient,
    channel_id: str | None,
    user_id: str,
    replace_original: bool = False,
) -> Delivery:
    """Send messages only ``user_id`` sees; ``replace_original`` applies to the first.

    Once the response_url fails, the rest go through ``chat.postEphemeral`` (a used-up
    or expired response_url will not recover within one reply).
    """
    sent = 0
    use_response_url = respond is not None and respond.response_url is not None
    for position, message in enumerate(messages):
        if use_response_url and respond is not None:
            replace = replace_original and position == 0
            if await post_to_response_url(respond, message, replace_original=replace):
                sent += 1
                continue
            use_response_url = False
        if await _post_ephemeral(client, message, channel_id, user_id):
            sent += 1
    if sent < len(messages):
        logger.error("delivered %d of %d messages to the user", sent, len(messages))
    return Delivery(sent=sent, total=len(messages))


async def deliver_in_channel(
    messages: Sequence[Message],
    *,
    respond: AsyncRespond | None,
    client: AsyncWebClient,
    channel_id: str | None,
) -> Delivery:
    """Post messages everyone in the conversation sees (the response_url, else chat.postMessage)."""
    sent = 0
    use_response_url = respond is not None and respond.response_url is not None
    for message in messages:
        if use_response_url and respond is not None:
            if await post_to_response_url(respond, message, response_type="in_channel"):
                sent += 1
                continue
            use_response_url = False
        if channel_id and await _post_message(client, message, channel_id):
            sent += 1
    return Delivery(sent=sent, total=len(messages))


async def send_to_dm(
    messages: Sequence[Message], *, client: AsyncWebClient, user_id: str
) -> Delivery:
    """Post in the app's DM with the person (``channel=<user ID>``; needs only chat:write)."""
    sent = 0
    for message in messages:
        if not await _post_message(client, message, user_id):
            break
        sent += 1
    return Delivery(sent=sent, total=len(messages))


async def delete_original(respond: AsyncRespond | None) -> bool:
    """Delete the message whose button was clicked (its own, fresh response_url)."""
    if respond is None or respond.response_url is None:
        return False
    # Exactly {"delete_original": true}, as Slack documents it: respond() would add an
    # empty "text", which a strict endpoint may refuse (no_text).
    client = (
        respond.webhook()
        if isinstance(respond, SessionRespond)
        else AsyncWebhookClient(url=respond.response_url, proxy=respond.proxy, ssl=respond.ssl)
    )
    try:
        response = await client.send_dict({"delete_original": True})
    except _NETWORK_ERRORS as error:
        logger.warning("response_url failed on delete: %s", type(error).__name__)
        return False
    if not 200 <= response.status_code < 300:
        logger.warning("response_url answered HTTP %d on delete", response.status_code)
        return False
    return True


async def post_to_response_url(
    respond: AsyncRespond,
    message: Message,
    *,
    response_type: str = "ephemeral",
    replace_original: bool = False,
) -> bool:
    try:
        response = await respond(
            text=message["text"],
            blocks=message.get("blocks"),
            response_type=response_type,
            replace_original=replace_original,
            unfurl_links=False,
            unfurl_media=False,
        )
    except _NETWORK_ERRORS as error:
        logger.warning("response_url failed: %s", type(error).__name__)
        return False
    if 200 <= response.status_code < 300:
        return True
    # The body is a short code such as invalid_blocks or expired_url; never the message.
    logger.warning(
        "response_url answered HTTP %d (%s)", response.status_code, str(response.body)[:60]
    )
    return False


async def _post_ephemeral(
    client: AsyncWebClient,
    message: Message,
    channel_id: str | None,
    user_id: str,
) -> bool:
    if not channel_id:
        logger.error("cannot fall back to chat.postEphemeral: no channel")
        return False
    posted = await _web_api(
        "chat.postEphemeral",
        client.chat_postEphemeral(
            channel=channel_id,
            user=user_id,
            text=message["text"],
            blocks=message.get("blocks"),
            unfurl_links=False,
            unfurl_media=False,
        ),
    )
    if posted:
        logger.info("delivered through chat.postEphemeral after the response_url failed")
    return posted


async def _post_message(client: AsyncWebClient, message: Message, channel: str) -> bool:
    return await _web_api(
        "chat.postMessage",
        client.chat_postMessage(
            channel=channel,
            text=message["text"],
            blocks=message.get("blocks"),
            unfurl_links=False,
            unfurl_media=False,
        ),
    )


async def _web_api(method: str, call: Awaitable[object]) -> bool:
    """Await one Web API call; log a failure by its error code only."""
    try:
        await call
    except SlackApiError as error:
        reason = _api_error(error)
    except _NETWORK_ERRORS as error:
        reason = type(error).__name__
    else:
        return True
    # No traceback: it could carry the request, and so the signed links.
    logger.error("%s failed: %s", method, reason)
    return False


def _api_error(error: SlackApiError) -> str:
    data = getattr(error.response, "data", None)
    if isinstance(data, dict):
        return str(data.get("error", "unknown error"))[:60]
    return "unknown error"
