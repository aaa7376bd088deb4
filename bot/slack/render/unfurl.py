"""The unfurl under a posted Wix media URL: the file's name, type and size, and a
"Get a download link" button whose value is the file ID, with the connected site that
described it when there is one (``site/file ID``).

Everyone in the conversation sees an unfurl, so a private file may be shown without its
name (``show_private_name``; the listener decides, bot/slack/listeners/unfurls.py).
"""

from __future__ import annotations

from bot.slack.button_state import site_file_value
from bot.slack.messages import escape_clip
from bot.slack.render.block_kit import Block, button, context, section
from bot.slack.render.limits import MAX_BUTTON_VALUE
from bot.slack.render.text import human_size
from bot.slack.surfaces import UNFURL_ACTION
from bot.wix.links import FileFacts
from bot.wix.refs import MediaRef, MediaType

MAX_NAME_CHARS = 150
GET_LINK_LABEL = "Get a download link"
UNFURL_HINT = "MediaLink · the link is sent only to you, and expires"

_KINDS = {
    MediaType.IMAGE: "image",
    MediaType.VIDEO: "video",
    MediaType.AUDIO: "audio",
    MediaType.DOCUMENT: "document",
    MediaType.VECTOR: "vector graphic",
    MediaType.ARCHIVE: "archive",
    MediaType.UNKNOWN: "file",
}


def render_unfurl(
    ref: MediaRef,
    facts: FileFacts,
    *,
    index: int,
    show_private_name: bool,
    site: str | None = None,
) -> list[Block]:
    """One URL's unfurl blocks; ``index`` keeps block IDs apart between a message's URLs."""
    kind = _KINDS[facts.media_type if facts.media_type is not MediaType.UNKNOWN else ref.media_type]
    size = human_size(facts.size_bytes)
    if facts.private and not show_private_name:
        text = f"*A private file* ({kind}{f', {size}' if size else ''})"
    else:
        name = facts.display_name or ref.filename or ref.file_id
        details = [kind.capitalize(), *([size] if size else [])]
        if facts.private:
            details.append("🔒 private")
        text = f"*{escape_clip(name, MAX_NAME_CHARS)}*\n" + " · ".join(details)
    blocks = [section(text, block_id=f"unfurl_{index}")]
    value = site_file_value(site, ref.file_id)
    if len(value) <= MAX_BUTTON_VALUE:  # always, for IDs Wix accepts (1000 at most)
        blocks.append(
            {
                "type": "actions",
                "block_id": f"unfurl_{index}_get",
                "elements": [button(GET_LINK_LABEL, UNFURL_ACTION, value=value)],
            }
        )
    blocks.append(context(UNFURL_HINT, block_id=f"unfurl_{index}_hint"))
    return blocks
