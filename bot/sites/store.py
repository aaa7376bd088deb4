"""The connected sites in the database (``DATABASE_URL``, beside the audit trail).

Every write raises the version counter in the same transaction, so other replicas see
the change at their next check (``bot.sites.registry``). The schema is migrated by the
audit trail's migration (revision 0003), which the store asks for before its first use.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from bot.audit.urls import normalize_database_url
from bot.sites.keys import Keyring, KeyringError
from bot.sites.model import (
    EVERY_CHANNEL,
    MAX_SITES_PER_TENANT,
    AuthKind,
    SiteRecord,
)
from bot.sites.schema import wix_channel_sites, wix_site_domains, wix_sites, wix_sites_version

logger = logging.getLogger(__name__)

OPERATION_TIMEOUT = 15.0
ROTATE_BATCH = 100  # rows per transaction in rotate-key

_T = TypeVar("_T")


class SiteStoreError(Exception):
    """The change cannot be made; ``str()`` is a sentence for a person."""


class SitesUnavailable(SiteStoreError):
    """The database did not answer."""


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Every tenant's sites, domains and channel defaults at one version."""

    version: int
    sites: dict[str, dict[str, SiteRecord]] = field(default_factory=dict)  # tenant → name →
    domains: dict[str, dict[str, str]] = field(default_factory=dict)  # tenant → domain → name
    channels: dict[str, dict[str, str]] = field(default_factory=dict)  # tenant → channel → name


@dataclass(frozen=True, slots=True)
class RotationReport:
    rotated: int
    unreadable: int


def _now() -> datetime:
    return datetime.now(UTC)


class SiteStore:
    """The sites' tables. Building one does no I/O."""

    def __init__(
        self,
        database_url: str,
        *,
        migrate: Callable[[], Awaitable[None]] | None = None,
        timeout: float = OPERATION_TIMEOUT,
    ) -> None:
        url = normalize_database_url(database_url)
        connect_args: dict[str, Any] = (
            {"timeout": min(timeout, 10.0), "command_timeout": timeout}
            if url.startswith("postgresql")
            else {"timeout": timeout}
        )
        self._engine: AsyncEngine = create_async_engine(
            url, pool_pre_ping=True, connect_args=connect_args
        )
        self._migrate = migrate
        self._migrated = migrate is None
        self._migrating = asyncio.Lock()
        self._timeout = timeout

    async def aclose(self) -> None:
        await self._engine.dispose()

    async def _ready(self) -> None:
        if self._migrated:
            return
        async with self._migrating:
            if not self._migrated and self._migrate is not None:
                await self._migrate()
                self._migrated = True

    async def _run(self, work: Callable[[AsyncConnection], Awaitable[_T]], *, write: bool) -> _T:
        try:
            await self._ready()
            async with asyncio.timeout(self._timeout):
                if write:
                    async with self._engine.begin() as connection:
                        return await work(connection)
                async with self._engine.connect() as connection:
                    return await work(connection)
        except SiteStoreError:
            raise
        except IntegrityError:
            raise SiteStoreError(
                "that name or domain is already taken in this workspace; pick another"
            ) from None
        except Exception as error:
            logger.error(  # noqa: TRY400 - a traceback would show the SQL and its values
                "sites: the database did not answer (%s)", type(error).__name__
            )
            raise SitesUnavailable(
                "the list of sites cannot be read or changed right now: its database is "
                "unavailable; try again in a minute"
            ) from None

    # -- reading ---------------------------------------------------------------------

    async def version(self) -> int:
        async def read(connection: AsyncConnection) -> int:
            value = await connection.scalar(
                sa.select(wix_sites_version.c.version).where(wix_sites_version.c.id == 1)
            )
            return int(value or 0)

        return await self._run(read, write=False)

    async def snapshot(self) -> Snapshot:
        """Everything, read in one transaction so the parts agree with the version."""

        async def read(connection: AsyncConnection) -> Snapshot:
            async with connection.begin():
                version = await connection.scalar(
                    sa.select(wix_sites_version.c.version).where(wix_sites_version.c.id == 1)
                )
                snap = Snapshot(version=int(version or 0))
                for row in (await connection.execute(sa.select(wix_sites))).all():
                    record = _record(row)
                    snap.sites.setdefault(record.tenant, {})[record.name] = record
                for row in (await connection.execute(sa.select(wix_site_domains))).all():
                    snap.domains.setdefault(row.tenant, {})[row.domain] = row.site_name
                for row in (await connection.execute(sa.select(wix_channel_sites))).all():
                    snap.channels.setdefault(row.tenant, {})[row.channel_id] = row.site_name
                return snap

        return await self._run(read, write=False)

    # -- changing --------------------------------------------------------------------

    async def add_site(
        self,
        *,
        tenant: str,
        name: str,
        site_id: str,
        kind: AuthKind,
        sealed: str,
        domains: Sequence[str],
        by: str | None,
    ) -> None:
        async def write(connection: AsyncConnection) -> None:
            count = await connection.scalar(
                sa.select(sa.func.count())
                .select_from(wix_sites)
                .where(wix_sites.c.tenant == tenant)
            )
            if int(count or 0) >= MAX_SITES_PER_TENANT:
                raise SiteStoreError(
                    f"this workspace already has {MAX_SITES_PER_TENANT} sites, the most it may "
                    "have; remove one first"
                )
            taken = await connection.scalar(
                sa.select(wix_sites.c.id).where(
                    wix_sites.c.tenant == tenant, wix_sites.c.name == name
                )
            )
            if taken is not None:
                raise SiteStoreError(f"a site named {name} is already connected; pick another name")
            now = _now()
            await connection.execute(
                wix_sites.insert().values(
                    tenant=tenant,
                    name=name,
                    site_id=site_id,
                    auth_kind=kind.value,
                    credentials=sealed,
                    created_at=now,
                    updated_at=now,
                    created_by=by,
                    updated_by=by,
                )
            )
            await _put_domains(connection, tenant, name, domains)
            await _bump(connection)

        await self._run(write, write=True)

    async def rename_site(self, *, tenant: str, name: str, new_name: str, by: str | None) -> None:
        async def write(connection: AsyncConnection) -> None:
            changed = await connection.execute(
                wix_sites.update()
                .where(wix_sites.c.tenant == tenant, wix_sites.c.name == name)
                .values(name=new_name, updated_at=_now(), updated_by=by)
            )
            if changed.rowcount == 0:
                raise SiteStoreError(f"no site named {name} is connected")
            for table in (wix_site_domains, wix_channel_sites):
                await connection.execute(
                    table.update()
                    .where(table.c.tenant == tenant, table.c.site_name == name)
                    .values(site_name=new_name)
                )
            await _bump(connection)

        await self._run(write, write=True)

    async def remove_site(self, *, tenant: str, name: str) -> None:
        async def write(connection: AsyncConnection) -> None:
            removed = await connection.execute(
                wix_sites.delete().where(wix_sites.c.tenant == tenant, wix_sites.c.name == name)
            )
            if removed.rowcount == 0:
                raise SiteStoreError(f"no site named {name} is connected")
            for table in (wix_site_domains, wix_channel_sites):
                await connection.execute(
                    table.delete().where(table.c.tenant == tenant, table.c.site_name == name)
                )
            await _bump(connection)

        await self._run(write, write=True)

    async def set_domains(self, *, tenant: str, name: str, domains: Sequence[str]) -> None:
        """Replace the site's domains (``name`` may be the environment's site)."""

        async def write(connection: AsyncConnection) -> None:
            await connection.execute(
                wix_site_domains.delete().where(
                    wix_site_domains.c.tenant == tenant, wix_site_domains.c.site_name == name
                )
            )
            await _put_domains(connection, tenant, name, domains)
            await _bump(connection)

        await self._run(write, write=True)

    async def set_channel_site(self, *, tenant: str, channel_id: str, name: str | None) -> None:
        """The channel's default site (``EVERY_CHANNEL``: the workspace's); None clears it."""

        async def write(connection: AsyncConnection) -> None:
            await connection.execute(
                wix_channel_sites.delete().where(
                    wix_channel_sites.c.tenant == tenant,
                    wix_channel_sites.c.channel_id == channel_id,
                )
            )
            if name is not None:
                await connection.execute(
                    wix_channel_sites.insert().values(
                        tenant=tenant, channel_id=channel_id, site_name=name
                    )
                )
            await _bump(connection)

        await self._run(write, write=True)

    async def delete_tenant(self, tenant: str) -> None:
        """Forget every site of ``tenant``, its domains and channel defaults, sealed
        credentials included (MediaLink was uninstalled there: nothing of it may outlive
        the installation)."""

        async def write(connection: AsyncConnection) -> None:
            for table in (wix_channel_sites, wix_site_domains, wix_sites):
                await connection.execute(table.delete().where(table.c.tenant == tenant))
            await _bump(connection)

        await self._run(write, write=True)

    async def rotate(self, keyring: Keyring, *, batch: int = ROTATE_BATCH) -> RotationReport:
        """Re-encrypt every row's credentials with the first key, ``batch`` rows per
        transaction, in ID order. Safe to re-run (a row already under the first key is
        simply re-encrypted), and every row stays readable throughout, with either key."""
        rotated = unreadable = 0
        last_id = 0

        while True:

            async def one_batch(connection: AsyncConnection, after: int = last_id) -> list[Any]:
                rows = (
                    await connection.execute(
                        sa.select(wix_sites.c.id, wix_sites.c.credentials)
                        .where(wix_sites.c.id > after)
                        .order_by(wix_sites.c.id)
                        .limit(batch)
                    )
                ).all()
                for row in rows:
                    try:
                        sealed = keyring.rotate(row.credentials)
                    except KeyringError:
                        nonlocal unreadable
                        unreadable += 1
                        continue
                    await connection.execute(
                        wix_sites.update()
                        .where(wix_sites.c.id == row.id)
                        .values(credentials=sealed)
                    )
                return list(rows)

            rows = await self._run(one_batch, write=True)
            rotated += len(rows)
            if not rows:
                break
            last_id = int(rows[-1].id)
            if len(rows) < batch:
                break
        return RotationReport(rotated=rotated - unreadable, unreadable=unreadable)


async def _put_domains(
    connection: AsyncConnection, tenant: str, name: str, domains: Sequence[str]
) -> None:
    for domain in domains:
        owner = await connection.scalar(
            sa.select(wix_site_domains.c.site_name).where(
                wix_site_domains.c.tenant == tenant, wix_site_domains.c.domain == domain
            )
        )
        if owner is not None and owner != name:
            raise SiteStoreError(f"{domain} already belongs to the site {owner}")
        if owner is None:
            await connection.execute(
                wix_site_domains.insert().values(tenant=tenant, domain=domain, site_name=name)
            )


async def _bump(connection: AsyncConnection) -> None:
    await connection.execute(
        wix_sites_version.update()
        .where(wix_sites_version.c.id == 1)
        .values(version=wix_sites_version.c.version + 1)
    )


def _record(row: sa.Row[Any]) -> SiteRecord:
    return SiteRecord(
        tenant=row.tenant,
        name=row.name,
        site_id=row.site_id,
        auth_kind=AuthKind(row.auth_kind),
        sealed=row.credentials,
        created_at=row.created_at,
        updated_at=row.updated_at,
        created_by=row.created_by,
        updated_by=row.updated_by,
        row_id=int(row.id),
    )


__all__ = [
    "EVERY_CHANNEL",
    "RotationReport",
    "SiteStore",
    "SiteStoreError",
    "SitesUnavailable",
    "Snapshot",
]
