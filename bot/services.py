"""The services the Slack app and the CLI share, built from Settings."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.audit import AuditTrail
from bot.audit.store import SqlAuditTrail
from bot.config import Settings, WixApiKeyCredentials
from bot.policy import link_rules
from bot.shared.connection import SharedRedis
from bot.shared.quota import RedisFileQuota
from bot.shared.tokens import RedisTokenCache
from bot.shared.window import RedisWindow
from bot.sites.keys import Keyring
from bot.sites.model import ENV_SITE_NAME, ApiKey, Credentials, SiteRecord
from bot.sites.registry import BuildLinks, Site, SiteRegistry
from bot.sites.store import SiteStore
from bot.wix.auth import ApiKeyAuth, OAuthClientCredentials, WixAuth
from bot.wix.client import PATH_OAUTH_TOKEN, RetryPolicy, WixMediaClient
from bot.wix.fairness import MemberQuota
from bot.wix.links import LinkService
from bot.wix.ratelimit import RateLimiter
from bot.workspaces.service import Workspaces, build_workspaces


@dataclass(slots=True)
class Services:
    links: LinkService
    max_refs: int
    audit: AuditTrail
    shared: SharedRedis | None = None  # REDIS_URL: what replicas share
    sites: SiteRegistry | None = None  # the connected sites (bot/sites); None: env site only
    # Per-workspace settings, installations (OAuth mode) and uninstall hooks.
    workspaces: Workspaces | None = None

    async def aclose(self) -> None:
        try:
            await self.links.client.aclose()
            if self.sites is not None:
                await self.sites.aclose()
        finally:
            try:
                await self.audit.aclose()  # writes what is still pending, within a deadline
            finally:
                if self.shared is not None:
                    await self.shared.aclose()


def build_shared(settings: Settings) -> SharedRedis | None:
    """The Redis connection replicas share limits through (REDIS_URL); no I/O."""
    if settings.redis_url is None:
        return None
    return SharedRedis(
        settings.redis_url.get_secret_value(),
        fallback=(
            f"in-process limits ({settings.rate_fallback_limit()} Wix requests per "
            f"{settings.wix_rate_period:g} s in this replica, MEDIALINK_REPLICAS="
            f"{settings.medialink_replicas}; file quotas per replica)"
        ),
    )


def wix_site(settings: Settings) -> str:
    """What names the Wix site in shared keys: the site ID, or the app instance's."""
    credentials = settings.wix_credentials()
    if isinstance(credentials, WixApiKeyCredentials):
        return credentials.site_id
    return credentials.instance_id


def build_wix_auth(settings: Settings, shared: SharedRedis | None = None) -> WixAuth:
    credentials = settings.wix_credentials()
    if isinstance(credentials, WixApiKeyCredentials):
        return ApiKeyAuth(credentials.api_key, credentials.site_id)
    return OAuthClientCredentials(
        credentials.client_id,
        credentials.client_secret,
        credentials.instance_id,
        token_url=settings.wix_api_url + PATH_OAUTH_TOKEN,
        shared=(
            RedisTokenCache(shared, credentials.client_id, credentials.instance_id)
            if shared is not None
            else None
        ),
    )


def build_rate_limiter(
    settings: Settings, shared: SharedRedis | None = None, *, site: str | None = None
) -> RateLimiter:
    """Wix's limit for one site (``site``: what names it in shared keys; default the
    environment's), shared by replicas through Redis when there is one."""
    if shared is None:
        return RateLimiter(settings.wix_rate_limit, settings.wix_rate_period)
    return RateLimiter(
        settings.wix_rate_limit,
        settings.wix_rate_period,
        shared=RedisWindow(
            shared,
            site or wix_site(settings),
            limit=settings.wix_rate_limit,
            period=settings.wix_rate_period,
        ),
        fallback_limit=settings.rate_fallback_limit(),
    )


def build_wix_client(
    settings: Settings,
    *,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
    shared: SharedRedis | None = None,
) -> WixMediaClient:
    return WixMediaClient(
        build_wix_auth(settings, shared),
        base_url=settings.wix_api_url,
        retry=retry or RetryPolicy(),
        limiter=build_rate_limiter(settings, shared),
        # As many in flight as the limiter admits in a window (bot/wix/client.py).
        max_concurrency=settings.wix_rate_limit,
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
    shared = build_shared(settings)
    links = LinkService(
        build_wix_client(settings, retry=retry, sleep=sleep, shared=shared),
        rules=link_rules(settings),
        default_redirect_url=settings.medialink_expiration_redirect_url,
        user_files_per_minute=settings.medialink_user_files_per_minute,
        quota=(
            RedisFileQuota(shared, settings.medialink_user_files_per_minute)
            if shared is not None
            else None
        ),
    )
    audit = build_audit_trail(settings)
    sites = build_site_registry(
        settings, links, audit.migrate, shared=shared, retry=retry, sleep=sleep
    )
    workspaces = build_workspaces(
        engine=audit.engine,
        ready=audit.ensure_migrated,
        oauth_client_id=settings.slack_client_id if settings.oauth_enabled else None,
        state_secret=(
            settings.slack_state_secret.get_secret_value().encode()
            if settings.oauth_enabled and settings.slack_state_secret is not None
            else None
        ),
    )
    # An uninstalled workspace's sites, domains and channel defaults go with it, sealed
    # credentials included, and their cached clients are closed.
    workspaces.uninstall_hooks.register("sites", sites.forget)
    return Services(
        links=links,
        max_refs=settings.medialink_max_refs,
        audit=audit,
        shared=shared,
        sites=sites,
        workspaces=workspaces,
    )


class _SiteQuota:
    """A member's file quota on one site: the member's key in Redis names the site."""

    def __init__(self, inner: MemberQuota, site: str) -> None:
        self._inner = inner
        self._site = site
        self.limit = inner.limit

    async def take_files(self, member: str, files: int, now: float) -> None:
        await self._inner.take_files(f"{self._site}/{member}", files, now)


def env_visible(settings: Settings) -> Callable[[str], bool]:
    """Who sees the environment's WIX_* site: every tenant with one workspace; with Slack
    OAuth (many workspaces) only those in MEDIALINK_ALLOWED_TEAMS (empty: none)."""
    if not settings.oauth_enabled:
        return lambda tenant: True
    allowed = settings.medialink_allowed_teams
    return lambda tenant: tenant in allowed


def build_site_links(
    settings: Settings,
    *,
    shared: SharedRedis | None = None,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> BuildLinks:
    """How a connected site's own link service is built: its own client, rate limit,
    OAuth token and member quotas, each keyed by the site in Redis."""

    def build(record: SiteRecord, credentials: Credentials) -> LinkService:
        if isinstance(credentials, ApiKey):
            auth: WixAuth = ApiKeyAuth(credentials.api_key, record.site_id)
            key = record.site_id
        else:
            key = credentials.instance_id
            auth = OAuthClientCredentials(
                credentials.app_id,
                credentials.app_secret,
                credentials.instance_id,
                token_url=settings.wix_api_url + PATH_OAUTH_TOKEN,
                shared=(
                    RedisTokenCache(shared, credentials.app_id, credentials.instance_id)
                    if shared is not None
                    else None
                ),
            )
        client = WixMediaClient(
            auth,
            base_url=settings.wix_api_url,
            retry=retry or RetryPolicy(),
            limiter=build_rate_limiter(settings, shared, site=key),
            max_concurrency=settings.wix_rate_limit,
            sleep=sleep or asyncio.sleep,
        )
        per_minute = settings.medialink_user_files_per_minute
        return LinkService(
            client,
            rules=link_rules(settings),
            default_redirect_url=settings.medialink_expiration_redirect_url,
            user_files_per_minute=per_minute,
            quota=(
                _SiteQuota(RedisFileQuota(shared, per_minute), key) if shared is not None else None
            ),
        )

    return build


def build_site_registry(
    settings: Settings,
    env_links: LinkService,
    migrate: Callable[[], Awaitable[None]],
    *,
    shared: SharedRedis | None = None,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> SiteRegistry:
    """The connected sites on DATABASE_URL, with the environment's site; no I/O."""
    key = settings.medialink_encryption_key
    keyring = Keyring(key.get_secret_value()) if key is not None else None
    return SiteRegistry(
        env_site=Site(ENV_SITE_NAME, wix_site(settings), None),
        env_links=env_links,
        env_visible=env_visible(settings),
        store=SiteStore(settings.database_url.get_secret_value(), migrate=migrate),
        keyring=lambda: keyring,
        build_links=build_site_links(settings, shared=shared, retry=retry, sleep=sleep),
    )
