"""Reading ``/medialink find …`` and the "More results" button's state."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from bot.slack.button_state import NotYourButtonsError, StateError
from bot.slack.find_options import parse_find_text, wants_find
from bot.slack.find_state import FindState, decode_find_state, encode_find_state
from bot.slack.render.limits import MAX_BUTTON_VALUE, MAX_FIND_CURSOR
from bot.wix.links import LinkOptions
from bot.wix.refs import MediaType


def test_words_type_privacy_and_link_options_in_any_order() -> None:
    found = parse_find_text("find expires=2h signed --type document contract private")
    assert found.problems == ()
    assert found.words == "signed contract"
    assert found.media_type is MediaType.DOCUMENT
    assert found.private is True
    assert found.options.expires_in == timedelta(hours=2)


def test_slack_escapes_are_undone_in_the_words() -> None:
    assert parse_find_text("find Q&amp;A public").words == "Q&A"
    assert parse_find_text("find Q&amp;A public").private is False


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("find", "say what to find"),
        ("find type=video", "say what to find"),
        ("find x type=pdf", "type can be"),
        ("find x type", "type needs a value"),
        ("find x type=video type=image", "one type"),
        ("find x private public", "not both"),
        ("find " + "y" * 201, "at most 200"),
        ("find x colour=red", "don't know the option"),
        ("find " + "y " * 30_000, "at most 200"),
    ],
)
def test_problems_say_what_to_change(text: str, problem: str) -> None:
    assert any(problem in p for p in parse_find_text(text).problems)


def test_find_is_only_the_first_word() -> None:
    assert wants_find("find x")
    assert wants_find("FIND x")
    assert not wants_find("https://x find")
    assert parse_find_text("find help").wants_help


def state(**changes: object) -> FindState:
    base = FindState.for_search(
        "U0ALICE01",
        "signed contract",
        media_type=MediaType.VIDEO,
        private=False,
        options=LinkOptions(expires_in=timedelta(hours=2), asset_keys=("src",), inline=True),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_state_round_trips_for_its_owner_only() -> None:
    original = state(cursor="abc.DEF-123")
    token = encode_find_state(original)
    assert token is not None
    assert decode_find_state(token, user_id="U0ALICE01") == original
    with pytest.raises(NotYourButtonsError):
        decode_find_state(token, user_id="U0BOB0002")


def test_a_cursor_too_long_for_a_button_gives_no_token() -> None:
    assert encode_find_state(state(cursor="c" * (MAX_FIND_CURSOR + 1))) is None
    token = encode_find_state(state(cursor="c" * MAX_FIND_CURSOR))
    assert token is not None
    assert len(token) <= MAX_BUTTON_VALUE


@pytest.mark.parametrize("token", ["", "f1.", "f1.!!!", "1.abc", "f1." + "A" * 3000])
def test_tampered_tokens_are_stale(token: str) -> None:
    with pytest.raises(StateError):
        decode_find_state(token, user_id="U0ALICE01")
