"""The options the form's type-ahead file picker offers: one per file Wix found.

Each option reads ``name · type · size`` (and ``private`` where it is, and the site it
is on when several were searched), clipped so those always show; its value is the file
ID, or ``site/file ID`` when it was found on a connected site, which the form's
submission reads back. A file whose value would be longer than an option's value may be
is left out rather than offered cut, naming no file (docs/slack.md, External selects).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from bot.slack.button_state import site_file_value
from bot.slack.render.limits import MAX_OPTION_TEXT, MAX_OPTION_VALUE, MAX_SUGGESTED_OPTIONS
from bot.slack.render.text import human_size

_SEPARATOR = " · "
# A site's name is cut to this in an option's text (its value keeps it whole), so the
# file's name keeps most of the 75 characters.
MAX_SITE_IN_OPTION = 16


class PickableFile(Protocol):
    """What an option needs to know of a file the search found."""

    @property
    def file_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def media_type(self) -> str: ...
    @property
    def size_bytes(self) -> int | None: ...
    @property
    def private(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class FileOptions:
    """The options to answer with, and how many files had to be left out."""

    options: list[dict[str, Any]]
    left_out: int = 0


def file_options(
    files: Iterable[PickableFile | tuple[str | None, PickableFile]], *, name_sites: bool = False
) -> FileOptions:
    """At most ``MAX_SUGGESTED_OPTIONS`` options, in the search's order, one per file.
    A ``(site, file)`` pair's value names the site; ``name_sites`` shows it too."""
    options: list[dict[str, Any]] = []
    seen: set[str] = set()
    left_out = 0
    for item in files:
        if len(options) == MAX_SUGGESTED_OPTIONS:
            break
        site, found = item if isinstance(item, tuple) else (None, item)
        file_id = found.file_id
        value = site_file_value(site, file_id)
        if not file_id or len(value) > MAX_OPTION_VALUE:
            left_out += 1
            continue
        if value in seen:
            continue
        seen.add(value)
        shown = site if name_sites else None
        options.append({"text": _plain(option_text(found, site=shown)), "value": value})
    return FileOptions(options=options, left_out=left_out)


def option_text(found: PickableFile, *, site: str | None = None) -> str:
    """``name · type · size[ · private][ · site]`` within Block Kit's option text limit."""
    details = [_type_label(found.media_type)]
    size = human_size(found.size_bytes)
    if size is not None:
        details.append(size)
    if found.private:
        details.append("private")
    if site:
        cut = site if len(site) <= MAX_SITE_IN_OPTION else site[: MAX_SITE_IN_OPTION - 1] + "…"
        details.append(f"on {cut}")
    tail = _SEPARATOR + _SEPARATOR.join(details)
    name = " ".join(found.name.split()) or found.file_id  # no line breaks in an option
    room = MAX_OPTION_TEXT - len(tail)
    if len(name) > room:
        name = name[: room - 1] + "…"
    return name + tail


def _type_label(media_type: str) -> str:
    label = str(media_type).strip().lower()
    return label[:20] or "file"


def _plain(text: str) -> dict[str, Any]:
    # A file's name is shown as it is: ``:smile:`` in a name is not an emoji.
    return {"type": "plain_text", "text": text, "emoji": False}
