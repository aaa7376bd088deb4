"""A loopback fake of Slack: the Web API, response_url webhooks and Socket Mode.

``FakeSlack`` serves, on 127.0.0.1 and a random port, in its own thread with its
own event loop (so the app under test, on the test's loop, talks to it over real
HTTP exactly as it would talk to slack.com):

- ``POST /api/<method>``: the Web API as ``slack_sdk``'s ``AsyncWebClient`` calls it
  (arguments in the query string, a form body or a JSON body; the token as
  ``Authorization: Bearer``). It checks the token type and the granted scopes,
  enforces the Block Kit limits (docs/slack.md, Block Kit limits) and answers with
  Slack's documented shapes: ``{"ok": true, ...}`` or ``{"ok": false, "error": ...}``
  (HTTP 200), ``ratelimited`` as HTTP 429 with ``Retry-After``.
- ``POST /response/<id>``: a response_url. It answers ``200 ok``, or like an
  incoming webhook ``400 invalid_blocks`` / ``400 no_text`` / ``404 ...``; it allows
  5 uses within 30 minutes; it models what the user sees (a new ephemeral
  message, ``replace_original`` / ``delete_original`` on the message that held the
  clicked button, ``in_channel`` posts).
- ``GET /socket``: a Socket Mode WebSocket. It sends ``hello``, then the envelopes
  a test queues, and records the acks by ``envelope_id``.
- ``functions.completeSuccess`` / ``functions.completeError``: the end of a workflow
  step (docs/slack.md, Workflow steps). A test opens an execution with
  ``new_function_execution``; the fake accepts the execution's own token (the event's
  ``bot_access_token``) or the bot token, checks ``function_execution_id``, that the
  execution is still running, and that ``outputs`` is an object matching the declared
  output parameters, and records how the execution ended.

Where Slack's behaviour is not documented (docs/slack.md, Unconfirmed: the status of an
expired or over-used response_url), the fake picks a plausible answer and says so.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Self
from urllib.parse import parse_qsl, urlsplit

from aiohttp import WSMsgType, web

BOT_TOKEN = "xoxb-1111-2222-medialinkfake"
APP_TOKEN = "xapp-1-A0MEDIALNK-3333-medialinkfake"
TEAM_ID = "T0MEDIALNK"
TEAM_DOMAIN = "medialink-test"
APP_ID = "A0MEDIALNK"
BOT_USER_ID = "U0MEDIABOT"
BOT_ID = "B0MEDIABOT"
DEFAULT_SCOPES = ("commands", "chat:write")

# Documented limits (docs/slack.md, Block Kit limits).
MAX_MESSAGE_BLOCKS = 50
MAX_MODAL_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_BLOCK_ID = 255
MAX_ACTION_ID = 255
MAX_ACTIONS_ELEMENTS = 25
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_BUTTON_URL = 3000
MAX_SELECT_OPTIONS = 100
MAX_PLACEHOLDER = 150
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_HEADER_TEXT = 150
MAX_INPUT_LABEL = 2000
MAX_MODAL_TITLE = 24
MAX_CALLBACK_ID = 255
MAX_PRIVATE_METADATA = 3000
MAX_MESSAGE_TEXT = 40_000  # Slack truncates or refuses (msg_too_long) beyond this
MAX_ATTACHMENTS = 100

# response_url budget (docs/slack.md, response_url).
RESPONSE_URL_USES = 5
RESPONSE_URL_LIFETIME = 30 * 60.0
TRIGGER_LIFETIME = 3.0

# Scopes each method needs (one of them); methods not listed need none.
_METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "chat.postMessage": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.delete": ("chat:write",),
    "conversations.open": ("channels:manage", "groups:write", "im:write", "mpim:write"),
    "conversations.history": (
        "channels:history",
        "groups:history",
        "im:history",
        "mpim:history",
    ),
    "users.info": ("users:read",),
    "usergroups.users.list": ("usergroups:read",),
    "chat.unfurl": ("links:write",),
}
_APP_TOKEN_METHODS = frozenset({"apps.connections.open"})
# Ending a workflow step: answered with the execution's own token or the bot token.
_FUNCTION_METHODS = frozenset({"functions.completeSuccess", "functions.completeError"})
WORKFLOW_TOKEN_PREFIX = "xwfp-"

Json = dict[str, Any]

# Every response_url any FakeSlack handed out, for the suite's check that none reaches
# the logs (tests/conftest.py clears it before each test).
issued_response_urls: list[str] = []
# Every OAuth code, bot token and refresh token an install was handed, for the same check.
issued_secrets: list[str] = []


# ---------------------------------------------------------------------------- Block Kit


class _BlockKitChecker:
    """Collects Block Kit problems as Slack words them: ``message [json-pointer:/path]``."""

    def __init__(self, surface: Literal["message", "modal"]) -> None:
        self.surface = surface
        self.errors: list[str] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append(f"{message} [json-pointer:{path}]")

    def keys(self, obj: Mapping[str, Any], path: str, allowed: frozenset[str]) -> None:
        for key in obj:
            if key not in allowed:
                self.fail(f"{path}/{key}", "invalid additional property")

    def string(self, value: object, path: str, *, max_len: int, min_len: int = 1) -> None:
        if not isinstance(value, str):
            self.fail(path, "must be a string")
        elif len(value) < min_len:
            self.fail(path, f"must be at least {min_len} characters")
        elif len(value) > max_len:
            self.fail(path, f"must be less than {max_len + 1} characters")

    def text(self, obj: object, path: str, *, max_len: int, plain_only: bool = False) -> None:
        if not isinstance(obj, dict):
            self.fail(path, "must be a text object")
            return
        kind = obj.get("type")
        if kind not in ("plain_text", "mrkdwn") or (plain_only and kind != "plain_text"):
            self.fail(f"{path}/type", "must be plain_text" if plain_only else "invalid type")
            return
        allowed = {"type", "text"} | ({"emoji"} if kind == "plain_text" else {"verbatim"})
        self.keys(obj, path, frozenset(allowed))
        self.string(obj.get("text"), f"{path}/text", max_len=max_len)

    def blocks(self, blocks: object, path: str = "/blocks") -> None:
        if not isinstance(blocks, list):
            self.fail(path, "must be an array")
            return
        limit = MAX_MESSAGE_BLOCKS if self.surface == "message" else MAX_MODAL_BLOCKS
        if len(blocks) > limit:
            self.fail(path, f"no more than {limit} items allowed")
        block_ids: set[str] = set()
        for index, block in enumerate(blocks):
            self.block(block, f"{path}/{index}", block_ids)

    def block(self, block: object, path: str, block_ids: set[str]) -> None:
        if not isinstance(block, dict):
            self.fail(path, "must be an object")
            return
        block_id = block.get("block_id")
        if block_id is not None:
            self.string(block_id, f"{path}/block_id", max_len=MAX_BLOCK_ID)
            if isinstance(block_id, str):
                if block_id in block_ids:
                    self.fail(f"{path}/block_id", "duplicate block_id")
                block_ids.add(block_id)
        kind = block.get("type")
        checker = _BLOCKS.get(kind) if isinstance(kind, str) else None
        if checker is None:
            self.fail(f"{path}/type", "unsupported type")
            return
        checker(self, block, path)

    # -- blocks

    def section(self, block: Json, path: str) -> None:
        self.keys(block, path, _SECTION_KEYS)
        if "text" not in block and "fields" not in block:
            self.fail(path, "must provide text or fields")
        if "text" in block:
            self.text(block["text"], f"{path}/text", max_len=MAX_SECTION_TEXT)
        if "fields" in block:
            fields = block["fields"]
            if not isinstance(fields, list) or not fields:
                self.fail(f"{path}/fields", "must be a non-empty array")
            else:
                if len(fields) > MAX_SECTION_FIELDS:
                    self.fail(f"{path}/fields", f"no more than {MAX_SECTION_FIELDS} items allowed")
                for index, item in enumerate(fields):
                    self.text(item, f"{path}/fields/{index}", max_len=MAX_FIELD_TEXT)
        if "accessory" in block:
            self.element(block["accessory"], f"{path}/accessory", context="section")

    def actions(self, block: Json, path: str) -> None:
        self.keys(block, path, _ACTIONS_KEYS)
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.fail(f"{path}/elements", "must be a non-empty array")
            return
        if len(elements) > MAX_ACTIONS_ELEMENTS:
            self.fail(f"{path}/elements", f"no more than {MAX_ACTIONS_ELEMENTS} items allowed")
        action_ids: set[str] = set()
        for index, element in enumerate(elements):
            item_path = f"{path}/elements/{index}"
            self.element(element, item_path, context="actions")
            action_id = element.get("action_id") if isinstance(element, dict) else None
            if isinstance(action_id, str):
                if action_id in action_ids:
                    self.fail(f"{item_path}/action_id", "duplicate action_id")
                action_ids.add(action_id)

    def context(self, block: Json, path: str) -> None:
        self.keys(block, path, _CONTEXT_KEYS)
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.fail(f"{path}/elements", "must be a non-empty array")
            return
        if len(elements) > MAX_CONTEXT_ELEMENTS:
            self.fail(f"{path}/elements", f"no more than {MAX_CONTEXT_ELEMENTS} items allowed")
        for index, element in enumerate(elements):
            item_path = f"{path}/elements/{index}"
            if isinstance(element, dict) and element.get("type") == "image":
                self.image_element(element, item_path)
            else:
                self.text(element, item_path, max_len=MAX_SECTION_TEXT)

    def divider(self, block: Json, path: str) -> None:
        self.keys(block, path, frozenset({"type", "block_id"}))

    def header(self, block: Json, path: str) -> None:
        self.keys(block, path, frozenset({"type", "block_id", "text"}))
        self.text(block.get("text"), f"{path}/text", max_len=MAX_HEADER_TEXT, plain_only=True)

    def image(self, block: Json, path: str) -> None:
        self.keys(block, path, frozenset({"type", "block_id", "image_url", "alt_text", "title"}))
        self.string(block.get("image_url"), f"{path}/image_url", max_len=3000)
        self.string(block.get("alt_text"), f"{path}/alt_text", max_len=2000)
        if "title" in block:
            self.text(block["title"], f"{path}/title", max_len=2000, plain_only=True)

    def rich_text(self, block: Json, path: str) -> None:
        self.keys(block, path, frozenset({"type", "block_id", "elements"}))
        if not isinstance(block.get("elements"), list):
            self.fail(f"{path}/elements", "must be an array")

    def markdown(self, block: Json, path: str) -> None:
        self.keys(block, path, frozenset({"type", "block_id", "text"}))
        self.string(block.get("text"), f"{path}/text", max_len=12_000)

    def input(self, block: Json, path: str) -> None:
        if self.surface != "modal":
            self.fail(f"{path}/type", "input blocks are only allowed in views")
            return
        self.keys(
            block,
            path,
            frozenset(
                {"type", "block_id", "label", "element", "hint", "optional", "dispatch_action"}
            ),
        )
        self.text(block.get("label"), f"{path}/label", max_len=MAX_INPUT_LABEL, plain_only=True)
        if "hint" in block:
            self.text(block["hint"], f"{path}/hint", max_len=MAX_INPUT_LABEL, plain_only=True)
        if "optional" in block and not isinstance(block["optional"], bool):
            self.fail(f"{path}/optional", "must be a boolean")
        self.element(block.get("element"), f"{path}/element", context="input")

    # -- elements

    def element(self, element: object, path: str, *, context: str) -> None:
        if not isinstance(element, dict):
            self.fail(path, "must be an object")
            return
        kind = element.get("type")
        if "action_id" in element:
            self.string(element["action_id"], f"{path}/action_id", max_len=MAX_ACTION_ID)
        if kind == "button" and context != "input":
            self.button(element, path)
        elif kind == "static_select":
            self.static_select(element, path)
        elif kind == "overflow" and context != "input":
            self.overflow(element, path)
        elif kind in ("conversations_select", "channels_select"):
            self.conversation_select(element, path, context=context)
        elif kind == "users_select":
            self.keys(element, path, _USERS_SELECT_KEYS)
        elif kind in ("external_select", "multi_external_select"):
            self.external_select(element, path, multi=kind.startswith("multi"))
        elif kind == "plain_text_input" and context == "input":
            self.plain_text_input(element, path)
        elif kind == "image" and context == "section":
            self.image_element(element, path)
        elif kind == "checkboxes":
            self.checkboxes(element, path)
        else:
            self.fail(f"{path}/type", f"unsupported element type in {context}")

    def button(self, element: Json, path: str) -> None:
        self.keys(element, path, _BUTTON_KEYS)
        self.text(element.get("text"), f"{path}/text", max_len=MAX_BUTTON_TEXT, plain_only=True)
        if "value" in element:
            self.string(element["value"], f"{path}/value", max_len=MAX_BUTTON_VALUE)
        if "url" in element:
            url = element["url"]
            self.string(url, f"{path}/url", max_len=MAX_BUTTON_URL)
            if isinstance(url, str) and not url.startswith(("https://", "http://")):
                self.fail(f"{path}/url", "invalid_url")
        if "style" in element and element["style"] not in ("primary", "danger"):
            self.fail(f"{path}/style", "must be primary or danger")
        if "accessibility_label" in element:
            self.string(element["accessibility_label"], f"{path}/accessibility_label", max_len=75)
        if "confirm" in element:
            self.confirm(element["confirm"], f"{path}/confirm")

    def confirm(self, obj: object, path: str) -> None:
        if not isinstance(obj, dict):
            self.fail(path, "must be an object")
            return
        self.keys(obj, path, frozenset({"title", "text", "confirm", "deny", "style"}))
        self.text(obj.get("title"), f"{path}/title", max_len=100, plain_only=True)
        self.text(obj.get("text"), f"{path}/text", max_len=300)
        self.text(obj.get("confirm"), f"{path}/confirm", max_len=30, plain_only=True)
        self.text(obj.get("deny"), f"{path}/deny", max_len=30, plain_only=True)
        if "style" in obj and obj["style"] not in ("primary", "danger"):
            self.fail(f"{path}/style", "must be primary or danger")

    def option(self, obj: object, path: str) -> None:
        if not isinstance(obj, dict):
            self.fail(path, "must be an object")
            return
        self.keys(obj, path, frozenset({"text", "value", "description", "url"}))
        self.text(obj.get("text"), f"{path}/text", max_len=MAX_OPTION_TEXT, plain_only=True)
        self.string(obj.get("value"), f"{path}/value", max_len=MAX_OPTION_VALUE)
        if "description" in obj:
            self.text(obj["description"], f"{path}/description", max_len=MAX_OPTION_TEXT)

    def options(self, options: object, path: str, *, max_items: int) -> list[Json]:
        if not isinstance(options, list) or not options:
            self.fail(path, "must be a non-empty array")
            return []
        if len(options) > max_items:
            self.fail(path, f"no more than {max_items} items allowed")
        for index, option in enumerate(options):
            self.option(option, f"{path}/{index}")
        return [option for option in options if isinstance(option, dict)]

    def static_select(self, element: Json, path: str) -> None:
        self.keys(element, path, _STATIC_SELECT_KEYS)
        if "placeholder" in element:
            self.text(
                element["placeholder"],
                f"{path}/placeholder",
                max_len=MAX_PLACEHOLDER,
                plain_only=True,
            )
        if ("options" in element) == ("option_groups" in element):
            self.fail(path, "must provide exactly one of options or option_groups")
        options: list[Json] = []
        if "options" in element:
            options = self.options(element["options"], f"{path}/options", max_items=100)
        if "option_groups" in element:
            groups = element["option_groups"]
            if not isinstance(groups, list) or not groups or len(groups) > MAX_SELECT_OPTIONS:
                self.fail(f"{path}/option_groups", "must have 1 to 100 items")
            else:
                for index, group in enumerate(groups):
                    group_path = f"{path}/option_groups/{index}"
                    if not isinstance(group, dict):
                        self.fail(group_path, "must be an object")
                        continue
                    self.text(group.get("label"), f"{group_path}/label", max_len=75)
                    options += self.options(
                        group.get("options"), f"{group_path}/options", max_items=100
                    )
        if "initial_option" in element:
            initial = element["initial_option"]
            self.option(initial, f"{path}/initial_option")
            if initial not in options:
                self.fail(f"{path}/initial_option", "must match one of the options")
        if "confirm" in element:
            self.confirm(element["confirm"], f"{path}/confirm")

    def external_select(self, element: Json, path: str, *, multi: bool) -> None:
        self.keys(element, path, _MULTI_EXTERNAL_SELECT_KEYS if multi else _EXTERNAL_SELECT_KEYS)
        if "placeholder" in element:
            self.text(
                element["placeholder"],
                f"{path}/placeholder",
                max_len=MAX_PLACEHOLDER,
                plain_only=True,
            )
        query = element.get("min_query_length")
        if query is not None and (not isinstance(query, int) or query < 0):
            self.fail(f"{path}/min_query_length", "must be a non-negative integer")
        most = element.get("max_selected_items")
        if most is not None and (not isinstance(most, int) or most < 1):
            self.fail(f"{path}/max_selected_items", "must be an integer of at least 1")
        if "initial_option" in element:
            self.option(element["initial_option"], f"{path}/initial_option")
        if "initial_options" in element:
            self.options(element["initial_options"], f"{path}/initial_options", max_items=100)

    def overflow(self, element: Json, path: str) -> None:
        self.keys(element, path, frozenset({"type", "action_id", "options", "confirm"}))
        self.options(element.get("options"), f"{path}/options", max_items=5)

    def conversation_select(self, element: Json, path: str, *, context: str) -> None:
        self.keys(element, path, _CONVERSATIONS_SELECT_KEYS)
        if "placeholder" in element:
            self.text(
                element["placeholder"],
                f"{path}/placeholder",
                max_len=MAX_PLACEHOLDER,
                plain_only=True,
            )
        if element.get("response_url_enabled") and (context != "input" or self.surface != "modal"):
            self.fail(
                f"{path}/response_url_enabled",
                "response_url_enabled is only allowed in input blocks in modals",
            )

    def plain_text_input(self, element: Json, path: str) -> None:
        self.keys(element, path, _PLAIN_TEXT_INPUT_KEYS)
        if "placeholder" in element:
            self.text(
                element["placeholder"],
                f"{path}/placeholder",
                max_len=MAX_PLACEHOLDER,
                plain_only=True,
            )
        if "initial_value" in element:
            self.string(element["initial_value"], f"{path}/initial_value", max_len=3000, min_len=0)
        for key, low in (("min_length", 0), ("max_length", 1)):
            value = element.get(key)
            if value is not None and (not isinstance(value, int) or not low <= value <= 3000):
                self.fail(f"{path}/{key}", f"must be an integer from {low} to 3000")

    def checkboxes(self, element: Json, path: str) -> None:
        """Checkboxes: 1 to 10 options whose text may be mrkdwn (Block Kit, Checkboxes)."""
        self.keys(
            element,
            path,
            frozenset(
                {"type", "action_id", "options", "initial_options", "confirm", "focus_on_load"}
            ),
        )
        options = element.get("options")
        if not isinstance(options, list) or not 1 <= len(options) <= 10:
            self.fail(f"{path}/options", "must have 1 to 10 items")
            return
        for index, option in enumerate(options):
            item = f"{path}/options/{index}"
            if not isinstance(option, dict):
                self.fail(item, "must be an object")
                continue
            self.keys(option, item, frozenset({"text", "value", "description"}))
            self.text(option.get("text"), f"{item}/text", max_len=MAX_OPTION_TEXT)
            self.string(option.get("value"), f"{item}/value", max_len=MAX_OPTION_VALUE)

    def image_element(self, element: Json, path: str) -> None:
        self.keys(element, path, frozenset({"type", "image_url", "alt_text"}))
        self.string(element.get("image_url"), f"{path}/image_url", max_len=3000)
        self.string(element.get("alt_text"), f"{path}/alt_text", max_len=2000)


_SECTION_KEYS = frozenset({"type", "block_id", "text", "fields", "accessory", "expand"})
_ACTIONS_KEYS = frozenset({"type", "block_id", "elements"})
_CONTEXT_KEYS = frozenset({"type", "block_id", "elements"})
_BUTTON_KEYS = frozenset(
    {"type", "text", "action_id", "url", "value", "style", "confirm", "accessibility_label"}
)
_STATIC_SELECT_KEYS = frozenset(
    {
        "type",
        "action_id",
        "placeholder",
        "options",
        "option_groups",
        "initial_option",
        "confirm",
        "focus_on_load",
    }
)
_EXTERNAL_SELECT_KEYS = frozenset(
    {
        "type",
        "action_id",
        "placeholder",
        "initial_option",
        "min_query_length",
        "confirm",
        "focus_on_load",
    }
)
_MULTI_EXTERNAL_SELECT_KEYS = (_EXTERNAL_SELECT_KEYS - {"initial_option"}) | {
    "initial_options",
    "max_selected_items",
}
_CONVERSATIONS_SELECT_KEYS = frozenset(
    {
        "type",
        "action_id",
        "placeholder",
        "initial_conversation",
        "initial_channel",
        "default_to_current_conversation",
        "confirm",
        "response_url_enabled",
        "filter",
        "focus_on_load",
    }
)
_USERS_SELECT_KEYS = frozenset(
    {"type", "action_id", "placeholder", "initial_user", "confirm", "focus_on_load"}
)
_PLAIN_TEXT_INPUT_KEYS = frozenset(
    {
        "type",
        "action_id",
        "placeholder",
        "initial_value",
        "multiline",
        "min_length",
        "max_length",
        "dispatch_action_config",
        "focus_on_load",
    }
)

_BLOCKS: dict[str, Callable[[_BlockKitChecker, Json, str], None]] = {
    "section": _BlockKitChecker.section,
    "actions": _BlockKitChecker.actions,
    "context": _BlockKitChecker.context,
    "divider": _BlockKitChecker.divider,
    "header": _BlockKitChecker.header,
    "image": _BlockKitChecker.image,
    "rich_text": _BlockKitChecker.rich_text,
    "markdown": _BlockKitChecker.markdown,
    "input": _BlockKitChecker.input,
}


def block_kit_errors(
    blocks: object, *, surface: Literal["message", "modal"] = "message"
) -> list[str]:
    """Every Block Kit limit the blocks break, in Slack's ``[json-pointer:…]`` words."""
    checker = _BlockKitChecker(surface)
    checker.blocks(blocks)
    return checker.errors


def message_errors(body: Mapping[str, Any]) -> tuple[str, list[str]] | None:
    """Why Slack would refuse a message body: ``(error code, details)``, or None."""
    text = body.get("text")
    blocks = body.get("blocks")
    attachments = body.get("attachments")
    if text is not None and not isinstance(text, str):
        return "invalid_arguments", ["text must be a string"]
    if not text and not blocks and not attachments:
        return "no_text", []
    if isinstance(text, str) and len(text) > MAX_MESSAGE_TEXT:
        return "msg_too_long", []
    if attachments is not None:
        if not isinstance(attachments, list):
            return "invalid_attachments", []
        if len(attachments) > MAX_ATTACHMENTS:
            return "too_many_attachments", []
    if blocks is not None:
        errors = block_kit_errors(blocks)
        if errors:
            return "invalid_blocks", errors
    return None


def modal_errors(view: object) -> list[str]:
    """Why ``views.open`` would refuse a view (an empty list when it is valid)."""
    checker = _BlockKitChecker("modal")
    if not isinstance(view, dict):
        return ["must be an object [json-pointer:/view]"]
    checker.keys(view, "/view", _VIEW_KEYS)
    if view.get("type") != "modal":
        checker.fail("/view/type", "must be modal")
    checker.text(view.get("title"), "/view/title", max_len=MAX_MODAL_TITLE, plain_only=True)
    for key in ("submit", "close"):
        if key in view:
            checker.text(view[key], f"/view/{key}", max_len=MAX_MODAL_TITLE, plain_only=True)
    if "callback_id" in view:
        checker.string(view["callback_id"], "/view/callback_id", max_len=MAX_CALLBACK_ID)
    if "private_metadata" in view:
        checker.string(
            view["private_metadata"],
            "/view/private_metadata",
            max_len=MAX_PRIVATE_METADATA,
            min_len=0,
        )
    blocks = view.get("blocks")
    checker.blocks(blocks, "/view/blocks")
    has_inputs = isinstance(blocks, list) and any(
        isinstance(block, dict) and block.get("type") == "input" for block in blocks
    )
    if has_inputs and "submit" not in view:
        checker.fail("/view/submit", "submit is required when a view has input blocks")
    return checker.errors


def options_answer_errors(answer: object) -> list[str]:
    """Why Slack would show no options for an answer to a ``block_suggestion``: it must
    hold ``options`` or ``option_groups`` (not both), at most 100 (docs/slack.md,
    External selects), each a valid option. An empty list is a valid "nothing found"."""
    checker = _BlockKitChecker("modal")
    if not isinstance(answer, dict):
        return ["must be an object [json-pointer:/]"]
    if ("options" in answer) == ("option_groups" in answer):
        checker.fail("/", "must provide exactly one of options or option_groups")
    options = answer.get("options", [])
    if not isinstance(options, list) or len(options) > MAX_SELECT_OPTIONS:
        checker.fail("/options", f"must be an array of at most {MAX_SELECT_OPTIONS} options")
    elif options:
        checker.options(options, "/options", max_items=MAX_SELECT_OPTIONS)
    groups = answer.get("option_groups", [])
    if not isinstance(groups, list) or len(groups) > MAX_SELECT_OPTIONS:
        checker.fail("/option_groups", f"must be an array of at most {MAX_SELECT_OPTIONS} groups")
    return checker.errors


def block_suggestion_payload(
    *,
    action_id: str,
    block_id: str,
    value: str,
    user: Json,
    view: Json | None = None,
) -> Json:
    """What Slack sends when a person types in an external select (docs/slack.md,
    External selects): the typed ``value``, the element's IDs and, in a modal, the view."""
    payload: Json = {
        "type": "block_suggestion",
        "user": user,
        "container": {"type": "view", "view_id": (view or {}).get("id", "V0PICKER")},
        "api_app_id": APP_ID,
        "token": "Shh_its_a_seekrit",
        "action_id": action_id,
        "block_id": block_id,
        "value": value,
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
    }
    if view is not None:
        payload["view"] = view
    return payload


def home_errors(view: object) -> list[str]:
    """Why ``views.publish`` would refuse a Home tab view (empty when it is valid)."""
    checker = _BlockKitChecker("modal")  # a Home tab holds up to 100 blocks, as a modal
    if not isinstance(view, dict):
        return ["must be an object [json-pointer:/view]"]
    checker.keys(view, "/view", _HOME_VIEW_KEYS)
    if view.get("type") != "home":
        checker.fail("/view/type", "must be home")
    if "callback_id" in view:
        checker.string(view["callback_id"], "/view/callback_id", max_len=MAX_CALLBACK_ID)
    if "private_metadata" in view:
        checker.string(
            view["private_metadata"],
            "/view/private_metadata",
            max_len=MAX_PRIVATE_METADATA,
            min_len=0,
        )
    checker.blocks(view.get("blocks"), "/view/blocks")
    return checker.errors


_HOME_VIEW_KEYS = frozenset({"type", "blocks", "private_metadata", "callback_id", "external_id"})

_VIEW_KEYS = frozenset(
    {
        "type",
        "title",
        "blocks",
        "close",
        "submit",
        "private_metadata",
        "callback_id",
        "clear_on_close",
        "notify_on_close",
        "external_id",
        "submit_disabled",
    }
)


def iter_elements(blocks: Sequence[Json]) -> Iterator[tuple[Json, Json]]:
    """Every interactive element of a message or view, with the block it sits in."""
    for block in blocks:
        if block.get("type") == "actions":
            for element in block.get("elements", []):
                yield block, element
        elif block.get("type") in ("section", "input"):
            for key in ("accessory", "element"):
                if isinstance(block.get(key), dict):
                    yield block, block[key]


# ---------------------------------------------------------------------------- records


@dataclass
class FakeInstall:
    """One installation of the app, as Slack keeps it: a workspace (``team_id``), or an
    Enterprise Grid org (``enterprise_id``, ``org_wide``: no workspace of its own, its
    people in ``member_team``). Tokens are issued when the install completes."""

    team_id: str | None
    installer: str
    enterprise_id: str | None = None
    org_wide: bool = False
    team_name: str = "A workspace"
    member_team: str = "T0ORGWS01"
    bot_user_id: str = BOT_USER_ID
    bot_id: str = BOT_ID
    # A rotating token's life (docs/slack.md, Installing in several workspaces).
    lifetime: float = 12 * 3600.0
    bot_token: str = ""
    refresh_token: str | None = None
    expires_at: float | None = None
    refreshed: int = 0

    @property
    def tenant(self) -> str:
        return (self.enterprise_id if self.org_wide else self.team_id) or "none"


@dataclass(frozen=True)
class ApiCall:
    """One Web API request as the fake received and answered it."""

    method: str
    args: Json
    token: str | None
    content_type: str
    status: int
    response: Json
    # The client's end of the TCP connection the call came over ("host:port"): calls
    # that share one came over the same keep-alive connection.
    connection: str = ""

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        error = self.response.get("error")
        return error if isinstance(error, str) else None


@dataclass
class Message:
    """A message a user can see, as Slack would show it."""

    id: str
    channel: str
    ts: str
    ephemeral: bool
    user: str | None  # who sees an ephemeral message
    body: Json
    source: str  # "response_url", "chat.postMessage", "chat.postEphemeral"
    deleted: bool = False
    history: list[Json] = field(default_factory=list)  # earlier bodies, oldest first

    @property
    def text(self) -> str:
        return str(self.body.get("text") or "")

    @property
    def blocks(self) -> list[Json]:
        blocks = self.body.get("blocks")
        return list(blocks) if isinstance(blocks, list) else []

    @property
    def in_channel(self) -> bool:
        return not self.ephemeral

    def elements(self) -> list[Json]:
        return [element for _, element in iter_elements(self.blocks)]

    def element(self, action_id: str) -> Json:
        """The element with this ``action_id`` (AssertionError naming the ones there are)."""
        for element in self.elements():
            if element.get("action_id") == action_id:
                return element
        present = [str(element.get("action_id")) for element in self.elements()]
        raise AssertionError(f"no element {action_id!r} in the message; it has {present}")

    def block_of(self, action_id: str) -> Json:
        for block, element in iter_elements(self.blocks):
            if element.get("action_id") == action_id:
                return block
        raise AssertionError(f"no element {action_id!r} in the message")

    def action_ids(self) -> list[str]:
        return [str(element.get("action_id")) for element in self.elements()]

    def button_urls(self) -> list[str]:
        return [
            str(element["url"])
            for element in self.elements()
            if element.get("type") == "button" and "url" in element
        ]

    def all_text(self) -> str:
        """The message's text and every text in its blocks, for searching."""
        return self.text + "\n" + "\n".join(_texts(self.blocks))


def _texts(value: object) -> Iterator[str]:
    if isinstance(value, dict):
        if isinstance(value.get("text"), str):
            yield value["text"]
        for key, item in value.items():
            if key != "text" or not isinstance(item, str):
                yield from _texts(item)
    elif isinstance(value, list):
        for item in value:
            yield from _texts(item)


@dataclass(frozen=True)
class ResponsePost:
    """One POST to a response_url and the fake's answer."""

    url_id: str
    body: Json
    status: int
    answer: str
    message_id: str | None
    at: float

    @property
    def accepted(self) -> bool:
        return self.status == 200


@dataclass
class ResponseUrl:
    id: str
    url: str
    channel: str
    user: str
    message_id: str | None  # the message holding the clicked button, if any
    created: float
    uses: int = 0
    fail_status: int | None = None
    fail_answer: str = ""
    posts: list[ResponsePost] = field(default_factory=list)


@dataclass(frozen=True)
class Unfurl:
    """One accepted ``chat.unfurl``: its target and the blocks per URL."""

    channel: str | None
    ts: str | None
    unfurl_id: str | None
    source: str | None
    unfurls: dict[str, Json]

    def blocks(self, url: str) -> list[Json]:
        return list(self.unfurls[url]["blocks"])


@dataclass
class SocketEnvelope:
    envelope_id: str
    type: str
    payload: Json
    accepts_response_payload: bool
    sent: bool = False
    ack: Json | None = None
    acked: bool = False


@dataclass
class FunctionExecution:
    """One run of a workflow step (``function_executed``) and how the app ended it."""

    id: str  # function_execution_id
    callback_id: str
    token: str  # the event's bot_access_token
    # Declared output parameters (name -> {"type", "is_required"}), checked on success.
    outputs_schema: Mapping[str, Json] = field(default_factory=dict)
    state: Literal["running", "completed", "failed"] = "running"
    outputs: Json | None = None
    error: str | None = None
    ended_by: str | None = None  # the token that ended it


@dataclass
class _Injected:
    error: str
    status: int
    retry_after: int | None
    times: int
    extra: Json


# ---------------------------------------------------------------------------- the fake


class FakeSlack:
    """Loopback Slack; use as a context manager (or ``start()`` / ``stop()``)."""

    def __init__(
        self,
        *,
        bot_token: str = BOT_TOKEN,
        app_token: str = APP_TOKEN,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        team_id: str = TEAM_ID,
    ) -> None:
        self.bot_token = bot_token
        self.app_token = app_token
        self.scopes = tuple(scopes)
        self.team_id = team_id
        # Channels the bot is a member of, for chat.postEphemeral / chat.postMessage
        # to channels (None: a member everywhere). Direct messages to a user ID always work.
        self.bot_channels: set[str] | None = None
        # Tokens Slack no longer accepts (app uninstalled, token revoked): every call
        # made with one answers ``token_revoked``. Any other unknown token is ``invalid_auth``.
        self.revoked_tokens: set[str] = set()
        # users.info: people set up with ``add_user``; anyone else is an ordinary member
        # of this workspace, except IDs in ``unknown_users`` (user_not_found).
        self.users: dict[str, Json] = {}
        self.unknown_users: set[str] = set()
        # usergroups.users.list: group ID → member IDs (``set_usergroup``).
        self.usergroups: dict[str, list[str]] = {}
        # features.app_home.home_tab_enabled: without it views.publish answers not_enabled.
        self.home_tab_enabled = True
        # Web API method → seconds it takes to answer (a slow Slack).
        self.delays: dict[str, float] = {}
        # OAuth (several workspaces, ``enable_oauth``): installs by bot token, the codes
        # handed to the app's redirect, refresh tokens; ``_serving`` is the install whose
        # token the call being answered carries (auth.test, users.info answer for it).
        self.client_id: str | None = None
        self.client_secret: str | None = None
        self.token_rotation = False
        self.oauth_redirect_url: str | None = None
        self.installs: dict[str, FakeInstall] = {}
        self.next_install: FakeInstall | None = None
        self.authorize_requests: list[Json] = []
        self._codes: dict[str, FakeInstall] = {}
        self._refresh_tokens: dict[str, FakeInstall] = {}
        self._serving: FakeInstall | None = None
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._clock_offset = 0.0
        self._calls: list[ApiCall] = []
        self._stray_posts: list[ResponsePost] = []  # to URLs the fake never issued
        self._injected: dict[str, list[_Injected]] = {}
        self._response_urls: dict[str, ResponseUrl] = {}
        self._messages: dict[str, Message] = {}
        self._views: dict[str, Json] = {}
        self.view_updates: list[Json] = []  # views.update: each view as it became, in order
        self._published: list[tuple[str, Json]] = []  # views.publish: (user, view), in order
        self._executions: dict[str, FunctionExecution] = {}  # workflow steps, by ID

        # link_shared events sent (link_shared_event): target → the URLs it may unfurl.
        self._shared_links: dict[tuple[str, str], set[str]] = {}
        self._unfurl_ids: dict[str, tuple[str, str]] = {}  # unfurl_id → its target
        self._unfurls: list[Unfurl] = []
        self._triggers: dict[str, float] = {}
        self._used_triggers: set[str] = set()
        self._tickets: set[str] = set()
        self._envelopes: dict[str, SocketEnvelope] = {}
        self._socket_connections = 0
        self._sockets: list[web.WebSocketResponse] = []
        self._socket_wakeup: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- lifecycle

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def start(self) -> None:
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._serve())
            except BaseException as error:  # reported to start()
                failure.append(error)
                started.set()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(self._shutdown())
            loop.close()

        self._thread = threading.Thread(target=run, name="fake-slack", daemon=True)
        self._thread.start()
        if not started.wait(10) or failure:
            raise RuntimeError(f"FakeSlack did not start: {failure!r}")

    def stop(self) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if loop.is_running():
            loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._loop = None
        self._thread = None

    async def _serve(self) -> None:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        app.router.add_post("/api/{method}", self._web_api)
        app.router.add_get("/api/{method}", self._web_api)  # slack_sdk GETs users.info
        app.router.add_post("/response/{url_id}", self._response_url)
        app.router.add_get("/socket", self._socket)
        app.router.add_get("/oauth/v2/authorize", self._oauth_authorize)
        self._socket_wakeup = asyncio.Event()
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def _shutdown(self) -> None:
        for ws in list(self._sockets):
            with contextlib.suppress(Exception):
                await ws.close(code=1001, message=b"fake slack stopping")
        if self._runner is not None:
            await self._runner.cleanup()

    # -- addresses

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """The Web API base URL, for ``SLACK_API_URL`` (ends with a slash)."""
        return f"{self.base_url}/api/"

    # -- clock

    def now(self) -> float:
        return time.time() + self._clock_offset

    def advance_clock(self, seconds: float) -> None:
        """Move the fake's clock (response_url and trigger lifetimes) forward."""
        with self._lock:
            self._clock_offset += seconds

    # -- test set-up

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):08d}"

    def new_ts(self) -> str:
        return f"{int(self.now())}.{next(self._ids):06d}"

    def new_trigger_id(self) -> str:
        """A trigger ID as Slack puts in a payload; valid for one use within 3 seconds."""
        trigger = f"{next(self._ids)}.{int(self.now())}.{uuid.uuid4().hex}"
        with self._lock:
            self._triggers[trigger] = self.now()
        return trigger

    def new_response_url(self, *, channel: str, user: str, message_id: str | None = None) -> str:
        """A fresh response_url; with ``message_id`` it belongs to a click on that message."""
        url_id = uuid.uuid4().hex
        url = f"{self.base_url}/response/{url_id}"
        with self._lock:
            self._response_urls[url_id] = ResponseUrl(
                id=url_id,
                url=url,
                channel=channel,
                user=user,
                message_id=message_id,
                created=self.now(),
            )
        issued_response_urls.append(url)
        return url

    def add_user(
        self,
        user_id: str,
        *,
        guest: bool = False,
        single_channel_guest: bool = False,
        team_id: str | None = None,
        enterprise_id: str | None = None,
        deleted: bool = False,
        admin: bool = False,
        owner: bool = False,
        primary_owner: bool = False,
    ) -> None:
        """A person as users.info describes them (docs/slack.md, Who is asking): a guest
        (``is_restricted``; ``is_ultra_restricted`` too for a single-channel guest), or
        from another workspace or org (Slack Connect) with ``team_id``/``enterprise_id``;
        one of the workspace's admins or owners (``is_admin``, ``is_owner``,
        ``is_primary_owner``: a primary owner is an owner and an admin too)."""
        user: Json = {
            "id": user_id,
            "team_id": team_id or self.team_id,
            "name": user_id.lower(),
            "deleted": deleted,
            "is_bot": False,
            "is_restricted": guest or single_channel_guest,
            "is_ultra_restricted": single_channel_guest,
            "is_admin": admin or owner or primary_owner,
            "is_owner": owner or primary_owner,
            "is_primary_owner": primary_owner,
        }
        if enterprise_id is not None:
            user["enterprise_user"] = {
                "id": user_id,
                "enterprise_id": enterprise_id,
                "enterprise_name": "Another Org",
                "teams": [team_id or self.team_id],
            }
        with self._lock:
            self.users[user_id] = user

    def set_usergroup(self, group_id: str, members: Sequence[str]) -> None:
        with self._lock:
            self.usergroups[group_id] = list(members)

    def break_response_url(
        self, url: str, *, status: int = 404, answer: str = "no_service"
    ) -> None:
        """Make a response_url fail from now on (as a revoked or unknown webhook would)."""
        with self._lock:
            record = self._response_urls[self._url_id(url)]
            record.fail_status = status
            record.fail_answer = answer

    def inject(
        self,
        method: str,
        error: str,
        *,
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
        **extra: Any,
    ) -> None:
        """The next ``times`` calls of ``method`` fail with ``error``.

        ``error="ratelimited"`` answers HTTP 429 with ``Retry-After`` (default 1 s).
        """
        if error == "ratelimited":
            status = 429
            retry_after = 1 if retry_after is None else retry_after
        with self._lock:
            self._injected.setdefault(method, []).append(
                _Injected(error, status, retry_after, times, dict(extra))
            )

    def new_function_execution(
        self, callback_id: str, *, outputs_schema: Mapping[str, Json] | None = None
    ) -> FunctionExecution:
        """A running workflow step, with its own token, as Slack starts one before it
        sends ``function_executed`` (``function_executed_event`` builds the body)."""
        execution = FunctionExecution(
            id=self.new_id("Fx"),
            callback_id=callback_id,
            token=f"{WORKFLOW_TOKEN_PREFIX}{uuid.uuid4().hex}",
            outputs_schema=dict(outputs_schema or {}),
        )
        with self._lock:
            self._executions[execution.id] = execution
        return execution

    def function_execution(self, execution_id: str) -> FunctionExecution:
        with self._lock:
            return self._executions[execution_id]

    async def wait_for_function_end(
        self, execution_id: str, *, within: float = 5.0
    ) -> FunctionExecution:
        """Wait until the app has completed or failed the step; returns it."""
        await self.wait_until(
            lambda: self.function_execution(execution_id).state != "running",
            within=within,
            what=f"the end of function execution {execution_id}",
        )
        return self.function_execution(execution_id)

    # -- observations

    @property
    def calls(self) -> list[ApiCall]:
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[ApiCall]:
        return [call for call in self.calls if call.method == method]

    def response_url(self, url: str) -> ResponseUrl:
        with self._lock:
            return self._response_urls[self._url_id(url)]

    def posts(self, url: str | None = None) -> list[ResponsePost]:
        """POSTs to one response_url (or to all, and to unknown ones), in arrival order."""
        with self._lock:
            if url is not None:
                return list(self._response_urls[self._url_id(url)].posts)
            posts = [post for record in self._response_urls.values() for post in record.posts]
            posts += self._stray_posts
        return sorted(posts, key=lambda post: post.at)

    def messages(
        self,
        *,
        user: str | None = None,
        channel: str | None = None,
        include_deleted: bool = False,
    ) -> list[Message]:
        """Messages in creation order; ``user`` keeps what that user can see."""
        with self._lock:
            found = list(self._messages.values())
        return [
            message
            for message in found
            if (include_deleted or not message.deleted)
            and (channel is None or message.channel == channel)
            and (user is None or not message.ephemeral or message.user == user)
        ]

    def message(self, message_id: str) -> Message:
        with self._lock:
            return self._messages[message_id]

    def view(self, view_id: str) -> Json:
        with self._lock:
            return self._views[view_id]

    def views(self) -> list[Json]:
        with self._lock:
            return list(self._views.values())

    def published_views(self, user: str | None = None) -> list[Json]:
        """Home tab views published (for ``user``, or anyone's), oldest first."""
        with self._lock:
            return [view for owner, view in self._published if user is None or owner == user]

    def home_view(self, user: str) -> Json | None:
        """The Home tab ``user`` sees now: the last view published for them."""
        views = self.published_views(user)
        return views[-1] if views else None

    async def wait_until(
        self, condition: Callable[[], bool], *, within: float = 5.0, what: str = "condition"
    ) -> None:
        """Poll ``condition`` from the test's loop until true; fail after ``within`` seconds."""
        deadline = time.monotonic() + within
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {within} s waiting for {what}")
            await asyncio.sleep(0.01)

    def wait_until_sync(
        self, condition: Callable[[], bool], *, within: float = 5.0, what: str = "condition"
    ) -> None:
        deadline = time.monotonic() + within
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {within} s waiting for {what}")
            time.sleep(0.01)

    async def wait_for_posts(
        self, url: str, count: int = 1, *, within: float = 5.0
    ) -> list[ResponsePost]:
        """Wait until ``url`` has received ``count`` POSTs; returns them all."""
        await self.wait_until(
            lambda: len(self.posts(url)) >= count,
            within=within,
            what=f"{count} post(s) to the response_url",
        )
        return self.posts(url)

    async def wait_for_calls(
        self, method: str, count: int = 1, *, within: float = 5.0
    ) -> list[ApiCall]:
        await self.wait_until(
            lambda: len(self.calls_to(method)) >= count,
            within=within,
            what=f"{count} call(s) to {method}",
        )
        return self.calls_to(method)

    # -- Socket Mode (test side)

    def send_envelope(
        self, type_: str, payload: Json, *, accepts_response_payload: bool | None = None
    ) -> str:
        """Queue an envelope for the app's WebSocket; returns its ``envelope_id``."""
        envelope = SocketEnvelope(
            envelope_id=str(uuid.uuid4()),
            type=type_,
            payload=payload,
            accepts_response_payload=(
                type_ in ("slash_commands", "interactive")
                if accepts_response_payload is None
                else accepts_response_payload
            ),
        )
        with self._lock:
            self._envelopes[envelope.envelope_id] = envelope
        loop, wakeup = self._loop, self._socket_wakeup
        if loop is not None and wakeup is not None:
            loop.call_soon_threadsafe(wakeup.set)
        return envelope.envelope_id

    def envelope(self, envelope_id: str) -> SocketEnvelope:
        with self._lock:
            return self._envelopes[envelope_id]

    @property
    def socket_connections(self) -> int:
        with self._lock:
            return self._socket_connections

    async def wait_for_ack(self, envelope_id: str, *, within: float = 5.0) -> SocketEnvelope:
        await self.wait_until(
            lambda: self.envelope(envelope_id).acked,
            within=within,
            what=f"the ack of envelope {envelope_id}",
        )
        return self.envelope(envelope_id)

    # -- Web API

    async def _web_api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        content_type = request.content_type
        delay = self.delays.get(method, 0.0)
        if delay:
            await asyncio.sleep(delay)
        args, problem = await self._read_args(request)
        if method == "oauth.v2.access" and problem is None:
            response = self._oauth_v2_access(request, args)
            with self._lock:
                self._calls.append(
                    ApiCall(method, args, None, content_type, 200, response, _peer(request))
                )
            return web.json_response(response)
        token = self._token(request, args)
        status, response = 200, {"ok": False, "error": problem}
        headers: dict[str, str] = {}
        if problem is None:
            with self._lock:
                self._serving = self.installs.get(token or "")
            try:
                status, response, headers = self._answer(method, args, token)
            finally:
                self._serving = None
        with self._lock:
            self._calls.append(
                ApiCall(method, args, token, content_type, status, response, _peer(request))
            )
        return web.json_response(response, status=status, headers=headers)

    async def _read_args(self, request: web.Request) -> tuple[Json, str | None]:
        args: Json = dict(request.query)
        raw = await request.text()
        if not raw:
            return args, None
        if request.content_type == "application/json":
            try:
                body = json.loads(raw)
            except ValueError:
                return args, "invalid_json"
            if not isinstance(body, dict):
                return args, "invalid_json"
            args.update(body)
        elif request.content_type == "application/x-www-form-urlencoded":
            args.update(parse_qsl(raw, keep_blank_values=True))
        else:
            return args, "invalid_post_type"
        # Form bodies carry JSON arguments as strings.
        for key in ("blocks", "attachments", "view"):
            if isinstance(args.get(key), str):
                try:
                    args[key] = json.loads(args[key])
                except ValueError:
                    return args, "invalid_blocks_format" if key == "blocks" else "invalid_arguments"
        return args, None

    @staticmethod
    def _token(request: web.Request, args: Json) -> str | None:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            return header.removeprefix("Bearer ").strip()
        token = args.pop("token", None)
        return token if isinstance(token, str) else None

    def _answer(
        self, method: str, args: Json, token: str | None
    ) -> tuple[int, Json, dict[str, str]]:
        if not token:
            return 200, {"ok": False, "error": "not_authed"}, {}
        if token in self.revoked_tokens:
            return 200, {"ok": False, "error": "token_revoked"}, {}
        if method in _FUNCTION_METHODS:
            injected = self._take_injected(method)
            if injected is not None:
                return injected.status, {"ok": False, "error": injected.error}, {}
            return 200, self._end_function(method, args, token), {}
        install = self._serving
        if (
            install is not None
            and install.expires_at is not None
            and self.now() >= install.expires_at
        ):
            return 200, {"ok": False, "error": "token_expired"}, {}
        if token not in (self.bot_token, self.app_token) and install is None:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        wants_app_token = method in _APP_TOKEN_METHODS
        if (token == self.app_token) != wants_app_token:
            return 200, {"ok": False, "error": "not_allowed_token_type"}, {}
        needed = _METHOD_SCOPES.get(method, ())
        if needed and not set(needed) & set(self.scopes):
            return 200, _missing_scope(needed, self.scopes), {}
        injected = self._take_injected(method)
        if injected is not None:
            headers = {}
            if injected.retry_after is not None:
                headers["Retry-After"] = str(injected.retry_after)
            return (
                injected.status,
                {"ok": False, "error": injected.error, **injected.extra},
                headers,
            )
        handler = _HANDLERS.get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method"}, {}
        headers = (
            {"x-oauth-scopes": ",".join(self.scopes)}
            if token == self.bot_token or install is not None
            else {}
        )
        return 200, handler(self, args), headers

    def _take_injected(self, method: str) -> _Injected | None:
        with self._lock:
            queue = self._injected.get(method)
            if not queue:
                return None
            injected = queue[0]
            injected.times -= 1
            if injected.times <= 0:
                queue.pop(0)
            return injected

    def _auth_test(self, _: Json) -> Json:
        install = self._serving
        if install is not None:
            # The token's own workspace (org-wide: the org, no workspace); docs/slack.md,
            # Enterprise Grid.
            return {
                "ok": True,
                "url": f"https://{(install.team_id or install.enterprise_id or '').lower()}"
                ".slack.com/",
                "team": install.team_name,
                "user": "medialink",
                "team_id": install.team_id or install.enterprise_id,
                "user_id": install.bot_user_id,
                "bot_id": install.bot_id,
                "enterprise_id": install.enterprise_id,
                "is_enterprise_install": install.org_wide,
            }
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "MediaLink Test",
            "user": "medialink",
            "team_id": self.team_id,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _users_info(self, args: Json) -> Json:
        user_id = str(args.get("user") or "")
        if not user_id:
            return {"ok": False, "error": "invalid_arguments"}
        with self._lock:
            if user_id in self.unknown_users:
                return {"ok": False, "error": "user_not_found"}
            user = self.users.get(user_id)
        if user is None:
            user = {
                "id": user_id,
                "team_id": self._serving_team(),
                "name": user_id.lower(),
                "deleted": False,
                "is_bot": False,
                "is_restricted": False,
                "is_ultra_restricted": False,
                "is_admin": False,
                "is_owner": False,
                "is_primary_owner": False,
            }
        install = self._serving
        if install is not None and install.enterprise_id is not None and user_id not in self.users:
            user = {
                **user,
                "enterprise_user": {
                    "id": user_id,
                    "enterprise_id": install.enterprise_id,
                    "enterprise_name": "The Org",
                    "teams": [user["team_id"]],
                },
            }
        return {"ok": True, "user": user}

    def _serving_team(self) -> str:
        """The workspace of the token being served: an org-wide install's people belong to
        one of the org's workspaces (``FakeInstall.member_team``)."""
        install = self._serving
        if install is None:
            return self.team_id
        return install.team_id or install.member_team

    # -- OAuth (several workspaces)

    def enable_oauth(self, client_id: str, client_secret: str, *, rotation: bool = False) -> None:
        """The app's credentials (Basic Information), and whether token rotation is on."""
        self.client_id, self.client_secret, self.token_rotation = client_id, client_secret, rotation

    def install_next(self, install: FakeInstall) -> None:
        """Who approves the next trip through the authorize page, for which workspace."""
        self.next_install = install

    def uninstall(self, install: FakeInstall) -> None:
        """Slack's side of an uninstall: the install's tokens stop working."""
        with self._lock:
            self.revoked_tokens.add(install.bot_token)
            self.installs.pop(install.bot_token, None)

    async def _oauth_authorize(self, request: web.Request) -> web.Response:
        """``slack.com/oauth/v2/authorize``: the installer approves (``next_install``) and
        the browser is sent to the app's redirect URL with a one-time code and the state."""
        query = dict(request.query)
        with self._lock:
            self.authorize_requests.append(query)
            install, self.next_install = self.next_install, None
        if query.get("client_id") != self.client_id or install is None:
            return web.Response(status=400, text="invalid client_id or nobody to install")
        redirect = query.get("redirect_uri") or self.oauth_redirect_url
        if not redirect:
            return web.Response(status=400, text="no redirect URL configured")
        code = uuid.uuid4().hex
        issued_secrets.append(code)
        with self._lock:
            self._codes[code] = install
        state = query.get("state", "")
        location = f"{redirect}?code={code}&state={state}"
        return web.Response(status=302, headers={"Location": location})

    def _oauth_v2_access(self, request: web.Request, args: Json) -> Json:
        """``oauth.v2.access``: a code for an install, or (rotation) a refresh token for a
        new access token. The client's credentials come as HTTP Basic or in the body."""
        client_id, client_secret = args.get("client_id"), args.get("client_secret")
        header = request.headers.get("Authorization", "")
        if header.startswith("Basic "):
            try:
                decoded = base64.b64decode(header.removeprefix("Basic ")).decode()
            except ValueError:
                return {"ok": False, "error": "invalid_client_id"}
            client_id, _, client_secret = decoded.partition(":")
        if client_id != self.client_id:
            return {"ok": False, "error": "invalid_client_id"}
        if client_secret != self.client_secret:
            return {"ok": False, "error": "bad_client_secret"}
        if args.get("grant_type") == "refresh_token":
            return self._refresh(str(args.get("refresh_token") or ""))
        with self._lock:
            install = self._codes.pop(str(args.get("code") or ""), None)
        if install is None:
            return {"ok": False, "error": "invalid_code"}
        self._issue(install)
        answer: Json = {
            "ok": True,
            "access_token": install.bot_token,
            "token_type": "bot",
            "scope": ",".join(self.scopes),
            "bot_user_id": install.bot_user_id,
            "app_id": APP_ID,
            "team": None
            if install.org_wide
            else {"id": install.team_id, "name": install.team_name},
            "enterprise": (
                {"id": install.enterprise_id, "name": "The Org"} if install.enterprise_id else None
            ),
            "is_enterprise_install": install.org_wide,
            "authed_user": {"id": install.installer},
        }
        if install.refresh_token is not None:
            answer["refresh_token"] = install.refresh_token
            answer["expires_in"] = int((install.expires_at or self.now()) - self.now())
        return answer

    def _issue(self, install: FakeInstall) -> None:
        """A fresh bot token for ``install`` (and, with rotation, a refresh token)."""
        with self._lock:
            self.installs.pop(install.bot_token, None)
            install.bot_token = f"xoxb-{install.tenant}-{uuid.uuid4().hex[:12]}"
            issued_secrets.append(install.bot_token)
            if self.token_rotation:
                install.refresh_token = f"xoxe-1-{uuid.uuid4().hex}"
                issued_secrets.append(install.refresh_token)
                install.expires_at = self.now() + install.lifetime
                self._refresh_tokens[install.refresh_token] = install
            self.installs[install.bot_token] = install

    def _refresh(self, refresh_token: str) -> Json:
        with self._lock:
            install = self._refresh_tokens.pop(refresh_token, None)
        if install is None:
            return {"ok": False, "error": "invalid_refresh_token"}
        old = install.bot_token
        self._issue(install)
        with self._lock:
            self.revoked_tokens.add(old)
            install.refreshed += 1
        return {
            "ok": True,
            "access_token": install.bot_token,
            "token_type": "bot",
            "refresh_token": install.refresh_token,
            "expires_in": install.lifetime,
            "scope": ",".join(self.scopes),
        }

    def expire_tokens(self, install: FakeInstall) -> None:
        """Let the install's access token run out now (token rotation)."""
        with self._lock:
            install.expires_at = self.now()

    def _usergroups_users_list(self, args: Json) -> Json:
        group = str(args.get("usergroup") or "")
        with self._lock:
            members = self.usergroups.get(group)
        if members is None:
            return {"ok": False, "error": "no_such_subteam"}
        return {"ok": True, "users": list(members)}

    def _is_member(self, channel: str) -> bool:
        return self.bot_channels is None or channel in self.bot_channels

    def _post_message(self, args: Json) -> Json:
        channel = args.get("channel")
        if not isinstance(channel, str) or not channel:
            return {"ok": False, "error": "channel_not_found"}
        refused = message_errors(args)
        if refused is not None:
            return _refusal(*refused)
        if channel[:1] in ("U", "W"):
            # A user ID posts into the app's DM with that user (chat:write is enough).
            channel = "D" + channel[1:]
        elif not self._is_member(channel):
            return {"ok": False, "error": "not_in_channel"}
        message = self._add_message(
            channel=channel, ephemeral=False, user=None, body=args, source="chat.postMessage"
        )
        return {
            "ok": True,
            "channel": channel,
            "ts": message.ts,
            "message": {"type": "message", "bot_id": BOT_ID, "ts": message.ts, **_content(args)},
        }

    def _post_ephemeral(self, args: Json) -> Json:
        channel, user = args.get("channel"), args.get("user")
        if not isinstance(channel, str) or not channel:
            return {"ok": False, "error": "channel_not_found"}
        if not isinstance(user, str) or not user:
            return {"ok": False, "error": "user_not_in_channel"}
        refused = message_errors(args)
        if refused is not None:
            return _refusal(*refused)
        if not self._is_member(channel):
            # What Slack answers for a DM or private channel the bot is not in.
            return {"ok": False, "error": "channel_not_found"}
        message = self._add_message(
            channel=channel, ephemeral=True, user=user, body=args, source="chat.postEphemeral"
        )
        return {"ok": True, "message_ts": message.ts}

    def _conversations_open(self, args: Json) -> Json:
        users = str(args.get("users") or "")
        if not users:
            return {"ok": False, "error": "users_list_not_supplied"}
        first = users.split(",", maxsplit=1)[0]
        return {"ok": True, "channel": {"id": "D" + first[1:]}}

    def _views_open(self, args: Json) -> Json:
        trigger = args.get("trigger_id")
        with self._lock:
            issued = self._triggers.get(trigger) if isinstance(trigger, str) else None
            used = trigger in self._used_triggers
            if issued is not None:
                self._used_triggers.add(str(trigger))
        # views.open documents one error for a bad trigger, with the reason in messages.
        if issued is None:
            return _invalid_arguments(["invalid `trigger_id`"])
        if used:
            return _invalid_arguments(["invalid `trigger_id`: trigger_exchanged"])
        if self.now() - issued > TRIGGER_LIFETIME:
            return _invalid_arguments(["invalid `trigger_id`: trigger_expired"])
        view = args.get("view")
        errors = modal_errors(view)
        if errors:
            return _invalid_arguments(errors)
        assert isinstance(view, dict)
        view_id = self.new_id("V")
        opened: Json = {
            "id": view_id,
            "team_id": self.team_id,
            "type": "modal",
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "state": {"values": {}},
            "hash": f"{int(self.now())}.{uuid.uuid4().hex[:8]}",
            "clear_on_close": False,
            "notify_on_close": False,
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            **view,
        }
        with self._lock:
            self._views[view_id] = opened
        return {"ok": True, "view": opened}

    def _views_update(self, args: Json) -> Json:
        """views.update by ``view_id`` (docs/slack.md, Updating a modal): the view must have been
        opened here; ``hash``, when given, must be the current one."""
        view_id = args.get("view_id")
        with self._lock:
            current = self._views.get(view_id) if isinstance(view_id, str) else None
        if current is None:
            return {"ok": False, "error": "not_found"}
        given_hash = args.get("hash")
        if given_hash is not None and given_hash != current.get("hash"):
            return {"ok": False, "error": "hash_conflict"}
        view = args.get("view")
        errors = modal_errors(view)
        if errors:
            return _invalid_arguments(errors)
        assert isinstance(view, dict)
        updated: Json = {
            **current,
            "private_metadata": "",
            "callback_id": "",
            **view,
            "id": current["id"],
            "hash": f"{int(self.now())}.{uuid.uuid4().hex[:8]}",
            "state": {"values": {}},
        }
        with self._lock:
            self._views[str(view_id)] = updated
            self.view_updates.append(updated)
        return {"ok": True, "view": updated}

    def _views_publish(self, args: Json) -> Json:
        user = args.get("user_id")
        if not isinstance(user, str) or not user:
            return _invalid_arguments(["missing required field: user_id"])
        if not self.home_tab_enabled:
            return {"ok": False, "error": "not_enabled"}
        view = args.get("view")
        errors = home_errors(view)
        if errors:
            return _invalid_arguments(errors)
        assert isinstance(view, dict)
        view_id = self.new_id("V")
        published: Json = {
            "id": view_id,
            "team_id": self.team_id,
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            "state": {"values": {}},
            "hash": f"{int(self.now())}.{uuid.uuid4().hex[:8]}",
            "root_view_id": view_id,
            "app_id": APP_ID,
            "bot_id": BOT_ID,
            **view,
        }
        with self._lock:
            self._views[view_id] = published
            self._published.append((user, published))
        return {"ok": True, "view": published}

    def link_shared_event(
        self,
        urls: Sequence[str],
        *,
        user: str,
        channel: str,
        composer: bool = False,
        ext_shared: bool = False,
        team_id: str | None = None,
    ) -> Json:
        """An Events API body for ``link_shared`` (docs/slack.md, Link unfurls), as Slack
        sends it for a posted message (``channel`` + ``message_ts``) or a message still in
        the composer (``channel_id: COMPOSER``, ``unfurl_id``); ``chat.unfurl`` then
        accepts exactly these URLs for that target."""
        team = team_id or self.team_id
        now = time.time()
        links = [{"domain": urlsplit(url).hostname or "", "url": url} for url in urls]
        event: Json = {"type": "link_shared", "user": user, "links": links}
        if composer:
            unfurl_id = f"{user}-{uuid.uuid4()}"
            event |= {
                "channel_id": "COMPOSER",
                "message_ts": unfurl_id,
                "unfurl_id": unfurl_id,
                "source": "composer",
            }
            target = ("composer", unfurl_id)
        else:
            ts = self.new_ts()
            unfurl_id = f"{channel}.{ts}.{uuid.uuid4().hex}"
            event |= {
                "channel": channel,
                "is_bot_user_member": self._is_member(channel),
                "message_ts": ts,
                "unfurl_id": unfurl_id,
                "source": "conversations_history",
            }
            target = (channel, ts)
        event["event_ts"] = f"{now:.6f}"
        with self._lock:
            self._shared_links[target] = set(urls)
            self._unfurl_ids[unfurl_id] = target
        return event_callback(event, team_id=team, at=now, ext_shared=ext_shared)

    def unfurls(self) -> list[Unfurl]:
        """Every ``chat.unfurl`` the fake accepted, in order."""
        with self._lock:
            return list(self._unfurls)

    def _chat_unfurl(self, args: Json) -> Json:
        """``chat.unfurl`` (docs/slack.md, Link unfurls): one target pair, and ``unfurls``
        a JSON object keyed by URLs of that target's ``link_shared`` event, each with
        valid blocks (rich text is refused there, as Slack documents)."""
        channel, ts = args.get("channel"), args.get("ts")
        unfurl_id, source = args.get("unfurl_id"), args.get("source")
        by_message = channel is not None or ts is not None
        by_id = unfurl_id is not None or source is not None
        if by_message == by_id:
            return _invalid_arguments(["give channel and ts, or unfurl_id and source"])
        if by_message:
            if not (isinstance(channel, str) and channel and isinstance(ts, str) and ts):
                return _invalid_arguments(["channel and ts must be given together"])
            target = (channel, ts)
        else:
            if not (isinstance(unfurl_id, str) and unfurl_id) or source not in (
                "composer",
                "conversations_history",
            ):
                return _invalid_arguments(["unfurl_id and source must be given together"])
            with self._lock:
                target = self._unfurl_ids.get(unfurl_id, ("", ""))
            if (target[0] == "composer") != (source == "composer"):
                return {"ok": False, "error": "cannot_find_message"}
        unfurls = args.get("unfurls")
        if unfurls is None:
            return {"ok": False, "error": "missing_unfurls"}
        if isinstance(unfurls, str):
            try:
                unfurls = json.loads(unfurls)
            except ValueError:
                return {"ok": False, "error": "invalid_unfurls_format"}
        if not isinstance(unfurls, dict) or not unfurls:
            return {"ok": False, "error": "invalid_unfurls_format"}
        with self._lock:
            shared = self._shared_links.get(target)
        if shared is None:
            return {"ok": False, "error": "cannot_find_message"}
        errors: list[str] = []
        for url, unfurl in unfurls.items():
            if url not in shared:
                return {"ok": False, "error": "cannot_unfurl_url"}
            if not isinstance(unfurl, dict) or not isinstance(unfurl.get("blocks"), list):
                return {"ok": False, "error": "invalid_unfurls_format"}
            blocks = unfurl["blocks"]
            errors += [f"{url}: {error}" for error in block_kit_errors(blocks)]
            errors += [
                f"{url}: rich_text is not supported by chat.unfurl"
                for block in blocks
                if isinstance(block, dict) and block.get("type") == "rich_text"
            ]
        if errors:
            return _refusal("invalid_blocks", errors)
        record = Unfurl(
            channel=channel if by_message else None,
            ts=ts if by_message else None,
            unfurl_id=unfurl_id if by_id else None,
            source=source if by_id else None,
            unfurls=unfurls,
        )
        with self._lock:
            self._unfurls.append(record)
        return {"ok": True}

    def _connections_open(self, _: Json) -> Json:
        ticket = uuid.uuid4().hex
        with self._lock:
            self._tickets.add(ticket)
        return {"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket?ticket={ticket}"}

    def _end_function(self, method: str, args: Json, token: str) -> Json:
        """functions.completeSuccess / completeError (docs/slack.md, Workflow steps)."""
        execution_id = args.get("function_execution_id")
        if not isinstance(execution_id, str) or not execution_id:
            return {"ok": False, "error": "invalid_arguments"}
        with self._lock:
            execution = self._executions.get(execution_id)
            if execution is None:
                return {"ok": False, "error": "function_execution_not_found"}
            # The fake's choice: a step's token ends only its own execution.
            if token not in (self.bot_token, execution.token):
                return {"ok": False, "error": "invalid_auth"}
            if execution.state != "running":
                return {"ok": False, "error": "execution_not_in_running_state"}
            if method == "functions.completeError":
                error = args.get("error")
                if not isinstance(error, str) or not error.strip():
                    return {"ok": False, "error": "invalid_arguments"}
                execution.state, execution.error = "failed", error
            else:
                outputs = args.get("outputs")
                if isinstance(outputs, str):  # form-encoded: the object as JSON text
                    try:
                        outputs = json.loads(outputs)
                    except ValueError:
                        return {"ok": False, "error": "invalid_arguments"}
                if not isinstance(outputs, dict):
                    return {"ok": False, "error": "invalid_arguments"}
                problems = _output_problems(outputs, execution.outputs_schema)
                if problems:
                    return {
                        "ok": False,
                        "error": "parameter_validation_failed",
                        "errors": problems,
                    }
                execution.state, execution.outputs = "completed", outputs
            execution.ended_by = token
        return {"ok": True}

    def _add_message(
        self, *, channel: str, ephemeral: bool, user: str | None, body: Json, source: str
    ) -> Message:
        message = Message(
            id=self.new_id("M"),
            channel=channel,
            ts=self.new_ts(),
            ephemeral=ephemeral,
            user=user,
            body=_content(body),
            source=source,
        )
        with self._lock:
            self._messages[message.id] = message
        return message

    # -- response_url

    @staticmethod
    def _url_id(url: str) -> str:
        return url.rstrip("/").rsplit("/", 1)[-1]

    async def _response_url(self, request: web.Request) -> web.Response:
        url_id = request.match_info["url_id"]
        raw = await request.text()
        body: Json = {}
        status, answer, message_id = 200, "ok", None
        live = False
        with self._lock:
            record = self._response_urls.get(url_id)
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            body = parsed
        if record is None:
            status, answer = 404, "no_service"
        elif record.fail_status is not None:
            status, answer = record.fail_status, record.fail_answer
        elif self.now() - record.created > RESPONSE_URL_LIFETIME:
            # Status and body after 30 minutes are UNCONFIRMED (docs/slack.md, response_url).
            status, answer = 404, "expired_url"
        elif record.uses >= RESPONSE_URL_USES:
            # Likewise for the 6th use.
            status, answer = 404, "used_url"
        else:
            # Every post to a live URL spends one of its 5 uses, accepted or not.
            live = True
            if request.content_type != "application/json" or not isinstance(parsed, dict):
                status, answer = 400, "invalid_payload"
            else:
                status, answer, message_id = self._deliver(record, body)
        post = ResponsePost(
            url_id=url_id,
            body=body,
            status=status,
            answer=answer,
            message_id=message_id,
            at=time.monotonic(),
        )
        with self._lock:
            if record is None:
                self._stray_posts.append(post)
            else:
                if live:
                    record.uses += 1
                record.posts.append(post)
        return web.Response(status=status, text=answer, content_type="text/plain")

    def _deliver(self, record: ResponseUrl, body: Json) -> tuple[int, str, str | None]:
        response_type = body.get("response_type", "ephemeral")
        if response_type not in ("ephemeral", "in_channel"):
            return 400, "invalid_payload", None
        with self._lock:
            source = self._messages.get(record.message_id) if record.message_id else None
        has_content = any(body.get(key) for key in ("text", "blocks", "attachments"))
        if body.get("delete_original") is True:
            if source is None:
                # Only a click's response_url can delete (docs/slack.md, response_url).
                return 404, "message_not_found", None
            if not has_content:
                with self._lock:
                    source.deleted = True
                return 200, "ok", source.id
        refused = message_errors(body)
        if refused is not None:
            # Webhook style: a bare 400 with the code, no details (docs/slack.md, Block Kit limits).
            return 400, refused[0], None
        if body.get("delete_original") is True and source is not None:
            with self._lock:
                source.deleted = True  # delete, then post the new message below
        elif body.get("replace_original") is True and source is not None and not source.deleted:
            with self._lock:
                source.history.append(source.body)
                source.body = _content(body)
            return 200, "ok", source.id
        ephemeral = response_type != "in_channel"
        message = self._add_message(
            channel=record.channel,
            ephemeral=ephemeral,
            user=record.user if ephemeral else None,
            body=body,
            source="response_url",
        )
        return 200, "ok", message.id

    # -- Socket Mode (app side)

    async def _socket(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        with self._lock:
            valid = ticket in self._tickets
            self._tickets.discard(ticket)
        if not valid:
            return web.Response(status=401, text="invalid ticket")
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        with self._lock:
            self._socket_connections += 1
            self._sockets.append(ws)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": 1,
                "debug_info": {"host": "applink-fake", "approximate_connection_time": 3600},
                "connection_info": {"app_id": APP_ID},
            }
        )
        sender = asyncio.create_task(self._send_envelopes(ws))
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    self._record_ack(message.data)
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sender
            with self._lock:
                self._sockets.remove(ws)
        return ws

    async def _send_envelopes(self, ws: web.WebSocketResponse) -> None:
        assert self._socket_wakeup is not None
        while not ws.closed:
            with self._lock:
                pending = [env for env in self._envelopes.values() if not env.sent]
                for envelope in pending:
                    envelope.sent = True
            for envelope in pending:
                await ws.send_json(
                    {
                        "envelope_id": envelope.envelope_id,
                        "type": envelope.type,
                        "payload": envelope.payload,
                        "accepts_response_payload": envelope.accepts_response_payload,
                        "retry_attempt": 0,
                        "retry_reason": "",
                    }
                )
            self._socket_wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._socket_wakeup.wait(), 0.2)

    def _record_ack(self, data: str) -> None:
        try:
            ack = json.loads(data)
        except ValueError:
            return
        if not isinstance(ack, dict) or not isinstance(ack.get("envelope_id"), str):
            return
        with self._lock:
            envelope = self._envelopes.get(ack["envelope_id"])
            if envelope is not None:
                envelope.acked = True
                payload = ack.get("payload")
                envelope.ack = payload if isinstance(payload, dict) else None


def _content(body: Mapping[str, Any]) -> Json:
    keep = ("text", "blocks", "attachments", "unfurl_links", "unfurl_media", "response_type")
    return {key: body[key] for key in keep if key in body}


def _refusal(error: str, details: list[str]) -> Json:
    answer: Json = {"ok": False, "error": error}
    if details:
        answer["errors"] = details
        answer["response_metadata"] = {"messages": [f"[ERROR] {detail}" for detail in details]}
    return answer


def _invalid_arguments(messages: list[str]) -> Json:
    return {
        "ok": False,
        "error": "invalid_arguments",
        "response_metadata": {"messages": [f"[ERROR] {message}" for message in messages]},
    }


def _missing_scope(needed: Sequence[str], provided: Sequence[str]) -> Json:
    return {
        "ok": False,
        "error": "missing_scope",
        "needed": ",".join(needed),
        "provided": ",".join(provided),
    }


_HANDLERS: dict[str, Callable[[FakeSlack, Json], Json]] = {
    "auth.test": FakeSlack._auth_test,
    "chat.postMessage": FakeSlack._post_message,
    "chat.postEphemeral": FakeSlack._post_ephemeral,
    "conversations.open": FakeSlack._conversations_open,
    "views.open": FakeSlack._views_open,
    "views.update": FakeSlack._views_update,
    "users.info": FakeSlack._users_info,
    "usergroups.users.list": FakeSlack._usergroups_users_list,
    "views.publish": FakeSlack._views_publish,
    "apps.connections.open": FakeSlack._connections_open,
    "chat.unfurl": FakeSlack._chat_unfurl,
}


def app_home_opened_event(
    user: str, *, tab: str = "home", team_id: str = TEAM_ID, event_id: str | None = None
) -> Json:
    """An Events API body for ``app_home_opened`` (docs/slack.md, App Home): what Slack
    POSTs as JSON in HTTP mode, and the payload of an ``events_api`` envelope."""
    now = time.time()
    event = {
        "type": "app_home_opened",
        "user": user,
        "channel": "D" + user[1:],
        "tab": tab,
        "event_ts": f"{now:.6f}",
    }
    return event_callback(event, team_id=team_id, at=now, event_id=event_id)


def event_callback(
    event: Json,
    *,
    team_id: str | None,
    at: float,
    enterprise_id: str | None = None,
    org_wide: bool = False,
    event_id: str | None = None,
    ext_shared: bool = False,
) -> Json:
    """The Events API envelope around ``event``, for the app's installation in
    ``team_id`` (or org-wide in ``enterprise_id``), sent at ``at`` (epoch seconds)."""
    return {
        "token": "XXYYZZ",
        "team_id": team_id,
        "enterprise_id": enterprise_id,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(at),
        "authorizations": [
            {
                "enterprise_id": enterprise_id,
                "team_id": None if org_wide else team_id,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": org_wide,
            }
        ],
        "is_ext_shared_channel": ext_shared,
    }


def _output_problems(outputs: Json, schema: Mapping[str, Json]) -> list[str]:
    """What Slack would refuse in a step's outputs: a required output missing, an
    undeclared one, or a value of the wrong type (docs/slack.md, Workflow steps)."""
    if not schema:
        return []
    problems = [f"{name}: not declared" for name in outputs if name not in schema]
    for name, declared in schema.items():
        if name not in outputs:
            if declared.get("is_required"):
                problems.append(f"{name}: required")
            continue
        value, kind = outputs[name], declared.get("type")
        if kind == "string" and not isinstance(value, str):
            problems.append(f"{name}: must be a string")
        elif kind == "slack#/types/timestamp" and (
            not isinstance(value, int | float) or isinstance(value, bool)
        ):
            problems.append(f"{name}: must be a Unix time in seconds")
        elif kind == "array" and not isinstance(value, list):
            problems.append(f"{name}: must be an array")
    return problems


USER_CONTEXT = "slack#/types/user_context"


def user_context(user_id: str) -> Json:
    """A ``slack#/types/user_context`` value as Slack fills it in: the person's ID and a
    secret only Slack can make (docs/slack.md, Workflow steps)."""
    return {"id": user_id, "secret": secrets.token_hex(16)}


def function_executed_event(
    execution: FunctionExecution,
    inputs: Json,
    *,
    function: Json | None = None,
    team_id: str = TEAM_ID,
    with_token: bool = True,
) -> Json:
    """An Events API body for ``function_executed`` (docs/slack.md, Workflow steps): a
    workflow reached the app's step. ``function`` is the step's definition as Slack
    echoes it (parameters as lists); ``with_token=False`` leaves out ``bot_access_token``.

    As Slack does, a ``user_context`` input of that definition only ever holds an
    ``{"id", "secret"}`` object (no builder can type one in): anything else raises."""
    for param in (function or {}).get("input_parameters", []):
        value = inputs.get(param.get("name"))
        from_slack = isinstance(value, dict) and set(value) == {"id", "secret"}
        if param.get("type") == USER_CONTEXT and value is not None and not from_slack:
            raise ValueError(f"{param.get('name')}: Slack sends a user_context as id+secret")
    now = time.time()
    event: Json = {
        "type": "function_executed",
        "function": {
            "id": "Fn0MEDIALNK",
            "callback_id": execution.callback_id,
            "type": "app",
            "app_id": APP_ID,
            **(function or {}),
        },
        "inputs": inputs,
        "function_execution_id": execution.id,
        "workflow_execution_id": f"Wx{uuid.uuid4().hex[:10].upper()}",
        "event_ts": f"{now:.6f}",
    }
    if with_token:
        event["bot_access_token"] = execution.token
    return event_callback(event, team_id=team_id, at=now)


def app_uninstalled_event(
    team_id: str | None, *, enterprise_id: str | None = None, org_wide: bool = False
) -> Json:
    """``app_uninstalled`` as the Events API sends it (docs/slack.md, Installing in several
    workspaces); the harness signs it like any request."""
    return _lifecycle_event({"type": "app_uninstalled"}, team_id, enterprise_id, org_wide)


def tokens_revoked_event(
    team_id: str | None,
    *,
    bot: Sequence[str] = (BOT_USER_ID,),
    users: Sequence[str] = (),
    enterprise_id: str | None = None,
    org_wide: bool = False,
) -> Json:
    """``tokens_revoked``: the IDs whose bot tokens (``bot``) and user tokens (``oauth``)
    were revoked."""
    event = {"type": "tokens_revoked", "tokens": {"oauth": list(users), "bot": list(bot)}}
    return _lifecycle_event(event, team_id, enterprise_id, org_wide)


def _lifecycle_event(
    event: Json, team_id: str | None, enterprise_id: str | None, org_wide: bool
) -> Json:
    now = time.time()
    # The envelope names the org when no workspace is given; its authorization does not.
    envelope = event_callback(
        {**event, "event_ts": f"{now:.6f}"},
        team_id=team_id or enterprise_id,
        at=now,
        enterprise_id=enterprise_id,
        org_wide=org_wide,
    )
    envelope["authorizations"][0]["team_id"] = None if org_wide else team_id
    return envelope


def _peer(request: web.Request) -> str:
    """The client's address and port for ``request``'s connection."""
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return f"{peer[0]}:{peer[1]}" if isinstance(peer, tuple) and len(peer) >= 2 else ""
