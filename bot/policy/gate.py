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
        # Usually all of it is cached: answered on the spot, with no task and no turn of
        # the event loop on the way to the ack.
        known = self._from_cache(asker.user_id, home_team, home_enterprise)
        try:
            # Else asked together: each call has its own deadline, and one after another
            # they would outlast Slack's wait for the ack (docs/slack.md, Acknowledging).
            home, facts, groups = known or await asyncio.gather(
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

    async def admin(self, user_id: str) -> bool:
        """``policy.is_admin``, asking Slack first when the policy counts Slack's admins
        and the person is not cached (for entries the access check does not cover, such
        as the App Home). Slack not answering: not an admin (fail closed)."""
        policy = self.policy
        if policy.is_admin(user_id) or policy.slack_admins is None:
            return policy.is_admin(user_id)
        try:
            facts = await self.directory.user(user_id)
        except DirectoryUnavailable as error:
            logger.warning("admin check: %s", error)
            return False
        return facts.known and not facts.deleted and facts.admin

    def _from_cache(
        self, user_id: str, team: str | None, enterprise: str | None
    ) -> tuple[tuple[str | None, str | None], UserFacts | None, frozenset[str]] | None:
        """What ``_home``, ``_facts`` and ``_groups`` would answer, when the cache has it all."""
        directory = self.directory
        home = (team, enterprise) if team is not None or enterprise is not None else None
        home = home or directory.cached_home()
        if home is None:
            return None
        facts = None
        if self.policy.needs_user_facts:
            facts = directory.cached_user(user_id)
            if facts is None:
                return None
        groups: frozenset[str] = frozenset()
        if self._groups_matter(user_id):
            cached = directory.cached_groups_of(user_id, self.policy.settings.allowed_usergroups)
            if cached is None:
                return None
            groups = cached
        return home, facts, groups

    def _groups_matter(self, user_id: str) -> bool:
        policy = self.policy
        return (
            policy.needs_groups
            and not policy.is_admin(user_id)
            and user_id not in policy.settings.allowed_users
        )

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
        if not self._groups_matter(user_id):
            return frozenset()
        return await self.directory.groups_of(user_id, self.policy.settings.allowed_usergroups)
