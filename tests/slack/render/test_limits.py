"""The limits the renderer relies on, held together with the state they must carry."""

from __future__ import annotations

from bot.slack.button_state import MAX_TOKEN_CHARS
from bot.slack.render.limits import MAX_BUTTON_VALUE


def test_button_state_tokens_fit_a_button_value() -> None:
    assert MAX_TOKEN_CHARS <= MAX_BUTTON_VALUE
