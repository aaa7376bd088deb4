"""When Wix or Slack fail: plain words per file, a retry button, and a fallback route."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import httpx
import pytest

from bot.cli import main
from bot.logs import configure_logging
from tests.fakes.slack import RESPONSE_URL_LIFETIME, RESPONSE_URL_USES, FakeSlack, Message
from tests.fakes.wix import GENERATE_FILE_DOWNLOAD_URL, FakeWix
from tests.slack.conftest import (
    CHANNEL_ID,
    FAST_RETRY,
    SIGNING_SECRET,
    USER_ID,
    MediaLink,
    generate_bodies,
    issued_urls,
    link_buttons,
    wix_url,
)


async def command_reply(medialink: MediaLink, text: str) -> Message:
    sent = await medialink.command(text)
    assert sent.response.status_code == 200, sent.response.text
    return await medialink.reply(sent)


def file_section(message: Message, name: str) -> str:
    texts = [
        block["text"]["text"]
        for block in message.blocks
        if block.get("type") == "section" and name in block.get("text", {}).get("text", "")
    ]
    assert len(texts) == 1, f"expected one section for {name!r}, found {len(texts)}"
    return str(texts[0])


def no_stack_trace(message: Message) -> None:
    text = message.all_text()
    assert "Traceback" not in text
    assert 'File "' not in text


# ---------------------------------------------------------------- Wix failures, per file


async def test_a_missing_file_is_explained_and_the_others_still_get_links(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    present = fake_wix.add_file(display_name="here.jpg")
    missing = "0a0a0a_0123456789abcdef0123456789abcdef~mv2.jpg"  # not on the site
    reply = await command_reply(medialink, f"{wix_url(present)} {wix_url(missing)}")
    assert "no such file" in file_section(reply, missing).lower()
    assert len(link_buttons(reply)) == 1
    assert link_buttons(reply)[0]["url"] in issued_urls(fake_wix)
    no_stack_trace(reply)


async def test_a_key_without_permission_is_explained(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    file_id = fake_wix.add_file(display_name="locked.jpg")
    fake_wix.key_permissions = "read"
    reply = await command_reply(medialink, wix_url(file_id))
    assert "Manage Media Manager" in file_section(reply, "locked.jpg")
    assert link_buttons(reply) == []
    no_stack_trace(reply)


async def test_an_unknown_rendition_falls_back_to_the_original(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    file_id = fake_wix.add_file(kind="image", display_name="still.jpg")
    reply = await command_reply(medialink, f"{wix_url(file_id)} assets=720p.mp4")
    asked = [body.get("assetKeys") for body in generate_bodies(fake_wix)]
    # The descriptor shows the image has no such rendition, so it is never sent.
    assert asked == [["src"]]
    [button] = link_buttons(reply)
    assert button["text"]["text"] == "Original"
    section = file_section(reply, "still.jpg")
    assert "720p.mp4" in section
    assert "original" in section.lower()


@pytest.mark.parametrize(
    ("status", "retry_after"),
    [(429, "0"), (503, None), (500, None)],
)
async def test_busy_wix_offers_try_again_which_then_works(
    medialink: MediaLink, fake_wix: FakeWix, status: int, retry_after: str | None
) -> None:
    file_id = fake_wix.add_file(display_name="busy.jpg")
    fake_wix.inject(
        GENERATE_FILE_DOWNLOAD_URL,
        status=status,
        retry_after=retry_after,
        times=FAST_RETRY.max_attempts,
    )
    reply = await command_reply(medialink, wix_url(file_id))
    section_text = file_section(reply, "busy.jpg")
    assert "busy" in section_text.lower()
    assert link_buttons(reply) == []
    [try_again] = [
        block["accessory"]
        for block in reply.blocks
        if "busy.jpg" in block.get("text", {}).get("text", "") and "accessory" in block
    ]
    assert try_again["action_id"] == "medialink_regenerate"
    assert try_again["text"]["text"] == "Try again"
    no_stack_trace(reply)

    # Wix has recovered: the button makes the links, in place.
    click = await medialink.click(reply, "medialink_regenerate")
    updated = await medialink.reply(click)
    assert updated.id == reply.id
    [button] = link_buttons(updated)
    assert button["url"] in issued_urls(fake_wix)


async def test_unreachable_wix_counts_as_busy(medialink: MediaLink, fake_wix: FakeWix) -> None:
    file_id = fake_wix.add_file(display_name="far.jpg")
    fake_wix.inject(GENERATE_FILE_DOWNLOAD_URL, drop_connection=True, times=FAST_RETRY.max_attempts)
    reply = await command_reply(medialink, wix_url(file_id))
    assert "busy" in file_section(reply, "far.jpg").lower()
    reply.element("medialink_regenerate")


# ---------------------------------------------------------------- response_url failures


async def _use_up(url: str) -> None:
    async with httpx.AsyncClient() as http:
        for number in range(RESPONSE_URL_USES):
            answer = await http.post(url, json={"text": f"earlier message {number}"})
            assert answer.status_code == 200


def _break(slack: FakeSlack, url: str) -> None:
    slack.break_response_url(url, status=404, answer="no_service")


def _expire(slack: FakeSlack, url: str) -> None:
    slack.advance_clock(RESPONSE_URL_LIFETIME + 60)


@pytest.mark.parametrize("spoil", [_break, _expire, "use-up"], ids=["404", "expired", "5-uses"])
async def test_a_failed_response_url_falls_back_to_post_ephemeral(
    medialink: MediaLink,
    fake_wix: FakeWix,
    caplog: pytest.LogCaptureFixture,
    spoil: Callable[[FakeSlack, str], None] | str,
) -> None:
    caplog.set_level(logging.INFO)
    slack = medialink.slack
    file_id = fake_wix.add_file(display_name="fallback.jpg")
    url = slack.new_response_url(channel=CHANNEL_ID, user=USER_ID)
    if callable(spoil):
        spoil(slack, url)
    else:
        await _use_up(url)
    refused_before = len([post for post in slack.posts(url) if not post.accepted])

    sent = await medialink.command(wix_url(file_id), response_url=url)
    assert sent.response.status_code == 200
    [call] = await slack.wait_for_calls("chat.postEphemeral")
    await medialink.settle()
    assert call.ok, call.response
    assert call.args["channel"] == CHANNEL_ID
    assert call.args["user"] == USER_ID
    assert call.args["unfurl_links"] is False
    assert call.args["unfurl_media"] is False
    [message] = [m for m in slack.messages(user=USER_ID) if m.source == "chat.postEphemeral"]
    assert message.ephemeral
    assert [button["url"] for button in link_buttons(message)] == [
        link.url for link in fake_wix.issued
    ]
    refused = [post for post in slack.posts(url) if not post.accepted]
    assert len(refused) == refused_before + 1  # tried the response_url first
    assert "chat.postEphemeral" in caplog.text  # the fallback is logged


async def test_when_every_route_fails_the_app_logs_and_carries_on(
    medialink: MediaLink, fake_wix: FakeWix, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    slack = medialink.slack
    slack.bot_channels = set()  # the bot is in no channel: chat.postEphemeral fails too
    file_id = fake_wix.add_file()
    url = slack.new_response_url(channel=CHANNEL_ID, user=USER_ID)
    _break(slack, url)
    sent = await medialink.command(wix_url(file_id), response_url=url)
    assert sent.response.status_code == 200
    [call] = await slack.wait_for_calls("chat.postEphemeral")
    await medialink.settle()
    assert call.error == "channel_not_found"
    assert any(record.levelno >= logging.ERROR for record in caplog.records)
    # The app is still serving.
    health = await medialink.http.get("/healthz")
    assert health.status_code == 200
    assert (await command_reply(medialink, wix_url(file_id))).ephemeral


async def test_a_rate_limited_web_api_call_is_retried_after_retry_after(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    slack = medialink.slack
    reply = await command_reply(medialink, wix_url(fake_wix.add_file()))
    slack.inject("chat.postMessage", "ratelimited", retry_after=1)
    await medialink.reply(await medialink.click(reply, "medialink_dm"), within=10)
    calls = slack.calls_to("chat.postMessage")
    assert [call.status for call in calls] == [429, 200]
    assert len(slack.messages(channel="D" + USER_ID[1:])) == 1


async def test_a_retry_after_longer_than_the_cap_is_not_waited_out(
    medialink: MediaLink, fake_wix: FakeWix, caplog: pytest.LogCaptureFixture
) -> None:
    """Slack's Retry-After is honoured up to a cap, like Wix's: an hour-long one fails
    the call at once (and the failure is logged) instead of holding the reply an hour."""
    slack = medialink.slack
    reply = await command_reply(medialink, wix_url(fake_wix.add_file()))
    slack.inject("chat.postMessage", "ratelimited", retry_after=3600)
    await medialink.click(reply, "medialink_dm")
    await medialink.settle(within=20)
    assert [call.status for call in slack.calls_to("chat.postMessage")] == [429]
    assert any(record.levelno >= logging.ERROR for record in caplog.records)


# ---------------------------------------------------------------- secrets stay out of logs


async def _busy_day(medialink: MediaLink, fake_wix: FakeWix) -> None:
    """Every path that handles signed URLs: reply, regenerate, share, DMs, fallback."""
    image = fake_wix.add_file()
    video = fake_wix.add_file(kind="video")
    reply = await command_reply(medialink, f"{wix_url(image)} {wix_url(video)}")
    for action_id in ("medialink_regenerate", "medialink_share", "medialink_dm"):
        await medialink.reply(await medialink.click(reply, action_id))
    url = medialink.slack.new_response_url(channel=CHANNEL_ID, user=USER_ID)
    _break(medialink.slack, url)
    await medialink.command(wix_url(image), response_url=url)
    await medialink.slack.wait_for_calls("chat.postEphemeral")
    await medialink.settle()


def _assert_no_secrets(text: str, wix: FakeWix, slack: FakeSlack) -> None:
    assert wix.issued, "the scenario issued no signed URL; the check would prove nothing"
    for link in wix.issued:
        assert link.token not in text, "a signed URL's token reached the logs"
    assert slack.bot_token not in text
    assert SIGNING_SECRET not in text
    assert FakeWix.API_KEY not in text


async def test_signed_urls_never_reach_the_logs(
    medialink: MediaLink, fake_wix: FakeWix, caplog: pytest.LogCaptureFixture
) -> None:
    """At the default LOG_LEVEL (INFO) no log record carries a signed URL or a secret."""
    caplog.set_level(logging.INFO)
    await _busy_day(medialink, fake_wix)
    assert caplog.records, "nothing was logged at all"
    _assert_no_secrets(caplog.text, fake_wix, medialink.slack)


@pytest.fixture
def app_logging() -> Iterator[Callable[[str], None]]:
    """``bot.logs.configure_logging`` as ``medialink serve`` runs it, undone afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    names = ("slack_sdk", "slack_bolt", "aiohttp", "httpx", "httpcore", "websockets")
    saved_levels = {name: logging.getLogger(name).level for name in names}
    yield configure_logging
    root.handlers[:] = saved_handlers
    root.setLevel(saved_level)
    for name, level in saved_levels.items():
        logging.getLogger(name).setLevel(level)


async def test_signed_urls_never_reach_the_log_output_even_at_debug(
    medialink: MediaLink,
    fake_wix: FakeWix,
    app_logging: Callable[[str], None],
    capsys: pytest.CaptureFixture[str],
) -> None:
    """LOG_LEVEL=DEBUG: what ``medialink serve`` writes to stderr holds no signed URL."""
    app_logging("DEBUG")
    await _busy_day(medialink, fake_wix)
    written = capsys.readouterr().err
    assert "DEBUG bot.wix.client" in written  # debug lines were written...
    _assert_no_secrets(written, fake_wix, medialink.slack)  # ...and none holds a signed link


async def test_no_log_record_carries_a_signed_url_even_at_debug(
    medialink: MediaLink,
    fake_wix: FakeWix,
    app_logging: Callable[[str], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Defence in depth: the records themselves, before any redaction, stay clean."""
    app_logging("DEBUG")
    logging.getLogger().addHandler(caplog.handler)
    await _busy_day(medialink, fake_wix)
    _assert_no_secrets(caplog.text, fake_wix, medialink.slack)


# ---------------------------------------------------------------- medialink check


def test_medialink_check_calls_auth_test(
    fake_slack: FakeSlack,
    fake_wix: FakeWix,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: object,
) -> None:
    monkeypatch.chdir(str(tmp_path))  # no .env is read
    monkeypatch.setattr("bot.logs.configure_logging", lambda level: None)
    for name, value in {
        "SLACK_BOT_TOKEN": fake_slack.bot_token,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "WIX_API_KEY": FakeWix.API_KEY,
        "WIX_SITE_ID": FakeWix.SITE_ID,
        "WIX_API_URL": fake_wix.base_url,
    }.items():
        monkeypatch.setenv(name, value)

    assert main(["check"]) == 0
    [call] = fake_slack.calls_to("auth.test")
    assert call.token == fake_slack.bot_token
    assert "Slack" in capsys.readouterr().out

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-0000-revoked")
    assert main(["check"]) == 1
    assert fake_slack.calls_to("auth.test")[-1].error == "invalid_auth"
    assert "invalid_auth" in capsys.readouterr().out
