"""The message shortcut and the global shortcut with its modal, end to end."""

from __future__ import annotations

import json
import logging
import time

import pytest

from tests.fakes.slack import FakeSlack, Json
from tests.fakes.wix import FakeWix
from tests.slack.conftest import (
    OTHER_CHANNEL_ID,
    USER_ID,
    MakeMediaLink,
    MediaLink,
    Sent,
    api_calls,
    generate_bodies,
    issued_urls,
    link_buttons,
    wix_url,
)


def rich_text_link(url: str, label: str | None = None) -> Json:
    link: Json = {"type": "link", "url": url}
    if label is not None:
        link["text"] = label
    return link


async def shortcut_reply_file_ids(medialink: MediaLink, message: Json) -> list[str]:
    sent = await medialink.message_shortcut(message)
    assert sent.response.status_code == 200, sent.response.text
    reply = await medialink.reply(sent)
    assert reply.ephemeral
    assert reply.user == USER_ID
    assert {button["url"] for button in link_buttons(reply)} <= issued_urls(medialink.wix)
    return sorted({body["fileId"] for body in generate_bodies(medialink.wix)})


# ---------------------------------------------------------------- message shortcut


async def test_message_shortcut_finds_links_in_the_text(
    medialink: MediaLink, fake_wix: FakeWix, fake_slack: FakeSlack
) -> None:
    first = fake_wix.add_file(display_name="one.jpg")
    second = fake_wix.add_file(kind="document", display_name="two.pdf")
    message = {
        "user": "U0SOMEONE",
        "text": f"Here: <{wix_url(first)}> and <{wix_url(second)}|the contract>",
    }
    assert await shortcut_reply_file_ids(medialink, message) == sorted([first, second])
    assert fake_slack.calls_to("views.open") == []
    # No history call is needed: the payload carries the message.
    assert api_calls(fake_slack) == []


async def test_message_shortcut_finds_links_in_rich_text_blocks(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    in_section = fake_wix.add_file()
    in_list = fake_wix.add_file(kind="video")
    in_quote = fake_wix.add_file(kind="audio")
    message = {
        "text": "see the blocks",
        "blocks": [
            {
                "type": "rich_text",
                "block_id": "rt",
                "elements": [
                    {
                        "type": "rich_text_section",
                        "elements": [
                            {"type": "text", "text": "files: "},
                            rich_text_link(wix_url(in_section), "photo"),
                        ],
                    },
                    {
                        "type": "rich_text_list",
                        "style": "bullet",
                        "elements": [
                            {
                                "type": "rich_text_section",
                                "elements": [rich_text_link(wix_url(in_list))],
                            }
                        ],
                    },
                    {
                        "type": "rich_text_quote",
                        "elements": [{"type": "text", "text": wix_url(in_quote)}],
                    },
                ],
            }
        ],
    }
    assert await shortcut_reply_file_ids(medialink, message) == sorted(
        [in_section, in_list, in_quote]
    )


async def test_message_shortcut_finds_links_in_section_blocks_and_attachments(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    in_section = fake_wix.add_file()
    in_field = fake_wix.add_file()
    in_title_link = fake_wix.add_file(kind="document")
    in_from_url = fake_wix.add_file()
    in_attachment_field = fake_wix.add_file(kind="vector")
    message = {
        "text": "",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": f"<{wix_url(in_section)}>"}},
            {"type": "section", "fields": [{"type": "mrkdwn", "text": wix_url(in_field)}]},
        ],
        "attachments": [
            {"fallback": "a file", "title": "Report", "title_link": wix_url(in_title_link)},
            {"from_url": wix_url(in_from_url), "text": "unfurled"},
            {"fields": [{"title": "vector", "value": f"<{wix_url(in_attachment_field)}>"}]},
        ],
    }
    assert await shortcut_reply_file_ids(medialink, message) == sorted(
        [in_section, in_field, in_title_link, in_from_url, in_attachment_field]
    )


async def test_message_shortcut_keeps_each_file_once(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    file_id = fake_wix.add_file()
    url = wix_url(file_id)
    message = {
        "text": f"<{url}>",
        "blocks": [
            {
                "type": "rich_text",
                "elements": [{"type": "rich_text_section", "elements": [rich_text_link(url)]}],
            }
        ],
        "attachments": [{"from_url": url}],
    }
    assert await shortcut_reply_file_ids(medialink, message) == [file_id]


async def test_message_shortcut_with_payload_in_the_text(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    file_id = fake_wix.add_file()
    message = {"text": f"payload: <https://static.wixstatic.com/media/{file_id}/payload.jpg>"}
    assert await shortcut_reply_file_ids(medialink, message) == [file_id]


async def test_message_shortcut_without_wix_links_says_so_and_calls_no_wix(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    sent = await medialink.message_shortcut({"text": "lunch? <https://example.com/menu.pdf>"})
    assert sent.response.status_code == 200
    reply = await medialink.reply(sent)
    assert reply.ephemeral
    assert "Wix" in reply.all_text()
    assert link_buttons(reply) == []
    await medialink.settle()
    assert fake_wix.requests == []


# ---------------------------------------------------------------- global shortcut and modal


async def open_modal(medialink: MediaLink) -> tuple[Sent, Json]:
    sent = await medialink.global_shortcut()
    assert sent.response.status_code == 200, sent.response.text
    [call] = await medialink.slack.wait_for_calls("views.open")
    assert call.ok, call.response  # the fake validated the modal against Slack's limits
    assert call.args["trigger_id"] == sent.trigger_id
    return sent, call.response["view"]


def element(view: Json, block_id: str) -> Json:
    [block] = [block for block in view["blocks"] if block.get("block_id") == block_id]
    assert block["type"] == "input"
    found = block["element"]
    assert isinstance(found, dict)
    return found


async def test_global_shortcut_opens_the_modal_first(
    medialink: MediaLink, fake_wix: FakeWix, fake_slack: FakeSlack
) -> None:
    _, view = await open_modal(medialink)
    assert view["callback_id"] == "medialink_modal"
    assert view["title"]["text"] == "MediaLink"
    assert view["submit"]["text"] == "Get links"
    urls = element(view, "urls")
    assert (urls["type"], urls["action_id"], urls.get("multiline")) == (
        "plain_text_input",
        "urls_input",
        True,
    )
    expiry = element(view, "expiry")
    assert (expiry["type"], expiry["action_id"]) == ("static_select", "expiry_select")
    assert expiry["initial_option"]["value"] == "60"  # MEDIALINK_DEFAULT_EXPIRY, in minutes
    assert {"15", "60", "1440", "10080"} <= {option["value"] for option in expiry["options"]}
    assets = element(view, "assets")
    assert (assets["type"], assets["action_id"]) == ("plain_text_input", "assets_input")
    [assets_block] = [block for block in view["blocks"] if block.get("block_id") == "assets"]
    assert assets_block.get("optional") is True
    conversation = element(view, "conversation")
    assert conversation["type"] == "conversations_select"
    assert conversation["action_id"] == "conversation_select"
    assert conversation["response_url_enabled"] is True
    assert conversation["default_to_current_conversation"] is True
    await medialink.settle()
    assert fake_wix.requests == []


async def test_a_failed_views_open_is_logged_and_nothing_else_happens(
    medialink: MediaLink, fake_wix: FakeWix, caplog: pytest.LogCaptureFixture
) -> None:
    medialink.slack.inject("views.open", "invalid_arguments")
    sent = await medialink.global_shortcut()
    assert sent.response.status_code == 200
    [call] = await medialink.slack.wait_for_calls("views.open")
    await medialink.settle()
    assert call.error == "invalid_arguments"
    assert any(record.levelno >= logging.WARNING for record in caplog.records)
    assert "Traceback" not in caplog.text
    assert fake_wix.requests == []


async def test_modal_expiry_choices_are_capped_by_the_maximum(
    make_medialink: MakeMediaLink,
) -> None:
    medialink = await make_medialink(medialink_max_expiry="1d", medialink_default_expiry="15m")
    _, view = await open_modal(medialink)
    expiry = element(view, "expiry")
    values = [int(option["value"]) for option in expiry["options"]]
    assert values
    assert max(values) <= 1440
    assert 10080 not in values
    assert expiry["initial_option"]["value"] == "15"


async def test_modal_submission_posts_links_to_the_chosen_conversation(
    medialink: MediaLink, fake_wix: FakeWix, fake_slack: FakeSlack
) -> None:
    video = fake_wix.add_file(kind="video", display_name="talk.mp4")
    image = fake_wix.add_file(display_name="slide.jpg")
    _, view = await open_modal(medialink)
    sent = await medialink.submit_view(
        view,
        urls=f"{wix_url(video)}\n{image}",
        expiry="1440",
        assets="src,720p.mp4",
        conversation=OTHER_CHANNEL_ID,
    )
    assert sent.response.status_code == 200
    assert sent.response.text == ""  # an empty ack closes the modal
    reply = await medialink.reply(sent)
    assert reply.channel == OTHER_CHANNEL_ID
    assert reply.ephemeral
    assert reply.user == USER_ID
    bodies = generate_bodies(fake_wix)
    assert {body["fileId"] for body in bodies} == {video, image}
    assert all(body["expirationInMinutes"] == 1440 for body in bodies)
    video_call = next(body for body in bodies if body["fileId"] == video)
    assert video_call["assetKeys"] == ["src", "720p.mp4"]
    assert {button["url"] for button in link_buttons(reply)} <= issued_urls(fake_wix)
    # The images have no 720p.mp4: the reply falls back to the original for them.
    assert len(link_buttons(reply)) >= 3


def errors_of(sent: Sent) -> dict[str, str]:
    assert sent.response.status_code == 200
    body = json.loads(sent.response.text)
    assert body["response_action"] == "errors"
    errors = body["errors"]
    assert isinstance(errors, dict)
    return errors


@pytest.mark.parametrize(
    ("urls", "assets", "field"),
    [
        (None, None, "urls"),
        ("   ", None, "urls"),
        ("just some words https://example.com/x.jpg", None, "urls"),
        ("FILE", "not a key!", "assets"),
    ],
)
async def test_modal_shows_bad_input_inline_and_calls_no_wix(
    medialink: MediaLink,
    fake_wix: FakeWix,
    urls: str | None,
    assets: str | None,
    field: str,
) -> None:
    file_id = fake_wix.add_file()
    _, view = await open_modal(medialink)
    sent = await medialink.submit_view(
        view, urls=urls.replace("FILE", wix_url(file_id)) if urls else urls, assets=assets
    )
    errors = errors_of(sent)
    assert set(errors) == {field}
    assert errors[field].strip()
    await medialink.settle()
    assert fake_wix.requests == []
    assert sent.response_url is not None
    assert medialink.slack.posts(sent.response_url) == []


async def test_shortcut_and_modal_acks_come_back_before_slow_wix_answers(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    file_id = fake_wix.add_file()
    fake_wix.latency = 2.0
    shortcut = await medialink.message_shortcut({"text": f"<{wix_url(file_id)}>"})
    _, view = await open_modal(medialink)
    submitted = await medialink.submit_view(view, urls=wix_url(file_id))
    acked_at = time.monotonic()
    assert submitted.response.status_code == 200
    await medialink.reply(shortcut, within=15)
    await medialink.reply(submitted, within=15)
    last_calls = fake_wix.requests[-2:]
    assert all(request.finished is not None for request in last_calls)
    assert all(request.finished > acked_at for request in last_calls if request.finished)
