"""Several workspaces: MediaLink installed through Slack's OAuth flow, one tenant each.

Every per-workspace row is keyed by its tenant (``bot.tenancy.tenant_of``): the
workspace's team ID, or the org's enterprise ID for an Enterprise Grid org-wide install.

- ``stores``: installations (Slack's async SQLAlchemy store, on the audit trail's
  database) and the install flow's one-time signed states.
- ``oauth``: Bolt's ``AsyncOAuthSettings`` for ``/slack/install`` and
  ``/slack/oauth_redirect``, with token rotation.
- ``policy``: each workspace's access settings, stored, the environment's as defaults.
- ``UninstallHooks`` (here): what runs when a workspace uninstalls MediaLink or revokes
  its tokens. Any part of MediaLink that keeps rows per tenant registers a hook at start
  (``services.workspaces.uninstall_hooks.register("sites", delete_sites)``); each is
  called with the tenant, under a deadline, and one failing does not stop the others.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Final

logger = logging.getLogger(__name__)

UninstallHook = Callable[[str], Awaitable[None]]
HOOK_TIMEOUT: Final = 10.0  # seconds for one hook


class UninstallHooks:
    """Named async callbacks run with the tenant MediaLink was uninstalled from."""

    def __init__(self, *, timeout: float = HOOK_TIMEOUT) -> None:
        self.timeout = timeout
        self._hooks: dict[str, UninstallHook] = {}

    def register(self, name: str, hook: UninstallHook) -> None:
        """Run ``hook(tenant)`` on every uninstall; ``name`` (unique) is for the logs."""
        if name in self._hooks:
            raise ValueError(f"an uninstall hook named {name!r} is registered already")
        self._hooks[name] = hook

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._hooks)

    async def run(self, tenant: str) -> list[str]:
        """Call every hook (together); the names of those that failed, each logged."""
        names = list(self._hooks)
        outcomes = await asyncio.gather(
            *(self._one(name, tenant) for name in names), return_exceptions=True
        )
        failed = []
        for name, outcome in zip(names, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                failed.append(name)
                logger.error(
                    "uninstall: cleaning up %s for %s failed (%s)",
                    name,
                    tenant,
                    type(outcome).__name__,
                )
        return failed

    async def _one(self, name: str, tenant: str) -> None:
        async with asyncio.timeout(self.timeout):
            await self._hooks[name](tenant)
