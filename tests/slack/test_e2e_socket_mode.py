"""Socket Mode end to end: the fake Slack hands out a loopback WebSocket and sends envelopes.

``bot.server.start_socket_mode`` asks ``apps.connections.open`` (with the app-level
token) for the URL, the fake says ``hello`` and delivers a slash-command envelope
and a block-actions envelope; the app acks each one and its replies reach the
response_url sink, exactly as in HTTP mode.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import pytest

from bot.app import build_app
from bot.dispatch import Dispatcher
from bot.server import start_socket_mode
from bot.services import build_services
from tests.fakes.slack import FakeSlack, Json, Message
from tests.fakes.wix import FakeWix
from tests.slack.conftest import (
    CHANNEL_ID,
    FAST_RETRY,
    USER_ID,
    block_actions_payload,
    command_form,
    generate_bodies,
    issued_urls,
    link_buttons,
    medialink_settings,
    wix_url,
)


@dataclass
class SocketApp:
    slack: FakeSlack
    wix: FakeWix

    async def command(self, text: str) -> tuple[str, str]:
        """Send ``/medialink <text>`` as a slash_commands envelope: (envelope_id, response_url)."""
        url = self.slack.new_response_url(channel=CHANNEL_ID, user=USER_ID)
        form = command_form(text, response_url=url, trigger_id=self.slack.new_trigger_id())
        payload: Json = dict(parse_qsl(form, keep_blank_values=True))
        return self.slack.send_envelope("slash_commands", payload), url

    async def click(self, message: Message, action_id: str) -> tuple[str, str]:
        url = self.slack.new_response_url(
            channel=message.channel, user=USER_ID, message_id=message.id
        )
        payload = block_actions_payload(
            message,
            message.block_of(action_id),
            message.element(action_id),
            response_url=url,
            trigger_id=self.slack.new_trigger_id(),
        )
        return self.slack.send_envelope("interactive", payload), url

    async def reply(self, url: str, count: int = 1) -> Message:
        posts = await self.slack.wait_for_posts(url, count)
        post = posts[count - 1]
        assert post.accepted, (post.status, post.answer)
        assert post.message_id is not None
        return self.slack.message(post.message_id)


@pytest.fixture
async def socket_app(fake_slack: FakeSlack, fake_wix: FakeWix) -> AsyncIterator[SocketApp]:
    settings = medialink_settings(
        fake_slack, fake_wix, slack_app_token=fake_slack.app_token, slack_signing_secret=None
    )
    services = build_services(settings, retry=FAST_RETRY)
    dispatcher = Dispatcher()
    app = build_app(settings, services, dispatcher)
    handler: Any = await start_socket_mode(app, fake_slack.app_token)
    try:
        await fake_slack.wait_until(
            lambda: fake_slack.socket_connections >= 1, what="the app's WebSocket"
        )
        yield SocketApp(fake_slack, fake_wix)
    finally:
        await handler.close_async()
        await dispatcher.finish(5)
        await services.aclose()


async def test_socket_mode_connects_with_the_app_token(
    socket_app: SocketApp, fake_slack: FakeSlack
) -> None:
    [opened] = fake_slack.calls_to("apps.connections.open")
    assert opened.ok
    assert opened.token == fake_slack.app_token
    assert fake_slack.socket_connections == 1


async def test_slash_command_and_button_click_over_socket_mode(
    socket_app: SocketApp, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    file_id = fake_wix.add_file(display_name="socket.jpg")
    envelope_id, url = await socket_app.command(wix_url(file_id))
    acked = await fake_slack.wait_for_ack(envelope_id)
    assert not acked.ack  # an empty ack; the links come through the response_url
    reply = await socket_app.reply(url)
    assert reply.ephemeral
    assert "socket.jpg" in reply.all_text()
    [button] = link_buttons(reply)
    assert button["url"] in issued_urls(fake_wix)

    calls_before = len(generate_bodies(fake_wix))
    envelope_id, click_url = await socket_app.click(reply, "medialink_expiry_1440")
    await fake_slack.wait_for_ack(envelope_id)
    updated = await socket_app.reply(click_url)
    assert updated.id == reply.id  # replaced in place
    assert [body["expirationInMinutes"] for body in generate_bodies(fake_wix)[calls_before:]] == [
        1440
    ]
    assert set(updated.button_urls()) <= issued_urls(fake_wix)


async def test_usage_over_socket_mode_comes_back_in_the_ack(
    socket_app: SocketApp, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    envelope_id, url = await socket_app.command("")
    acked = await fake_slack.wait_for_ack(envelope_id)
    assert acked.ack is not None
    shown = str(acked.ack.get("text", "")) + str(acked.ack.get("blocks", ""))
    assert "expires=" in shown
    assert fake_wix.requests == []
    assert fake_slack.posts(url) == []


async def test_payload_in_the_text_works_over_socket_mode(
    socket_app: SocketApp, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    file_id = fake_wix.add_file()
    envelope_id, url = await socket_app.command(
        f"https://static.wixstatic.com/media/{file_id}/v1/fill/w_100,h_100/payload.jpg"
    )
    await fake_slack.wait_for_ack(envelope_id)
    reply = await socket_app.reply(url)
    assert len(link_buttons(reply)) == 1
