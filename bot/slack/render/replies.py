"""Replies that show files' download links: the requester's interactive reply, the
copy shared in the conversation, and the copy sent to the requester's DMs."""

from __future__ import annotations

from collections.abc import Sequence

from bot.slack.button_state import LinkState, file_state
from bot.slack.messages import escape_clip
from bot.slack.render.block_kit import Message, button, message, section
from bot.slack.render.footer import EXPIRY_CHOICES
from bot.slack.render.pages import Layout, paginate
from bot.wix.links import FileLinks
from bot.wix.refs import RejectedToken

ACTION_ZIP_OPEN = "medialink_zip_open"  # the zip link's button: a URL, acked and ignored


def render_link_reply(
    results: Sequence[FileLinks],
    state: LinkState,
    *,
    rejected: Sequence[RejectedToken] = (),
    expiry_choices: Sequence[int] = EXPIRY_CHOICES,
    share_enabled: bool = True,
    zip_enabled: bool = False,
) -> list[Message]:
    """The ephemeral reply with its buttons; as many messages as the limits need.

    ``state`` describes the whole request; each message carries it narrowed to its
    own files, so a click on any message remakes exactly that message.
    """
    files_by_id = {file.file_id: file for file in state.files}
    layout = Layout(
        state=state,
        files={
            result.file_id: files_by_id.get(result.file_id) or file_state(result.ref)
            for result in results
        },
        expiry_choices=tuple(expiry_choices),
        share_enabled=share_enabled,
        zip_enabled=zip_enabled,
        intro="Download links for {what}. Only you can see this.",
    )
    return paginate(results, layout, rejected)


def render_shared_reply(results: Sequence[FileLinks], *, shared_by: str) -> list[Message]:
    """The links as everyone in the conversation sees them: links only, no controls."""
    layout = Layout(intro=f"<@{escape_clip(shared_by, 40)}> shared download links for {{what}}.")
    return paginate(results, layout, ())


def render_zip_link(
    url: str, *, files: int, left_out: int, site: str | None = None
) -> list[Message]:
    """The permanent zip link, for the requester only; ``site``: the Wix site it is of."""
    noun = "file" if files == 1 else "files"
    skipped = (
        f" {left_out} private or unavailable {'file was' if left_out == 1 else 'files were'} "
        "left out."
        if left_out
        else ""
    )
    text = (
        f"A zip of {files} public {noun}. This link is *permanent*: it never expires, and "
        f"anyone who has it can download the zip, so share it with care.{skipped}"
        + (f" From Wix site `{site}`." if site else "")
    )
    return [
        message(
            text,
            [
                section(text, block_id="medialink_zip_text"),
                {
                    "type": "actions",
                    "block_id": "medialink_zip_link",
                    "elements": [button("Download zip", ACTION_ZIP_OPEN, url=url)],
                },
            ],
        )
    ]


def render_dm_copy(results: Sequence[FileLinks]) -> list[Message]:
    """The copy sent to the person's DMs, which survives reloads (ephemeral replies don't)."""
    layout = Layout(intro="Your MediaLink download links for {what}.")
    return paginate(results, layout, ())
