"""The app's error handler is the last resort: a payload of an odd shape must not make it fail."""

import asyncio
import logging
from typing import Any

import pytest
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.app import report_listener_error
from bot.dispatch import Dispatcher


@pytest.mark.parametrize(
    "body",
    [
        {"view": "not an object"},
        {"response_urls": {"response_url": "x"}},
        {"response_urls": ["not an object"]},
        {"view": {"response_urls": "not a list"}},
    ],
)
async def test_an_odd_payload_shape_is_logged_not_raised(
    body: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    dispatcher = Dispatcher()
    request = AsyncBoltRequest(body="{}", mode="socket_mode")  # from Slack: answered
    with caplog.at_level(logging.ERROR, logger="bot.slack"):
        report_listener_error(dispatcher, RuntimeError("boom"), body, request)
    assert "failed with RuntimeError" in caplog.text
    await asyncio.sleep(0)
    assert await dispatcher.finish(0) == 0  # nothing to apologise to: no URL found
