"""``AccessGate``: the request's identity gathered (from the cache when it can) and judged.

The payload says who and where; ``Directory`` adds what only Slack knows (guest, the
user's own organisation, user groups), and ``AccessPolicy.decide`` judges. A Slack
failure while gathering refuses with "try again" (fail closed), and is logged.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from bot.policy.access import AccessPolicy, Decision, Identity
from bot.policy.directory import Directory, DirectoryUnavailable, UserFacts

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Asker:
    """What the payload says about a request: who, through which workspace, where."""

    user_id: str
    team_id: str | None
    enterprise_id: str | None = None
    channel_id: str | None = None
    channel_pending: bool = False  # the global shortcut: the form picks the conversation
    user_team_id: str | None = None  # ``user.team_id`` of an interactive payload


class AccessGate:
    """Judges a request with the policy, asking the directory only for what it needs."""

    def __init__(self, policy: AccessPolicy, directory: Directory) -> None:
        self.policy = policy
        self.directory = directory

    async def check(
        self, asker: Asker, *, home_team: str | None, home_enterprise: str | None
    ) -> Decision:
        policy = self.policy
        try:
            # Asked together: each call has its own deadline, and one after another
            # they would outlast Slack's wait for the ack (docs/slack.md, 3 seconds).
            home, facts, groups = await asyncio.gather(
                self._home(home_team, home_enterprise),
                self._facts(asker.user_id),
                self._groups(asker.user_id),
            )
        except DirectoryUnavailable as error:
            logger.warning("access check refused: %s", error)
            return policy.unavailable()
        user_team, user_enterprise = asker.user_team_id, None
        guest: bool | None = None
        deleted = False
        if facts is not None:
            guest = facts.guest
            deleted = not facts.known or facts.deleted
            user_team = facts.team_id or user_team
            user_enterprise = facts.enterprise_id
        identity = Identity(
            user_id=asker.user_id,
            team_id=asker.team_id,
            enterprise_id=asker.enterprise_id,
            channel_id=asker.channel_id,
            channel_pending=asker.channel_pending,
            user_team_id=user_team,
            user_enterprise_id=user_enterprise,
            guest=guest,
            deleted=deleted,
            groups=groups,
        )
        return policy.decide(identity, home_team=home[0], home_enterprise=home[1])

    async def _home(
        self, team: str | None, enterprise: str | None
    ) -> tuple[str | None, str | None]:
        if team is None and enterprise is None:
            return await self.directory.home()
        return team, enterprise

    async def _facts(self, user_id: str) -> UserFacts | None:
        """``users.info``, when the policy needs it (guest, deleted, own organisation)."""
        if not self.policy.needs_user_facts:
            return None
        return await self.directory.user(user_id)

    async def _groups(self, user_id: str) -> frozenset[str]:
        """The policy's user groups ``user_id`` is in, when that can matter."""
        policy = self.policy
        allowed = policy.settings
        if not policy.needs_groups or policy.is_admin(user_id) or user_id in allowed.allowed_users:
            return frozenset()
        return await self.directory.groups_of(user_id, allowed.allowed_usergroups)
