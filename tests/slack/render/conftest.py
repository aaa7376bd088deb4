"""Files, states and replies to render, and ways to look into the rendered messages."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import Block

from bot.slack.button_state import LinkState
from bot.slack.render import render_link_reply
from bot.slack.render.limits import MAX_MESSAGE_TEXT
from bot.wix.errors import WixError
from bot.wix.links import AssetLink, FileFacts, FileLinks, LinkOptions
from bot.wix.refs import MediaRef, MediaType
from tests.fakes.slack import message_errors

USER = "U0ALICE01"
WEEK = timedelta(days=7)
EXPIRES = datetime(2030, 5, 17, 14, 30, tzinfo=UTC)
Json = dict[str, Any]


def ref(number: int, media_type: MediaType = MediaType.IMAGE) -> MediaRef:
    file_id = f"{number:06x}_{number:032x}~mv2.jpg"
    return MediaRef(file_id, media_type, f"file-{number}.jpg", file_id)


def ok(
    number: int,
    *,
    keys: Sequence[str] = ("src",),
    renditions: Sequence[str] = (),
    name: str | None = None,
    private: bool = False,
    size: int | None = 2_500_000,
    invalid: Sequence[str] = (),
) -> FileLinks:
    return FileLinks(
        ref=ref(number),
        facts=FileFacts(
            display_name=name or f"Photo {number}.jpg",
            media_type=MediaType.IMAGE,
            size_bytes=size,
            private=private,
            renditions=tuple(renditions),
        ),
        links=tuple(
            AssetLink(key, f"https://download-files.wixmp.com/media/{number}/{key}?token=t{number}")
            for key in keys
        ),
        expires_at=EXPIRES,
        invalid_asset_keys=tuple(invalid),
    )


def failed(number: int, error: WixError) -> FileLinks:
    return FileLinks(ref=ref(number), error=error)


def state_for(results: Sequence[FileLinks], **options: Any) -> LinkState:
    options.setdefault("expires_in", timedelta(hours=1))
    return LinkState.for_request(USER, [result.ref for result in results], LinkOptions(**options))


def reply(results: Sequence[FileLinks], **kwargs: Any) -> list[Json]:
    return render_link_reply(results, state_for(results), **kwargs)


def blocks_of(messages: Sequence[Json]) -> Iterator[Json]:
    for message in messages:
        yield from message["blocks"]


def elements(messages: Sequence[Json]) -> Iterator[Json]:
    """Every interactive element (buttons, in rows or as accessories)."""
    for block in blocks_of(messages):
        found = [*block.get("elements", []), block.get("accessory") or {}]
        yield from (e for e in found if "action_id" in e)


def element(messages: Sequence[Json], action_id: str) -> Json:
    return next(e for e in elements(messages) if e.get("action_id") == action_id)


def texts(messages: Sequence[Json]) -> str:
    found: list[str] = []
    for block in blocks_of(messages):
        if "text" in block:
            found.append(block["text"]["text"])
        found.extend(e["text"] for e in block.get("elements", []) if e.get("type") == "mrkdwn")
    return "\n".join(found)


def file_sections(message: Json) -> list[Json]:
    return [b for b in message["blocks"] if re.fullmatch(r"file_\d+", b.get("block_id", ""))]


def assert_within_limits(message: Json) -> None:
    # The fake Slack's check, the same one that refuses posts in the end-to-end tests.
    assert message_errors(message) is None
    assert 1 <= len(message["text"]) <= MAX_MESSAGE_TEXT
    assert message["unfurl_links"] is False
    assert message["unfurl_media"] is False
    for block in message["blocks"]:
        # slack_sdk's own models as a second opinion on every element's limits.
        parsed = Block.parse(block)
        assert parsed is not None
        parsed.validate_json()
