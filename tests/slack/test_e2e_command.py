"""``/medialink`` end to end: signed form posts in, replies at the response_url sink."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

import pytest

from tests.fakes.slack import FakeSlack, Message
from tests.fakes.wix import FakeWix
from tests.slack.conftest import (
    CHANNEL_ID,
    OTHER_USER_ID,
    USER_ID,
    MakeMediaLink,
    MediaLink,
    ack_text,
    generate_bodies,
    issued_urls,
    link_buttons,
    private_answer,
    slack_dates,
    wix_url,
)

CONTROLS = ("medialink_regenerate", "medialink_share", "medialink_dm", "medialink_dismiss")
EXPIRY_BUTTONS = ("medialink_expiry_15", "medialink_expiry_60", "medialink_expiry_1440")


async def reply_to(medialink: MediaLink, text: str) -> Message:
    sent = await medialink.command(text)
    assert sent.response.status_code == 200, sent.response.text
    return await medialink.reply(sent)


async def test_command_replies_with_private_links_through_the_response_url(
    medialink: MediaLink, fake_wix: FakeWix, fake_slack: FakeSlack
) -> None:
    file_id = fake_wix.add_file(kind="image", display_name="Team photo.jpg", size=2_500_000)
    sent = await medialink.command(wix_url(file_id))

    assert sent.response.status_code == 200
    assert ack_text(sent) == ""  # an empty ack; the links come through the response_url
    reply = await medialink.reply(sent)

    assert reply.ephemeral
    assert reply.user == USER_ID
    assert reply.channel == CHANNEL_ID
    assert fake_slack.messages(user=OTHER_USER_ID) == []  # nobody else sees it
    assert reply.body.get("unfurl_links") is False
    assert reply.body.get("unfurl_media") is False
    text = reply.all_text()
    assert "*Team photo.jpg*" in text
    assert "Image" in text
    assert "MB" in text  # a human size for 2.5 MB
    [button] = link_buttons(reply)
    assert button["action_id"] == "medialink_link_0"
    assert button["text"]["text"] == "Original"
    assert button["url"] in issued_urls(fake_wix)
    [wix_call] = generate_bodies(fake_wix)
    assert wix_call["fileId"] == file_id
    assert wix_call["expirationInMinutes"] == 60  # MEDIALINK_DEFAULT_EXPIRY
    for action_id in (*CONTROLS, *EXPIRY_BUTTONS, "medialink_expiry_10080"):
        reply.element(action_id)
    # The reply leaves Slack's own web API alone: response_url only.
    assert fake_slack.calls_to("chat.postEphemeral") == []


async def test_expiry_shows_as_a_slack_date_with_a_utc_fallback(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    file_id = fake_wix.add_file()
    before = time.time()
    reply = await reply_to(medialink, f"{wix_url(file_id)} expires=3h")
    # The expiry, and the Share button's confirmation ("until … if you share now").
    dates = slack_dates(reply.all_text())
    assert len(dates) == 2
    for stamp, fallback in dates:
        assert before + 3 * 3600 - 60 <= stamp <= time.time() + 3 * 3600 + 60
        assert fallback == datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


async def test_private_files_are_marked(make_medialink: MakeMediaLink, fake_wix: FakeWix) -> None:
    medialink = await make_medialink(medialink_private_files="everyone")
    private = fake_wix.add_file(kind="document", display_name="contract.pdf", private=True)
    public = fake_wix.add_file(kind="image", display_name="logo.jpg")
    reply = await reply_to(medialink, f"{wix_url(private)} {wix_url(public)}")
    sections = {
        block["block_id"]: block["text"]["text"]
        for block in reply.blocks
        if block["type"] == "section" and "text" in block
    }
    private_text = next(text for text in sections.values() if "contract.pdf" in text)
    public_text = next(text for text in sections.values() if "logo.jpg" in text)
    assert "🔒" in private_text
    assert "private" in private_text.lower()
    assert "🔒" not in public_text


@pytest.mark.parametrize(
    "options",
    ["expires=2h", "--expires 2h", "--expires=2h", "expires=120"],
)
async def test_expires_option_in_every_spelling(
    medialink: MediaLink, fake_wix: FakeWix, options: str
) -> None:
    file_id = fake_wix.add_file()
    # Options may come before or after the references.
    await reply_to(medialink, f"{options} {wix_url(file_id)}")
    await reply_to(medialink, f"{wix_url(file_id)} {options}")
    assert [body["expirationInMinutes"] for body in generate_bodies(fake_wix)] == [120, 120]


async def test_expires_above_the_maximum_is_refused_without_calling_wix(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(medialink_max_expiry="1d")
    file_id = fake_wix.add_file()
    sent = await medialink.command(f"{wix_url(file_id)} expires=2d")
    assert sent.response.status_code == 200
    shown = await private_answer(medialink, sent)
    assert "1 day" in shown
    await medialink.settle()
    assert fake_wix.requests == []


async def test_assets_option_asks_for_those_renditions(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    video = fake_wix.add_file(kind="video", display_name="launch.mp4")
    reply = await reply_to(medialink, f"{wix_url(video)} assets=src,720p.mp4")
    [body] = generate_bodies(fake_wix)
    assert body["assetKeys"] == ["src", "720p.mp4"]
    assert [button["text"]["text"] for button in link_buttons(reply)] == ["Original", "720p.mp4"]
    assert {button["url"] for button in link_buttons(reply)} <= issued_urls(fake_wix)


async def test_name_inline_and_redirect_options_reach_wix(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    file_id = fake_wix.add_file(kind="document")
    await reply_to(
        medialink,
        f"name=contract.pdf inline {wix_url(file_id)} redirect=https://example.com/expired",
    )
    [body] = generate_bodies(fake_wix)
    assert body["downloadFileName"] == "contract.pdf"
    assert body["contentDisposition"] == "INLINE"
    assert body["expirationRedirectUrl"] == "https://example.com/expired"

    await reply_to(medialink, wix_url(file_id))
    plain = generate_bodies(fake_wix)[-1]
    assert plain.get("contentDisposition", "ATTACHMENT") == "ATTACHMENT"
    assert "downloadFileName" not in plain or plain["downloadFileName"] is None


async def test_redirect_must_be_https(medialink: MediaLink, fake_wix: FakeWix) -> None:
    file_id = fake_wix.add_file()
    sent = await medialink.command(f"{wix_url(file_id)} redirect=http://example.com/expired")
    shown = await private_answer(medialink, sent)
    assert "https" in shown
    await medialink.settle()
    assert fake_wix.requests == []


async def test_unknown_option_is_named(medialink: MediaLink, fake_wix: FakeWix) -> None:
    file_id = fake_wix.add_file()
    sent = await medialink.command(f"{wix_url(file_id)} --colour=red")
    shown = await private_answer(medialink, sent)
    assert "colour" in shown
    await medialink.settle()
    assert fake_wix.requests == []


@pytest.mark.parametrize("text", ["help", "", "   ", "--help"])
async def test_help_and_empty_command_answer_with_usage(
    medialink: MediaLink, fake_wix: FakeWix, fake_slack: FakeSlack, text: str
) -> None:
    sent = await medialink.command(text)
    assert sent.response.status_code == 200
    shown = await private_answer(medialink, sent)
    for option in ("expires=", "assets=", "name=", "inline", "redirect="):
        assert option in shown, f"usage does not mention {option}"
    await medialink.settle()
    assert fake_wix.requests == []


@pytest.mark.parametrize(
    "text",
    [
        "hello there",
        "https://example.com/cat.jpg",
        "https://archive.wixmp.com/archive/wix/7d332530d35c465aa4a0e71d1737909d",
    ],
)
async def test_text_without_a_wix_reference_gets_usage_and_no_wix_call(
    medialink: MediaLink, fake_wix: FakeWix, text: str
) -> None:
    sent = await medialink.command(text)
    assert sent.response.status_code == 200
    shown = await private_answer(medialink, sent)
    assert "/medialink" in shown
    assert "expires=" in shown
    await medialink.settle()
    assert fake_wix.requests == []


async def test_nothing_found_leads_with_the_reason_once_and_points_to_help(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    sent = await medialink.command("https://example.com/cat.jpg expires=2h")
    assert sent.response.status_code == 200
    reply = await medialink.reply(sent)
    assert reply.ephemeral
    first, *rest = reply.blocks
    lead = first["text"]["text"]
    assert lead.startswith("*No links made.* `https://example.com/cat.jpg`: this is not a Wix")
    shown = reply.all_text().replace(reply.text, "")  # the blocks, not the notification
    assert shown.count("not a Wix media URL") == 1
    assert "/medialink help" in shown
    assert "*Options*" not in shown  # the full usage is one `help` away
    assert len(rest) == 1
    await medialink.settle()
    assert fake_wix.requests == []


async def test_a_custom_expiry_is_the_highlighted_choice_under_a_label(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    file_id = fake_wix.add_file(display_name="deck.pdf", kind="document")
    reply = await reply_to(medialink, f"{wix_url(file_id)} expires=2h")
    expiry = {
        element["action_id"]: element
        for element in reply.elements()
        if str(element["action_id"]).startswith("medialink_expiry_")
    }
    current = [e["text"]["text"] for e in expiry.values() if e.get("style") == "primary"]
    assert current == ["2 hours"]
    assert "medialink_expiry_120" in expiry
    ids = [block.get("block_id") for block in reply.blocks]
    label = reply.blocks[ids.index("medialink_expiry") - 1]
    assert label["elements"][0]["text"].startswith("Links expire in")


async def test_rejected_input_is_listed_with_its_reason(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    file_id = fake_wix.add_file(display_name="keep.jpg")
    archive = "https://archive.wixmp.com/archive/wix/7d332530d35c465aa4a0e71d1737909d"
    reply = await reply_to(medialink, f"{wix_url(file_id)} {archive}")
    assert len(link_buttons(reply)) == 1
    rejected = [block for block in reply.blocks if block.get("block_id") == "medialink_rejected"]
    assert rejected, "the skipped input is not listed"
    listed = "\n".join(element["text"] for element in rejected[0]["elements"])
    assert "7d332530d35c465aa4a0e71d1737909d" in listed
    assert ":" in listed.split("7d332530d35c465aa4a0e71d1737909d", 1)[1]  # a reason follows


async def test_every_reference_form_and_each_file_once(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    image = fake_wix.add_file(kind="image", display_name="a.jpg")
    document = fake_wix.add_file(kind="document", display_name="b.pdf")
    video = fake_wix.add_file(kind="video", display_name="c.mp4")
    text = " ".join(
        [
            f"<{wix_url(image)}|a picture>",  # Slack's <url|label>
            f"wix:document://v1/ugd/{document}/report.pdf",
            video,  # a bare file ID
            f"https://static.wixstatic.com/media/{image}/v1/fill/w_100,h_100/a.jpg",  # again
        ]
    )
    reply = await reply_to(medialink, text)
    assert sorted(body["fileId"] for body in generate_bodies(fake_wix)) == sorted(
        [image, document, video]
    )
    assert len(link_buttons(reply)) == 3


async def test_payload_in_the_url_is_a_command_not_an_interaction(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    """Regression: Bolt's parse_body took any form body containing "payload" for one."""
    file_id = fake_wix.add_file(kind="image")
    sent = await medialink.command(
        f"https://static.wixstatic.com/media/{file_id}/v1/fill/w_100,h_100/payload.jpg"
    )
    assert sent.response.status_code == 200, sent.response.text
    reply = await medialink.reply(sent)
    assert [body["fileId"] for body in generate_bodies(fake_wix)] == [file_id]
    assert len(link_buttons(reply)) == 1

    sent = await medialink.command(f"my payload link {wix_url(file_id)}")
    assert sent.response.status_code == 200, sent.response.text
    await medialink.reply(sent)


async def test_ack_comes_back_before_slow_wix_answers(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    file_id = fake_wix.add_file()
    fake_wix.latency = 2.0
    sent = await medialink.command(wix_url(file_id))
    acked_at = time.monotonic()
    assert sent.response.status_code == 200
    await medialink.reply(sent, within=15)
    finished = [request.finished for request in fake_wix.requests]
    assert finished
    assert all(when is not None and when > acked_at for when in finished)


async def test_each_command_is_logged_once_by_kind_and_who_never_by_content(
    medialink: MediaLink, fake_wix: FakeWix, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    file_id = fake_wix.add_file()
    sent = await medialink.command(f"{wix_url(file_id)} for the launch deck")
    await medialink.reply(sent)
    await medialink.settle()
    acked = [record.getMessage() for record in caplog.records if "acked" in record.getMessage()]
    assert len(acked) == 1
    assert acked[0].startswith("acked command /medialink [")
    assert f"user={USER_ID}" in acked[0]
    assert f"channel={CHANNEL_ID}" in acked[0]
    assert file_id not in caplog.text
    assert "launch deck" not in caplog.text


# --- what the ack itself shows, and bad input refused before any parsing cost --------------


@pytest.mark.parametrize(
    "text",
    [
        "help",  # usage
        "",  # usage
        "expires=soon {url}",  # an option problem
        "--colour=red {url}",  # an unknown option
        "hello there https://example.com/cat.jpg",  # nothing found: usage
        "https://archive.wixmp.com/archive/wix/7d332530d35c465aa4a0e71d1737909d",  # refused
    ],
)
async def test_answers_without_links_are_shown_only_to_the_person(
    medialink: MediaLink, fake_wix: FakeWix, fake_slack: FakeSlack, text: str
) -> None:
    """The answer may echo pasted URLs, so it must never go to the whole channel. Only an
    empty command is answered in the ack; anything with text is read after it, so a
    burst's acks never wait for the reading."""
    sent = await medialink.command(text.format(url=wix_url(fake_wix.add_file())))
    if text:
        assert ack_text(sent) == ""
    assert await private_answer(medialink, sent)
    await medialink.settle()
    assert fake_wix.requests == []
    assert fake_slack.calls_to("chat.postMessage") == []


async def test_unclosed_quotes_are_read_within_slacks_deadline(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    """Regression: every unclosed “ rescanned the rest of the text (3 s for 40,000)."""
    for text in ("“" * 40_000, "a “" * 13_333, '"' + "<“" * 19_999):
        sent = await medialink.command(text)
        assert sent.elapsed < 3.0  # Slack's own deadline
        # The reading (after the ack) takes milliseconds; quadratic, it took seconds.
        reply = await medialink.reply(sent, within=3.0)
        assert reply.ephemeral
    await medialink.settle()
    assert fake_wix.requests == []


async def test_text_longer_than_slack_sends_is_refused_without_reading_it(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    text = wix_url(fake_wix.add_file()) + " " + "x" * 40_000
    sent = await medialink.command(text)
    shown = await private_answer(medialink, sent)
    assert f"{len(text):,} characters" in shown
    assert "at most 40,000" in shown
    await medialink.settle()
    assert fake_wix.requests == []


@pytest.mark.parametrize(
    "expires",
    ["9999999w" * 200, "9" * 5000, "99999999999999999999", "0", "-5", "1e9", "٣h", "\uff13h"],
)
async def test_any_expiry_number_gets_an_answer_in_words(
    medialink: MediaLink, fake_wix: FakeWix, expires: str
) -> None:
    """Regression: a huge number overflowed before the ack (HTTP 500, a generic apology)."""
    sent = await medialink.command(f"{wix_url(fake_wix.add_file())} expires={expires}")
    shown = await private_answer(medialink, sent)
    assert "expires" in shown.lower()
    assert "45m, 2h, 7d" in shown or "7 days" in shown, shown
    await medialink.settle()
    assert fake_wix.requests == []


@pytest.mark.parametrize(
    ("option", "words"),
    [
        ("name=\u202efdp.exe", "hidden"),
        ("name=report\u200b.pdf", "hidden"),
        ("name=.hidden", "dot"),
        ("redirect=https://wix.com@evil.example/expired", "@"),
        ("redirect=https://evil.example\\.wix.com/", "backslash"),
        ("redirect=https://%65vil.example/", "host"),
    ],
)
async def test_names_and_redirects_that_mislead_are_refused_in_words(
    medialink: MediaLink, fake_wix: FakeWix, option: str, words: str
) -> None:
    sent = await medialink.command(f"{wix_url(fake_wix.add_file())} {option}")
    assert words in await private_answer(medialink, sent)
    await medialink.settle()
    assert fake_wix.requests == []


async def test_names_with_brackets_and_accents_still_reach_wix(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    file_id = fake_wix.add_file(kind="document")
    await reply_to(medialink, f'{wix_url(file_id)} name="Résumé \u2013 2024 (final).pdf"')
    [body] = generate_bodies(fake_wix)
    assert body["downloadFileName"] == "Résumé \u2013 2024 (final).pdf"


async def test_many_option_problems_are_summed_up_and_the_help_line_stays(
    medialink: MediaLink,
) -> None:
    sent = await medialink.command(" ".join(["-x"] * 5000))
    text = await private_answer(medialink, sent)
    assert "…and 4990 more." in text
    assert text.count("I don't know the option") == 10
    assert "help` for examples" in text
