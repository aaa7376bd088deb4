"""Every button of a reply, clicked the way Slack reports clicks (signed block_actions)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from datetime import timedelta

import pytest

from bot.slack.button_state import decode_state, encode_state
from tests.fakes.slack import FakeSlack, Message
from tests.fakes.wix import FakeWix
from tests.slack.conftest import (
    OTHER_USER_ID,
    USER_ID,
    MakeMediaLink,
    MediaLink,
    api_calls,
    generate_bodies,
    issued_urls,
    link_buttons,
    without_query,
    wix_url,
)

EXPIRY_MINUTES = (15, 60, 1440, 10080)


async def first_reply(medialink: MediaLink, text: str) -> Message:
    sent = await medialink.command(text)
    assert sent.response.status_code == 200, sent.response.text
    return await medialink.reply(sent)


@pytest.fixture
async def files(fake_wix: FakeWix) -> tuple[str, str]:
    image = fake_wix.add_file(kind="image", display_name="poster.jpg")
    video = fake_wix.add_file(kind="video", display_name="trailer.mp4")
    return image, video


@pytest.fixture
async def reply(medialink: MediaLink, files: tuple[str, str]) -> Message:
    return await first_reply(medialink, " ".join(wix_url(file_id) for file_id in files))


def button_labels(message: Message, prefix: str) -> dict[str, str]:
    return {
        str(element["action_id"]): str(element["text"]["text"])
        for element in message.elements()
        if str(element.get("action_id", "")).startswith(prefix)
    }


async def click_and_wait(
    medialink: MediaLink, message: Message, action_id: str, **kwargs: object
) -> Message:
    """Click, wait for the answer at the click's response_url, return the message it made."""
    sent = await medialink.click(message, action_id, **kwargs)  # type: ignore[arg-type]
    assert sent.response.status_code == 200, sent.response.text
    return await medialink.reply(sent)


async def assert_refused(
    medialink: MediaLink, message: Message, action_id: str, *, words: str, **kwargs: object
) -> None:
    """The click gets a polite answer, the reply is untouched and Wix is not asked."""
    wix_before = len(medialink.wix.requests)
    body_before = dict(message.body)
    answer = await click_and_wait(medialink, message, action_id, **kwargs)
    assert answer.id != message.id, "the refusal replaced the reply it refused"
    assert answer.ephemeral
    assert words in answer.all_text()
    await medialink.settle()
    assert len(medialink.wix.requests) == wix_before
    original = medialink.slack.message(message.id)
    assert not original.deleted
    assert original.body == body_before


# ---------------------------------------------------------------- regenerate and expiry


async def test_regenerate_replaces_the_reply_in_place(
    medialink: MediaLink, reply: Message, fake_wix: FakeWix, fake_slack: FakeSlack
) -> None:
    old_urls = set(reply.button_urls())
    calls_before = len(generate_bodies(fake_wix))
    updated = await click_and_wait(medialink, reply, "medialink_regenerate")

    assert updated.id == reply.id  # replaced, not a second message
    assert len(updated.history) == 1
    new_urls = set(updated.button_urls())
    assert new_urls
    assert new_urls.isdisjoint(old_urls)
    assert new_urls <= issued_urls(fake_wix)
    assert len(generate_bodies(fake_wix)) == calls_before + 2
    assert len(fake_slack.messages(user=USER_ID)) == 1
    [post] = fake_slack.posts(medialink.sent[-1].response_url)
    assert post.body["replace_original"] is True
    assert post.body["unfurl_links"] is False
    assert post.body["unfurl_media"] is False


@pytest.mark.parametrize(
    "action_id",
    ["medialink_regenerate", "medialink_expiry_60", "medialink_share", "medialink_dm"],
)
async def test_clicks_are_acked_before_slow_wix_answers(
    medialink: MediaLink, reply: Message, fake_wix: FakeWix, action_id: str
) -> None:
    fake_wix.latency = 2.0
    calls_before = len(fake_wix.requests)
    sent = await medialink.click(reply, action_id)
    acked_at = time.monotonic()
    assert sent.response.status_code == 200, sent.response.text
    await medialink.settle(within=15)
    calls = fake_wix.requests[calls_before:]
    assert calls
    assert all(call.finished is not None and call.finished > acked_at for call in calls)


@pytest.mark.parametrize("minutes", EXPIRY_MINUTES)
async def test_each_expiry_button_regenerates_with_its_expiry(
    medialink: MediaLink, reply: Message, fake_wix: FakeWix, minutes: int
) -> None:
    calls_before = len(generate_bodies(fake_wix))
    updated = await click_and_wait(medialink, reply, f"medialink_expiry_{minutes}")
    assert updated.id == reply.id
    new_calls = generate_bodies(fake_wix)[calls_before:]
    assert len(new_calls) == 2
    assert {body["expirationInMinutes"] for body in new_calls} == {minutes}
    styles = {
        element["action_id"]: element.get("style")
        for element in updated.elements()
        if str(element["action_id"]).startswith("medialink_expiry_")
    }
    assert styles.pop(f"medialink_expiry_{minutes}") == "primary"
    assert all(style is None for style in styles.values())
    # The regenerate button now remembers the new expiry too.
    again = await click_and_wait(medialink, updated, "medialink_regenerate")
    assert {body["expirationInMinutes"] for body in generate_bodies(fake_wix)[-2:]} == {minutes}
    assert again.id == reply.id


async def test_expiry_buttons_are_capped_by_the_maximum(
    make_medialink: MakeMediaLink, files: tuple[str, str]
) -> None:
    medialink = await make_medialink(medialink_max_expiry="1d")
    reply = await first_reply(medialink, wix_url(files[0]))
    assert set(button_labels(reply, "medialink_expiry_")) == {
        "medialink_expiry_15",
        "medialink_expiry_60",
        "medialink_expiry_1440",
    }
    # A hand-made click on the missing 7-day button is refused.
    token = str(reply.element("medialink_regenerate")["value"])
    state = decode_state(token, max_expiry=timedelta(days=365))
    forged = encode_state(dataclasses.replace(state, expires_minutes=10080))
    await assert_refused(
        medialink,
        reply,
        "medialink_expiry_10080",
        words="1 day",
        forged={"text": {"type": "plain_text", "text": "7 days"}, "value": forged},
    )


async def test_a_lowered_maximum_applies_to_old_buttons(
    make_medialink: MakeMediaLink, files: tuple[str, str]
) -> None:
    """Buttons made under a 7-day cap, clicked after the cap became 1 day (another replica)."""
    before = await make_medialink(medialink_max_expiry="7d")
    reply = await first_reply(before, wix_url(files[0]))
    after = await make_medialink(medialink_max_expiry="1d")
    await assert_refused(after, reply, "medialink_expiry_10080", words="1 day")


# ---------------------------------------------------------------- renditions


async def test_video_offers_its_renditions_and_images_do_not(reply: Message) -> None:
    labels = button_labels(reply, "medialink_rendition_")
    video_choices = {
        key: label for key, label in labels.items() if key.startswith("medialink_rendition_1_")
    }
    assert sorted(video_choices.values()) == sorted(
        ["✓ Original", "480p.mp4", "720p.mp4", "1080p.mp4", "All"]
    )
    assert not any(key.startswith("medialink_rendition_0_") for key in labels)


async def test_a_private_video_rendition_wix_refuses_falls_back_to_the_original(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    """A private file lacks media URLs (docs/wix.md, Private files), so storyboard previews can't be
    told from renditions and may be offered; choosing one still ends with a working link."""
    medialink = await make_medialink(medialink_private_files="everyone")
    renditions = ("480p.mp4", "720p.mp4")
    video = fake_wix.add_file(kind="video", private=True, renditions=renditions)
    reply = await first_reply(medialink, wix_url(video))
    offered = button_labels(reply, "medialink_rendition_0_")
    assert {"✓ Original", "All", *renditions} <= set(offered.values())
    known = {"✓ Original", "All", *renditions}
    extra = [key for key, label in offered.items() if label not in known]
    if not extra:
        return  # nothing Wix would refuse is offered
    updated = await click_and_wait(medialink, reply, extra[0])
    assert [button["text"]["text"] for button in link_buttons(updated)] == ["Original"]
    assert "here is the original instead" in updated.all_text()


async def test_rendition_choice_regenerates_that_file_with_it(
    medialink: MediaLink, reply: Message, files: tuple[str, str], fake_wix: FakeWix
) -> None:
    image, video = files
    choice = next(
        key
        for key, label in button_labels(reply, "medialink_rendition_1_").items()
        if label == "720p.mp4"
    )
    calls_before = len(generate_bodies(fake_wix))
    updated = await click_and_wait(medialink, reply, choice)
    assert updated.id == reply.id
    new_calls = {body["fileId"]: body for body in generate_bodies(fake_wix)[calls_before:]}
    assert new_calls[video]["assetKeys"] == ["720p.mp4"]
    assert new_calls[image].get("assetKeys", ["src"]) == ["src"]
    assert "720p.mp4" in [button["text"]["text"] for button in link_buttons(updated)]
    chosen = [
        element
        for element in updated.elements()
        if str(element["action_id"]).startswith("medialink_rendition_1_")
        and element["text"]["text"].startswith("✓")
    ]
    assert [element["text"]["text"] for element in chosen] == ["✓ 720p.mp4"]

    everything = next(
        key
        for key, label in button_labels(updated, "medialink_rendition_1_").items()
        if label == "All"
    )
    final = await click_and_wait(medialink, updated, everything)
    video_links = [
        button["text"]["text"]
        for button in link_buttons(final)
        if button["text"]["text"] != "Original"
    ]
    assert sorted(video_links) == sorted(["480p.mp4", "720p.mp4", "1080p.mp4"])


# ---------------------------------------------------------------- share, DMs, dismiss


async def test_share_posts_the_links_visibly_with_who_shared(
    medialink: MediaLink, reply: Message, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    share = reply.element("medialink_share")
    assert share.get("confirm"), "sharing must ask for confirmation first"
    shared = await click_and_wait(medialink, reply, "medialink_share")
    assert shared.in_channel
    assert shared in fake_slack.messages(user=OTHER_USER_ID)  # everyone sees it
    assert f"<@{USER_ID}>" in shared.all_text()
    # Fresh links for the same files (the buttons remember files, not signed URLs).
    assert without_query(shared.button_urls()) == without_query(reply.button_urls())
    assert set(shared.button_urls()) <= issued_urls(fake_wix)
    assert not any(
        key.startswith("medialink_") and "link" not in key for key in shared.action_ids()
    )
    assert shared.body.get("unfurl_links") is False
    assert shared.body.get("unfurl_media") is False
    assert not fake_slack.message(reply.id).deleted


async def test_share_can_be_switched_off(
    make_medialink: MakeMediaLink, files: tuple[str, str]
) -> None:
    medialink = await make_medialink(medialink_share_enabled=False)
    reply = await first_reply(medialink, wix_url(files[0]))
    assert "medialink_share" not in reply.action_ids()
    token = reply.element("medialink_regenerate")["value"]
    await assert_refused(
        medialink,
        reply,
        "medialink_share",
        words="switched off",
        forged={"text": {"type": "plain_text", "text": "Share"}, "value": token},
    )
    assert medialink.slack.messages(user=OTHER_USER_ID) == []


async def test_send_to_my_dms_posts_a_copy_in_the_apps_dm(
    medialink: MediaLink, reply: Message, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    sent = await medialink.click(reply, "medialink_dm")
    assert sent.response.status_code == 200
    [call] = await fake_slack.wait_for_calls("chat.postMessage")
    assert call.ok, call.response
    assert call.args["channel"] == USER_ID
    assert call.args["unfurl_links"] is False
    assert call.args["unfurl_media"] is False
    [copy] = fake_slack.messages(channel="D" + USER_ID[1:])
    assert without_query(copy.button_urls()) == without_query(reply.button_urls())
    assert set(copy.button_urls()) <= issued_urls(fake_wix)
    assert "medialink_regenerate" not in copy.action_ids()
    confirmation = await medialink.reply(sent)
    assert confirmation.id != reply.id
    assert "DM" in confirmation.all_text()
    assert not fake_slack.message(reply.id).deleted
    assert fake_slack.message(reply.id).history == []
    assert fake_slack.calls_to("conversations.open") == []  # that would need im:write


async def test_send_to_my_dms_failure_is_reported(
    medialink: MediaLink, reply: Message, fake_slack: FakeSlack
) -> None:
    fake_slack.inject("chat.postMessage", "channel_not_found")
    answer = await click_and_wait(medialink, reply, "medialink_dm")
    assert answer.id != reply.id
    assert "DM" in answer.all_text()
    assert fake_slack.messages(channel="D" + USER_ID[1:]) == []
    assert fake_slack.message(reply.id).body == reply.body


async def test_dismiss_deletes_the_reply(
    medialink: MediaLink, reply: Message, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    wix_before = len(fake_wix.requests)
    sent = await medialink.click(reply, "medialink_dismiss")
    assert sent.response.status_code == 200
    [post] = await medialink.wait_posts(sent)
    assert post.body.get("delete_original") is True
    assert post.accepted
    assert fake_slack.message(reply.id).deleted
    assert fake_slack.messages(user=USER_ID) == []
    await medialink.settle()
    assert len(fake_wix.requests) == wix_before


async def test_link_buttons_are_acknowledged_quietly(
    medialink: MediaLink, reply: Message, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    wix_before = len(fake_wix.requests)
    for button in link_buttons(reply):
        sent = await medialink.click(reply, str(button["action_id"]))
        assert sent.response.status_code == 200
        assert sent.response.text == ""
        await medialink.settle()
        assert sent.response_url is not None
        assert fake_slack.posts(sent.response_url) == []
    assert len(fake_wix.requests) == wix_before
    assert api_calls(fake_slack) == []


# ---------------------------------------------------------------- who may click, and what


async def test_a_click_by_another_user_is_refused(medialink: MediaLink, reply: Message) -> None:
    await assert_refused(
        medialink, reply, "medialink_regenerate", user=OTHER_USER_ID, words=f"<@{USER_ID}>"
    )


def _flip_middle(token: str) -> str:
    middle = len(token) // 2
    return token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]


def _replace_state(**changes: object) -> Callable[[str], str]:
    def forge(token: str) -> str:
        state = decode_state(token, max_expiry=timedelta(days=365))
        return encode_state(dataclasses.replace(state, **changes))  # type: ignore[arg-type]

    return forge


def _bad_file_id(token: str) -> str:
    state = decode_state(token, max_expiry=timedelta(days=365))
    files = [dataclasses.replace(state.files[0], file_id="../../etc/passwd")]
    return encode_state(state.with_files(files))


@pytest.mark.parametrize(
    ("tamper", "words"),
    [
        pytest.param(lambda token: "garbage", "/medialink", id="garbage"),
        pytest.param(_flip_middle, "/medialink", id="flipped-character"),
        pytest.param(lambda token: token + "x" * 3000, "/medialink", id="oversized"),
        pytest.param(_bad_file_id, "/medialink", id="bad-file-id"),
        pytest.param(_replace_state(expires_minutes=600_000), "7 days", id="expiry-over-cap"),
        pytest.param(
            _replace_state(user_id=OTHER_USER_ID), f"<@{OTHER_USER_ID}>", id="other-owner"
        ),
    ],
)
async def test_a_tampered_button_value_is_refused(
    medialink: MediaLink, reply: Message, tamper: Callable[[str], str], words: str
) -> None:
    token = str(reply.element("medialink_regenerate")["value"])
    await assert_refused(medialink, reply, "medialink_regenerate", value=tamper(token), words=words)
