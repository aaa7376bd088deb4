"""The link service: Wix media references in, expiring download links out.

This is the shared URL-generation module: the Slack app, the CLI and any other
caller hand it parsed references and options, and get back one result per
file. It knows nothing of Slack.

Cost: every file's links are requested concurrently, next to one bulk
descriptor call, so twenty files cost about one Wix round trip, not twenty.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.durations import WIX_MAX_EXPIRY, format_duration, whole_minutes
from bot.wix.client import WixMediaClient
from bot.wix.errors import InvalidAssetKeyError, NotFoundError, WixError
from bot.wix.models import ContentDisposition, DownloadUrl, FileDescriptor
from bot.wix.refs import MediaRef, MediaType

logger = logging.getLogger(__name__)

ORIGINAL = "src"  # Wix's asset key for the original file (the documented default)
MAX_ASSET_KEYS = 100
MAX_DOWNLOAD_NAME = 100


class LinkOptionsError(ValueError):
    """Options that cannot be sent to Wix; ``str()`` says what to change."""


@dataclass(frozen=True, slots=True)
class LinkOptions:
    """What a caller may ask for. ``None`` means the service's default."""

    expires_in: timedelta | None = None
    asset_keys: tuple[str, ...] = ()  # empty: the original ("src")
    redirect_url: str | None = None  # page an expired link shows instead of Wix's 403
    download_file_name: str | None = None
    inline: bool = False  # open in the browser instead of downloading


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
    # Asset keys Wix refused (INVALID_ASSET_KEY). When every requested key was
    # refused the service falls back to the original, so links may still be set.
    invalid_asset_keys: tuple[str, ...] = ()

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
    """Turns references into links with one concurrent wave of Wix calls."""

    def __init__(
        self,
        client: WixMediaClient,
        *,
        default_expiry: timedelta = timedelta(minutes=60),
        max_expiry: timedelta = timedelta(days=7),
        default_redirect_url: str | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if max_expiry > WIX_MAX_EXPIRY:
            raise ValueError("max_expiry is longer than Wix allows (525600 minutes)")
        if default_expiry > max_expiry:
            raise ValueError("default_expiry is longer than max_expiry")
        self.client = client
        self.default_expiry = default_expiry
        self.max_expiry = max_expiry
        self.default_redirect_url = default_redirect_url
        self._now = now

    def resolve_expiry(self, requested: timedelta | None) -> timedelta:
        """The expiry to use, or LinkOptionsError saying what is allowed."""
        if requested is None:
            return self.default_expiry
        if requested < timedelta(minutes=1):
            raise LinkOptionsError("links must last at least 1 minute")
        if requested > self.max_expiry:
            raise LinkOptionsError(
                f"links can last at most {format_duration(self.max_expiry)} here; "
                f"{format_duration(requested)} is too long"
            )
        return requested

    def check_options(self, options: LinkOptions) -> None:
        """Validate options before any Wix call; raises LinkOptionsError."""
        self.resolve_expiry(options.expires_in)
        if len(options.asset_keys) > MAX_ASSET_KEYS:
            raise LinkOptionsError(f"ask for at most {MAX_ASSET_KEYS} renditions at a time")
        for key in options.asset_keys:
            if not key or len(key) > 100 or any(c.isspace() for c in key):
                raise LinkOptionsError(f"{key[:40]!r} is not a rendition name (like src or 720p)")
        name = options.download_file_name
        if name is not None and (not name.strip() or len(name) > MAX_DOWNLOAD_NAME):
            raise LinkOptionsError(
                f"the download file name must be 1 to {MAX_DOWNLOAD_NAME} characters"
            )

    async def generate(
        self, refs: Sequence[MediaRef], options: LinkOptions | None = None
    ) -> list[FileLinks]:
        """One result per distinct file, in the order given."""
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
        # Computed before the calls, so the expiry we show is never later than
        # Wix's (the response carries no expiry of its own).
        expires_at = self._now() + timedelta(minutes=minutes)

        ids = [ref.file_id for ref in unique]
        facts_task = asyncio.create_task(self._facts(ids))
        try:
            results = await asyncio.gather(
                *(self._links_for(ref, options, minutes, expires_at) for ref in unique)
            )
        finally:
            facts = await facts_task
        if facts is None:
            # The bulk call fails whole when one ID is unknown; ask again for the
            # files that exist (a second round trip, only in that case).
            found = [result.file_id for result in results if result.ok]
            facts = await self._facts(found) if found and len(found) < len(ids) else {}
        return [_with_facts(result, (facts or {}).get(result.file_id)) for result in results]

    async def _facts(self, file_ids: Sequence[str]) -> dict[str, FileFacts] | None:
        """Descriptor facts by file ID; ``None`` when an ID was not found."""
        if not file_ids:
            return {}
        try:
            descriptors = await self.client.get_file_descriptors(file_ids)
        except NotFoundError:
            return None if len(file_ids) > 1 else {}
        except WixError as error:
            # Facts are a courtesy: links can still be made without them.
            logger.info("file descriptors unavailable: %s", type(error).__name__)
            return {}
        return {descriptor.id: facts_from_descriptor(descriptor) for descriptor in descriptors}

    async def _links_for(
        self, ref: MediaRef, options: LinkOptions, minutes: int, expires_at: datetime
    ) -> FileLinks:
        keys = options.asset_keys or (ORIGINAL,)
        try:
            urls = await self._request(ref.file_id, keys, options, minutes)
        except InvalidAssetKeyError as refusal:
            return await self._links_per_key(
                ref,
                keys=keys,
                options=options,
                minutes=minutes,
                expires_at=expires_at,
                refusal=refusal,
            )
        except WixError as error:
            return FileLinks(ref=ref, error=error)
        return FileLinks(ref=ref, links=_links(urls), expires_at=expires_at)

    async def _links_per_key(
        self,
        ref: MediaRef,
        *,
        keys: Sequence[str],
        options: LinkOptions,
        minutes: int,
        expires_at: datetime,
        refusal: InvalidAssetKeyError,
    ) -> FileLinks:
        """Find which keys Wix refused; fall back to the original if none worked.

        Wix fails the whole call for one unknown key and does not say which
        (UNCONFIRMED whether it ever returns partial results), so each key is
        asked for on its own.
        """
        good: list[DownloadUrl] = []
        refused: list[str] = []
        if len(keys) > 1:
            outcomes = await asyncio.gather(
                *(self._request(ref.file_id, (key,), options, minutes) for key in keys),
                return_exceptions=True,
            )
            for key, outcome in zip(keys, outcomes, strict=True):
                if isinstance(outcome, InvalidAssetKeyError):
                    refused.append(key)
                elif isinstance(outcome, WixError):
                    return FileLinks(ref=ref, error=outcome)
                elif isinstance(outcome, BaseException):
                    raise outcome
                else:
                    good.extend(outcome)
        else:
            refused = list(keys)
        if not good and ORIGINAL not in refused:
            try:
                good = await self._request(ref.file_id, (ORIGINAL,), options, minutes)
            except WixError as error:
                return FileLinks(ref=ref, error=error, invalid_asset_keys=tuple(refused))
        if not good:
            return FileLinks(
                ref=ref,
                error=refusal,
                invalid_asset_keys=tuple(refused),
            )
        return FileLinks(
            ref=ref, links=_links(good), expires_at=expires_at, invalid_asset_keys=tuple(refused)
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
