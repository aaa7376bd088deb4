"""The record as people read it: ``/medialink history`` and the lines the App Home reuses.

Pure functions over ``AuditEvent``s. A line shows the file, its renditions, when the
link was made and until when it works; a refusal shows who, where and why. Nothing a
record holds is a way in (no URL, no token), and every string from it is clipped and
escaped here, since file names and reasons come from Wix and from people.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from bot.audit import AuditEvent, Entry
from bot.durations import format_duration, whole_minutes
from bot.slack.button_state import LinkState, StateError, decode_state, encode_state, file_state
from bot.slack.messages import asset_label, escape_clip
from bot.slack.render.block_kit import Block, Message, button, context, message, section
from bot.slack.render.limits import MAX_BLOCKS
from bot.slack.render.text import count, slack_date
from bot.slack.surfaces import COMMAND
from bot.wix.links import MAX_RENDITIONS
from bot.wix.refs import MediaRef, parse_media_ref

MAX_HISTORY = 20  # links in one /medialink history
ACTION_HISTORY_REGENERATE_PREFIX = "medialink_history_regenerate_"
HISTORY_REGENERATE_ACTION = re.compile(r"^medialink_history_regenerate_\d+$")

MAX_NAME_CHARS = 80
MAX_KEYS_SHOWN = 5
MAX_REASON_CHARS = 300


class Scope(StrEnum):
    """Whose record a history shows."""

    OWN = "own"  # the caller's links
    OWN_FILE = "own_file"  # the caller's links to one file
    USER = "user"  # someone's links (admins)
    FILE = "file"  # everyone's links to one file (admins)


@dataclass(frozen=True, slots=True)
class HistorySubject:
    scope: Scope
    user_id: str | None = None  # Scope.USER
    file_id: str | None = None  # Scope.OWN_FILE and Scope.FILE

    @property
    def shows_who(self) -> bool:
        """Whether each line names the person who made the link."""
        return self.scope is Scope.FILE


def render_history(
    events: Sequence[AuditEvent],
    *,
    subject: HistorySubject,
    viewer_id: str,
    now: datetime,
    max_expiry: timedelta,
    default_expiry: timedelta,
) -> Message:
    """The ephemeral history: a heading, one section per link (newest first) with its
    Regenerate button, and a note on what Regenerate does. At most ``MAX_HISTORY`` links."""
    shown = list(events[:MAX_HISTORY])
    blocks: list[Block] = [section(_heading(subject, len(shown)), block_id="history_heading")]
    for index, event in enumerate(shown):
        block = section(
            link_line(event, now=now, show_who=subject.shows_who), block_id=f"history_{index}"
        )
        token = regenerate_token(
            event, viewer_id=viewer_id, max_expiry=max_expiry, default_expiry=default_expiry
        )
        if token is not None:
            block["accessory"] = button(
                "Regenerate", f"{ACTION_HISTORY_REGENERATE_PREFIX}{index}", value=token
            )
        blocks.append(block)
    if shown:
        blocks.append(
            context(
                "*Regenerate* makes fresh links to that file for you, with the same renditions "
                f"and for as long as the original (at most {format_duration(max_expiry)}). "
                "Links that have expired no longer work.",
                block_id="history_note",
            )
        )
    return message(_summary(subject, len(shown)), blocks[:MAX_BLOCKS])


def _heading(subject: HistorySubject, shown: int) -> str:
    links = count(shown, "link")
    if subject.scope is Scope.OWN:
        if not shown:
            return (
                "You have made no links yet, or none the record still holds. "
                f"Try `{COMMAND} <Wix media URL>`."
            )
        return f"*Your last {links}*, newest first. Only you can see this."
    if subject.scope is Scope.OWN_FILE:
        file = _file_label(subject.file_id)
        if not shown:
            return f"You have made no links to {file} that the record still holds."
        return f"*Your last {links} to {file}*, newest first. Only you can see this."
    if subject.scope is Scope.USER:
        who = _mention(subject.user_id)
        if not shown:
            return f"{who} has made no links that the record still holds."
        return f"*The last {links} {who} made*, newest first. Only you can see this."
    file = _file_label(subject.file_id)
    if not shown:
        return f"No one has made a link to {file} that the record still holds."
    return f"*The last {links} made to {file}*, newest first. Only you can see this."


def _summary(subject: HistorySubject, shown: int) -> str:
    if subject.scope is Scope.OWN:
        return f"Your MediaLink history: {count(shown, 'link')}"
    return f"MediaLink history: {count(shown, 'link')}"


# --- lines --------------------------------------------------------------------------------


def link_line(event: AuditEvent, *, now: datetime, show_who: bool) -> str:
    """One link as mrkdwn: the file and its renditions; when, until when, still valid."""
    name = escape_clip(event.file_name or event.file_id or "a file", MAX_NAME_CHARS)
    private = "  :lock: private" if event.private else ""
    first = f"*{name}*{private}  ·  {assets_text(event.asset_keys)}"
    when = f"Made {slack_date(event.at)}"
    if show_who and event.user_id:
        when += f" by {_mention(event.user_id)}"
    return f"{first}\n{when}\n{validity(event, now=now)}"


def validity(event: AuditEvent, *, now: datetime) -> str:
    if event.expires_at is None:
        return "Expiry not recorded"
    if event.expires_at > now:
        return f":white_check_mark: Valid until {slack_date(event.expires_at)}"
    return f":hourglass: Expired {slack_date(event.expires_at)}"


def refusal_line(event: AuditEvent) -> str:
    """One refusal as mrkdwn: who, where, when, the file if any, and why."""
    who = _mention(event.user_id) if event.user_id else "Someone"
    where = f" in <#{event.channel_id}>" if event.channel_id and _is_id(event.channel_id) else ""
    first = f"{who} · {entry_label(event.entry)}{where} · {slack_date(event.at)}"
    lines = [first]
    if event.file_id or event.file_name:
        name = escape_clip(event.file_name or event.file_id or "", MAX_NAME_CHARS)
        lines.append(f"File: *{name}*")
    if event.reason:
        lines.append(f"Why: {escape_clip(event.reason, MAX_REASON_CHARS)}")
    return "\n".join(lines)


def assets_text(keys: Sequence[str]) -> str:
    if not keys:
        return "Original"
    shown = ", ".join(escape_clip(asset_label(key), 40) for key in keys[:MAX_KEYS_SHOWN])
    more = len(keys) - MAX_KEYS_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


_ENTRY_LABELS = {
    Entry.COMMAND.value: f"`{COMMAND}`",
    Entry.MESSAGE_SHORTCUT.value: "the message shortcut",
    Entry.GLOBAL_SHORTCUT.value: "the form",
    Entry.HISTORY.value: "history",
    Entry.CLI.value: "the command line",
}


def entry_label(entry: str) -> str:
    if entry.startswith("button:"):
        return f"a button ({escape_clip(entry.removeprefix('button:'), 40)})"
    return _ENTRY_LABELS.get(entry) or escape_clip(entry, 40)


def _mention(user_id: str | None) -> str:
    if user_id and _is_id(user_id):
        return f"<@{user_id}>"
    return escape_clip(user_id or "someone", 40)


def _file_label(file_id: str | None) -> str:
    return f"`{escape_clip(file_id or '', MAX_NAME_CHARS)}`"


_SLACK_ID = re.compile(r"[A-Z0-9]{2,40}")


def _is_id(value: str) -> bool:
    return bool(_SLACK_ID.fullmatch(value))


# --- Regenerate ---------------------------------------------------------------------------


def regenerate_state(
    event: AuditEvent, *, viewer_id: str, max_expiry: timedelta, default_expiry: timedelta
) -> LinkState | None:
    """Fresh links to the event's file for ``viewer_id``: its renditions, for as long as the
    original lasted (within today's cap). None when the record cannot say which file."""
    if event.outcome != "ok" or not event.file_id or len(event.asset_keys) > MAX_RENDITIONS:
        return None
    parsed = parse_media_ref(event.file_id)
    if not isinstance(parsed, MediaRef) or parsed.file_id != event.file_id:
        return None
    ref = replace(parsed, filename=event.file_name or parsed.filename)
    return LinkState(
        user_id=viewer_id,
        files=(file_state(ref),),
        expires_minutes=min(_lifetime_minutes(event, default_expiry), whole_minutes(max_expiry)),
        asset_keys=tuple(event.asset_keys),
    )


def regenerate_token(
    event: AuditEvent, *, viewer_id: str, max_expiry: timedelta, default_expiry: timedelta
) -> str | None:
    """The Regenerate button's value, read back as a click will read it; None (no button)
    when a click could not use it."""
    state = regenerate_state(
        event, viewer_id=viewer_id, max_expiry=max_expiry, default_expiry=default_expiry
    )
    if state is None:
        return None
    token = encode_state(state)
    try:
        decode_state(token, max_expiry=max_expiry, user_id=viewer_id)
    except StateError:
        return None
    return token


def _lifetime_minutes(event: AuditEvent, default_expiry: timedelta) -> int:
    if event.expires_at is None:
        return whole_minutes(default_expiry)
    lifetime = event.expires_at - event.at
    if lifetime <= timedelta(0):
        return 1
    # The record's time is taken a moment after Wix was asked: round to the minute.
    return max(1, round(lifetime.total_seconds() / 60))
