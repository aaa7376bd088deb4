"""Dates and sizes as people read them."""

from __future__ import annotations

from datetime import datetime

from bot.slack.render import human_size, slack_date


def test_dates_and_sizes_read_well() -> None:
    naive = datetime(2030, 1, 2, 3, 4)  # a naive time is read as UTC
    assert slack_date(naive).endswith("|2030-01-02 03:04 UTC>")
    assert [human_size(n) for n in (None, 0, 1023, 1024, 5_000_000, 3 * 1024**4)] == [
        None,
        "0 B",
        "1023 B",
        "1.0 KB",
        "4.8 MB",
        "3.0 TB",
    ]
