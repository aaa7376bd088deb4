"""Options typed after ``/medialink``: ``expires=2h``, ``assets=src,720p``, and so on.

Options may come in any order, mixed with the Wix references, in three spellings:
``expires=2h``, ``--expires 2h`` and ``--expires=2h``. What is not an option is
handed on, untouched, to the reference parser. This module only reads the words;
the link service decides whether the values are allowed (``check_options``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlsplit

from bot.durations import parse_duration
from bot.wix.links import ORIGINAL, LinkOptions

HELP_WORDS = frozenset({"help", "--help", "-h", "?", "usage"})
MAX_ASSET_KEYS = 20  # more renditions than this would not fit one row of buttons anyway
MAX_ASSET_KEY_LENGTH = 100
MAX_NAME_LENGTH = 100
MAX_REDIRECT_LENGTH = 1000  # it travels in every button value (2000 characters at most)

_EXPIRES = "expires"
_ASSETS = "assets"
_NAME = "name"
_INLINE = "inline"
_REDIRECT = "redirect"
_ALIASES = {
    "expires": _EXPIRES,
    "expire": _EXPIRES,
    "expiry": _EXPIRES,
    "expires_in": _EXPIRES,
    "assets": _ASSETS,
    "asset": _ASSETS,
    "renditions": _ASSETS,
    "name": _NAME,
    "filename": _NAME,
    "inline": _INLINE,
    "redirect": _REDIRECT,
}
_KNOWN = "expires, assets, name, inline, redirect"

# Words, where a quoted value or a Slack <link|label> counts as part of one word.
_WORD = re.compile(r"""(?:<[^<>]*>|"[^"]*"|“[^”]*”|'[^']*'|[^\s<"“']+|[<"“'])+""")
# An option word: ``key=value``, ``--key=value`` or ``--key`` (value in the next word).
_OPTION = re.compile(r"(?P<dashes>-{1,2})?(?P<key>[A-Za-z][A-Za-z_-]*)(?:=(?P<value>.*))?\Z", re.S)
_QUOTES = (('"', '"'), ("“", "”"), ("'", "'"))


@dataclass(frozen=True, slots=True)
class CommandInput:
    """What the command text asked for."""

    text: str  # the text without the options: Wix references for the parser
    options: LinkOptions = field(default_factory=LinkOptions)
    problems: tuple[str, ...] = ()  # sentences for the person, one per problem
    wants_help: bool = False


@dataclass(frozen=True, slots=True)
class _Word:
    text: str
    start: int
    end: int


def parse_command_text(text: str) -> CommandInput:
    """Split command text into options and the rest, in any order.

    ``help`` (or nothing at all) asks for usage. Problems are collected, not
    raised, so one answer can name all of them.
    """
    words = [_Word(m.group(), m.start(), m.end()) for m in _WORD.finditer(text or "")]
    if not words or any(word.text.lower() in HELP_WORDS for word in words):
        return CommandInput(text="", wants_help=True)

    values: dict[str, str] = {}
    problems: list[str] = []
    used: list[tuple[int, int]] = []
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        match = _OPTION.match(word.text)
        if match is None:
            continue
        dashes, raw_key, value = match.group("dashes"), match.group("key"), match.group("value")
        key = _ALIASES.get(raw_key.lower())
        if key is None:
            if dashes or value is not None:
                problems.append(f"I don't know the option {raw_key!r}; I know {_KNOWN}")
                used.append((word.start, word.end))
            continue  # else an ordinary word: the reference parser will judge it
        span_end = word.end
        if key == _INLINE:
            if value is not None and value.lower() not in {"", "yes", "true", "on", "1"}:
                problems.append("inline takes no value: write just inline")
            value = "yes"
        elif value is None:
            if index < len(words):
                value = words[index].text
                span_end = words[index].end
                index += 1
            else:
                problems.append(f"{key} needs a value, for example {_example(key)}")
                used.append((word.start, word.end))
                continue
        used.append((word.start, span_end))
        if key in values:
            problems.append(f"{key} is given more than once; give it once")
            continue
        values[key] = _unquote(value)

    options, option_problems = _build_options(values)
    return CommandInput(
        text=_without(text, used),
        options=options,
        problems=tuple(problems + option_problems),
    )


def _build_options(values: dict[str, str]) -> tuple[LinkOptions, list[str]]:
    problems: list[str] = []
    expires_in: timedelta | None = None
    if _EXPIRES in values:
        try:
            expires_in = parse_duration(values[_EXPIRES])
        except ValueError as error:
            problems.append(f"expires: {error}")
    asset_keys: tuple[str, ...] = ()
    if _ASSETS in values:
        asset_keys, asset_problem = parse_asset_keys(values[_ASSETS])
        if asset_problem:
            problems.append(asset_problem)
    name: str | None = None
    if _NAME in values:
        name = values[_NAME].strip()
        if not is_download_name(name):
            problems.append(
                f"name must be a file name of 1 to {MAX_NAME_LENGTH} characters, "
                "without slashes, for example name=contract.pdf"
            )
            name = None
    redirect: str | None = None
    if _REDIRECT in values:
        redirect = _slack_link(values[_REDIRECT])
        if not is_https_url(redirect) or len(redirect) > MAX_REDIRECT_LENGTH:
            problems.append(
                "redirect must be an https:// address (at most "
                f"{MAX_REDIRECT_LENGTH} characters), for example redirect=https://example.com/expired"
            )
            redirect = None
    options = LinkOptions(
        expires_in=expires_in,
        asset_keys=asset_keys,
        redirect_url=redirect,
        download_file_name=name,
        inline=_INLINE in values,
    )
    return options, problems


def parse_asset_keys(text: str) -> tuple[tuple[str, ...], str | None]:
    """``src,720p.mp4`` → keys (``original`` means ``src``), or a problem sentence."""
    keys: list[str] = []
    for part in re.split(r"[,;\s]+", text.strip()):
        if not part:
            continue
        key = ORIGINAL if part.lower() in {"original", "src"} else part
        if len(key) > MAX_ASSET_KEY_LENGTH or not re.fullmatch(r"[\w.\-]+", key):
            return (), (
                f"assets: {part[:40]!r} is not a rendition name; "
                "use names like src (the original) or 720p.mp4, separated by commas"
            )
        if key not in keys:
            keys.append(key)
    if not keys:
        return (), "assets needs at least one rendition name, for example assets=src,720p.mp4"
    if len(keys) > MAX_ASSET_KEYS:
        return (), f"assets: ask for at most {MAX_ASSET_KEYS} renditions at a time"
    return tuple(keys), None


def is_download_name(name: str) -> bool:
    """A file name to download as: 1 to 100 characters, no path, no control characters."""
    return (
        bool(name.strip())
        and len(name) <= MAX_NAME_LENGTH
        and not any(c in "/\\" or ord(c) < 32 for c in name)
    )


def is_https_url(text: str) -> bool:
    try:
        parts = urlsplit(text)
    except ValueError:
        return False
    return (
        parts.scheme.lower() == "https"
        and bool(parts.hostname)
        and not any(c.isspace() for c in text)
    )


def _slack_link(text: str) -> str:
    """``<https://x|label>`` → ``https://x``; Slack's ``&amp;`` escapes undone."""
    value = text.strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1].split("|", 1)[0]
    return value.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _unquote(value: str) -> str:
    for opening, closing in _QUOTES:
        if len(value) >= 2 and value.startswith(opening) and value.endswith(closing):
            return value[1:-1]
    return value


def _example(key: str) -> str:
    return {
        _EXPIRES: "expires=2h",
        _ASSETS: "assets=src,720p.mp4",
        _NAME: "name=contract.pdf",
        _REDIRECT: "redirect=https://example.com/expired",
    }.get(key, key)


def _without(text: str, spans: list[tuple[int, int]]) -> str:
    kept: list[str] = []
    position = 0
    for start, end in sorted(spans):
        kept.append(text[position:start])
        position = end
    kept.append(text[position:])
    return " ".join("".join(kept).split())
