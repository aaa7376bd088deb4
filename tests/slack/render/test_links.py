"""A file's link buttons: one per asset, in rows Slack accepts."""

from __future__ import annotations

from bot.slack.render.links import MAX_LINKS_PER_FILE
from bot.wix.links import AssetLink, FileLinks
from tests.slack.render.conftest import (
    EXPIRES,
    assert_within_limits,
    elements,
    ok,
    ref,
    reply,
    texts,
)


def test_one_link_button_per_asset_with_its_url() -> None:
    messages = reply([ok(1, keys=("src", "720p.mp4")), ok(2)])
    links = [e for e in elements(messages) if e["action_id"].startswith("medialink_link_")]
    assert [e["action_id"] for e in links] == [
        "medialink_link_0",
        "medialink_link_1",
        "medialink_link_2",
    ]
    assert [e["text"]["text"] for e in links] == ["Original", "720p.mp4", "Original"]
    assert links[1]["url"] == "https://download-files.wixmp.com/media/1/720p.mp4?token=t1"
    assert all("value" not in e for e in links)


def test_many_links_for_one_file_wrap_into_rows_of_25() -> None:
    keys = ["src", *(f"k{n}.mp4" for n in range(59))]
    [message] = reply([ok(1, keys=keys)])
    rows = [b for b in message["blocks"] if b.get("block_id", "").startswith("file_0_links")]
    assert [len(row["elements"]) for row in rows] == [25, 25, 10]
    assert_within_limits(message)


def test_more_links_than_shown_are_counted() -> None:
    keys = ["src", *(f"k{n}" for n in range(MAX_LINKS_PER_FILE + 4))]
    messages = reply([ok(1, keys=keys)])
    assert "5 more links are not shown" in texts(messages)


def test_urls_longer_than_slack_allows_are_not_sent_as_buttons() -> None:
    result = FileLinks(
        ref=ref(1), links=(AssetLink("src", "https://x/" + "a" * 3000),), expires_at=EXPIRES
    )
    messages = reply([result])
    assert not any(e["action_id"].startswith("medialink_link_") for e in elements(messages))
    assert "too long for Slack" in texts(messages)
    assert_within_limits(messages[0])
