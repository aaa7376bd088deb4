"""The global shortcut's form."""

from __future__ import annotations

from bot.slack.render import build_link_modal
from tests.fakes.slack import modal_errors


def test_the_modal_has_the_agreed_ids_and_capped_expiry_choices() -> None:
    view = build_link_modal(default_minutes=120, max_minutes=1440)
    assert modal_errors(view) == []
    assert view["callback_id"] == "medialink_modal"
    assert view["title"]["text"] == "MediaLink"
    assert view["submit"]["text"] == "Get links"
    ids = [(b["block_id"], b["element"]["action_id"]) for b in view["blocks"]]
    assert ids == [
        ("urls", "urls_input"),
        ("picked", "picked_files"),
        ("expiry", "expiry_select"),
        ("assets", "assets_input"),
        ("conversation", "conversation_select"),
    ]
    blocks = {b["block_id"]: b for b in view["blocks"]}
    expiry = blocks["expiry"]["element"]
    assert [o["value"] for o in expiry["options"]] == ["15", "60", "120", "1440"]
    assert expiry["initial_option"]["value"] == "120"
    conversation = blocks["conversation"]["element"]
    assert conversation["response_url_enabled"] is True
    assert conversation["default_to_current_conversation"] is True
    assert blocks["assets"]["optional"] is True
    assert blocks["urls"]["element"]["multiline"] is True
    # Either pasted URLs or picked files will do: the submission insists on one of them.
    assert blocks["urls"]["optional"] is True
    assert blocks["picked"]["optional"] is True


def test_the_file_picker_asks_after_two_characters_and_caps_the_picks() -> None:
    view = build_link_modal(default_minutes=120, max_minutes=1440, max_files=20)
    assert modal_errors(view) == []
    [picker] = [b["element"] for b in view["blocks"] if b["block_id"] == "picked"]
    assert picker["type"] == "multi_external_select"
    assert picker["min_query_length"] == 2
    assert picker["max_selected_items"] == 20
    unbounded = build_link_modal(default_minutes=120, max_minutes=1440)
    [picker] = [b["element"] for b in unbounded["blocks"] if b["block_id"] == "picked"]
    assert "max_selected_items" not in picker
