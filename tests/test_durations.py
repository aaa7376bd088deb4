from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.durations import format_duration, parse_duration, whole_minutes


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("90", 90),
        ("45m", 45),
        ("2h", 120),
        ("7d", 7 * 1440),
        ("1h30m", 90),
        (" 2 H ", 120),
        ("15min", 15),
        ("3 days", 3 * 1440),
        ("1w", 7 * 1440),
    ],
)
def test_parse_duration_accepts_the_documented_forms(text: str, minutes: int) -> None:
    assert parse_duration(text) == timedelta(minutes=minutes)


@pytest.mark.parametrize("text", ["", "0", "0m", "abc", "2x", "7dd", "-5", "1.5h", "h"])
def test_parse_duration_rejects_with_a_message_that_shows_the_forms(text: str) -> None:
    with pytest.raises(ValueError, match="45m, 2h, 7d"):
        parse_duration(text)


def test_whole_minutes_rounds_partial_minutes_up() -> None:
    assert whole_minutes(timedelta(seconds=61)) == 2
    assert whole_minutes(timedelta(seconds=1)) == 1
    assert whole_minutes(timedelta(hours=2)) == 120


@given(st.integers(min_value=1, max_value=525_600))
def test_format_and_parse_round_trip(minutes: int) -> None:
    duration = timedelta(minutes=minutes)
    words = format_duration(duration)
    count, unit = words.split()
    assert parse_duration(count + unit) == duration
