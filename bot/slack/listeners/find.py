"""``/medialink find <words>``: search the Media Manager, then link what was picked.

The command is routed here by ``bot.slack.listeners.commands``. Reading the words and
options happens before the ack (pure and quick; problems are answered in the ack); Wix
is searched after it, counted against the member's quota like a link (docs/wix.md,
Finding files). Someone who may not link private files is shown public files only.

Results carry their buttons' state (``bot.slack.render.find``), re-checked on every
click like any button's (today's rules, and only the person who searched), after the
access middleware has checked who clicked. Files chosen with "Get link" or "Get links
for selected" go through the same path as pasted references (``fresh_link_reply``:
same options, same reply and buttons) and are recorded as links from ``find``; "Stream"
gives a video's HLS link, recorded too. What was searched is neither recorded nor
logged: log lines here name outcomes and error types only.

Which Wix site is searched (``SiteRegistry.find_files``): ``site=<name>``, else the site
an admin chose for the channel (or the workspace), else every site the workspace has,
at once, each result naming its site. Every button carries the site its files were
found on, checked again on the click (it must still be the clicker's workspace's), so
links and streams are made there. A workspace with no site it may use is told so, and
Wix is not asked.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.audit import AuditEvent, Entry, Outcome
from bot.audit.events import Requester, error_code, refusal_event
from bot.metrics import BUSY, QUOTA
from bot.sites.model import SiteChoiceError
from bot.sites.registry import SiteFile, SiteSearch
from bot.slack.button_state import STALE_BUTTONS, FileState, LinkState
from bot.slack.find_options import parse_find_text
from bot.slack.find_state import FindState, decode_find_state
from bot.slack.listeners import (
    SlackDeps,
    answer_privately,
    button_site_links,
    checked_options,
    fresh_link_reply,
    requester_of,
    typed_options,
    user_id_of,
)
from bot.slack.listeners.actions import acknowledge, clicked_state, read_button, tell
from bot.slack.messages import (
    FIND_USAGE,
    PICK_FILES_FIRST,
    PRIVATE_SEARCH_REFUSED,
    describe_error,
    describe_search_error,
    find_problems,
)
from bot.slack.middleware import deps_of
from bot.slack.render import Message, render_notice
from bot.slack.render.find import (
    ACTION_FIND_SELECTED,
    FIND_GET_ACTION,
    FIND_MORE_ACTION,
    FIND_PAGE_SIZE,
    FIND_PICK_ACTION,
    FIND_STREAM_ACTION,
    render_find_results,
    render_stream_link,
    selected_indexes,
)
from bot.wix.errors import WixError
from bot.wix.fairness import FileQuotaError, WixBusyError
from bot.wix.found import NotAVideoError, StreamLink
from bot.wix.links import LinkOptionsError
from bot.wix.models import StreamFormat

if TYPE_CHECKING:
    from bot.dispatch import Dispatcher

logger = logging.getLogger(__name__)

STREAM_REASON = "a video stream link"


async def find_command(
    ack: AsyncAck,
    command: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """``/medialink find …``; the access middleware has already let the person in."""
    # Acked before the text is read, like /medialink itself: in a burst every ack waits
    # for the work done before all the others' acks.
    await ack()
    deps = deps_of(context)
    user_id = user_id_of(command)
    request = parse_find_text(str(command.get("text") or ""))
    if request.wants_help:
        await answer_privately([render_notice(FIND_USAGE)], command, respond, client)
        return
    options, problems = typed_options(deps, request.options, request.problems)
    if request.private is True and not deps.policy.may_link_private(user_id):
        problems.append(PRIVATE_SEARCH_REFUSED)
    if problems:
        notice = render_notice(find_problems(problems))
        await answer_privately([notice], command, respond, client)
        return

    search = FindState.for_search(
        user_id,
        request.words,
        media_type=request.media_type,
        private=request.private,
        options=options,  # its ``site`` is the typed ``site=``, if any
    )
    reply = await search_page(deps, requester_of(context, Entry.FIND), search)
    await answer_privately([reply], command, respond, client, user_id=user_id)


async def search_page(deps: SlackDeps, requester: Requester, search: FindState) -> Message:
    """One page of results for ``search``, or a sentence saying why there is none."""
    try:
        found = await _search(deps, requester, search)
    except WixBusyError as busy:  # the member's quota, too much under way, or no site
        deps.audit.record([refusal_event(requester, str(busy))])
        if deps.metrics is not None and not isinstance(busy, SiteChoiceError):
            deps.metrics.refused(QUOTA if isinstance(busy, FileQuotaError) else BUSY)
        return render_notice(describe_search_error(busy))
    except (LinkOptionsError, WixError) as error:
        logger.info("search failed: %s", type(error).__name__)
        return render_notice(describe_search_error(error))
    return render_find_results(found, search, first_page=search.cursor is None)


async def _search(deps: SlackDeps, requester: Requester, search: FindState) -> SiteSearch:
    media_types = () if search.media_type is None else (search.media_type,)
    private_ok = deps.policy.may_link_private(search.user_id)
    if deps.sites is None:  # no connected sites: the environment's alone
        page = await deps.links.find_files(
            search.words,
            media_types=media_types,
            private=search.private,
            limit=FIND_PAGE_SIZE,
            cursor=search.cursor,
            requester=search.user_id,
            private_files_allowed=private_ok,
        )
        return SiteSearch(
            sites=(),
            files=tuple(SiteFile(None, file) for file in page.files),
            cursors={} if page.next_cursor is None else {None: page.next_cursor},
        )
    if search.cursor is not None and search.site is None:
        raise LinkOptionsError("that page of results is not available; search again")
    return await deps.sites.find_files(
        search.words,
        tenant=requester.tenant,
        channel_id=requester.channel_id,
        site_name=search.site,
        media_types=media_types,
        private=search.private,
        limit=FIND_PAGE_SIZE,
        cursor=search.cursor,
        requester=search.user_id,
        private_files_allowed=private_ok,
    )


async def more_results(
    ack: AsyncAck,
    body: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """The next page, through Wix's cursor, in place of the current one."""
    await ack()
    deps = deps_of(context)
    user_id = user_id_of(body)
    search = await read_button(
        lambda value: decode_find_state(str(value or ""), user_id=user_id), body, respond, client
    )
    if search is None:
        return
    try:
        checked_options(deps, search.options)  # today's rules, as for fresh input
    except LinkOptionsError as error:
        await tell(describe_error(error), body, respond, client)
        return
    if search.private is True and not deps.policy.may_link_private(search.user_id):
        await tell(describe_error(LinkOptionsError(PRIVATE_SEARCH_REFUSED)), body, respond, client)
        return
    reply = await search_page(deps, requester_of(context, Entry.FIND), search)
    await answer_privately(
        [reply], body, respond, client, user_id=search.user_id, replace_original=True
    )


async def get_link(
    ack: AsyncAck,
    body: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """One result's "Get link": its links, as a new reply with the usual buttons."""
    await ack()
    deps = deps_of(context)
    state = await clicked_state(deps, body, respond, client)
    if state is not None:
        await send_links(deps, state, body=body, respond=respond, client=client, context=context)


async def get_selected_links(
    ack: AsyncAck,
    body: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """ "Get links for selected": the ticked files of the page, in one reply."""
    await ack()
    deps = deps_of(context)
    state = await clicked_state(deps, body, respond, client)
    if state is None:
        return
    payload_state = body.get("state")
    values = payload_state.get("values") if isinstance(payload_state, dict) else None
    picked = selected_indexes(values, len(state.files))
    if not picked:
        await tell(PICK_FILES_FIRST, body, respond, client)
        return
    chosen = state.with_files([state.files[index] for index in picked])
    await send_links(deps, chosen, body=body, respond=respond, client=client, context=context)


async def send_links(
    deps: SlackDeps,
    state: LinkState,
    *,
    body: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """Links for the files of ``state`` through the pasted-reference path, recorded as
    made from ``find``, in a new message (the results stay)."""
    try:
        options = checked_options(deps, state.options_for(state.asset_keys))
    except LinkOptionsError as error:
        await tell(describe_error(error), body, respond, client)
        return
    messages = await fresh_link_reply(
        deps,
        requester=requester_of(context, Entry.FIND),
        refs=[file.ref() for file in state.files],
        options=options,
        pinned=state.sites(),  # where the search found them
    )
    await answer_privately(messages, body, respond, client, user_id=state.user_id)


async def stream_video(
    ack: AsyncAck,
    body: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """A video result's "Stream": its HLS link (docs/wix.md, Video streaming), recorded."""
    await ack()
    deps = deps_of(context)
    state = await clicked_state(deps, body, respond, client)
    if state is None:
        return
    if len(state.files) != 1:
        await tell(STALE_BUTTONS, body, respond, client)
        return
    file = state.files[0]
    requester = requester_of(context, Entry.FIND)
    try:
        link = await _stream(deps, requester, file, state)
    except WixBusyError as busy:  # the member's quota, too much under way, or no site
        deps.audit.record([refusal_event(requester, str(busy))])
        await tell(describe_search_error(busy), body, respond, client)
        return
    except (LinkOptionsError, WixError) as error:
        logger.info("stream link failed: %s", type(error).__name__)
        if isinstance(error, WixError) and not isinstance(error, NotAVideoError):
            deps.audit.record([_stream_failed(requester, file.file_id, file.filename, error)])
        await tell(describe_search_error(error), body, respond, client)
        return
    deps.audit.record([_stream_made(requester, link)])
    if deps.metrics is not None:
        deps.metrics.links_made(requester.entry, 1)
    await answer_privately([render_stream_link(link)], body, respond, client, user_id=state.user_id)


async def _stream(
    deps: SlackDeps, requester: Requester, file: FileState, state: LinkState
) -> StreamLink:
    """The video's HLS link, made on the site the search found it on (it must still be
    the clicker's workspace's); a file of an old button, on the channel's default."""
    async with button_site_links(deps, requester, file.site) as (_, links):
        return await links.stream_link(
            file.file_id,
            expires_in=state.expires_in,
            format=StreamFormat.HLS,
            requester=state.user_id,
            private_files_allowed=deps.policy.may_link_private(state.user_id),
        )


def _stream_made(requester: Requester, link: StreamLink) -> AuditEvent:
    """A stream link made: like a download link's event, never its URL."""
    return AuditEvent(
        at=datetime.now(UTC),
        team_id=requester.team_id,
        enterprise_id=requester.enterprise_id,
        user_id=requester.user_id,
        channel_id=requester.channel_id,
        entry=requester.entry,
        outcome=Outcome.OK,
        file_id=link.file_id,
        file_name=link.name,
        private=link.private,
        asset_keys=(link.format.value.lower(),),
        expires_at=link.expires_at,
        reason=STREAM_REASON,
        request_id=requester.request_id,
    )


def _stream_failed(
    requester: Requester, file_id: str, name: str | None, error: WixError
) -> AuditEvent:
    made = _stream_made(
        requester,
        StreamLink(
            file_id=file_id,
            name=name or file_id,
            format=StreamFormat.HLS,
            private=False,
            expires_at=None,
            url="",
        ),
    )
    return replace(made, outcome=error_code(error), private=None, reason=type(error).__name__)


def register(app: AsyncApp, dispatcher: Dispatcher) -> None:
    # The command itself is routed here by bot.slack.listeners.commands.
    # Ticking a checkbox changes nothing until "Get links for selected" is pressed.
    dispatcher.listen(app.action(FIND_PICK_ACTION), acknowledge)
    dispatcher.listen(app.action(FIND_GET_ACTION), get_link)
    dispatcher.listen(app.action(ACTION_FIND_SELECTED), get_selected_links)
    dispatcher.listen(app.action(FIND_MORE_ACTION), more_results)
    dispatcher.listen(app.action(FIND_STREAM_ACTION), stream_video)
