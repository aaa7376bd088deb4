"""``GET /readyz`` through `medialink serve` as a real process: 503 while the audit
database is unavailable (links still flow), 200 once it is back."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx

from tests.fakes.slack import FakeSlack
from tests.fakes.wix import FakeWix
from tests.test_serve import fakes, free_port, post_command, serve, wait_healthy

__all__ = ["fakes"]  # the fixture, used by name


def test_readyz_is_503_while_the_database_is_down_and_200_when_back(
    fakes: tuple[FakeSlack, FakeWix], tmp_path: Path
) -> None:
    slack, wix = fakes
    image = wix.add_file(kind="image", display_name="launch.jpg")
    folder = tmp_path / "db-not-there-yet"  # SQLite cannot open a file in a missing folder
    port = free_port()
    process = serve(
        slack, wix, port, tmp_path, DATABASE_URL=f"sqlite+aiosqlite:///{folder}/medialink.db"
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, process)
        ready = httpx.get(f"{base}/readyz")
        assert ready.status_code == 503
        assert ready.json() == {"ok": False, "reason": "database unavailable"}
        assert httpx.get(f"{base}/healthz").status_code == 200  # alive, not ready

        # Links are still made while the record cannot be written.
        answer, response_url, _ = post_command(base, slack, image)
        assert answer.status_code == 200
        slack.wait_until_sync(lambda: bool(slack.posts(response_url)), what="the reply")

        folder.mkdir()
        deadline = time.monotonic() + 60  # the retry backs off up to 30 s
        while httpx.get(f"{base}/readyz").status_code != 200:
            assert time.monotonic() < deadline, "/readyz never became ready"
            time.sleep(0.2)
        assert httpx.get(f"{base}/readyz").json() == {"ok": True}
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "cannot use the database at sqlite+aiosqlite:///" in output
    assert "database is back" in output
    assert "Traceback" not in output
    assert (folder / "medialink.db").exists()
