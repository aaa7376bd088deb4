"""``AccessGate``: the request's identity gathered (from the cache when it can) and judged.

The payload says who and where; ``Directory`` adds what only Slack knows (guest, the
user's own organisation, user groups), and ``AccessPolicy.decide`` judges. A Slack
failure while gathering refuses with "try again" (fail closed), and is logged.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.policy.access import AccessPolicy, Decision, Identity
from bot.policy.directory import Directory, DirectoryUnavailable

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
            if home_team is None and home_enterprise is None:
                home_team, home_enterprise = await self.directory.home()
            user_team, user_enterprise = asker.user_team_id, None
            guest: bool | None = None
            deleted = False
            if policy.needs_user_facts:
                facts = await self.directory.user(asker.user_id)
                if not facts.known:
                    deleted = True
                guest = facts.guest
                deleted = deleted or facts.deleted
                user_team = facts.team_id or user_team
                user_enterprise = facts.enterprise_id
            groups: frozenset[str] = frozenset()
            settings = policy.settings
            if (
                policy.needs_groups
                and not policy.is_admin(asker.user_id)
                and asker.user_id not in settings.allowed_users
            ):
                groups = await self.directory.groups_of(asker.user_id, settings.allowed_usergroups)
        except DirectoryUnavailable as error:
            logger.warning("access check refused: %s", error)
            return policy.unavailable()
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
        return policy.decide(identity, home_team=home_team, home_enterprise=home_enterprise)
