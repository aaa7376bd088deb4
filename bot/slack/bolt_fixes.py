"""Workarounds for known Bolt for Python defects, applied before the first request.

Bolt 1.30's ``parse_body`` (``slack_bolt/request/internals.py``) treats ANY
form body whose raw text contains the substring ``payload`` as an interaction
payload. A slash command such as ``/medialink https://…/payload.jpg`` then
parses to ``{}``, no listener matches and Slack shows the user an error
(404 "unhandled request"). Socket Mode is not affected (it passes a dict).

The fix replaces the name that both request modules imported, so that a form
body counts as an interaction only when it has a top-level ``payload`` field.
Fixing ``req.body`` in an adapter is not enough: the context is built from the
body inside the request constructor. See docs/slack.md, The parse_body defect.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

import slack_bolt.request.async_request as bolt_async_request
import slack_bolt.request.internals as bolt_internals
import slack_bolt.request.request as bolt_request

_original_parse_body = bolt_internals.parse_body


def parse_body(body: str, content_type: str | None) -> dict[str, Any]:
    """Bolt's ``parse_body``, deciding on the form's fields instead of a substring.

    It also insists on a JSON object where Bolt would pass on any JSON value (a list, a
    number), so a body Bolt could not route raises ``TypeError`` here, which the HTTP
    edge answers with 400 instead of a 500 from deep inside Bolt.
    """
    if not body or body.startswith("{") or content_type == "application/json":
        parsed: object = _original_parse_body(body, content_type)
    else:
        form = dict(parse_qsl(body, keep_blank_values=True))
        parsed = json.loads(form["payload"]) if "payload" in form else form
    if not isinstance(parsed, dict):
        raise TypeError(f"a Slack payload is a JSON object, not {type(parsed).__name__}")
    return parsed


def apply_bolt_fixes() -> None:
    """Install the fixes; safe to call more than once."""
    bolt_request.parse_body = parse_body  # type: ignore[attr-defined]
    bolt_async_request.parse_body = parse_body  # type: ignore[attr-defined]
