"""What a reply's buttons remember: a compact, versioned token in each button's value.

The state travels with the message (JSON → zlib → URL-safe base64), so any replica
can serve a click and nothing is stored server-side. It is not signed, and need not
be: it holds nothing a person could not type into ``/medialink`` themselves. So every
click re-validates it like fresh input — the expiry against today's cap, every file
ID, every size — and only the person it was made for may use it (the clicking user
comes from Slack's signed payload).

Each file may name the connected Wix site it was found on (``FileState.site``, key
``s``), so a click makes links on that same site; the listener checks that the site is
still the clicker's workspace's. A token without sites (made before they were kept) is
read as before: the site is chosen again, as for typed input.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from bot.durations import MAX_PARSED_DURATION, format_duration, whole_minutes
from bot.sites.model import ENV_SITE_NAME, SiteInputError, check_name
from bot.slack.options import is_download_name, is_https_url
from bot.wix.links import MAX_RENDITIONS, ORIGINAL, LinkOptions
from bot.wix.refs import MediaRef, MediaType, RejectedToken, parse_media_ref

VERSION = 1
PREFIX = f"{VERSION}."
MAX_TOKEN_CHARS = 2000  # a button's value is at most 2000 characters (Block Kit)
MAX_FILES = 100
MAX_ASSET_KEY_CHARS = 100
MAX_FILENAME_CHARS = 60  # only a fallback label; Wix's descriptor names the file
MAX_REDIRECT_CHARS = 1000
_MAX_JSON_BYTES = 64 * 1024  # a 2000-character token never inflates further than this

_USER_ID = re.compile(r"[UWB][A-Z0-9]{1,40}")
_FILE_ID = re.compile(r"[^\s/\\?#<>\"'`|\x00-\x1f\x7f]{1,1000}")
_ASSET_KEY = re.compile(r"[^\s\x00-\x1f\x7f]{1,100}")
_TYPE_CODES = {
    MediaType.IMAGE: "i",
    MediaType.VIDEO: "v",
    MediaType.AUDIO: "a",
    MediaType.DOCUMENT: "d",
    MediaType.VECTOR: "s",
    MediaType.ARCHIVE: "z",
    MediaType.UNKNOWN: "u",
}
_TYPES_BY_CODE = {code: media_type for media_type, code in _TYPE_CODES.items()}

STALE_BUTTONS = "These buttons no longer work. Run /medialink again for fresh ones."


class StateError(ValueError):
    """A button's state cannot be used; ``str()`` is a sentence for the person."""


class NotYourButtonsError(StateError):
    """Someone other than the person the reply was made for clicked its buttons."""

    def __init__(self, owner_id: str) -> None:
        super().__init__(
            f"Only <@{owner_id}> can use these buttons. Run /medialink to get links of your own."
        )
        self.owner_id = owner_id


@dataclass(frozen=True, slots=True)
class FileState:
    """One file of a reply: its ID, a guess at its type and name, and its renditions."""

    file_id: str
    media_type: MediaType = MediaType.UNKNOWN
    filename: str | None = None
    asset_keys: tuple[str, ...] | None = None  # None: the reply's own asset keys
    site: str | None = None  # the connected site it is on; None: chosen as for typed input

    def ref(self) -> MediaRef:
        return MediaRef(
            file_id=self.file_id,
            media_type=self.media_type,
            filename=self.filename,
            source=self.file_id,
        )


@dataclass(frozen=True, slots=True)
class LinkState:
    """Everything needed to make a reply's links again, for the person who asked."""

    user_id: str
    files: tuple[FileState, ...]
    expires_minutes: int
    asset_keys: tuple[str, ...] = ()  # empty: the original
    download_file_name: str | None = None
    inline: bool = False
    redirect_url: str | None = None

    @classmethod
    def for_request(cls, user_id: str, refs: Sequence[MediaRef], options: LinkOptions) -> LinkState:
        """The state of a fresh request, whose options carry the resolved expiry."""
        if options.expires_in is None:
            raise ValueError("resolve the expiry before building button state")
        return cls(
            user_id=user_id,
            files=tuple(file_state(ref) for ref in refs),
            expires_minutes=whole_minutes(options.expires_in),
            asset_keys=options.asset_keys,
            download_file_name=options.download_file_name,
            inline=options.inline,
            redirect_url=options.redirect_url,
        )

    @property
    def expires_in(self) -> timedelta:
        return timedelta(minutes=self.expires_minutes)

    def keys_for(self, file: FileState) -> tuple[str, ...]:
        return file.asset_keys if file.asset_keys is not None else self.asset_keys

    def options_for(self, keys: tuple[str, ...]) -> LinkOptions:
        return LinkOptions(
            expires_in=self.expires_in,
            asset_keys=keys,
            redirect_url=self.redirect_url,
            download_file_name=self.download_file_name,
            inline=self.inline,
        )

    def requests(self) -> list[tuple[tuple[MediaRef, ...], LinkOptions]]:
        """The link-service calls that remake these links: one per set of asset keys."""
        groups: dict[tuple[str, ...], list[MediaRef]] = {}
        for file in self.files:
            groups.setdefault(self.keys_for(file), []).append(file.ref())
        return [(tuple(refs), self.options_for(keys)) for keys, refs in groups.items()]

    def sites(self) -> dict[str, str]:
        """File ID → the site each file is on, for the files that name one."""
        return {file.file_id: file.site for file in self.files if file.site is not None}

    def with_sites(self, sites: Mapping[str, str | None]) -> LinkState:
        """The files on the sites given (file ID → site name); others keep theirs."""
        return replace(
            self,
            files=tuple(
                replace(file, site=sites.get(file.file_id) or file.site) for file in self.files
            ),
        )

    def with_files(self, files: Sequence[FileState]) -> LinkState:
        return replace(self, files=tuple(files))

    def with_expiry(self, minutes: int) -> LinkState:
        return replace(self, expires_minutes=minutes)

    def with_file_keys(self, index: int, keys: tuple[str, ...]) -> LinkState:
        files = list(self.files)
        files[index] = replace(files[index], asset_keys=keys)
        return replace(self, files=tuple(files))


def file_state(ref: MediaRef, asset_keys: tuple[str, ...] | None = None) -> FileState:
    filename = " ".join("".join(c if ord(c) >= 32 else " " for c in ref.filename or "").split())
    if len(filename) > MAX_FILENAME_CHARS:
        filename = filename[: MAX_FILENAME_CHARS - 1] + "…"
    return FileState(
        file_id=ref.file_id,
        media_type=ref.media_type,
        filename=filename or None,
        asset_keys=asset_keys,
    )


# --- encoding -----------------------------------------------------------------------------


def encode_state(state: LinkState) -> str:
    """The token for a button value. May exceed MAX_TOKEN_CHARS: callers check."""
    data: dict[str, Any] = {
        "v": VERSION,
        "u": state.user_id,
        "e": state.expires_minutes,
        "f": [_encode_file(file) for file in state.files],
    }
    if state.asset_keys:
        data["a"] = list(state.asset_keys)
    if state.download_file_name is not None:
        data["n"] = state.download_file_name
    if state.inline:
        data["i"] = 1
    if state.redirect_url is not None:
        data["r"] = state.redirect_url
    sites = [file.site for file in state.files]
    if any(site is not None for site in sites):
        # One name when every file is on the same site (the usual case), else one per file.
        data["s"] = sites[0] if len(set(sites)) == 1 else sites
    return pack_token(PREFIX, data)


def pack_token(prefix: str, data: Mapping[str, Any]) -> str:
    """``data`` as compact JSON, deflated and base64url-encoded behind ``prefix``."""
    # ASCII JSON: any string survives, even a lone surrogate from a Slack payload.
    raw = json.dumps(data, separators=(",", ":")).encode()
    return prefix + base64.urlsafe_b64encode(zlib.compress(raw, 9)).rstrip(b"=").decode("ascii")


def _encode_file(file: FileState) -> list[Any]:
    entry: list[Any] = [file.file_id, _TYPE_CODES[file.media_type]]
    if file.filename is not None or file.asset_keys is not None:
        entry.append(file.filename or "")
    if file.asset_keys is not None:
        entry.append(list(file.asset_keys))
    return entry


def fits_in_button(token: str) -> bool:
    return len(token) <= MAX_TOKEN_CHARS


# --- decoding and validation --------------------------------------------------------------


def decode_state(
    token: str, *, max_expiry: timedelta, max_files: int = MAX_FILES, user_id: str | None = None
) -> LinkState:
    """Read and re-validate a token; ``user_id`` (the clicker) must be its owner.

    Raises StateError (or NotYourButtonsError) with a sentence for the person.
    """
    data = _unpack(token)
    try:
        state = _read(data, max_files=max_files)
    except (KeyError, TypeError, ValueError, IndexError) as error:
        if isinstance(error, StateError):
            raise
        raise StateError(STALE_BUTTONS) from None
    max_minutes = whole_minutes(max_expiry)
    if state.expires_minutes > max_minutes:
        raise StateError(
            f"Links can last at most {format_duration(max_expiry)} now, and these buttons ask "
            f"for {format_duration(state.expires_in)}. Choose a shorter time, "
            "or run /medialink again."
        )
    if user_id is not None and user_id != state.user_id:
        raise NotYourButtonsError(state.user_id)
    return state


def _unpack(token: str) -> Mapping[str, Any]:
    data = unpack_token(PREFIX, token, max_chars=MAX_TOKEN_CHARS)
    if data.get("v") != VERSION:
        raise StateError(STALE_BUTTONS)
    return data


def unpack_token(prefix: str, token: str, *, max_chars: int) -> Mapping[str, Any]:
    """``pack_token``'s data read back; StateError (stale buttons) for a token of another
    kind, over ``max_chars``, damaged, or inflating past a bound."""
    if not isinstance(token, str) or len(token) > max_chars or not token.startswith(prefix):
        raise StateError(STALE_BUTTONS)
    body = token[len(prefix) :]
    try:
        packed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        inflater = zlib.decompressobj()
        raw = inflater.decompress(packed, _MAX_JSON_BYTES)
        if inflater.unconsumed_tail or not inflater.eof:
            raise StateError(STALE_BUTTONS)
        data = json.loads(raw.decode())
    except (binascii.Error, ValueError, zlib.error, UnicodeDecodeError):
        raise StateError(STALE_BUTTONS) from None
    if not isinstance(data, dict):
        raise StateError(STALE_BUTTONS)
    return data


def _read(data: Mapping[str, Any], *, max_files: int) -> LinkState:
    user_id = read_str(data["u"])
    if not _USER_ID.fullmatch(user_id):
        raise ValueError("user")
    minutes = read_minutes(data["e"])
    raw_files = data["f"]
    if not isinstance(raw_files, list) or not 1 <= len(raw_files) <= min(max_files, MAX_FILES):
        raise ValueError("files")
    files = tuple(_read_file(entry) for entry in raw_files)
    if len({file.file_id for file in files}) != len(files):
        raise ValueError("duplicate files")
    name = data.get("n")
    if name is not None:
        name = read_str(name)
        if not is_download_name(name):
            raise ValueError("name")
    redirect = data.get("r")
    if redirect is not None:
        redirect = read_str(redirect)
        if len(redirect) > MAX_REDIRECT_CHARS or not is_https_url(redirect):
            raise ValueError("redirect")
    inline = data.get("i", 0)
    if inline not in (0, 1):
        raise ValueError("inline")
    files = _read_sites(data.get("s"), files)
    return LinkState(
        user_id=user_id,
        files=files,
        expires_minutes=minutes,
        asset_keys=_read_keys(data.get("a", [])),
        download_file_name=name,
        inline=bool(inline),
        redirect_url=redirect,
    )


def _read_sites(value: object, files: tuple[FileState, ...]) -> tuple[FileState, ...]:
    """The files with the sites ``s`` names: one name for all, or one (or null) per file."""
    if value is None:
        return files
    names = [value] * len(files) if isinstance(value, str) else value
    if not isinstance(names, list) or len(names) != len(files):
        raise ValueError("sites")
    return tuple(
        replace(file, site=None if name is None else read_site_name(name))
        for file, name in zip(files, names, strict=True)
    )


def read_site_name(value: object) -> str:
    """A site's name from a button, checked as an admin's would be; raises ValueError."""
    name = read_str(value)
    if name == ENV_SITE_NAME:
        return name
    try:
        checked = check_name(name)
    except SiteInputError:
        raise ValueError("site") from None
    if checked != name:
        raise ValueError("site")
    return checked


def _read_file(entry: object) -> FileState:
    if not isinstance(entry, list) or not 2 <= len(entry) <= 4:
        raise ValueError("file")
    file_id = read_str(entry[0])
    if not _FILE_ID.fullmatch(file_id) or file_id in {".", ".."}:
        raise ValueError("file id")
    # The same reading as typed input: anything the parser would refuse is refused here.
    refused = isinstance(parse_media_ref(file_id), RejectedToken)
    if refused:
        raise ValueError("file id")
    media_type = _TYPES_BY_CODE[read_str(entry[1])]
    filename = read_str(entry[2]) if len(entry) > 2 else ""
    if len(filename) > MAX_FILENAME_CHARS or any(ord(c) < 32 for c in filename):
        raise ValueError("filename")
    keys = _read_keys(entry[3]) if len(entry) > 3 else None
    return FileState(
        file_id=file_id, media_type=media_type, filename=filename or None, asset_keys=keys
    )


def site_file_value(site: str | None, file_id: str) -> str:
    """A button or option value naming one file and the site it is on: ``site/file ID``
    (a file ID never holds a ``/``), or the bare file ID when no site is known."""
    return file_id if site is None else f"{site}/{file_id}"


def read_site_file(value: object) -> tuple[str | None, MediaRef]:
    """``site_file_value``'s value read back: the site (None for a bare file ID, as made
    before sites were named) and the file, each re-checked like typed input.

    Raises StateError with a sentence for the person.
    """
    if not isinstance(value, str) or len(value) > MAX_TOKEN_CHARS:
        raise StateError(STALE_BUTTONS)
    site, slash, file_id = value.partition("/")
    if not slash:
        return None, read_file_ref(value)
    try:
        return read_site_name(site), read_file_ref(file_id)
    except ValueError:
        raise StateError(STALE_BUTTONS) from None


def read_file_ref(value: object) -> MediaRef:
    """A button whose value is one bare file ID (the unfurl's): re-checked like typed input.

    Raises StateError with a sentence for the person.
    """
    if not isinstance(value, str) or not _FILE_ID.fullmatch(value) or value in {".", ".."}:
        raise StateError(STALE_BUTTONS)
    # The same reading as a file of a reply's state (``_read_file``).
    parsed = parse_media_ref(value)
    if isinstance(parsed, RejectedToken):
        raise StateError(STALE_BUTTONS)
    if isinstance(parsed, MediaRef) and parsed.file_id == value:
        return parsed
    return MediaRef(file_id=value, media_type=MediaType.UNKNOWN, filename=None, source=value)


def _read_keys(value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or len(value) > MAX_RENDITIONS:
        raise ValueError("asset keys")
    keys = tuple(read_str(key) for key in value)
    if any(not _ASSET_KEY.fullmatch(key) for key in keys) or len(set(keys)) != len(keys):
        raise ValueError("asset keys")
    return keys


def read_str(value: object) -> str:
    """A token's string field; TypeError for anything else."""
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def read_minutes(value: object) -> int:
    """A token's expiry in whole minutes; ValueError when it is not one a person could type."""
    # Bounded before any timedelta is made of it, by the ceiling any typed duration has.
    if (
        not isinstance(value, int)
        or isinstance(value, bool)
        or not 1 <= value <= whole_minutes(MAX_PARSED_DURATION)
    ):
        raise ValueError("expiry")
    return value


def rendition_choices(renditions: Sequence[str]) -> list[tuple[str, tuple[str, ...]]]:
    """The rendition buttons for a file: Original, each rendition, then All."""
    usable = [key for key in renditions if key != ORIGINAL and _ASSET_KEY.fullmatch(key)]
    choices: list[tuple[str, tuple[str, ...]]] = [("Original", (ORIGINAL,))]
    choices.extend((key, (key,)) for key in dict.fromkeys(usable))
    if usable:
        every = (ORIGINAL, *dict.fromkeys(usable))
        label = "All" if len(every) <= MAX_RENDITIONS else f"First {MAX_RENDITIONS}"
        choices.append((label, every[:MAX_RENDITIONS]))
    return choices
