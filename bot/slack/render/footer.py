"""Under an interactive reply: the expiry choice and the controls.

Every button carries the message's state (``bot.slack.button_state``), so a click
remakes exactly that message; ``Dismiss`` needs none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.slack.button_state import LinkState, encode_state, fits_in_button
from bot.slack.messages import ZIP_CONFIRM, expiry_label, format_duration_minutes
from bot.slack.render.block_kit import Block, button, context, plain
from bot.slack.render.text import slack_date

ACTION_EXPIRY_PREFIX = "medialink_expiry_"
EXPIRY_ACTION = re.compile(r"^medialink_expiry_\d+$")
EXPIRY_CHOICES = (15, 60, 1440, 10080)  # minutes: 15 min, 1 hour, 1 day, 7 days
ACTION_REGENERATE = "medialink_regenerate"
ACTION_SHARE = "medialink_share"
ACTION_DM = "medialink_dm"
ACTION_DISMISS = "medialink_dismiss"
ACTION_ZIP = "medialink_zip"
DISMISS_VALUE = "dismiss"
# Above the expiry row: the buttons make new links that last that long.
EXPIRY_LABEL = "Links expire in (click to make new ones):"


def allowed_expiry_choices(max_minutes: int) -> tuple[int, ...]:
    return tuple(minutes for minutes in EXPIRY_CHOICES if minutes <= max_minutes)


def footer_blocks(
    state: LinkState,
    token: str,
    *,
    expiry_choices: Sequence[int],
    share_enabled: bool,
    zip_enabled: bool = False,
) -> list[Block]:
    """The expiry row (left out when a choice's state is too big) and the controls row."""
    blocks: list[Block] = []
    expiry = _expiry_buttons(state, expiry_choices)
    if expiry and all(fits_in_button(choice["value"]) for choice in expiry):
        blocks.append(context(EXPIRY_LABEL, block_id="medialink_expiry_label"))
        blocks.append({"type": "actions", "block_id": "medialink_expiry", "elements": expiry})
    controls = _control_buttons(
        token,
        share_enabled=share_enabled,
        zip_enabled=zip_enabled,
        expires_minutes=state.expires_minutes,
    )
    blocks.append({"type": "actions", "block_id": "medialink_controls", "elements": controls})
    return blocks


def _expiry_buttons(state: LinkState, choices: Sequence[int]) -> list[Block]:
    """The choices, with the current expiry among them (in order) when it is none of
    them, e.g. after ``expires=2h``; the current one is green."""
    current = state.expires_minutes
    shown = sorted({*choices, current}) if choices else []
    return [
        button(
            expiry_label(minutes),
            f"{ACTION_EXPIRY_PREFIX}{minutes}",
            value=encode_state(state.with_expiry(minutes)),
            style="primary" if minutes == current else None,
        )
        for minutes in shown
    ]


def _control_buttons(
    token: str, *, share_enabled: bool, zip_enabled: bool, expires_minutes: int
) -> list[Block]:
    controls = [button("Regenerate", ACTION_REGENERATE, value=token)]
    if share_enabled:
        controls.append(
            button(
                "Share in channel",
                ACTION_SHARE,
                value=token,
                confirm=_share_confirm(expires_minutes),
            )
        )
    controls.append(button("Send to my DMs", ACTION_DM, value=token))
    if zip_enabled:
        controls.append(
            button(
                "Download all as zip (permanent link)",
                ACTION_ZIP,
                value=token,
                confirm=_zip_confirm(),
            )
        )
    controls.append(button("Dismiss", ACTION_DISMISS, value=DISMISS_VALUE))
    return controls


def _share_confirm(expires_minutes: int, now: datetime | None = None) -> dict[str, Any]:
    """Says until when the shared links work: they are made when the button is pressed,
    for the reply's duration, so "until" is for sharing now."""
    until = (now or datetime.now(UTC)) + timedelta(minutes=expires_minutes)
    return {
        "title": plain("Share these links?"),
        "text": {
            "type": "mrkdwn",
            "text": "Anyone in this conversation will be able to download these files "
            f"with the shared links for {format_duration_minutes(expires_minutes)}: "
            f"until {slack_date(until)} if you share now.",
        },
        "confirm": plain("Share"),
        "deny": plain("Cancel"),
    }


def _zip_confirm() -> dict[str, Any]:
    return {
        "title": plain("Make a permanent zip link?"),
        "text": {"type": "mrkdwn", "text": ZIP_CONFIRM},
        "confirm": plain("Make zip link"),
        "deny": plain("Cancel"),
    }
