"""Link unfurls end to end: signed ``link_shared`` events against the loopback fakes,
``chat.unfurl`` checked by the fake Slack as Slack would (the target, URLs keyed exactly
as shared, valid blocks), and clicks on "Get a download link" sent as Slack sends a
click on an unfurl (``container.type: message_attachment``, ``app_unfurl``, no
``message``; docs/slack.md, Link unfurls)."""

from __future__ import annotations

import io
import json
import time
from typing import Any

import pytest

from bot.audit import AuditEvent, Entry
from bot.slack.listeners.unfurls import MAX_UNFURL_LINKS
from bot.slack.surfaces import UNFURL_ACTION
from tests.fakes.slack import APP_ID, TEAM_DOMAIN, TEAM_ID, FakeSlack, Json, Unfurl
from tests.fakes.wix import GENERATE_FILE_DOWNLOAD_URL, GET_FILES, FakeWix
from tests.slack.audit_helpers import recorded_events
from tests.slack.conftest import (
    CHANNEL_ID,
    OTHER_CHANNEL_ID,
    OTHER_USER_ID,
    USER_ID,
    MakeMediaLink,
    MediaLink,
    Sent,
    interaction_body,
    link_buttons,
    wix_url,
)

MB = 1024 * 1024
ADMIN_ID = "U0ADMIN01"
TRAILER = "Launch trailer.mp4"


async def share(
    medialink: MediaLink,
    urls: list[str],
    *,
    user: str = USER_ID,
    channel: str = CHANNEL_ID,
    composer: bool = False,
    ext_shared: bool = False,
) -> Json:
    """Post a signed ``link_shared`` event; the app answers 200 at once. Returns the event."""
    body = medialink.slack.link_shared_event(
        urls, user=user, channel=channel, composer=composer, ext_shared=ext_shared
    )
    response = await medialink.post(json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.text
    event: Json = body["event"]
    return event


async def unfurled(medialink: MediaLink, urls: list[str], **kwargs: Any) -> Unfurl:
    """Share ``urls`` and return the one ``chat.unfurl`` it brought."""
    await share(medialink, urls, **kwargs)
    await medialink.settle()
    calls = medialink.slack.calls_to("chat.unfurl")
    assert [call.ok for call in calls] == [True], [call.response for call in calls]
    [made] = medialink.slack.unfurls()
    return made


def text_of(blocks: list[Json]) -> str:
    found: list[str] = []
    for block in blocks:
        found.append(str((block.get("text") or {}).get("text", "")))
        found += [str(element.get("text", "")) for element in block.get("elements", [])]
    return "\n".join(found)


def unfurl_button(blocks: list[Json]) -> tuple[Json, Json]:
    """The "Get a download link" button and its block."""
    for block in blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == UNFURL_ACTION:
                return block, element
    raise AssertionError(f"no {UNFURL_ACTION} button in {blocks}")


async def click_unfurl(
    medialink: MediaLink,
    made: Unfurl,
    url: str,
    *,
    user: str,
    channel: str = CHANNEL_ID,
    value: str | None = None,
) -> Sent:
    """A click on the unfurl's button, shaped like Slack's documented example for
    interactive unfurls: no ``message``, an ``app_unfurl`` with the blocks, and a
    response_url."""
    blocks = made.blocks(url)
    block, element = unfurl_button(blocks)
    response_url = medialink.slack.new_response_url(channel=channel, user=user)
    payload: Json = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": "Shh_its_a_seekrit",
        "container": {
            "type": "message_attachment",
            "message_ts": made.ts,
            "attachment_id": 1,
            "channel_id": channel,
            "is_ephemeral": False,
            "is_app_unfurl": True,
            "app_unfurl_url": url,
        },
        "trigger_id": medialink.slack.new_trigger_id(),
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel, "name": "general"},
        "app_unfurl": {"id": 1, "blocks": blocks, "app_unfurl_url": url, "is_app_unfurl": True},
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": element["action_id"],
                "block_id": block["block_id"],
                "text": element["text"],
                "value": element["value"] if value is None else value,
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    response = await medialink.post(interaction_body(payload))
    assert response.status_code == 200
    assert response.text == ""  # an empty ack: the unfurl stays as it is
    return Sent(response=response, response_url=response_url)


async def recorded(medialink: MediaLink, outcome: str, count: int = 1) -> list[AuditEvent]:
    """The events the trail has written with ``outcome``, once there are ``count``."""
    return await recorded_events(medialink, count, outcome=outcome)


# ------------------------------------------------------------------ off by default


async def test_off_by_default_the_event_is_acked_and_nothing_else_happens(
    medialink: MediaLink, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    assert medialink.settings.medialink_unfurl is False
    file_id = fake_wix.add_file(kind="video")
    await share(medialink, [wix_url(file_id)])
    await medialink.settle()
    assert fake_slack.calls_to("chat.unfurl") == []
    assert fake_wix.requests == []


# ------------------------------------------------------------------ what an unfurl shows


async def test_a_public_file_is_unfurled_with_its_name_type_and_size(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(medialink_unfurl=True)
    file_id = fake_wix.add_file(kind="video", display_name=TRAILER, size=12 * MB)
    url = wix_url(file_id)
    event = await share(medialink, [url])
    await medialink.settle()
    [made] = medialink.slack.unfurls()
    assert (made.channel, made.ts) == (CHANNEL_ID, event["message_ts"])
    assert (made.unfurl_id, made.source) == (None, None)
    assert list(made.unfurls) == [url]  # keyed by the exact URL shared
    text = text_of(made.blocks(url))
    assert TRAILER in text
    assert "Video" in text
    assert "12.0 MB" in text
    _, button = unfurl_button(made.blocks(url))
    assert button["value"] == f"default/{file_id}"  # the file ID and the site that has it
    assert button["text"]["text"] == "Get a download link"
    # One descriptor call; never a download link at unfurl time.
    assert [len(r.json["fileIds"]) for r in fake_wix.requests_to(GET_FILES)] == [1]  # type: ignore[index]
    assert fake_wix.requests_to(GENERATE_FILE_DOWNLOAD_URL) == []


async def test_several_urls_cost_one_descriptor_call_and_other_sites_are_ignored(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(medialink_unfurl=True)
    image = fake_wix.add_file(kind="image", display_name="poster.jpg")
    document = fake_wix.add_file(kind="document", display_name="brief.pdf")
    urls = [
        wix_url(image),
        "https://example.com/not-wix",
        "https://www.wix.com/pricing",  # a Wix page, not a media file
        wix_url(document),
        "https://archive.wixmp.com/archive/wix/0123456789abcdef0123456789abcdef",  # a zip
    ]
    made = await unfurled(medialink, urls)
    assert list(made.unfurls) == [wix_url(image), wix_url(document)]
    assert "poster.jpg" in text_of(made.blocks(wix_url(image)))
    assert "brief.pdf" in text_of(made.blocks(wix_url(document)))
    [request] = fake_wix.requests_to(GET_FILES)
    assert request.json == {"fileIds": [image, document]}


async def test_only_other_sites_make_no_call_at_all(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(medialink_unfurl=True)
    await share(medialink, ["https://example.com/a", "https://someone.wixsite.com/site/page"])
    await medialink.settle()
    assert fake_slack.calls_to("chat.unfurl") == []
    assert fake_wix.requests == []


async def test_the_number_of_urls_unfurled_is_bounded(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(medialink_unfurl=True)
    urls = [wix_url(fake_wix.add_file()) for _ in range(MAX_UNFURL_LINKS + 5)]
    made = await unfurled(medialink, urls)
    assert list(made.unfurls) == urls[:MAX_UNFURL_LINKS]
    [request] = fake_wix.requests_to(GET_FILES)
    assert len(request.json["fileIds"]) == MAX_UNFURL_LINKS  # type: ignore[index]


async def test_a_message_still_in_the_composer_is_unfurled_by_unfurl_id(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(medialink_unfurl=True)
    file_id = fake_wix.add_file(display_name="poster.jpg")
    event = await share(medialink, [wix_url(file_id)], composer=True)
    await medialink.settle()
    [made] = medialink.slack.unfurls()
    assert (made.unfurl_id, made.source) == (event["unfurl_id"], "composer")
    assert (made.channel, made.ts) == (None, None)
    assert "poster.jpg" in text_of(made.blocks(wix_url(file_id)))


# ------------------------------------------------------------------ private files


async def test_a_private_file_is_unfurled_without_its_name_by_default(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(medialink_unfurl=True)
    file_id = fake_wix.add_file(kind="video", display_name=TRAILER, private=True, size=12 * MB)
    made = await unfurled(medialink, [wix_url(file_id)])
    text = text_of(made.blocks(wix_url(file_id)))
    assert "A private file* (video, 12.0 MB)" in text
    assert "Launch" not in text
    unfurl_button(made.blocks(wix_url(file_id)))  # the button is still there


EVERYONE: dict[str, Any] = {
    "medialink_unfurl": True,
    "medialink_private_files": "everyone",
    "medialink_allow_guests": True,
}


async def test_a_private_file_is_named_when_everyone_in_the_channel_may_link_it(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(**EVERYONE)
    file_id = fake_wix.add_file(kind="video", display_name=TRAILER, private=True)
    made = await unfurled(medialink, [wix_url(file_id)])
    text = text_of(made.blocks(wix_url(file_id)))
    assert TRAILER in text
    assert "🔒 private" in text


@pytest.mark.parametrize(
    ("settings", "share_kwargs"),
    [
        ({"medialink_private_files": "admins"}, {}),
        ({"medialink_allow_guests": False}, {}),  # a guest could be in the channel
        ({"medialink_allowed_users": f"{USER_ID},{OTHER_USER_ID}"}, {}),
        ({"medialink_allowed_usergroups": "S0EDITORS"}, {}),
        ({}, {"ext_shared": True}),  # people from another organisation see it
        ({}, {"composer": True}),  # no conversation yet
    ],
    ids=["admins-only", "no-guests", "users-list", "groups-list", "slack-connect", "composer"],
)
async def test_a_private_file_stays_nameless_when_someone_here_could_not_link_it(
    make_medialink: MakeMediaLink,
    fake_wix: FakeWix,
    settings: dict[str, Any],
    share_kwargs: dict[str, Any],
) -> None:
    medialink = await make_medialink(**{**EVERYONE, **settings})
    file_id = fake_wix.add_file(kind="video", display_name=TRAILER, private=True)
    made = await unfurled(medialink, [wix_url(file_id)], **share_kwargs)
    text = text_of(made.blocks(wix_url(file_id)))
    assert "A private file" in text
    assert "Launch" not in text


async def test_a_channel_outside_the_allowed_list_is_not_unfurled(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(medialink_unfurl=True, medialink_allowed_channels=CHANNEL_ID)
    file_id = fake_wix.add_file()
    await share(medialink, [wix_url(file_id)], channel=OTHER_CHANNEL_ID)
    await medialink.settle()
    assert fake_slack.calls_to("chat.unfurl") == []
    assert fake_wix.requests == []
    # In the allowed channel it is.
    await unfurled(medialink, [wix_url(file_id)], channel=CHANNEL_ID)


# ------------------------------------------------------------------ the button


async def test_the_button_gives_the_clicker_a_private_link_recorded_as_theirs(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(medialink_unfurl=True, audit_running=True)
    file_id = fake_wix.add_file(kind="video", display_name=TRAILER)
    made = await unfurled(medialink, [wix_url(file_id)], user=USER_ID)
    # Someone else in the channel clicks: the link is theirs, and only they see it.
    sent = await click_unfurl(medialink, made, wix_url(file_id), user=OTHER_USER_ID)
    reply = await medialink.reply(sent)
    assert reply.ephemeral
    assert reply.user == OTHER_USER_ID
    assert reply.channel == CHANNEL_ID
    assert TRAILER in reply.all_text()
    assert len(link_buttons(reply)) == 1
    [generated] = fake_wix.requests_to(GENERATE_FILE_DOWNLOAD_URL)
    assert generated.json["fileId"] == file_id  # type: ignore[index]
    [event] = await recorded(medialink, "ok")
    assert (event.user_id, event.entry, event.file_id) == (OTHER_USER_ID, "button:unfurl", file_id)
    assert event.entry == Entry.UNFURL_BUTTON
    assert event.channel_id == CHANNEL_ID
    # The reply's own buttons are the clicker's to use.
    regenerated = await medialink.click(reply, "medialink_regenerate", user=OTHER_USER_ID)
    assert link_buttons(await medialink.reply(regenerated))


async def test_the_button_refuses_whom_the_policy_refuses_recorded_and_no_link_call(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(
        medialink_unfurl=True,
        medialink_allowed_users=USER_ID,
        medialink_admins=ADMIN_ID,
        audit_running=True,
    )
    file_id = fake_wix.add_file()
    made = await unfurled(medialink, [wix_url(file_id)], user=USER_ID)
    fake_wix.reset()
    sent = await click_unfurl(medialink, made, wix_url(file_id), user=OTHER_USER_ID)
    [post] = await medialink.wait_posts(sent)
    assert "not on the list" in json.dumps(post.body)
    assert f"<@{ADMIN_ID}>" in json.dumps(post.body)
    await medialink.settle()
    assert fake_wix.requests == []
    [event] = await recorded(medialink, "refused")
    assert (event.user_id, event.entry, event.reason) == (
        OTHER_USER_ID,
        "button:unfurl",
        "user_not_allowed",
    )


async def test_the_button_applies_the_private_files_rule_to_the_clicker(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(
        medialink_unfurl=True, medialink_admins=ADMIN_ID, audit_running=True
    )
    file_id = fake_wix.add_file(kind="document", private=True)
    made = await unfurled(medialink, [wix_url(file_id)])
    refused = await medialink.reply(
        await click_unfurl(medialink, made, wix_url(file_id), user=OTHER_USER_ID)
    )
    assert "private" in refused.all_text()
    assert link_buttons(refused) == []
    assert fake_wix.requests_to(GENERATE_FILE_DOWNLOAD_URL) == []
    # An admin may (MEDIALINK_PRIVATE_FILES=admins, the default).
    allowed = await medialink.reply(
        await click_unfurl(medialink, made, wix_url(file_id), user=ADMIN_ID)
    )
    assert len(link_buttons(allowed)) == 1
    [event] = await recorded(medialink, "ok")
    assert (event.user_id, event.entry, event.private) == (ADMIN_ID, "button:unfurl", True)


@pytest.mark.parametrize(
    "value",
    ["", "../../etc/passwd", "x" * 2001, "https://static.wixstatic.com/media/a.jpg", "a b"],
)
async def test_a_tampered_button_value_gets_no_link(
    make_medialink: MakeMediaLink, fake_wix: FakeWix, value: str
) -> None:
    medialink = await make_medialink(medialink_unfurl=True)
    file_id = fake_wix.add_file()
    made = await unfurled(medialink, [wix_url(file_id)])
    fake_wix.reset()
    sent = await click_unfurl(medialink, made, wix_url(file_id), user=USER_ID, value=value)
    reply = await medialink.reply(sent)
    assert "no longer work" in reply.all_text()
    await medialink.settle()
    assert fake_wix.requests == []


# ------------------------------------------------------------------ when Wix fails


async def test_a_wix_failure_leaves_the_link_as_it_is_logged_and_nothing_breaks(
    make_medialink: MakeMediaLink,
    fake_slack: FakeSlack,
    fake_wix: FakeWix,
    suite_log: io.StringIO,
) -> None:
    medialink = await make_medialink(medialink_unfurl=True)
    file_id = fake_wix.add_file(display_name="poster.jpg")
    fake_wix.inject(GET_FILES, status=500, times=2)  # every attempt of one call
    await share(medialink, [wix_url(file_id)])
    await medialink.settle()
    assert fake_slack.calls_to("chat.unfurl") == []
    assert "unfurl skipped: Wix did not describe the files" in suite_log.getvalue()
    # The app goes on: the next message is unfurled.
    made = await unfurled(medialink, [wix_url(file_id)])
    assert "poster.jpg" in text_of(made.blocks(wix_url(file_id)))


async def test_a_file_wix_does_not_know_is_left_out_and_the_others_unfurled(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(medialink_unfurl=True)
    known = fake_wix.add_file(display_name="poster.jpg")
    unknown = "0a0b0c_0123456789abcdef0123456789abcdef~mv2.jpg"  # never added
    made = await unfurled(medialink, [wix_url(unknown), wix_url(known)])
    assert list(made.unfurls) == [wix_url(known)]


async def test_nothing_wix_knows_means_no_unfurl(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(medialink_unfurl=True)
    await share(medialink, [wix_url("0a0b0c_0123456789abcdef0123456789abcdef~mv2.jpg")])
    await medialink.settle()
    assert fake_slack.calls_to("chat.unfurl") == []
    assert len(fake_wix.requests_to(GET_FILES)) == 1


async def test_unfurls_count_against_the_posters_quota(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(
        medialink_unfurl=True, medialink_max_refs=1, medialink_user_files_per_minute=1
    )
    first, second = fake_wix.add_file(), fake_wix.add_file()
    await unfurled(medialink, [wix_url(first)], user=USER_ID)
    # The poster's one file a minute is spent: no Wix call, no unfurl.
    await share(medialink, [wix_url(second)], user=USER_ID)
    await medialink.settle()
    assert len(fake_slack.calls_to("chat.unfurl")) == 1
    assert len(fake_wix.requests_to(GET_FILES)) == 1
    # Someone else's post is theirs to count.
    await share(medialink, [wix_url(second)], user=OTHER_USER_ID)
    await medialink.settle()
    assert len(fake_slack.calls_to("chat.unfurl")) == 2
