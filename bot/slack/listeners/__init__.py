"""Listeners, one module per Slack surface, each with ``register(app, dispatcher)``.

Listeners are module-level functions that take what they need by name, as Bolt passes
it (``ack``, ``body``, ``respond``, ``client``, ``context``), and find MediaLink's own
dependencies in the context (``deps_of``). They are thin: acknowledge, hand the work to
the link service, render, deliver. What they share lives here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient

from bot.audit import AuditTrail
from bot.audit.events import Requester, link_events, refusal_event
from bot.durations import whole_minutes
from bot.logs import request_id_var
from bot.metrics import BUSY, QUOTA, Metrics
from bot.policy import AccessGate, AccessPolicy
from bot.sites.model import SiteChoiceError
from bot.sites.registry import NO_SITE, SiteRegistry
from bot.slack.button_state import LinkState
from bot.slack.delivery import deliver_ephemeral
from bot.slack.messages import describe_error
from bot.slack.render import Message, allowed_expiry_choices, render_link_reply, render_notice
from bot.tenancy import tenant_of
from bot.wix.errors import WixError
from bot.wix.fairness import FileQuotaError, WixBusyError
from bot.wix.links import FileLinks, LinkOptions, LinkOptionsError, LinkService
from bot.wix.refs import MediaRef, RejectedToken
from bot.workspaces.service import Workspaces

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class SlackDeps:
    """What the listeners need, built once by ``bot.app.build_app``."""

    links: LinkService
    max_refs: int
    share_enabled: bool
    # ``respond()`` for a response_url that Bolt does not know of (the form's picker).
    respond_to: Callable[[str], AsyncRespond]
    audit: AuditTrail
    # Who may (checked by bot.slack.access before any listener), private files, zip.
    policy: AccessPolicy = field(default_factory=AccessPolicy)
    # The app's metrics (links issued, quota and busy refusals); None counts nothing.
    metrics: Metrics | None = None
    # The policy with the Slack directory, for entries whose person is not the payload's
    # user (the workflow step acts for a person named in its inputs); None refuses them.
    gate: AccessGate | None = None
    # Workflow step executions already taken on (bounded in bot.slack.listeners.workflow).
    recent_steps: OrderedDict[str, None] = field(default_factory=OrderedDict)
    # The connected Wix sites (bot/sites); None: every link from the environment's site.
    sites: SiteRegistry | None = None
    # OAuth mode: the tenant (bot.tenancy) served; what it reads of the record is its own.
    # None: one workspace, the whole record.
    tenant: str | None = None
    # Per-workspace settings, installations and clean-up (bot.workspaces).
    workspaces: Workspaces | None = None

    @property
    def max_expiry(self) -> timedelta:
        return self.links.max_expiry

    @property
    def default_expiry(self) -> timedelta:
        return self.links.default_expiry

    @property
    def expiry_choices(self) -> tuple[int, ...]:
        return allowed_expiry_choices(whole_minutes(self.max_expiry))


async def ack_with(ack: AsyncAck, message: Message) -> None:
    """Answer in the ack itself, privately: the person's own text must not reach the channel."""
    await ack(
        text=message["text"],
        blocks=message["blocks"],
        response_type="ephemeral",
        unfurl_links=False,
        unfurl_media=False,
    )


def checked_options(deps: SlackDeps, options: LinkOptions) -> LinkOptions:
    """``options`` checked, with the expiry resolved (the one place it is); raises
    ``LinkOptionsError`` saying what to change."""
    deps.links.check_options(options)
    return replace(options, expires_in=deps.links.resolve_expiry(options.expires_in))


@contextlib.asynccontextmanager
async def button_site_links(
    deps: SlackDeps, requester: Requester, site: str | None
) -> AsyncIterator[tuple[str | None, LinkService]]:
    """The link service for a button's files on ``site`` (None: the channel's default), a
    site the clicker's workspace must still have, and that site's name; with no connected
    sites, the environment's service and None. Raises ``SiteChoiceError`` as
    ``SiteRegistry.service`` does."""
    if deps.sites is None:
        yield None, deps.links
        return
    async with deps.sites.service(
        requester.tenant, site_name=site, channel_id=requester.channel_id, pinned=True
    ) as (used, links):
        yield used.name, links


def typed_options(
    deps: SlackDeps, options: LinkOptions, problems: Sequence[str]
) -> tuple[LinkOptions, list[str]]:
    """Typed ``options`` checked as ``checked_options`` does, unless reading them already
    found ``problems``; the options to use and every problem, each a sentence."""
    if problems:
        return options, list(problems)
    try:
        return checked_options(deps, options), []
    except LinkOptionsError as error:
        return options, [describe_error(error)]


def requester_of(context: Mapping[str, Any], entry: str) -> Requester:
    """Who is asking, from Bolt's context (filled from the signed payload)."""
    user_id = context.get("user_id")
    if not isinstance(user_id, str) or not user_id:
        raise LookupError("the payload names no user")
    return Requester(
        entry=entry,
        user_id=user_id,
        team_id=_text(context.get("team_id")),
        enterprise_id=_text(context.get("enterprise_id")),
        channel_id=_text(context.get("channel_id")),
        request_id=request_id_var.get(),
        tenant=tenant_of_context(context),
    )


def tenant_of_context(context: Mapping[str, Any]) -> str | None:
    """The tenant whose sites serve this request: the installation that serves it (the
    bot token's workspace in single-workspace mode), else the payload's workspace."""
    authorized = context.get("authorize_result")
    team = getattr(authorized, "team_id", None) or context.get("team_id")
    enterprise = getattr(authorized, "enterprise_id", None) or context.get("enterprise_id")
    try:
        return tenant_of(
            _text(team),
            _text(enterprise),
            enterprise_install=bool(context.get("is_enterprise_install")),
        )
    except ValueError:
        return None


async def _generate(
    deps: SlackDeps,
    requester: Requester,
    refs: Sequence[MediaRef],
    options: LinkOptions,
    pinned: Mapping[str, str] | None = None,
) -> list[FileLinks]:
    private_ok = deps.policy.may_link_private(requester.user_id)
    if deps.sites is None:
        return await deps.links.generate(
            refs, options, requester=requester.user_id, private_files_allowed=private_ok
        )
    if requester.tenant is None:  # a payload naming no workspace is served for none
        raise SiteChoiceError(NO_SITE)
    return await deps.sites.generate(
        refs,
        options,
        tenant=requester.tenant,
        channel_id=requester.channel_id,
        site_name=options.site,
        requester=requester.user_id,
        private_files_allowed=private_ok,
        pinned=pinned,
    )


async def make_links(
    deps: SlackDeps,
    requester: Requester,
    refs: Sequence[MediaRef],
    options: LinkOptions,
    *,
    pinned: Mapping[str, str] | None = None,
) -> list[FileLinks]:
    """The link service's ``generate``, with every file's outcome in the audit trail. A
    request MediaLink takes on no more work for (the member's quota, or too much under
    way) is recorded as refused and ``WixBusyError`` raised. ``pinned``: file ID → the
    site a button says the file is on (``SiteRegistry.generate``)."""
    try:
        results = await _generate(deps, requester, refs, options, pinned)
    except WixBusyError as busy:
        deps.audit.record([refusal_event(requester, str(busy))])
        if deps.metrics is not None and not isinstance(busy, SiteChoiceError):
            deps.metrics.refused(QUOTA if isinstance(busy, FileQuotaError) else BUSY)
        raise
    deps.audit.record(link_events(requester, results, asked_keys=options.asset_keys))
    if deps.metrics is not None:
        deps.metrics.links_made(requester.entry, sum(1 for result in results if result.ok))
    return results


async def fresh_link_reply(
    deps: SlackDeps,
    *,
    requester: Requester,
    refs: Sequence[MediaRef],
    options: LinkOptions,
    rejected: Sequence[RejectedToken] = (),
    pinned: Mapping[str, str] | None = None,
) -> list[Message]:
    """Links for a fresh request, rendered with buttons; ``options`` from ``checked_options``.
    The buttons remember the site each file's links came from, so a click makes links on
    the same site. ``pinned``: file ID → the site a button or picked option named.

    When MediaLink takes on no more work for this person now (their quota, or too many
    requests under way), the reply says so instead.
    """
    try:
        results = await make_links(deps, requester, refs, options, pinned=pinned)
    except WixBusyError as busy:
        return [render_notice(describe_error(busy))]
    user_id = requester.user_id or ""  # requester_of() insists on one
    state = LinkState.for_request(user_id, refs, options).with_sites(
        {result.file_id: result.site for result in results}
    )
    return render_reply(deps, results, state, rejected)


def render_reply(
    deps: SlackDeps,
    results: Sequence[FileLinks],
    state: LinkState,
    rejected: Sequence[RejectedToken],
) -> list[Message]:
    return render_link_reply(
        results,
        state,
        rejected=rejected,
        expiry_choices=deps.expiry_choices,
        share_enabled=deps.share_enabled,
        zip_enabled=deps.policy.may_zip(state.user_id),
    )


async def links_for_state(
    deps: SlackDeps, state: LinkState, requester: Requester
) -> list[FileLinks]:
    """Make every file's links again, in the state's order (one call per set of renditions),
    recorded; raises ``WixBusyError`` as ``make_links`` does."""
    pinned = state.sites()  # the sites the reply's links came from; none in old buttons
    outcomes = await asyncio.gather(
        *(
            make_links(deps, requester, refs, options, pinned=pinned)
            for refs, options in state.requests()
        )
    )
    by_id = {result.file_id: result for outcome in outcomes for result in outcome}
    results = []
    for file in state.files:
        result = by_id.get(file.file_id)
        if result is None:  # the link service answers every file; say so if it did not
            logger.error("the link service gave no result for a file of a button's state")
            result = FileLinks(ref=file.ref(), error=WixError("no answer for this file"))
        results.append(result)
    return results


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def user_id_of(body: dict[str, Any]) -> str:
    """The acting user: ``user_id`` in commands, ``user.id`` in interactive payloads.

    Every payload Slack signs names one; a payload without is refused loudly rather
    than served as nobody (whose buttons would then always answer "stale").
    """
    user = body.get("user")
    if isinstance(user, dict) and isinstance(user.get("id"), str) and user["id"]:
        return str(user["id"])
    user_id = body.get("user_id")
    if isinstance(user_id, str) and user_id:
        return user_id
    raise LookupError("the payload names no user")


def channel_id_of(body: dict[str, Any]) -> str | None:
    channel = body.get("channel")
    if isinstance(channel, dict) and isinstance(channel.get("id"), str):
        return str(channel["id"])
    if isinstance(body.get("channel_id"), str):
        return str(body["channel_id"])
    container = body.get("container")
    if isinstance(container, dict) and isinstance(container.get("channel_id"), str):
        return str(container["channel_id"])
    return None


async def answer_privately(
    messages: Sequence[Message],
    payload: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
    *,
    user_id: str | None = None,
    replace_original: bool = False,
) -> None:
    """``messages`` only the person sees, in the channel ``payload`` came from;
    ``user_id`` defaults to the payload's acting user."""
    await deliver_ephemeral(
        messages,
        respond=respond,
        client=client,
        channel_id=channel_id_of(payload),
        user_id=user_id_of(payload) if user_id is None else user_id,
        replace_original=replace_original,
    )
