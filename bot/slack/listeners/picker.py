"""The form's type-ahead file picker: Slack asks for options as a person types.

A ``block_suggestion`` is answered in the ack itself, with the options, and Slack waits
about 3 seconds for it (docs/slack.md, External selects), so, unlike the other
listeners, this one calls Wix BEFORE its ack, under a deadline well inside Slack's:
past it the answer is an empty list. The search is the link service's (fair use, the
rate limit, and public files only for people who may not link private ones); the
access policy has already turned away anyone refused (``bot.slack.access``, which
answers them with no options).

Which Wix sites are searched: the one an admin chose for the form's conversation (or
for the whole workspace), else every site the workspace has (at most
``MAX_SEARCH_SITES``, at once, each under its own rate limit, with the 100 options shared
between them), each option naming its site when there are several. All of them rather
than the workspace's default alone because the form opens from a global shortcut, with
no channel yet, and a person looking for a file by name rarely knows which site has it;
the site's name fits in an option's 75 characters cut to 16, and the option's value
carries it whole (``site/file ID``), so the submission makes the link on that site. A
workspace with no site it may use gets no options, and Wix is not asked.

What was typed is neither logged nor recorded, and no answer is kept for anyone else.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext

from bot.sites.registry import SiteSearch
from bot.slack.listeners import SlackDeps, tenant_of_context
from bot.slack.middleware import deps_of
from bot.slack.render import (
    CONVERSATION_ACTION,
    CONVERSATION_BLOCK,
    PICKER_ACTION,
    PICKER_MIN_QUERY,
)
from bot.slack.render.limits import MAX_SUGGESTED_OPTIONS
from bot.slack.render.picker import file_options
from bot.wix.errors import WixError
from bot.wix.limits import MAX_SEARCH_TEXT_LENGTH
from bot.wix.links import LinkOptionsError

if TYPE_CHECKING:
    from bot.dispatch import Dispatcher

logger = logging.getLogger(__name__)

# Seconds the search may take, the wait for the rate limiter included, before the
# answer is an empty list: Slack gives up at 3 (docs/slack.md, External selects).
SUGGESTION_DEADLINE = 2.0
# A forged ``value`` may be as long as the body; this much is plenty to read it by.
_MAX_VALUE_READ = 4 * MAX_SEARCH_TEXT_LENGTH


async def suggest_files(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
    options = await _options(
        deps_of(context), body, context.get("user_id"), tenant_of_context(context)
    )
    await ack(options=options)


async def _options(
    deps: SlackDeps, body: dict[str, Any], user_id: object, tenant: str | None
) -> list[dict[str, Any]]:
    words = search_words(body.get("value"))
    if len(words) < PICKER_MIN_QUERY or not isinstance(user_id, str) or not user_id:
        return []
    if deps.sites is not None:
        view = await deps.sites.view(tenant) if tenant is not None else None
        if view is None or not view.sites:
            return []  # no site this workspace may use: Wix is not asked
    links = deps.links
    private_ok = deps.policy.may_link_private(user_id)
    try:
        async with asyncio.timeout(SUGGESTION_DEADLINE):
            if deps.sites is None:
                page = await links.find_files(
                    words,
                    limit=MAX_SUGGESTED_OPTIONS,
                    requester=user_id,
                    deadline=links.clock() + SUGGESTION_DEADLINE,
                    private_files_allowed=private_ok,
                )
                answer = file_options(page.files)
            else:
                found: SiteSearch = await deps.sites.find_files(
                    words,
                    tenant=tenant,
                    channel_id=form_channel(body),
                    site_name=None,
                    limit=MAX_SUGGESTED_OPTIONS,
                    requester=user_id,
                    deadline=links.clock() + SUGGESTION_DEADLINE,
                    private_files_allowed=private_ok,
                )
                answer = file_options(
                    ((f.site, f.file) for f in found.files), name_sites=found.several
                )
    except TimeoutError:
        logger.warning("the file picker's search took over %.1f s: no options", SUGGESTION_DEADLINE)
        return []
    except (WixError, LinkOptionsError) as error:  # the quota, Wix busy or failing
        logger.info("the file picker's search failed (%s): no options", type(error).__name__)
        return []
    if answer.left_out:
        logger.info("the file picker left out %d file(s) whose ID is too long", answer.left_out)
    return answer.options


def form_channel(body: dict[str, Any]) -> str | None:
    """The conversation the form will post to, when one is picked already (else None)."""
    view = body.get("view")
    values = ((view or {}).get("state") or {}).get("values") if isinstance(view, dict) else None
    if not isinstance(values, dict):
        return None
    block = values.get(CONVERSATION_BLOCK)
    picked = block.get(CONVERSATION_ACTION) if isinstance(block, dict) else None
    channel = picked.get("selected_conversation") if isinstance(picked, dict) else None
    return channel if isinstance(channel, str) and 0 < len(channel) <= 40 else None


def search_words(value: object) -> str:
    """What was typed, spaces collapsed, within Wix's limit on search text."""
    if not isinstance(value, str):
        return ""
    return " ".join(value[:_MAX_VALUE_READ].split())[:MAX_SEARCH_TEXT_LENGTH].strip()


def register(app: AsyncApp, dispatcher: Dispatcher) -> None:
    dispatcher.listen(app.options({"action_id": PICKER_ACTION}), suggest_files)
