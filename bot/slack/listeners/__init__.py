"""Listeners, one module per Slack surface, each with ``register(app, dispatcher)``.

Listeners are module-level functions that take what they need by name, as Bolt passes
it (``ack``, ``body``, ``respond``, ``client``, ``context``), and find MediaLink's own
dependencies in the context (``deps_of``). They are thin: acknowledge, hand the work to
the link service, render, deliver. What they share lives here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_bolt.context.respond.async_respond import AsyncRespond

from bot.audit import AuditTrail
from bot.durations import whole_minutes
from bot.slack.button_state import LinkState
from bot.slack.messages import describe_error
from bot.slack.render import Message, allowed_expiry_choices, render_link_reply, render_notice
from bot.wix.errors import WixError
from bot.wix.fairness import WixBusyError
from bot.wix.links import FileLinks, LinkOptions, LinkService
from bot.wix.refs import MediaRef, RejectedToken

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
    # Who may see everyone's record (MEDIALINK_ADMINS), and who may link private files
    # (MEDIALINK_PRIVATE_FILES): the history and the App Home show and use them.
    admins: frozenset[str] = frozenset()
    private_files: str | None = None

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


async def fresh_link_reply(
    deps: SlackDeps,
    *,
    user_id: str,
    refs: Sequence[MediaRef],
    options: LinkOptions,
    rejected: Sequence[RejectedToken] = (),
) -> list[Message]:
    """Links for a fresh request, rendered with buttons; ``options`` from ``checked_options``.

    When MediaLink takes on no more work for this person now (their quota, or too many
    requests under way), the reply says so instead.
    """
    try:
        results = await deps.links.generate(refs, options, requester=user_id)
    except WixBusyError as busy:
        return [render_notice(describe_error(busy))]
    return render_reply(deps, results, LinkState.for_request(user_id, refs, options), rejected)


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
    )


async def links_for_state(links: LinkService, state: LinkState) -> list[FileLinks]:
    """Make every file's links again, in the state's order (one call per set of renditions),
    for the person the state belongs to; raises ``WixBusyError`` as ``generate`` does."""
    outcomes = await asyncio.gather(
        *(
            links.generate(refs, options, requester=state.user_id)
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
