"""MediaLink's App Home tab: how to use it, the limits in force, the person's recent links,
and for admins the workspace's recent activity and refusals.

A pure function of what the listener read; bounded by ``MAX_HOME_ITEMS`` per list, well
within the Home tab's 100 blocks (docs/slack.md, Block Kit limits). No buttons: a click
in the Home tab brings no response_url, so Regenerate lives in ``/medialink history``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from bot.audit import AuditEvent
from bot.durations import format_duration
from bot.slack.render.block_kit import Block, button, context, plain, section
from bot.slack.render.history import link_line, refusal_line
from bot.slack.render.limits import MAX_VIEW_BLOCKS
from bot.slack.render.settings import SETTINGS_EDIT_ACTION
from bot.slack.render.text import slack_date
from bot.slack.surfaces import COMMAND

MAX_HOME_ITEMS = 10  # per list: the person's links, and the admins' two lists
MAX_ADMINS_NAMED = 10

PRIVATE_FILES_RULES = {
    "everyone": "Anyone who may use MediaLink may make links to files Wix marks private.",
    "admins": "Only MediaLink's admins may make links to files Wix marks private.",
    "nobody": "No one may make links to files Wix marks private.",
}


@dataclass(frozen=True, slots=True)
class HomeLimits:
    """The rules in force, as settings and the policy set them at start."""

    max_expiry: timedelta
    default_expiry: timedelta
    max_refs: int
    share_enabled: bool
    admins: Sequence[str] = ()
    private_files: str | None = None  # "everyone", "admins", "nobody"; None: not set


@dataclass(frozen=True, slots=True)
class HomeContent:
    """What the listener read from the record for one person."""

    user_id: str
    is_admin: bool
    own_links: Sequence[AuditEvent] = ()
    activity: Sequence[AuditEvent] = ()  # admins: the workspace's recent links
    refusals: Sequence[AuditEvent] = ()  # admins: the workspace's recent refusals
    record_readable: bool = True
    extra_rules: Sequence[str] = field(default=())
    # Admins: the workspace's access settings, one line each, with "Edit settings".
    settings_lines: Sequence[str] = field(default=())


def render_home(content: HomeContent, limits: HomeLimits, *, now: datetime) -> dict[str, Any]:
    """The ``home`` view for ``views.publish``."""
    blocks: list[Block] = [
        {"type": "header", "block_id": "home_title", "text": plain("MediaLink")},
        section(
            "Private, expiring download links for files in your Wix Media Manager. "
            "Only you see the links MediaLink makes for you.",
            block_id="home_intro",
        ),
        section(_how_to(), block_id="home_how"),
        section(_limits(limits, content.extra_rules), block_id="home_limits"),
        {"type": "divider", "block_id": "home_divider_own"},
    ]
    blocks += _list(
        "home_own",
        "*Your recent links*",
        [link_line(event, now=now, show_who=False) for event in content.own_links],
        empty=f"You have made no links yet. Try `{COMMAND} <Wix media URL>`.",
        readable=content.record_readable,
    )
    if content.own_links:
        blocks.append(
            context(
                f"`{COMMAND} history` shows your last 20 links, each with a Regenerate button.",
                block_id="home_own_more",
            )
        )
    if content.is_admin and content.settings_lines:
        blocks.append({"type": "divider", "block_id": "home_divider_settings"})
        settings = section(
            "*This workspace's settings* (you may change them as a MediaLink admin)\n"
            + "\n".join(f"• {line}" for line in content.settings_lines),
            block_id="home_settings",
        )
        settings["accessory"] = button("Edit settings", SETTINGS_EDIT_ACTION)
        blocks.append(settings)
    if content.is_admin:
        blocks.append({"type": "divider", "block_id": "home_divider_activity"})
        blocks += _list(
            "home_activity",
            "*Recent activity in the workspace* (you see this as a MediaLink admin)",
            [link_line(event, now=now, show_who=True) for event in content.activity],
            empty="No one has made a link yet.",
            readable=content.record_readable,
        )
        blocks.append({"type": "divider", "block_id": "home_divider_refusals"})
        blocks += _list(
            "home_refusals",
            "*Recent refusals*",
            [refusal_line(event) for event in content.refusals],
            empty="MediaLink has refused no one.",
            readable=content.record_readable,
        )
        blocks.append(
            context(
                f"`{COMMAND} history @someone` and `{COMMAND} history <file URL or ID>` show "
                "anyone's links; `medialink audit` exports the record.",
                block_id="home_admin_more",
            )
        )
    blocks.append(context(f"Updated {slack_date(now)}.", block_id="home_updated"))
    return {"type": "home", "blocks": blocks[:MAX_VIEW_BLOCKS]}


def _how_to() -> str:
    return "\n".join(
        [
            "*How to use it*",
            f"• `{COMMAND} <Wix media URLs or file IDs>`, with options such as `expires=2h` "
            f"or `assets=720p.mp4` (`{COMMAND} help` lists them all).",
            "• *Get download links* on a message with Wix links (the message's ⋮ menu).",
            "• *Wix download links* from the shortcuts menu opens a form.",
            f"• `{COMMAND} history` shows your last 20 links; Regenerate makes fresh ones.",
        ]
    )


def _limits(limits: HomeLimits, extra_rules: Sequence[str]) -> str:
    lines = [
        "*Limits in force*",
        f"• Links work for {format_duration(limits.default_expiry)} unless you choose, "
        f"and for at most {format_duration(limits.max_expiry)}.",
        f"• Up to {limits.max_refs} files in one request.",
    ]
    if limits.share_enabled:
        lines.append(
            "• *Share in channel* posts your links in the conversation: everyone there can "
            "download the files until the links expire."
        )
    else:
        lines.append("• Sharing links in channels is switched off.")
    rule = PRIVATE_FILES_RULES.get(limits.private_files or "")
    if rule:
        lines.append(f"• {rule}")
    lines.extend(f"• {line}" for line in extra_rules)
    admins = [f"<@{admin}>" for admin in list(limits.admins)[:MAX_ADMINS_NAMED]]
    if admins:
        more = len(limits.admins) - len(admins)
        named = ", ".join(admins) + (f" and {more} more" if more > 0 else "")
        lines.append(f"• MediaLink's admins: {named}. Ask them about access and these limits.")
    return "\n".join(lines)


def _list(
    block_id: str, title: str, lines: Sequence[str], *, empty: str, readable: bool
) -> list[Block]:
    if not readable:
        return [
            section(
                f"{title}\nThe record cannot be read right now. Open this tab again later.",
                block_id=block_id,
            )
        ]
    if not lines:
        return [section(f"{title}\n{empty}", block_id=block_id)]
    blocks = [section(title, block_id=block_id)]
    blocks += [
        section(line, block_id=f"{block_id}_{index}")
        for index, line in enumerate(lines[:MAX_HOME_ITEMS])
    ]
    return blocks
