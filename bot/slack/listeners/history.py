"""``/medialink history``: the caller's last links from the audit trail, each with a
Regenerate button; admins also see anyone's links, by person or by file.

Reading the text and deciding who may see what happen before the ack (pure and quick),
so a problem or a refusal is answered in the ack itself; the record is read after it,
under a deadline. Only ``ok`` events are links. In single-workspace mode the record is
not filtered by workspace: people from other organisations MediaLink lets in (Slack
Connect) are part of what admins must see. In OAuth mode every read is the tenant's own
rows (``read_record``), whoever asks.

Nothing read from the record is logged: file names and reasons go to the person only.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.audit import AuditEvent, AuditQuery, Entry, Outcome
from bot.audit.events import refusal_event
from bot.policy import AccessGate
from bot.slack.access import GATE_KEY
from bot.slack.listeners import (
    SlackDeps,
    ack_with,
    answer_privately,
    requester_of,
    user_id_of,
)
from bot.slack.listeners.actions import send_fresh_links
from bot.slack.messages import (
    RECORD_UNREADABLE,
    escape_clip,
    history_for_admins,
    history_problem,
)
from bot.slack.middleware import deps_of
from bot.slack.render import Message, render_notice
from bot.slack.render.history import (
    HISTORY_REGENERATE_ACTION,
    MAX_HISTORY,
    HistorySubject,
    Scope,
    render_history,
)
from bot.wix.refs import MediaRef, RejectedToken, parse_media_ref

if TYPE_CHECKING:
    from bot.dispatch import Dispatcher

logger = logging.getLogger(__name__)

HISTORY_WORD = "history"
QUERY_TIMEOUT = 10.0  # seconds: reading the record gives up after this long
MAX_ARGUMENT_CHARS = 3000  # a file URL, or a mention, is far shorter
OTHERS_HISTORY_REFUSED = "asked for someone else's history, which only admins may see"

# ``<@U…>`` or ``<@U…|name>``: a member Slack names by ID (docs/slack.md, Text escaping).
_MENTION = re.compile(r"<@([UW][A-Z0-9]{2,40})(?:\|[^<>]{0,200})?>")


@dataclass(frozen=True, slots=True)
class HistoryRequest:
    """What ``/medialink history …`` asks for: the caller's own links by default."""

    user_id: str | None = None
    file_id: str | None = None
    problem: str | None = None


def wants_history(text: str) -> bool:
    """Whether a command's text is ``history`` followed by anything."""
    words = text.split(maxsplit=1)
    return bool(words) and words[0].lower() == HISTORY_WORD


def parse_history_text(text: str) -> HistoryRequest:
    """Read what follows ``history``: nothing, one member mention, or one Wix file."""
    rest = text.strip()[len(HISTORY_WORD) :].strip()
    if not rest:
        return HistoryRequest()
    if len(rest) > MAX_ARGUMENT_CHARS:
        return HistoryRequest(problem="that is far too long for a person or a file")
    mention = _MENTION.fullmatch(rest)
    if mention is not None:
        return HistoryRequest(user_id=mention[1])
    words = rest.split()
    if len(words) > 1:
        return HistoryRequest(problem="ask for one person or one file at a time")
    word = words[0]
    shown = escape_clip(word, 80)
    if word.startswith("@"):
        return HistoryRequest(
            problem=f"I cannot tell who `{shown}` is: pick them from the list Slack shows "
            "as you type @, so that Slack sends who they are"
        )
    parsed = parse_media_ref(word)
    if isinstance(parsed, MediaRef):
        return HistoryRequest(file_id=parsed.file_id)
    if isinstance(parsed, RejectedToken):
        return HistoryRequest(problem=f"`{shown}`: {parsed.reason}")
    return HistoryRequest(problem=f"`{shown}` is neither a person nor a Wix file URL or ID")


def is_admin(deps: SlackDeps, user_id: str) -> bool:
    """Whether ``user_id`` may see everyone's record (MEDIALINK_ADMINS, the workspace's
    admins, and in OAuth mode Slack's, as the access check found them)."""
    return deps.policy.is_admin(user_id)


async def is_admin_now(deps: SlackDeps, context: AsyncBoltContext, user_id: str) -> bool:
    """``is_admin`` for an entry the access check does not cover (the App Home, the
    settings modal): asks Slack first when the person's role is not cached."""
    gate = context.get(GATE_KEY)
    if isinstance(gate, AccessGate):
        return await gate.admin(user_id)
    return is_admin(deps, user_id)


def subject_for(request: HistoryRequest, *, caller: str, admin: bool) -> HistorySubject | None:
    """Whose links the caller sees, or None when only an admin may see them."""
    if request.file_id is not None:
        scope = Scope.FILE if admin else Scope.OWN_FILE
        return HistorySubject(scope, file_id=request.file_id)
    if request.user_id is None or request.user_id == caller:
        return HistorySubject(Scope.OWN)
    if admin:
        return HistorySubject(Scope.USER, user_id=request.user_id)
    return None


def query_for(subject: HistorySubject, *, caller: str) -> AuditQuery:
    user_id = {
        Scope.OWN: caller,
        Scope.OWN_FILE: caller,
        Scope.USER: subject.user_id,
        Scope.FILE: None,
    }[subject.scope]
    return AuditQuery(
        user_id=user_id, file_id=subject.file_id, outcome=Outcome.OK.value, limit=MAX_HISTORY
    )


async def read_record(deps: SlackDeps, query: AuditQuery) -> list[AuditEvent] | None:
    """The events ``query`` asks for, newest first; None (logged, by type only) when the
    record cannot be read in time."""
    if deps.tenant is not None:
        query = replace(query, tenant_id=deps.tenant)  # one workspace never reads another's
    elif deps.workspaces is not None and deps.workspaces.oauth:
        # No tenant in OAuth mode (bot.slack.tenancy serves no such request): the whole
        # record belongs to every workspace but this request's, so nothing is read.
        logger.warning("a record query named no workspace in OAuth mode; nothing read")
        return []
    try:
        async with asyncio.timeout(QUERY_TIMEOUT):
            events = await deps.audit.query(query)
    except Exception as error:  # any store failure: the person gets a sentence instead
        logger.error("could not read the audit record: %s", type(error).__name__)  # noqa: TRY400 - no traceback: it may quote the record
        return None
    return list(events[: query.limit])


async def history_command(
    ack: AsyncAck,
    command: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """``/medialink history [@someone | <file URL or ID>]``, routed here by the command."""
    deps = deps_of(context)
    caller = user_id_of(command)
    request = parse_history_text(str(command.get("text") or ""))
    if request.problem is not None:
        await ack_with(ack, render_notice(history_problem(request.problem)))
        return
    subject = subject_for(request, caller=caller, admin=is_admin(deps, caller))
    if subject is None:
        requester = requester_of(context, Entry.HISTORY)
        deps.audit.record([refusal_event(requester, OTHERS_HISTORY_REFUSED)])
        await ack_with(ack, render_notice(history_for_admins(sorted(deps.policy.settings.admins))))
        return
    await ack()

    events = await read_record(deps, query_for(subject, caller=caller))
    reply: Message
    if events is None:
        reply = render_notice(RECORD_UNREADABLE)
    else:
        reply = render_history(
            events,
            subject=subject,
            viewer_id=caller,
            now=datetime.now(UTC),
            max_expiry=deps.max_expiry,
            default_expiry=deps.default_expiry,
        )
    await answer_privately([reply], command, respond, client, user_id=caller)


async def regenerate_from_history(
    ack: AsyncAck,
    body: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """A history line's Regenerate: the button's state re-checked like any other button's
    (today's cap, the file ID, the clicker), then fresh links in a new message, so the
    history stays where it is."""
    await ack()
    await send_fresh_links(context, body, respond, client, replace_original=False)


def register(app: AsyncApp, dispatcher: Dispatcher) -> None:
    # The command itself is routed here by bot.slack.listeners.commands.
    dispatcher.listen(app.action(HISTORY_REGENERATE_ACTION), regenerate_from_history)
