"""Bolt middleware: which workspace a request is served for, and that workspace's rules.

Runs after ``RequestContext`` and before ``AccessControl``. It names the tenant
(``bot.tenancy.tenant_of``: the workspace, or the org of an org-wide install), so that
everything recorded while serving the request is stamped with it, and puts in the
context that tenant's policy (the environment's settings with the workspace's own
stored ones) and the access gate to check it with. In OAuth mode the gate asks Slack
with the request's own token and caches per workspace, and the listeners read only the
tenant's rows of the record (``SlackDeps.tenant``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.policy import AccessGate, AccessPolicy, Asker, Decision, Directory, Reason, Refusal
from bot.slack.access import GATE_KEY
from bot.slack.middleware import DEPS_KEY, deps_of
from bot.tenancy import current_tenant, tenant_of
from bot.workspaces.policy import SettingsUnavailable
from bot.workspaces.service import InstallKey, Workspaces

logger = logging.getLogger("bot.slack")

SETTINGS_UNREADABLE = (
    "I could not read this workspace's MediaLink settings just now. Try again in a moment."
)


class SettingsUnavailableGate(AccessGate):
    """Refuses every request (fail closed) while the workspace's settings cannot be read."""

    async def check(
        self, asker: Asker, *, home_team: str | None, home_enterprise: str | None
    ) -> Decision:
        return Refusal(reason=Reason.UNAVAILABLE, message=SETTINGS_UNREADABLE)


class TenantScope(AsyncMiddleware):
    """Name the request's tenant and give it its own policy and access gate."""

    def __init__(
        self, workspaces: Workspaces, policy: AccessPolicy, directory: Directory | None
    ) -> None:
        self.workspaces = workspaces
        self.policy = policy  # the environment's
        self.directory = directory  # single-workspace mode: the bot token's, shared

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        context = req.context
        org_wide = context.is_enterprise_install is True
        try:
            tenant = tenant_of(context.team_id, context.enterprise_id, enterprise_install=org_wide)
        except ValueError:
            return await next()  # no workspace named: nothing of any tenant is served
        current_tenant.set(tenant)
        oauth = self.workspaces.oauth
        base = self.policy.settings
        key = None
        if oauth:
            # Each installation serves its own workspace (or org): MEDIALINK_ALLOWED_TEAMS
            # does not limit who installs (docs/slack.md, Installing in several workspaces).
            base = replace(base, allowed_teams=frozenset())
            key = InstallKey(context.enterprise_id, context.team_id, org_wide)
        gate: AccessGate
        try:
            access = await self.workspaces.access_settings(tenant, base, key)
        except SettingsUnavailable:
            policy = replace(self.policy, settings=base)
            if oauth:  # fail closed: nothing of an installation works without its database
                gate = SettingsUnavailableGate(policy, self._directory(tenant, req))
            else:
                # One workspace keeps making links while the database is down, under the
                # environment's settings (docs/slack.md, Installing in several workspaces).
                gate = AccessGate(policy, self._directory(tenant, req))
        else:
            policy = replace(self.policy, settings=access)
            gate = AccessGate(policy, self._directory(tenant, req))
        deps = deps_of(context)
        context[DEPS_KEY] = replace(
            deps,
            policy=policy,
            share_enabled=policy.settings.share_enabled,
            tenant=tenant if oauth else None,
        )
        context[GATE_KEY] = gate
        return await next()

    def _directory(self, tenant: str, req: AsyncBoltRequest) -> Directory:
        client = req.context.client
        if self.workspaces.oauth and client is not None:
            return self.workspaces.directories.get(tenant, client)
        if self.directory is None:
            raise LookupError("no Slack directory for a single-workspace request")
        return self.directory
