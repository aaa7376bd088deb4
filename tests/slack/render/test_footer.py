"""Under an interactive reply: the expiry choice and the controls."""

from __future__ import annotations

from bot.slack.button_state import decode_state
from bot.slack.render import (
    ACTION_DISMISS,
    ACTION_DM,
    ACTION_REGENERATE,
    ACTION_SHARE,
    EXPIRY_CHOICES,
)
from tests.slack.render.conftest import USER, WEEK, element, elements, ok, ref, reply


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
