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
        ("expiry", "expiry_select"),
        ("assets", "assets_input"),
        ("conversation", "conversation_select"),
    ]
    expiry = view["blocks"][1]["element"]
    assert [o["value"] for o in expiry["options"]] == ["15", "60", "120", "1440"]
    assert expiry["initial_option"]["value"] == "120"
    conversation = view["blocks"][3]["element"]
    assert conversation["response_url_enabled"] is True
    assert conversation["default_to_current_conversation"] is True
    assert view["blocks"][2]["optional"] is True
    assert view["blocks"][0]["element"]["multiline"] is True
