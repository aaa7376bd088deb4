"""The HTTP edge of ``medialink serve`` as a real process, logging as in production.

A large unsigned body once stalled the whole server: Bolt logged every refused body
at INFO, and redacting a 900 KiB line of ``http://http://…`` took minutes, during
which no ack and no /healthz was answered. The refusal must come at once, without
the body in the log, and the server must keep answering meanwhile.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.fakes.slack import FakeSlack
from tests.fakes.wix import FakeWix
from tests.test_serve import free_port, serve, wait_healthy

ANSWER_WITHIN = 10.0  # seconds; generous: the refusal needs no work at all


@pytest.fixture
def fakes() -> Iterator[tuple[FakeSlack, FakeWix]]:
    with FakeSlack() as slack, FakeWix() as wix:
        yield slack, wix


def stop(process: subprocess.Popen[str]) -> str:
    """SIGTERM, then SIGKILL if the server cannot act on it; returns what it wrote."""
    process.send_signal(signal.SIGTERM)
    try:
        output, _ = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        output, _ = process.communicate()
        output += "\n[killed: the server did not act on SIGTERM within 15 s]"
    return output


def test_a_large_unsigned_body_is_refused_at_once_while_healthz_answers(
    fakes: tuple[FakeSlack, FakeWix], tmp_path: Path
) -> None:
    slack, wix = fakes
    port = free_port()
    process = serve(slack, wix, port, tmp_path)
    base = f"http://127.0.0.1:{port}"
    body = b"http://" * (900 * 1024 // 7)
    try:
        wait_healthy(base, process)
        # serve checks its bot token with auth.test before it listens; nothing after that.
        assert [call.method for call in slack.calls] == ["auth.test"]
        slack_calls_at_start = len(slack.calls)
        with ThreadPoolExecutor(max_workers=2) as pool:
            posted = pool.submit(
                httpx.post,
                f"{base}/slack/events",
                content=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=ANSWER_WITHIN,
            )
            time.sleep(0.2)  # the body is on its way (or being handled) when /healthz asks
            health = pool.submit(httpx.get, f"{base}/healthz", timeout=ANSWER_WITHIN)
            try:
                health_status = health.result().status_code
                posted_status = posted.result().status_code
            except httpx.TimeoutException as error:
                raise AssertionError(
                    f"the server did not answer within {ANSWER_WITHIN} s ({error!r})"
                ) from error
    finally:
        output = stop(process)
    assert health_status == 200
    assert posted_status in (400, 401)
    assert "http://http://" not in output, "the refused body reached the log"
    assert "Traceback" not in output
    assert process.returncode == 0, output[-2000:]
    assert slack.posts() == []
    assert len(slack.calls) == slack_calls_at_start
    assert wix.requests == []
