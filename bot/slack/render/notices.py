"""Plain messages (usage, problems, confirmations): mrkdwn cut into sections that fit."""

from __future__ import annotations

from collections.abc import Sequence

from bot.slack.messages import NO_LINKS_MADE
from bot.slack.render.block_kit import Block, Message, context, message, section
from bot.slack.render.limits import MAX_BLOCKS, MAX_SECTION_TEXT
from bot.slack.render.skipped import skipped_block, skipped_item, skipped_lines
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


def render_nothing_found(
    rejected: Sequence[RejectedToken], *, none_found: str, help_text: str
) -> Message:
    """No reference to make a link for: the reason first, said once (each skipped item
    with its own reason, or ``none_found``), then ``help_text`` in small print."""
    if len(rejected) == 1:
        lead = f"{NO_LINKS_MADE} {skipped_item(rejected[0])}"
    elif rejected:
        head = f"{NO_LINKS_MADE} Nothing there is a Wix media link MediaLink can use:"
        lead = "\n".join([head, *skipped_lines(rejected, MAX_SECTION_TEXT - len(head) - 1)])
    else:
        lead = f"{NO_LINKS_MADE} {none_found}"
    blocks = [
        section(lead, block_id="medialink_nothing_found"),
        context(help_text, block_id="medialink_help_hint"),
    ]
    return message(_plain_summary(lead), blocks)


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
