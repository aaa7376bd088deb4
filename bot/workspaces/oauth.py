"""Bolt's OAuth flow for MediaLink: ``/slack/install`` and ``/slack/oauth_redirect``.

``/slack/install`` answers with a redirect to Slack's authorize page (no page of our
own) and a state cookie; Slack sends the installer back to ``/slack/oauth_redirect``,
where Bolt checks the state (cookie, signature, expiry, not used before), exchanges the
code (``oauth.v2.access``) and saves the installation; only then is the state written
down as used (``SignedStateStore``: a visit to ``/slack/install`` writes nothing).
Requests are then authorized per workspace from the store, with expiring tokens
refreshed before use (docs/slack.md, Installing in several workspaces).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final
from urllib.parse import urljoin

from slack_bolt.authorization.async_authorize import AsyncInstallationStoreAuthorize
from slack_bolt.authorization.authorize_result import AuthorizeResult
from slack_bolt.oauth.async_callback_options import (
    AsyncCallbackOptions,
    AsyncFailureArgs,
    AsyncSuccessArgs,
)
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.workspaces.stores import STATE_LIFETIME, InstallationStore, SignedStateStore

logger = logging.getLogger(__name__)

INSTALL_PATH: Final = "/slack/install"
REDIRECT_PATH: Final = "/slack/oauth_redirect"
# The bot scopes an install asks for: manifest.yaml's (tests/test_manifest.py keeps
# them equal).
BOT_SCOPES: Final = (
    "commands",
    "chat:write",
    "users:read",
    "usergroups:read",
    "links:read",
    "links:write",
)
# Refresh a rotating token when it has less than this long to live (Slack's last 12 h).
REFRESH_BEFORE_MINUTES: Final = 120
MAX_AUTHORIZED_CACHED: Final = 10_000  # auth.test answers kept, one per token


def authorize_url(slack_api_url: str) -> str:
    """Slack's authorize page beside its Web API: ``https://slack.com/api/`` →
    ``https://slack.com/oauth/v2/authorize`` (the same for GovSlack and for tests)."""
    return urljoin(slack_api_url, "../oauth/v2/authorize")


class CachedAuthorize(AsyncInstallationStoreAuthorize):
    """Bolt's authorize from the installation store, with ``auth.test``'s answer kept per
    token in a bounded cache (each request still reads its installation, so an
    uninstalled workspace is refused at once)."""

    async def __call__(self, **kwargs: Any) -> AuthorizeResult | None:
        if len(self.authorize_result_cache) >= MAX_AUTHORIZED_CACHED:
            self.authorize_result_cache.clear()  # rotated tokens leave old entries behind
        return await super().__call__(**kwargs)


def build_oauth_settings(
    *,
    client_id: str,
    client_secret: str,
    slack_api_url: str,
    installations: InstallationStore,
    states: SignedStateStore,
    client: AsyncWebClient,
    on_installed: Callable[[AsyncSuccessArgs], Awaitable[None]] | None = None,
) -> AsyncOAuthSettings:
    """Every option given here, so Bolt never falls back to reading the environment.

    ``client`` (no token, on ``SLACK_API_URL``) refreshes rotating tokens; ``on_installed``
    (an ``AsyncSuccessArgs`` callback) runs after an installation is saved.
    """

    async def succeeded(args: AsyncSuccessArgs) -> BoltResponse:
        # Slack accepted the code: only now is the state written down as used.
        state = args.request.query.get("state", [""])[0]
        try:
            await states.used(state)
        except Exception as error:  # the code is spent at Slack: a replay fails there too
            logger.warning("could not mark an install's state used (%s)", type(error).__name__)
        if on_installed is not None:
            await on_installed(args)
        return await args.default.success(args)

    async def failed(args: AsyncFailureArgs) -> BoltResponse:
        return await args.default.failure(args)

    settings = AsyncOAuthSettings(
        client_id=client_id,
        client_secret=client_secret,
        scopes=list(BOT_SCOPES),
        user_scopes=[],
        install_path=INSTALL_PATH,
        install_page_rendering_enabled=False,
        redirect_uri_path=REDIRECT_PATH,
        callback_options=AsyncCallbackOptions(success=succeeded, failure=failed),
        authorization_url=authorize_url(slack_api_url),
        installation_store=installations,
        token_rotation_expiration_minutes=REFRESH_BEFORE_MINUTES,
        state_store=states,
        state_expiration_seconds=STATE_LIFETIME,
        logger=logger,
    )
    settings.authorize = CachedAuthorize(
        logger=logger,
        installation_store=installations,
        client_id=client_id,
        client_secret=client_secret,
        token_rotation_expiration_minutes=REFRESH_BEFORE_MINUTES,
        cache_enabled=True,
        client=client,
    )
    return settings
