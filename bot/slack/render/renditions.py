"""A file's rendition choice: a row of buttons, each remaking the message with that
file's renditions changed. The current choice is marked with a check mark, not
coloured: green is for the link buttons above it, which download."""

from __future__ import annotations

import re

from bot.slack.button_state import LinkState, encode_state, fits_in_button, rendition_choices
from bot.slack.render.block_kit import Block, button
from bot.wix.links import ORIGINAL, FileLinks

ACTION_RENDITION_PREFIX = "medialink_rendition_"  # + "<file index>_<choice index>"
RENDITION_ACTION = re.compile(r"^medialink_rendition_\d+_\d+$")
MAX_RENDITION_CHOICES = 50  # two rows of buttons, so one file always fits one message
CURRENT_MARK = "✓"  # before the label of the renditions the file shows now


def rendition_buttons(
    index: int, result: FileLinks, state: LinkState | None, *, lenient: bool
) -> list[Block] | None:
    """The choices for file ``index`` of the message; none without state or renditions.

    None when a choice's state is too big for its button, unless ``lenient`` (a file
    that cannot fit otherwise), which leaves that choice out instead.
    """
    renditions = result.facts.renditions if result.facts else ()
    if state is None or not renditions:
        return []
    current = state.keys_for(state.files[index]) or (ORIGINAL,)
    buttons: list[Block] = []
    for number, (label, keys) in enumerate(rendition_choices(renditions)[:MAX_RENDITION_CHOICES]):
        token = encode_state(state.with_file_keys(index, keys))
        if not fits_in_button(token):
            if not lenient:
                return None
            continue
        shown = f"{CURRENT_MARK} {label}" if keys == current else label
        buttons.append(button(shown, f"{ACTION_RENDITION_PREFIX}{index}_{number}", value=token))
    return buttons
