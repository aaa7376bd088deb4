"""Gaps a review of the access policy and the audit trail found, each proven end to end:
signed requests against the loopback fakes, the real audit store."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bot.audit import AuditEvent, AuditQuery
from tests.fakes.slack import FakeSlack
from tests.fakes.wix import FakeWix
from tests.slack.conftest import USER_ID, MakeMediaLink, MediaLink, ack_text, wix_url

ADMIN_ID = "U0ADMIN01"
SLACK_ACK_DEADLINE = 3.0  # seconds Slack waits for the ack


async def events_for(
    medialink: MediaLink, count: int, *, entry: str, **query: Any
) -> list[AuditEvent]:
    """The events of ``entry`` matching ``query`` once there are ``count`` (bounded wait)."""
    assert medialink.services is not None
    trail = medialink.services.audit
    deadline = time.monotonic() + 10
    while True:
        found = [
            event
            for event in await trail.query(AuditQuery(limit=100, **query))
            if event.entry == entry
        ]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.05)


async def test_a_zip_link_is_recorded_for_each_file_it_holds(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    """The zip's link is permanent: the record must say who made it, for which files."""
    medialink = await make_medialink(
        audit_running=True, medialink_zip_enabled="admins", medialink_admins=ADMIN_ID
    )
    public = fake_wix.add_file(kind="image")
    sent = await medialink.command(wix_url(public), user=ADMIN_ID)
    assert ack_text(sent) == ""
    reply = await medialink.reply(sent)
    clicked = await medialink.click(reply, "medialink_zip", user=ADMIN_ID)
    zip_reply = await medialink.reply(clicked)
    assert "permanent" in zip_reply.all_text()

    [made] = await events_for(medialink, 1, entry="button:zip", file_id=public)
    assert made.user_id == ADMIN_ID
    assert made.outcome == "ok"
    assert made.private is False
    assert made.expires_at is None  # the zip's link never expires
    assert "permanent" in (made.reason or "")
    assert not any("://" in str(value) for value in vars_of(made))


async def test_a_zip_refused_to_a_member_is_recorded(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(
        audit_running=True, medialink_zip_enabled="admins", medialink_admins=ADMIN_ID
    )
    sent = await medialink.command(wix_url(fake_wix.add_file()))
    reply = await medialink.reply(sent)
    token = reply.element("medialink_regenerate")["value"]
    clicked = await medialink.click(reply, "medialink_zip", forged={"value": token})
    await medialink.wait_posts(clicked)

    [refused] = await events_for(medialink, 1, entry="button:zip", outcome="refused")
    assert refused.reason == "admins_only"


def vars_of(event: AuditEvent) -> list[object]:
    return [getattr(event, name) for name in event.__slots__]


async def test_a_button_has_one_name_in_the_record_whether_it_made_links_or_was_refused(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    """An admin filtering the record by a button must find its links and its refusals."""
    before = await make_medialink(audit_running=True)
    reply = await before.reply(await before.command(wix_url(fake_wix.add_file())))
    await before.reply(await before.click(reply, "medialink_regenerate"))
    [made] = await events_for(before, 1, entry="button:regenerate", outcome="ok")
    # The same database, now with a list the person is not on: the old button is refused.
    after = await make_medialink(audit_running=True, medialink_allowed_users=ADMIN_ID)
    await after.wait_posts(await after.click(reply, "medialink_regenerate"))
    [refused] = await events_for(after, 1, entry="button:regenerate", outcome="refused")
    assert made.entry == refused.entry


async def test_a_slow_slack_does_not_push_the_access_check_past_the_ack_deadline(
    make_medialink: MakeMediaLink, fake_wix: FakeWix, fake_slack: FakeSlack
) -> None:
    """users.info and usergroups.users.list are each within their own deadline; asked one
    after the other, they made the ack later than Slack waits (docs/slack.md, Acknowledging)."""
    medialink = await make_medialink(
        medialink_allowed_usergroups="S0EDITORS", medialink_admins=ADMIN_ID
    )
    fake_slack.set_usergroup("S0EDITORS", [USER_ID])
    warm = await medialink.command("help", user=ADMIN_ID)  # auth.test, once
    assert warm.response.status_code == 200
    fake_slack.delays.update({"users.info": 1.6, "usergroups.users.list": 1.6})
    sent = await medialink.command(wix_url(fake_wix.add_file()))
    assert sent.response.status_code == 200
    assert ack_text(sent) == ""  # allowed: through the group
    assert sent.elapsed < SLACK_ACK_DEADLINE
    await medialink.reply(sent)


async def test_a_zip_counts_against_the_members_file_quota(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    """A zip is links to its files: over the member's quota it is refused, recorded,
    and Wix is not asked (it used to call Wix directly, past the quota and the cap)."""
    medialink = await make_medialink(
        audit_running=True,
        medialink_zip_enabled="everyone",
        medialink_user_files_per_minute=2,
        medialink_max_refs=2,
    )
    files = [fake_wix.add_file(kind="image") for _ in range(2)]
    reply = await medialink.reply(await medialink.command(" ".join(map(wix_url, files))))
    calls_before = len(fake_wix.requests)
    clicked = await medialink.click(reply, "medialink_zip")
    notice = await medialink.reply(clicked)
    assert "You've asked for 4 files in the last minute (the limit is 2)" in notice.text
    await medialink.settle()
    assert len(fake_wix.requests) == calls_before
    [refused] = await events_for(medialink, 1, entry="button:zip", outcome="refused")
    assert refused.user_id == USER_ID
