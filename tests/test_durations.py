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


# --- every number is bounded before it is converted -------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "9999999w" * 4,  # each number is small, the sum is not
        "9999999w",
        "99999999",  # eight digits
        "99999999999999999999",
        "3651d",  # just past the ceiling
    ],
)
def test_huge_durations_are_refused_naming_wixs_range(text: str) -> None:
    """Regression: a long enough sum overflowed timedelta (OverflowError, not ValueError)."""
    with pytest.raises(ValueError, match=r"1 minute to 365 days.*45m, 2h, 7d"):
        parse_duration(text)


def test_text_too_long_to_be_a_duration_is_refused_without_reading_it() -> None:
    with pytest.raises(ValueError, match=r"5000 characters, too long for a duration"):
        parse_duration("9" * 5000)


@pytest.mark.parametrize("text", ["٣", "٣h", "\uff13h", "\uff11\uff12\uff10", "²h", "1٣m"])
def test_digits_other_than_ascii_are_refused(text: str) -> None:
    """int() reads Arabic-Indic or full-width digits; a duration is written with 0-9."""
    with pytest.raises(ValueError, match="digits other than 0-9"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["-5", "1e9", "1_000", "0x10", "+5", "5.0", "1,5h", "∞"])
def test_signs_exponents_and_separators_are_not_durations(text: str) -> None:
    with pytest.raises(ValueError, match="is not a duration; use"):
        parse_duration(text)


@pytest.mark.parametrize("text", ["0", "0m", "0h0m", "000"])
def test_zero_names_the_smallest_duration(text: str) -> None:
    with pytest.raises(ValueError, match="at least 1 minute"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "minutes"),
    [
        ("0000005m", 5),  # leading zeros are not digits of value
        ("525600", 525_600),  # Wix's year
        ("400d", 400 * 1440),  # past Wix's year: settings and Slack name their own limit
        ("3650d", 3650 * 1440),  # the ceiling itself
        ("1 week 6 days 23 hours 59 minutes", 20_159),
    ],
)
def test_durations_up_to_the_ceiling_are_read(text: str, minutes: int) -> None:
    assert parse_duration(text) == timedelta(minutes=minutes)


@given(st.text(max_size=60))
def test_any_text_is_a_duration_or_a_value_error(text: str) -> None:
    try:
        duration = parse_duration(text)
    except ValueError:
        return
    assert timedelta(minutes=1) <= duration <= timedelta(days=3650)
