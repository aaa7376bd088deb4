"""``LOG_FORMAT=json``: one JSON object per line (python-json-logger), with the request
ID that follows a request from its ack into its Wix calls and its audit rows."""

from __future__ import annotations

import io
import json
import logging
import signal
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.audit import AuditQuery
from bot.audit.store import SqlAuditTrail
from bot.logs import JSON_FIELDS, configure_logging
from tests.fakes.slack import BOT_TOKEN, FakeSlack
from tests.fakes.wix import GENERATE_FILE_DOWNLOAD_URL, FakeWix
from tests.slack.conftest import (
    MakeMediaLink,
    _clean_environment,
    fake_slack,
    fake_wix,
    make_medialink,
    wix_url,
)
from tests.test_serve import fakes, free_port, post_command, serve, wait_healthy

__all__ = ["_clean_environment", "fake_slack", "fake_wix", "fakes", "make_medialink"]


def json_lines(text: str) -> list[dict[str, Any]]:
    lines = [line for line in text.splitlines() if line.strip()]
    return [json.loads(line) for line in lines]  # each line alone is one object


def test_each_line_is_one_json_object_with_the_fixed_fields_and_no_secret() -> None:
    output = io.StringIO()
    configure_logging("DEBUG", stream=output, secrets=[BOT_TOKEN], log_format="json")
    log = logging.getLogger("bot.test.json")
    log.info("made %d links for %s", 2, "U0ALICE01")
    log.warning("posting with %s", BOT_TOKEN, extra={"payload": BOT_TOKEN, "wix_request_id": "w1"})
    try:
        raise ValueError("token=xoxb-1-2-3 in a message")
    except ValueError:
        log.exception("failed")
    logging.getLogger("slack_bolt.test").debug("a library's body: %s", BOT_TOKEN)

    records = json_lines(output.getvalue())
    assert len(records) == 3  # the library's DEBUG line is dropped, as in text
    for record in records:
        assert set(record) <= set(JSON_FIELDS)
        assert {"time", "level", "logger", "message", "request_id"} <= set(record)
        assert datetime.fromisoformat(record["time"]).tzinfo is not None
        assert record["logger"] == "bot.test.json"
    first, second, third = records
    assert (first["level"], first["message"]) == ("INFO", "made 2 links for U0ALICE01")
    assert first["request_id"] is None  # no request being served
    assert second["message"] == "posting with [redacted]"
    assert second["wix_request_id"] == "w1"
    assert "payload" not in second  # extras a caller adds never reach the line
    assert third["level"] == "ERROR"
    assert third["message"] == "failed (ValueError: token=[redacted] in a message)"
    assert BOT_TOKEN not in output.getvalue()
    assert "Traceback" not in output.getvalue()


@pytest.mark.parametrize("log_format", ["text", "json"])
def test_a_wix_request_id_is_redacted_and_bounded_like_the_message(log_format: str) -> None:
    output = io.StringIO()
    configure_logging("DEBUG", stream=output, log_format=log_format)  # type: ignore[arg-type]
    hostile = "Bearer xoxb-9-9-9 " + "x" * 500
    logging.getLogger("bot.wix.client").debug("wix call", extra={"wix_request_id": hostile})
    assert "xoxb-9-9-9" not in output.getvalue()
    if log_format == "json":
        [record] = json_lines(output.getvalue())
        assert len(record["wix_request_id"]) < 200


async def test_a_request_id_follows_a_command_from_its_ack_to_its_wix_calls_and_audit_rows(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    output = io.StringIO()
    configure_logging("DEBUG", stream=output, log_format="json")
    medialink = await make_medialink(audit_running=True)
    files = [fake_wix.add_file(kind="image", display_name=f"f{n}.jpg") for n in range(2)]

    first = await medialink.command(" ".join(wix_url(f) for f in files))
    await medialink.reply(first)
    second = await medialink.command(wix_url(files[0]))
    await medialink.reply(second)
    await medialink.settle()

    records = json_lines(output.getvalue())
    acked = [r for r in records if r["message"].startswith("acked command /medialink")]
    assert len(acked) == 2
    ids = [r["request_id"] for r in acked]
    assert all(ids)
    assert ids[0] != ids[1]
    for request_id in ids:
        assert (
            f"[{request_id}]" in next(r for r in acked if r["request_id"] == request_id)["message"]
        )
    # The Wix calls made after each ack log under that request's ID, with Wix's own.
    wix_lines = [r for r in records if r["logger"] == "bot.wix.client" and "->" in r["message"]]
    generated = [r for r in wix_lines if GENERATE_FILE_DOWNLOAD_URL in r["message"]]
    assert [r["request_id"] for r in generated].count(ids[0]) == 2
    assert [r["request_id"] for r in generated].count(ids[1]) == 1
    wix_ids = {request.request_id for request in fake_wix.requests}
    assert {r["wix_request_id"] for r in wix_lines} <= wix_ids
    assert all(r["wix_request_id"] for r in wix_lines)

    # And into the audit rows.
    assert medialink.services is not None
    audit = medialink.services.audit
    assert isinstance(audit, SqlAuditTrail)
    assert await audit.flush(10)
    rows = await audit.query(AuditQuery(limit=10))
    assert sorted(row.request_id or "" for row in rows) == sorted([ids[0], ids[0], ids[1]])


def test_serve_with_log_format_json_writes_only_json_lines(
    fakes: tuple[FakeSlack, FakeWix], tmp_path: Path
) -> None:
    slack, wix = fakes
    image = wix.add_file(kind="image", display_name="launch.jpg")
    port = free_port()
    process = serve(slack, wix, port, tmp_path, LOG_FORMAT="json")
    try:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, process)
        answer, response_url, _ = post_command(base, slack, image)
        assert answer.status_code == 200
        slack.wait_until_sync(lambda: bool(slack.posts(response_url)), what="the reply")
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    records = json_lines(output)
    messages = [record["message"] for record in records]
    assert any(m.startswith("MediaLink is listening on 127.0.0.1") for m in messages)
    assert "MediaLink stopped" in messages
    [acked] = [r for r in records if r["message"].startswith("acked command")]
    assert acked["request_id"]
    assert acked["level"] == "INFO"
    assert BOT_TOKEN not in output
