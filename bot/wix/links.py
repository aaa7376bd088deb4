"""The link service: Wix media references in, expiring download links out.

This is the shared URL-generation module: the Slack app, the CLI and any other
caller hand it parsed references and options, and get back one result per
file. It knows nothing of Slack.

Cost of one ``generate``: one bulk descriptor call per 100 files, plus one link
call per file. Asked for the original only, the two go out together, so twenty
files cost about one Wix round trip. Asked for renditions, the descriptors come
first and keys a file does not have are reported (``invalid_asset_keys``), never
sent; if Wix still refuses a key the descriptor listed, the file falls back to
the original with one more call. Without descriptors (the call failed) the keys
are sent as asked, with the same single fallback. So a file never costs more
than two link calls, however many keys are wrong.

Fairness (see ``bot.wix.fairness``): a member may ask for at most
``user_files_per_minute`` files in any rolling minute; a request's Wix calls
wait in the rate limiter round-robin with other members' and give up at its
deadline (``WixBusyError`` for that file); and at most ``max_pending``
requests may be under way at once, beyond which a new one fails at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.durations import whole_minutes
from bot.policy.rules import MAX_RENDITIONS, ORIGINAL, LinkOptionsError, LinkRules
from bot.wix.client import WixMediaClient
from bot.wix.errors import InvalidAssetKeyError, NotFoundError, WixError
from bot.wix.fairness import Caller, FileQuota, MemberQuota, WixBusyError, acting_for
from bot.wix.found import (
    SEARCH_MEDIA_TYPES,
    FoundFiles,
    NotAVideoError,
    StreamLink,
    found_file,
)
from bot.wix.limits import (
    MAX_GET_FILES_IDS,
    MAX_SEARCH_CURSOR_LENGTH,
    MAX_SEARCH_PAGE_SIZE,
    MAX_SEARCH_TEXT_LENGTH,
    MAX_STREAM_EXPIRATION_MINUTES,
    MIN_STREAM_EXPIRATION_MINUTES,
)
from bot.wix.models import (
    ContentDisposition,
    DownloadUrl,
    FileDescriptor,
    MediaTypeName,
    SearchSortField,
    SortOrder,
    StreamFormat,
)
from bot.wix.refs import MediaRef, MediaType

logger = logging.getLogger(__name__)

# The link rules live in bot.policy.rules; these names stay importable from here.
__all__ = [
    "MAX_RENDITIONS",
    "ORIGINAL",
    "AssetLink",
    "FileFacts",
    "FileLinks",
    "LinkOptions",
    "LinkOptionsError",
    "LinkService",
    "NotAVideoError",
    "PrivateFileRefusedError",
    "facts_from_descriptor",
]
DEFAULT_USER_FILES_PER_MINUTE = 100  # per member, in any rolling minute
# generate() calls under way at once: a bound on memory, not on fairness (the limiter's
# round-robin and deadlines do that). A burst of a few hundred one-file commands, as a
# large workspace can send, all goes through; beyond it a request fails at once.
MAX_PENDING_REQUESTS = 1000
# Results one find_files call shows by default: a screenful in Slack.
DEFAULT_FIND_PAGE_SIZE = 10
# What one search costs against the member's quota: it is one Wix call, like one file.
SEARCH_QUOTA_UNITS = 1
# Seconds a request's Wix calls may wait for the rate limiter when the caller names no
# deadline: long enough to ride out one member's 100-file burst, short enough that
# someone waiting at a terminal hears back.
DEFAULT_MAX_WAIT = 120.0


class PrivateFileRefusedError(WixError):
    """No link for this file: Wix marks it private and the requester may not link private
    files (``generate(private_files_allowed=False)``), or whether it is private could not
    be read (``unknown``), which refuses too. No link call was made for it."""

    def __init__(self, *, unknown: bool = False) -> None:
        super().__init__(
            "could not check whether the file is private" if unknown else "the file is private"
        )
        self.unknown = unknown


@dataclass(frozen=True, slots=True)
class ZipLink:
    """A permanent zip link and the (ID, name) of each file in it; ``url`` None: none public."""

    # A permanent bearer link: kept out of reprs, and so out of logs and tracebacks.
    url: str | None = field(repr=False)
    files: tuple[tuple[str, str | None], ...]


@dataclass(frozen=True, slots=True)
class LinkOptions:
    """What a caller may ask for. ``None`` means the service's default."""

    expires_in: timedelta | None = None
    asset_keys: tuple[str, ...] = ()  # empty: the original ("src")
    redirect_url: str | None = None  # page an expired link shows instead of Wix's 403
    download_file_name: str | None = None
    inline: bool = False  # open in the browser instead of downloading
    site: str | None = None  # a connected site's name (bot.sites); None: the usual choice


@dataclass(frozen=True, slots=True)
class FileFacts:
    """What Wix's file descriptor says about a file."""

    display_name: str | None
    media_type: MediaType
    size_bytes: int | None
    private: bool
    renditions: tuple[str, ...]  # asset keys other than "src" that the file has


@dataclass(frozen=True, slots=True)
class AssetLink:
    asset_key: str
    # A signed URL is a bearer credential until it expires: keep it out of reprs
    # (and so out of logs and tracebacks).
    url: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class FileLinks:
    """The outcome for one file: links, or an error, never both empty silently."""

    ref: MediaRef
    facts: FileFacts | None = None
    links: tuple[AssetLink, ...] = ()
    expires_at: datetime | None = None
    error: WixError | None = None
    # Asset keys asked for that the file has not (per its descriptor) or that Wix
    # refused (INVALID_ASSET_KEY). When none of the keys asked for could be had, the
    # service falls back to the original, so links may still be set.
    invalid_asset_keys: tuple[str, ...] = ()
    # The connected Wix site the links come from (bot.sites), by name; None: not known.
    site: str | None = None
    # The site asked first, when the file was not there and was found on ``site``.
    not_on: str | None = None

    @property
    def file_id(self) -> str:
        return self.ref.file_id

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.links)

    @property
    def display_name(self) -> str:
        if self.facts is not None and self.facts.display_name:
            return self.facts.display_name
        return self.ref.filename or self.ref.file_id

    @property
    def media_type(self) -> MediaType:
        if self.facts is not None and self.facts.media_type is not MediaType.UNKNOWN:
            return self.facts.media_type
        return self.ref.media_type

    @property
    def fell_back_to_original(self) -> bool:
        return (
            bool(self.invalid_asset_keys)
            and bool(self.links)
            and all(link.asset_key == ORIGINAL for link in self.links)
        )


_MEDIA_TYPES = {
    "IMAGE": MediaType.IMAGE,
    "VIDEO": MediaType.VIDEO,
    "AUDIO": MediaType.AUDIO,
    "DOCUMENT": MediaType.DOCUMENT,
    "VECTOR": MediaType.VECTOR,
    "ARCHIVE": MediaType.ARCHIVE,
}


def facts_from_descriptor(descriptor: FileDescriptor) -> FileFacts:
    return FileFacts(
        display_name=descriptor.display_name or None,
        media_type=_MEDIA_TYPES.get(str(descriptor.media_type).upper(), MediaType.UNKNOWN),
        size_bytes=descriptor.size_in_bytes,
        private=bool(descriptor.private),
        renditions=descriptor.rendition_keys,
    )


class LinkService:
    """Turns references into links: one descriptor call per 100 files, one link call per file."""

    def __init__(
        self,
        client: WixMediaClient,
        *,
        default_expiry: timedelta = timedelta(minutes=60),
        max_expiry: timedelta = timedelta(days=7),
        rules: LinkRules | None = None,
        default_redirect_url: str | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        user_files_per_minute: int = DEFAULT_USER_FILES_PER_MINUTE,
        max_pending: int = MAX_PENDING_REQUESTS,
        default_max_wait: float = DEFAULT_MAX_WAIT,
        clock: Callable[[], float] | None = None,
        quota: MemberQuota | None = None,
    ) -> None:
        # ``rules`` wins; the two expiry arguments are kept for callers without one.
        self.rules = rules or LinkRules(default_expiry=default_expiry, max_expiry=max_expiry)
        if max_pending < 1:
            raise ValueError("max_pending must be at least 1")
        if default_max_wait <= 0:
            raise ValueError("default_max_wait must be positive")
        self.client = client
        self.default_redirect_url = default_redirect_url
        self._now = now
        # ``quota`` wins (shared by replicas: bot/shared/quota.py) over the number.
        self.quota: MemberQuota = quota if quota is not None else FileQuota(user_files_per_minute)
        self.max_pending = max_pending
        self.pending = 0  # generate() calls under way
        self.default_max_wait = default_max_wait
        # Deadlines and the quota are read on the rate limiter's clock (monotonic).
        self.clock = clock if clock is not None else client.limiter.clock

    @property
    def default_expiry(self) -> timedelta:
        return self.rules.default_expiry

    @property
    def max_expiry(self) -> timedelta:
        return self.rules.max_expiry

    def resolve_expiry(self, requested: timedelta | None) -> timedelta:
        """The expiry to use, or LinkOptionsError saying what is allowed."""
        return self.rules.resolve_expiry(requested)

    def check_options(self, options: LinkOptions) -> None:
        """Validate options against the link rules before any Wix call; raises
        LinkOptionsError."""
        self.rules.resolve_expiry(options.expires_in)
        self.rules.check_asset_keys(options.asset_keys)
        if options.redirect_url is not None:
            self.rules.check_redirect(options.redirect_url)
        if options.download_file_name is not None:
            self.rules.check_download_name(options.download_file_name)

    async def generate(
        self,
        refs: Sequence[MediaRef],
        options: LinkOptions | None = None,
        *,
        requester: str | None = None,
        deadline: float | None = None,
        private_files_allowed: bool = True,
    ) -> list[FileLinks]:
        """One result per distinct file, in the order given.

        ``private_files_allowed=False``: the descriptors are read first, and a file Wix
        marks private (or whose privacy could not be read) gets ``PrivateFileRefusedError``
        and no link call.

        ``requester`` is who asks (a Slack member ID; ``None``, the CLI, has no quota).
        ``deadline`` is when, on ``self.clock`` (``time.monotonic`` unless injected), the
        last Wix call may start; a file whose call cannot start by then gets
        ``WixBusyError``. Default: ``default_max_wait`` seconds from now.

        Before any Wix call, raises ``LinkOptionsError`` (bad options),
        ``FileQuotaError`` (the member asked for too many files this minute) or
        ``WixBusyError`` (``max_pending`` requests are already under way).
        """
        options = options or LinkOptions()
        self.check_options(options)
        first_by_id: dict[str, MediaRef] = {}
        for ref in refs:
            first_by_id.setdefault(ref.file_id, ref)
        unique = list(first_by_id.values())
        if not unique:
            return []
        expires_in = self.resolve_expiry(options.expires_in)
        minutes = whole_minutes(expires_in)
        async with self._taking_on(requester, len(unique), deadline):
            # Computed before the calls, so the expiry we show is never later than
            # Wix's (the response carries no expiry of its own).
            expires_at = self._now() + timedelta(minutes=minutes)
            return await self._generate(unique, options, minutes, expires_at, private_files_allowed)

    async def zip_of_public_files(
        self, file_ids: Sequence[str], *, requester: str | None = None
    ) -> ZipLink:
        """One PERMANENT zip link for the public files among ``file_ids`` (docs/wix.md,
        Generate Files Download URL), under the same quota, cap and fair turn as
        ``generate``. The descriptors decide which files are public, so a private file
        never goes in; with none public, no zip call is made (``url`` is None).

        Raises ``FileQuotaError`` or ``WixBusyError`` before any Wix call, and the Wix
        client's errors from either call.
        """
        unique = list(dict.fromkeys(file_ids))
        if not unique:
            return ZipLink(url=None, files=())
        async with self._taking_on(requester, len(unique), None):
            descriptors = await self.client.get_file_descriptors(unique)
            wanted = set(unique)
            public = tuple(
                (d.id, d.display_name) for d in descriptors if d.id in wanted and not d.private
            )
            if not public:
                return ZipLink(url=None, files=())
            url = await self.client.generate_files_download_url([fid for fid, _ in public])
        return ZipLink(url=url, files=public)

    async def file_facts(
        self,
        file_ids: Sequence[str],
        *,
        requester: str | None = None,
        deadline: float | None = None,
    ) -> dict[str, FileFacts]:
        """What Wix's descriptors say about each file, by file ID; no link is made.

        One bulk call for up to 100 files, under the same quota, cap and fair turn as
        ``generate``. Wix fails the whole call when one ID is unknown; then each file
        is asked for alone, so the files that exist are still described (at most
        ``len(file_ids)`` more calls: callers keep the list short). A file Wix does not
        know is left out.

        Raises ``ValueError`` for more than 100 files, ``FileQuotaError`` or
        ``WixBusyError`` before any Wix call, and the Wix client's other errors.
        """
        unique = list(dict.fromkeys(file_ids))
        if len(unique) > MAX_GET_FILES_IDS:
            raise ValueError(f"at most {MAX_GET_FILES_IDS} files at a time")
        if not unique:
            return {}
        async with self._taking_on(requester, len(unique), deadline):
            try:
                descriptors = await self.client.get_file_descriptors(unique)
            except NotFoundError:
                if len(unique) == 1:
                    return {}
                alone = await asyncio.gather(*(self._one_file_facts(fid) for fid in unique))
                return {
                    file_id: facts
                    for outcome in alone
                    if not isinstance(outcome, NotFoundError)
                    for file_id, facts in outcome.items()
                }
        wanted = set(unique)
        return {d.id: facts_from_descriptor(d) for d in descriptors if d.id in wanted}

    async def find_files(
        self,
        words: str | None,
        *,
        media_types: Sequence[MediaType] = (),
        private: bool | None = None,
        limit: int = DEFAULT_FIND_PAGE_SIZE,
        cursor: str | None = None,
        sort_field: SearchSortField | None = None,
        sort_order: SortOrder = SortOrder.DESC,
        requester: str | None = None,
        deadline: float | None = None,
        private_files_allowed: bool = True,
    ) -> FoundFiles:
        """One page of the Media Manager's files matching ``words`` (docs/wix.md,
        Finding files), best matches first (Wix's order unless ``sort_field``).

        ``private``: True only private files, False only public, None both. Someone who
        may not link private files (``private_files_allowed=False``) is shown public files
        only: Wix is asked for ``private=false``, and any private file in the answer is
        dropped too. ``cursor`` is a previous page's ``next_cursor``.

        A search counts as ``SEARCH_QUOTA_UNITS`` file against the member's quota and
        waits its fair turn in the rate limiter like ``generate``. Nothing searched is
        logged. Before any Wix call, raises ``LinkOptionsError`` (words too long, a type
        that cannot be searched, private files asked for by someone who may not link
        them, a bad cursor), ``FileQuotaError`` or ``WixBusyError``.
        """
        text = " ".join((words or "").split())
        if len(text) > MAX_SEARCH_TEXT_LENGTH:
            raise LinkOptionsError(
                f"search for at most {MAX_SEARCH_TEXT_LENGTH} characters; that was {len(text)}"
            )
        wix_types: list[str] = []
        for kind in dict.fromkeys(media_types):
            name = SEARCH_MEDIA_TYPES.get(kind)
            if name is None:
                raise LinkOptionsError(f"{kind} is not a type of file you can search for")
            wix_types.append(name)
        if not private_files_allowed:
            if private is True:
                raise LinkOptionsError(
                    "you may not link private files here, so you can search public files only"
                )
            private = False
        if not 1 <= limit <= MAX_SEARCH_PAGE_SIZE:
            raise LinkOptionsError(f"show between 1 and {MAX_SEARCH_PAGE_SIZE} results a page")
        if cursor is not None and not 0 < len(cursor) <= MAX_SEARCH_CURSOR_LENGTH:
            raise LinkOptionsError("that page of results is not available; search again")
        async with self._taking_on(requester, SEARCH_QUOTA_UNITS, deadline):
            page = await self.client.search_files(
                text or None,
                media_types=wix_types or None,
                private=private,
                sort_field=sort_field,
                sort_order=sort_order,
                limit=limit,
                cursor=cursor,
            )
        seen: set[str] = set()
        files = []
        for descriptor in page.files:
            if descriptor.id in seen or (descriptor.private and not private_files_allowed):
                continue
            seen.add(descriptor.id)
            files.append(found_file(descriptor))
            if len(files) == limit:
                break
        next_cursor = page.next_page
        if next_cursor is not None and len(next_cursor) > MAX_SEARCH_CURSOR_LENGTH:
            next_cursor = None  # a cursor we could not send back is no next page
        return FoundFiles(files=tuple(files), next_cursor=next_cursor)

    async def stream_link(
        self,
        file_id: str,
        *,
        expires_in: timedelta | None = None,
        format: StreamFormat = StreamFormat.HLS,
        requester: str | None = None,
        deadline: float | None = None,
        private_files_allowed: bool = True,
    ) -> StreamLink:
        """A streaming link (HLS by default) for one video (docs/wix.md, Video streaming).

        The descriptor is read first: a file that is not a video raises
        ``NotAVideoError``, a private one for someone who may not link private files
        ``PrivateFileRefusedError``, each with no stream call. A private video's link
        lasts ``expires_in`` (the link rules' default when None) held within Wix's
        60-1440 minutes: a longer wish is cut to 1440, a shorter one raised to 60 unless
        the rules' longest expiry is shorter (then ``LinkOptionsError``). A public
        video's stream URL does not expire (``expires_at`` None). Counts as one file
        against the member's quota.
        """
        minutes = self._stream_minutes(expires_in)
        async with self._taking_on(requester, 1, deadline):
            descriptors = await self.client.get_file_descriptors([file_id])
            descriptor = next((d for d in descriptors if d.id == file_id), None)
            if descriptor is None and len(descriptors) == 1:
                descriptor = descriptors[0]  # asked by a wix: URL, answered by its ID
            if descriptor is None:
                raise PrivateFileRefusedError(unknown=True)
            if descriptor.media_type != MediaTypeName.VIDEO:
                raise NotAVideoError()
            if descriptor.private and not private_files_allowed:
                raise PrivateFileRefusedError()
            expires_at = self._now() + timedelta(minutes=minutes) if descriptor.private else None
            url = await self.client.generate_video_stream_url(
                descriptor.id,
                format=format,
                expiration_minutes=minutes if descriptor.private else None,
            )
        return StreamLink(
            file_id=descriptor.id,
            name=descriptor.display_name or descriptor.id,
            format=format,
            private=bool(descriptor.private),
            expires_at=expires_at,
            url=url.url,
        )

    def _stream_minutes(self, requested: timedelta | None) -> int:
        """A private video's stream expiry, within Wix's bounds and the link rules."""
        wanted = whole_minutes(self.resolve_expiry(requested))
        minutes = min(max(wanted, MIN_STREAM_EXPIRATION_MINUTES), MAX_STREAM_EXPIRATION_MINUTES)
        if timedelta(minutes=minutes) > self.max_expiry:
            raise LinkOptionsError(
                f"stream links last at least {MIN_STREAM_EXPIRATION_MINUTES // 60} hour,"
                " longer than links may last here"
            )
        return minutes

    @contextlib.asynccontextmanager
    async def _taking_on(
        self, requester: str | None, files: int, deadline: float | None
    ) -> AsyncIterator[None]:
        """Admit one request of ``files`` files: the cap on requests under way, the
        member's quota, then its Wix calls wait their fair turn until ``deadline``."""
        if self.pending >= self.max_pending:
            raise WixBusyError()
        self.pending += 1  # before the quota's await, so the cap holds while it is asked
        try:
            now = self.clock()
            if requester is not None:
                await self.quota.take_files(requester, files, now)
            caller = Caller(
                requester, deadline if deadline is not None else now + self.default_max_wait
            )
            with acting_for(caller):  # the rate limiter reads it (bot.wix.fairness)
                yield
        finally:
            self.pending -= 1

    async def _generate(
        self,
        unique: Sequence[MediaRef],
        options: LinkOptions,
        minutes: int,
        expires_at: datetime,
        private_files_allowed: bool = True,
    ) -> list[FileLinks]:
        ids = [ref.file_id for ref in unique]
        keys = tuple(dict.fromkeys(options.asset_keys)) or (ORIGINAL,)

        def links_for(ref: MediaRef, available: frozenset[str] | None) -> Awaitable[FileLinks]:
            return self._links_for(
                ref,
                keys=keys,
                available=available,
                options=options,
                minutes=minutes,
                expires_at=expires_at,
            )

        if not private_files_allowed:
            return await self._generate_public_only(unique, links_for)
        if keys == (ORIGINAL,):
            # No key to check against the descriptors: fetch them alongside the links.
            links_wave = asyncio.gather(*(links_for(ref, None) for ref in unique))
            results, facts = await asyncio.gather(links_wave, self._facts(ids))
        else:
            facts = await self._facts(ids)
            results = await asyncio.gather(
                *(links_for(ref, facts.available(ref.file_id)) for ref in unique)
            )
        await self._facts_for_the_rest(facts, results)
        return [_with_facts(result, facts.by_id.get(result.file_id)) for result in results]

    async def _generate_public_only(
        self,
        unique: Sequence[MediaRef],
        links_for: Callable[[MediaRef, frozenset[str] | None], Awaitable[FileLinks]],
    ) -> list[FileLinks]:
        """The descriptors first; link calls only for files known to be public."""
        facts = await self._facts([ref.file_id for ref in unique])
        unknown = [file_id for chunk in facts.unknown_chunks for file_id in chunk]
        missing: dict[str, NotFoundError] = {}
        if unknown:
            # A chunk fails whole when one ID is unknown: ask for each of its files alone
            # (at most max_refs calls, and only on this path) to learn which exist.
            alone = await asyncio.gather(*(self._one_file_facts(file_id) for file_id in unknown))
            for file_id, outcome in zip(unknown, alone, strict=True):
                if isinstance(outcome, NotFoundError):
                    missing[file_id] = outcome
                else:
                    facts.by_id.update(outcome)

        async def one(ref: MediaRef) -> FileLinks:
            file_facts = facts.by_id.get(ref.file_id)
            if ref.file_id in missing:
                return FileLinks(ref=ref, error=missing[ref.file_id])
            if file_facts is None or file_facts.private:
                refusal = PrivateFileRefusedError(unknown=file_facts is None)
                return FileLinks(ref=ref, facts=file_facts, error=refusal)
            return _with_facts(await links_for(ref, facts.available(ref.file_id)), file_facts)

        return list(await asyncio.gather(*(one(ref) for ref in unique)))

    async def _one_file_facts(self, file_id: str) -> dict[str, FileFacts] | NotFoundError:
        try:
            descriptors = await self.client.get_file_descriptors([file_id])
        except NotFoundError as error:
            return error
        except WixError as error:
            logger.info("file descriptor unavailable: %s", type(error).__name__)
            return {}
        return {descriptor.id: facts_from_descriptor(descriptor) for descriptor in descriptors}

    async def _facts(self, file_ids: Sequence[str]) -> _Facts:
        """Descriptor facts, one bulk call per 100 files, the calls concurrent."""
        chunks = [
            list(file_ids[i : i + MAX_GET_FILES_IDS])
            for i in range(0, len(file_ids), MAX_GET_FILES_IDS)
        ]
        facts = _Facts()
        outcomes = await asyncio.gather(*(self._chunk_facts(chunk) for chunk in chunks))
        for chunk, outcome in zip(chunks, outcomes, strict=True):
            if outcome is None:
                facts.unknown_chunks.append(chunk)
            else:
                facts.by_id.update(outcome)
        return facts

    async def _chunk_facts(self, file_ids: list[str]) -> dict[str, FileFacts] | None:
        """One chunk's facts; ``None`` when Wix failed it whole because an ID is unknown."""
        try:
            descriptors = await self.client.get_file_descriptors(file_ids)
        except NotFoundError:
            return None
        except WixError as error:
            # Facts are a courtesy for the original; for renditions, their absence means
            # the keys are sent as asked (with the one fallback).
            logger.info("file descriptors unavailable: %s", type(error).__name__)
            return {}
        return {descriptor.id: facts_from_descriptor(descriptor) for descriptor in descriptors}

    async def _facts_for_the_rest(self, facts: _Facts, results: Sequence[FileLinks]) -> None:
        """Ask once more, for the files that exist, in chunks failed by an unknown ID.

        Wix fails the whole bulk call when one ID is unknown; the link calls show
        which files exist. One more call per such chunk, never more.
        """
        ok = {result.file_id for result in results if result.ok}
        retry: list[str] = []
        for chunk in facts.unknown_chunks:
            found = [file_id for file_id in chunk if file_id in ok]
            if found and len(found) < len(chunk):
                retry.extend(found)
        if retry:
            facts.by_id.update((await self._facts(retry)).by_id)

    async def _links_for(
        self,
        ref: MediaRef,
        *,
        keys: tuple[str, ...],
        available: frozenset[str] | None,
        options: LinkOptions,
        minutes: int,
        expires_at: datetime,
    ) -> FileLinks:
        """One link call for the keys the file has; one more for the original if refused.

        ``available`` is the file's keys per its descriptor, ``None`` when unknown.
        """
        send: tuple[str, ...] = keys
        missing: tuple[str, ...] = ()
        if available is not None:
            send = tuple(key for key in keys if key in available)
            missing = tuple(key for key in keys if key not in available)
        try:
            urls = await self._request(ref.file_id, send or (ORIGINAL,), options, minutes)
        except InvalidAssetKeyError as refusal:
            # Wix refused a key the descriptor listed (e.g. a private video's storyboard)
            # or, without a descriptor, one of the keys asked for. It does not reliably
            # say which, so every key sent counts as refused and the original stands in.
            refused = tuple(key for key in send if key != ORIGINAL)
            if not refused:
                return FileLinks(ref=ref, error=refusal, invalid_asset_keys=missing)
            missing += refused
            try:
                urls = await self._request(ref.file_id, (ORIGINAL,), options, minutes)
            except WixError as error:
                return FileLinks(ref=ref, error=error, invalid_asset_keys=missing)
        except WixError as error:
            return FileLinks(ref=ref, error=error, invalid_asset_keys=missing)
        return FileLinks(
            ref=ref, links=_links(urls), expires_at=expires_at, invalid_asset_keys=missing
        )

    async def _request(
        self, file_id: str, keys: Sequence[str], options: LinkOptions, minutes: int
    ) -> list[DownloadUrl]:
        return await self.client.generate_file_download_url(
            file_id,
            asset_keys=list(keys),
            expiration_minutes=minutes,
            redirect_url=options.redirect_url or self.default_redirect_url,
            download_file_name=options.download_file_name,
            content_disposition=ContentDisposition.INLINE if options.inline else None,
        )


@dataclass(slots=True)
class _Facts:
    """What the descriptor calls of one request found."""

    by_id: dict[str, FileFacts] = field(default_factory=dict)
    unknown_chunks: list[list[str]] = field(default_factory=list)  # failed whole: an ID unknown

    def available(self, file_id: str) -> frozenset[str] | None:
        """The asset keys the file has, or None when its descriptor is unknown."""
        facts = self.by_id.get(file_id)
        if facts is None:
            return None
        return frozenset((ORIGINAL, *facts.renditions))


def _links(urls: Iterable[DownloadUrl]) -> tuple[AssetLink, ...]:
    return tuple(AssetLink(asset_key=url.asset_key, url=url.url) for url in urls)


def _with_facts(result: FileLinks, facts: FileFacts | None) -> FileLinks:
    if facts is None:
        return result
    return FileLinks(
        ref=result.ref,
        facts=facts,
        links=result.links,
        expires_at=result.expires_at,
        error=result.error,
        invalid_asset_keys=result.invalid_asset_keys,
    )
