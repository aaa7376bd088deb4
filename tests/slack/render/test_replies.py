"""The copies shared in a conversation or sent to DMs: links only, no controls."""

from __future__ import annotations

from bot.slack.render import render_dm_copy, render_shared_reply
from tests.slack.render.conftest import USER, assert_within_limits, elements, ok, texts


def test_shared_reply_says_who_shared_and_has_links_only() -> None:
    messages = render_shared_reply([ok(1), ok(2, renditions=("720p.mp4",))], shared_by=USER)
    assert f"<@{USER}>" in texts(messages)
    ids = [e["action_id"] for e in elements(messages)]
    assert ids == ["medialink_link_0", "medialink_link_1"]
    for message in messages:
        assert_within_limits(message)


def test_dm_copy_has_links_only() -> None:
    messages = render_dm_copy([ok(1)])
    assert [e["action_id"] for e in elements(messages)] == ["medialink_link_0"]
    assert_within_limits(messages[0])
