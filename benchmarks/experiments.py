"""What-if variants of MediaLink, for before/after numbers without touching ``bot/``.

Each one stands in for a change proposed to the app (see README, "Findings"); the
runner applies it only when asked (``python -m benchmarks.serve medialink
--experiment NAME``), and the default benchmark measures the app as it is.

Four earlier variants (sniffio, Wix calls over aiohttp, httpx logs at WARNING, work
after the ack) are now part of the app; their before/after numbers are in the README.

- ``shared-webhook-session``: response_url posts through one long-lived aiohttp session.
  Bolt's ``respond()`` builds an ``AsyncWebhookClient`` without a session, which opens
  a new ``aiohttp.ClientSession`` (and so a new TCP, in production TLS, connection) for
  every post.
"""

from __future__ import annotations

from typing import Any

import aiohttp

EXPERIMENTS = ("shared-webhook-session",)


def share_webhook_session() -> None:
    """Give every ``AsyncWebhookClient`` made without a session one shared session."""
    from slack_sdk.webhook.async_client import AsyncWebhookClient  # noqa: PLC0415

    original = AsyncWebhookClient.__init__
    shared: list[aiohttp.ClientSession] = []

    def __init__(self: AsyncWebhookClient, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        if self.session is None:
            if not shared or shared[0].closed:
                # Made on first use, inside the running loop (Bolt calls respond() there).
                timeout = aiohttp.ClientTimeout(total=self.timeout)
                shared[:] = [aiohttp.ClientSession(timeout=timeout)]
            self.session = shared[0]

    AsyncWebhookClient.__init__ = __init__  # type: ignore[method-assign]
