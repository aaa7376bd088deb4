"""The directory against the loopback fake Slack: one caller's cancellation is not
another's."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.policy import Directory, DirectoryUnavailable
from tests.fakes.slack import FakeSlack
from tests.slack.conftest import manifest_bot_scopes


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    with FakeSlack(scopes=manifest_bot_scopes()) as slack:
        yield slack


async def test_a_cancelled_asker_leaves_others_asking_the_same_a_plain_answer(
    fake_slack: FakeSlack,
) -> None:
    """Concurrent asks for one person share one users.info; if the first asker's request
    is cancelled, the others must get an answer or "try again", not a cancellation."""
    fake_slack.delays["users.info"] = 0.5
    directory = Directory(AsyncWebClient(token=fake_slack.bot_token, base_url=fake_slack.api_url))
    first = asyncio.create_task(directory.user("U0ALICE01"))
    await asyncio.sleep(0.05)
    second = asyncio.create_task(directory.user("U0ALICE01"))
    await asyncio.sleep(0.05)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    try:
        facts = await second
    except DirectoryUnavailable:
        return  # "try again": fine
    assert facts.known
