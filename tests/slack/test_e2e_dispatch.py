"""The dispatcher seen from Slack: every listener answers at its ack, work in flight has
a cap, and payloads that name no user are refused loudly."""

from __future__ import annotations

import asyncio
import gc
import json
from typing import Any

from bot.app import build_app
from bot.dispatch import Dispatcher
from bot.services import build_services
from bot.slack.messages import BUSY, SOMETHING_WENT_WRONG
from tests.fakes.slack import FakeSlack
from tests.fakes.wix import GENERATE_FILE_DOWNLOAD_URL, FakeWix
from tests.slack.conftest import (
    FAST_RETRY,
    MakeMediaLink,
    MediaLink,
    generate_bodies,
    interaction_body,
    medialink_settings,
    view_submission_payload,
    wix_url,
)


def test_every_listener_is_registered_through_the_dispatcher(
    fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    settings = medialink_settings(fake_slack, fake_wix)
    app = build_app(settings, build_services(settings, retry=FAST_RETRY), Dispatcher())
    listeners = app._async_listeners  # Bolt's registry: the one place to see them all
    assert len(listeners) >= 9  # command, 2 shortcuts, 7 buttons, the form
    unwrapped = [
        listener.ack_function.__name__
        for listener in listeners
        if not getattr(listener.ack_function, "medialink_dispatched", False)
    ]
    assert unwrapped == []


async def test_beyond_the_cap_on_work_in_flight_a_command_is_turned_away_clearly(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(dispatcher=Dispatcher(max_running=1))
    fake_wix.inject(GENERATE_FILE_DOWNLOAD_URL, delay=1.0)  # the first command's work runs on
    first = await medialink.command(wix_url(fake_wix.add_file()))
    assert first.response.status_code == 200
    second = await medialink.command(wix_url(fake_wix.add_file()))
    assert second.response.status_code == 200
    assert second.response.text == BUSY
    reply = await medialink.reply(first)
    assert reply.button_urls()  # the first command's links arrived
    await medialink.settle()
    assert len(generate_bodies(fake_wix)) == 1  # the second made no Wix call
    assert second.response_url is not None
    assert medialink.slack.posts(second.response_url) == []


async def test_a_command_that_names_no_user_is_refused_not_served_as_nobody(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    url = medialink.slack.new_response_url(channel="C0GENERAL", user="U0ALICE01")
    body = (
        "token=x&team_id=T0MEDIALNK&channel_id=C0GENERAL&command=%2Fmedialink"
        f"&text={wix_url(fake_wix.add_file())}&response_url={url}&trigger_id=1.2.3"
    )
    response = await medialink.post(body)
    assert response.status_code == 200
    [apology] = await medialink.slack.wait_for_posts(url)
    assert apology.body["text"] == SOMETHING_WENT_WRONG
    assert generate_bodies(fake_wix) == []


async def test_a_form_expiry_the_form_never_offered_is_refused_in_the_form(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    opened = await medialink.global_shortcut()
    assert opened.response.status_code == 200
    [call] = await medialink.slack.wait_for_calls("views.open")
    view = call.response["view"]
    url = medialink.slack.new_response_url(channel="C0GENERAL", user="U0ALICE01")
    values: dict[str, dict[str, Any]] = {
        "urls": {"urls_input": {"type": "plain_text_input", "value": wix_url(fake_wix.add_file())}},
        "assets": {"assets_input": {"type": "plain_text_input", "value": None}},
        "expiry": {
            "expiry_select": {
                "type": "static_select",
                "selected_option": {"text": {"type": "plain_text", "text": "?"}, "value": "9e9"},
            }
        },
        "conversation": {
            "conversation_select": {
                "type": "conversations_select",
                "selected_conversation": "C0GENERAL",
            }
        },
    }
    payload = view_submission_payload(
        view,
        values,
        response_urls=[
            {
                "block_id": "conversation",
                "action_id": "conversation_select",
                "channel_id": "C0GENERAL",
                "response_url": url,
            }
        ],
    )
    response = await medialink.post(interaction_body(payload))
    assert response.status_code == 200
    answer = json.loads(response.text)
    assert answer["response_action"] == "errors"
    assert "expiry" in answer["errors"]["expiry"]
    await medialink.settle()
    assert generate_bodies(fake_wix) == []


async def test_a_member_over_their_file_quota_is_told_how_long_to_wait(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(medialink_user_files_per_minute=2, medialink_max_refs=2)
    first = await medialink.command(
        f"{wix_url(fake_wix.add_file())} {wix_url(fake_wix.add_file())}"
    )
    assert (await medialink.reply(first)).button_urls()
    calls_before = len(generate_bodies(fake_wix))
    second = await medialink.command(wix_url(fake_wix.add_file()))
    notice = await medialink.reply(second)
    assert "You've asked for 3 files in the last minute (the limit is 2)" in notice.text
    assert "try again in" in notice.text
    await medialink.settle()
    assert len(generate_bodies(fake_wix)) == calls_before  # no Wix call for it
    # Another member is not held to the first one's quota.
    other = await medialink.command(wix_url(fake_wix.add_file()), user="U0BOB0002")
    assert (await medialink.reply(other)).button_urls()


async def test_a_button_over_the_quota_says_so_under_the_reply_and_keeps_it(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(medialink_user_files_per_minute=2, medialink_max_refs=2)
    sent = await medialink.command(f"{wix_url(fake_wix.add_file())} {wix_url(fake_wix.add_file())}")
    reply = await medialink.reply(sent)
    calls_before = len(generate_bodies(fake_wix))
    click = await medialink.click(reply, "medialink_regenerate")
    notice = await medialink.reply(click)
    assert "You've asked for 4 files in the last minute (the limit is 2)" in notice.text
    await medialink.settle()
    assert len(generate_bodies(fake_wix)) == calls_before
    assert not medialink.slack.message(reply.id).deleted  # the links are still there


async def test_no_cycle_collection_pauses_a_burst_before_its_acks(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    # A generous bound: the hold ends at the burst's calm, not at its limit.
    dispatcher = Dispatcher(give_way_limit=10.0)
    medialink = await make_medialink(dispatcher=dispatcher)
    pending_at_collections: list[int] = []

    def collection(phase: str, _: dict[str, int]) -> None:
        if phase == "start":
            pending_at_collections.append(len(dispatcher.pending))

    urls = [wix_url(fake_wix.add_file()) for _ in range(50)]
    gc.callbacks.append(collection)
    try:
        burst = await asyncio.gather(*(medialink.command(url) for url in urls))
        assert [sent.response.status_code for sent in burst] == [200] * 50
        for sent in burst:
            assert (await medialink.reply(sent)).button_urls()
    finally:
        gc.callbacks.remove(collection)
    # Collections ran (the replies allocate plenty), but none while an ack was pending …
    assert pending_at_collections
    assert max(pending_at_collections) == 0
    # … and once the burst is answered the collector is back on.
    assert gc.isenabled()


async def test_web_api_calls_share_keep_alive_connections(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    # Three members new to the directory: each one's first command asks users.info
    # before its ack. Without a shared session the SDK opened a connection per call.
    members = ("U0ALICE01", "U0BOBBY02", "U0CAROL03")
    for member in members:
        sent = await medialink.command(wix_url(fake_wix.add_file()), user=member)
        assert (await medialink.reply(sent)).button_urls()
    lookups = [call for call in medialink.slack.calls if call.method == "users.info"]
    assert sorted(call.args["user"] for call in lookups) == sorted(members)
    assert all(call.connection for call in lookups)
    assert len({call.connection for call in lookups}) == 1
