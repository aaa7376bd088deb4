"""``/medialink find``'s results: one page of files, each to tick or link, and a stream link.

Per file: a section (bold name, type · size · last updated · 🔒 private, and a thumbnail
for a public image) and a row with a checkbox, "Get link" and, for a video, "Stream".
Under the files: "Get links for selected", "More results" (Wix's next page) and Dismiss.

A "Get link" or "Stream" button carries the link state of its one file, "Get links for
selected" that of the whole page (the checkboxes' values are indexes into it), and
"More results" the search itself (``bot.slack.find_state``); a button whose state would
not fit its value is left out. A thumbnail is shown only from Wix's public static host
(``bot.wix.found.public_static_image_url``), never for a private file.

With several connected sites searched at once, each file names its site, every link
button carries it (so links are made where the file was found), and each site with more
results gets its own "More from <site>" button (a cursor belongs to one site).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Final

from bot.sites.registry import SiteFile, SiteSearch
from bot.slack.button_state import LinkState, encode_state, fits_in_button
from bot.slack.find_state import FindState, encode_find_state
from bot.slack.messages import escape_clip
from bot.slack.render.block_kit import Block, Message, button, context, message, plain, section
from bot.slack.render.footer import ACTION_DISMISS, DISMISS_VALUE
from bot.slack.render.limits import MAX_CHECKBOX_OPTIONS, MAX_IMAGE_ALT_TEXT
from bot.slack.render.links import ACTION_LINK_PREFIX
from bot.slack.render.text import clip, count, human_size, slack_date
from bot.wix.found import FoundFile, StreamLink, public_static_image_url
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
# One "More from <site>" button per site of a search over several (suffixed: unique IDs).
FIND_MORE_ACTION: Final = re.compile(r"^medialink_find_more(?:_\d+)?$")
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
    found: SiteSearch, search: FindState, *, first_page: bool = True
) -> Message:
    """One page of results for the person ``search`` belongs to."""
    files = found.files[:FIND_PAGE_SIZE]
    shown = escape_clip(search.words, MAX_WORDS_SHOWN)
    where = _where(found)
    failed = _failed_note(found)
    if not files:
        text = f"No files match “{shown}”{_filters(search)}{where}." + (
            " Try other words, or fewer of them."
            if first_page
            else " There are no more results; search again to start over."
        )
        blocks: list[Block] = [section(text, block_id="find_none")]
        if failed:
            blocks.append(context(failed, block_id="find_failed"))
        return message(text, blocks)
    page_state = _state(search, files)
    noun = "file" if first_page else "more file"
    heading = f"{count(len(files), noun)} matching “{shown}”{_filters(search)}{where}"
    blocks = [section(f"*{heading}*", block_id="find_heading")]
    for index, file in enumerate(files):
        blocks.extend(_file_blocks(index, file, search, page_state, named=found.several))
    controls: list[Block] = []
    if page_state is not None:
        token = encode_state(page_state)
        if fits_in_button(token):
            controls.append(
                button("Get links for selected", ACTION_FIND_SELECTED, value=token, style="primary")
            )
    more = _more_buttons(found, search)
    controls.extend(more)
    controls.append(button("Dismiss", ACTION_DISMISS, value=DISMISS_VALUE))
    blocks.append({"type": "actions", "block_id": "find_controls", "elements": controls})
    if found.cursors and len(more) < len(found.cursors):
        blocks.append(
            context(
                "_More files match: add words to narrow the search._", block_id="find_more_note"
            )
        )
    if failed:
        blocks.append(context(failed, block_id="find_failed"))
    return message(heading, blocks)


def _where(found: SiteSearch) -> str:
    """ " on `acme`", or " on 3 sites", when connected sites are in use."""
    if found.several:
        return f" on {len(found.sites)} sites"
    return f" on `{found.sites[0]}`" if found.sites else ""


def _failed_note(found: SiteSearch) -> str:
    if not found.failed:
        return ""
    names = ", ".join(f"`{name}`" for name in found.failed)
    theirs = "their" if len(found.failed) > 1 else "its"
    return f"_{names} did not answer, so {theirs} files are not shown. Try again in a moment._"


def _more_buttons(found: SiteSearch, search: FindState) -> list[Block]:
    """ "More results" for one site's search; one "More from <site>" per site otherwise."""
    buttons: list[Block] = []
    for index, (site, cursor) in enumerate(found.cursors.items()):
        next_page = encode_find_state(replace(search, cursor=cursor, site=site))
        if next_page is None:
            continue
        if found.several:
            label = clip(f"More from {site}", 75)
            buttons.append(button(label, f"{ACTION_FIND_MORE}_{index}", value=next_page))
        else:
            buttons.append(button("More results", ACTION_FIND_MORE, value=next_page))
    return buttons


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
    index: int,
    found: SiteFile,
    search: FindState,
    page_state: LinkState | None,
    *,
    named: bool,
) -> list[Block]:
    file = found.file
    lines = _heading(file)
    if named and found.site:
        lines[-1] += f" · on `{found.site}`"
    block = section("\n".join(lines), block_id=f"find_file_{index}")
    thumbnail = None if file.private else public_static_image_url(file.thumbnail_url)
    if thumbnail is not None and file.media_type is MediaType.IMAGE:
        block["accessory"] = {
            "type": "image",
            "image_url": thumbnail,
            "alt_text": clip(file.name, MAX_IMAGE_ALT_TEXT) or "image",
        }
    elements: list[Block] = []
    in_page = page_state is not None and any(f.file_id == file.file_id for f in page_state.files)
    one = _state(search, [found])
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


def _state(search: FindState, files: Sequence[SiteFile]) -> LinkState | None:
    """The link state that makes links for ``files`` with the search's options, each on
    the site it was found on."""
    refs = []
    sites: dict[str, str | None] = {}
    for found in files:
        file = found.file
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
        sites[file.file_id] = found.site
    if not refs:
        return None
    return LinkState.for_request(search.user_id, refs, search.options).with_sites(sites)
