"""The options the form's type-ahead file picker offers: one per file Wix found.

Each option reads ``name · type · size`` (and ``private`` where it is), clipped so the
type and size always show; its value is the file ID, which the form's submission reads
back. A file whose ID is longer than an option's value may be is left out rather than
offered with a cut ID that would name no file (docs/slack.md, External selects).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from bot.slack.render.limits import MAX_OPTION_TEXT, MAX_OPTION_VALUE, MAX_SUGGESTED_OPTIONS
from bot.slack.render.text import human_size

_SEPARATOR = " · "


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


def file_options(files: Iterable[PickableFile]) -> FileOptions:
    """At most ``MAX_SUGGESTED_OPTIONS`` options, in the search's order, one per file ID."""
    options: list[dict[str, Any]] = []
    seen: set[str] = set()
    left_out = 0
    for found in files:
        if len(options) == MAX_SUGGESTED_OPTIONS:
            break
        file_id = found.file_id
        if not file_id or len(file_id) > MAX_OPTION_VALUE:
            left_out += 1
            continue
        if file_id in seen:
            continue
        seen.add(file_id)
        options.append({"text": _plain(option_text(found)), "value": file_id})
    return FileOptions(options=options, left_out=left_out)


def option_text(found: PickableFile) -> str:
    """``name · type · size[ · private]`` within Block Kit's option text limit."""
    details = [_type_label(found.media_type)]
    size = human_size(found.size_bytes)
    if size is not None:
        details.append(size)
    if found.private:
        details.append("private")
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
