"""The composition root: ``build_app(settings, services, dispatcher)`` wires MediaLink's Slack app.

Nothing here reads the environment or opens a connection: settings and services come
in, an ``AsyncApp`` goes out, and tests build one against fakes the same way. Bolt
calls ``auth.test`` on the first request, against ``SLACK_API_URL``.
"""

from __future__ import annotations

import logging
import traceback
from datetime import UTC, datetime
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.oauth.async_callback_options import AsyncSuccessArgs
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.audit import AuditEvent, AuditTrail, Entry, Outcome
from bot.audit.store import SqlAuditTrail
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
from bot.slack.listeners import workspaces as workspace_listeners
from bot.slack.listeners.unfurls import register as register_unfurls
from bot.slack.messages import SOMETHING_WENT_WRONG
from bot.slack.middleware import RequestContext, current_request, describe_request
from bot.slack.tenancy import TenantScope
from bot.slack.web_api import build_web_client, configure_web_client
from bot.tenancy import tenant_of
from bot.workspaces.oauth import build_oauth_settings
from bot.workspaces.service import Workspaces, build_workspaces

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
    workspaces = services.workspaces or build_workspaces_for(services)
    oauth_settings = None
    token: str | None = None
    if settings.oauth_enabled:
        # No token of its own: each request's client gets its installation's.
        oauth_settings = oauth_settings_for(settings, workspaces, services.audit)
    else:
        assert settings.slack_bot_token is not None  # noqa: S101 - require_slack() checked it
        token = settings.slack_bot_token.get_secret_value()
    secret = settings.slack_signing_secret
    app = AsyncApp(
        name="medialink",
        # The token, not a client: with a client Bolt still reads SLACK_BOT_TOKEN from
        # the environment, ignores it and warns on every start (docs/slack.md, Bolt's
        # client). The client Bolt makes is then pointed at SLACK_API_URL.
        token=token,
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
        oauth_settings=oauth_settings,
    )
    client = configure_web_client(app.client, settings.slack_api_url)
    policy = build_policy(settings)
    # One directory cache (single-workspace mode) for the access middleware and the
    # workflow step; in OAuth mode each request's gate is its workspace's (TenantScope).
    directory = None if settings.oauth_enabled else Directory(client)
    gate = AccessGate(policy, directory or Directory(client))
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
        workspaces=workspaces,
    )
    dispatcher.metrics.watch(services.links, audit)
    if isinstance(audit, SqlAuditTrail):
        audit.give_way = dispatcher.calm  # its writes wait for a burst's acks to be out
    workspaces.policies.give_way = dispatcher.calm  # and so do settings read ahead
    app.use(RequestContext(dispatcher, deps, client))
    app.use(TenantScope(workspaces, policy, directory))
    app.use(AccessControl(gate, dispatcher, audit))

    async def report_error(
        error: Exception, body: dict[str, Any], request: AsyncBoltRequest
    ) -> None:
        report_listener_error(dispatcher, error, body, request)

    app.error(report_error)
    for group in (commands, shortcuts, actions, views, history, home, sites, workspace_listeners):
        group.register(app, dispatcher)
    workflow_steps.register(app, dispatcher)
    register_unfurls(app, dispatcher, unfurl=settings.medialink_unfurl)
    find.register(app, dispatcher)  # /medialink find's result buttons
    picker.register(app, dispatcher)  # the form's type-ahead file picker
    return app


def build_workspaces_for(services: Services) -> Workspaces:
    """Services built by hand (benchmarks) carry no ``Workspaces``: one on their trail."""
    trail = services.audit
    if not isinstance(trail, SqlAuditTrail):
        raise TypeError("per-workspace settings need the SQL audit trail's database")
    return build_workspaces(engine=trail.engine, ready=trail.ensure_migrated)


def oauth_settings_for(
    settings: Settings, workspaces: Workspaces, audit: AuditTrail
) -> AsyncOAuthSettings:
    """Bolt's OAuth flow on the workspaces' stores; each install recorded in the trail."""
    assert settings.slack_client_id is not None  # noqa: S101 - oauth_enabled checked it
    assert settings.slack_client_secret is not None  # noqa: S101
    if workspaces.installations is None or workspaces.states is None:
        raise TypeError("OAuth mode needs the installation and state stores")

    async def installed(args: AsyncSuccessArgs) -> None:
        installation = args.installation
        org_wide = installation.is_enterprise_install is True
        tenant = tenant_of(
            installation.team_id, installation.enterprise_id, enterprise_install=org_wide
        )
        workspaces.forget(tenant)
        logger.info("MediaLink was installed for %s", tenant)
        audit.record(
            [
                AuditEvent(
                    at=datetime.now(UTC),
                    team_id=installation.team_id,
                    enterprise_id=installation.enterprise_id,
                    user_id=installation.user_id,
                    channel_id=None,
                    entry=Entry.INSTALL,
                    outcome=Outcome.OK,
                    tenant_id=tenant,
                )
            ]
        )

    return build_oauth_settings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret.get_secret_value(),
        slack_api_url=settings.slack_api_url,
        installations=workspaces.installations,
        states=workspaces.states,
        client=build_web_client(None, settings.slack_api_url),
        on_installed=installed,
    )


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
