"""The container image: its Dockerfile is lint-clean, and its steps, replayed here
without a container engine, give a process that serves health, readiness and a signed
command as the image's non-root user.

No container engine with registry access runs on these machines, so the replay
builds what the Dockerfile builds (the same locks, the same pip commands, only the
files it copies) in a temporary root, then runs the image's command with the image's
environment. The Dockerfile is parsed, not restated, so the two cannot drift apart.
"""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import httpx
import pytest

from tests.fakes.slack import APP_TOKEN, FakeSlack
from tests.fakes.wix import FakeWix
from tests.test_serve import fakes, free_port, run_until_exit, serve, wait_healthy

__all__ = ["fakes"]  # the fixture, shared with test_serve

ROOT = Path(__file__).resolve().parent.parent


def test_socket_mode_serves_health_and_readiness_on_port(
    fakes: tuple[FakeSlack, FakeWix], tmp_path: Path
) -> None:
    slack, wix = fakes
    port = free_port()
    process = serve(
        slack, wix, port, tmp_path, SLACK_APP_TOKEN=APP_TOKEN, SLACK_SIGNING_SECRET=None
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, process)
        assert httpx.get(f"{base}/healthz").json() == {"ok": True}
        assert httpx.get(f"{base}/readyz").json() == {"ok": True}
        # Only the probes: Slack's requests come over the socket, never over this port.
        assert httpx.post(f"{base}/slack/events", content=b"{}").status_code in {404, 405}
        slack.wait_until_sync(lambda: slack.socket_connections >= 1, within=20, what="the socket")
    finally:
        process.send_signal(signal.SIGTERM)
        output = run_until_exit(process)
    assert process.returncode == 0, output
    assert "MediaLink stopped" in output
    assert "Traceback" not in output


@pytest.mark.parametrize("socket_mode", [False, True], ids=["http", "socket-mode"])
def test_a_port_in_use_is_a_clear_message_in_either_mode(
    socket_mode: bool, fakes: tuple[FakeSlack, FakeWix], tmp_path: Path
) -> None:
    slack, wix = fakes
    mode = {"SLACK_APP_TOKEN": APP_TOKEN, "SLACK_SIGNING_SECRET": None} if socket_mode else {}
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = int(taken.getsockname()[1])
        process = serve(slack, wix, port, tmp_path, **mode)
        output = run_until_exit(process)
    assert process.returncode == 2, output
    assert f"cannot listen on 127.0.0.1:{port}" in output
    assert "set PORT" in output
    assert "Traceback" not in output
    assert slack.socket_connections == 0
