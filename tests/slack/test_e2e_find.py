"""``/medialink find`` end to end: signed requests, the fake Slack and the fake Wix.

A search, paging through Wix's cursor, picking files into links (one, or several
ticked), a video's stream link, private files kept from people who may not link them,
the usual refusal, and what was searched kept out of the logs and the audit trail.
"""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

from bot.slack.button_state import decode_state
from tests.fakes.slack import Json, Message
from tests.fakes.wix import FakeWix
from tests.slack.audit_helpers import recorded_events as recorded
from tests.slack.conftest import (
    OTHER_USER_ID,
    USER_ID,
    MakeMediaLink,
    MediaLink,
    Sent,
    ack_text,
    block_actions_payload,
    interaction_body,
    link_buttons,
    private_answer,
)

SEARCH_PATH = "/site-media/v1/files/search"


def search_bodies(wix: FakeWix) -> list[dict[str, Any]]:
    return [r.json for r in wix.requests_to(SEARCH_PATH) if isinstance(r.json, dict)]


def names_in(message: Message) -> list[str]:
    """The bold file names of a results message, in order."""
    names = []
    for block in message.blocks:
        if str(block.get("block_id", "")).startswith("find_file_") and block["type"] == "section":
            names.append(block["text"]["text"].split("\n", 1)[0].strip("*"))
    return names


async def find(medialink: MediaLink, text: str, **kwargs: Any) -> tuple[Sent, Message]:
    sent = await medialink.command(f"find {text}", **kwargs)
    assert sent.response.status_code == 200
    assert ack_text(sent) == ""
    return sent, await medialink.reply(sent)


async def click_with_ticks(
    medialink: MediaLink, message: Message, action_id: str, ticked: list[int]
) -> Sent:
    """Press ``action_id`` with the checkboxes of results ``ticked`` ticked, as Slack
    reports a message's state in a block_actions payload (docs/slack.md, Finding files)."""
    values: dict[str, dict[str, Json]] = {}
    for index in ticked:
        pick = f"medialink_find_pick_{index}"
        element = message.element(pick)
        block = message.block_of(pick)
        values[str(block["block_id"])] = {
            pick: {"type": "checkboxes", "selected_options": element["options"]}
        }
    response_url = medialink.slack.new_response_url(
        channel=message.channel, user=USER_ID, message_id=message.id
    )
    trigger_id = medialink.slack.new_trigger_id()
    payload = block_actions_payload(
        message,
        message.block_of(action_id),
        message.element(action_id),
        response_url=response_url,
        trigger_id=trigger_id,
    )
    payload["state"] = {"values": values}
    return await medialink._send(
        interaction_body(payload), response_url=response_url, trigger_id=trigger_id
    )


async def test_a_search_lists_the_best_matches_with_what_people_need(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    contract = fake_wix.add_file(kind="document", display_name="Signed contract.pdf", size=2048)
    photo = fake_wix.add_file(kind="image", display_name="contract signing.jpg")
    fake_wix.add_file(kind="video", display_name="launch")
    _, message = await find(medialink, "contract")
    assert sorted(names_in(message)) == ["Signed contract.pdf", "contract signing.jpg"]
    assert "2 files matching “contract”" in message.text
    text = "\n".join(b["text"]["text"] for b in message.blocks if b["type"] == "section")
    assert "Document · 2.0 KB · updated <!date^" in text
    [image_section] = [b for b in message.blocks if "accessory" in b]
    assert image_section["accessory"] == {
        "type": "image",
        "image_url": f"https://static.wixstatic.com/media/{photo}",
        "alt_text": "contract signing.jpg",
    }
    ids = message.action_ids()
    assert {"medialink_find_pick_0", "medialink_find_get_0", "medialink_find_get_1"} <= set(ids)
    assert "medialink_find_selected" in ids
    assert "medialink_find_more" not in ids  # one page is all there is
    assert not any(i.startswith("medialink_find_stream_") for i in ids)
    # A member (private files: admins by default) is shown public files only.
    assert search_bodies(fake_wix) == [
        {"search": "contract", "private": False, "paging": {"limit": 10}}
    ]
    get = message.element(f"medialink_find_get_{names_in(message).index('Signed contract.pdf')}")
    state = decode_state(str(get["value"]), max_expiry=timedelta(days=7), user_id=USER_ID)
    assert [f.file_id for f in state.files] == [contract]
    assert fake_wix.requests_to("generate-file-download-url") == []


async def test_type_filter_and_no_matches(medialink: MediaLink, fake_wix: FakeWix) -> None:
    fake_wix.add_file(kind="document", display_name="launch notes.pdf")
    _, message = await find(medialink, "launch type=video")
    assert "No files match “launch” (videos)" in message.text
    assert search_bodies(fake_wix)[0]["mediaTypes"] == ["VIDEO"]


async def test_more_results_pages_through_wix_cursor_in_place(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    ids = {fake_wix.add_file(display_name=f"holiday {n:02}.jpg") for n in range(13)}
    _, first = await find(medialink, "holiday")
    first_names = names_in(first)
    assert len(first_names) == 10
    more = await medialink.click(first, "medialink_find_more")
    assert more.response.status_code == 200
    second = await medialink.reply(more)
    assert second.id == first.id  # replaced in place
    assert len(second.history) == 1
    assert len(names_in(second)) == 3
    assert "3 more files matching" in second.text
    assert "medialink_find_more" not in second.action_ids()
    shown = set(first_names) | set(names_in(second))
    assert len(shown) == 13
    bodies = search_bodies(fake_wix)
    assert bodies[1]["search"] == "holiday"
    assert isinstance(bodies[1]["paging"]["cursor"], str)
    assert len(ids) == 13


async def test_picking_two_files_makes_their_links_in_one_reply(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(audit_running=True)
    first = fake_wix.add_file(kind="document", display_name="plan a.pdf")
    second = fake_wix.add_file(kind="document", display_name="plan b.pdf")
    fake_wix.add_file(kind="document", display_name="plan c.pdf")
    _, results = await find(medialink, "plan")
    names = names_in(results)
    wanted = [names.index("plan a.pdf"), names.index("plan b.pdf")]
    # Ticking a box is acknowledged and changes nothing.
    tick = await click_with_ticks(medialink, results, f"medialink_find_pick_{wanted[0]}", wanted)
    assert tick.response.status_code == 200
    sent = await click_with_ticks(medialink, results, "medialink_find_selected", wanted)
    reply = await medialink.reply(sent)
    assert reply.id != results.id  # a new message; the results stay
    linked = {link.file_id for link in fake_wix.issued}
    assert linked == {first, second}
    assert len(link_buttons(reply)) == 2
    assert "medialink_regenerate" in reply.action_ids()  # the usual reply and buttons
    events = await recorded(medialink, 2, outcome="ok")
    assert {(e.file_id, e.entry, e.user_id) for e in events} == {
        (first, "find", USER_ID),
        (second, "find", USER_ID),
    }


async def test_get_links_for_selected_with_nothing_ticked_says_so(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    fake_wix.add_file(kind="document", display_name="plan a.pdf")
    _, results = await find(medialink, "plan")
    sent = await click_with_ticks(medialink, results, "medialink_find_selected", [])
    note = await medialink.reply(sent)
    assert "Tick the files you want first" in note.text
    assert fake_wix.issued == []


async def test_one_get_link_goes_the_pasted_url_way_with_the_search_options(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    report = fake_wix.add_file(kind="document", display_name="report.pdf")
    _, results = await find(medialink, "report expires=2h")
    sent = await medialink.click(results, "medialink_find_get_0")
    reply = await medialink.reply(sent)
    [issued] = fake_wix.issued
    assert (issued.file_id, issued.expiration_minutes) == (report, 120)
    assert [b["url"] for b in link_buttons(reply)] == [issued.url]
    # Only the person who searched may use the results' buttons.
    other = await medialink.click(results, "medialink_find_get_0", user=OTHER_USER_ID)
    refused = await medialink.reply(other)
    assert f"Only <@{USER_ID}> can use these buttons" in refused.text
    assert len(fake_wix.issued) == 1


async def test_private_files_are_hidden_from_a_member_and_shown_to_an_admin(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    fake_wix.add_file(kind="image", display_name="budget public.jpg")
    fake_wix.add_file(kind="image", display_name="budget secret.jpg", private=True)
    member = await make_medialink(medialink_private_files="admins", medialink_admins="U0ADMIN01")
    _, shown = await find(member, "budget")
    assert names_in(shown) == ["budget public.jpg"]
    assert search_bodies(fake_wix)[-1]["private"] is False
    asked = await member.command("find budget private")
    assert "you may not link private files here" in (await private_answer(member, asked)).lower()
    assert len(search_bodies(fake_wix)) == 1  # refused before Wix

    admin = await make_medialink(medialink_private_files="admins", medialink_admins=USER_ID)
    _, everything = await find(admin, "budget")
    assert sorted(names_in(everything)) == ["budget public.jpg", "budget secret.jpg"]
    assert "private" not in search_bodies(fake_wix)[-1]
    secret = next(
        b for b in everything.blocks if b["type"] == "section" and "secret" in b["text"]["text"]
    )
    assert "🔒 private" in secret["text"]["text"]
    assert "accessory" not in secret  # never a thumbnail of a private file


async def test_a_refused_person_gets_the_usual_refusal_and_wix_is_not_asked(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    fake_wix.add_file(display_name="anything.jpg")
    medialink = await make_medialink(
        medialink_allowed_users=OTHER_USER_ID, medialink_admins=OTHER_USER_ID
    )
    sent = await medialink.command("find anything")
    assert "MediaLink" in ack_text(sent)
    assert "<@U0BOB0002>" in ack_text(sent)  # whom to ask, as for any refusal
    await medialink.settle()
    assert fake_wix.requests == []


async def test_what_was_searched_stays_out_of_the_logs_and_the_record(
    make_medialink: MakeMediaLink, fake_wix: FakeWix, suite_log: io.StringIO
) -> None:
    medialink = await make_medialink()
    assert medialink.services is not None
    await medialink.services.audit.start()
    report = fake_wix.add_file(kind="document", display_name="q3.pdf", labels=["zanzibarquokka"])
    _, results = await find(medialink, "zanzibarquokka")
    assert names_in(results) == ["q3.pdf"]
    await medialink.reply(await medialink.click(results, "medialink_find_get_0"))
    [event] = await recorded(medialink, 1, outcome="ok")
    assert (event.file_id, event.entry) == (report, "find")
    await medialink.settle()
    every_event = await recorded(medialink, 1)
    assert "zanzibarquokka" not in repr(every_event)
    assert "zanzibarquokka" not in suite_log.getvalue()
    assert "q3.pdf" not in suite_log.getvalue()


async def test_a_video_offers_a_stream_link(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(medialink_private_files="everyone")
    assert medialink.services is not None
    await medialink.services.audit.start()
    video = fake_wix.add_file(kind="video", display_name="launch film", private=True)
    _, results = await find(medialink, "launch type=video expires=3h")
    sent = await medialink.click(results, "medialink_find_stream_0")
    reply = await medialink.reply(sent)
    [stream] = fake_wix.issued_streams
    assert (stream.file_id, stream.format, stream.expiration_minutes) == (video, "HLS", 180)
    assert reply.button_urls() == [stream.url]
    assert "HLS stream" in reply.text
    assert "Expires <!date^" in reply.blocks[0]["text"]["text"]
    assert fake_wix.issued == []  # no download link was made
    [event] = await recorded(medialink, 1, outcome="ok")
    assert (event.file_id, event.entry, event.asset_keys) == (video, "find", ("hls",))
    assert event.private is True
    assert event.expires_at is not None


async def test_find_bad_input_is_answered_privately_after_the_ack(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    for text, expected in [
        ("find", "say what to find"),
        ("find report type=spreadsheet", "type can be video, image, audio or document"),
        ("find report private public", "not both"),
        ("find " + "x" * 201, "at most 200 characters"),
        ("find report expires=99d", "links can last at most"),
    ]:
        sent = await medialink.command(text)
        assert ack_text(sent) == ""  # read after the ack, like /medialink
        assert expected in (await private_answer(medialink, sent)).lower(), text
    helped = await medialink.command("find help")
    assert (
        "finds files in the wix media manager" in (await private_answer(medialink, helped)).lower()
    )
    await medialink.settle()
    assert search_bodies(fake_wix) == []  # nothing was searched
    assert fake_wix.requests == []
