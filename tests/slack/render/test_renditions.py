"""A file's rendition choice: each button remakes the message with other renditions."""

from __future__ import annotations

from bot.slack.button_state import decode_state
from tests.slack.render.conftest import USER, WEEK, elements, ok, reply


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
    assert [e["text"]["text"] for e in choices] == ["Original", "720p.mp4", "1080p.mp4", "All"]
    assert choices[0].get("style") == "primary"  # what the file shows now
    chosen = decode_state(choices[1]["value"], max_expiry=WEEK, user_id=USER)
    assert chosen.files[0].asset_keys is None
    assert chosen.files[1].asset_keys == ("720p.mp4",)
    everything = decode_state(choices[3]["value"], max_expiry=WEEK, user_id=USER)
    assert everything.files[1].asset_keys == ("src", "720p.mp4", "1080p.mp4")


def test_files_without_renditions_have_no_rendition_choice() -> None:
    messages = reply([ok(1)])
    assert not any(e["action_id"].startswith("medialink_rendition_") for e in elements(messages))
