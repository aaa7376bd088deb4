"""What a search's "More results" button remembers: the search, its next page, the options.

Like ``bot.slack.button_state`` (whose link tokens the results' own buttons carry), the
token is compact JSON → zlib → URL-safe base64 in the button's value, not signed, and
re-validated on every click as fresh input: every field bounded, the link options
checked again against today's rules by the listener, and only the person the results
were made for may use it. It holds nothing that person could not type. It is never
logged: the words are what someone searched for.

``site`` is the connected Wix site a cursor belongs to (a page of one site's results);
the listener checks it is still the clicker's workspace's. None: the site is chosen as
for a fresh search.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.durations import whole_minutes
from bot.slack.button_state import (
    STALE_BUTTONS,
    NotYourButtonsError,
    StateError,
    pack_token,
    read_minutes,
    read_site_name,
    read_str,
    unpack_token,
)
from bot.slack.options import is_download_name, is_https_url
from bot.slack.render.limits import MAX_BUTTON_VALUE, MAX_FIND_CURSOR
from bot.wix.limits import MAX_SEARCH_TEXT_LENGTH
from bot.wix.links import MAX_RENDITIONS, LinkOptions
from bot.wix.refs import MediaType

PREFIX = "f1."
_MAX_REDIRECT_CHARS = 1000
_USER_ID = re.compile(r"[UWB][A-Z0-9]{1,40}")
_ASSET_KEY = re.compile(r"[^\s\x00-\x1f\x7f]{1,100}")
_CURSOR = re.compile(rf"[\x21-\x7e]{{1,{MAX_FIND_CURSOR}}}")  # printable ASCII, no spaces
_TYPES = {
    MediaType.IMAGE: "i",
    MediaType.VIDEO: "v",
    MediaType.AUDIO: "a",
    MediaType.DOCUMENT: "d",
}
_TYPES_BY_CODE = {code: kind for kind, code in _TYPES.items()}


@dataclass(frozen=True, slots=True)
class FindState:
    """A search for one person, the page it is on, and the options for its links."""

    user_id: str
    words: str
    media_type: MediaType | None = None
    private: bool | None = None
    cursor: str | None = None
    expires_minutes: int = 60
    asset_keys: tuple[str, ...] = ()
    download_file_name: str | None = None
    inline: bool = False
    redirect_url: str | None = None
    site: str | None = None  # the connected site searched; None: chosen as for a new search

    @classmethod
    def for_search(
        cls,
        user_id: str,
        words: str,
        *,
        media_type: MediaType | None,
        private: bool | None,
        options: LinkOptions,
    ) -> FindState:
        """The state of a fresh search, whose options carry the resolved expiry."""
        if options.expires_in is None:
            raise ValueError("resolve the expiry before building button state")
        return cls(
            user_id=user_id,
            words=words,
            media_type=media_type,
            private=private,
            expires_minutes=whole_minutes(options.expires_in),
            asset_keys=options.asset_keys,
            download_file_name=options.download_file_name,
            inline=options.inline,
            redirect_url=options.redirect_url,
            site=options.site,
        )

    @property
    def options(self) -> LinkOptions:
        return LinkOptions(
            expires_in=timedelta(minutes=self.expires_minutes),
            asset_keys=self.asset_keys,
            redirect_url=self.redirect_url,
            download_file_name=self.download_file_name,
            inline=self.inline,
        )


def encode_find_state(state: FindState) -> str | None:
    """The token for a button value, or None when it would not fit one."""
    if state.cursor is not None and not _CURSOR.fullmatch(state.cursor):
        return None
    data: dict[str, Any] = {"u": state.user_id, "w": state.words, "e": state.expires_minutes}
    if state.media_type is not None:
        data["t"] = _TYPES[state.media_type]
    if state.private is not None:
        data["p"] = int(state.private)
    if state.cursor is not None:
        data["c"] = state.cursor
    if state.asset_keys:
        data["a"] = list(state.asset_keys)
    if state.download_file_name is not None:
        data["n"] = state.download_file_name
    if state.inline:
        data["i"] = 1
    if state.redirect_url is not None:
        data["r"] = state.redirect_url
    if state.site is not None:
        data["s"] = state.site
    token = pack_token(PREFIX, data)
    return token if len(token) <= MAX_BUTTON_VALUE else None


def decode_find_state(token: str, *, user_id: str) -> FindState:
    """Read and re-validate a token for the clicking ``user_id``; raises ``StateError``
    (``NotYourButtonsError`` for someone else's results) with a sentence for them."""
    data = _unpack(token)
    try:
        state = _read(data)
    except (KeyError, TypeError, ValueError):
        raise StateError(STALE_BUTTONS) from None
    if state.user_id != user_id:
        raise NotYourButtonsError(state.user_id)
    return state


def _unpack(token: str) -> Mapping[str, Any]:
    return unpack_token(PREFIX, token, max_chars=MAX_BUTTON_VALUE)


def _read(data: Mapping[str, Any]) -> FindState:
    user_id = read_str(data["u"])
    if not _USER_ID.fullmatch(user_id):
        raise ValueError("user")
    words = read_str(data["w"])
    if not 0 < len(words) <= MAX_SEARCH_TEXT_LENGTH or any(ord(c) < 32 for c in words):
        raise ValueError("words")
    minutes = read_minutes(data["e"])
    code = data.get("t")
    media_type = None if code is None else _TYPES_BY_CODE[read_str(code)]
    private_code = data.get("p")
    if private_code not in (None, 0, 1) or isinstance(private_code, bool):
        raise ValueError("private")
    cursor = data.get("c")
    if cursor is not None and not _CURSOR.fullmatch(read_str(cursor)):
        raise ValueError("cursor")
    keys = data.get("a", [])
    if not isinstance(keys, list) or len(keys) > MAX_RENDITIONS:
        raise ValueError("asset keys")
    asset_keys = tuple(read_str(key) for key in keys)
    if any(not _ASSET_KEY.fullmatch(key) for key in asset_keys):
        raise ValueError("asset keys")
    name = data.get("n")
    if name is not None and not is_download_name(read_str(name)):
        raise ValueError("name")
    redirect = data.get("r")
    if redirect is not None and (
        len(read_str(redirect)) > _MAX_REDIRECT_CHARS or not is_https_url(redirect)
    ):
        raise ValueError("redirect")
    inline = data.get("i", 0)
    if inline not in (0, 1) or isinstance(inline, bool):
        raise ValueError("inline")
    site = data.get("s")
    return FindState(
        user_id=user_id,
        words=words,
        media_type=media_type,
        private=None if private_code is None else bool(private_code),
        cursor=cursor,
        expires_minutes=minutes,
        asset_keys=asset_keys,
        download_file_name=name,
        inline=bool(inline),
        redirect_url=redirect,
        site=None if site is None else read_site_name(site),
    )
