"""A file in a reply: its section (bold name, type, size, 🔒 private, expiry, notes),
then its row of link buttons and its rendition choice. A file without links gets its
error in words, with a "Try again" button when Wix was busy."""

from __future__ import annotations

from collections.abc import Iterator

from bot.slack.button_state import LinkState, encode_state
from bot.slack.messages import (
    describe_error,
    escape_clip,
    fell_back_note,
    is_busy,
    missing_keys_note,
)
from bot.slack.render.block_kit import Block, actions_rows, button, section
from bot.slack.render.footer import ACTION_REGENERATE
from bot.slack.render.links import link_buttons
from bot.slack.render.renditions import rendition_buttons
from bot.slack.render.text import human_size, slack_date
from bot.wix.links import FileLinks
from bot.wix.refs import MediaType

MAX_NAME_CHARS = 150

_TYPE_LABELS = {
    MediaType.IMAGE: "Image",
    MediaType.VIDEO: "Video",
    MediaType.AUDIO: "Audio",
    MediaType.DOCUMENT: "Document",
    MediaType.VECTOR: "Vector graphic",
    MediaType.ARCHIVE: "Archive",
    MediaType.UNKNOWN: "File",
}
# Two rows with similar labels otherwise: say which row is which.
_ROWS_HINT = (
    "_The green buttons download. The row below changes which renditions are linked "
    "(✓ marks the ones shown)._"
)


def file_blocks(
    index: int,
    result: FileLinks,
    state: LinkState | None,
    link_numbers: Iterator[int],
    *,
    lenient: bool,
) -> list[Block] | None:
    """File ``index`` of the message, or None if a rendition choice cannot fit its button
    (``lenient`` leaves such choices out instead)."""
    if not result.ok:
        return [_failed_section(index, result, state)]
    links = link_buttons(result, link_numbers)
    choices = rendition_buttons(index, result, state, lenient=lenient)
    if choices is None:
        return None
    lines = [*_heading(result), *_link_notes(result), *links.notes]
    if links.buttons and choices:
        lines.append(_ROWS_HINT)
    return [
        section("\n".join(lines), block_id=f"file_{index}"),
        *actions_rows(links.buttons, block_id=f"file_{index}_links"),
        *actions_rows(choices, block_id=f"file_{index}_renditions"),
    ]


def _heading(result: FileLinks) -> list[str]:
    """The bold name, then type · size · 🔒 private."""
    facts = result.facts
    details = [_TYPE_LABELS.get(result.media_type, "File")]
    size = human_size(facts.size_bytes if facts else None)
    if size:
        details.append(size)
    if facts is not None and facts.private:
        details.append("🔒 private")
    return [f"*{escape_clip(result.display_name, MAX_NAME_CHARS)}*", " · ".join(details)]


def _failed_section(index: int, result: FileLinks, state: LinkState | None) -> Block:
    error = result.error
    problem = describe_error(error) if error else "Wix returned no link."
    block = section("\n".join([*_heading(result), f"⚠️ {problem}"]), block_id=f"file_{index}")
    if state is not None and is_busy(error):
        block["accessory"] = button("Try again", ACTION_REGENERATE, value=encode_state(state))
    return block


def _link_notes(result: FileLinks) -> list[str]:
    """When the links expire, and which asked-for renditions Wix does not have."""
    notes: list[str] = []
    if result.expires_at is not None:
        notes.append(f"Expires {slack_date(result.expires_at)}")
    invalid = result.invalid_asset_keys
    if invalid:
        fell_back = result.fell_back_to_original
        note = fell_back_note(invalid) if fell_back else missing_keys_note(invalid)
        notes.append(f"ℹ️ {note}")  # noqa: RUF001 - the information sign is meant
    return notes
