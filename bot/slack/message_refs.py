"""Wix references in a Slack message, for the message shortcut.

A message keeps its links in several places: ``text`` (``<url>`` / ``<url|label>``),
``blocks`` (rich-text ``link`` elements nested in sections, lists and quotes, or a
section's mrkdwn text and fields) and legacy ``attachments``. The same link often
sits in more than one of them; the parser keeps each file once. No Slack API call
is needed: the payload carries the whole message.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from bot.wix.refs import DEFAULT_MAX_REFS, ParseResult, parse_media_refs

_MAX_DEPTH = 12  # rich text nests lists in quotes in sections; a hostile payload nests more
_MAX_PIECES = 5000
_ATTACHMENT_FIELDS = ("title_link", "from_url", "original_url", "text", "fallback", "pretext")


def collect_message_text(message: Mapping[str, Any]) -> str:
    """Every piece of a message's text and links, one per line, for the reference parser."""
    pieces: list[str] = []
    for piece in _message_pieces(message):
        if len(pieces) >= _MAX_PIECES:
            break
        if piece.strip():
            pieces.append(piece)
    return "\n".join(pieces)


def collect_refs(message: Mapping[str, Any], *, max_refs: int = DEFAULT_MAX_REFS) -> ParseResult:
    """The Wix references in a message (text, blocks and attachments), each file once."""
    return parse_media_refs(collect_message_text(message), max_refs=max_refs)


def _message_pieces(message: Mapping[str, Any]) -> Iterator[str]:
    text = message.get("text")
    if isinstance(text, str):
        yield text
    yield from _blocks_pieces(message.get("blocks"), 0)
    attachments = message.get("attachments")
    if isinstance(attachments, Sequence) and not isinstance(attachments, str):
        for attachment in attachments:
            if not isinstance(attachment, Mapping):
                continue
            for key in _ATTACHMENT_FIELDS:
                value = attachment.get(key)
                if isinstance(value, str):
                    yield value
            for field in _list(attachment.get("fields")):
                if isinstance(field, Mapping):
                    for value in (field.get("title"), field.get("value")):
                        if isinstance(value, str):
                            yield value
            yield from _blocks_pieces(attachment.get("blocks"), 0)


def _blocks_pieces(blocks: object, depth: int) -> Iterator[str]:
    for block in _list(blocks):
        if not isinstance(block, Mapping):
            continue
        kind = block.get("type")
        if kind == "rich_text":
            for element in _list(block.get("elements")):
                yield from _rich_text_pieces(element, depth + 1)
        elif kind in {"section", "context", "header"}:
            yield from _text_object_pieces(block.get("text"))
            for field in _list(block.get("fields")):
                yield from _text_object_pieces(field)
            for element in _list(block.get("elements")):  # context blocks
                yield from _text_object_pieces(element)
            accessory = block.get("accessory")
            if isinstance(accessory, Mapping) and _is_str(accessory.get("url")):
                yield accessory["url"]
        elif kind == "actions":
            for element in _list(block.get("elements")):
                if isinstance(element, Mapping) and _is_str(element.get("url")):
                    yield element["url"]


def _rich_text_pieces(element: object, depth: int) -> Iterator[str]:
    """Rich-text containers (section, list, quote, preformatted) hold runs of inline elements.

    The runs of one container are joined without a separator, as Slack shows them, so a
    link typed across two styled runs stays whole; containers are separate lines.
    """
    if depth > _MAX_DEPTH or not isinstance(element, Mapping):
        return
    kind = element.get("type")
    if kind == "link":
        url = element.get("url")
        if isinstance(url, str):
            yield f" {url} "
        return
    if kind == "text":
        text = element.get("text")
        if isinstance(text, str):
            yield text
        return
    children = _list(element.get("elements"))
    inline = [child for child in children if _is_inline(child)]
    if inline:
        yield "".join(piece for child in inline for piece in _rich_text_pieces(child, depth + 1))
    for child in children:
        if not _is_inline(child):
            yield from _rich_text_pieces(child, depth + 1)


def _is_inline(element: object) -> bool:
    return isinstance(element, Mapping) and element.get("type") in {"text", "link"}


def _text_object_pieces(value: object) -> Iterator[str]:
    if isinstance(value, Mapping) and _is_str(value.get("text")):
        yield value["text"]


def _list(value: object) -> Sequence[Any]:
    return value if isinstance(value, list) else ()


def _is_str(value: object) -> bool:
    return isinstance(value, str)
