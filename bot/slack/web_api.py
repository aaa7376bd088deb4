"""The Slack Web API client MediaLink uses, with a bounded wait on rate limits."""

from __future__ import annotations

import asyncio
import logging

from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

logger = logging.getLogger(__name__)

# Longest Retry-After MediaLink waits out for one Web API call; a longer wait is not
# worth holding a reply for (Slack's own handler sleeps for whatever the header says).
MAX_RETRY_AFTER = 10.0  # seconds
# A whole Web API call (the SDK's default is 30 s).
WEB_API_TIMEOUT = 15  # seconds


class CappedRateLimitRetryHandler(AsyncRetryHandler):
    """Retry a 429 once after Slack's ``Retry-After``, unless that asks for longer than
    ``max_wait`` (then the 429 stands, and the caller reports the failure)."""

    def __init__(self, max_wait: float = MAX_RETRY_AFTER) -> None:
        super().__init__(max_retry_count=1)
        self.max_wait = max_wait

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        if response is None or response.status_code != 429:
            return False
        wait = retry_after(response)
        return wait is not None and wait <= self.max_wait

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        wait = retry_after(response) if response is not None else None
        state.next_attempt_requested = True
        await asyncio.sleep(min(wait if wait is not None else 1.0, self.max_wait))
        state.increment_current_attempt()


def retry_after(response: HttpResponse) -> float | None:
    """Seconds from a ``Retry-After`` header given in seconds; None when absent or unreadable."""
    for name, values in response.headers.items():
        if name.lower() == "retry-after" and values:
            text = str(values[0]).strip()
            if text.isascii() and text.isdigit() and len(text) <= 6:
                return float(text)
            return None
    return 1.0  # Slack always sends one with a 429; without, a short pause


def build_web_client(token: str | None, base_url: str) -> AsyncWebClient:
    """A client on ``base_url``; without a token (OAuth mode) each request's client gets
    its installation's token from Bolt's authorize."""
    # The SDK's and Bolt's own loggers are kept (no logger= here): bot.logs keeps the
    # library loggers from writing request bodies at any level.
    return configure_web_client(AsyncWebClient(token=token), base_url)


def configure_web_client(client: AsyncWebClient, base_url: str) -> AsyncWebClient:
    """Point ``client`` at ``base_url`` with MediaLink's deadline and rate-limit retry.

    For the client Bolt makes from the bot token: Bolt copies these attributes into
    every request's client (docs/slack.md, Bolt's client)."""
    client.base_url = base_url
    client.timeout = WEB_API_TIMEOUT
    client.retry_handlers.append(CappedRateLimitRetryHandler())
    return client
