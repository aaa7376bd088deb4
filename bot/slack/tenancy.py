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

import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.policy import (
    AccessGate,
    AccessPolicy,
    AccessSettings,
    Asker,
    Decision,
    Directory,
    Reason,
    Refusal,
)
from bot.slack.access import GATE_KEY
from bot.slack.middleware import DEPS_KEY, deps_of
from bot.tenancy import current_tenant, tenant_of
from bot.workspaces.policy import SettingsUnavailable
from bot.workspaces.service import Workspaces

if TYPE_CHECKING:
    from bot.slack.listeners import SlackDeps

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


# Tenants whose last request's policy, gate and deps are kept for reuse.
MAX_SCOPED_TENANTS = 10_000


@dataclass(frozen=True, slots=True)
class _Scoped:
    access: AccessSettings
    given: SlackDeps
    directory: Directory
    gate: AccessGate
    deps: SlackDeps


class TenantScope(AsyncMiddleware):
    """Name the request's tenant and give it its own policy and access gate."""

    def __init__(
        self, workspaces: Workspaces, policy: AccessPolicy, directory: Directory | None
    ) -> None:
        self.workspaces = workspaces
        self.policy = policy  # the environment's
        self.directory = directory  # single-workspace mode: the bot token's, shared
        # Each installation serves its own workspace (or org): MEDIALINK_ALLOWED_TEAMS does
        # not limit who installs (docs/slack.md, Installing in several workspaces).
        self.base = (
            replace(policy.settings, allowed_teams=frozenset())
            if workspaces.oauth
            else policy.settings
        )
        # What was built for each tenant's last request, reused while its settings, the
        # listeners' deps and its directory are the same objects: this runs before every
        # ack, and a burst's acks each wait for all the others' (docs/architecture.md).
        self._scoped: OrderedDict[str, _Scoped] = OrderedDict()

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
            if self.workspaces.oauth:
                # Fail closed: a request that names no workspace cannot be told apart
                # from any installation's, so no listener runs (nothing read, nothing
                # changed). One workspace's app has only its own rows to serve.
                logger.warning("a request named no workspace; in OAuth mode it is ignored")
                return _nothing_served(req)
            return await next()
        current_tenant.set(tenant)
        oauth = self.workspaces.oauth
        base = self.base
        gate: AccessGate
        try:
            access = await self.workspaces.access_settings(tenant, base)
        except SettingsUnavailable:
            policy = self._policy(base, self._directory(tenant, req))
            if oauth:  # fail closed: nothing of an installation works without its database
                gate = SettingsUnavailableGate(policy, self._directory(tenant, req))
            else:
                # One workspace keeps making links while the database is down, under the
                # environment's settings (docs/slack.md, Installing in several workspaces).
                gate = AccessGate(policy, self._directory(tenant, req))
        else:
            deps = deps_of(context)
            directory = self._directory(tenant, req)
            last = self._scoped.get(tenant)
            if (
                last is None
                or last.access is not access
                or last.given is not deps
                or last.directory is not directory
            ):
                policy = self._policy(access, directory)
                last = _Scoped(
                    access=access,
                    given=deps,
                    directory=directory,
                    gate=AccessGate(policy, directory),
                    deps=replace(
                        deps,
                        policy=policy,
                        share_enabled=policy.settings.share_enabled,
                        tenant=tenant if oauth else None,
                    ),
                )
                self._remember(tenant, last)
            context[DEPS_KEY] = last.deps
            context[GATE_KEY] = last.gate
            return await next()
        deps = deps_of(context)
        context[DEPS_KEY] = replace(
            deps,
            policy=policy,
            share_enabled=policy.settings.share_enabled,
            tenant=tenant if oauth else None,
        )
        context[GATE_KEY] = gate
        return await next()

    def _policy(self, access: AccessSettings, directory: Directory) -> AccessPolicy:
        """The tenant's policy. In OAuth mode Slack's own admins and owners are MediaLink
        admins there (not whoever installed it last: anyone allowed to install apps can
        reinstall), read from the tenant's directory, which the access check fills
        (docs/slack.md, Installing in several workspaces)."""
        if not self.workspaces.oauth:
            return replace(self.policy, settings=access)
        return replace(self.policy, settings=access, slack_admins=directory.cached_admin)

    def _remember(self, tenant: str, scoped: _Scoped) -> None:
        self._scoped[tenant] = scoped
        self._scoped.move_to_end(tenant)
        while len(self._scoped) > MAX_SCOPED_TENANTS:
            self._scoped.popitem(last=False)

    def _directory(self, tenant: str, req: AsyncBoltRequest) -> Directory:
        client = req.context.client
        if self.workspaces.oauth and client is not None:
            return self.workspaces.directories.get(tenant, client)
        if self.directory is None:
            raise LookupError("no Slack directory for a single-workspace request")
        return self.directory


NO_WORKSPACE = (
    "MediaLink could not tell which workspace this came from, so it did nothing. "
    "Try again from the workspace where MediaLink is installed."
)


def _nothing_served(req: AsyncBoltRequest) -> BoltResponse:
    """The answer to a request served as no tenant: a sentence for the command, an empty
    acknowledgement for the rest (an event Slack would otherwise send again)."""
    if "command" in req.body:
        return BoltResponse(
            status=200,
            body=json.dumps({"response_type": "ephemeral", "text": NO_WORKSPACE}),
            headers={"content-type": "application/json"},
        )
    return BoltResponse(status=200, body="")
