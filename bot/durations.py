"""Human durations for link expiry: ``90`` (minutes), ``45m``, ``2h``, ``7d``.

Shared by settings (``MEDIALINK_DEFAULT_EXPIRY``), the CLI (``--expires``) and
the Slack options (``expires=2h``), so every surface accepts the same words.
"""

from __future__ import annotations

import re
from datetime import timedelta

# Wix's generate-file-download-url accepts 1..525600 minutes (one year).
WIX_MIN_EXPIRY = timedelta(minutes=1)
WIX_MAX_EXPIRY = timedelta(minutes=525_600)

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
_DURATION = re.compile(r"(\d{1,7})\s*([a-z]*)")

DURATION_HELP = "a number of minutes, or a number with m, h or d (for example 90, 45m, 2h, 7d)"


def parse_duration(text: str) -> timedelta:
    """Parse ``90``, ``45m``, ``2h``, ``7d`` (also ``1h30m``) into a timedelta.

    Raises ValueError with a message that says what is accepted.
    """
    cleaned = text.strip().lower().replace(" ", "")
    if not cleaned:
        raise ValueError(f"an empty duration; use {DURATION_HELP}")
    total = 0
    position = 0
    for match in _DURATION.finditer(cleaned):
        if match.start() != position or match.group(2) not in _UNITS:
            break
        total += int(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if position != len(cleaned) or position == 0:
        raise ValueError(f"{text.strip()!r} is not a duration; use {DURATION_HELP}")
    if total <= 0:
        raise ValueError(f"{text.strip()!r} is not a positive duration; use {DURATION_HELP}")
    return timedelta(minutes=total)


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
