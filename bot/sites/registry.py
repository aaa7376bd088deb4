"""Which site serves a request, and that site's own link service.

``SiteRegistry`` keeps a copy of the stored sites (``bot.sites.store``) and checks the
version counter at most once per ``refresh_every`` seconds per replica, whatever the
request rate: a change made on any replica is seen by every other within that time,
without a restart, for the cost of one single-row read a second.

Each site gets its own ``LinkService`` (and so its own Wix client, rate limiter, OAuth
token and member quotas), built on first use; at most ``max_clients`` are kept, the
least recently used closed first, and a removed or changed site's client is closed once
the requests using it are done.

A request's site: a custom-domain URL names its site through the domain map; otherwise
the ``site=`` option, then the channel's default, then the workspace's default (the
environment's site where the tenant may see it, else the first site connected). A file
not found on its site is looked for on the tenant's other sites (at most
``MAX_FALLBACK_SITES``, concurrently, each through its own rate limiter).

Every other Wix call goes through here too, so a tenant never reaches a site it may not
see: a search (``find_files``: the chosen site, or with none chosen all the tenant's
sites, at most ``MAX_SEARCH_SITES``), descriptions for unfurls (``file_facts``), and one
site's own service for a stream or a zip (``service``). A button that names a site
(``pinned``) is checked again on use: the site must still be the clicker's tenant's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from urllib.parse import urlsplit

from bot.sites.keys import Keyring, KeyringError
from bot.sites.model import (
    EVERY_CHANNEL,
    AuthKind,
    Credentials,
    SiteChoiceError,
    SiteKeyUnreadableError,
    SiteRecord,
    credentials_from_store,
    is_wix_host,
)
from bot.sites.store import SiteStore, SiteStoreError, Snapshot
from bot.wix.errors import NotFoundError, WixError
from bot.wix.fairness import WixBusyError
from bot.wix.found import FoundFile
from bot.wix.links import FileFacts, FileLinks, LinkOptions, LinkService
from bot.wix.models import SearchSortField, SortOrder
from bot.wix.refs import MediaRef, MediaType

logger = logging.getLogger(__name__)

REFRESH_EVERY = 1.0  # seconds between version checks, per replica
MAX_CLIENTS = 64  # per-site link services kept at once
MAX_FALLBACK_SITES = 5  # other sites a missing file is looked for on
MAX_SEARCH_SITES = 5  # sites one search asks at once, when none is chosen

NO_SITE = (
    "No Wix site is connected to this workspace yet. An admin can connect one with "
    "`/medialink sites`."
)


@dataclass(frozen=True, slots=True)
class Site:
    """A site as a tenant sees it: the environment's, or a stored one."""

    name: str
    site_id: str
    kind: AuthKind | None  # None: the environment's WIX_* site
    record: SiteRecord | None = None

    @property
    def from_env(self) -> bool:
        return self.record is None


@dataclass(frozen=True, slots=True)
class TenantSites:
    """What one tenant sees: its sites (the environment's first, where visible)."""

    tenant: str
    sites: dict[str, Site] = field(default_factory=dict)
    domains: dict[str, str] = field(default_factory=dict)  # domain → site name
    channels: dict[str, str] = field(default_factory=dict)  # channel ("*": all) → name

    def default_for(self, channel_id: str | None) -> str | None:
        for key in (channel_id, EVERY_CHANNEL):
            name = self.channels.get(key) if key else None
            if name in self.sites:
                return name
        return next(iter(self.sites), None)

    def chosen_for(self, channel_id: str | None) -> str | None:
        """The site an admin chose for the channel (or the whole workspace), if any."""
        for key in (channel_id, EVERY_CHANNEL):
            name = self.channels.get(key) if key else None
            if name in self.sites:
                return name
        return None

    def named(self, name: str, *, pinned: bool = False) -> Site:
        """The tenant's site called ``name``; ``SiteChoiceError`` saying what to do if it
        has none (``pinned``: the name came from a button, not from what was typed)."""
        site = self.sites.get(name)
        if site is not None:
            return site
        if not self.sites:
            raise SiteChoiceError(NO_SITE)
        if pinned:
            raise SiteChoiceError(
                f"The Wix site {name[:40]} these buttons were made on is not connected here "
                "any more. Run /medialink again."
            )
        raise SiteChoiceError(
            f"No site named {name[:40]} is connected here. Sites: "
            f"{', '.join(list(self.sites)[:20])}."
        )

    def ordered_from(self, first: str | None) -> list[Site]:
        """The tenant's sites, ``first`` first, then the others in the tenant's order."""
        names = [first] if first in self.sites else []
        names += [name for name in self.sites if name != first]
        return [self.sites[name] for name in names]

    def site_for_domain(self, host: str) -> str | None:
        name = self.domains.get(host) or self.domains.get(host.removeprefix("www."))
        if name is None and not host.startswith("www."):
            name = self.domains.get("www." + host)
        return name if name in self.sites else None


def custom_domain(ref: MediaRef) -> str | None:
    """The host of a pasted custom-domain URL (``https://www.client.com/_files/ugd/…``),
    or None for Wix's own hosts, bare IDs and ``wix:`` URLs (docs/wix.md, URL forms)."""
    source = ref.source.strip()
    if "/_files/" not in source.lower():
        return None
    if "://" not in source:
        source = "//" + source
    try:
        host = (urlsplit(source).hostname or "").rstrip(".")
    except ValueError:
        return None
    return host if host and not is_wix_host(host) else None


BuildLinks = Callable[[SiteRecord, Credentials], LinkService]


@dataclass(frozen=True, slots=True)
class SiteFile:
    """One search result and the site it was found on (None: not known)."""

    site: str | None
    file: FoundFile


@dataclass(frozen=True, slots=True)
class SiteSearch:
    """One page of a search over one site or several.

    ``cursors``: each site's next page (a site with no more results has none);
    ``failed``: the sites that did not answer, while others did.
    """

    sites: tuple[str, ...]
    files: tuple[SiteFile, ...] = ()
    cursors: dict[str | None, str] = field(default_factory=dict)
    failed: tuple[str, ...] = ()

    @property
    def several(self) -> bool:
        return len(self.sites) > 1


@dataclass(slots=True)
class _Pooled:
    links: LinkService
    in_use: int = 0
    retired: bool = False


class SiteRegistry:
    """Sites per tenant, and one link service per site. See the module docstring."""

    def __init__(
        self,
        *,
        env_site: Site | None,
        env_links: LinkService,
        env_visible: Callable[[str], bool],
        store: SiteStore | None,
        keyring: Callable[[], Keyring | None],
        build_links: BuildLinks,
        refresh_every: float = REFRESH_EVERY,
        max_clients: int = MAX_CLIENTS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.env_site = env_site
        self.env_links = env_links
        self._env_visible = env_visible
        self.store = store
        self.keyring = keyring  # None: MEDIALINK_ENCRYPTION_KEY is not set
        self._build_links = build_links
        self.refresh_every = refresh_every
        self.max_clients = max_clients
        self._clock = clock
        self._snapshot: Snapshot | None = None
        self._checked_at: float | None = None
        self._refreshing = asyncio.Lock()
        self._pool: OrderedDict[tuple[str, int, object], _Pooled] = OrderedDict()
        self._outage_logged = False
        self._closing: set[asyncio.Task[None]] = set()  # closes under way
        self.version_checks = 0  # how often the database was asked (for tests, metrics)
        self.reloads = 0

    # -- what a tenant sees ------------------------------------------------------------

    async def view(self, tenant: str) -> TenantSites:
        await self._fresh()
        snap = self._snapshot
        sites: dict[str, Site] = {}
        if self.env_site is not None and self._env_visible(tenant):
            sites[self.env_site.name] = self.env_site
        stored = snap.sites.get(tenant, {}) if snap is not None else {}
        for record in sorted(stored.values(), key=lambda r: (r.created_at, r.row_id)):
            sites[record.name] = Site(record.name, record.site_id, record.auth_kind, record)
        return TenantSites(
            tenant=tenant,
            sites=sites,
            domains=dict(snap.domains.get(tenant, {})) if snap is not None else {},
            channels=dict(snap.channels.get(tenant, {})) if snap is not None else {},
        )

    async def tenants_with(self, name: str) -> list[str]:
        """The tenants that have a stored site called ``name`` (for the CLI's --site)."""
        await self._fresh()
        snap = self._snapshot
        if snap is None:
            return []
        return sorted(tenant for tenant, sites in snap.sites.items() if name in sites)

    def changed(self) -> None:
        """A change was just made here: read the store again on the next request."""
        self._checked_at = None

    async def _fresh(self) -> None:
        if self.store is None or not self._due():
            return
        async with self._refreshing:
            if not self._due():  # another request checked while this one waited
                return
            try:
                self.version_checks += 1
                version = await self.store.version()
                if self._snapshot is None or version != self._snapshot.version:
                    self._apply(await self.store.snapshot())
                    self.reloads += 1
                self._outage_logged = False
            except SiteStoreError:
                if not self._outage_logged:
                    logger.warning(
                        "sites: using the last list of sites read (%s)",
                        "none yet: only the environment's site"
                        if self._snapshot is None
                        else f"version {self._snapshot.version}",
                    )
                    self._outage_logged = True
            self._checked_at = self._clock()

    def _due(self) -> bool:
        return self._checked_at is None or self._clock() >= self._checked_at + self.refresh_every

    def _apply(self, snap: Snapshot) -> None:
        self._snapshot = snap
        current = {
            (record.tenant, *record.version)
            for sites in snap.sites.values()
            for record in sites.values()
        }
        for key in [key for key in self._pool if key not in current]:
            self._retire(key)

    # -- one link service per site -----------------------------------------------------

    @contextlib.asynccontextmanager
    async def links(self, site: Site) -> AsyncIterator[LinkService]:
        """The site's link service, kept open while the block runs."""
        if site.record is None:
            yield self.env_links
            return
        key = (site.record.tenant, *site.record.version)
        pooled = self._pool.get(key)
        if pooled is None:
            pooled = _Pooled(self._build(site.record))
            self._pool[key] = pooled
            while len(self._pool) > self.max_clients:
                self._retire(next(iter(self._pool)))
        self._pool.move_to_end(key)
        pooled.in_use += 1
        try:
            yield pooled.links
        finally:
            pooled.in_use -= 1
            if pooled.retired and pooled.in_use == 0:
                await _close(pooled.links)

    def _build(self, record: SiteRecord) -> LinkService:
        keyring = self.keyring()
        if keyring is None:
            raise KeyringError(
                f"the site {record.name}'s credentials cannot be read: "
                "MEDIALINK_ENCRYPTION_KEY is not set"
            )
        credentials = credentials_from_store(record.auth_kind, keyring.decrypt(record.sealed))
        return self._build_links(record, credentials)

    def _retire(self, key: tuple[str, int, object]) -> None:
        pooled = self._pool.pop(key)
        pooled.retired = True
        if pooled.in_use == 0:
            task = asyncio.get_running_loop().create_task(_close(pooled.links))
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)

    @property
    def clients(self) -> int:
        return len(self._pool)

    async def aclose(self) -> None:
        for key in list(self._pool):
            self._retire(key)
        if self._closing:
            await asyncio.gather(*self._closing, return_exceptions=True)
        if self.store is not None:
            await self.store.aclose()

    # -- making links ------------------------------------------------------------------

    async def generate(
        self,
        refs: Sequence[MediaRef],
        options: LinkOptions,
        *,
        tenant: str,
        channel_id: str | None,
        site_name: str | None,
        requester: str | None,
        private_files_allowed: bool = True,
        pinned: Mapping[str, str] | None = None,
    ) -> list[FileLinks]:
        """One result per distinct file, in order, each naming its site (``site``).

        ``pinned``: file ID → the site a button says the file is on; such a file is
        asked of that site only (it must still be the tenant's), with no fallback.

        Raises ``SiteChoiceError`` before any Wix call when no site can serve the
        request, and what ``LinkService.generate`` raises (``WixBusyError``).
        """
        view = await self.view(tenant)
        if not view.sites:
            raise SiteChoiceError(NO_SITE)
        if site_name is not None:
            view.named(site_name)
        pinned = pinned or {}
        for name in set(pinned.values()):
            view.named(name, pinned=True)
        chosen = site_name or view.default_for(channel_id)
        assert chosen is not None  # noqa: S101 - view.sites is not empty
        groups: dict[str, list[MediaRef]] = {}
        for ref in refs:
            host = custom_domain(ref)
            name = (
                pinned.get(ref.file_id) or (view.site_for_domain(host) if host else None) or chosen
            )
            groups.setdefault(name, []).append(ref)

        async def on_site(name: str, group: Sequence[MediaRef]) -> list[FileLinks]:
            return await self._on_site(
                view.sites[name], group, options, requester, private_files_allowed
            )

        outcomes = await asyncio.gather(*(on_site(name, group) for name, group in groups.items()))
        by_id: dict[str, FileLinks] = {}
        for outcome in outcomes:
            for result in outcome:
                by_id.setdefault(result.file_id, result)
        if len(view.sites) > 1:
            loose = {fid: result for fid, result in by_id.items() if fid not in pinned}
            await self._look_elsewhere(view, loose, options, requester, private_files_allowed)
            by_id.update(loose)
        ordered = dict.fromkeys(ref.file_id for ref in refs)
        return [by_id[file_id] for file_id in ordered if file_id in by_id]

    async def _on_site(
        self,
        site: Site,
        refs: Sequence[MediaRef],
        options: LinkOptions,
        requester: str | None,
        private_files_allowed: bool,
    ) -> list[FileLinks]:
        try:
            async with self.links(site) as service:
                results = await service.generate(
                    refs,
                    options,
                    requester=requester,
                    private_files_allowed=private_files_allowed,
                )
        except KeyringError as error:
            logger.error("sites: cannot use the site %s: %s", site.name, error)  # noqa: TRY400 - the sentence is the news
            failure = SiteKeyUnreadableError(site.name)
            return [FileLinks(ref=ref, error=failure, site=site.name) for ref in refs]
        return [replace(result, site=site.name) for result in results]

    async def _look_elsewhere(
        self,
        view: TenantSites,
        by_id: dict[str, FileLinks],
        options: LinkOptions,
        requester: str | None,
        private_files_allowed: bool,
    ) -> None:
        missing = [r for r in by_id.values() if isinstance(r.error, NotFoundError)]
        if not missing:
            return
        # Each file is looked for on at most MAX_FALLBACK_SITES sites besides its own.
        others = list(view.sites)[: MAX_FALLBACK_SITES + 1]
        refs = [r.ref for r in missing]

        async def try_site(name: str) -> list[FileLinks]:
            wanted = [ref for ref in refs if by_id[ref.file_id].site != name]
            if not wanted:
                return []
            try:
                return await self._on_site(
                    view.sites[name], wanted, options, requester, private_files_allowed
                )
            except WixError:  # this site is busy for the member: the others may still answer
                return []

        found = await asyncio.gather(*(try_site(name) for name in others))
        for outcome in found:  # the sites in the tenant's order: the first to have it wins
            for result in outcome:
                first = by_id[result.file_id]
                if result.ok and isinstance(first.error, NotFoundError):
                    by_id[result.file_id] = replace(result, not_on=first.site)

    # -- other calls on the tenant's sites -----------------------------------------------

    @contextlib.asynccontextmanager
    async def service(
        self, tenant: str | None, *, site_name: str | None, channel_id: str | None, pinned: bool
    ) -> AsyncIterator[tuple[Site, LinkService]]:
        """The link service of the tenant's site named ``site_name`` (else the channel's
        default), kept open while the block runs. Raises ``SiteChoiceError`` before any
        Wix call when the tenant has no such site (``pinned``: the name is a button's)."""
        view = await self.view(tenant) if tenant is not None else TenantSites(tenant="")
        if not view.sites:
            raise SiteChoiceError(NO_SITE)
        name = site_name or view.default_for(channel_id)
        assert name is not None  # noqa: S101 - view.sites is not empty
        site = view.named(name, pinned=pinned and site_name is not None)
        async with self._using(site) as service:
            yield site, service

    @contextlib.asynccontextmanager
    async def _using(self, site: Site) -> AsyncIterator[LinkService]:
        """``links(site)``, with unreadable credentials told as a Wix error for the site."""
        try:
            async with self.links(site) as service:
                yield service
        except KeyringError as error:
            logger.error("sites: cannot use the site %s: %s", site.name, error)  # noqa: TRY400 - the sentence is the news
            raise SiteKeyUnreadableError(site.name) from None

    async def find_files(
        self,
        words: str | None,
        *,
        tenant: str | None,
        channel_id: str | None,
        site_name: str | None,
        media_types: Sequence[MediaType] = (),
        private: bool | None = None,
        limit: int,
        cursor: str | None = None,
        sort_field: SearchSortField | None = None,
        sort_order: SortOrder = SortOrder.DESC,
        requester: str | None = None,
        deadline: float | None = None,
        private_files_allowed: bool = True,
    ) -> SiteSearch:
        """One page of results: from ``site_name``, else the site an admin chose for the
        channel (or the workspace), else (several sites, none chosen) from each of the
        tenant's sites at once, at most ``MAX_SEARCH_SITES``, each counted against its own
        rate limit and quota, with ``limit`` shared between them. A cursor belongs to one
        site, so ``cursor`` needs ``site_name``.

        Raises ``SiteChoiceError`` before any Wix call when the tenant has no such site;
        ``LinkService.find_files``'s errors when the only site (or every site) failed.
        """
        view = await self.view(tenant) if tenant is not None else TenantSites(tenant="")
        if not view.sites:
            raise SiteChoiceError(NO_SITE)
        if site_name is not None:
            sites = [view.named(site_name)]
        elif cursor is not None:
            raise ValueError("a cursor belongs to one site: name it")
        else:
            chosen = view.chosen_for(channel_id)
            sites = (
                [view.sites[chosen]]
                if chosen is not None
                else view.ordered_from(view.default_for(channel_id))[:MAX_SEARCH_SITES]
            )
        each = max(1, limit // len(sites))

        async def one(site: Site) -> tuple[list[FoundFile], str | None]:
            async with self._using(site) as links:
                found = await links.find_files(
                    words,
                    media_types=media_types,
                    private=private,
                    limit=each,
                    cursor=cursor,
                    sort_field=sort_field,
                    sort_order=sort_order,
                    requester=requester,
                    deadline=deadline,
                    private_files_allowed=private_files_allowed,
                )
            return list(found.files), found.next_cursor

        outcomes = await asyncio.gather(*(one(site) for site in sites), return_exceptions=True)
        errors = [o for o in outcomes if isinstance(o, BaseException)]
        if len(errors) == len(sites):
            # Nothing to show: the busy refusal first (it is recorded as one), else the first.
            raise next((e for e in errors if isinstance(e, WixBusyError)), errors[0])
        for error in errors:
            if not isinstance(error, WixError | WixBusyError):
                raise error
        files: list[SiteFile] = []
        cursors: dict[str | None, str] = {}
        failed: list[str] = []
        for site, outcome in zip(sites, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                logger.info(
                    "sites: %s did not answer a search (%s)", site.name, type(outcome).__name__
                )
                failed.append(site.name)
                continue
            found_files, next_cursor = outcome
            files.extend(SiteFile(site.name, file) for file in found_files)
            if next_cursor is not None:
                cursors[site.name] = next_cursor
        return SiteSearch(
            sites=tuple(site.name for site in sites),
            files=tuple(files[:limit]),
            cursors=cursors,
            failed=tuple(failed),
        )

    async def file_facts(
        self,
        file_ids: Sequence[str],
        *,
        tenant: str | None,
        channel_id: str | None,
        requester: str | None,
        deadline: float | None = None,
    ) -> dict[str, tuple[str, FileFacts]]:
        """Each file's description and the site that has it: the channel's default site
        first, then the tenant's others (at most ``MAX_FALLBACK_SITES``, concurrently) for
        the files it did not know. A file no site knows is left out; a site that fails
        is skipped. Raises ``SiteChoiceError`` (no site), and the first site's
        ``WixBusyError`` or Wix error when it could describe nothing."""
        view = await self.view(tenant) if tenant is not None else TenantSites(tenant="")
        if not view.sites:
            raise SiteChoiceError(NO_SITE)
        first, *others = view.ordered_from(view.default_for(channel_id))[: MAX_FALLBACK_SITES + 1]

        async def on(site: Site, ids: Sequence[str]) -> dict[str, FileFacts]:
            async with self._using(site) as links:
                return await links.file_facts(ids, requester=requester, deadline=deadline)

        described = {fid: (first.name, facts) for fid, facts in (await on(first, file_ids)).items()}
        missing = [fid for fid in dict.fromkeys(file_ids) if fid not in described]
        if not missing or not others:
            return described
        outcomes = await asyncio.gather(
            *(on(site, missing) for site in others), return_exceptions=True
        )
        for site, outcome in zip(others, outcomes, strict=True):  # the tenant's order wins
            if isinstance(outcome, WixError | WixBusyError):
                logger.info(
                    "sites: %s did not describe files (%s)", site.name, type(outcome).__name__
                )
                continue
            if isinstance(outcome, BaseException):
                raise outcome
            for fid, facts in outcome.items():
                described.setdefault(fid, (site.name, facts))
        return described

    async def forget(self, tenant: str) -> None:
        """MediaLink was uninstalled from ``tenant``: its sites, domains and channel
        defaults are deleted, and its sites' clients closed (an uninstall hook)."""
        if self.store is not None:
            await self.store.delete_tenant(tenant)
        for key in [key for key in self._pool if key[0] == tenant]:
            self._retire(key)
        self.changed()


async def _close(links: LinkService) -> None:
    try:
        await links.client.aclose()
    except Exception as error:  # closing must not fail a request
        logger.warning("sites: closing a site's client failed (%s)", type(error).__name__)
