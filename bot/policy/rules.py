"""MediaLink's link rules and limits, in one place for every surface (Slack and the CLI).

``LinkRules`` owns the expiry range, how many renditions one request may ask for, the
longest file ID and asset key, the original's key and the hosts an expired link may
send people to. ``LinkService`` asks it before any Wix call; the Slack layer reads the
same numbers for its menus and for the state a button carries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Final
from urllib.parse import urlsplit

from bot.durations import WIX_MAX_EXPIRY, WIX_MIN_EXPIRY, format_duration
from bot.inputs import file_name_problem, web_url_problem
from bot.wix.limits import (
    MAX_ASSET_KEY_LENGTH,
    MAX_DOWNLOAD_FILE_NAME_LENGTH,
    MAX_FILE_ID_LENGTH,
    SRC_ASSET_KEY,
)

ORIGINAL: Final = SRC_ASSET_KEY  # the original file's asset key
# Renditions one request may ask for, on every surface. Wix takes up to 100 in a call;
# more than 20 would not fit a reply's row of buttons.
MAX_RENDITIONS: Final = 20
DEFAULT_EXPIRY: Final = timedelta(minutes=60)
MAX_EXPIRY: Final = timedelta(days=7)


class LinkOptionsError(ValueError):
    """Options that break a link rule; ``str()`` says what to change."""


@dataclass(frozen=True, slots=True)
class LinkRules:
    """Every limit a link request is held to. Raises ``ValueError`` if inconsistent."""

    default_expiry: timedelta = DEFAULT_EXPIRY
    max_expiry: timedelta = MAX_EXPIRY
    min_expiry: timedelta = WIX_MIN_EXPIRY
    max_renditions: int = MAX_RENDITIONS
    max_asset_key_length: int = MAX_ASSET_KEY_LENGTH
    max_file_id_length: int = MAX_FILE_ID_LENGTH
    max_download_name_length: int = MAX_DOWNLOAD_FILE_NAME_LENGTH
    original: str = ORIGINAL
    # Hosts an expired link may redirect to; empty: any https host.
    redirect_hosts: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.max_expiry > WIX_MAX_EXPIRY:
            raise ValueError("max_expiry is longer than Wix allows (525600 minutes)")
        if self.default_expiry > self.max_expiry:
            raise ValueError("default_expiry is longer than max_expiry")
        if not 1 <= self.max_renditions <= 100:
            raise ValueError("max_renditions must be from 1 to 100 (Wix's limit per call)")

    def resolve_expiry(self, requested: timedelta | None) -> timedelta:
        """The expiry to use, or ``LinkOptionsError`` saying what is allowed."""
        if requested is None:
            return self.default_expiry
        if requested < self.min_expiry:
            raise LinkOptionsError(f"links must last at least {format_duration(self.min_expiry)}")
        if requested > self.max_expiry:
            raise LinkOptionsError(
                f"links can last at most {format_duration(self.max_expiry)} here; "
                f"{format_duration(requested)} is too long"
            )
        return requested

    def check_asset_keys(self, keys: tuple[str, ...]) -> None:
        if len(keys) > self.max_renditions:
            raise LinkOptionsError(f"ask for at most {self.max_renditions} renditions at a time")
        for key in keys:
            if not key or len(key) > self.max_asset_key_length or any(c.isspace() for c in key):
                raise LinkOptionsError(f"{key[:40]!r} is not a rendition name (like src or 720p)")

    def redirect_host_allowed(self, url: str) -> bool:
        if not self.redirect_hosts:
            return True
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
        return host in self.redirect_hosts

    def check_redirect(self, url: str) -> None:
        problem = web_url_problem(url)
        if problem is not None:
            raise LinkOptionsError(f"the redirect address: {problem}")
        if not self.redirect_host_allowed(url):
            allowed = ", ".join(sorted(self.redirect_hosts)[:10])
            raise LinkOptionsError(
                f"the redirect address must be on one of these hosts here: {allowed}"
            )

    def check_download_name(self, name: str) -> None:
        problem = file_name_problem(name, max_length=self.max_download_name_length)
        if problem is not None:
            raise LinkOptionsError(f"the download file name: {problem}")
