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

from bot.durations import parse_duration
from bot.inputs import MAX_FILE_NAME_LENGTH, MAX_URL_LENGTH, file_name_problem, web_url_problem
from bot.sites.model import ENV_SITE_NAME, SiteInputError, check_name
from bot.wix.limits import MAX_ASSET_KEY_LENGTH
from bot.wix.links import MAX_RENDITIONS, ORIGINAL, LinkOptions

HELP_WORDS = frozenset({"help", "--help", "-h", "?", "usage"})
# Slack truncates message text past 40,000 characters ("Truncating content" in
# https://docs.slack.dev/reference/methods/chat.postMessage); a command is typed in the
# same box, and 100 references with their <url|label> wrapping fit well within it.
MAX_COMMAND_CHARS = 40_000
MAX_NAME_LENGTH = MAX_FILE_NAME_LENGTH
MAX_REDIRECT_LENGTH = MAX_URL_LENGTH  # it travels in every button value (2000 characters at most)

_EXPIRES = "expires"
_ASSETS = "assets"
_NAME = "name"
_INLINE = "inline"
_REDIRECT = "redirect"
_SITE = "site"
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
    "site": _SITE,
}
_KNOWN = "expires, assets, name, inline, redirect, site"

# Words, where a quoted value or a Slack <link|label> counts as part of one word; an
# opening mark with no closing one is an ordinary character (see _split_words).
_OPENERS = {"<": ">", '"': '"', "“": "”", "'": "'"}
_PLAIN = re.compile(r"""[^\s<"“']+""")
_SPACE = re.compile(r"\s+")
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
    text = text or ""
    if len(text) > MAX_COMMAND_CHARS:
        return CommandInput(
            text="",
            problems=(
                f"that's {len(text):,} characters; MediaLink reads at most "
                f"{MAX_COMMAND_CHARS:,}. Send fewer links at a time",
            ),
        )
    words = _split_words(text)
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
            problems.append(f"expires: {_mrkdwn_safe(str(error))}")
    asset_keys: tuple[str, ...] = ()
    if _ASSETS in values:
        asset_keys, asset_problem = parse_asset_keys(values[_ASSETS])
        if asset_problem:
            problems.append(asset_problem)
    name: str | None = None
    if _NAME in values:
        name = _slack_unescape(values[_NAME])
        problem = file_name_problem(name)
        if problem is not None:
            problems.append(
                f"name: {problem}. Give a file name of 1 to {MAX_NAME_LENGTH} characters, "
                'for example name=contract.pdf or name="my contract.pdf"'
            )
            name = None
    redirect: str | None = None
    if _REDIRECT in values:
        redirect = _slack_link(values[_REDIRECT])
        problem = web_url_problem(redirect)
        if problem is not None:
            problems.append(
                f"redirect: {_mrkdwn_safe(problem)}. Give an https:// address of at most "
                f"{MAX_REDIRECT_LENGTH} characters, for example redirect=https://example.com/expired"
            )
            redirect = None
    site: str | None = None
    if _SITE in values:
        try:
            wanted = values[_SITE].strip().lower()
            site = ENV_SITE_NAME if wanted == ENV_SITE_NAME else check_name(wanted, "site")
        except SiteInputError as error:
            problems.append(f"site: {_mrkdwn_safe(str(error))}")
    options = LinkOptions(
        expires_in=expires_in,
        asset_keys=asset_keys,
        redirect_url=redirect,
        download_file_name=name,
        inline=_INLINE in values,
        site=site,
    )
    return options, problems


def parse_asset_keys(text: str) -> tuple[tuple[str, ...], str | None]:
    """``src,720p.mp4`` → keys (``original`` means ``src``), or a problem sentence."""
    keys: dict[str, None] = {}  # ordered, and each look-up is constant time
    for part in re.split(r"[,;\s]+", text.strip()):
        if not part:
            continue
        key = ORIGINAL if part.lower() in {"original", "src"} else part
        if len(key) > MAX_ASSET_KEY_LENGTH or not re.fullmatch(r"[\w.\-]+", key):
            return (), (
                f"assets: {_mrkdwn_safe(repr(part[:40]))} is not a rendition name; "
                "use names like src (the original) or 720p.mp4, separated by commas"
            )
        keys[key] = None
        if len(keys) > MAX_RENDITIONS:
            return (), f"assets: ask for at most {MAX_RENDITIONS} renditions at a time"
    if not keys:
        return (), "assets needs at least one rendition name, for example assets=src,720p.mp4"
    return tuple(keys), None


def is_download_name(name: str) -> bool:
    """A file name to download as (``bot.inputs.file_name_problem`` says why not)."""
    return file_name_problem(name) is None


def is_https_url(text: str) -> bool:
    """An https address that goes where it seems (``bot.inputs.web_url_problem``)."""
    return web_url_problem(text) is None


def _split_words(text: str) -> list[_Word]:
    """Whitespace-separated words; a quoted run or a ``<link|label>`` may hold spaces.

    Linear in the text: each closing mark is looked for once from any point, so
    40,000 unclosed “ cost no more than 40,000 letters.
    """
    closers = {closer: _NextIndex(text, closer) for closer in {*_OPENERS.values(), "<"}}
    words: list[_Word] = []
    length = len(text)
    index = 0
    while index < length:
        space = _SPACE.match(text, index)
        if space is not None:
            index = space.end()
            continue
        start = index
        while index < length and not text[index].isspace():
            mark = text[index]
            closer = _OPENERS.get(mark)
            if closer is None:
                plain = _PLAIN.match(text, index)
                index = plain.end() if plain is not None else index + 1
                continue
            end = closers[closer].after(index)
            if mark == "<" and not 0 <= end < _first(closers["<"].after(index), length):
                end = -1  # "<a <b>": the link is the second one; this "<" is a character
            index = end + 1 if end >= 0 else index + 1
        words.append(_Word(text[start:index], start, index))
    return words


class _NextIndex:
    """Where one character next occurs after a position, for positions that only grow.

    Remembers the last answer, so a left-to-right scan reads the text once per character.
    """

    def __init__(self, text: str, character: str) -> None:
        self._text = text
        self._character = character
        self._searched_from = -1
        self._found = -2  # not looked for yet

    def after(self, position: int) -> int:
        """The index of the next occurrence after ``position``, or -1 if there is none."""
        start = position + 1
        if start >= self._searched_from and (self._found == -1 or self._found >= start):
            return self._found  # nothing between the last search's start and its answer
        self._searched_from = start
        self._found = self._text.find(self._character, start)
        return self._found


def _first(index: int, length: int) -> int:
    return length if index < 0 else index


def _slack_unescape(text: str) -> str:
    """Slack writes ``&``, ``<`` and ``>`` in command text as ``&amp;``, ``&lt;``, ``&gt;``."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _mrkdwn_safe(text: str) -> str:
    """Echoed input must not become a mention or a link in the answer."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_link(text: str) -> str:
    """``<https://x|label>`` → ``https://x``; Slack's ``&amp;`` escapes undone."""
    value = text.strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1].split("|", 1)[0]
    return _slack_unescape(value)


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
        _SITE: "site=acme-shop",
    }.get(key, key)


def _without(text: str, spans: list[tuple[int, int]]) -> str:
    kept: list[str] = []
    position = 0
    for start, end in sorted(spans):
        kept.append(text[position:start])
        position = end
    kept.append(text[position:])
    return " ".join("".join(kept).split())
