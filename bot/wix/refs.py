"""Find Wix media references in pasted text: ``parse_media_refs``.

Pure and offline: it never fetches anything and knows nothing of Slack beyond the
text forms Slack sends (``<url>``, ``<url|label>``, ``&amp;``). Every form handled here
is catalogued in docs/wix.md, URL forms;
"form N" in a comment points at form N there.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import pairwise
from urllib.parse import unquote

from bot.wix.limits import MAX_FILE_ID_LENGTH

__all__ = [
    "DEFAULT_MAX_REFS",
    "MAX_TOKEN_CHARS",
    "MediaRef",
    "MediaType",
    "ParseResult",
    "RejectedToken",
    "parse_media_ref",
    "parse_media_refs",
]

DEFAULT_MAX_REFS = 50
# Longest token we read. A signed download URL holds a ~1 kB JWT (docs/wix.md, Signed URL forms),
# so this leaves room for it while keeping every regex below on a short string.
MAX_TOKEN_CHARS = 4096
# Wix's `fileId` maxLength (docs/wix.md, Limits).
# Rejected text is shown to people; a pasted megabyte is not.
_MAX_REJECTED_TEXT_CHARS = 200


class MediaType(enum.StrEnum):
    """Best guess at the kind of file, from the URL scheme, host, path or extension."""

    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"
    VECTOR = "vector"
    ARCHIVE = "archive"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class MediaRef:
    """One Wix media file a person referred to.

    ``source`` is the text as pasted (after Slack unwrapping); for a signed
    ``download-files.wixmp.com`` link it still holds the token, so do not log it.
    """

    file_id: str
    media_type: MediaType
    filename: str | None
    # A pasted signed link keeps its token here: out of reprs, so out of logs.
    source: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class RejectedToken:
    """Something that looked like a link or file ID but cannot be used, and why."""

    text: str
    reason: str


@dataclass(frozen=True, slots=True)
class ParseResult:
    refs: tuple[MediaRef, ...]
    rejected: tuple[RejectedToken, ...]


_EXTENSIONS_BY_TYPE: dict[MediaType, str] = {
    MediaType.IMAGE: "jpg jpeg jpe jfif png gif webp bmp tif tiff heic heif avif ico",
    MediaType.VECTOR: "svg",
    MediaType.AUDIO: "mp3 wav m4a aac ogg oga opus flac wma aif aiff mid midi",
    MediaType.VIDEO: "mp4 m4v mov avi wmv mkv webm mpg mpeg 3gp flv ogv mts",
    MediaType.DOCUMENT: "pdf doc docx xls xlsx ppt pptx pps ppsx txt csv rtf odt ods odp odg "
    "epub pages numbers key md json xml",
    MediaType.ARCHIVE: "zip rar 7z tar gz tgz bz2 xz",
}
_EXTENSION_TYPES = {
    extension: media_type
    for media_type, extensions in _EXTENSIONS_BY_TYPE.items()
    for extension in extensions.split()
}

_WIX_KINDS: dict[str, MediaType] = {
    "image": MediaType.IMAGE,
    "video": MediaType.VIDEO,
    "audio": MediaType.AUDIO,
    "document": MediaType.DOCUMENT,
    "vector": MediaType.VECTOR,
}
# `image://…` etc. without `wix:`: legacy, still accepted (docs/wix.md, Wix media URL grammar).
_LEGACY_SCHEMES = frozenset({"image", "video", "document", "audio"})

# Slack: `<target>` or `<target|label>` (the label is display text only), else a bare word.
# The target may not contain whitespace, so a stray `<` in raw text cannot swallow a sentence.
_SLACK_TOKEN = re.compile(r"<(?P<target>[^<>|\s]*)(?:\|[^<>]*)?>|(?P<word>[^\s<>]+)")
_ANGLE = re.compile(r"[<>]")
_LIST_SEPARATOR = re.compile(r"[,;]")
# Where a link starts inside a word. The look-behind keeps the search linear: it only tries
# at the start of a run of scheme characters.
_LINK_START = re.compile(r"(?<![A-Za-z0-9+.\-])(?:wix:|[A-Za-z][A-Za-z0-9+.\-]*://)", re.IGNORECASE)
_SCHEME = re.compile(r"(?P<name>[A-Za-z][A-Za-z0-9+.\-]*)://")
_WIX_SCHEME = re.compile(r"wix:(?P<kind>[A-Za-z0-9]+)://", re.IGNORECASE)
_LOOKS_LIKE_LINK = re.compile(r"wix:|[A-Za-z][A-Za-z0-9+.\-]{0,40}://", re.IGNORECASE)
_SCHEMELESS_HOST = re.compile(r"(?P<host>[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)+)(?::\d+)?/")
_WEB_URL = re.compile(
    r"(?:[A-Za-z][A-Za-z0-9+.\-]*://)?(?P<authority>[^/?#]*)(?P<path>[^?#]*)"
    r"(?:\?(?P<query>[^#]*))?(?:#.*)?",
    re.DOTALL,
)
_PORT = re.compile(r":\d*\Z")
# Legacy image URLs put `<w>_<h>` after the ID (docs/wix.md, Wix media URL grammar).
_LEGACY_SIZE = re.compile(r"\d+_\d+")

# File ID shapes (docs/wix.md, File ID shapes). The 32-character part is not always hex in Wix's own
# examples (form 2: `f6c0f9_tg439f…`), so allow any lowercase letters there, but require
# mostly hex (_id_match) so that ordinary words are never taken for IDs.
_MODERN_ID = re.compile(
    r"[0-9a-f]{6}_(?P<body>[0-9a-z]{32})(?:~mv2[0-9A-Za-z_]*)?(?:\.[0-9A-Za-z]{1,10}){0,2}"
)
_LEGACY_ID = re.compile(r"[0-9a-f]{32}(?:\.[0-9A-Za-z]{1,10}){1,2}")
_VIDEO_ID = re.compile(r"[0-9a-f]{6}_(?P<body>[0-9a-z]{32})")
# Form 15, UNCONFIRMED as a rule: a video's poster frames are `<video ID>f00N.jpg` images.
_POSTER_ID = re.compile(r"(?P<video>[0-9a-f]{6}_(?P<body>[0-9a-z]{32}))f\d{3}\.[A-Za-z]{3,4}")
_EXTENSION = re.compile(r"[0-9A-Za-z]{1,10}")
_MIN_HEX_IN_ID_BODY = 24
_HEX_DIGITS = frozenset("0123456789abcdef")
# Characters no Wix file ID contains; after URL-decoding they mean a mangled link.
_BAD_ID_CHARACTER = re.compile(r"[\s/\\?#<>\"'`|\x00-\x1f\x7f]")
_SECRET_QUERY_VALUE = re.compile(r"(?i)([?&](?:token|signature|sig)=)[^&#]*")

_LEADING_JUNK = "([{\"'`*_~\u2018\u201c\u00ab"
_TRAILING_JUNK = ".,;:!?)]}\"'`*_~\u2019\u201d\u00bb\u2026"

_NOT_WIX = (
    "this is not a Wix media URL, so it was skipped; paste the URL of a file "
    "in your Wix Media Manager"
)
_COPY_FULL_URL = "copy the file's full URL from the Wix Media Manager"


def parse_media_refs(text: str, *, max_refs: int = DEFAULT_MAX_REFS) -> ParseResult:
    """Find every Wix media reference in free text (a Slack message, a command's text).

    References keep their order and are de-duplicated by file ID (the first wins).
    Links and IDs that cannot be used are returned in ``rejected`` with a reason;
    words that are neither links nor IDs are ignored. At most ``max_refs`` references
    are kept; the rest are rejected with a reason that states the limit.
    """
    if max_refs < 1:
        raise ValueError(f"max_refs must be at least 1, not {max_refs}")
    refs: list[MediaRef] = []
    rejected: list[RejectedToken] = []
    seen_ids: set[str] = set()
    seen_rejected: set[str] = set()
    for candidate in _candidates(text):
        result = _classify(candidate)
        if result is None:
            continue
        if isinstance(result, MediaRef):
            if result.file_id in seen_ids:
                continue
            seen_ids.add(result.file_id)
            if len(refs) < max_refs:
                refs.append(result)
                continue
            result = _reject(
                result.source,
                f"over the limit of {max_refs} files per request; send the rest in another request",
            )
        if result.text not in seen_rejected:
            seen_rejected.add(result.text)
            rejected.append(result)
    return ParseResult(refs=tuple(refs), rejected=tuple(rejected))


def parse_media_ref(token: str) -> MediaRef | RejectedToken | None:
    """Read one pasted token (Slack wrapping and punctuation allowed).

    Returns None when the token is neither a link nor a file ID, so callers can ignore it.
    """
    for candidate in _candidates(token):
        result = _classify(candidate)
        if result is not None:
            return result
    return None


# --- splitting text into candidates -------------------------------------------------------


def _candidates(text: str) -> Iterator[str]:
    for match in _SLACK_TOKEN.finditer(text):
        target = match["target"]
        if target is None:
            yield from _split_word(match["word"])
        elif target and target[0] not in "@#!":  # <@U…>, <#C…|name>, <!here> are mentions
            yield _trim(_unescape_slack(target))


def _split_word(word: str) -> Iterator[str]:
    # `&lt;`/`&gt;` decode to angle brackets, which never belong inside a URL.
    for part in _ANGLE.split(_unescape_slack(word)):
        yield from _split_part(part)


def _split_part(part: str) -> Iterator[str]:
    """Split `a,https://b;wix:c` into links; a link may not start mid-URL (`?u=https://…`)."""
    starts = [match.start() for match in _LINK_START.finditer(part)]
    cuts = [start for index, start in enumerate(starts) if index == 0 or part[start - 1] in ",;"]
    prefix = part[: cuts[0]] if cuts else part
    if "/" in prefix:  # maybe a link without its scheme: static.wixstatic.com/media/…
        yield _trim(prefix)
    else:  # maybe bare IDs, possibly a comma-separated list
        yield from (_trim(piece) for piece in _LIST_SEPARATOR.split(prefix))
    for begin, end in pairwise([*cuts, len(part)]):
        yield _trim(part[begin:end])


def _unescape_slack(text: str) -> str:
    # Slack escapes these (docs/slack.md, Text escaping); `&amp;` last: `&amp;lt;` stays `&lt;`.
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _trim(candidate: str) -> str:
    return candidate.lstrip(_LEADING_JUNK).rstrip(_TRAILING_JUNK)


# --- classifying one candidate ------------------------------------------------------------


def _classify(candidate: str) -> MediaRef | RejectedToken | None:
    if not candidate:
        return None
    if len(candidate) > MAX_TOKEN_CHARS:
        if _LOOKS_LIKE_LINK.match(candidate):
            return _reject(
                candidate,
                f"this is longer than {MAX_TOKEN_CHARS} characters, too long to be a Wix "
                "media URL; paste the file's URL on its own",
            )
        return None
    if candidate[:4].lower() == "wix:":
        wix = _WIX_SCHEME.match(candidate)
        if wix is None:
            return _reject(
                candidate,
                "this wix: address has no media type and file ID; it should look like "
                "wix:image://v1/<file ID>/…",
            )
        return _from_wix_path(candidate, wix["kind"].lower(), candidate[wix.end() :])
    scheme = _SCHEME.match(candidate)
    if scheme is not None:
        name = scheme["name"].lower()
        if name in _LEGACY_SCHEMES:
            return _from_wix_path(candidate, name, candidate[scheme.end() :])
        if name in {"http", "https"}:
            return _from_web(candidate)
        return _reject(candidate, _NOT_WIX)
    schemeless = _SCHEMELESS_HOST.match(candidate)
    if schemeless is not None and (
        _is_media_host(schemeless["host"].lower()) or "/_files/ugd/" in candidate.lower()
    ):
        return _from_web(candidate)
    return _from_bare_id(candidate)


def _from_wix_path(source: str, kind: str, rest: str) -> MediaRef | RejectedToken:
    """`wix:<kind>://v1/[ugd/]<id>[/<name>][/][#…]` and legacy `<kind>://v1/…` (docs/wix.md)."""
    scheme = f"wix:{kind}://" if source[:4].lower() == "wix:" else f"{kind}://"
    segments = rest.split("#", 1)[0].split("?", 1)[0].split("/")
    if segments[0].lower() != "v1":
        return _reject(source, f"this {scheme} address has no v1/ part before the file ID")
    segments = segments[1:]
    if segments and segments[0].lower() == "ugd":  # form 7: the ID follows `ugd/`
        segments = segments[1:]
        if not segments or not segments[0]:
            return _reject(source, f"this {scheme} address has no file ID after v1/ugd/")
    if not segments or not segments[0]:
        return _reject(source, f"this {scheme} address has no file ID after v1/")
    file_id = unquote(segments[0])
    if kind == "vector" and file_id.lower().startswith("svgshape."):
        # Form 10: Wix's built-in shapes live outside the Media Manager.
        return _reject(
            source,
            "this is one of Wix's built-in shapes, not a file in your Media Manager, "
            "so there is nothing to download",
        )
    name = segments[1] if len(segments) > 1 else ""
    if kind == "image" and len(segments) > 2 and _LEGACY_SIZE.fullmatch(name):
        name = segments[2]  # legacy image://v1/<id>/<w>_<h>/<name>
    media_type = _WIX_KINDS.get(kind) or _guess_type(file_id, MediaType.UNKNOWN)
    return _make_ref(source, file_id, media_type, _filename(name))


def _from_web(source: str) -> MediaRef | RejectedToken:
    """http(s) URLs (docs/wix.md, Extraction rule, step 2); `source` may lack its scheme."""
    url = _WEB_URL.fullmatch(source)
    if url is None:  # pragma: no cover - the pattern matches every string
        return _reject(source, _NOT_WIX)
    host = _PORT.sub("", url["authority"].rpartition("@")[2]).lower().rstrip(".")
    segments = [segment for segment in url["path"].split("/") if segment]
    lowered = [segment.lower() for segment in segments]
    query = url["query"] or ""
    first = lowered[0] if lowered else ""

    if _host_is(host, "wixmp.com") and (host == "archive.wixmp.com" or first == "archive"):
        # Form 28: the permanent zip from generate-download-url, not one file.
        return _reject(
            source,
            "this is a zip archive link from Wix, not a single file; paste the URLs of "
            "the individual files instead",
        )
    for index in range(len(lowered) - 1):
        if lowered[index] == "_files" and lowered[index + 1] == "ugd":
            # Forms 22-23: `<any host>/_files/ugd/<id>`, including custom domains.
            return _from_segment(
                source, segments, index + 2, "/_files/ugd/", query, fallback=MediaType.DOCUMENT
            )
    if _host_is(host, "wixmp.com"):
        # Form 27: signed download links; the token in the query is never read.
        if first in {"media", "ugd", "raw", "archives"}:
            fallback = {"ugd": MediaType.DOCUMENT, "archives": MediaType.ARCHIVE}.get(
                first, MediaType.UNKNOWN
            )
            return _from_segment(source, segments, 1, f"/{first}/", query, fallback=fallback)
        return _missing(source, "this Wix download link", "/media/, /ugd/, /raw/ or /archives/")
    if _host_is(host, "wixstatic.com"):
        if first == "media":  # forms 11-15, with or without /v1/fill|fit|crop/… transforms
            return _from_segment(source, segments, 1, "/media/", query, transform_name=True)
        if first == "shapes":  # form 26
            return _from_segment(source, segments, 1, "/shapes/", query, force=MediaType.VECTOR)
        if first == "mp3":  # form 19, and the SDK's static.wixstatic.com/mp3/
            return _from_segment(source, segments, 1, "/mp3/", query, force=MediaType.AUDIO)
        if first == "ugd":  # forms 24-25
            return _from_segment(source, segments, 1, "/ugd/", query, fallback=MediaType.DOCUMENT)
        if first == "video":  # forms 16-17; the trailing `file.mp4` names a rendition, not a file
            return _from_segment(source, segments, 1, "/video/", "", force=MediaType.VIDEO)
        return _missing(source, "this Wix address", "/media/, /shapes/, /mp3/, /ugd/ or /video/")
    if _host_is(host, "usrfiles.com") or _host_is(host, "filesusr.com"):
        if first == "ugd":  # forms 20-21; `?dn=` carries the display name
            return _from_segment(source, segments, 1, "/ugd/", query, fallback=MediaType.DOCUMENT)
        return _missing(source, "this Wix file address", "/ugd/")
    if _host_is(host, "wix.com"):
        if lowered[:3] == ["site", "media", "video"]:  # form 18
            return _from_segment(
                source, segments, 3, "/site/media/video/", "", force=MediaType.VIDEO
            )
        if host == "files.wix.com":
            return _missing(source, "this Wix file address", "/site/media/video/")
        return _reject(
            source, f"this is a Wix address, but not the URL of a media file; {_COPY_FULL_URL}"
        )
    return _reject(source, _NOT_WIX)


def _from_segment(
    source: str,
    segments: list[str],
    index: int,
    label: str,
    query: str,
    *,
    force: MediaType | None = None,
    fallback: MediaType = MediaType.UNKNOWN,
    transform_name: bool = False,
) -> MediaRef | RejectedToken:
    """The file ID is the path segment at `index` (after `label`), URL-decoded."""
    if index >= len(segments):
        return _reject(
            source,
            f"this Wix address has nothing after {label} where the file ID should be; "
            f"{_COPY_FULL_URL}",
        )
    file_id = unquote(segments[index])
    media_type = force or _guess_type(file_id, fallback)
    name = _query_value(query, "dn")
    rest = segments[index + 1 :]
    if name is None and transform_name and len(rest) >= 4 and rest[0].lower() == "v1":
        # Forms 12-13: /v1/<op>/<params>/<name>; the name's extension may differ from the ID's.
        name = _filename(rest[-1])
    return _make_ref(source, file_id, media_type, name)


def _from_bare_id(candidate: str) -> MediaRef | RejectedToken | None:
    """A pasted ID on its own (docs/wix.md, Extraction rule, step 3); poster frames fail later."""
    file_id = unquote(candidate)
    if (
        _id_match(_MODERN_ID, file_id)
        or _id_match(_POSTER_ID, file_id)
        or _LEGACY_ID.fullmatch(file_id)
    ):
        return _make_ref(candidate, file_id, _guess_type(file_id, MediaType.UNKNOWN), None)
    return None


def _make_ref(
    source: str, file_id: str, media_type: MediaType, filename: str | None
) -> MediaRef | RejectedToken:
    if len(file_id) > MAX_FILE_ID_LENGTH:
        return _reject(
            source,
            f"the file ID here is longer than Wix's limit of {MAX_FILE_ID_LENGTH} characters",
        )
    if file_id in {".", ".."} or _BAD_ID_CHARACTER.search(file_id):
        return _reject(
            source,
            f"the file ID here has characters a Wix file ID never has; {_COPY_FULL_URL}",
        )
    if media_type in {MediaType.IMAGE, MediaType.UNKNOWN}:
        poster = _id_match(_POSTER_ID, file_id)
        if poster is not None:
            # Form 15: UNCONFIRMED that stripping `f00N.jpg` always gives the video's ID.
            return _reject(
                source,
                "this is the poster image of a video, not the video itself; paste the "
                f"video's URL, or its ID, which is probably {poster['video']}",
            )
    return MediaRef(file_id=file_id, media_type=media_type, filename=filename, source=source)


# --- small helpers ------------------------------------------------------------------------


def _guess_type(file_id: str, fallback: MediaType) -> MediaType:
    if "~mv2" in file_id.lower():  # Media Manager images (docs/wix.md, File ID shapes)
        return MediaType.IMAGE
    _, dot, extension = file_id.rpartition(".")
    if dot and _EXTENSION.fullmatch(extension):
        return _EXTENSION_TYPES.get(extension.lower(), fallback)
    if _id_match(_VIDEO_ID, file_id):
        return MediaType.VIDEO  # only video IDs lack an extension (docs/wix.md, File ID shapes)
    return fallback


def _id_match(shape: re.Pattern[str], text: str) -> re.Match[str] | None:
    """`shape` matches all of `text` and its 32-character part is mostly hex."""
    match = shape.fullmatch(text)
    if match is None:
        return None
    hex_count = sum(character in _HEX_DIGITS for character in match["body"])
    return match if hex_count >= _MIN_HEX_IN_ID_BODY else None


def _host_is(host: str, domain: str) -> bool:
    return host == domain or host.endswith("." + domain)


def _is_media_host(host: str) -> bool:
    """Hosts that only serve media, so a link to them without `https://` is still one."""
    return host == "files.wix.com" or any(
        _host_is(host, domain)
        for domain in ("wixstatic.com", "wixmp.com", "usrfiles.com", "filesusr.com")
    )


def _query_value(query: str, key: str) -> str | None:
    for pair in query.split("&"):
        name, _, value = pair.partition("=")
        if unquote(name) == key:
            return _filename(value)
    return None


def _filename(raw: str) -> str | None:
    # The SDK encodeURIComponent-encodes filenames (docs/wix.md, Wix media URL grammar).
    return unquote(raw).strip() or None


def _missing(source: str, what: str, parts: str) -> RejectedToken:
    return _reject(source, f"{what} has no {parts} part followed by a file ID; {_COPY_FULL_URL}")


def _reject(text: str, reason: str) -> RejectedToken:
    # Rejected text is shown back to people (and may be logged): drop signed-URL tokens.
    shown = _SECRET_QUERY_VALUE.sub(r"\1…", text)
    if len(shown) > _MAX_REJECTED_TEXT_CHARS:
        shown = shown[:_MAX_REJECTED_TEXT_CHARS] + "…"
    return RejectedToken(text=shown, reason=reason)
