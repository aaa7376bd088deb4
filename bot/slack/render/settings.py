"""A workspace's settings: the modal its admins edit them in, and reading it back.

Lists of Slack IDs are typed comma-separated, as in the environment (``.env.example``);
the choices are menus. A list too long for one input (3000 characters) is shown, not
offered for editing: the environment or a shorter list is the way then.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from bot.slack.render.block_kit import Block, context, option, plain, section
from bot.slack.render.limits import MAX_INPUT_LENGTH
from bot.workspaces.policy import WorkspacePolicy

SETTINGS_CALLBACK_ID: Final = "medialink_settings"
SETTINGS_EDIT_ACTION: Final = "medialink_settings_edit"
SETTINGS_BLOCK: Final = "settings_"  # + the setting's name: block and action IDs
MAX_ALWAYS_ADMINS_SHOWN: Final = 10

LISTS: Final = {
    "allowed_channels": (
        "Conversations where MediaLink may be used",
        "Conversation IDs (C…, G…, D…), comma-separated; empty: anywhere",
    ),
    "allowed_users": (
        "People who may use MediaLink",
        "Member IDs (U…, W…), comma-separated; empty: everyone (with the groups below)",
    ),
    "allowed_usergroups": (
        "User groups whose members may use MediaLink",
        "User group IDs (S…), comma-separated",
    ),
    "admins": (
        "More admins",
        "Member IDs (U…, W…), comma-separated: they may change these settings and see "
        "everyone's links here",
    ),
}
CHOICES: Final[dict[str, tuple[str, tuple[tuple[str, str], ...]]]] = {
    "allow_guests": ("Guests", (("Refused", "false"), ("Allowed", "true"))),
    "allow_external": (
        "People from other organisations (shared channels)",
        (("Refused", "false"), ("Allowed", "true")),
    ),
    "private_files": (
        "Links to files Wix marks private",
        (("Admins only", "admins"), ("Everyone allowed", "everyone"), ("No one", "nobody")),
    ),
    "zip": (
        "Download all as zip (a permanent link)",
        (("Off", "false"), ("Admins only", "admins"), ("Everyone allowed", "everyone")),
    ),
    "share_enabled": ("Share in channel", (("On", "true"), ("Off", "false"))),
}


def _value(policy: WorkspacePolicy, name: str) -> str:
    value = getattr(policy, name)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def render_settings_modal(
    policy: WorkspacePolicy, *, always_admins: Sequence[str] = ()
) -> dict[str, Any]:
    """The modal for ``views.open``, filled with ``policy``."""
    blocks: list[Block] = [
        section(
            "These settings apply to this workspace only, on every MediaLink server, "
            "within a few seconds.",
            block_id="settings_intro",
        )
    ]
    for name, (label, hint) in LISTS.items():
        current = ", ".join(getattr(policy, name))
        if len(current) > MAX_INPUT_LENGTH:
            blocks.append(
                section(
                    f"*{label}*: {len(getattr(policy, name))} entries, too many to edit here; "
                    "they are kept as they are.",
                    block_id=SETTINGS_BLOCK + name,
                )
            )
            continue
        element: Block = {
            "type": "plain_text_input",
            "action_id": SETTINGS_BLOCK + name,
            "max_length": MAX_INPUT_LENGTH,
            "multiline": True,
        }
        if current:
            element["initial_value"] = current
        blocks.append(
            {
                "type": "input",
                "block_id": SETTINGS_BLOCK + name,
                "label": plain(label),
                "hint": plain(hint),
                "optional": True,
                "element": element,
            }
        )
    for name, (label, options) in CHOICES.items():
        chosen = _value(policy, name)
        made = [option(text, value) for text, value in options]
        blocks.append(
            {
                "type": "input",
                "block_id": SETTINGS_BLOCK + name,
                "label": plain(label),
                "element": {
                    "type": "static_select",
                    "action_id": SETTINGS_BLOCK + name,
                    "options": made,
                    "initial_option": next(o for o in made if o["value"] == chosen),
                },
            }
        )
    if always_admins:
        shown = ", ".join(f"<@{a}>" for a in list(always_admins)[:MAX_ALWAYS_ADMINS_SHOWN])
        blocks.append(
            context(
                f"Always admins: {shown} (MediaLink's own list, and whoever installed it here).",
                block_id="settings_always",
            )
        )
    return {
        "type": "modal",
        "callback_id": SETTINGS_CALLBACK_ID,
        "title": plain("MediaLink settings"),
        "submit": plain("Save"),
        "close": plain("Cancel"),
        "blocks": blocks,
    }


def read_settings(
    values: Mapping[str, Any], current: WorkspacePolicy
) -> tuple[dict[str, Any], dict[str, str]]:
    """The submitted settings as ``WorkspacePolicy`` fields (what the form left out kept
    from ``current``), and a problem per block ID for ``response_action: errors``."""
    fields: dict[str, Any] = current.model_dump()
    problems: dict[str, str] = {}
    for name in LISTS:
        state = _state(values, name)
        if state is None:
            continue  # not offered (too long), or not sent: kept
        text = state.get("value")
        text = text if isinstance(text, str) else ""
        items = [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]
        fields[name] = tuple(items)
    for name, (_, options) in CHOICES.items():
        state = _state(values, name)
        if state is None:
            continue
        selected = state.get("selected_option")
        chosen = selected.get("value") if isinstance(selected, dict) else None
        if chosen not in {value for _, value in options}:
            problems[SETTINGS_BLOCK + name] = "Pick one of the choices."
            continue
        fields[name] = (
            chosen == "true"
            if name in {"allow_guests", "allow_external", "share_enabled"}
            else chosen
        )
    return fields, problems


def _state(values: Mapping[str, Any], name: str) -> dict[str, Any] | None:
    block = values.get(SETTINGS_BLOCK + name)
    state = block.get(SETTINGS_BLOCK + name) if isinstance(block, dict) else None
    return state if isinstance(state, dict) else None
