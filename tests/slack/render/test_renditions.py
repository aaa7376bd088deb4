"""A file's rendition choice: each button remakes the message with other renditions."""

from __future__ import annotations

from bot.slack.button_state import decode_state
from bot.slack.render import render_link_reply
from tests.slack.render.conftest import USER, WEEK, elements, ok, reply, state_for, texts


def test_rendition_choices_carry_the_state_with_that_files_keys_changed() -> None:
    results = [ok(1), ok(2, renditions=("720p.mp4", "1080p.mp4"))]
    [message] = reply(results)
    choices = [e for e in elements([message]) if e["action_id"].startswith("medialink_rendition_")]
    assert [e["action_id"] for e in choices] == [
        "medialink_rendition_1_0",
        "medialink_rendition_1_1",
        "medialink_rendition_1_2",
        "medialink_rendition_1_3",
    ]
    # What the file shows now is checked, not coloured: green is for the link buttons.
    assert [e["text"]["text"] for e in choices] == ["✓ Original", "720p.mp4", "1080p.mp4", "All"]
    assert all("style" not in e for e in choices)
    chosen = decode_state(choices[1]["value"], max_expiry=WEEK, user_id=USER)
    assert chosen.files[0].asset_keys is None
    assert chosen.files[1].asset_keys == ("720p.mp4",)
    everything = decode_state(choices[3]["value"], max_expiry=WEEK, user_id=USER)
    assert everything.files[1].asset_keys == ("src", "720p.mp4", "1080p.mp4")


def test_files_without_renditions_have_no_rendition_choice() -> None:
    messages = reply([ok(1)])
    assert not any(e["action_id"].startswith("medialink_rendition_") for e in elements(messages))


def test_a_video_shows_one_green_original_the_link_and_a_checked_choice() -> None:
    [message] = reply([ok(1, renditions=("720p.mp4",))])
    buttons = list(elements([message]))
    green = [e["text"]["text"] for e in buttons if e.get("style") == "primary"]
    assert green.count("Original") == 1  # the download button, and no other
    [link] = [e for e in buttons if e["action_id"].startswith("medialink_link_")]
    assert (link["text"]["text"], link.get("style")) == ("Original", "primary")
    checked = [e["text"]["text"] for e in buttons if e["text"]["text"].startswith("✓")]
    assert checked == ["✓ Original"]
    assert "✓ marks the ones shown" in texts([message])


def test_the_check_mark_follows_the_chosen_renditions() -> None:
    results = [ok(1, keys=("720p.mp4",), renditions=("720p.mp4", "1080p.mp4"))]
    state = state_for(results, asset_keys=("720p.mp4",))
    [message] = render_link_reply(results, state)
    choices = [e for e in elements([message]) if e["action_id"].startswith("medialink_rendition_")]
    assert [e["text"]["text"] for e in choices] == ["Original", "✓ 720p.mp4", "1080p.mp4", "All"]
