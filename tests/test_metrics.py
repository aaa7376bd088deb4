"""``GET /metrics``: scraped with prometheus_client's own text parser after real traffic
through the served app (the e2e harness), never by reading the app's objects."""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.dispatch import Dispatcher
from bot.metrics import (
    OTHER,
    REFUSAL_REASONS,
    WIX_ENDPOINTS,
    EntryPoint,
    RequestOutcome,
    Work,
)
from bot.policy.access import Reason
from tests.fakes.slack import FakeSlack
from tests.fakes.wix import GENERATE_FILE_DOWNLOAD_URL, FakeWix
from tests.slack.conftest import (
    OTHER_USER_ID,
    USER_ID,
    MakeMediaLink,
    MediaLink,
    _clean_environment,
    ack_text,
    fake_slack,
    fake_wix,
    make_medialink,
    medialink,
    wix_url,
)
from tests.test_serve import fakes, free_port, serve, wait_healthy

# The e2e harness's fixtures, used by name here (outside tests/slack/).
__all__ = [
    "_clean_environment",
    "fake_slack",
    "fake_wix",
    "fakes",
    "make_medialink",
    "medialink",
]

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(text: str) -> Samples:
    """Every sample of a scrape, by name and labels (the official parser)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def scrape(medialink: MediaLink) -> Samples:
    response = await medialink.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    return parse(response.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


async def test_counters_move_after_a_signed_command(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    file_id = fake_wix.add_file(kind="image", display_name="poster.jpg")
    before = await scrape(medialink)

    sent = await medialink.command(wix_url(file_id))
    assert sent.response.status_code == 200
    await medialink.reply(sent)
    await medialink.settle()
    after = await scrape(medialink)

    requests = "medialink_requests_total"
    assert moved(before, after, requests, entry="command", outcome="acked") == 1
    assert moved(before, after, "medialink_ack_seconds_count") == 1
    assert moved(before, after, "medialink_reply_seconds_count", entry="command") == 1
    assert moved(before, after, "medialink_links_issued_total", entry="command") == 1
    wix_calls = "medialink_wix_calls_total"
    assert moved(before, after, wix_calls, endpoint="generate_file_download_url", status="200") == 1
    assert moved(before, after, wix_calls, endpoint="get_files", status="200") == 1
    assert moved(before, after, "medialink_wix_call_seconds_count", endpoint="get_files") == 1
    assert moved(before, after, "medialink_wix_ratelimit_wait_seconds_count") == 2
    # Idle again: nothing in flight, nothing queued, the audit event buffered.
    assert value(after, "medialink_in_flight", work="listener") == 0
    assert value(after, "medialink_in_flight", work="link_request") == 0
    assert value(after, "medialink_wix_ratelimit_queued") == 0
    assert value(after, "medialink_audit_buffer_events") == 1  # its writer is not running


async def test_retries_and_wix_errors_are_counted_by_endpoint_and_status(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    file_id = fake_wix.add_file(kind="image", display_name="flaky.jpg")
    fake_wix.inject(GENERATE_FILE_DOWNLOAD_URL, status=503)  # once, then a good answer
    before = await scrape(medialink)
    sent = await medialink.command(wix_url(file_id))
    await medialink.reply(sent)
    await medialink.settle()
    after = await scrape(medialink)

    endpoint = "generate_file_download_url"
    assert moved(before, after, "medialink_wix_retries_total", endpoint=endpoint) == 1
    assert moved(before, after, "medialink_wix_calls_total", endpoint=endpoint, status="503") == 1
    assert moved(before, after, "medialink_wix_calls_total", endpoint=endpoint, status="200") == 1


async def test_an_unverified_request_is_counted_and_nothing_else(medialink: MediaLink) -> None:
    before = await scrape(medialink)
    response = await medialink.post("command=%2Fmedialink&text=x", signature="v0=" + "0" * 64)
    assert response.status_code == 401
    after = await scrape(medialink)

    assert moved(before, after, "medialink_requests_total", entry="unknown", outcome="unverified")
    changed = {key for key in after if after[key] != before.get(key, 0.0)}
    assert {name for name, _ in changed} == {"medialink_requests_total"}
    await medialink.assert_nothing_went_out()


async def test_refusals_are_counted_by_the_policys_reason(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(medialink_allowed_users=USER_ID)
    file_id = fake_wix.add_file(kind="image")
    before = await scrape(medialink)
    sent = await medialink.command(wix_url(file_id), user=OTHER_USER_ID)
    assert sent.response.status_code == 200
    after = await scrape(medialink)

    assert moved(before, after, "medialink_requests_total", entry="command", outcome="refused") == 1
    assert moved(before, after, "medialink_refusals_total", reason=Reason.USER.value) == 1
    assert moved(before, after, "medialink_ack_seconds_count") == 1


async def test_busy_and_quota_refusals_are_counted(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    busy = await make_medialink(dispatcher=Dispatcher(max_running=0))
    file_id = fake_wix.add_file(kind="image")
    before = await scrape(busy)
    sent = await busy.command(wix_url(file_id))
    assert "busy" in ack_text(sent).lower()
    after = await scrape(busy)
    assert moved(before, after, "medialink_requests_total", entry="command", outcome="busy") == 1
    assert moved(before, after, "medialink_refusals_total", reason="busy") == 1

    limited = await make_medialink(medialink_user_files_per_minute=2, medialink_max_refs=2)
    files = [fake_wix.add_file(kind="image") for _ in range(3)]
    before = await scrape(limited)
    first = await limited.command(" ".join(wix_url(f) for f in files[:2]))
    await limited.reply(first)
    second = await limited.command(wix_url(files[2]))
    await limited.reply(second)
    await limited.settle()
    after = await scrape(limited)
    assert moved(before, after, "medialink_refusals_total", reason="quota") == 1
    assert moved(before, after, "medialink_links_issued_total", entry="command") == 2


# Label values a scrape may show: each label's fixed set, and nothing else.
ALLOWED_LABELS: dict[str, frozenset[str]] = {
    "entry": frozenset(EntryPoint),
    "outcome": frozenset(RequestOutcome),
    "reason": REFUSAL_REASONS | {OTHER},
    "work": frozenset(Work),
    "endpoint": frozenset(WIX_ENDPOINTS.values()) | {OTHER},
    "status": frozenset(
        {"200", "400", "401", "403", "404", "409", "429", "500", "502", "503", "504"}
        | {f"{n}xx" for n in range(1, 6)}
        | {"timeout", "unreachable", "connection", "error", OTHER}
    ),
    "le": frozenset(),  # histogram bounds: numbers, checked below
}


async def test_every_label_value_comes_from_a_fixed_set_after_varied_traffic(
    make_medialink: MakeMediaLink, fake_wix: FakeWix, fake_slack: FakeSlack
) -> None:
    medialink = await make_medialink(
        medialink_allowed_users=f"{USER_ID},U0CAROL03", medialink_user_files_per_minute=60
    )
    files = [fake_wix.add_file(kind="image", display_name=f"f{n}.jpg") for n in range(3)]
    private = fake_wix.add_file(kind="image", private=True)
    fake_wix.inject(GENERATE_FILE_DOWNLOAD_URL, status=429, retry_after="0")
    fake_wix.inject(GENERATE_FILE_DOWNLOAD_URL, status=500, times=2)

    reply = await medialink.reply(await medialink.command(" ".join(wix_url(f) for f in files)))
    await medialink.reply(
        await medialink.command(wix_url("0abc12_0000000000000000000000000000~mv2.jpg"))
    )
    await medialink.command(wix_url(private))
    await medialink.command(wix_url(files[0]), user=OTHER_USER_ID)  # refused
    await medialink.command("nothing here")
    await medialink.command("/etc/passwd https://evil.example/?token=abc")
    await medialink.post("payload=%7B%7D", signature="v0=bad")
    await medialink.message_shortcut({"text": wix_url(files[1])})
    await medialink.global_shortcut()
    await medialink.click(reply, "medialink_regenerate")
    await medialink.click(reply, "medialink_made_up_action", forged={"value": "x"})
    await medialink.settle()

    text = (await medialink.http.get("/metrics")).text
    families = list(text_string_to_metric_families(text))
    seen: dict[str, set[str]] = {}
    for family in families:
        assert family.name.startswith("medialink_"), family.name
        for sample in family.samples:
            for label, label_value in sample.labels.items():
                seen.setdefault(label, set()).add(label_value)
    assert set(seen) <= set(ALLOWED_LABELS), seen
    for label, values in seen.items():
        if label == "le":
            assert all(re.fullmatch(r"[0-9.]+|\+Inf", v) for v in values), values
        else:
            assert values <= ALLOWED_LABELS[label], (label, values - ALLOWED_LABELS[label])
    # And nothing a request carried: no IDs, no file IDs, no URLs anywhere.
    for carried in (USER_ID, OTHER_USER_ID, "http", "evil", "made_up", *files, private):
        assert carried not in text
    # The traffic did reach the metrics.
    samples = parse(text)
    assert value(
        samples, "medialink_wix_calls_total", endpoint="generate_file_download_url", status="429"
    )
    assert value(samples, "medialink_requests_total", entry="button", outcome="acked") >= 1
    assert value(samples, "medialink_requests_total", entry="message_shortcut", outcome="acked")
    assert value(samples, "medialink_requests_total", entry="command", outcome="refused") == 1


def test_metrics_port_serves_metrics_there_and_not_on_the_main_port(
    fakes: tuple[FakeSlack, FakeWix], tmp_path: Path
) -> None:
    slack, wix = fakes
    port, metrics_port = free_port(), free_port()
    process = serve(slack, wix, port, tmp_path, METRICS_PORT=str(metrics_port))
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process)
        assert httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 404
        deadline = time.monotonic() + 20
        while True:
            try:
                scraped = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics")
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the metrics port never answered"
                time.sleep(0.05)
        assert scraped.status_code == 200
        samples = parse(scraped.text)
        assert ("medialink_wix_ratelimit_queued", frozenset()) in samples
        # The metrics port serves nothing else.
        assert httpx.get(f"http://127.0.0.1:{metrics_port}/healthz").status_code == 404
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert f"GET /metrics on 127.0.0.1:{metrics_port}" in output


@pytest.mark.parametrize("port", ["3000"])
def test_metrics_port_must_differ_from_port(port: str) -> None:
    from bot.config import SettingsError, load_settings  # noqa: PLC0415

    with pytest.raises(SettingsError, match="METRICS_PORT is the same as PORT"):
        load_settings(env_file=None, port=int(port), metrics_port=int(port))
