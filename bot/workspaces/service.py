"""``Workspaces``: what MediaLink keeps per workspace, in one place for the Slack layer.

Built by ``bot.services.build_services`` on the audit trail's engine; no I/O until used.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Final

from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.policy import AccessSettings, Directory
from bot.workspaces import UninstallHooks
from bot.workspaces.policy import PolicyStore, WorkspacePolicy
from bot.workspaces.stores import InstallationStore, SignedStateStore

logger = logging.getLogger(__name__)

MAX_DIRECTORIES: Final = 200  # workspaces whose people are cached at once
USERS_PER_DIRECTORY: Final = 2_000  # people cached per workspace (OAuth mode)


@dataclass(frozen=True, slots=True)
class InstallKey:
    """How the installation store names a tenant's installation."""

    enterprise_id: str | None
    team_id: str | None  # None for an org-wide install
    org_wide: bool = False


class TenantDirectories:
    """One ``Directory`` per workspace (users.info and user groups cached apart, so one
    workspace's answers never serve another), the least recently used dropped first."""

    def __init__(self, *, max_tenants: int = MAX_DIRECTORIES) -> None:
        self.max_tenants = max_tenants
        self._by_tenant: OrderedDict[str, Directory] = OrderedDict()

    def get(self, tenant: str, client: AsyncWebClient) -> Directory:
        """The tenant's directory, asking Slack with ``client`` (the request's own token)."""
        directory = self._by_tenant.get(tenant)
        if directory is None:
            directory = Directory(client, max_users=USERS_PER_DIRECTORY)
            self._by_tenant[tenant] = directory
            while len(self._by_tenant) > self.max_tenants:
                self._by_tenant.popitem(last=False)
        else:
            # Any of the tenant's valid tokens will do; a rotated one stays valid a while.
            directory.client = client
        self._by_tenant.move_to_end(tenant)
        return directory

    def forget(self, tenant: str) -> None:
        self._by_tenant.pop(tenant, None)


@dataclass(frozen=True, slots=True)
class _Applied:
    stored: WorkspacePolicy | None
    base: AccessSettings
    settings: AccessSettings


@dataclass(slots=True)
class Workspaces:
    """Per-workspace settings, installations (OAuth mode) and uninstall clean-up."""

    oauth: bool
    policies: PolicyStore
    installations: InstallationStore | None = None
    states: SignedStateStore | None = None
    uninstall_hooks: UninstallHooks = field(default_factory=UninstallHooks)
    directories: TenantDirectories = field(default_factory=TenantDirectories)
    # The last settings put together per tenant, with what they were made from: a request
    # whose inputs are the same objects gets the same object back, so the request
    # middleware can reuse what it built from it (bot.slack.tenancy) before the ack.
    _applied: OrderedDict[str, _Applied] = field(default_factory=OrderedDict)

    async def access_settings(self, tenant: str, base: AccessSettings) -> AccessSettings:
        """``base`` (the environment's) with the tenant's stored settings. Who installed
        MediaLink is no admin for it: anyone allowed to install apps can reinstall, so
        in OAuth mode Slack's own admins and owners count instead (``bot.slack.tenancy``;
        docs/slack.md, Installing in several workspaces). Raises ``SettingsUnavailable``."""
        stored = await self.policies.get(tenant)
        last = self._applied.get(tenant)
        if last is not None and last.stored is stored and last.base is base:
            return last.settings
        settings = base if stored is None else stored.applied_to(base)
        self._applied[tenant] = _Applied(stored, base, settings)
        self._applied.move_to_end(tenant)
        while len(self._applied) > self.policies.max_tenants:
            self._applied.popitem(last=False)
        return settings

    async def current(self, tenant: str, base: AccessSettings) -> WorkspacePolicy:
        """What the tenant's settings are now (to edit): stored, or the environment's."""
        return await self.policies.get(tenant) or WorkspacePolicy.defaults(base)

    def forget(self, tenant: str) -> None:
        """Drop what is cached for the tenant (installed anew)."""
        self._applied.pop(tenant, None)
        self.directories.forget(tenant)

    async def uninstalled(self, tenant: str, key: InstallKey) -> list[str]:
        """MediaLink was uninstalled from the tenant: its installation, settings and every
        registered part's rows go. The names of the parts that failed."""
        failed: list[str] = []
        if self.installations is not None:
            try:
                await self.installations.async_delete_all(
                    enterprise_id=key.enterprise_id,
                    team_id=None if key.org_wide else key.team_id,
                )
            except Exception as error:
                logger.error(  # noqa: TRY400 - the type only: the error may quote the row
                    "uninstall: deleting the installation failed (%s)", type(error).__name__
                )
                failed.append("installation")
        try:
            await self.policies.delete(tenant)
        except Exception as error:
            logger.error(  # noqa: TRY400 - the type only: the error may quote the row
                "uninstall: deleting the settings failed (%s)", type(error).__name__
            )
            failed.append("settings")
        self.forget(tenant)
        failed += await self.uninstall_hooks.run(tenant)
        return failed


def build_workspaces(
    *,
    engine: AsyncEngine,
    ready: Callable[[], Awaitable[None]],
    oauth_client_id: str | None = None,
    state_secret: bytes | None = None,
) -> Workspaces:
    """Per-workspace settings on ``engine``; installations and states too when
    ``oauth_client_id`` and ``state_secret`` are given (OAuth mode)."""
    policies = PolicyStore(engine, ready=ready)
    if oauth_client_id is None or state_secret is None:
        return Workspaces(oauth=False, policies=policies)
    return Workspaces(
        oauth=True,
        policies=policies,
        installations=InstallationStore(oauth_client_id, engine),
        states=SignedStateStore(engine, state_secret),
    )
