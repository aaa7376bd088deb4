"""Words and numbers as people read them in a reply: dates, sizes, counts."""

from __future__ import annotations

from datetime import UTC, datetime


def slack_date(moment: datetime) -> str:
    """``<!date^…>``: each reader sees their own time zone; the fallback is UTC."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    fallback = utc.strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{int(utc.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def human_size(size: int | None) -> str | None:
    if size is None or size < 0:
        return None
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KB", "MB", "GB", "TB"):
        value /= 1024
        if value < 1024 or unit == "TB":
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    return None  # pragma: no cover - the loop always returns


def count(number: int, noun: str = "file") -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def strip_mrkdwn(text: str) -> str:
    return text.replace("*", "").replace("`", "")
