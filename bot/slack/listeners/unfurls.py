"""Link unfurls (opt-in, ``MEDIALINK_UNFURL``): a posted Wix media URL gets the file's
name, type and size under it, and a "Get a download link" button.

``link_shared`` (docs/slack.md, Link unfurls) names the posted URLs on MediaLink's unfurl
domains; the Wix media ones are described with one descriptor call, counted against the
poster's quota like any Wix call, and ``chat.unfurl`` attaches the blocks. No download
link is made at unfurl time. A URL Wix cannot describe is left as it is (and logged).

The files are described through the poster's workspace's own Wix sites (the channel's
default site first, then its others: ``SiteRegistry.file_facts``), never a site that
workspace may not use; a workspace with none gets no unfurl and Wix is not asked.

The button carries the file ID and the site that described it (``site/file ID``; a
button made before sites were named holds the file ID alone, and its site is chosen as
for a pasted URL). Whoever clicks it passes the access policy first
(bot/slack/access.py, entry ``button:unfurl``), then gets a private link through the
same path as the command (``fresh_link_reply``): the private-files rule applies to them,
and the link is recorded. Slack sends a response_url with clicks on an unfurl, so the
reply is ephemeral there, with ``chat.postEphemeral`` as the fallback.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.audit import Entry
from bot.policy.access import AccessPolicy, PrivateFiles
from bot.slack.button_state import read_site_file
from bot.slack.listeners import (
    SlackDeps,
    answer_privately,
    checked_options,
    fresh_link_reply,
    requester_of,
    tenant_of_context,
)
from bot.slack.listeners.actions import acknowledge, read_button
from bot.slack.middleware import deps_of
from bot.slack.render.unfurl import render_unfurl
from bot.slack.surfaces import LINK_SHARED, UNFURL_ACTION
from bot.wix.errors import WixError
from bot.wix.fairness import WixBusyError
from bot.wix.links import FileFacts, LinkOptions
from bot.wix.refs import MAX_TOKEN_CHARS, MediaRef, parse_media_ref

if TYPE_CHECKING:
    from bot.dispatch import Dispatcher

logger = logging.getLogger(__name__)

# URLs unfurled per event. Slack sends the links of one message, a handful at most
# (its exact cap is not documented); the rest are left as they are.
MAX_UNFURL_LINKS = 10
# Seconds the descriptor call may wait for its turn in the rate limiter: an unfurl that
# comes much later is no longer worth it.
UNFURL_MAX_WAIT = 30.0
COMPOSER = "composer"

_CHANNEL = re.compile(r"[CDG][A-Z0-9]{1,40}")
_USER = re.compile(r"[UW][A-Z0-9]{1,40}")
_TS = re.compile(r"[0-9]{1,20}\.[0-9]{1,20}")
_UNFURL_ID = re.compile(r"[A-Za-z0-9._\-]{1,300}")


def everyone_here_may_link_private(
    policy: AccessPolicy,
    *,
    channel_id: str | None,
    shared_with_other_orgs: bool | None,
    whole_org_allowed: bool,
) -> bool:
    """Whether every person who can see an unfurl in this conversation could make a link
    to a private file themselves, so its name may be shown there.

    Read from ``AccessPolicy.decide`` and ``may_link_private``, which let a person make a
    private file's link only when all of these hold, for anyone in the conversation:

    - ``MEDIALINK_PRIVATE_FILES=everyone`` (``admins`` and ``nobody`` leave others out);
    - no ``MEDIALINK_ALLOWED_USERS`` and no ``MEDIALINK_ALLOWED_USERGROUPS`` (either
      list leaves out whoever is not on it);
    - the conversation is known and allowed: no ``MEDIALINK_ALLOWED_CHANNELS``, or it
      is on that list (a message still being written has no conversation yet);
    - ``MEDIALINK_ALLOW_GUESTS=true``: guests may be in any conversation, and MediaLink
      does not ask Slack who is in it;
    - ``MEDIALINK_ALLOW_EXTERNAL=true``, or Slack says the conversation is not shared
      with another organisation (``is_ext_shared_channel: false``);
    - the workspaces allowed include the whole org, when the event comes from one (a
      channel can be shared between the org's workspaces).
    """
    s = policy.settings
    channel_ok = channel_id is not None and (
        not s.allowed_channels or channel_id in s.allowed_channels
    )
    return (
        s.private_files is PrivateFiles.EVERYONE
        and not s.allowed_users
        and not s.allowed_usergroups
        and channel_ok
        and s.allow_guests
        and (s.allow_external or shared_with_other_orgs is False)
        and whole_org_allowed
    )


@dataclass(frozen=True, slots=True)
class UnfurlTarget:
    """Where ``chat.unfurl`` attaches: ``channel`` + ``ts``, or ``unfurl_id`` + ``source``."""

    channel: str | None = None
    ts: str | None = None
    unfurl_id: str | None = None
    source: str | None = None


def unfurl_target(event: Mapping[str, Any]) -> UnfurlTarget | None:
    """``unfurl_id`` + ``source`` for a message still in the composer, else ``channel`` +
    ``ts`` of the posted message (docs/slack.md, Link unfurls); None if malformed."""
    if event.get("source") == COMPOSER:
        unfurl_id = event.get("unfurl_id")
        if isinstance(unfurl_id, str) and _UNFURL_ID.fullmatch(unfurl_id):
            return UnfurlTarget(unfurl_id=unfurl_id, source=COMPOSER)
        return None
    channel = event.get("channel") or event.get("channel_id")
    ts = event.get("message_ts")
    if (
        isinstance(channel, str)
        and _CHANNEL.fullmatch(channel)
        and isinstance(ts, str)
        and _TS.fullmatch(ts)
    ):
        return UnfurlTarget(channel=channel, ts=ts)
    return None


def wix_links(links: object) -> list[tuple[str, MediaRef]]:
    """The event's Wix media URLs with their file reference, in order, at most
    ``MAX_UNFURL_LINKS``; anything else (another site, a page, a zip) is skipped."""
    found: list[tuple[str, MediaRef]] = []
    if not isinstance(links, list):
        return found
    for link in links[: MAX_UNFURL_LINKS * 2]:  # the count read is bounded too
        url = link.get("url") if isinstance(link, dict) else None
        if not isinstance(url, str) or len(url) > MAX_TOKEN_CHARS:
            continue
        ref = parse_media_ref(url)
        if isinstance(ref, MediaRef) and all(url != seen for seen, _ in found):
            found.append((url, ref))
            if len(found) == MAX_UNFURL_LINKS:
                break
    return found


async def unfurl_links(
    ack: AsyncAck,
    event: dict[str, Any],
    body: dict[str, Any],
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    await ack()  # first: Slack refuses chat.unfurl for an event not acknowledged
    links = wix_links(event.get("links"))
    target = unfurl_target(event)
    poster = event.get("user")
    if not links or target is None or not isinstance(poster, str) or not _USER.fullmatch(poster):
        return
    deps = deps_of(context)
    channel_id = target.channel
    teams = _allowed_teams(deps.policy, context)
    if not teams & {context.team_id, context.enterprise_id}:
        return  # not a workspace MediaLink serves
    if deps.policy.settings.allowed_channels and channel_id not in (
        deps.policy.settings.allowed_channels
    ):
        return  # nobody but admins could use the button here (or the channel is unknown yet)
    try:
        facts = await _describe(
            deps, [ref.file_id for _, ref in links], context, channel_id=channel_id, poster=poster
        )
    except WixBusyError as busy:  # the poster's quota, too much under way, or no site
        logger.info("unfurl skipped: %s", type(busy).__name__)
        return
    except WixError as error:
        logger.warning("unfurl skipped: Wix did not describe the files (%s)", type(error).__name__)
        return
    show_private_name = everyone_here_may_link_private(
        deps.policy,
        channel_id=channel_id,
        shared_with_other_orgs=_flag(body.get("is_ext_shared_channel")),
        whole_org_allowed=context.enterprise_id is None or context.enterprise_id in teams,
    )
    unfurls = {
        url: {
            "blocks": render_unfurl(
                ref,
                facts[ref.file_id][1],
                index=index,
                show_private_name=show_private_name,
                site=facts[ref.file_id][0],
            )
        }
        for index, (url, ref) in enumerate(links)
        if ref.file_id in facts
    }
    if len(unfurls) < len(links):
        logger.info("unfurl: Wix described %d of %d files", len(unfurls), len(links))
    if not unfurls:
        return
    try:
        await client.chat_unfurl(
            unfurls=unfurls,
            channel=target.channel,
            ts=target.ts,
            unfurl_id=target.unfurl_id,
            source=target.source,
        )
    except SlackApiError as error:
        # The error code only: Slack's answer may quote the blocks.
        code = error.response.get("error") if error.response is not None else None
        logger.warning("chat.unfurl failed: %s", code if isinstance(code, str) else "?")


async def _describe(
    deps: SlackDeps,
    file_ids: list[str],
    context: AsyncBoltContext,
    *,
    channel_id: str | None,
    poster: str,
) -> dict[str, tuple[str | None, FileFacts]]:
    """Each file's facts and the site that has it, from the workspace's own sites."""
    deadline = deps.links.clock() + UNFURL_MAX_WAIT
    if deps.sites is None:
        found = await deps.links.file_facts(file_ids, requester=poster, deadline=deadline)
        return {file_id: (None, facts) for file_id, facts in found.items()}
    described = await deps.sites.file_facts(
        file_ids,
        tenant=tenant_of_context(context),
        channel_id=channel_id,
        requester=poster,
        deadline=deadline,
    )
    return {file_id: (site, facts) for file_id, (site, facts) in described.items()}


async def link_from_unfurl(
    ack: AsyncAck,
    body: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    context: AsyncBoltContext,
) -> None:
    """ "Get a download link": the clicker's own private link to the button's file."""
    await ack()
    deps = deps_of(context)
    read = await read_button(read_site_file, body, respond, client, kind="unfurl button")
    if read is None:
        return
    site, ref = read
    messages = await fresh_link_reply(
        deps,
        requester=requester_of(context, Entry.UNFURL_BUTTON),
        refs=[ref],
        options=_default_options(deps),
        pinned=None if site is None else {ref.file_id: site},  # the clicker's own site so named
    )
    await answer_privately(messages, body, respond, client)


def _default_options(deps: SlackDeps) -> LinkOptions:
    return checked_options(deps, LinkOptions())


def _allowed_teams(policy: AccessPolicy, context: AsyncBoltContext) -> frozenset[str]:
    authorized = context.authorize_result
    return policy.teams(
        authorized.team_id if authorized is not None else None,
        authorized.enterprise_id if authorized is not None else None,
    )


def _flag(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def register(app: AsyncApp, dispatcher: Dispatcher, *, unfurl: bool = False) -> None:
    """The button always (unfurls made before a restart keep working); ``link_shared``
    unfurls only with ``unfurl``, and is otherwise acknowledged and ignored."""
    dispatcher.listen(app.action(UNFURL_ACTION), link_from_unfurl)
    dispatcher.listen(app.event(LINK_SHARED), unfurl_links if unfurl else acknowledge)
