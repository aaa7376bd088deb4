"""A file's row of link buttons: one URL button per asset, numbered across the message."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from bot.slack.messages import asset_label
from bot.slack.render.block_kit import Block, button
from bot.slack.render.limits import MAX_BUTTON_URL
from bot.slack.render.text import count
from bot.wix.links import FileLinks

ACTION_LINK_PREFIX = "medialink_link_"
LINK_ACTION = re.compile(r"^medialink_link_\d+$")
MAX_LINKS_PER_FILE = 100  # four rows of link buttons, so one file always fits one message


@dataclass(frozen=True, slots=True)
class LinkButtons:
    buttons: list[Block]
    notes: list[str]  # the links left out, in words


def link_buttons(result: FileLinks, numbers: Iterator[int]) -> LinkButtons:
    """Buttons for the file's links; ``numbers`` counts the message's link buttons."""
    buttons: list[Block] = []
    too_long = 0
    for link in result.links[:MAX_LINKS_PER_FILE]:
        if len(link.url) > MAX_BUTTON_URL:
            too_long += 1
            continue
        buttons.append(
            button(
                asset_label(link.asset_key),
                f"{ACTION_LINK_PREFIX}{next(numbers)}",
                url=link.url,
                style="primary",
            )
        )
    notes: list[str] = []
    if len(result.links) > MAX_LINKS_PER_FILE:
        notes.append(f"{len(result.links) - MAX_LINKS_PER_FILE} more links are not shown.")
    if too_long:
        notes.append(f"{count(too_long, 'link')} too long for Slack to show; ask again.")
    return LinkButtons(buttons, notes)
