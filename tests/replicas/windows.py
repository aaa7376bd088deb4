"""Counting what the fake Wix saw in a rolling window."""

from __future__ import annotations

from collections.abc import Iterable

# Redis keeps times in whole milliseconds, so a place may free up to 1 ms early.
CLOCK_SLACK = 0.002


def most_in_any_window(times: Iterable[float], period: float) -> int:
    """The most of ``times`` that fall within any ``period`` seconds (less the slack)."""
    ordered = sorted(times)
    span = period - CLOCK_SLACK
    most = 0
    first = 0
    for last, at in enumerate(ordered):
        while ordered[first] <= at - span:
            first += 1
        most = max(most, last - first + 1)
    return most
