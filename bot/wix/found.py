"""What a search of the Media Manager found, and what a stream link is, for every surface.

``LinkService.find_files`` turns Wix's search answer into ``FoundFiles``;
``LinkService.stream_link`` returns a ``StreamLink``. Both live here so the Slack layer
and the CLI read the same few facts and never Wix's descriptor shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final
from urllib.parse import urlsplit

from bot.wix.errors import WixError
from bot.wix.models import FileDescriptor, MediaTypeName, SearchMediaType, StreamFormat
from bot.wix.refs import MediaType

# The media types a person can narrow a search to, as Wix names them.
SEARCH_MEDIA_TYPES: Final[dict[MediaType, SearchMediaType]] = {
    MediaType.IMAGE: "IMAGE",
    MediaType.VIDEO: "VIDEO",
    MediaType.AUDIO: "AUDIO",
    MediaType.DOCUMENT: "DOCUMENT",
    MediaType.VECTOR: "VECTOR",
    MediaType.ARCHIVE: "ARCHIVE",
}
# What people type to narrow a search (`/medialink find … type=video`, `--type video`).
FIND_TYPE_NAMES: Final[dict[str, MediaType]] = {
    "video": MediaType.VIDEO,
    "image": MediaType.IMAGE,
    "audio": MediaType.AUDIO,
    "document": MediaType.DOCUMENT,
}
_FROM_WIX: Final[dict[str, MediaType]] = {name: kind for kind, name in SEARCH_MEDIA_TYPES.items()}

# Public image URLs are Wix's static host (docs/wix.md, Finding files); a thumbnail is
# shown only from there, with no query string, so a signed URL never is.
_STATIC_HOST: Final = "static.wixstatic.com"
_STATIC_PATH: Final = "/media/"
MAX_THUMBNAIL_URL_LENGTH: Final = 1000  # a static image URL is ~100 characters


class NotAVideoError(WixError):
    """A stream link was asked for a file that is not a video; no stream call was made."""

    def __init__(self) -> None:
        super().__init__("only videos can be streamed")


@dataclass(frozen=True, slots=True)
class FoundFile:
    """One search result: what a person needs to recognise the file."""

    file_id: str
    name: str
    media_type: MediaType
    size_bytes: int | None
    private: bool
    updated_at: datetime | None
    # A public static image URL (never a signed one), set for public images only.
    thumbnail_url: str | None = None


@dataclass(frozen=True, slots=True)
class FoundFiles:
    """One page of results; ``next_cursor`` is None on the last page."""

    files: tuple[FoundFile, ...]
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class StreamLink:
    """A streaming manifest URL for one video. ``expires_at`` None: it does not expire
    (a public video's stream URL)."""

    file_id: str
    name: str
    format: StreamFormat
    private: bool
    expires_at: datetime | None
    # A bearer URL for a private video: kept out of reprs, logs and tracebacks.
    url: str = field(repr=False)


def public_static_image_url(url: str | None) -> str | None:
    """``url`` if it is a plain public Wix static image URL, else None."""
    if not url or len(url) > MAX_THUMBNAIL_URL_LENGTH:
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if (
        parts.scheme != "https"
        or parts.hostname != _STATIC_HOST
        or parts.netloc != _STATIC_HOST
        or port is not None
        or not parts.path.startswith(_STATIC_PATH)
        or parts.query
        or parts.fragment
        or any(c.isspace() for c in url)
    ):
        return None
    return url


def thumbnail_of(descriptor: FileDescriptor) -> str | None:
    """A thumbnail for a public image: its static URL, never a private file's."""
    if descriptor.private or descriptor.media_type != MediaTypeName.IMAGE:
        return None
    image = descriptor.media.image
    candidates = (
        descriptor.thumbnail_url,
        image.image.url if image is not None and image.image is not None else None,
    )
    for candidate in candidates:
        url = public_static_image_url(candidate)
        if url is not None:
            return url
    return None


def found_file(descriptor: FileDescriptor) -> FoundFile:
    return FoundFile(
        file_id=descriptor.id,
        name=descriptor.display_name or descriptor.id,
        media_type=_FROM_WIX.get(str(descriptor.media_type).upper(), MediaType.UNKNOWN),
        size_bytes=descriptor.size_in_bytes,
        private=bool(descriptor.private),
        updated_at=descriptor.updated_date,
        thumbnail_url=thumbnail_of(descriptor),
    )
