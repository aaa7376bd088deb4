"""Bolt middleware: cross-cutting work that every request gets, so listeners don't.

Bolt's async global middleware runs before the listener and cannot wrap it (its
``next()`` only marks the chain as continuing), so this is where a request is named
and logged on arrival. Access checks, when MediaLink needs them, belong here too.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_bolt.response import BoltResponse
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient

logger = logging.getLogger("bot.slack")

REQUEST_KEY = "medialink_request"
# An asyncio.Event the HTTP server (bot.server) puts in a request's context and sets once
# Bolt has handed it the ack.
ACK_SENT_KEY = "medialink_ack_sent"
# However the server fares, a listener never waits longer than Slack would for the ack.
ACK_WAIT_LIMIT = 3.0
# An aiohttp.ClientSession the HTTP server shares among every response_url post.
WEBHOOK_SESSION_KEY = "medialink_webhook_session"


class SessionRespond(AsyncRespond):
    """``respond()`` over one shared HTTP session.

    Bolt's ``respond()`` opens a new aiohttp session, and so a new connection (a TLS
    handshake to Slack in production), for every post; this reuses the server's.
    """

    def __init__(self, *, response_url: str, session: aiohttp.ClientSession) -> None:
        super().__init__(response_url=response_url)
        self.session = session

    async def __call__(  # type: ignore[override]  # the keyword subset MediaLink uses
        self,
        text: str = "",
        *,
        blocks: Sequence[Mapping[str, Any]] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
    ) -> WebhookResponse:
        assert self.response_url is not None  # noqa: S101 - set in __init__
        client = AsyncWebhookClient(url=self.response_url, session=self.session)
        return await client.send(
            text=text,
            blocks=[dict(block) for block in blocks] if blocks is not None else None,
            response_type=response_type,
            replace_original=replace_original,
            delete_original=delete_original,
            unfurl_links=unfurl_links,
            unfurl_media=unfurl_media,
        )


class AckThenYield(AsyncAck):
    """``ack()`` that returns once the server holds the ack, so the work after it waits.

    Bolt (``process_before_response=False``) picks the ack up on a 10 ms poll while the
    listener, already past ``ack()``, starts its Wix calls on the same event loop; in a
    burst of commands every ack queued behind the earlier commands' work
    (benchmarks/README.md). Waiting here puts each listener's work after its own ack.
    """

    def __init__(self, sent: asyncio.Event) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # untyped in Bolt
        self._sent = sent

    async def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        response = await super().__call__(*args, **kwargs)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._sent.wait(), ACK_WAIT_LIMIT)
        return response


@dataclass(frozen=True, slots=True)
class RequestInfo:
    """What a request is, for logs: never its text, links or tokens."""

    request_id: str
    kind: str  # "command /medialink", "block_actions medialink_regenerate", …
    team_id: str | None
    user_id: str | None
    channel_id: str | None

    def describe(self) -> str:
        return (
            f"{self.kind} [{self.request_id}] user={self.user_id or '-'} "
            f"team={self.team_id or '-'} channel={self.channel_id or '-'}"
        )


# Listener tasks copy the context of the dispatch that started them, so a listener's
# logs can name the request they belong to.
current_request: contextvars.ContextVar[RequestInfo | None] = contextvars.ContextVar(
    "medialink_request", default=None
)


def describe_request(body: Mapping[str, Any]) -> str:
    """A short name for the kind of request: its type and which command, action or view."""
    if "command" in body:
        return f"command {body.get('command')}"
    kind = str(body.get("type") or "unknown")
    if kind == "block_actions":
        actions = body.get("actions") or [{}]
        first = actions[0] if isinstance(actions, list) and actions else {}
        return f"block_actions {first.get('action_id', '?') if isinstance(first, dict) else '?'}"
    if kind in {"shortcut", "message_action"}:
        return f"{kind} {body.get('callback_id', '?')}"
    if kind in {"view_submission", "view_closed"}:
        view = body.get("view") or {}
        return f"{kind} {view.get('callback_id', '?') if isinstance(view, dict) else '?'}"
    if kind == "event_callback":
        event = body.get("event") or {}
        return f"event {event.get('type', '?') if isinstance(event, dict) else '?'}"
    return kind


async def request_context(
    context: AsyncBoltContext,
    body: dict[str, Any],
    next_: Callable[[], Awaitable[BoltResponse | None]],  # Bolt's next(), by its other name
) -> BoltResponse | None:
    """Name the request, remember it for the listener's logs, and log its arrival."""
    info = RequestInfo(
        request_id=secrets.token_hex(4),
        kind=describe_request(body),
        team_id=context.team_id,
        user_id=context.user_id,
        channel_id=context.channel_id,
    )
    context[REQUEST_KEY] = info
    current_request.set(info)
    sent = context.get(ACK_SENT_KEY)
    if isinstance(sent, asyncio.Event):
        context["ack"] = AckThenYield(sent)
    session = context.get(WEBHOOK_SESSION_KEY)
    if isinstance(session, aiohttp.ClientSession) and context.response_url:
        context["respond"] = SessionRespond(response_url=context.response_url, session=session)
    logger.info("received %s", info.describe())
    return await next_()
