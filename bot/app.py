"""The composition root: ``build_app(settings, services)`` wires MediaLink's Slack app.

Nothing here reads the environment or opens a connection: settings and services come
in, an ``AsyncApp`` goes out, and tests build one against fakes the same way. Bolt
calls ``auth.test`` on the first request, against ``SLACK_API_URL``.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.config import Settings
from bot.services import Services
from bot.slack.listeners import SlackDeps, actions, commands, shortcuts, views
from bot.slack.messages import SOMETHING_WENT_WRONG
from bot.slack.middleware import RequestContext, current_request, describe_request

logger = logging.getLogger("bot.slack")


def build_app(settings: Settings, services: Services) -> AsyncApp:
    """The Slack app: listeners for every surface, middleware, and the error handler.

    Raises ``SettingsError`` when the Slack settings are missing or malformed.
    """
    settings.require_slack()
    assert settings.slack_bot_token is not None  # noqa: S101 - require_slack() checked it
    # The SDK's and Bolt's own loggers are kept (no logger= here or below): at DEBUG they
    # print whole request bodies, signed links included, and bot.logs keeps exactly
    # those library loggers at INFO or above.
    client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(),
        base_url=settings.slack_api_url,
    )
    # Honour one 429 Retry-After from the Web API (the SDK only retries dropped connections).
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=1))
    secret = settings.slack_signing_secret
    app = AsyncApp(
        name="medialink",
        client=client,
        # Passed even when empty, so Bolt never falls back to reading the environment.
        # Socket Mode needs no secret; HTTP mode without one refuses every request.
        signing_secret=secret.get_secret_value() if secret is not None else "",
        # Bolt sends the ack when the listener returns, and every listener is wrapped in
        # answer_at_ack, which returns at ack() and finishes the work in a task: Slack
        # gets its answer at once, without Bolt's default 10 ms poll for it.
        process_before_response=True,
    )
    app.use(RequestContext())
    app.error(report_listener_error)

    deps = SlackDeps(
        links=services.links,
        max_refs=services.max_refs,
        share_enabled=settings.medialink_share_enabled,
    )
    for group in (commands, shortcuts, actions, views):
        group.register(app, deps)
    return app


async def report_listener_error(error: Exception, body: dict[str, Any]) -> None:
    """Log what failed (the type and where, never the message, which may hold a link)
    and tell the person in plain words when the request left a way to answer."""
    info = current_request.get()
    where = _raise_site(error)
    logger.error(
        "%s failed with %s%s",
        info.describe() if info else describe_request(body),
        type(error).__name__,
        f" at {where}" if where else "",
    )
    url = _response_url(body)
    if url is None:
        return
    # In the background: when a listener fails before ack(), Bolt answers Slack only
    # after this handler returns, and the apology must not hold that answer up.
    task = asyncio.create_task(_apologise(url))
    _apologies.add(task)
    task.add_done_callback(_apologies.discard)


_apologies: set[asyncio.Task[None]] = set()  # keeps running apologies referenced


async def _apologise(url: str) -> None:
    try:
        await AsyncWebhookClient(url).send(
            text=SOMETHING_WENT_WRONG, response_type="ephemeral", replace_original=False
        )
    except Exception as failure:  # the last resort must not raise
        logger.warning("could not tell the user about the failure: %s", type(failure).__name__)


def _response_url(body: dict[str, Any]) -> str | None:
    url = body.get("response_url")
    if isinstance(url, str):
        return url
    urls = body.get("response_urls") or (body.get("view") or {}).get("response_urls") or []
    first = urls[0] if urls and isinstance(urls[0], dict) else {}
    url = first.get("response_url")
    return url if isinstance(url, str) else None


def _raise_site(error: BaseException) -> str | None:
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return None
    last = frames[-1]
    return f"{last.filename.rsplit('/', 1)[-1]}:{last.lineno}"
