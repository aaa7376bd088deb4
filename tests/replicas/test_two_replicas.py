"""Two ``medialink serve`` replicas as real processes on loopback, against one
PostgreSQL and one Redis, sharing the fake Slack and the fake Wix: any replica answers
any request, and together they keep to one Wix limit.

The limit is scaled down (WIX_RATE_LIMIT per WIX_RATE_PERIOD seconds instead of 180 per
60) so a burst larger than two replicas' worth of it takes seconds, not minutes.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from bot.audit.schema import TABLE
from tests.fakes.slack import FakeSlack, Message
from tests.fakes.wix import OAUTH_TOKEN, FakeWix, issued_secrets
from tests.replicas.windows import most_in_any_window
from tests.slack.conftest import (
    CHANNEL_ID,
    USER_ID,
    block_actions_payload,
    command_form,
    interaction_body,
    manifest_bot_scopes,
    signed_headers,
    wix_url,
)
from tests.test_serve import free_port, serve, wait_healthy

RATE_LIMIT = 40  # Wix calls per period, for both replicas together
RATE_PERIOD = 1.0
BURST_FILES = 300
FILES_PER_COMMAND = 10


@pytest.fixture
def fakes() -> Iterator[tuple[FakeSlack, FakeWix]]:
    with FakeSlack(scopes=manifest_bot_scopes()) as slack, FakeWix() as wix:
        yield slack, wix


class Replica:
    def __init__(self, process: subprocess.Popen[str], port: int) -> None:
        self.process = process
        self.base = f"http://127.0.0.1:{port}"

    async def command(self, http: httpx.AsyncClient, slack: FakeSlack, file_ids: list[str]) -> str:
        """Send a signed /medialink for ``file_ids``; returns the reply's response_url."""
        response_url = slack.new_response_url(channel=CHANNEL_ID, user=USER_ID)
        body = command_form(
            " ".join(wix_url(file_id) for file_id in file_ids),
            response_url=response_url,
            trigger_id=slack.new_trigger_id(),
        )
        answer = await http.post(
            f"{self.base}/slack/events", content=body, headers=signed_headers(body.encode())
        )
        assert answer.status_code == 200, answer.text
        return response_url

    async def click(
        self, http: httpx.AsyncClient, slack: FakeSlack, message: Message, action_id: str
    ) -> str:
        response_url = slack.new_response_url(
            channel=message.channel, user=USER_ID, message_id=message.id
        )
        payload = block_actions_payload(
            message,
            message.block_of(action_id),
            message.element(action_id),
            response_url=response_url,
            trigger_id=slack.new_trigger_id(),
        )
        body = interaction_body(payload)
        answer = await http.post(
            f"{self.base}/slack/events", content=body, headers=signed_headers(body.encode())
        )
        assert answer.status_code == 200, answer.text
        return response_url

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            output, _ = self.process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            output, _ = self.process.communicate()
        return output


async def reply_of(slack: FakeSlack, response_url: str, *, within: float = 60.0) -> Message:
    [post, *_] = await slack.wait_for_posts(response_url, within=within)
    assert post.accepted, post.answer
    assert post.message_id is not None
    return slack.message(post.message_id)


async def audit_rows(url: str, file_ids: list[str]) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:
            result = await connection.execute(
                sa.text(
                    f"SELECT count(*) FROM {TABLE} "  # noqa: S608 - a constant table name
                    "WHERE outcome = 'ok' AND entry = 'command' AND file_id = ANY(:ids)"
                ),
                {"ids": file_ids},
            )
            return int(result.scalar_one())
    finally:
        await engine.dispose()


async def test_two_replicas_share_one_wix_limit_one_token_and_one_audit_trail(
    fakes: tuple[FakeSlack, FakeWix], redis_url: str, postgres_url: str, tmp_path: Path
) -> None:
    slack, wix = fakes
    shared_settings: dict[str, str | None] = {
        "WIX_API_KEY": None,
        "WIX_SITE_ID": None,
        "WIX_CLIENT_ID": FakeWix.CLIENT_ID,
        "WIX_CLIENT_SECRET": FakeWix.CLIENT_SECRET,
        "WIX_INSTANCE_ID": FakeWix.INSTANCE_ID,
        "REDIS_URL": redis_url,
        "DATABASE_URL": postgres_url,
        "WIX_RATE_LIMIT": str(RATE_LIMIT),
        "WIX_RATE_PERIOD": str(RATE_PERIOD),
        "MEDIALINK_USER_FILES_PER_MINUTE": "1000",
        "MEDIALINK_REPLICAS": "2",
    }
    replicas: list[Replica] = []
    for name in ("a", "b"):
        port = free_port()
        workdir = tmp_path / name
        workdir.mkdir()
        replicas.append(Replica(serve(slack, wix, port, workdir, **shared_settings), port))
    outputs: list[str] = []
    try:
        for replica in replicas:
            await asyncio.to_thread(wait_healthy, replica.base, replica.process, 60.0)
        first, second = replicas
        async with httpx.AsyncClient(timeout=30) as http:
            # Commands spread over both replicas.
            files = [wix.add_file(kind="image", display_name=f"n{n}.jpg") for n in range(4)]
            urls = [
                await (first if n % 2 == 0 else second).command(http, slack, [file_id])
                for n, file_id in enumerate(files)
            ]
            for n, url in enumerate(urls):
                assert f"n{n}.jpg" in (await reply_of(slack, url)).all_text()

            # A button on the first replica's reply, clicked through the second.
            reply = await reply_of(slack, urls[0])  # urls[0]: the first replica's
            links_before = len(wix.issued)
            click_url = await second.click(http, slack, reply, "medialink_regenerate")
            await slack.wait_for_posts(click_url, within=30)
            assert all(post.accepted for post in slack.posts(click_url))
            assert len(wix.issued) == links_before + 1  # the second replica made the link

            # A burst of file links over both replicas, larger than each one's share.
            burst = [wix.add_file(kind="image") for _ in range(BURST_FILES)]
            wix.reset()
            started = time.monotonic()
            chunks = [
                burst[at : at + FILES_PER_COMMAND]
                for at in range(0, BURST_FILES, FILES_PER_COMMAND)
            ]
            burst_urls = await asyncio.gather(
                *(replicas[n % 2].command(http, slack, chunk) for n, chunk in enumerate(chunks))
            )
            for url in burst_urls:
                await reply_of(slack, url, within=120)
        elapsed = time.monotonic() - started

        assert len(wix.issued) == BURST_FILES
        calls = [r.started for r in wix.requests if not r.path.endswith(OAUTH_TOKEN)]
        assert len(calls) > 2 * RATE_LIMIT  # more than both replicas' own windows
        assert most_in_any_window(calls, RATE_PERIOD) <= RATE_LIMIT
        # Not slower than the one shared limit allows (generously: a loaded machine).
        assert elapsed < 10 * len(calls) / RATE_LIMIT * RATE_PERIOD

        # One OAuth token for both replicas.
        assert wix.tokens_issued == 1

        # Every link of the burst is in the one audit trail (written in the background).
        deadline = time.monotonic() + 30
        while (rows := await audit_rows(postgres_url, burst)) < BURST_FILES:
            assert time.monotonic() < deadline, f"{rows} audit rows of {BURST_FILES}"
            await asyncio.sleep(0.2)
        assert rows == BURST_FILES
    finally:
        outputs = [replica.stop() for replica in replicas]
    for replica, output in zip(replicas, outputs, strict=True):
        assert replica.process.returncode == 0, output
        assert "Traceback" not in output
        assert not any(secret in output for secret in issued_secrets)
