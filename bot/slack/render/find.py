"""``/medialink find``'s results: one page of files, each to tick or link, and a stream link.

Per file: a section (bold name, type · size · last updated · 🔒 private, and a thumbnail
for a public image) and a row with a checkbox, "Get link" and, for a video, "Stream".
Under the files: "Get links for selected", "More results" (Wix's next page) and Dismiss.

A "Get link" or "Stream" button carries the link state of its one file, "Get links for
selected" that of the whole page (the checkboxes' values are indexes into it), and
"More results" the search itself (``bot.slack.find_state``); a button whose state would
not fit its value is left out. A thumbnail is shown only from Wix's public static host
(``bot.wix.found.public_static_image_url``), never for a private file.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Final

from bot.slack.button_state import LinkState, encode_state, fits_in_button
from bot.slack.find_state import FindState, encode_find_state
from bot.slack.messages import escape_clip
from bot.slack.render.block_kit import Block, Message, button, context, message, plain, section
from bot.slack.render.footer import ACTION_DISMISS, DISMISS_VALUE
from bot.slack.render.limits import MAX_CHECKBOX_OPTIONS, MAX_IMAGE_ALT_TEXT
from bot.slack.render.links import ACTION_LINK_PREFIX
from bot.slack.render.text import clip, count, human_size, slack_date
from bot.wix.found import FoundFile, FoundFiles, StreamLink, public_static_image_url
from bot.wix.refs import MediaRef, MediaType, parse_media_ref

# A page of results: ten files, 2 blocks each, well inside a message's 50 blocks.
FIND_PAGE_SIZE: Final = MAX_CHECKBOX_OPTIONS
MAX_NAME_CHARS: Final = 150
MAX_WORDS_SHOWN: Final = 80

ACTION_FIND_PICK_PREFIX: Final = "medialink_find_pick_"
FIND_PICK_ACTION: Final = re.compile(r"^medialink_find_pick_\d+$")
ACTION_FIND_GET_PREFIX: Final = "medialink_find_get_"
FIND_GET_ACTION: Final = re.compile(r"^medialink_find_get_\d+$")
ACTION_FIND_STREAM_PREFIX: Final = "medialink_find_stream_"
FIND_STREAM_ACTION: Final = re.compile(r"^medialink_find_stream_\d+$")
ACTION_FIND_SELECTED: Final = "medialink_find_selected"
ACTION_FIND_MORE: Final = "medialink_find_more"
STREAM_LINK_ACTION: Final = f"{ACTION_LINK_PREFIX}0"  # a URL button: acknowledged, nothing more

_TYPE_LABELS: Final = {
    MediaType.IMAGE: "Image",
    MediaType.VIDEO: "Video",
    MediaType.AUDIO: "Audio",
    MediaType.DOCUMENT: "Document",
    MediaType.VECTOR: "Vector graphic",
    MediaType.ARCHIVE: "Archive",
    MediaType.UNKNOWN: "File",
}


def render_find_results(
    found: FoundFiles, search: FindState, *, first_page: bool = True
) -> Message:
    """One page of results for the person ``search`` belongs to."""
    files = found.files[:FIND_PAGE_SIZE]
    shown = escape_clip(search.words, MAX_WORDS_SHOWN)
    if not files:
        text = f"No files match “{shown}”{_filters(search)}." + (
            " Try other words, or fewer of them."
            if first_page
            else " There are no more results; search again to start over."
        )
        return message(text, [section(text, block_id="find_none")])
    page_state = _state(search, files)
    noun = "file" if first_page else "more file"
    heading = f"{count(len(files), noun)} matching “{shown}”{_filters(search)}"
    blocks: list[Block] = [section(f"*{heading}*", block_id="find_heading")]
    for index, file in enumerate(files):
        blocks.extend(_file_blocks(index, file, search, page_state))
    controls: list[Block] = []
    if page_state is not None:
        token = encode_state(page_state)
        if fits_in_button(token):
            controls.append(
                button("Get links for selected", ACTION_FIND_SELECTED, value=token, style="primary")
            )
    if found.next_cursor is not None:
        next_page = encode_find_state(replace(search, cursor=found.next_cursor))
        if next_page is not None:
            controls.append(button("More results", ACTION_FIND_MORE, value=next_page))
    controls.append(button("Dismiss", ACTION_DISMISS, value=DISMISS_VALUE))
    blocks.append({"type": "actions", "block_id": "find_controls", "elements": controls})
    if found.next_cursor is not None and not any(
        c.get("action_id") == ACTION_FIND_MORE for c in controls
    ):
        blocks.append(
            context(
                "_More files match: add words to narrow the search._", block_id="find_more_note"
            )
        )
    return message(heading, blocks)


def render_stream_link(link: StreamLink) -> Message:
    """A video's streaming link, with when it stops working (if it does)."""
    name = escape_clip(link.name, MAX_NAME_CHARS)
    kind = link.format.value
    lines = [f"*{name}*", f"{kind} stream, for watching in a player or browser that plays {kind}."]
    if link.expires_at is not None:
        lines.append(f"Expires {slack_date(link.expires_at)}")
    else:
        lines.append("A public video's stream link does not expire.")
    text = f"{kind} stream of {clip(link.name, 100)}"
    return message(
        text,
        [
            section("\n".join(lines), block_id="stream"),
            {
                "type": "actions",
                "block_id": "stream_link",
                "elements": [button(f"Open {kind} stream", STREAM_LINK_ACTION, url=link.url)],
            },
        ],
    )


def selected_indexes(values: object, limit: int) -> list[int]:
    """The ticked files' indexes from a block_actions payload's ``state.values``, in
    order, each below ``limit``; anything else in there is ignored."""
    picked: set[int] = set()
    if not isinstance(values, dict):
        return []
    for block in list(values.values())[: 4 * FIND_PAGE_SIZE]:
        if not isinstance(block, dict):
            continue
        for action_id, state in list(block.items())[:MAX_CHECKBOX_OPTIONS]:
            if not (isinstance(action_id, str) and FIND_PICK_ACTION.match(action_id)):
                continue
            options = state.get("selected_options") if isinstance(state, dict) else None
            if not isinstance(options, list):
                continue
            for option in options[:MAX_CHECKBOX_OPTIONS]:
                value = option.get("value") if isinstance(option, dict) else None
                if isinstance(value, str) and value.isdigit() and len(value) <= 2:
                    index = int(value)
                    if index < limit:
                        picked.add(index)
    return sorted(picked)


def _file_blocks(
    index: int, file: FoundFile, search: FindState, page_state: LinkState | None
) -> list[Block]:
    block = section("\n".join(_heading(file)), block_id=f"find_file_{index}")
    thumbnail = None if file.private else public_static_image_url(file.thumbnail_url)
    if thumbnail is not None and file.media_type is MediaType.IMAGE:
        block["accessory"] = {
            "type": "image",
            "image_url": thumbnail,
            "alt_text": clip(file.name, MAX_IMAGE_ALT_TEXT) or "image",
        }
    elements: list[Block] = []
    in_page = page_state is not None and any(f.file_id == file.file_id for f in page_state.files)
    one = _state(search, [file])
    if in_page and page_state is not None:
        position = next(i for i, f in enumerate(page_state.files) if f.file_id == file.file_id)
        elements.append(
            {
                "type": "checkboxes",
                "action_id": f"{ACTION_FIND_PICK_PREFIX}{index}",
                "options": [{"text": plain("Select"), "value": str(position)}],
            }
        )
    if one is not None:
        token = encode_state(one)
        if fits_in_button(token):
            elements.append(button("Get link", f"{ACTION_FIND_GET_PREFIX}{index}", value=token))
            if file.media_type is MediaType.VIDEO:
                elements.append(
                    button("Stream", f"{ACTION_FIND_STREAM_PREFIX}{index}", value=token)
                )
    if not elements:
        return [block]
    return [block, {"type": "actions", "block_id": f"find_file_{index}_do", "elements": elements}]


def _heading(file: FoundFile) -> list[str]:
    details = [_TYPE_LABELS.get(file.media_type, "File")]
    size = human_size(file.size_bytes)
    if size:
        details.append(size)
    if file.updated_at is not None:
        details.append(f"updated {_date(file.updated_at)}")
    if file.private:
        details.append("🔒 private")
    return [f"*{escape_clip(file.name, MAX_NAME_CHARS)}*", " · ".join(details)]


def _date(moment: datetime) -> str:
    return slack_date(moment)


def _filters(search: FindState) -> str:
    parts = []
    if search.media_type is not None:
        parts.append(_TYPE_LABELS[search.media_type].lower() + "s")
    if search.private is True:
        parts.append("private files only")
    elif search.private is False:
        parts.append("public files only")
    return f" ({', '.join(parts)})" if parts else ""


def _state(search: FindState, files: Sequence[FoundFile]) -> LinkState | None:
    """The link state that makes links for ``files`` with the search's options."""
    refs = []
    for file in files:
        parsed = parse_media_ref(file.file_id)
        if not isinstance(parsed, MediaRef) or parsed.file_id != file.file_id:
            continue  # its button would be refused as stale: offer none
        refs.append(
            MediaRef(
                file_id=file.file_id,
                media_type=file.media_type,
                filename=file.name,
                source=file.file_id,
            )
        )
    if not refs:
        return None
    return LinkState.for_request(search.user_id, refs, search.options)
