"""Issue 14's "done when": a person who knows only a file's name gets an expiring link to
it from Slack in two clicks, end to end over signed requests against the fakes.

Two ways: ``/medialink find launch video`` and one click on that file's "Get link"; or
the global shortcut's form, the file typed into its picker, and Submit.
"""

from __future__ import annotations

import time

from tests.fakes.slack import Message
from tests.fakes.wix import FakeWix
from tests.slack.conftest import MediaLink, link_buttons, slack_dates
from tests.slack.test_e2e_find import find, names_in
from tests.slack.test_e2e_picker import open_form, suggest

DEFAULT_EXPIRY_MINUTES = 60  # MEDIALINK_DEFAULT_EXPIRY's default


def add_launch_files(wix: FakeWix) -> str:
    """The Media Manager a person searches: the file they mean, among near misses."""
    wix.add_file(kind="image", display_name="launch party.jpg")
    wix.add_file(kind="document", display_name="video style guide.pdf")
    wix.add_file(kind="video", display_name="onboarding.mp4")
    return wix.add_file(kind="video", display_name="Launch video.mp4", size=48 * 1024**2)


def assert_expiring_link_to(
    medialink: MediaLink, reply: Message, file_id: str, *, asked_at: float
) -> None:
    """The reply holds a link to ``file_id`` (and nothing else) that Wix issued to expire
    after the default expiry, and says when."""
    [issued] = medialink.wix.issued
    assert issued.file_id == file_id
    assert issued.expiration_minutes == DEFAULT_EXPIRY_MINUTES
    assert [button["url"] for button in link_buttons(reply)] == [issued.url]
    assert reply.ephemeral
    text = reply.all_text()
    assert "Launch video.mp4" in text
    expiries = {ts for ts, _ in slack_dates(text)}
    assert expiries, text
    for ts in expiries:
        assert asked_at + 3600 - 60 <= ts <= time.time() + 3600 + 60


async def test_find_then_one_click_on_get_link(medialink: MediaLink, fake_wix: FakeWix) -> None:
    file_id = add_launch_files(fake_wix)
    asked_at = time.time()

    # Click 1: the command, with nothing but words from the name.
    _, results = await find(medialink, "launch video")
    names = names_in(results)
    assert "Launch video.mp4" in names
    assert fake_wix.issued == []  # a search makes no link

    # Click 2: "Get link" on that file.
    sent = await medialink.click(results, f"medialink_find_get_{names.index('Launch video.mp4')}")
    reply = await medialink.reply(sent)
    assert_expiring_link_to(medialink, reply, file_id, asked_at=asked_at)
    assert len(medialink.sent) == 2  # the command and one click: nothing else was needed
    await medialink.settle()
    assert len(medialink.slack.posts()) == 2  # the results, then the links


async def test_the_form_the_picker_and_submit(medialink: MediaLink, fake_wix: FakeWix) -> None:
    file_id = add_launch_files(fake_wix)
    asked_at = time.time()

    # Click 1: the global shortcut opens the form.
    view = await open_form(medialink)
    # Typing in the picker: Slack asks for options as the person types (no click).
    options, _ = await suggest(medialink, "launch video", view=view)
    # Chosen by what the person reads (the option's value is the app's business).
    picked = [o for o in options if o["text"]["text"].startswith("Launch video.mp4 · video")]
    assert len(picked) == 1, options

    # Click 2: Submit, with the suggestion chosen and nothing pasted.
    sent = await medialink.submit_view(view, urls=None, picked=picked)
    assert sent.response.text == ""  # the form closes
    reply = await medialink.reply(sent)
    assert_expiring_link_to(medialink, reply, file_id, asked_at=asked_at)
    assert len(medialink.sent) == 2  # the shortcut and the submission
