"""The services the Slack app and the CLI share, built from Settings."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.audit import AuditTrail
from bot.audit.store import SqlAuditTrail
from bot.config import Settings, WixApiKeyCredentials
from bot.wix.auth import ApiKeyAuth, OAuthClientCredentials, WixAuth
from bot.wix.client import PATH_OAUTH_TOKEN, RetryPolicy, WixMediaClient
from bot.wix.links import LinkService


@dataclass(slots=True)
class Services:
    links: LinkService
    max_refs: int
    audit: AuditTrail

    async def aclose(self) -> None:
        try:
            await self.links.client.aclose()
        finally:
            await self.audit.aclose()  # writes what is still pending, within a deadline


def build_wix_auth(settings: Settings) -> WixAuth:
    credentials = settings.wix_credentials()
    if isinstance(credentials, WixApiKeyCredentials):
        return ApiKeyAuth(credentials.api_key, credentials.site_id)
    return OAuthClientCredentials(
        credentials.client_id,
        credentials.client_secret,
        credentials.instance_id,
        token_url=settings.wix_api_url + PATH_OAUTH_TOKEN,
    )


def build_wix_client(
    settings: Settings,
    *,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> WixMediaClient:
    return WixMediaClient(
        build_wix_auth(settings),
        base_url=settings.wix_api_url,
        retry=retry or RetryPolicy(),
        sleep=sleep or asyncio.sleep,
    )


def build_audit_trail(settings: Settings) -> SqlAuditTrail:
    """The audit trail on DATABASE_URL; does no I/O (``start()`` migrates and connects)."""
    return SqlAuditTrail(
        settings.database_url.get_secret_value(),
        retention=settings.medialink_audit_retention,
    )


def build_services(
    settings: Settings,
    *,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> Services:
    """Everything MediaLink needs to make links; does no I/O."""
    links = LinkService(
        build_wix_client(settings, retry=retry, sleep=sleep),
        default_expiry=settings.medialink_default_expiry,
        max_expiry=settings.medialink_max_expiry,
        default_redirect_url=settings.medialink_expiration_redirect_url,
        user_files_per_minute=settings.medialink_user_files_per_minute,
    )
    return Services(
        links=links, max_refs=settings.medialink_max_refs, audit=build_audit_trail(settings)
    )
