"""Reading ``/medialink find <words> [type=video|image|audio|document] [private|public]``.

The words after ``find`` are what to look for; ``type=`` (also ``--type video``) narrows
the kind of file, ``private`` or ``public`` which files; the link options of
``bot.slack.options`` (``expires=2h`` and the rest) apply to the links made from the
results. Everything is bounded: the command's length by ``parse_command_text``, the
words by Wix's 200 characters. Nothing read here is logged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

from bot.slack.options import MAX_COMMAND_CHARS, parse_command_text
from bot.wix.found import FIND_TYPE_NAMES
from bot.wix.limits import MAX_SEARCH_TEXT_LENGTH
from bot.wix.links import LinkOptions
from bot.wix.refs import MediaType

FIND_WORD: Final = "find"
FIND_TYPES: Final = FIND_TYPE_NAMES
_TYPE_ALIASES: Final = {
    **FIND_TYPES,
    "videos": MediaType.VIDEO,
    "images": MediaType.IMAGE,
    "photo": MediaType.IMAGE,
    "photos": MediaType.IMAGE,
    "documents": MediaType.DOCUMENT,
    "doc": MediaType.DOCUMENT,
    "docs": MediaType.DOCUMENT,
}
_TYPE_NAMES: Final = "video, image, audio or document"
# ``type=video``, ``--type=video``, or ``--type`` / ``type`` followed by the kind as the next word.
_TYPE_OPTION: Final = re.compile(r"(?:--?)?type(?:=(?P<value>\S*))?\Z", re.IGNORECASE)
_PRIVACY: Final = {"private": True, "--private": True, "public": False, "--public": False}


@dataclass(frozen=True, slots=True)
class FindInput:
    """What ``/medialink find …`` asked for."""

    words: str = ""
    media_type: MediaType | None = None
    private: bool | None = None  # True: private files only; False: public only
    options: LinkOptions = field(default_factory=LinkOptions)
    problems: tuple[str, ...] = ()
    wants_help: bool = False


def wants_find(text: str) -> bool:
    """Whether a command's text is ``find`` followed by anything."""
    words = text.split(maxsplit=1)
    return bool(words) and words[0].lower() == FIND_WORD


def parse_find_text(text: str) -> FindInput:
    """Read what follows ``find``; problems are collected, not raised."""
    if len(text) > MAX_COMMAND_CHARS:
        return FindInput(
            problems=(f"say what to find in at most {MAX_SEARCH_TEXT_LENGTH} characters",)
        )
    rest = text.strip()[len(FIND_WORD) :].strip() if wants_find(text) else text.strip()
    words = rest.split()
    problems: list[str] = []
    kept: list[str] = []
    media_type: MediaType | None = None
    private: bool | None = None
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        lowered = word.lower()
        match = _TYPE_OPTION.match(word)
        if match is not None:
            value = match["value"]
            if value is None:
                if index >= len(words):
                    problems.append(f"type needs a value: {_TYPE_NAMES}, as in type=video")
                    continue
                value = words[index]
                index += 1
            kind = _TYPE_ALIASES.get(value.lower())
            if kind is None:
                problems.append(f"type can be {_TYPE_NAMES}, as in type=video")
            elif media_type is not None and media_type is not kind:
                problems.append("give one type at a time")
            else:
                media_type = kind
            continue
        if lowered in _PRIVACY:
            wanted = _PRIVACY[lowered]
            if private is not None and private is not wanted:
                problems.append("ask for private or public files, not both")
            private = wanted
            continue
        kept.append(word)
    command = parse_command_text(" ".join(kept)) if kept else None
    if command is not None and command.wants_help:
        return FindInput(wants_help=True)
    options = command.options if command is not None else LinkOptions()
    if command is not None:
        problems.extend(command.problems)
    search = _unescape(" ".join(command.text.split())) if command is not None else ""
    if not search and not problems:
        problems.append("say what to find, as in find signed contract")
    if len(search) > MAX_SEARCH_TEXT_LENGTH:
        problems.append(
            f"say what to find in at most {MAX_SEARCH_TEXT_LENGTH} characters;"
            f" that was {len(search)}"
        )
        search = ""
    return FindInput(
        words=search,
        media_type=media_type,
        private=private,
        options=options,
        problems=tuple(problems),
    )


def _unescape(text: str) -> str:
    """Slack writes ``&``, ``<`` and ``>`` in command text as ``&amp;``, ``&lt;``, ``&gt;``."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
