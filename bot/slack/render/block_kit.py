"""Block Kit objects (messages, text, sections, context, buttons, rows, options),
each clipped to its limit so no caller has to remember them."""

from __future__ import annotations

from typing import Any

from bot.slack.render.limits import (
    MAX_ACTIONS_ELEMENTS,
    MAX_BUTTON_TEXT,
    MAX_MESSAGE_TEXT,
    MAX_OPTION_TEXT,
    MAX_OPTION_VALUE,
    MAX_SECTION_TEXT,
)
from bot.slack.render.text import clip

Message = dict[str, Any]
Block = dict[str, Any]


def message(text: str, blocks: list[Block]) -> Message:
    return {
        "text": clip(text, MAX_MESSAGE_TEXT) or "MediaLink",
        "blocks": blocks,
        "unfurl_links": False,
        "unfurl_media": False,
    }


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def section(text: str, *, block_id: str) -> Block:
    return {
        "type": "section",
        "block_id": block_id,
        "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT) or " "},
    }


def context(text: str, *, block_id: str) -> Block:
    return {
        "type": "context",
        "block_id": block_id,
        "elements": [{"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT) or " "}],
    }


def button(
    label: str,
    action_id: str,
    *,
    value: str | None = None,
    url: str | None = None,
    style: str | None = None,
    confirm: dict[str, Any] | None = None,
) -> Block:
    made: Block = {
        "type": "button",
        "action_id": action_id,
        "text": plain(clip(label, MAX_BUTTON_TEXT)),
    }
    if value is not None:
        made["value"] = value
    if url is not None:
        made["url"] = url
    if style is not None:
        made["style"] = style
    if confirm is not None:
        made["confirm"] = confirm
    return made


def actions_rows(elements: list[Block], *, block_id: str) -> list[Block]:
    """As many actions blocks as the elements need; the first keeps ``block_id`` as is."""
    return [
        {
            "type": "actions",
            "block_id": block_id if start == 0 else f"{block_id}_{start // MAX_ACTIONS_ELEMENTS}",
            "elements": elements[start : start + MAX_ACTIONS_ELEMENTS],
        }
        for start in range(0, len(elements), MAX_ACTIONS_ELEMENTS)
    ]


def option(label: str, value: str) -> dict[str, Any]:
    return {"text": plain(clip(label, MAX_OPTION_TEXT)), "value": value[:MAX_OPTION_VALUE]}
