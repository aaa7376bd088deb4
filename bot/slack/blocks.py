"""Block Kit for MediaLink's replies and form, with every Slack limit kept here.

Slack rejects a whole message when one limit is broken (``invalid_blocks``, with no
detail through a response_url), so nothing leaves this module unchecked: replies are
packed file by file into as many messages as the limits need, and each message carries
the button state for its own files only.

Layout of a reply (action IDs are matched by the listeners and the end-to-end tests):

* a context line saying what this is (and "part k of n" when split);
* per file, a section (bold name, type, size, 🔒 private, expiry as ``<!date^…>``),
  then an actions block with one URL button per asset (``medialink_link_<n>``, n
  counting the message's link buttons) and, for files with renditions, the rendition
  choice (``medialink_rendition_<i>_<j>``: file i of the message, choice j); a file
  without links gets its error in words, with a "Try again" button when Wix was busy;
* skipped input with reasons (first message only);
* the expiry choice (``medialink_expiry_<minutes>``) and the controls
  (``medialink_regenerate``, ``medialink_share``, ``medialink_dm``, ``medialink_dismiss``).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.slack.button_state import (
    FileState,
    LinkState,
    encode_state,
    file_state,
    fits_in_button,
    rendition_choices,
)
from bot.slack.messages import (
    asset_label,
    describe_error,
    escape_clip,
    expiry_label,
    fell_back_note,
    is_busy,
    missing_keys_note,
)
from bot.wix.links import ORIGINAL, FileLinks
from bot.wix.refs import MediaType, RejectedToken

Message = dict[str, Any]
Block = dict[str, Any]

# --- Slack's limits (slack.md §7) -----------------------------------------------------------
MAX_BLOCKS = 50
MAX_MODAL_BLOCKS = 100
MAX_ACTIONS_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_BUTTON_URL = 3000
MAX_OPTIONS = 100
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_PLACEHOLDER = 150
MAX_HEADER_TEXT = 150
MAX_ID = 255  # block_id, action_id, callback_id
MAX_CONFIRM = {"title": 100, "text": 300, "confirm": 30, "deny": 30}
MAX_MODAL_TITLE = 24
MAX_INPUT_LABEL = 2000
MAX_INPUT_LENGTH = 3000
MAX_PRIVATE_METADATA = 3000
# Slack asks for message text under 4000 bytes; 3000 characters stays clear of it.
MAX_MESSAGE_TEXT = 3000

# --- Our own caps, so one file always fits one message ------------------------------------
MAX_LINKS_PER_FILE = 100  # four rows of link buttons
MAX_RENDITION_CHOICES = 50  # two rows of rendition buttons
MAX_NAME_CHARS = 150
MAX_REJECTED_SHOWN = 10
MAX_REJECTED_TEXT_CHARS = 80

# --- IDs ------------------------------------------------------------------------------------
ACTION_LINK_PREFIX = "medialink_link_"
ACTION_RENDITION_PREFIX = "medialink_rendition_"
ACTION_REGENERATE = "medialink_regenerate"
ACTION_EXPIRY_PREFIX = "medialink_expiry_"
ACTION_SHARE = "medialink_share"
ACTION_DM = "medialink_dm"
ACTION_DISMISS = "medialink_dismiss"
LINK_ACTION = re.compile(r"^medialink_link_\d+$")
RENDITION_ACTION = re.compile(r"^medialink_rendition_\d+_\d+$")
EXPIRY_ACTION = re.compile(r"^medialink_expiry_\d+$")
EXPIRY_CHOICES = (15, 60, 1440, 10080)  # minutes: 15 min, 1 hour, 1 day, 7 days
DISMISS_VALUE = "dismiss"

MODAL_CALLBACK_ID = "medialink_modal"
URLS_BLOCK, URLS_ACTION = "urls", "urls_input"
EXPIRY_BLOCK, EXPIRY_SELECT_ACTION = "expiry", "expiry_select"
ASSETS_BLOCK, ASSETS_ACTION = "assets", "assets_input"
CONVERSATION_BLOCK, CONVERSATION_ACTION = "conversation", "conversation_select"

_TYPE_LABELS = {
    MediaType.IMAGE: "Image",
    MediaType.VIDEO: "Video",
    MediaType.AUDIO: "Audio",
    MediaType.DOCUMENT: "Document",
    MediaType.VECTOR: "Vector graphic",
    MediaType.ARCHIVE: "Archive",
    MediaType.UNKNOWN: "File",
}


# --- public rendering -----------------------------------------------------------------------


def render_link_reply(
    results: Sequence[FileLinks],
    state: LinkState,
    *,
    rejected: Sequence[RejectedToken] = (),
    expiry_choices: Sequence[int] = EXPIRY_CHOICES,
    share_enabled: bool = True,
) -> list[Message]:
    """The ephemeral reply with its buttons; as many messages as the limits need.

    ``state`` describes the whole request; each message carries it narrowed to its
    own files, so a click on any message remakes exactly that message.
    """
    files_by_id = {file.file_id: file for file in state.files}
    layout = _Layout(
        state=state,
        files={
            result.file_id: files_by_id.get(result.file_id) or file_state(result.ref)
            for result in results
        },
        expiry_choices=tuple(expiry_choices),
        share_enabled=share_enabled,
        intro="Download links for {what}. Only you can see this.",
    )
    return _paginate(results, layout, rejected)


def render_shared_reply(results: Sequence[FileLinks], *, shared_by: str) -> list[Message]:
    """The links as everyone in the conversation sees them: links only, no controls."""
    layout = _Layout(intro=f"<@{escape_clip(shared_by, 40)}> shared download links for {{what}}.")
    return _paginate(results, layout, ())


def render_dm_copy(results: Sequence[FileLinks]) -> list[Message]:
    """The copy sent to the person's DMs, which survives reloads (ephemeral replies don't)."""
    layout = _Layout(intro="Your MediaLink download links for {what}.")
    return _paginate(results, layout, ())


def render_notice(text: str, *, rejected: Sequence[RejectedToken] = ()) -> Message:
    """A plain message (usage, problems, confirmations) in mrkdwn, within the limits."""
    blocks: list[Block] = [
        _section(chunk, block_id=f"notice_{index}")
        for index, chunk in enumerate(_split_text(text, MAX_SECTION_TEXT))
    ][: MAX_BLOCKS - 1]
    if rejected:
        blocks.append(_rejected_block(rejected))
    return _message(_plain_summary(text), blocks)


def slack_date(moment: datetime) -> str:
    """``<!date^…>``: each reader sees their own time zone; the fallback is UTC."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    fallback = utc.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(utc.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def human_size(size: int | None) -> str | None:
    if size is None or size < 0:
        return None
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    return None  # pragma: no cover - the loop always returns


def allowed_expiry_choices(max_minutes: int) -> tuple[int, ...]:
    return tuple(minutes for minutes in EXPIRY_CHOICES if minutes <= max_minutes)


# --- the modal ------------------------------------------------------------------------------


def build_link_modal(*, default_minutes: int, max_minutes: int) -> dict[str, Any]:
    """The global shortcut's form: URLs, expiry, renditions and where to post."""
    minutes = sorted({*allowed_expiry_choices(max_minutes), default_minutes})
    options = [_option(expiry_label(value), str(value)) for value in minutes][:MAX_OPTIONS]
    initial = next(
        (option for option in options if option["value"] == str(default_minutes)), options[0]
    )
    return {
        "type": "modal",
        "callback_id": MODAL_CALLBACK_ID,
        "title": _plain("MediaLink"),
        "submit": _plain("Get links"),
        "close": _plain("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": URLS_BLOCK,
                "label": _plain("Wix media URLs or file IDs"),
                "hint": _plain("One or more, separated by spaces or new lines."),
                "element": {
                    "type": "plain_text_input",
                    "action_id": URLS_ACTION,
                    "multiline": True,
                    "max_length": MAX_INPUT_LENGTH,
                    "placeholder": _plain("https://static.wixstatic.com/media/…"),
                },
            },
            {
                "type": "input",
                "block_id": EXPIRY_BLOCK,
                "label": _plain("Links expire after"),
                "element": {
                    "type": "static_select",
                    "action_id": EXPIRY_SELECT_ACTION,
                    "options": options,
                    "initial_option": initial,
                },
            },
            {
                "type": "input",
                "block_id": ASSETS_BLOCK,
                "optional": True,
                "label": _plain("Renditions"),
                "hint": _plain("Leave empty for the original file. Separate names with commas."),
                "element": {
                    "type": "plain_text_input",
                    "action_id": ASSETS_ACTION,
                    "max_length": 500,
                    "placeholder": _plain("src,720p.mp4"),
                },
            },
            {
                "type": "input",
                "block_id": CONVERSATION_BLOCK,
                "label": _plain("Send the links to me in"),
                "element": {
                    "type": "conversations_select",
                    "action_id": CONVERSATION_ACTION,
                    "response_url_enabled": True,
                    "default_to_current_conversation": True,
                    "placeholder": _plain("Choose a conversation"),
                },
            },
        ],
    }


# --- packing files into messages ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Layout:
    intro: str  # "{what}" becomes "3 files"
    state: LinkState | None = None  # None: links only (shared and DM copies)
    files: Mapping[str, FileState] | None = None  # file ID → its state, for interactive replies
    expiry_choices: tuple[int, ...] = ()
    share_enabled: bool = False

    @property
    def interactive(self) -> bool:
        return self.state is not None


@dataclass(frozen=True, slots=True)
class _Page:
    results: tuple[FileLinks, ...]
    blocks: list[Block]
    state_dropped: bool


def _paginate(
    results: Sequence[FileLinks], layout: _Layout, rejected: Sequence[RejectedToken]
) -> list[Message]:
    # Each page takes the longest run of files that fits. Fitting is monotonic (another
    # file only adds blocks and state), so a binary search finds it with O(log n) renders
    # per page instead of one render per file (which cost ~0.6 s of CPU for 50 files).
    pages: list[_Page] = []
    start = 0
    while start < len(results):
        page_rejected = () if pages else rejected
        fits, page = 0, None
        low, high = 1, len(results) - start
        while low <= high:
            size = (low + high) // 2
            candidate = _render_page(tuple(results[start : start + size]), layout, page_rejected)
            if candidate is None:
                high = size - 1
            else:
                fits, page, low = size, candidate, size + 1
        if page is None:  # one file that cannot fit on its own: drop what does not fit
            fits = 1
            page = _render_page((results[start],), layout, page_rejected, lenient=True)
        assert page is not None  # noqa: S101 - a lenient render always returns a page
        pages.append(page)
        start += fits
    if not pages:
        pages.append(_Page((), [_rejected_block(rejected)] if rejected else [], False))

    total_files = len(results)
    messages = []
    for number, page in enumerate(pages, start=1):
        what = _count(total_files)
        if len(pages) > 1:
            what = f"{what} (part {number} of {len(pages)}: {_count(len(page.results))})"
        intro = layout.intro.format(what=what)
        if page.state_dropped:
            intro += (
                " These files are too many for the buttons to remember, so the buttons are "
                "off; run /medialink again for fresh links."
            )
        blocks = [_context(intro, block_id="medialink_intro"), *page.blocks]
        messages.append(_message(f"MediaLink: {_strip_mrkdwn(what)}", blocks))
    return messages


def _render_page(
    results: tuple[FileLinks, ...],
    layout: _Layout,
    rejected: Sequence[RejectedToken],
    *,
    lenient: bool = False,
) -> _Page | None:
    """The blocks for these files (after the intro), or None if they break a limit.

    ``lenient`` (one file that cannot fit otherwise) drops what does not fit instead.
    """
    page_state: LinkState | None = None
    state_dropped = False
    if layout.state is not None and layout.files is not None:
        page_state = layout.state.with_files([layout.files[r.file_id] for r in results])
        token = encode_state(page_state)
        if not fits_in_button(token):
            if not lenient:
                return None
            page_state, state_dropped = None, True
    else:
        token = ""

    blocks: list[Block] = []
    links = itertools.count()
    for index, result in enumerate(results):
        file_blocks = _file_blocks(index, result, page_state, links, lenient=lenient)
        if file_blocks is None:
            return None
        blocks.extend(file_blocks)
    if rejected:
        blocks.append(_rejected_block(rejected))
    if page_state is not None:
        blocks.extend(_footer(page_state, token, layout))
    if len(blocks) + 1 > MAX_BLOCKS:  # + the intro
        return None
    return _Page(results, blocks, state_dropped)


def _file_blocks(
    index: int,
    result: FileLinks,
    state: LinkState | None,
    links: Iterator[int],
    *,
    lenient: bool,
) -> list[Block] | None:
    name = escape_clip(result.display_name, MAX_NAME_CHARS)
    facts = result.facts
    details = [_TYPE_LABELS.get(result.media_type, "File")]
    size = human_size(facts.size_bytes if facts else None)
    if size:
        details.append(size)
    if facts is not None and facts.private:
        details.append("🔒 private")
    lines = [f"*{name}*", " · ".join(details)]

    if not result.ok:
        error = result.error
        lines.append(f"⚠️ {describe_error(error) if error else 'Wix returned no link.'}")
        section = _section("\n".join(lines), block_id=f"file_{index}")
        if state is not None and is_busy(error):
            section["accessory"] = _button(
                "Try again", ACTION_REGENERATE, value=encode_state(state)
            )
        return [section]

    if result.expires_at is not None:
        lines.append(f"Expires {slack_date(result.expires_at)}")
    if result.invalid_asset_keys:
        lines.append(
            "ℹ️ "  # noqa: RUF001 - the information sign is meant
            + (
                fell_back_note(result.invalid_asset_keys)
                if result.fell_back_to_original
                else missing_keys_note(result.invalid_asset_keys)
            )
        )
    buttons: list[Block] = []
    too_long = 0
    for link in result.links[:MAX_LINKS_PER_FILE]:
        if len(link.url) > MAX_BUTTON_URL:
            too_long += 1
            continue
        buttons.append(
            _button(
                asset_label(link.asset_key),
                f"{ACTION_LINK_PREFIX}{next(links)}",
                url=link.url,
                style="primary",
            )
        )
    if len(result.links) > MAX_LINKS_PER_FILE:
        lines.append(f"{len(result.links) - MAX_LINKS_PER_FILE} more links are not shown.")
    if too_long:
        lines.append(f"{_count(too_long, 'link')} too long for Slack to show; ask again.")

    choices: list[Block] = []
    renditions = facts.renditions if facts else ()
    if state is not None and renditions:
        current = state.keys_for(state.files[index]) or (ORIGINAL,)
        for number, (label, keys) in enumerate(
            rendition_choices(renditions)[:MAX_RENDITION_CHOICES]
        ):
            token = encode_state(state.with_file_keys(index, keys))
            if not fits_in_button(token):
                if not lenient:
                    return None
                continue
            choices.append(
                _button(
                    label,
                    f"{ACTION_RENDITION_PREFIX}{index}_{number}",
                    value=token,
                    style="primary" if keys == current else None,
                )
            )
    if buttons and choices:
        # Two rows with similar labels otherwise: say which row is which.
        lines.append("_Download with the green buttons; the row below picks other renditions._")

    blocks = [_section("\n".join(lines), block_id=f"file_{index}")]
    blocks.extend(_actions_rows(buttons, block_id=f"file_{index}_links"))
    blocks.extend(_actions_rows(choices, block_id=f"file_{index}_renditions"))
    return blocks


def _footer(state: LinkState, token: str, layout: _Layout) -> list[Block]:
    blocks: list[Block] = []
    expiry = [
        _button(
            expiry_label(minutes),
            f"{ACTION_EXPIRY_PREFIX}{minutes}",
            value=encode_state(state.with_expiry(minutes)),
            style="primary" if minutes == state.expires_minutes else None,
        )
        for minutes in layout.expiry_choices
    ]
    if expiry and all(fits_in_button(button["value"]) for button in expiry):
        blocks.append({"type": "actions", "block_id": "medialink_expiry", "elements": expiry})
    controls = [_button("Regenerate", ACTION_REGENERATE, value=token)]
    if layout.share_enabled:
        controls.append(
            _button(
                "Share in channel",
                ACTION_SHARE,
                value=token,
                confirm={
                    "title": _plain("Share these links?"),
                    "text": {
                        "type": "mrkdwn",
                        "text": "Everyone in this conversation will be able to download "
                        "these files until the links expire.",
                    },
                    "confirm": _plain("Share"),
                    "deny": _plain("Cancel"),
                },
            )
        )
    controls.append(_button("Send to my DMs", ACTION_DM, value=token))
    controls.append(_button("Dismiss", ACTION_DISMISS, value=DISMISS_VALUE))
    blocks.append({"type": "actions", "block_id": "medialink_controls", "elements": controls})
    return blocks


def _rejected_block(rejected: Sequence[RejectedToken]) -> Block:
    header = f"*Skipped {_count(len(rejected), 'item')}:*"
    lines = [header]
    budget = MAX_SECTION_TEXT - len(header) - 60
    shown = 0
    for item in rejected[:MAX_REJECTED_SHOWN]:
        line = (
            f"• `{escape_clip(item.text, MAX_REJECTED_TEXT_CHARS)}`: "
            f"{escape_clip(item.reason, 160)}"
        )
        if len(line) + 1 > budget:
            break
        budget -= len(line) + 1
        lines.append(line)
        shown += 1
    if shown < len(rejected):
        lines.append(f"…and {len(rejected) - shown} more.")
    return _context("\n".join(lines), block_id="medialink_rejected")


# --- small builders -------------------------------------------------------------------------


def _message(text: str, blocks: list[Block]) -> Message:
    return {
        "text": _clip(text, MAX_MESSAGE_TEXT) or "MediaLink",
        "blocks": blocks,
        "unfurl_links": False,
        "unfurl_media": False,
    }


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _section(text: str, *, block_id: str) -> Block:
    return {
        "type": "section",
        "block_id": block_id,
        "text": {"type": "mrkdwn", "text": _clip(text, MAX_SECTION_TEXT) or " "},
    }


def _context(text: str, *, block_id: str) -> Block:
    return {
        "type": "context",
        "block_id": block_id,
        "elements": [{"type": "mrkdwn", "text": _clip(text, MAX_SECTION_TEXT) or " "}],
    }


def _button(
    label: str,
    action_id: str,
    *,
    value: str | None = None,
    url: str | None = None,
    style: str | None = None,
    confirm: dict[str, Any] | None = None,
) -> Block:
    button: Block = {
        "type": "button",
        "action_id": action_id,
        "text": _plain(_clip(label, MAX_BUTTON_TEXT)),
    }
    if value is not None:
        button["value"] = value
    if url is not None:
        button["url"] = url
    if style is not None:
        button["style"] = style
    if confirm is not None:
        button["confirm"] = confirm
    return button


def _actions_rows(elements: list[Block], *, block_id: str) -> list[Block]:
    return [
        {
            "type": "actions",
            "block_id": block_id if start == 0 else f"{block_id}_{start // MAX_ACTIONS_ELEMENTS}",
            "elements": elements[start : start + MAX_ACTIONS_ELEMENTS],
        }
        for start in range(0, len(elements), MAX_ACTIONS_ELEMENTS)
    ]


def _option(label: str, value: str) -> dict[str, Any]:
    return {"text": _plain(_clip(label, MAX_OPTION_TEXT)), "value": value[:MAX_OPTION_VALUE]}


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _count(number: int, noun: str = "file") -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


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
    first = next((line for line in text.split("\n") if line.strip()), "MediaLink")
    return _clip(_strip_mrkdwn(first), 300)


def _strip_mrkdwn(text: str) -> str:
    return text.replace("*", "").replace("`", "")
