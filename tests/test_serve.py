"""`medialink serve` as a real process: starts against the fakes, answers, stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, FakeSlack
from tests.fakes.wix import FakeWix
from tests.slack.conftest import SIGNING_SECRET, command_form, manifest_bot_scopes, sign, wix_url


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def fakes() -> Iterator[tuple[FakeSlack, FakeWix]]:
    # The scopes the manifest asks for: the access policy reads users.info.
    with FakeSlack(scopes=manifest_bot_scopes()) as slack, FakeWix() as wix:
        yield slack, wix


def serve(
    slack: FakeSlack, wix: FakeWix, port: int, tmp_path: Path, **overrides: str | None
) -> subprocess.Popen[str]:
    """Start ``medialink serve`` against the fakes; ``overrides`` set (or, with None, unset)
    settings."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WIX_", "MEDIALINK_"))
    }
    env |= {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack.api_url,
        "WIX_API_KEY": FakeWix.API_KEY,
        "WIX_SITE_ID": FakeWix.SITE_ID,
        "WIX_API_URL": wix.base_url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    for name, value in overrides.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_healthy(base: str, process: subprocess.Popen[str], within: float = 20.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        assert process.poll() is None, "medialink serve exited early"
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError("medialink serve did not become healthy")


def post_command(base: str, slack: FakeSlack, file_id: str) -> tuple[httpx.Response, str, str]:
    """POST a signed ``/medialink`` for ``file_id``; the answer, response_url and body."""
    response_url = slack.new_response_url(channel="C0GENERAL", user="U0ALICE01")
    body = command_form(
        wix_url(file_id), response_url=response_url, trigger_id=slack.new_trigger_id()
    )
    timestamp = str(int(time.time()))
    answer = httpx.post(
        f"{base}/slack/events",
        content=body,
        headers={
            "content-type": "application/x-www-form-urlencoded",
            "x-slack-request-timestamp": timestamp,
            "x-slack-signature": sign(body, timestamp),
        },
    )
    return answer, response_url, body


def test_serve_answers_a_signed_command_and_stops_on_sigterm(
    fakes: tuple[FakeSlack, FakeWix], tmp_path: Path
) -> None:
    slack, wix = fakes
    image = wix.add_file(kind="image", display_name="launch.jpg")
    port = free_port()
    process = serve(slack, wix, port, tmp_path)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, process)
        assert httpx.get(f"{base}/healthz").json() == {"ok": True}
        # Nothing but the fakes was contacted at start-up.
        assert wix.requests == []

        answer, response_url, body = post_command(base, slack, image)
        assert answer.status_code == 200
        slack.wait_until_sync(lambda: bool(slack.posts(response_url)), what="the reply")
        [post] = slack.posts(response_url)
        assert post.accepted
        assert "launch.jpg" in str(post.body)

        forged = httpx.post(
            f"{base}/slack/events",
            content=body,
            headers={
                "x-slack-request-timestamp": str(int(time.time())),
                "x-slack-signature": "v0=00",
            },
        )
        assert forged.status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=15)
    assert process.returncode == 0, output
    assert "MediaLink stopped" in output
    assert "Traceback" not in output
    # Settings from the environment: Bolt is given nothing it would ignore and warn about.
    assert "will be unused" not in output, output


def test_stopping_finishes_the_replies_already_acked(
    fakes: tuple[FakeSlack, FakeWix], tmp_path: Path
) -> None:
    slack, wix = fakes
    image = wix.add_file(kind="image", display_name="late.jpg")
    wix.latency = 1.5  # the reply is still being made when the stop signal comes
    port = free_port()
    process = serve(slack, wix, port, tmp_path)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, process)
        answer, response_url, _ = post_command(base, slack, image)
        assert answer.status_code == 200
        assert slack.posts(response_url) == []
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    [post] = slack.posts(response_url)  # delivered before the process exited
    assert post.accepted
    assert "late.jpg" in str(post.body)
    assert "unfinished" not in output


def test_serve_with_bad_settings_says_what_to_fix(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WIX_"))}
    env |= {"WIX_API_KEY": "IST.k", "WIX_SITE_ID": "s"}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "SLACK_BOT_TOKEN is not set" in result.stderr
    assert "Traceback" not in result.stderr


def run_until_exit(process: subprocess.Popen[str], within: float = 30.0) -> str:
    """The output of a ``medialink serve`` that is expected to stop by itself."""
    try:
        output, _ = process.communicate(timeout=within)
    finally:
        if process.poll() is None:  # it kept running: stop it so the test can fail cleanly
            process.kill()
            process.communicate()
    return output


@pytest.mark.parametrize(
    ("token", "refusal"),
    [
        (BOT_TOKEN, "token_revoked"),  # revoked below: the app was uninstalled
        ("xoxb-...", "invalid_auth"),  # the placeholder from .env.example
    ],
)
def test_serve_refuses_a_bot_token_slack_refuses_and_never_listens(
    token: str, refusal: str, fakes: tuple[FakeSlack, FakeWix], tmp_path: Path
) -> None:
    slack, wix = fakes
    slack.revoked_tokens.add(BOT_TOKEN)
    process = serve(slack, wix, free_port(), tmp_path, SLACK_BOT_TOKEN=token)
    output = run_until_exit(process)
    assert process.returncode == 2, output
    assert f"SLACK_BOT_TOKEN was refused by Slack ({refusal})" in output
    assert "OAuth & Permissions" in output
    assert "MediaLink is listening" not in output
    assert "Traceback" not in output
    assert token not in output
    assert [call.method for call in slack.calls] == ["auth.test"]
    assert wix.requests == []


def test_serve_refuses_a_bad_app_token_in_socket_mode(
    fakes: tuple[FakeSlack, FakeWix], tmp_path: Path
) -> None:
    slack, wix = fakes
    process = serve(
        slack,
        wix,
        free_port(),
        tmp_path,
        SLACK_APP_TOKEN="xapp-1-A0MEDIALNK-3333-wrong",
        SLACK_SIGNING_SECRET=None,
    )
    output = run_until_exit(process)
    assert process.returncode == 2, output
    assert "SLACK_APP_TOKEN was refused by Slack (invalid_auth)" in output
    assert "connections:write" in output
    assert "connected to Slack" not in output
    assert "Traceback" not in output
    assert slack.socket_connections == 0


def test_serve_does_not_start_while_slack_is_rate_limiting_and_says_it_is_not_the_settings(
    fakes: tuple[FakeSlack, FakeWix], tmp_path: Path
) -> None:
    slack, wix = fakes
    slack.inject("auth.test", "ratelimited")
    process = serve(slack, wix, free_port(), tmp_path)
    output = run_until_exit(process)
    assert process.returncode == 1, output
    assert "Slack could not answer auth.test (ratelimited" in output
    assert "try again" in output
    assert "MediaLink is listening" not in output


def test_serve_names_an_unreachable_slack_api_url(
    fakes: tuple[FakeSlack, FakeWix], tmp_path: Path
) -> None:
    slack, wix = fakes
    closed = f"http://127.0.0.1:{free_port()}/api/"  # nothing listens there
    process = serve(slack, wix, free_port(), tmp_path, SLACK_API_URL=closed)
    output = run_until_exit(process)
    assert process.returncode == 2, output
    assert f"cannot connect to SLACK_API_URL ({closed}" in output
    assert "MediaLink is listening" not in output
    assert "Traceback" not in output


def test_serve_in_socket_mode_checks_the_app_token_then_connects(
    fakes: tuple[FakeSlack, FakeWix], tmp_path: Path
) -> None:
    slack, wix = fakes
    process = serve(
        slack, wix, free_port(), tmp_path, SLACK_APP_TOKEN=APP_TOKEN, SLACK_SIGNING_SECRET=None
    )
    try:
        slack.wait_until_sync(
            lambda: slack.socket_connections >= 1, within=20, what="the WebSocket"
        )
    finally:
        # Stopped as soon as the socket opens, which may be before serve() has finished
        # connecting: the stop handlers are in place from the start, so it is a clean stop.
        process.send_signal(signal.SIGTERM)
        output = run_until_exit(process)
    assert process.returncode == 0, output
    assert "MediaLink stopped" in output
    methods = [call.method for call in slack.calls]
    # Start-up checks both tokens (the URL it is handed is dropped); the handler then
    # asks for its own URL.
    assert methods.count("auth.test") == 1
    assert methods.count("apps.connections.open") == 2
    assert "ws://" not in output
    assert "ticket" not in output
    assert "Traceback" not in output
