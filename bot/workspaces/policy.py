"""Each workspace's own access settings: stored per tenant, the environment's as defaults.

A workspace's admins change them from App Home (``bot.slack.listeners.workspaces``); the
row holds every editable setting, so what is stored is what applies. ``PolicyStore``
keeps each tenant's row for ``ttl`` seconds: a change made on one replica applies there
at once and on the others within ``ttl``, with no restart. While the database cannot be
read a tenant's last known settings stay in use; with none known, ``get`` raises
``SettingsUnavailable`` (bot.slack.tenancy decides: OAuth mode refuses, one workspace
goes on under the environment's settings).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.policy import AccessSettings, PrivateFiles, ZipAccess
from bot.workspaces.schema import workspace_settings

logger = logging.getLogger(__name__)

SETTINGS_TTL: Final = 15.0  # seconds before another replica's change is seen here
MAX_TENANTS: Final = 1000  # tenants' settings kept in memory at once
MAX_IDS: Final = 1000  # per list, as the environment's lists (bot.config)
# Seconds for one read: it happens before the ack (docs/slack.md, Acknowledging) on a miss.
READ_TIMEOUT: Final = 2.0
WRITE_TIMEOUT: Final = 10.0

_ID = re.compile(r"[A-Z0-9]{2,40}")
_PREFIXES: Final = {
    "allowed_channels": ("C", "G", "D"),
    "allowed_users": ("U", "W"),
    "allowed_usergroups": ("S",),
    "admins": ("U", "W"),
}

IdTuple = Annotated[tuple[str, ...], Field(max_length=MAX_IDS)]


class WorkspacePolicy(BaseModel):
    """What a workspace's admins may set; the rest (link rules, teams) stays the
    environment's. Lists hold Slack IDs; an empty list means no restriction of that kind."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    allowed_channels: IdTuple = ()
    allowed_users: IdTuple = ()
    allowed_usergroups: IdTuple = ()
    admins: IdTuple = ()  # added to MEDIALINK_ADMINS (and, in OAuth mode, Slack's admins)
    allow_guests: bool = False
    allow_external: bool = False
    private_files: Literal["everyone", "admins", "nobody"] = "admins"
    zip: Literal["false", "admins", "everyone"] = "false"
    share_enabled: bool = True

    @field_validator(*_PREFIXES)
    @classmethod
    def _ids(cls, value: tuple[str, ...], info: Any) -> tuple[str, ...]:
        prefixes = _PREFIXES[str(info.field_name)]
        bad = [item for item in value if not (_ID.fullmatch(item) and item.startswith(prefixes))]
        if bad:
            raise ValueError(f"{bad[0][:40]!r} is not such an ID")
        return tuple(sorted(set(value)))

    @classmethod
    def defaults(cls, access: AccessSettings) -> WorkspacePolicy:
        """The environment's settings, as a workspace starts with them."""
        return cls(
            allowed_channels=tuple(sorted(access.allowed_channels)),
            allowed_users=tuple(sorted(access.allowed_users)),
            allowed_usergroups=tuple(sorted(access.allowed_usergroups)),
            admins=(),
            allow_guests=access.allow_guests,
            allow_external=access.allow_external,
            private_files=access.private_files.value,
            zip=access.zip.value,
            share_enabled=access.share_enabled,
        )

    def applied_to(self, access: AccessSettings) -> AccessSettings:
        """The environment's ``access`` with this workspace's settings in force."""
        return replace(
            access,
            allowed_channels=frozenset(self.allowed_channels),
            allowed_users=frozenset(self.allowed_users),
            allowed_usergroups=frozenset(self.allowed_usergroups),
            admins=access.admins | frozenset(self.admins),
            allow_guests=self.allow_guests,
            allow_external=self.allow_external,
            private_files=PrivateFiles(self.private_files),
            zip=ZipAccess(self.zip),
            share_enabled=self.share_enabled,
        )


class SettingsUnavailable(Exception):
    """A tenant's stored settings cannot be read now, and none are known."""


@dataclass(frozen=True, slots=True)
class _Known:
    read_at: float
    policy: WorkspacePolicy | None  # None: nothing stored, the environment's apply


def _quietly(task: asyncio.Task[WorkspacePolicy | None]) -> None:
    """A background read's failure was logged by ``get``'s next caller, or is harmless:
    the entry it meant to refresh is still fresh. Retrieve it so asyncio does not warn."""
    if not task.cancelled() and task.exception() is not None:
        logger.info("a background read of a workspace's settings failed; will retry")


class PolicyStore:
    """Each tenant's stored ``WorkspacePolicy``, read through a short, bounded cache."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        ready: Callable[[], Awaitable[None]] | None = None,
        ttl: float = SETTINGS_TTL,
        max_tenants: int = MAX_TENANTS,
        timeout: float = READ_TIMEOUT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.engine = engine
        self._ready = ready  # migrates the schema on first use (the audit trail's)
        self.ttl = ttl
        self.max_tenants = max_tenants
        self.timeout = timeout
        self._clock = clock
        self._known: OrderedDict[str, _Known] = OrderedDict()
        self._reading: dict[str, asyncio.Task[WorkspacePolicy | None]] = {}
        # Awaited before a background read (``Dispatcher.calm``, set by ``build_app``): the
        # request that starts one is the first of a burst as often as not, and the read
        # must not share the loop with that burst's acks.
        self.give_way: Callable[[], Awaitable[None]] | None = None

    def cached(self, tenant: str) -> tuple[bool, WorkspacePolicy | None]:
        """(fresh, policy): whether the cache answers now, and what it holds."""
        known = self._known.get(tenant)
        if known is None or self._clock() - known.read_at >= self.ttl:
            return False, None
        return True, known.policy

    async def get(self, tenant: str) -> WorkspacePolicy | None:
        """The tenant's stored settings (None: the environment's). Raises
        ``SettingsUnavailable`` when the database cannot answer and nothing is known."""
        fresh, policy = self.cached(tenant)
        if fresh:
            known = self._known.get(tenant)
            if known is not None and self._clock() - known.read_at >= self.ttl / 2:
                # Read again in the background while the entry is still fresh, so that
                # with steady traffic no request (and no ack) ever waits for the database.
                self._reading_task(tenant, background=True).add_done_callback(_quietly)
            return policy
        reading = self._reading_task(tenant)
        try:
            return await asyncio.shield(reading)
        except Exception as error:
            known = self._known.get(tenant)
            logger.warning(
                "could not read a workspace's settings (%s)%s",
                type(error).__name__,
                "; using the last known" if known is not None else "",
            )
            if known is not None:
                return known.policy
            raise SettingsUnavailable from None

    def _reading_task(
        self, tenant: str, *, background: bool = False
    ) -> asyncio.Task[WorkspacePolicy | None]:
        """The tenant's read under way, or a new one (one at a time per tenant); a
        ``background`` one first gives way to pending acks."""
        reading = self._reading.get(tenant)
        if reading is None:
            read = self._read(tenant, give_way=self.give_way if background else None)
            reading = asyncio.create_task(read)
            self._reading[tenant] = reading
            reading.add_done_callback(lambda _: self._reading.pop(tenant, None))
        return reading

    async def _read(
        self, tenant: str, *, give_way: Callable[[], Awaitable[None]] | None = None
    ) -> WorkspacePolicy | None:
        if give_way is not None:
            await give_way()  # bounded: the dispatcher's calm waits 250 ms at most
        if self._ready is not None:
            await self._ready()  # done at start by `serve`; bounded by its own deadline
        async with asyncio.timeout(self.timeout):
            async with self.engine.connect() as connection:
                text = await connection.scalar(
                    sa.select(workspace_settings.c.settings).where(
                        workspace_settings.c.tenant_id == tenant
                    )
                )
        policy = _parse(text) if isinstance(text, str) else None
        self._remember(tenant, policy)
        return policy

    def _remember(self, tenant: str, policy: WorkspacePolicy | None) -> None:
        before = self._known.get(tenant)
        if before is not None and before.policy == policy:
            policy = before.policy  # the same object while unchanged: what is built on it stays
        self._known[tenant] = _Known(self._clock(), policy)
        self._known.move_to_end(tenant)
        while len(self._known) > self.max_tenants:
            self._known.popitem(last=False)

    async def save(self, tenant: str, policy: WorkspacePolicy, *, by: str | None) -> None:
        """Store the tenant's settings (in force here at once); raises on a database error."""
        row = {
            "tenant_id": tenant,
            "settings": policy.model_dump_json(),
            "updated_at": datetime.now(UTC),
            "updated_by": by,
        }
        table = workspace_settings
        async with asyncio.timeout(WRITE_TIMEOUT):
            if self._ready is not None:
                await self._ready()
            async with self.engine.begin() as connection:
                updated = await connection.execute(
                    table.update().where(table.c.tenant_id == tenant).values(**row)
                )
                if updated.rowcount == 0:
                    await connection.execute(table.insert().values(**row))
        self._remember(tenant, policy)

    async def delete(self, tenant: str) -> None:
        """Forget the tenant's settings (MediaLink was uninstalled there)."""
        async with asyncio.timeout(WRITE_TIMEOUT):
            if self._ready is not None:
                await self._ready()
            async with self.engine.begin() as connection:
                await connection.execute(
                    workspace_settings.delete().where(workspace_settings.c.tenant_id == tenant)
                )
        self._known.pop(tenant, None)


def _parse(text: str) -> WorkspacePolicy | None:
    try:
        return WorkspacePolicy.model_validate(json.loads(text))
    except (ValueError, ValidationError):
        # Never written by this code; the environment's apply, and an admin can save anew.
        logger.error(  # noqa: TRY400 - no traceback: it would quote the row
            "a workspace's stored settings could not be read; using the environment's"
        )
        return None
