"""Plain messages (usage, problems, confirmations): mrkdwn cut into sections that fit."""

from __future__ import annotations

from collections.abc import Sequence

from bot.slack.render.block_kit import Block, Message, message, section
from bot.slack.render.limits import MAX_BLOCKS, MAX_SECTION_TEXT
from bot.slack.render.skipped import skipped_block
from bot.slack.render.text import clip, strip_mrkdwn
from bot.wix.refs import RejectedToken


def render_notice(text: str, *, rejected: Sequence[RejectedToken] = ()) -> Message:
    """A plain message in mrkdwn, within the limits; skipped input listed last."""
    blocks: list[Block] = [
        section(chunk, block_id=f"notice_{index}")
        for index, chunk in enumerate(_split_text(text, MAX_SECTION_TEXT))
    ][: MAX_BLOCKS - 1]
    if rejected:
        blocks.append(skipped_block(rejected))
    return message(_plain_summary(text), blocks)


def _split_text(text: str, limit: int) -> list[str]:
    """Cut long text at line breaks into pieces of at most ``limit`` characters."""
    pieces: list[str] = []
    current = ""
    for whole_line in text.split("\n"):
        line = whole_line
        while len(line) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit:
            pieces.append(current)
            current = line
        else:
            current = candidate
    if current or not pieces:
        pieces.append(current or " ")
    return pieces


def _plain_summary(text: str) -> str:
    """The notification text: the first line that says something, without mrkdwn."""
    first = next((line for line in text.split("\n") if line.strip()), "MediaLink")
    return clip(strip_mrkdwn(first), 300)
