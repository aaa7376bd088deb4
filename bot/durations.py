"""Human durations for link expiry: ``90`` (minutes), ``45m``, ``2h``, ``7d``.

Shared by settings (``MEDIALINK_DEFAULT_EXPIRY``), the CLI (``--expires``) and
the Slack options (``expires=2h``), so every surface accepts the same words.
"""

from __future__ import annotations

import re
from datetime import timedelta

# Wix accepts 1..525600 minutes (docs/wix.md, Generate File Download URL).
WIX_MIN_EXPIRY = timedelta(minutes=1)
WIX_MAX_EXPIRY = timedelta(minutes=525_600)

# Far past Wix's year, so each caller names its own smaller limit (settings: Wix's;
# Slack: the workspace's), yet far inside what a timedelta holds.
MAX_PARSED_DURATION = timedelta(days=3650)
MAX_DURATION_CHARS = 40  # "1 week 6 days 23 hours 59 minutes" is 33
MAX_NUMBER_DIGITS = 7  # 9,999,999 minutes is 19 years

_UNITS = {
    "": 1,
    "m": 1,
    "min": 1,
    "mins": 1,
    "minute": 1,
    "minutes": 1,
    "h": 60,
    "hr": 60,
    "hrs": 60,
    "hour": 60,
    "hours": 60,
    "d": 1440,
    "day": 1440,
    "days": 1440,
    "w": 10080,
    "week": 10080,
    "weeks": 10080,
}
# ASCII digits only: int() also reads Arabic-Indic or full-width digits, which no one means here.
_DURATION = re.compile(r"([0-9]+)([a-z]*)")

DURATION_HELP = "a number of minutes, or a number with m, h or d (for example 90, 45m, 2h, 7d)"


def parse_duration(text: str) -> timedelta:
    """Parse ``90``, ``45m``, ``2h``, ``7d`` (also ``1h30m``) into a timedelta.

    Raises ValueError with a message that says what is accepted. Every number is
    bounded (digits, then value) before it is converted, so no input overflows.
    """
    if len(text) > MAX_DURATION_CHARS:
        raise ValueError(
            f"that is {len(text)} characters, too long for a duration; use {DURATION_HELP}"
        )
    shown = repr(text.strip())
    cleaned = "".join(text.lower().split())
    if not cleaned:
        raise ValueError(f"an empty duration; use {DURATION_HELP}")
    if any(c.isdigit() and not c.isascii() for c in cleaned):
        raise ValueError(f"{shown} has digits other than 0-9; use {DURATION_HELP}")
    too_long = (
        f"{shown} is longer than any link can last (Wix allows "
        f"{format_duration(WIX_MIN_EXPIRY)} to {format_duration(WIX_MAX_EXPIRY)}); "
        f"use {DURATION_HELP}"
    )
    total = 0
    position = 0
    for match in _DURATION.finditer(cleaned):
        digits, unit = match.groups()
        if match.start() != position or unit not in _UNITS:
            break
        if len(digits.lstrip("0")) > MAX_NUMBER_DIGITS:
            raise ValueError(too_long)
        total += int(digits) * _UNITS[unit]
        position = match.end()
    if position != len(cleaned) or position == 0:
        raise ValueError(f"{shown} is not a duration; use {DURATION_HELP}")
    if total > MAX_PARSED_DURATION // timedelta(minutes=1):
        raise ValueError(too_long)
    duration = timedelta(minutes=total)
    if duration < WIX_MIN_EXPIRY:
        raise ValueError(
            f"{shown} is not a positive duration (links last at least "
            f"{format_duration(WIX_MIN_EXPIRY)}); use {DURATION_HELP}"
        )
    return duration


def whole_minutes(duration: timedelta) -> int:
    """Minutes for Wix's ``expirationInMinutes``; partial minutes round up."""
    seconds = int(duration.total_seconds())
    return max(1, -(-seconds // 60))


def format_duration(duration: timedelta) -> str:
    """The shortest exact words for a duration: ``45 minutes``, ``2 hours``, ``7 days``."""
    minutes = whole_minutes(duration)
    for unit_minutes, unit in ((1440, "day"), (60, "hour"), (1, "minute")):
        if minutes % unit_minutes == 0:
            count = minutes // unit_minutes
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{minutes} minutes"  # pragma: no cover - the 1-minute unit always divides
