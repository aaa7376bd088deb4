"""Bolt middleware: the request context every listener gets.

Bolt's async global middleware runs before the listener and cannot wrap it (its
``next()`` only marks the chain as continuing), so this is where a request is named
for the logs, and where listeners get MediaLink's ``ack()`` (the dispatcher's, which
answers Slack at once), ``respond()`` (over the dispatcher's shared session), a Web API
client on the dispatcher's other shared session, and the dependencies they need
(``SlackDeps``).
"""

from __future__ import annotations

import contextvars
import logging
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.logs import request_id_var

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.dispatch import Dispatcher
    from bot.slack.listeners import SlackDeps

logger = logging.getLogger("bot.slack")

# Where listeners find MediaLink's dependencies in Bolt's context (``deps_of``).
DEPS_KEY = "medialink"


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


def new_request_id() -> str:
    """Eight hex digits naming a request in the logs and the audit trail: an identifier,
    not a secret, so drawn from ``random`` (seeded from the OS at start and again in
    every forked child) rather than a system call before every ack."""
    return f"{random.getrandbits(32):08x}"


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


class RequestContext(AsyncMiddleware):
    """Name the request, remember it for the listener's logs, and give listeners
    MediaLink's ``ack()``, ``respond()`` and deps.

    A class, not a function: Bolt calls a class's ``async_process`` directly, while a
    function middleware has its arguments built for every request, on the way to the ack.
    """

    def __init__(
        self, dispatcher: Dispatcher, deps: SlackDeps, web_client: AsyncWebClient | None = None
    ) -> None:
        self.dispatcher = dispatcher
        self.deps = deps
        # The app's own client (Bolt copies its session into every request's client).
        self.web_client = web_client

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        context = req.context
        info = RequestInfo(
            request_id=new_request_id(),
            kind=describe_request(req.body),
            team_id=context.team_id,
            user_id=context.user_id,
            channel_id=context.channel_id,
        )
        current_request.set(info)
        request_id_var.set(info.request_id)  # on every log line, ack to last reply
        context[DEPS_KEY] = self.deps
        client = context.client
        if client is not None and client.session is None:
            # The first request, or one whose client Bolt made before the app's had it:
            # Web API calls share the dispatcher's session from now on.
            client.session = self.dispatcher.web_api_session()
            if self.web_client is not None and self.web_client.session is None:
                self.web_client.session = client.session
        context["ack"] = self.dispatcher.new_ack(
            req, lambda: logger.info("acked %s", info.describe())
        )
        if context.response_url:
            context["respond"] = self.dispatcher.respond(context.response_url)
        return await next()


def deps_of(context: Mapping[str, Any]) -> SlackDeps:
    """MediaLink's dependencies, put in the context by ``RequestContext``."""
    deps = context.get(DEPS_KEY)
    if deps is None:
        raise LookupError("RequestContext did not run: no MediaLink dependencies in the context")
    return deps  # type: ignore[no-any-return]
