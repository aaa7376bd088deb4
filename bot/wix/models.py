"""Typed request and response models for the Wix Media Manager REST API.

Field names follow the REST JSON (camelCase, docs/wix.md, Base URL and conventions) through aliases;
Python code uses snake_case. Response models ignore fields they don't know, and
enum-like fields accept values Wix may add later, so a new Wix field or media type
never breaks parsing.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)
from pydantic.alias_generators import to_camel

from bot.wix.limits import (
    MAX_ASSET_KEY_LENGTH,
    MAX_ASSET_KEYS,
    MAX_DOWNLOAD_FILE_NAME_LENGTH,
    MAX_EXPIRATION_MINUTES,
    MAX_FILE_ID_LENGTH,
    MAX_GET_FILES_IDS,
    MAX_SEARCH_ANSWER_FILES,
    MAX_SEARCH_CURSOR_LENGTH,
    MAX_SEARCH_MEDIA_TYPES,
    MAX_SEARCH_PAGE_SIZE,
    MAX_SEARCH_TEXT_LENGTH,
    MAX_STREAM_EXPIRATION_MINUTES,
    MAX_ZIP_FILE_IDS,
    MIN_STREAM_EXPIRATION_MINUTES,
    SRC_ASSET_KEY,
)

# Video formats whose resolutions are plain downloadable files (hls is a stream manifest).
_DOWNLOADABLE_VIDEO_FORMATS: Final = frozenset({"mp4", "webm"})


def _int_or_none(value: object) -> object:
    """Wix sends sizes as decimal strings ("5918720"); unreadable values become None."""
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


LenientInt = Annotated[int | None, BeforeValidator(_int_or_none)]


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("a file id must be a non-empty string")
    return value


FileId = Annotated[
    str, StringConstraints(min_length=1, max_length=MAX_FILE_ID_LENGTH), AfterValidator(_not_blank)
]
"""A Media Manager file id (or a ``wix:`` media URL, which Wix accepts in its place)."""
AssetKey = Annotated[str, StringConstraints(min_length=1, max_length=MAX_ASSET_KEY_LENGTH)]


class _WixModel(BaseModel):
    model_config = ConfigDict(
        extra="ignore", populate_by_name=True, alias_generator=to_camel, frozen=True
    )


class MediaTypeName(StrEnum):
    """``FileDescriptor.mediaType`` values documented today (docs/wix.md, File descriptor)."""

    UNKNOWN = "UNKNOWN"
    IMAGE = "IMAGE"
    VIDEO = "VIDEO"
    AUDIO = "AUDIO"
    DOCUMENT = "DOCUMENT"
    VECTOR = "VECTOR"
    ARCHIVE = "ARCHIVE"
    MODEL3D = "MODEL3D"
    OTHER = "OTHER"


def _media_type(value: object) -> object:
    """Known names become ``MediaTypeName``; future names (``FONT``, ``ICON``…) stay strings."""
    if isinstance(value, str) and value in MediaTypeName.__members__:
        return MediaTypeName(value)
    return value


class ContentDisposition(StrEnum):
    """How the browser treats a download link: save the file, or open it in place."""

    ATTACHMENT = "ATTACHMENT"
    INLINE = "INLINE"


class ImageInfo(_WixModel):
    id: str | None = None
    url: str | None = None
    height: int | None = None
    width: int | None = None
    filename: str | None = None
    alt_text: str | None = None
    url_expiration_date: str | None = None
    size_in_bytes: LenientInt = None


class ImageMedia(_WixModel):
    """``media.image`` and ``media.vector``: ``{image: {...}, colors, faces, previewImage}``."""

    image: ImageInfo | None = None
    preview_image: ImageInfo | None = None
    caption: str | None = None


class VideoResolution(_WixModel):
    url: str | None = None
    height: int | None = None
    width: int | None = None
    format: str | None = None
    quality: str | None = None
    # An image object in the 2023 spec; tolerate a bare URL/ID as well.
    poster: Annotated[ImageInfo | str | None, Field(union_mode="left_to_right")] = None
    filename: str | None = None
    size_in_bytes: LenientInt = None
    url_expiration_date: str | None = None


class VideoMedia(_WixModel):
    id: str | None = None
    url: str | None = None
    filename: str | None = None
    size_in_bytes: LenientInt = None
    url_expiration_date: str | None = None
    resolutions: list[VideoResolution] = Field(default_factory=list)
    posters: list[ImageInfo] = Field(default_factory=list)


class AudioAsset(_WixModel):
    id: str | None = None
    url: str | None = None
    filename: str | None = None
    format: str | None = None
    asset_key: str | None = None
    size_in_bytes: LenientInt = None


class AudioMedia(_WixModel):
    id: str | None = None
    assets: list[AudioAsset] = Field(default_factory=list)
    bitrate: int | None = None
    format: str | None = None
    duration: float | None = None
    size_in_bytes: LenientInt = None


class DocumentMedia(_WixModel):
    id: str | None = None
    url: str | None = None
    filename: str | None = None
    thumbnail: Annotated[ImageInfo | str | None, Field(union_mode="left_to_right")] = None
    url_expiration_date: str | None = None


class ArchiveMedia(_WixModel):
    """``media.archive`` and ``media.model3d`` share these fields."""

    id: str | None = None
    url: str | None = None
    filename: str | None = None
    size_in_bytes: LenientInt = None
    url_expiration_date: str | None = None


class FileMedia(_WixModel):
    """``FileDescriptor.media``: one of these is set, matching ``mediaType``."""

    image: ImageMedia | None = None
    video: VideoMedia | None = None
    audio: AudioMedia | None = None
    document: DocumentMedia | None = None
    vector: ImageMedia | None = None
    archive: ArchiveMedia | None = None
    model3d: ArchiveMedia | None = Field(default=None, alias="model3d")


class FileDescriptor(_WixModel):
    """A file as ``get-file-by-id`` / ``get-files`` return it (docs/wix.md, File descriptor)."""

    id: str
    display_name: str | None = None
    url: str | None = None
    parent_folder_id: str | None = None
    hash: str | None = None
    size_in_bytes: LenientInt = None
    private: bool = False
    media_type: Annotated[MediaTypeName | str, BeforeValidator(_media_type)] = MediaTypeName.UNKNOWN
    media: FileMedia = Field(default_factory=FileMedia)
    operation_status: str | None = None
    source_url: str | None = None
    thumbnail_url: str | None = None
    labels: list[str] = Field(default_factory=list)
    created_date: datetime | None = None
    updated_date: datetime | None = None
    site_id: str | None = None
    state: str | None = None

    @property
    def rendition_keys(self) -> tuple[str, ...]:
        """Asset keys other than ``src`` that this descriptor suggests can be downloaded.

        UNCONFIRMED (docs/wix.md, Asset keys): only ``src`` is documented. Video keys are built as
        ``"<quality>.<format>"`` (``720p.mp4``) from ``media.video.resolutions`` — the
        SDK's "possible values" list — skipping storyboard previews and stream manifests
        (hls). Audio keys are the asset's ``assetKey`` when present, else its
        ``filename`` (the only doc example is ``320kbs.mp3``). Wix rejects the whole
        call with INVALID_ASSET_KEY if a key is wrong, so callers must be ready to fall
        back to ``src``.
        """
        keys: list[str] = []
        video = self.media.video
        if video is not None:
            for res in video.resolutions:
                fmt = (res.format or "").lower()
                if not res.quality or fmt not in _DOWNLOADABLE_VIDEO_FORMATS:
                    continue
                if res.url and "/storyboard/" in res.url:
                    continue
                keys.append(f"{res.quality}.{fmt}")
        audio = self.media.audio
        if audio is not None:
            for asset in audio.assets:
                key = asset.asset_key or asset.filename
                if key:
                    keys.append(key)
        return tuple(k for k in dict.fromkeys(keys) if k != SRC_ASSET_KEY)


class DownloadUrl(_WixModel):
    """One entry of ``downloadUrls``: a signed, expiring link for one asset key.

    The URL is a bearer credential for the file, so it is kept out of ``repr()``.
    """

    url: str = Field(repr=False)
    asset_key: str = SRC_ASSET_KEY


class GenerateFileDownloadUrlRequest(_WixModel):
    """Body of ``POST /site-media/v1/files/generate-file-download-url`` (docs/wix.md, Limits)."""

    file_id: FileId
    download_file_name: str | None = Field(
        default=None, min_length=1, max_length=MAX_DOWNLOAD_FILE_NAME_LENGTH
    )
    # An integer: the 2023 doc example sent "60" as a string, which is UNCONFIRMED.
    expiration_in_minutes: int | None = Field(
        default=None, ge=1, le=MAX_EXPIRATION_MINUTES, strict=True
    )
    expiration_redirect_url: str | None = None
    asset_keys: list[AssetKey] | None = Field(default=None, min_length=1, max_length=MAX_ASSET_KEYS)
    content_disposition: ContentDisposition | None = None

    def to_json(self) -> dict[str, object]:
        """The JSON body: REST field names, unset fields omitted."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class GetFileDescriptorsRequest(_WixModel):
    """Body of ``POST /site-media/v1/files/get-files`` (one chunk)."""

    file_ids: list[FileId] = Field(min_length=1, max_length=MAX_GET_FILES_IDS)

    def to_json(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True)


class GenerateFilesDownloadUrlRequest(_WixModel):
    """Body of ``POST /site-media/v1/files/generate-download-url`` (a permanent zip URL)."""

    file_ids: list[FileId] = Field(min_length=1, max_length=MAX_ZIP_FILE_IDS)

    def to_json(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True)


class GenerateFileDownloadUrlResponse(_WixModel):
    download_urls: list[DownloadUrl] = Field(default_factory=list)


class GetFileDescriptorResponse(_WixModel):
    file: FileDescriptor


class GetFileDescriptorsResponse(_WixModel):
    files: list[FileDescriptor] = Field(default_factory=list)


class GenerateFilesDownloadUrlResponse(_WixModel):
    download_url: str = Field(repr=False)


# -- finding files and streaming videos (docs/wix.md, Finding files; Video streaming) --


class RootFolder(StrEnum):
    """Where a search looks: the Site Files tab (Wix's default), the trash, visitor uploads."""

    MEDIA_ROOT = "MEDIA_ROOT"
    TRASH_ROOT = "TRASH_ROOT"
    VISITOR_UPLOADS_ROOT = "VISITOR_UPLOADS_ROOT"


class SearchSortField(StrEnum):
    """The fields a search can be sorted by (Wix's default: ``updatedDate``, newest first)."""

    DISPLAY_NAME = "displayName"
    UPDATED_DATE = "updatedDate"
    SIZE_IN_BYTES = "sizeInBytes"


class SortOrder(StrEnum):
    ASC = "ASC"
    DESC = "DESC"


class StreamFormat(StrEnum):
    """Streaming protocols ``generate-video-stream-url`` offers."""

    HLS = "HLS"
    DASH = "DASH"


SearchMediaType = Literal[
    "IMAGE", "VIDEO", "AUDIO", "DOCUMENT", "VECTOR", "ARCHIVE", "MODEL3D", "OTHER"
]
"""The media types a search may be narrowed to (``UNKNOWN`` is not one of them)."""

SearchCursor = Annotated[str, StringConstraints(min_length=1, max_length=MAX_SEARCH_CURSOR_LENGTH)]


class SearchSort(_WixModel):
    field_name: SearchSortField
    order: SortOrder = SortOrder.DESC


class CursorPaging(_WixModel):
    limit: int | None = Field(default=None, ge=1, le=MAX_SEARCH_PAGE_SIZE, strict=True)
    cursor: SearchCursor | None = None


class SearchFilesRequest(_WixModel):
    """Body of ``POST /site-media/v1/files/search``; every field is optional."""

    search: str | None = Field(default=None, max_length=MAX_SEARCH_TEXT_LENGTH)
    root_folder: RootFolder | None = None
    media_types: list[SearchMediaType] | None = Field(
        default=None, min_length=1, max_length=MAX_SEARCH_MEDIA_TYPES
    )
    # True: only private files; False: only public ones; None: both.
    private: bool | None = None
    sort: SearchSort | None = None
    paging: CursorPaging | None = None

    def to_json(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class Cursors(_WixModel):
    next: str | None = None


class PagingMetadata(_WixModel):
    cursors: Cursors = Field(default_factory=Cursors)


def _at_most_answer_files(value: object) -> object:
    """Wix sends at most 200 files an answer; more is cut, not a parse failure."""
    if isinstance(value, list) and len(value) > MAX_SEARCH_ANSWER_FILES:
        return value[:MAX_SEARCH_ANSWER_FILES]
    return value


class SearchFilesResponse(_WixModel):
    """``{files, nextCursor: {cursors: {next}}}``; ``next_page`` is None on the last page."""

    files: Annotated[list[FileDescriptor], BeforeValidator(_at_most_answer_files)] = Field(
        default_factory=list
    )
    next_cursor: PagingMetadata | None = None

    @property
    def next_page(self) -> str | None:
        """The cursor for the next page, or None when there is none."""
        if self.next_cursor is None:
            return None
        return self.next_cursor.cursors.next or None


class GenerateVideoStreamUrlRequest(_WixModel):
    """Body of ``POST /site-media/v1/files/generate-video-stream-url``."""

    file_id: FileId
    format: StreamFormat = StreamFormat.HLS
    # Applies to private videos only; Wix's default is 1440.
    expiration_in_minutes: int | None = Field(
        default=None,
        ge=MIN_STREAM_EXPIRATION_MINUTES,
        le=MAX_STREAM_EXPIRATION_MINUTES,
        strict=True,
    )

    def to_json(self) -> dict[str, object]:
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)


class GenerateVideoStreamUrlResponse(_WixModel):
    download_url: DownloadUrl
