"""Bolt middleware: cross-cutting work that every request gets, so listeners don't.

Bolt's async global middleware runs before the listener and cannot wrap it (its
``next()`` only marks the chain as continuing), so this is where a request is named
and logged on arrival. Access checks, when MediaLink needs them, belong here too.
"""

from __future__ import annotations

import contextvars
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.response import BoltResponse

logger = logging.getLogger("bot.slack")

REQUEST_KEY = "medialink_request"


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
    logger.info("received %s", info.describe())
    return await next_()
