"""Bolt middleware: who may use MediaLink, checked in one place for every entry.

Runs after ``RequestContext`` for the command, both shortcuts, every button, every
form submission and the form's file picker. An allowed request goes on to its listener;
a refused one never reaches it (so no Wix call), is recorded in the audit trail, and is
told why and whom to ask:

- the command: in the ack itself, ephemeral;
- the message shortcut and buttons: an empty ack, then an ephemeral post to the
  response_url;
- the global shortcut: an empty ack, then a small modal (it has no response_url);
- the form's submission: ``response_action: errors`` under the URLs field;
- the form's file picker (``block_suggestion``): no options, and nothing posted. Not
  recorded either: Slack asks on every keystroke, and the form's submission records
  the refusal once.

Cheap before the ack: with the directory's cache warm, no Slack call is made.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.audit import AuditEvent, Entry, Outcome
from bot.logs import request_id_var
from bot.policy import AccessGate, Asker, Refusal
from bot.slack.render import (
    ACTION_DISMISS,
    ACTION_ZIP_OPEN,
    CONVERSATION_BLOCK,
    LINK_ACTION,
    MODAL_CALLBACK_ID,
    PICKER_ACTION,
    URLS_BLOCK,
)
from bot.slack.surfaces import COMMAND, GLOBAL_SHORTCUT, MESSAGE_SHORTCUT, button_entry

if TYPE_CHECKING:
    from bot.audit import AuditTrail
    from bot.dispatch import Dispatcher

logger = logging.getLogger("bot.slack")

# Where listeners find the decision (``Allowed``) in Bolt's context.
ACCESS_KEY = "medialink_access"
# The request's own gate (its workspace's policy), put there by bot.slack.tenancy.
GATE_KEY = "medialink_gate"
MAX_VIEW_ERROR = 300
_MENTION = re.compile(r"<([@#])([A-Z0-9]{1,40})>")


class AccessControl(AsyncMiddleware):
    """Refuse, before any listener, whoever the policy does not allow."""

    def __init__(self, gate: AccessGate, dispatcher: Dispatcher, audit: AuditTrail | None) -> None:
        self.gate = gate
        self.dispatcher = dispatcher
        self.audit = audit

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        body = req.body
        entry = entry_of(body)
        if entry is None:
            return await next()
        context = req.context
        user_id = context.user_id
        if not user_id:
            return await next()  # the listener refuses a payload without a user
        authorized = context.authorize_result
        asker = Asker(
            user_id=user_id,
            team_id=context.team_id,
            enterprise_id=context.enterprise_id,
            channel_id=_channel_of(body) or context.channel_id,
            # The form's conversation is chosen later: checked at its submission.
            channel_pending=body.get("type") in {"shortcut", "block_suggestion"},
            user_team_id=_user_team_of(body),
        )
        gate = context.get(GATE_KEY)
        decision = await (gate if isinstance(gate, AccessGate) else self.gate).check(
            asker,
            home_team=authorized.team_id if authorized is not None else None,
            home_enterprise=authorized.enterprise_id if authorized is not None else None,
        )
        if decision.allowed:
            context[ACCESS_KEY] = decision
            return await next()
        assert isinstance(decision, Refusal)  # noqa: S101 - narrowed for mypy
        logger.info("refused %s for %s: %s", entry, user_id, decision.reason.value)
        self.dispatcher.refused(decision.reason.value)
        if body.get("type") != "block_suggestion":
            self._record(asker, entry, decision)
        return self._answer(req, body, decision)

    def _record(self, asker: Asker, entry: str, refusal: Refusal) -> None:
        if self.audit is None:
            return
        self.audit.record(
            [
                AuditEvent(
                    at=datetime.now(UTC),
                    team_id=asker.team_id,
                    enterprise_id=asker.enterprise_id,
                    user_id=asker.user_id,
                    channel_id=asker.channel_id,
                    entry=entry,
                    outcome=Outcome.REFUSED,
                    reason=refusal.reason.value,
                    request_id=request_id_var.get(),
                )
            ]
        )

    def _answer(
        self, req: AsyncBoltRequest, body: Mapping[str, Any], refusal: Refusal
    ) -> BoltResponse:
        kind = body.get("type")
        if "command" in body:
            return _json(
                {
                    "response_type": "ephemeral",
                    "text": refusal.message,
                    "blocks": [_section(refusal.message)],
                }
            )
        if kind == "view_submission":
            return _json(
                {"response_action": "errors", "errors": {URLS_BLOCK: plain_refusal(refusal)}}
            )
        if kind == "block_suggestion":
            return _json({"options": []})  # an options answer has no room for a message
        if kind == "shortcut":
            trigger_id = body.get("trigger_id")
            client = req.context.client
            if isinstance(trigger_id, str) and client is not None:
                self.dispatcher.after_ack(
                    _open_refusal(client.views_open, trigger_id, refusal.message)
                )
            return BoltResponse(status=200, body="")
        url = body.get("response_url")
        if isinstance(url, str):
            self.dispatcher.apologise(url, refusal.message)
        return BoltResponse(status=200, body="")


def entry_of(body: Mapping[str, Any]) -> str | None:
    """The audit trail's name for this entry, or None when it makes nothing (events,
    a link button's click, Dismiss) and so is not checked."""
    if "command" in body:
        return Entry.COMMAND if body.get("command") == COMMAND else None
    kind = body.get("type")
    if kind == "message_action":
        return Entry.MESSAGE_SHORTCUT if body.get("callback_id") == MESSAGE_SHORTCUT else None
    if kind == "shortcut":
        return Entry.GLOBAL_SHORTCUT if body.get("callback_id") == GLOBAL_SHORTCUT else None
    if kind == "view_submission":
        view = body.get("view")
        callback = view.get("callback_id") if isinstance(view, dict) else None
        return Entry.GLOBAL_SHORTCUT if callback == MODAL_CALLBACK_ID else None
    if kind == "block_suggestion":  # the form's file picker is part of the global shortcut
        return Entry.GLOBAL_SHORTCUT if body.get("action_id") == PICKER_ACTION else None
    if kind == "block_actions":
        actions = body.get("actions")
        first = actions[0] if isinstance(actions, list) and actions else None
        action_id = first.get("action_id") if isinstance(first, dict) else None
        if not isinstance(action_id, str):
            return None
        if LINK_ACTION.match(action_id) or action_id in {ACTION_DISMISS, ACTION_ZIP_OPEN}:
            return None
        return button_entry(action_id)
    return None


def plain_refusal(refusal: Refusal) -> str:
    """The refusal for plain text (a form's error): mentions become @ID and #ID."""
    text = _MENTION.sub(lambda m: f"{m[1]}{m[2]}", refusal.message)
    return text if len(text) <= MAX_VIEW_ERROR else text[: MAX_VIEW_ERROR - 1] + "…"


def _channel_of(body: Mapping[str, Any]) -> str | None:
    """The form's chosen conversation (a view submission has no channel of its own)."""
    if body.get("type") != "view_submission":
        return None
    view = body.get("view")
    urls = body.get("response_urls") or (
        view.get("response_urls") if isinstance(view, dict) else None
    )
    if isinstance(urls, list):
        for entry in urls:
            if isinstance(entry, dict) and isinstance(entry.get("channel_id"), str):
                return str(entry["channel_id"])
    values = ((view or {}).get("state") or {}).get("values") if isinstance(view, dict) else None
    picked = (values or {}).get(CONVERSATION_BLOCK) if isinstance(values, dict) else None
    if isinstance(picked, dict):
        for state in picked.values():
            chosen = state.get("selected_conversation") if isinstance(state, dict) else None
            if isinstance(chosen, str):
                return chosen
    return None


def _user_team_of(body: Mapping[str, Any]) -> str | None:
    """``user.team_id`` of an interactive payload: the person's own workspace or org."""
    user = body.get("user")
    team = user.get("team_id") if isinstance(user, dict) else None
    return team if isinstance(team, str) and team else None


def _section(text: str) -> dict[str, Any]:
    return {
        "type": "section",
        "block_id": "medialink_refusal",
        "text": {"type": "mrkdwn", "text": text},
    }


def _json(payload: dict[str, Any]) -> BoltResponse:
    return BoltResponse(
        status=200,
        body=json.dumps(payload),
        headers={"content-type": "application/json;charset=utf-8"},
    )


async def _open_refusal(
    views_open: Callable[..., Awaitable[Any]], trigger_id: str, text: str
) -> None:
    view = {
        "type": "modal",
        "title": {"type": "plain_text", "text": "MediaLink"},
        "close": {"type": "plain_text", "text": "Close"},
        "blocks": [_section(text)],
    }
    try:
        await views_open(trigger_id=trigger_id, view=view)
    except Exception as error:  # a refusal's courtesy must not fail loudly
        logger.warning("could not show the refusal: %s", type(error).__name__)
