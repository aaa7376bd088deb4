"""The reply's buttons.

Every button that changes something carries the whole state of its message in its
value (``bot.slack.button_state``), re-validated on each click: today's expiry cap, the file
IDs, and that the clicker is the person the reply was made for. Link buttons open a
URL in the browser but still reach the app, so they are acknowledged and ignored.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.audit.events import Requester, refusal_event, zip_events
from bot.slack.button_state import LinkState, StateError, decode_state
from bot.slack.delivery import (
    delete_original,
    deliver_in_channel,
    send_to_dm,
)
from bot.slack.listeners import (
    SlackDeps,
    answer_privately,
    button_site_links,
    channel_id_of,
    links_for_state,
    render_reply,
    requester_of,
    user_id_of,
)
from bot.slack.messages import (
    DM_FAILED,
    DM_SENT,
    NOTHING_TO_SHARE,
    REDIRECT_HOST_NOW_REFUSED,
    SHARE_DISABLED,
    SHARE_FAILED,
    ZIP_FAILED,
    ZIP_NOTHING,
    describe_error,
)
from bot.slack.middleware import deps_of
from bot.slack.render import (
    ACTION_DISMISS,
    ACTION_DM,
    ACTION_REGENERATE,
    ACTION_SHARE,
    ACTION_ZIP,
    ACTION_ZIP_OPEN,
    EXPIRY_ACTION,
    LINK_ACTION,
    RENDITION_ACTION,
    render_dm_copy,
    render_notice,
    render_shared_reply,
    render_zip_link,
)
from bot.slack.surfaces import button_entry
from bot.wix.errors import WixError
from bot.wix.fairness import WixBusyError
from bot.wix.links import FileLinks

if TYPE_CHECKING:
    from bot.dispatch import Dispatcher

logger = logging.getLogger(__name__)

T = TypeVar("T")


async def tell(
    text: str,
    body: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
) -> None:
    """A short ephemeral note under the reply (the reply itself stays)."""
    await answer_privately([render_notice(text)], body, respond, client)


def clicked_action(body: dict[str, Any]) -> dict[str, Any]:
    """The clicked element (Bolt routes a click here only when its first action has an
    ``action_id``)."""
    action = (body.get("actions") or [{}])[0]
    return action if isinstance(action, dict) else {}


async def read_button(
    read: Callable[[object], T],
    body: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    *,
    kind: str = "button",
) -> T | None:
    """The clicked button's value as ``read`` reads it, or None after telling the person
    the ``StateError``'s sentence (logged by type only: the value is theirs)."""
    try:
        return read(clicked_action(body).get("value"))
    except StateError as error:
        logger.info("%s refused: %s", kind, type(error).__name__)
        await tell(str(error), body, respond, client)
        return None


async def clicked_state(
    deps: SlackDeps,
    body: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
) -> LinkState | None:
    """The clicked button's state, or None after telling the person why not."""
    user_id = user_id_of(body)
    state = await read_button(
        lambda value: decode_state(
            str(value or ""), max_expiry=deps.max_expiry, max_files=deps.max_refs, user_id=user_id
        ),
        body,
        respond,
        client,
    )
    if state is None:
        return None
    if state.redirect_url is not None and not deps.policy.rules.redirect_host_allowed(
        state.redirect_url
    ):
        # The button predates a narrower MEDIALINK_REDIRECT_HOSTS.
        await tell(REDIRECT_HOST_NOW_REFUSED, body, respond, client)
        return None
    return state


async def clicked_links(
    context: AsyncBoltContext,
    body: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
) -> tuple[LinkState, list[FileLinks]] | None:
    """The clicked button's state and its links made again (recorded as that button's),
    or None after telling the person why not (a stale button, or MediaLink taking on no
    more work for them now)."""
    deps = deps_of(context)
    state = await clicked_state(deps, body, respond, client)
    if state is None:
        return None
    action_id = clicked_action(body).get("action_id")
    requester = requester_of(context, button_entry(str(action_id or "?")))
    try:
        return state, await links_for_state(deps, state, requester)
    except WixBusyError as busy:
        await tell(describe_error(busy), body, respond, client)
        return None


async def acknowledge(ack: AsyncAck) -> None:
    """An ack and nothing else: for a link button (its URL opens in the browser), a
    checkbox, or an event MediaLink is set to ignore (acked so Slack does not retry it)."""
    await ack()


async def remake_links(
    ack: AsyncAck,
    body: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """Regenerate, a new expiry, or other renditions: the state says which; replace in place."""
    await ack()
    await send_fresh_links(context, body, respond, client, replace_original=True)


async def send_fresh_links(
    context: AsyncBoltContext,
    body: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    *,
    replace_original: bool,
) -> None:
    """The clicked button's links made again and sent with their buttons, in place of
    the clicked message or as a new one."""
    clicked = await clicked_links(context, body, respond, client)
    if clicked is None:
        return
    state, results = clicked
    await answer_privately(
        render_reply(deps_of(context), results, state, ()),
        body,
        respond,
        client,
        user_id=state.user_id,
        replace_original=replace_original,
    )


async def share_in_channel(
    ack: AsyncAck,
    body: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await ack()
    deps = deps_of(context)
    if not deps.share_enabled:  # the button is hidden then; this is a forged or old click
        await tell(SHARE_DISABLED, body, respond, client)
        return
    clicked = await clicked_links(context, body, respond, client)
    if clicked is None:
        return
    state, made = clicked
    results = [result for result in made if result.ok]
    if not results:
        await tell(NOTHING_TO_SHARE, body, respond, client)
        return
    delivery = await deliver_in_channel(
        render_shared_reply(results, shared_by=state.user_id),
        respond=respond,
        client=client,
        channel_id=channel_id_of(body),
    )
    if not delivery.complete:
        await tell(SHARE_FAILED, body, respond, client)


async def send_copy_to_dm(
    ack: AsyncAck,
    body: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await ack()
    clicked = await clicked_links(context, body, respond, client)
    if clicked is None:
        return
    state, results = clicked
    delivery = await send_to_dm(render_dm_copy(results), client=client, user_id=state.user_id)
    await tell(DM_SENT if delivery.complete else DM_FAILED, body, respond, client)


async def zip_download(
    ack: AsyncAck,
    body: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """One permanent zip link for the reply's public files (docs/wix.md, Generate Files
    Download URL): admins only unless MEDIALINK_ZIP_ENABLED=everyone; the descriptors
    decide which files are public, so a private file never goes in."""
    await ack()
    deps = deps_of(context)
    state = await clicked_state(deps, body, respond, client)
    if state is None:
        return
    requester = requester_of(context, button_entry(ACTION_ZIP))
    if not deps.policy.may_zip(state.user_id):  # hidden then: a forged or old click
        refusal = deps.policy.zip_refusal()
        deps.audit.record([refusal_event(requester, refusal.reason.value)])
        await tell(refusal.message, body, respond, client)
        return
    # One zip per site the reply's files are on (a zip holds one site's files); files of
    # an old button name no site and go to the site chosen as for typed input.
    by_site: dict[str | None, list[str]] = {}
    for file in state.files:
        by_site.setdefault(file.site, []).append(file.file_id)
    for site, ids in by_site.items():
        try:
            zipped = await _zip(deps, requester, site, ids, user_id=state.user_id)
        except WixBusyError as busy:  # the member's quota, too much under way, or no site
            deps.audit.record([refusal_event(requester, str(busy))])
            await tell(describe_error(busy), body, respond, client)
            continue
        except WixError as error:
            logger.info("zip link failed: %s", type(error).__name__)
            await tell(ZIP_FAILED, body, respond, client)
            continue
        if zipped.url is None:
            await tell(ZIP_NOTHING, body, respond, client)
            continue
        # A permanent link is a link made: recorded per file, like any other (never its URL).
        deps.audit.record(zip_events(requester, list(zipped.files)))
        await answer_privately(
            render_zip_link(
                zipped.url,
                files=len(zipped.files),
                left_out=len(ids) - len(zipped.files),
                site=zipped.site,
            ),
            body,
            respond,
            client,
            user_id=state.user_id,
        )


@dataclass(frozen=True, slots=True)
class _SiteZip:
    url: str | None = field(repr=False)
    files: tuple[tuple[str, str | None], ...]
    site: str | None


async def _zip(
    deps: SlackDeps, requester: Requester, site: str | None, ids: list[str], *, user_id: str
) -> _SiteZip:
    """The zip of ``ids`` on ``site`` (None: the channel's default), a site the
    clicker's workspace must still have; raises as ``zip_of_public_files`` does, and
    ``SiteChoiceError`` when the workspace has no such site."""
    async with button_site_links(deps, requester, site) as (used, links):
        made = await links.zip_of_public_files(ids, requester=user_id)
    return _SiteZip(made.url, made.files, used)


async def dismiss(ack: AsyncAck, respond: AsyncRespond) -> None:
    await ack()
    await delete_original(respond)


def register(app: AsyncApp, dispatcher: Dispatcher) -> None:
    dispatcher.listen(app.action(LINK_ACTION), acknowledge)
    for action_id in (ACTION_REGENERATE, EXPIRY_ACTION, RENDITION_ACTION):
        dispatcher.listen(app.action(action_id), remake_links)
    dispatcher.listen(app.action(ACTION_SHARE), share_in_channel)
    dispatcher.listen(app.action(ACTION_DM), send_copy_to_dm)
    dispatcher.listen(app.action(ACTION_ZIP), zip_download)
    dispatcher.listen(app.action(ACTION_ZIP_OPEN), acknowledge)
    dispatcher.listen(app.action(ACTION_DISMISS), dismiss)
