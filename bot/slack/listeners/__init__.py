"""Listeners, one module per Slack surface, each with ``register(app, deps)``.

Listeners are thin: acknowledge, hand the work to the link service, render, deliver.
What they share (the dependencies, and "make the links for this state") lives here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.durations import whole_minutes
from bot.slack.button_state import LinkState
from bot.slack.render import Message, allowed_expiry_choices, render_link_reply
from bot.wix.links import FileLinks, LinkOptions, LinkService
from bot.wix.refs import MediaRef, RejectedToken

COMMAND = "/medialink"
MESSAGE_SHORTCUT = "medialink_message"
GLOBAL_SHORTCUT = "medialink_global"


@dataclass(frozen=True, slots=True)
class SlackDeps:
    """What the listeners need, built once by ``bot.app.build_app``."""

    links: LinkService
    max_refs: int
    share_enabled: bool

    @property
    def max_expiry(self) -> timedelta:
        return self.links.max_expiry

    @property
    def default_expiry(self) -> timedelta:
        return self.links.default_expiry

    @property
    def expiry_choices(self) -> tuple[int, ...]:
        return allowed_expiry_choices(whole_minutes(self.max_expiry))


async def links_for_state(links: LinkService, state: LinkState) -> list[FileLinks]:
    """Make every file's links again, in the state's order (one call per set of renditions)."""
    outcomes = await asyncio.gather(
        *(links.generate(refs, options) for refs, options in state.requests())
    )
    by_id = {result.file_id: result for outcome in outcomes for result in outcome}
    return [by_id[file.file_id] for file in state.files if file.file_id in by_id]


async def new_link_reply(
    deps: SlackDeps,
    *,
    user_id: str,
    refs: Sequence[MediaRef],
    options: LinkOptions,
    rejected: Sequence[RejectedToken] = (),
) -> list[Message]:
    """Links for a fresh request, rendered with buttons. Options must be checked already."""
    state = LinkState.for_request(
        user_id, refs, options, deps.links.resolve_expiry(options.expires_in)
    )
    return await remade_link_reply(deps, state, rejected=rejected)


async def remade_link_reply(
    deps: SlackDeps, state: LinkState, *, rejected: Sequence[RejectedToken] = ()
) -> list[Message]:
    results = await links_for_state(deps.links, state)
    return render_link_reply(
        results,
        state,
        rejected=rejected,
        expiry_choices=deps.expiry_choices,
        share_enabled=deps.share_enabled,
    )


def user_id_of(body: dict[str, Any]) -> str:
    """The acting user: ``user_id`` in commands, ``user.id`` in interactive payloads."""
    user = body.get("user")
    if isinstance(user, dict) and isinstance(user.get("id"), str):
        return str(user["id"])
    return str(body.get("user_id", ""))


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
