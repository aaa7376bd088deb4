"""What Slack knows about a person, asked once and kept briefly: ``Directory``.

``users.info`` (guest or not, deactivated, admin or owner, the user's own workspace and
org) and
``usergroups.users.list`` (who is in a group) are cached for ``ttl`` seconds, at most
``max_entries`` each, and concurrent asks for the same key share one call. Every call
has a deadline. A failure raises ``DirectoryUnavailable``: the caller refuses (fail
closed) and says "try again" (docs/slack.md, Who is asking).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine, Hashable, Iterable
from dataclasses import dataclass
from typing import Any, Final, Generic, TypeVar

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

logger = logging.getLogger(__name__)

CACHE_TTL: Final = 300.0  # seconds a fact is kept: a removed person loses access within it
MAX_USERS: Final = 10_000  # people remembered at once
MAX_GROUPS: Final = 1_000  # user groups remembered at once (the setting allows 1000)
LOOKUP_TIMEOUT: Final = 2.0  # seconds for one Slack call: the ack is due within 3
# users.info answers that mean "no such person here": refused, not "try again".
_UNKNOWN_USER_ERRORS: Final = frozenset({"user_not_found", "user_not_visible"})
# usergroups.users.list answers that mean the group cannot be used: nobody is in it.
_UNUSABLE_GROUP_ERRORS: Final = frozenset({"no_such_subteam", "plan_upgrade_required"})

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class DirectoryUnavailable(Exception):
    """Slack could not be asked (error, rate limit or deadline); ``str()`` is safe to log."""


@dataclass(frozen=True, slots=True)
class UserFacts:
    """What ``users.info`` says about one person."""

    user_id: str
    known: bool  # False: Slack does not know (or will not show) this person
    team_id: str | None = None
    enterprise_id: str | None = None
    guest: bool = False
    deleted: bool = False
    admin: bool = False  # an admin, owner or primary owner of the workspace (or org)


class TtlCache(Generic[K, V]):
    """A bounded map whose entries expire; the least recently stored go first."""

    def __init__(self, *, ttl: float, max_entries: int, clock: Callable[[], float]) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K) -> V | None:
        found = self._items.get(key)
        if found is None:
            return None
        stored, value = found
        if self._clock() - stored >= self.ttl:
            del self._items[key]
            return None
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = (self._clock(), value)
        self._items.move_to_end(key)
        while len(self._items) > self.max_entries:
            self._items.popitem(last=False)


class _SingleFlight(Generic[K, V]):
    """Concurrent asks for one key share one call (a burst of clicks, one users.info).

    The call is a task of its own: an asker cancelled (its request gone) stops waiting,
    and the others still get the answer, not the cancellation. The call's own deadline
    bounds it when nobody waits any more."""

    def __init__(self) -> None:
        self._calls: dict[K, asyncio.Task[V]] = {}

    async def run(self, key: K, call: Callable[[], Coroutine[Any, Any, V]]) -> V:
        running = self._calls.get(key)
        if running is None:
            running = asyncio.create_task(call())
            self._calls[key] = running
            running.add_done_callback(lambda done: self._finished(key, done))
        return await asyncio.shield(running)

    def _finished(self, key: K, done: asyncio.Task[V]) -> None:
        if self._calls.get(key) is done:
            del self._calls[key]
        if not done.cancelled():
            done.exception()  # retrieved: no "never retrieved" warning without askers


class Directory:
    """Slack's answers about people and user groups, cached briefly and bounded."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        ttl: float = CACHE_TTL,
        max_users: int = MAX_USERS,
        max_groups: int = MAX_GROUPS,
        timeout: float = LOOKUP_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.timeout = timeout
        self._users: TtlCache[str, UserFacts] = TtlCache(
            ttl=ttl, max_entries=max_users, clock=clock
        )
        self._groups: TtlCache[str, frozenset[str]] = TtlCache(
            ttl=ttl, max_entries=max_groups, clock=clock
        )
        self._user_calls: _SingleFlight[str, UserFacts] = _SingleFlight()
        self._group_calls: _SingleFlight[str, frozenset[str]] = _SingleFlight()
        self._home: tuple[str | None, str | None] | None = None

    def cached_user(self, user_id: str) -> UserFacts | None:
        return self._users.get(user_id)

    def cached_admin(self, user_id: str) -> bool:
        """Whether Slack said, within the cache's ttl, that ``user_id`` is an admin or
        owner here; False when not known (no call: ``user`` asks)."""
        facts = self._users.get(user_id)
        return facts is not None and facts.known and not facts.deleted and facts.admin

    async def user(self, user_id: str) -> UserFacts:
        """``users.info``, from the cache when fresh. Raises ``DirectoryUnavailable``."""
        cached = self._users.get(user_id)
        if cached is not None:
            return cached
        return await self._user_calls.run(user_id, lambda: self._fetch_user(user_id))

    async def groups_of(self, user_id: str, groups: Iterable[str]) -> frozenset[str]:
        """Which of ``groups`` have ``user_id`` as a member. Raises ``DirectoryUnavailable``."""
        wanted = sorted(groups)
        members = await asyncio.gather(*(self.members(group) for group in wanted))
        return frozenset(g for g, people in zip(wanted, members, strict=True) if user_id in people)

    async def members(self, group_id: str) -> frozenset[str]:
        cached = self._groups.get(group_id)
        if cached is not None:
            return cached
        return await self._group_calls.run(group_id, lambda: self._fetch_group(group_id))

    async def home(self) -> tuple[str | None, str | None]:
        """The bot token's workspace and org (``auth.test``, asked once)."""
        if self._home is None:
            try:
                answer = await self._call("auth.test", self.client.auth_test)
            except _SlackRefused as refused:
                raise DirectoryUnavailable(f"auth.test failed: {refused.error}") from None
            self._home = (_str(answer.get("team_id")), _str(answer.get("enterprise_id")))
        return self._home

    def cached_home(self) -> tuple[str | None, str | None] | None:
        return self._home

    def cached_groups_of(self, user_id: str, groups: Iterable[str]) -> frozenset[str] | None:
        """``groups_of`` from the cache alone; None when a group is not cached (or stale)."""
        found = set()
        for group in groups:
            members = self._groups.get(group)
            if members is None:
                return None
            if user_id in members:
                found.add(group)
        return frozenset(found)

    def remember_home(self, team_id: str | None, enterprise_id: str | None) -> None:
        """What Bolt's authorization already learnt from ``auth.test``."""
        if team_id or enterprise_id:
            self._home = (team_id, enterprise_id)

    # -- Slack calls -------------------------------------------------------------------

    async def _fetch_user(self, user_id: str) -> UserFacts:
        try:
            answer = await self._call("users.info", lambda: self.client.users_info(user=user_id))
        except _SlackRefused as refused:
            if refused.error not in _UNKNOWN_USER_ERRORS:
                raise DirectoryUnavailable(f"users.info failed: {refused.error}") from None
            facts = UserFacts(user_id=user_id, known=False)
        else:
            user = answer.get("user")
            facts = _user_facts(user_id, user if isinstance(user, dict) else {})
        self._users.put(user_id, facts)
        return facts

    async def _fetch_group(self, group_id: str) -> frozenset[str]:
        try:
            answer = await self._call(
                "usergroups.users.list",
                lambda: self.client.usergroups_users_list(usergroup=group_id),
            )
        except _SlackRefused as refused:
            if refused.error not in _UNUSABLE_GROUP_ERRORS:
                raise DirectoryUnavailable(
                    f"usergroups.users.list failed: {refused.error}"
                ) from None
            logger.warning(
                "user group %s in MEDIALINK_ALLOWED_USERGROUPS cannot be read (%s): "
                "nobody gets in through it",
                group_id,
                refused.error,
            )
            members: frozenset[str] = frozenset()
        else:
            users = answer.get("users")
            members = (
                frozenset(u for u in users if isinstance(u, str))
                if isinstance(users, list)
                else frozenset()
            )
        self._groups.put(group_id, members)
        return members

    async def _call(self, method: str, call: Callable[[], Awaitable[Any]]) -> dict[str, Any]:
        try:
            async with asyncio.timeout(self.timeout):
                response = await call()
        except SlackApiError as error:
            data = error.response.data
            found = data.get("error") if isinstance(data, dict) else None
            code = str(found or f"HTTP {error.response.status_code}")
            logger.warning("%s refused: %s", method, code)
            raise _SlackRefused(code) from None
        except (TimeoutError, SlackClientError, OSError) as error:
            logger.warning("%s failed: %s", method, type(error).__name__)
            raise DirectoryUnavailable(f"{method} failed: {type(error).__name__}") from None
        data = response.data if hasattr(response, "data") else response
        return data if isinstance(data, dict) else {}


class _SlackRefused(Exception):
    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


def _user_facts(user_id: str, user: dict[str, Any]) -> UserFacts:
    enterprise_user = user.get("enterprise_user")
    enterprise_id = (
        _str(enterprise_user.get("enterprise_id")) if isinstance(enterprise_user, dict) else None
    )
    return UserFacts(
        user_id=user_id,
        known=True,
        team_id=_str(user.get("team_id")),
        enterprise_id=enterprise_id,
        guest=user.get("is_restricted") is True or user.get("is_ultra_restricted") is True,
        deleted=user.get("deleted") is True,
        # Slack's own roles (docs/slack.md, Installing in several workspaces).
        admin=any(user.get(flag) is True for flag in ("is_admin", "is_owner", "is_primary_owner")),
    )


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
