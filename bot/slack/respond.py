"""``respond()`` over one shared HTTP session (the dispatcher's).

Bolt's ``respond()`` opens a new aiohttp session, and so a new connection (a TLS
handshake to Slack in production), for every post; this reuses one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import aiohttp
from slack_bolt.context.respond.async_respond import AsyncRespond
from slack_sdk.webhook import WebhookResponse
from slack_sdk.webhook.async_client import AsyncWebhookClient


class SessionRespond(AsyncRespond):
    """Posts to one response_url through a shared ``aiohttp.ClientSession``, asked of
    ``session`` at the first post (so a request that never posts opens nothing)."""

    def __init__(self, *, response_url: str, session: Callable[[], aiohttp.ClientSession]) -> None:
        super().__init__(response_url=response_url)
        self.session = session

    def webhook(self) -> AsyncWebhookClient:
        """A webhook client for this response_url over the shared session."""
        assert self.response_url is not None  # noqa: S101 - set in __init__
        return AsyncWebhookClient(url=self.response_url, session=self.session())

    async def __call__(  # type: ignore[override]  # the keyword subset MediaLink uses
        self,
        text: str = "",
        *,
        blocks: Sequence[Mapping[str, Any]] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
    ) -> WebhookResponse:
        return await self.webhook().send(
            text=text,
            blocks=[dict(block) for block in blocks] if blocks is not None else None,
            response_type=response_type,
            replace_original=replace_original,
            delete_original=delete_original,
            unfurl_links=unfurl_links,
            unfurl_media=unfurl_media,
        )
