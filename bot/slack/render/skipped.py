"""The input a request skipped, each item with its reason (first message only)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.slack.messages import escape_clip
from bot.slack.render.block_kit import Block, context
from bot.slack.render.limits import MAX_SECTION_TEXT
from bot.slack.render.text import count
from bot.wix.refs import RejectedToken

MAX_REJECTED_SHOWN = 10
MAX_REJECTED_TEXT_CHARS = 80


def skipped_block(rejected: Sequence[RejectedToken]) -> Block:
    header = f"*Skipped {count(len(rejected), 'item')}:*"
    lines = [header, *skipped_lines(rejected, MAX_SECTION_TEXT - len(header) - 1)]
    return context("\n".join(lines), block_id="medialink_rejected")


def skipped_lines(rejected: Sequence[RejectedToken], budget: int) -> list[str]:
    """``• `item`: reason`` for each item that fits ``budget`` characters (the first
    ten at most), then "…and n more." for the rest."""
    budget -= 60  # room for the "…and n more." line
    lines: list[str] = []
    for item in rejected[:MAX_REJECTED_SHOWN]:
        line = f"• {skipped_item(item)}"
        if len(line) + 1 > budget:
            break
        budget -= len(line) + 1
        lines.append(line)
    if len(lines) < len(rejected):
        lines.append(f"…and {len(rejected) - len(lines)} more.")
    return lines


def skipped_item(item: RejectedToken) -> str:
    return f"`{escape_clip(item.text, MAX_REJECTED_TEXT_CHARS)}`: {escape_clip(item.reason, 160)}"
