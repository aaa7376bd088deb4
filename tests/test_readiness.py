"""``GET /readyz`` through the real HTTP server: settings, Slack (a cached ``auth.test``
with a deadline), the database, and draining after SIGTERM (a real ``medialink serve``)."""

from __future__ import annotations

import asyncio
import signal
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.app import build_app
from bot.config import Settings
from bot.dispatch import Dispatcher
from bot.run import SlackCheck, readiness
from bot.server import RunningServer, start_http_server
from bot.services import build_services
from tests.fakes.slack import FakeSlack
from tests.fakes.wix import FakeWix
from tests.slack.conftest import (
    FAST_RETRY,
    SIGNING_SECRET,
    _clean_environment,
    fake_slack,
    fake_wix,
    medialink_settings,
)
from tests.test_serve import fakes, free_port, post_command, serve, wait_healthy

__all__ = ["_clean_environment", "fake_slack", "fake_wix", "fakes"]  # fixtures, by name


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


Ready = Callable[..., Awaitable[httpx.AsyncClient]]


@pytest.fixture
async def ready_server(
    fake_slack: FakeSlack, fake_wix: FakeWix, tmp_path: Path
) -> AsyncIterator[Ready]:
    """Serve the app with serve's /readyz check; returns a client for it."""
    started: list[tuple[RunningServer, httpx.AsyncClient, Any]] = []

    async def start(
        *,
        clock: Clock | None = None,
        deadline: float = 5.0,
        check_settings: Settings | None = None,
        start_audit: bool = False,
        **overrides: Any,
    ) -> httpx.AsyncClient:
        overrides.setdefault("database_url", f"sqlite+aiosqlite:///{tmp_path}/medialink.db")
        settings = medialink_settings(fake_slack, fake_wix, **overrides)
        services = build_services(settings, retry=FAST_RETRY)
        if start_audit:
            await services.audit.start()
        dispatcher = Dispatcher()
        app = build_app(settings, services, dispatcher)
        check = SlackCheck(app.client, deadline=deadline, clock=clock or time.monotonic)
        server = await start_http_server(
            app,
            dispatcher,
            signing_secret=SIGNING_SECRET,
            host="127.0.0.1",
            port=0,
            readiness=readiness(services, settings=check_settings or settings, slack=check),
        )
        # Generous, yet shorter than the Web API client's own 15 s.
        client = httpx.AsyncClient(base_url=server.url, timeout=10.0)
        started.append((server, client, services))
        return client

    yield start
    for server, client, services in started:
        await client.aclose()
        await server.close()
        await services.aclose()


async def test_ready_asks_slack_at_most_once_a_minute(
    ready_server: Ready, fake_slack: FakeSlack
) -> None:
    clock = Clock()
    client = await ready_server(clock=clock)
    answers = await asyncio.gather(*(client.get("/readyz") for _ in range(5)))
    answers.append(await client.get("/readyz"))
    assert [(a.status_code, a.json()) for a in answers] == [(200, {"ok": True})] * 6
    assert len(fake_slack.calls_to("auth.test")) == 1

    clock.now += 59
    assert (await client.get("/readyz")).status_code == 200
    assert len(fake_slack.calls_to("auth.test")) == 1
    clock.now += 2
    assert (await client.get("/readyz")).status_code == 200
    assert len(fake_slack.calls_to("auth.test")) == 2


async def test_a_token_slack_refuses_is_not_ready_and_a_rate_limit_is(
    ready_server: Ready, fake_slack: FakeSlack
) -> None:
    clock = Clock()
    client = await ready_server(clock=clock)
    fake_slack.inject("auth.test", "invalid_auth")
    answer = await client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json() == {"ok": False, "reason": "slack refused the bot token"}

    clock.now += 61
    fake_slack.inject("auth.test", "ratelimited", retry_after=60)  # longer than we wait
    answer = await client.get("/readyz")
    assert (answer.status_code, answer.json()) == (200, {"ok": True})


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A loopback server that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/api/"


async def test_a_slack_that_does_not_answer_is_not_ready_within_the_deadline(
    ready_server: Ready, silent_server: str
) -> None:
    client = await ready_server(deadline=0.5, slack_api_url=silent_server)
    answer = await client.get("/readyz")  # the client gives up after 10 s, Slack's after 15
    assert answer.status_code == 503
    assert answer.json() == {"ok": False, "reason": "slack unreachable"}


async def test_a_database_that_cannot_be_used_is_not_ready(
    ready_server: Ready, tmp_path: Path
) -> None:
    missing = tmp_path / "not-there" / "medialink.db"
    client = await ready_server(start_audit=True, database_url=f"sqlite+aiosqlite:///{missing}")
    answer = await client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json() == {"ok": False, "reason": "database unavailable"}
    assert (await client.get("/healthz")).status_code == 200  # alive all the same


async def test_settings_that_cannot_serve_are_not_ready(
    ready_server: Ready, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    broken = medialink_settings(fake_slack, fake_wix).model_copy(
        update={"slack_signing_secret": None}
    )
    client = await ready_server(check_settings=broken)
    answer = await client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json() == {"ok": False, "reason": "settings invalid"}


def test_after_sigterm_readyz_says_draining_while_the_work_in_hand_finishes(
    fakes: tuple[FakeSlack, FakeWix], tmp_path: Path
) -> None:
    slack, wix = fakes
    image = wix.add_file(kind="image", display_name="slow.jpg")
    port = free_port()
    process = serve(slack, wix, port, tmp_path)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(base, process)
        assert httpx.get(f"{base}/readyz").json() == {"ok": True}
        wix.latency = 3.0  # the reply is still being made after the stop signal
        answer, response_url, _ = post_command(base, slack, image)
        assert answer.status_code == 200
        process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 20
        while (ready := httpx.get(f"{base}/readyz")).status_code == 200:
            assert time.monotonic() < deadline, "/readyz never said draining"
            time.sleep(0.05)
        assert ready.status_code == 503
        assert ready.json() == {"ok": False, "reason": "draining"}
        assert slack.posts(response_url) == []  # still draining: the reply is not out yet
        assert httpx.get(f"{base}/healthz").status_code == 200
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    [post] = slack.posts(response_url)  # delivered before the process stopped
    assert post.accepted
    assert "slow.jpg" in str(post.body)
    assert "draining" in output
    assert "unfinished" not in output
    assert "Traceback" not in output
