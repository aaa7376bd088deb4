"""The global shortcut's form: URLs and picked files, expiry, renditions and where to
post the links."""

from __future__ import annotations

from typing import Any

from bot.slack.messages import expiry_label
from bot.slack.render.block_kit import option, plain
from bot.slack.render.footer import allowed_expiry_choices
from bot.slack.render.limits import MAX_INPUT_LENGTH, MAX_OPTIONS

MODAL_CALLBACK_ID = "medialink_modal"
URLS_BLOCK, URLS_ACTION = "urls", "urls_input"
EXPIRY_BLOCK, EXPIRY_SELECT_ACTION = "expiry", "expiry_select"
ASSETS_BLOCK, ASSETS_ACTION = "assets", "assets_input"
CONVERSATION_BLOCK, CONVERSATION_ACTION = "conversation", "conversation_select"
# The type-ahead file picker; its options come from ``listeners/picker.py``.
PICKER_BLOCK, PICKER_ACTION = "picked", "picked_files"
# Slack asks for options once this many characters are typed (docs/slack.md, External
# selects); one character would search Wix on every first keystroke for little use.
PICKER_MIN_QUERY = 2
MAX_ASSETS_INPUT = 500


def build_link_modal(
    *, default_minutes: int, max_minutes: int, max_files: int | None = None
) -> dict[str, Any]:
    """The view for ``views.open``; the listeners read its inputs by these IDs.

    Pasted URLs and picked files are both optional here: the submission insists on one
    of the two (``listeners/views.py``). ``max_files`` caps how many can be picked.
    """
    return {
        "type": "modal",
        "callback_id": MODAL_CALLBACK_ID,
        "title": plain("MediaLink"),
        "submit": plain("Get links"),
        "close": plain("Cancel"),
        "blocks": [
            _urls_input(),
            _picker_input(max_files),
            _expiry_input(default_minutes, max_minutes),
            _assets_input(),
            _conversation_input(),
        ],
    }


def _urls_input() -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": URLS_BLOCK,
        "optional": True,
        "label": plain("Wix media URLs or file IDs"),
        "hint": plain("One or more, separated by spaces or new lines."),
        "element": {
            "type": "plain_text_input",
            "action_id": URLS_ACTION,
            "multiline": True,
            "max_length": MAX_INPUT_LENGTH,
            "placeholder": plain("https://static.wixstatic.com/media/…"),
        },
    }


def _picker_input(max_files: int | None) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "multi_external_select",
        "action_id": PICKER_ACTION,
        "min_query_length": PICKER_MIN_QUERY,
        "placeholder": plain("Type part of a file's name"),
    }
    if max_files is not None and max_files >= 1:
        element["max_selected_items"] = max_files
    return {
        "type": "input",
        "block_id": PICKER_BLOCK,
        "optional": True,
        "label": plain("Pick files from the Media Manager"),
        "hint": plain("Search by name; picked files join any URLs above."),
        "element": element,
    }


def _expiry_input(default_minutes: int, max_minutes: int) -> dict[str, Any]:
    """The allowed choices, plus the workspace's default (initially selected)."""
    minutes = sorted({*allowed_expiry_choices(max_minutes), default_minutes})
    options = [option(expiry_label(value), str(value)) for value in minutes][:MAX_OPTIONS]
    initial = next(
        (choice for choice in options if choice["value"] == str(default_minutes)), options[0]
    )
    return {
        "type": "input",
        "block_id": EXPIRY_BLOCK,
        "label": plain("Links expire after"),
        "element": {
            "type": "static_select",
            "action_id": EXPIRY_SELECT_ACTION,
            "options": options,
            "initial_option": initial,
        },
    }


def _assets_input() -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": ASSETS_BLOCK,
        "optional": True,
        "label": plain("Renditions"),
        "hint": plain("Leave empty for the original file. Separate names with commas."),
        "element": {
            "type": "plain_text_input",
            "action_id": ASSETS_ACTION,
            "max_length": MAX_ASSETS_INPUT,
            "placeholder": plain("src,720p.mp4"),
        },
    }


def _conversation_input() -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": CONVERSATION_BLOCK,
        "label": plain("Send the links to me in"),
        "element": {
            "type": "conversations_select",
            "action_id": CONVERSATION_ACTION,
            "response_url_enabled": True,
            "default_to_current_conversation": True,
            "placeholder": plain("Choose a conversation"),
        },
    }
