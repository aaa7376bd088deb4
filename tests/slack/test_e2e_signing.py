"""Request signing (docs/slack.md): only Slack, recently, gets through to Wix."""

from __future__ import annotations

import time

import pytest

from tests.fakes.slack import FakeSlack
from tests.fakes.wix import FakeWix
from tests.slack.conftest import (
    USER_ID,
    MediaLink,
    command_form,
    interaction_body,
    message_action_payload,
    sign,
    wix_url,
)

STALE = 5 * 60 + 30  # seconds; Slack's window is 5 minutes


def signed_command(medialink: MediaLink, text: str) -> tuple[str, str]:
    """A real command body and the response_url it names."""
    url = medialink.slack.new_response_url(channel="C0GENERAL", user=USER_ID)
    return command_form(text, response_url=url, trigger_id=medialink.slack.new_trigger_id()), url


async def assert_nothing_happened(medialink: MediaLink, url: str) -> None:
    await medialink.settle()
    assert medialink.wix.requests == []
    assert medialink.slack.posts(url) == []
    assert [call for call in medialink.slack.calls if call.method != "auth.test"] == []


async def test_a_correctly_signed_command_gets_through(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    """The control for the refusals below: same body, right signature, recent time."""
    file_id = fake_wix.add_file()
    body, url = signed_command(medialink, wix_url(file_id))
    response = await medialink.post(body, timestamp=int(time.time()) - 200)
    assert response.status_code == 200
    await medialink.slack.wait_for_posts(url)
    assert fake_wix.requests


async def test_a_forged_signature_is_refused(medialink: MediaLink, fake_wix: FakeWix) -> None:
    body, url = signed_command(medialink, wix_url(fake_wix.add_file()))
    ts = str(int(time.time()))
    response = await medialink.post(
        body, timestamp=int(ts), signature=sign(body, ts, secret="not-the-signing-secret")
    )
    assert response.status_code == 401
    await assert_nothing_happened(medialink, url)


@pytest.mark.parametrize("age", [STALE, -STALE], ids=["stale", "from-the-future"])
async def test_an_old_or_future_timestamp_is_refused(
    medialink: MediaLink, fake_wix: FakeWix, age: int
) -> None:
    body, url = signed_command(medialink, wix_url(fake_wix.add_file()))
    # Correctly signed, but outside the 5-minute window: a replay.
    response = await medialink.post(body, timestamp=int(time.time()) - age)
    assert response.status_code == 401
    await assert_nothing_happened(medialink, url)


async def test_a_body_changed_after_signing_is_refused(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    body, url = signed_command(medialink, wix_url(fake_wix.add_file()))
    ts = str(int(time.time()))
    tampered = body.replace("alice", "mallory")
    assert tampered != body
    response = await medialink.post(tampered, timestamp=int(ts), signature=sign(body, ts))
    assert response.status_code == 401
    await assert_nothing_happened(medialink, url)


async def test_an_unsigned_request_is_refused(medialink: MediaLink, fake_wix: FakeWix) -> None:
    body, url = signed_command(medialink, wix_url(fake_wix.add_file()))
    response = await medialink.post(body, signed=False)
    assert response.status_code == 401
    await assert_nothing_happened(medialink, url)


async def test_a_forged_interaction_is_refused(medialink: MediaLink, fake_wix: FakeWix) -> None:
    file_id = fake_wix.add_file()
    url = medialink.slack.new_response_url(channel="C0GENERAL", user=USER_ID)
    payload = message_action_payload(
        {"text": wix_url(file_id)}, response_url=url, trigger_id=medialink.slack.new_trigger_id()
    )
    body = interaction_body(payload)
    ts = str(int(time.time()))
    response = await medialink.post(body, timestamp=int(ts), signature=sign(body, ts, "wrong"))
    assert response.status_code == 401
    await assert_nothing_happened(medialink, url)


async def test_ssl_check_does_not_let_an_unsigned_command_through(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    """An unsigned ``ssl_check=1`` body is refused like any unsigned request: the edge
    reads nothing before the signature (whether Slack signs its SSL probe is
    UNCONFIRMED; docs/slack.md, Request signing), and nothing runs."""
    body, url = signed_command(medialink, wix_url(fake_wix.add_file()))
    response = await medialink.post(f"{body}&ssl_check=1", signed=False)
    assert response.status_code == 401
    await assert_nothing_happened(medialink, url)


async def test_a_signed_ssl_check_gets_an_empty_200_and_runs_nothing(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    body, url = signed_command(medialink, wix_url(fake_wix.add_file()))
    response = await medialink.post(f"{body}&ssl_check=1")
    assert response.status_code == 200
    assert response.text == ""
    await assert_nothing_happened(medialink, url)


async def test_health_check_needs_no_signature(medialink: MediaLink, fake_slack: FakeSlack) -> None:
    response = await medialink.http.get("/healthz")
    assert response.status_code == 200
    assert fake_slack.calls == []
