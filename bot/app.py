"""The composition root: ``build_app(settings, services, dispatcher)`` wires MediaLink's Slack app.

Nothing here reads the environment or opens a connection: settings and services come
in, an ``AsyncApp`` goes out, and tests build one against fakes the same way. Bolt
calls ``auth.test`` on the first request, against ``SLACK_API_URL``.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.config import Settings
from bot.dispatch import Dispatcher
from bot.policy import AccessGate, Directory, build_policy
from bot.services import Services
from bot.slack.access import AccessControl
from bot.slack.listeners import (
    SlackDeps,
    actions,
    commands,
    find,
    history,
    home,
    picker,
    shortcuts,
    sites,
    views,
)
from bot.slack.listeners import workflow as workflow_steps
from bot.slack.listeners.unfurls import register as register_unfurls
from bot.slack.messages import SOMETHING_WENT_WRONG
from bot.slack.middleware import RequestContext, current_request, describe_request
from bot.slack.web_api import configure_web_client

logger = logging.getLogger("bot.slack")


def build_app(settings: Settings, services: Services, dispatcher: Dispatcher) -> AsyncApp:
    """The Slack app: listeners for every surface, middleware, and the error handler.

    Every request passes the access policy (``bot.slack.access``) before its listener;
    links made and refusals are recorded in the services' audit trail.

    Every listener is registered through ``dispatcher`` (``Dispatcher.listen``), which
    the server shares. Raises ``SettingsError`` when the Slack settings are missing or
    malformed.
    """
    settings.require_slack()
    assert settings.slack_bot_token is not None  # noqa: S101 - require_slack() checked it
    secret = settings.slack_signing_secret
    app = AsyncApp(
        name="medialink",
        # The token, not a client: with a client Bolt still reads SLACK_BOT_TOKEN from
        # the environment, ignores it and warns on every start (docs/slack.md, Bolt's
        # client). The client Bolt makes is then pointed at SLACK_API_URL.
        token=settings.slack_bot_token.get_secret_value(),
        # Passed even when empty, so Bolt never falls back to reading the environment.
        signing_secret=secret.get_secret_value() if secret is not None else "",
        # The HTTP edge (bot.server) is the only way a request reaches Bolt, and it has
        # verified the signature on the raw bytes before anything parsed them; Bolt's
        # repeat of the same HMAC would cost every request again before its ack. Socket
        # Mode requests come over the app's own authenticated connection.
        request_verification_enabled=False,
        # Bolt sends the ack when the listener returns, and the dispatcher's wrapper
        # returns at ack(): Slack gets its answer at once, without Bolt's 10 ms poll.
        process_before_response=True,
    )
    client = configure_web_client(app.client, settings.slack_api_url)
    policy = build_policy(settings)
    # One gate (and one directory cache) for the access middleware and the workflow step.
    gate = AccessGate(policy, Directory(client))
    audit = services.audit
    deps = SlackDeps(
        links=services.links,
        max_refs=services.max_refs,
        share_enabled=settings.medialink_share_enabled,
        respond_to=dispatcher.respond,
        policy=policy,
        audit=audit,
        metrics=dispatcher.metrics,
        gate=gate,
        sites=services.sites,
    )
    dispatcher.metrics.watch(services.links, audit)
    app.use(RequestContext(dispatcher, deps))
    app.use(AccessControl(gate, dispatcher, audit))

    async def report_error(
        error: Exception, body: dict[str, Any], request: AsyncBoltRequest
    ) -> None:
        report_listener_error(dispatcher, error, body, request)

    app.error(report_error)
    for group in (commands, shortcuts, actions, views, history, home, sites):
        group.register(app, dispatcher)
    workflow_steps.register(app, dispatcher)
    register_unfurls(app, dispatcher, unfurl=settings.medialink_unfurl)
    find.register(app, dispatcher)  # /medialink find's result buttons
    picker.register(app, dispatcher)  # the form's type-ahead file picker
    return app


def report_listener_error(
    dispatcher: Dispatcher, error: Exception, body: dict[str, Any], request: AsyncBoltRequest
) -> None:
    """Log what failed (the type and where, never the message, which may hold a link)
    and tell the person in plain words when the request left a way to answer.

    Bolt calls this for middleware errors too, its own verification included, so it
    answers only requests known to come from Slack: verified at the HTTP edge, or
    received over Socket Mode. Anything else is never parsed for a URL to post to.
    """
    verified = dispatcher.in_verified_request or request.mode == "socket_mode"
    info = current_request.get()
    where = _raise_site(error)
    logger.error(
        "%s failed with %s%s",
        info.describe() if info else (describe_request(body) if verified else "a request"),
        type(error).__name__,
        f" at {where}" if where else "",
    )
    url = _response_url(body) if verified else None
    if url is not None:
        dispatcher.apologise(url, SOMETHING_WENT_WRONG)


def _response_url(body: dict[str, Any]) -> str | None:
    # Shape-checked at every step: this runs in the error handler, which must not fail.
    url = body.get("response_url")
    if isinstance(url, str):
        return url
    view = body.get("view")
    urls = body.get("response_urls") or (
        view.get("response_urls") if isinstance(view, dict) else None
    )
    first = urls[0] if isinstance(urls, list) and urls else None
    url = first.get("response_url") if isinstance(first, dict) else None
    return url if isinstance(url, str) else None


def _raise_site(error: BaseException) -> str | None:
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return None
    last = frames[-1]
    return f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno}"
