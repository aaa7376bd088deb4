"""The form's submission: check it inline, then post the links to the chosen conversation.

Bad input stays in the form, next to its field (``response_action: errors``). Good
input closes the form (an empty ack) and the links go, ephemerally, through the
response_url Slack made for the conversation picker (``response_url_enabled``).

The files are the pasted references followed by the files picked in the type-ahead
(``listeners/picker.py``), each file once. A form opened before the picker existed has
no picker in its state, and is read as before. A picked value ``site/file ID`` names the
connected site the file was found on: its link is made there (the site must still be
the workspace's).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.web.async_client import AsyncWebClient

from bot.audit import Entry
from bot.slack.button_state import read_site_name
from bot.slack.delivery import deliver_ephemeral
from bot.slack.listeners import checked_options, fresh_link_reply, requester_of, user_id_of
from bot.slack.messages import (
    MODAL_NEEDS_CONVERSATION,
    MODAL_NEEDS_FILES,
    MODAL_NEEDS_URLS,
    describe_error,
)
from bot.slack.middleware import deps_of
from bot.slack.options import parse_asset_keys
from bot.slack.render import (
    ASSETS_ACTION,
    ASSETS_BLOCK,
    CONVERSATION_ACTION,
    CONVERSATION_BLOCK,
    EXPIRY_BLOCK,
    EXPIRY_SELECT_ACTION,
    MODAL_CALLBACK_ID,
    PICKER_ACTION,
    PICKER_BLOCK,
    URLS_ACTION,
    URLS_BLOCK,
)
from bot.slack.render.limits import MAX_OPTION_VALUE
from bot.wix.links import LinkOptions, LinkOptionsError
from bot.wix.refs import (
    MediaRef,
    MediaType,
    ParseResult,
    RejectedToken,
    parse_media_ref,
    parse_media_refs,
)

if TYPE_CHECKING:
    from bot.dispatch import Dispatcher

MAX_ERROR_CHARS = 300
# What a picked option's value may hold: a file ID as Wix's search gave it. Anything else
# in a submission was not offered by MediaLink.
_PICKED_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z_.~\-]*")


async def submit_link_form(
    ack: AsyncAck,
    body: dict[str, Any],
    view: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    deps = deps_of(context)
    values = (view.get("state") or {}).get("values") or {}
    errors: dict[str, str] = {}

    pinned: dict[str, str] = {}  # picked file ID → the site it was found on
    found = _merged(
        parse_media_refs(_input(values, URLS_BLOCK, URLS_ACTION), max_refs=deps.max_refs),
        _picked(values),
        max_refs=deps.max_refs,
        pinned=pinned,
    )
    if not found.refs:
        reason = f" ({found.rejected[0].reason})" if found.rejected else ""
        needs = MODAL_NEEDS_FILES if _has_picker(view) else MODAL_NEEDS_URLS
        errors[URLS_BLOCK] = needs + reason

    asset_keys: tuple[str, ...] = ()
    assets_text = _input(values, ASSETS_BLOCK, ASSETS_ACTION)
    if assets_text.strip():
        asset_keys, problem = parse_asset_keys(assets_text)
        if problem:
            errors[ASSETS_BLOCK] = problem

    options = LinkOptions(asset_keys=asset_keys)
    try:
        options = checked_options(deps, replace(options, expires_in=_expiry(values)))
    except LinkOptionsError as error:
        errors.setdefault(EXPIRY_BLOCK, describe_error(error))

    target = _response_target(body, view, values)
    if target is None:
        errors[CONVERSATION_BLOCK] = MODAL_NEEDS_CONVERSATION
    if errors or target is None:
        await ack(
            response_action="errors",
            errors={block: _clip(text) for block, text in errors.items()},
        )
        return
    await ack()
    response_url, channel_id = target

    user_id = user_id_of(body)
    requester = replace(requester_of(context, Entry.GLOBAL_SHORTCUT), channel_id=channel_id)
    messages = await fresh_link_reply(
        deps,
        requester=requester,
        refs=found.refs,
        options=options,
        rejected=found.rejected,
        pinned=pinned,
    )
    await deliver_ephemeral(
        messages,
        respond=deps.respond_to(response_url),
        client=client,
        channel_id=channel_id,
        user_id=user_id,
    )


def register(app: AsyncApp, dispatcher: Dispatcher) -> None:
    dispatcher.listen(app.view(MODAL_CALLBACK_ID), submit_link_form)


def _input(values: dict[str, Any], block_id: str, action_id: str) -> str:
    state = (values.get(block_id) or {}).get(action_id) or {}
    value = state.get("value")
    return value if isinstance(value, str) else ""


def _picked(values: dict[str, Any]) -> list[str]:
    """The values of the picked options, as submitted (none in a form without the picker)."""
    state = (values.get(PICKER_BLOCK) or {}).get(PICKER_ACTION) or {}
    selected = state.get("selected_options")
    if not isinstance(selected, list):
        return []
    picked = (option.get("value") for option in selected if isinstance(option, dict))
    return [value for value in picked if isinstance(value, str)]


def _merged(
    pasted: ParseResult, picked: list[str], *, max_refs: int, pinned: dict[str, str]
) -> ParseResult:
    """The pasted references, then the picked files, each file once and at most
    ``max_refs`` in all (the rest refused with the reason, as for pasted ones). The
    site a picked value names is put in ``pinned`` (file ID → site)."""
    refs = list(pasted.refs)
    rejected = list(pasted.rejected)
    seen = {ref.file_id for ref in refs}
    for value in picked[: max_refs + 1]:  # a forged submission's list is not walked whole
        site, slash, file_id = value.partition("/")
        try:
            site_name = read_site_name(site) if slash else None
        except ValueError:
            continue  # not a value MediaLink offered
        ref = _picked_ref(file_id if slash else value)
        if isinstance(ref, RejectedToken):
            rejected.append(ref)
            continue
        if ref is None or ref.file_id in seen:
            continue
        seen.add(ref.file_id)
        if len(refs) < max_refs:
            refs.append(ref)
            if site_name is not None:
                pinned[ref.file_id] = site_name
        else:
            rejected.append(
                RejectedToken(
                    text=ref.file_id,
                    reason=f"over the limit of {max_refs} files per request; "
                    "send the rest in another request",
                )
            )
    return ParseResult(refs=tuple(refs), rejected=tuple(rejected))


def _picked_ref(value: str) -> MediaRef | RejectedToken | None:
    """A picked option's file ID as a reference. The ID came from Wix's search, so one
    of a shape the URL parser does not know is still taken (its type unknown until Wix
    describes it); a value MediaLink could not have offered is ignored."""
    if len(value) > MAX_OPTION_VALUE or not _PICKED_ID.fullmatch(value):
        return None
    parsed = parse_media_ref(value)
    if parsed is not None:
        return parsed
    return MediaRef(file_id=value, media_type=MediaType.UNKNOWN, filename=None, source=value)


def _has_picker(view: dict[str, Any]) -> bool:
    blocks = view.get("blocks")
    return isinstance(blocks, list) and any(
        isinstance(block, dict) and block.get("block_id") == PICKER_BLOCK for block in blocks
    )


def _expiry(values: dict[str, Any]) -> timedelta | None:
    """The picked expiry; ``None`` when untouched (the default). A value the form never
    offered is refused, not quietly replaced by the default."""
    state = (values.get(EXPIRY_BLOCK) or {}).get(EXPIRY_SELECT_ACTION) or {}
    selected = state.get("selected_option")
    if not selected:
        return None
    value = selected.get("value") if isinstance(selected, dict) else None
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > 7:
        raise LinkOptionsError("pick an expiry from the list")
    return timedelta(minutes=int(value))


def _response_target(
    body: dict[str, Any], view: dict[str, Any], values: dict[str, Any]
) -> tuple[str, str | None] | None:
    """The picker's response_url and conversation.

    Slack puts ``response_urls`` at the top of the payload (where Bolt looks); the
    documented example shows it inside ``view``, so both places are read.
    """
    urls = body.get("response_urls") or view.get("response_urls") or []
    entry = next(
        (u for u in urls if isinstance(u, dict) and u.get("block_id") == CONVERSATION_BLOCK),
        urls[0] if urls and isinstance(urls[0], dict) else None,
    )
    if entry is None or not isinstance(entry.get("response_url"), str):
        return None
    picked = (values.get(CONVERSATION_BLOCK) or {}).get(CONVERSATION_ACTION) or {}
    channel_id = entry.get("channel_id") or picked.get("selected_conversation")
    return entry["response_url"], channel_id if isinstance(channel_id, str) else None


def _clip(text: str) -> str:
    # Shown as plain text under the field, so no mrkdwn escaping: just a length cap.
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 1] + "…"
