"""Under an interactive reply: the expiry choice and the controls."""

from __future__ import annotations

from datetime import timedelta

from bot.slack.button_state import decode_state
from bot.slack.render import (
    ACTION_DISMISS,
    ACTION_DM,
    ACTION_REGENERATE,
    ACTION_SHARE,
    EXPIRY_CHOICES,
    render_link_reply,
)
from tests.slack.render.conftest import (
    USER,
    WEEK,
    assert_within_limits,
    element,
    elements,
    ok,
    ref,
    reply,
    state_for,
)


def test_expiry_choices_mark_the_current_one_and_carry_the_new_expiry() -> None:
    messages = reply([ok(1)], expiry_choices=(15, 60, 1440))
    buttons = [e for e in elements(messages) if e["action_id"].startswith("medialink_expiry_")]
    assert [(e["action_id"], e["text"]["text"]) for e in buttons] == [
        ("medialink_expiry_15", "15 min"),
        ("medialink_expiry_60", "1 hour"),
        ("medialink_expiry_1440", "1 day"),
    ]
    assert [e.get("style") for e in buttons] == [None, "primary", None]
    assert decode_state(buttons[2]["value"], max_expiry=WEEK).expires_minutes == 1440


def test_the_expiry_row_has_a_label() -> None:
    [message] = reply([ok(1)])
    ids = [block.get("block_id") for block in message["blocks"]]
    label = message["blocks"][ids.index("medialink_expiry") - 1]
    assert label["type"] == "context"
    assert label["elements"][0]["text"].startswith("Links expire in")


def test_an_expiry_that_is_no_preset_shows_among_them_as_the_current_one() -> None:
    results = [ok(1)]
    state = state_for(results, expires_in=timedelta(hours=2))
    messages = render_link_reply(results, state, expiry_choices=EXPIRY_CHOICES)
    buttons = [e for e in elements(messages) if e["action_id"].startswith("medialink_expiry_")]
    assert [(e["text"]["text"], e.get("style")) for e in buttons] == [
        ("15 min", None),
        ("1 hour", None),
        ("2 hours", "primary"),
        ("1 day", None),
        ("7 days", None),
    ]
    current = next(e for e in buttons if e.get("style") == "primary")
    assert current["action_id"] == "medialink_expiry_120"
    assert decode_state(current["value"], max_expiry=WEEK).expires_minutes == 120
    for message in messages:
        assert_within_limits(message)


def test_the_expiry_choices_run_from_15_minutes_to_7_days() -> None:
    assert EXPIRY_CHOICES == (15, 60, 1440, 10080)


def test_controls_regenerate_share_dm_and_dismiss() -> None:
    messages = reply([ok(1)])
    regenerate = element(messages, ACTION_REGENERATE)
    assert regenerate["text"]["text"] == "Regenerate"
    state = decode_state(regenerate["value"], max_expiry=WEEK, user_id=USER)
    assert [file.file_id for file in state.files] == [ref(1).file_id]
    share = element(messages, ACTION_SHARE)
    assert share["text"]["text"] == "Share in channel"
    assert share["confirm"]["confirm"]["text"] == "Share"
    assert element(messages, ACTION_DM)["text"]["text"] == "Send to my DMs"
    assert element(messages, ACTION_DISMISS)["text"]["text"] == "Dismiss"


def test_share_is_absent_when_switched_off() -> None:
    messages = reply([ok(1)], share_enabled=False)
    assert not any(e["action_id"] == ACTION_SHARE for e in elements(messages))
