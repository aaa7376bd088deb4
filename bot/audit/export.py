"""The audit record as admins read it: JSON, CSV, or a table for a terminal."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TextIO

from bot.audit import AuditEvent

COLUMNS = (
    "at",
    "team_id",
    "enterprise_id",
    "user_id",
    "channel_id",
    "entry",
    "file_id",
    "file_name",
    "private",
    "asset_keys",
    "expires_at",
    "outcome",
    "reason",
    "wix_request_id",
)

# A spreadsheet runs a cell that starts with one of these as a formula; a Wix file
# name is anyone's text (OWASP, CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def event_to_json(event: AuditEvent) -> dict[str, Any]:
    return {
        "at": _iso(event.at),
        "team_id": event.team_id,
        "enterprise_id": event.enterprise_id,
        "user_id": event.user_id,
        "channel_id": event.channel_id,
        "entry": event.entry,
        "file_id": event.file_id,
        "file_name": event.file_name,
        "private": event.private,
        "asset_keys": list(event.asset_keys),
        "expires_at": _iso(event.expires_at),
        "outcome": event.outcome,
        "reason": event.reason,
        "wix_request_id": event.wix_request_id,
    }


def write_json(events: Sequence[AuditEvent], out: TextIO) -> None:
    json.dump({"events": [event_to_json(event) for event in events]}, out, indent=2)
    out.write("\n")


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        value = " ".join(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(events: Sequence[AuditEvent], out: TextIO) -> None:
    """The JSON's columns; asset keys separated by spaces, ``private`` as true/false."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for event in events:
        row = event_to_json(event)
        writer.writerow([_csv_cell(row[column]) for column in COLUMNS])


def _printable(text: str, limit: int) -> str:
    # A file name may hold terminal control sequences; a table shows none of them.
    shown = "".join(c if c.isprintable() else "?" for c in text[: limit + 1])
    return shown if len(shown) <= limit else shown[: limit - 1] + "…"


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value is not None else "-"


def write_table(events: Sequence[AuditEvent], out: TextIO) -> None:
    if not events:
        out.write("No audit events match.\n")
        return
    rows = [["AT", "USER", "ENTRY", "FILE", "OUTCOME", "EXPIRES", "REASON"]]
    for event in events:
        file = event.file_name or event.file_id or "-"
        if event.private:
            file += " (private)"
        rows.append(
            [
                _when(event.at),
                _printable(event.user_id or "-", 20),
                _printable(event.entry, 24),
                _printable(file, 48),
                _printable(event.outcome, 20),
                _when(event.expires_at) if event.outcome == "ok" else "-",
                _printable(event.reason or "", 60),
            ]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        line = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        out.write(line.rstrip() + "\n")
