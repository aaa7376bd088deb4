"""The sites modal (``/medialink sites``): the connected sites, and one form for every change.

An admin picks what to do (add, test, rename, remove, set domains, set a channel's
default) and fills the fields that change needs; the submission is checked field by
field (``response_action: errors``), then with Wix, and the modal is updated with the
outcome. A key typed in is never shown again, nor kept in the view.
"""

from __future__ import annotations

from typing import Any, Final

from bot.sites.model import (
    ENV_SITE_NAME,
    EVERY_CHANNEL,
    MAX_CREDENTIAL,
    MAX_NAME,
    AuthKind,
)
from bot.sites.registry import TenantSites
from bot.slack.render.block_kit import Block, context, plain, section
from bot.slack.render.limits import (
    MAX_INPUT_LENGTH,
    MAX_OPTION_TEXT,
    MAX_OPTIONS,
    MAX_VIEW_BLOCKS,
)
from bot.slack.render.text import clip

SITES_CALLBACK_ID: Final = "medialink_sites"
ACTION_BLOCK: Final = "sites_action"
ACTION_SELECT: Final = "sites_action_select"
SITE_BLOCK: Final = "sites_site"
SITE_SELECT: Final = "sites_site_select"
CHANNEL_BLOCK: Final = "sites_channel"
CHANNEL_SELECT: Final = "sites_channel_select"
# Text inputs: block ID → (action ID, label, hint, max length, multiline)
NAME_BLOCK: Final = "sites_name"
SITE_ID_BLOCK: Final = "sites_site_id"
API_KEY_BLOCK: Final = "sites_api_key"
APP_ID_BLOCK: Final = "sites_app_id"
APP_SECRET_BLOCK: Final = "sites_app_secret"  # noqa: S105 - a block ID, not a secret
INSTANCE_BLOCK: Final = "sites_instance_id"
DOMAINS_BLOCK: Final = "sites_domains"
TEXT_ACTION: Final = "value"

ACTIONS: Final = {
    "add": "Add a site",
    "test": "Test a site's credentials",
    "rename": "Rename a site",
    "remove": "Remove a site",
    "domains": "Set a site's custom domains",
    "channel": "Set a channel's default site",
}
MAX_LISTED = 40  # sites listed in the modal; `medialink sites` lists them all

_HINT_KEY = "With the Manage Media Manager permission (or use a Wix app below)"
_HINT_SITE_ID = "The GUID after /dashboard/ in the site's dashboard address"
_TEXT_INPUTS: Final = (
    (NAME_BLOCK, "Name", "A new site's name, or the new name when renaming", MAX_NAME, False),
    (SITE_ID_BLOCK, "Site ID", _HINT_SITE_ID, 36, False),
    (API_KEY_BLOCK, "API key", _HINT_KEY, MAX_CREDENTIAL, False),
    (APP_ID_BLOCK, "Wix app ID", "Instead of an API key: the app's ID", 36, False),
    (APP_SECRET_BLOCK, "Wix app secret", "The app's secret key", MAX_CREDENTIAL, False),
    (INSTANCE_BLOCK, "Wix app instance ID", "The app's installation on the site", 36, False),
    (
        DOMAINS_BLOCK,
        "Custom domains",
        "Such as www.client.com, one per line",
        MAX_INPUT_LENGTH,
        True,
    ),
)


def describe_site_line(view: TenantSites, name: str) -> str:
    site = view.sites[name]
    kind = (
        "from the environment"
        if site.kind is None
        else ("API key" if site.kind is AuthKind.API_KEY else "Wix app")
    )
    domains = sorted(domain for domain, owner in view.domains.items() if owner == name)
    channels = sorted(channel for channel, owner in view.channels.items() if owner == name)
    parts = [f"*{name}*", f"site `{site.site_id}`", kind]
    if domains:
        parts.append("domains: " + ", ".join(domains[:5]) + (" …" if len(domains) > 5 else ""))
    shown = [
        "every channel" if channel == EVERY_CHANNEL else f"<#{channel}>" for channel in channels
    ]
    if shown:
        parts.append("default in " + ", ".join(shown[:5]) + (" …" if len(shown) > 5 else ""))
    return " · ".join(parts)


def build_sites_modal(view: TenantSites, *, status: str | None = None) -> dict[str, Any]:
    blocks: list[Block] = []
    if status:
        blocks.append(section(status, block_id="sites_status"))
    names = list(view.sites)
    if names:
        lines = [describe_site_line(view, name) for name in names[:MAX_LISTED]]
        if len(names) > MAX_LISTED:
            lines.append(f"… and {len(names) - MAX_LISTED} more (`medialink sites` lists all).")
        blocks.append(section("\n".join(lines), block_id="sites_list"))
    else:
        blocks.append(section("No Wix site is connected yet.", block_id="sites_list"))
    blocks.append({"type": "divider"})
    blocks.append(
        _input(
            ACTION_BLOCK,
            "What to do",
            {
                "type": "static_select",
                "action_id": ACTION_SELECT,
                "options": [_option(label, value) for value, label in ACTIONS.items()],
                "initial_option": _option(ACTIONS["add"], "add"),
            },
        )
    )
    choices = names[:MAX_OPTIONS]
    if choices:
        blocks.append(
            _input(
                SITE_BLOCK,
                "Site",
                {
                    "type": "static_select",
                    "action_id": SITE_SELECT,
                    "options": [_option(name, name) for name in choices],
                },
                optional=True,
                hint="For every change but adding a site",
            )
        )
    for block_id, label, hint, max_length, multiline in _TEXT_INPUTS:
        blocks.append(
            _input(
                block_id,
                label,
                {
                    "type": "plain_text_input",
                    "action_id": TEXT_ACTION,
                    "max_length": max_length,
                    "multiline": multiline,
                },
                optional=True,
                hint=hint,
            )
        )
    blocks.append(
        _input(
            CHANNEL_BLOCK,
            "Channel",
            {"type": "conversations_select", "action_id": CHANNEL_SELECT},
            optional=True,
            hint="For a channel's default site; leave empty for every channel",
        )
    )
    blocks.append(
        context(
            f"`{ENV_SITE_NAME}` is the site set in MediaLink's environment, where there is one. "
            "Keys are stored encrypted and never shown again.",
            block_id="sites_note",
        )
    )
    return {
        "type": "modal",
        "callback_id": SITES_CALLBACK_ID,
        "title": plain("MediaLink sites"),
        "submit": plain("Save"),
        "close": plain("Close"),
        "blocks": blocks[:MAX_VIEW_BLOCKS],
    }


def build_working_modal(text: str) -> dict[str, Any]:
    """Shown while Wix or the database is asked (the submission's ack)."""
    return {
        "type": "modal",
        "callback_id": SITES_CALLBACK_ID,
        "title": plain("MediaLink sites"),
        "close": plain("Close"),
        "blocks": [section(text, block_id="sites_status")],
    }


def _option(text: str, value: str) -> dict[str, Any]:
    return {"text": plain(clip(text, MAX_OPTION_TEXT)), "value": value}


def _input(
    block_id: str,
    label: str,
    element: dict[str, Any],
    *,
    optional: bool = False,
    hint: str | None = None,
) -> Block:
    block: Block = {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "element": element,
        "optional": optional,
    }
    if hint:
        block["hint"] = plain(hint)
    return block
