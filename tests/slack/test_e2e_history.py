"""``/medialink history`` end to end: signed commands and clicks against the fakes, and
the real audit store (SQLite in a temporary directory) holding the record."""

from __future__ import annotations

import asyncio
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.audit import AuditEvent, AuditQuery, Entry
from bot.slack.button_state import decode_state
from bot.slack.render.history import ACTION_HISTORY_REGENERATE_PREFIX
from tests.fakes.slack import Message
from tests.fakes.wix import FakeWix
from tests.slack.audit_helpers import read_back, seed
from tests.slack.conftest import (
    CHANNEL_ID,
    OTHER_USER_ID,
    USER_ID,
    MakeMediaLink,
    MediaLink,
    ack_text,
    generate_bodies,
    link_buttons,
    wix_url,
)

ADMIN_ID = "U0ADMIN01"
HOUR = timedelta(hours=1)


def link(
    file_id: str,
    *,
    user: str = USER_ID,
    ago: timedelta = HOUR,
    lasts: timedelta = 2 * HOUR,
    name: str | None = None,
    keys: tuple[str, ...] = ("src",),
) -> AuditEvent:
    at = datetime.now(UTC) - ago
    return AuditEvent(
        at=at,
        team_id="T0MEDIALNK",
        enterprise_id=None,
        user_id=user,
        channel_id=CHANNEL_ID,
        entry=Entry.COMMAND.value,
        outcome="ok",
        file_id=file_id,
        file_name=name or file_id,
        private=False,
        asset_keys=keys,
        expires_at=at + lasts,
    )


def refusal(user: str = USER_ID) -> AuditEvent:
    return AuditEvent(
        at=datetime.now(UTC) - 10 * HOUR,
        team_id="T0MEDIALNK",
        enterprise_id=None,
        user_id=user,
        channel_id=CHANNEL_ID,
        entry=Entry.COMMAND.value,
        outcome="refused",
        file_id="refusedfile_0123456789abcdef0123456789abcdef~mv2.jpg",
        file_name="refused.jpg",
        reason="not in an allowed channel",
    )


async def history(medialink: MediaLink, text: str = "", *, user: str = USER_ID) -> Message:
    sent = await medialink.command(f"history {text}".strip(), user=user)
    assert sent.response.status_code == 200, sent.response.text
    assert ack_text(sent) == ""  # acked at once; the record is read after the ack
    return await medialink.reply(sent)


def regenerate_ids(message: Message) -> list[str]:
    return [a for a in message.action_ids() if a.startswith(ACTION_HISTORY_REGENERATE_PREFIX)]


async def test_history_lists_the_callers_links_newest_first(
    make_medialink: MakeMediaLink, database_url: str, suite_log: io.StringIO
) -> None:
    await seed(
        database_url,
        [
            link(
                "aaaaaa_00000000000000000000000000000001~mv2.jpg", name="oldest.jpg", ago=5 * HOUR
            ),
            link("aaaaaa_00000000000000000000000000000002~mv2.jpg", name="newest.jpg", ago=HOUR),
            link(
                "aaaaaa_00000000000000000000000000000003~mv2.jpg", name="middle.jpg", ago=HOUR * 1.5
            ),
            link(
                "bbbbbb_00000000000000000000000000000004~mv2.jpg",
                name="bobs.jpg",
                user=OTHER_USER_ID,
            ),
            refusal(),
        ],
    )
    medialink = await make_medialink(database_url=database_url)
    message = await history(medialink)
    assert message.ephemeral
    assert message.user == USER_ID
    shown = message.all_text()
    positions = [shown.index(name) for name in ("newest.jpg", "middle.jpg", "oldest.jpg")]
    assert positions == sorted(positions)
    assert "bobs.jpg" not in shown  # someone else's
    assert "refused.jpg" not in shown  # a refusal is not a link
    assert shown.count("Valid until") == 2
    assert shown.count("Expired") == 1  # made 5 hours ago, for 2 hours
    assert len(regenerate_ids(message)) == 3
    # Nothing from the record reached the logs.
    assert "newest.jpg" not in suite_log.getvalue()


async def test_empty_history_says_so(make_medialink: MakeMediaLink, database_url: str) -> None:
    medialink = await make_medialink(database_url=database_url)
    message = await history(medialink)
    assert "no links yet" in message.all_text()
    assert regenerate_ids(message) == []


async def test_history_shows_the_link_just_made(
    make_medialink: MakeMediaLink, fake_wix: FakeWix, database_url: str
) -> None:
    file_id = fake_wix.add_file(kind="image", display_name="fresh-poster.jpg")
    medialink = await make_medialink(database_url=database_url, audit_running=True)
    sent = await medialink.command(wix_url(file_id))
    await medialink.reply(sent)
    message = await history(medialink)
    assert "fresh-poster.jpg" in message.all_text()


async def test_regenerate_from_history_makes_fresh_links_through_the_button_path(
    make_medialink: MakeMediaLink, fake_wix: FakeWix, database_url: str
) -> None:
    file_id = fake_wix.add_file(kind="video", display_name="trailer.mp4")
    await seed(
        database_url, [link(file_id, name="trailer.mp4", lasts=3 * HOUR, keys=("720p.mp4",))]
    )
    medialink = await make_medialink(database_url=database_url)
    message = await history(medialink)
    [action_id] = regenerate_ids(message)
    click = await medialink.click(message, action_id)
    assert click.response.status_code == 200
    fresh = await medialink.reply(click)
    assert fresh.id != message.id  # a new message: the history stays
    assert not medialink.slack.message(message.id).deleted
    assert "trailer.mp4" in fresh.all_text()
    assert link_buttons(fresh)
    [body] = generate_bodies(fake_wix)
    assert body["assetKeys"] == ["720p.mp4"]
    assert body["expirationInMinutes"] == 180
    assert "medialink_regenerate" in fresh.action_ids()  # the usual reply, with its buttons


async def test_regenerate_from_history_is_only_for_the_person_it_was_shown_to(
    make_medialink: MakeMediaLink, fake_wix: FakeWix, database_url: str
) -> None:
    file_id = fake_wix.add_file(kind="image", display_name="poster.jpg")
    await seed(database_url, [link(file_id)])
    medialink = await make_medialink(database_url=database_url)
    message = await history(medialink)
    [action_id] = regenerate_ids(message)
    click = await medialink.click(message, action_id, user=OTHER_USER_ID)
    note = await medialink.reply(click)
    assert f"Only <@{USER_ID}> can use these buttons" in note.all_text()
    assert generate_bodies(fake_wix) == []


async def test_regenerate_from_history_rechecks_todays_cap(
    make_medialink: MakeMediaLink, fake_wix: FakeWix, database_url: str
) -> None:
    file_id = fake_wix.add_file(kind="image", display_name="poster.jpg")
    await seed(database_url, [link(file_id, lasts=3 * HOUR)])
    medialink = await make_medialink(database_url=database_url)
    message = await history(medialink)
    [action_id] = regenerate_ids(message)
    # The cap is lowered after the history was shown: the old button is refused.
    lowered = await make_medialink(
        database_url=database_url, medialink_max_expiry="1h", medialink_default_expiry="1h"
    )
    click = await lowered.click(message, action_id)
    note = await lowered.reply(click)
    assert "at most 1 hour" in note.all_text()
    assert generate_bodies(fake_wix) == []
    state = decode_state(message.element(action_id)["value"], max_expiry=timedelta(days=7))
    assert state.expires_minutes == 180


async def test_admin_sees_someones_links_by_mention(
    make_medialink: MakeMediaLink, database_url: str
) -> None:
    await seed(
        database_url,
        [
            link(
                "bbbbbb_00000000000000000000000000000004~mv2.jpg",
                name="bobs.jpg",
                user=OTHER_USER_ID,
            ),
            link("aaaaaa_00000000000000000000000000000001~mv2.jpg", name="alices.jpg"),
        ],
    )
    medialink = await make_medialink(database_url=database_url, medialink_admins=ADMIN_ID)
    for mention in (f"<@{OTHER_USER_ID}|bob>", f"<@{OTHER_USER_ID}>"):
        message = await history(medialink, mention, user=ADMIN_ID)
        shown = message.all_text()
        assert "bobs.jpg" in shown
        assert "alices.jpg" not in shown
        assert f"<@{OTHER_USER_ID}>" in shown
        # The admin's Regenerate makes links for the admin, re-checked on the click.
        [action_id] = regenerate_ids(message)
        state = decode_state(message.element(action_id)["value"], max_expiry=timedelta(days=7))
        assert state.user_id == ADMIN_ID


async def test_admin_sees_everyones_links_to_a_file(
    make_medialink: MakeMediaLink, database_url: str
) -> None:
    file_id = "cccccc_00000000000000000000000000000005~mv2.jpg"
    await seed(
        database_url,
        [
            link(file_id, name="shared.jpg", user=OTHER_USER_ID, ago=2 * HOUR),
            link(file_id, name="shared.jpg", user=USER_ID, ago=HOUR),
            link("aaaaaa_00000000000000000000000000000001~mv2.jpg", name="unrelated.jpg"),
        ],
    )
    medialink = await make_medialink(database_url=database_url, medialink_admins=ADMIN_ID)
    for asked in (wix_url(file_id), file_id):
        message = await history(medialink, asked, user=ADMIN_ID)
        shown = message.all_text()
        assert f"by <@{USER_ID}>" in shown
        assert f"by <@{OTHER_USER_ID}>" in shown
        assert shown.index(f"by <@{USER_ID}>") < shown.index(f"by <@{OTHER_USER_ID}>")
        assert "unrelated.jpg" not in shown


async def test_by_file_a_non_admin_sees_only_their_own_links(
    make_medialink: MakeMediaLink, database_url: str
) -> None:
    file_id = "cccccc_00000000000000000000000000000005~mv2.jpg"
    await seed(
        database_url,
        [
            link(file_id, name="shared.jpg", user=OTHER_USER_ID),
            link(file_id, name="shared.jpg", user=USER_ID, lasts=HOUR / 2),
        ],
    )
    medialink = await make_medialink(database_url=database_url, medialink_admins=ADMIN_ID)
    message = await history(medialink, wix_url(file_id))
    shown = message.all_text()
    assert "Your last 1 link" in shown
    assert OTHER_USER_ID not in shown


async def test_a_non_admin_is_refused_someone_elses_history(
    make_medialink: MakeMediaLink, database_url: str
) -> None:
    await seed(
        database_url,
        [
            link(
                "bbbbbb_00000000000000000000000000000004~mv2.jpg",
                name="bobs.jpg",
                user=OTHER_USER_ID,
            )
        ],
    )
    medialink = await make_medialink(
        database_url=database_url, medialink_admins=ADMIN_ID, audit_running=True
    )
    sent = await medialink.command(f"history <@{OTHER_USER_ID}|bob>")
    assert sent.response.status_code == 200
    answer = json.loads(sent.response.text)
    assert answer["response_type"] == "ephemeral"
    said = ack_text(sent)
    assert "Only MediaLink's admins can see other people's links" in said
    assert f"<@{ADMIN_ID}>" in said  # whom to ask
    assert "bobs.jpg" not in said
    await medialink.settle()
    assert medialink.slack.posts(sent.response_url) == []
    # The refusal is in the record, written by the app's store in the background.
    found: list[AuditEvent] = []

    async def written() -> bool:
        found[:] = await read_back(database_url, AuditQuery(outcome="refused"))
        return bool(found)

    for _ in range(100):
        if await written():
            break
        await asyncio.sleep(0.05)
    [recorded] = found
    assert recorded.user_id == USER_ID
    assert recorded.entry == Entry.HISTORY


async def test_a_non_admin_may_name_themselves(
    make_medialink: MakeMediaLink, database_url: str
) -> None:
    await seed(
        database_url, [link("aaaaaa_00000000000000000000000000000001~mv2.jpg", name="mine.jpg")]
    )
    medialink = await make_medialink(database_url=database_url)
    message = await history(medialink, f"<@{USER_ID}|alice>")
    assert "mine.jpg" in message.all_text()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("@bob", "pick them from the list"),
        ("<@U0BOB0002> <@U0ALICE01>", "one person or one file at a time"),
        ("banana", "neither a person nor a Wix file"),
        ("https://example.com/photo.jpg", "not a Wix media URL"),
    ],
)
async def test_unusable_history_arguments_are_explained_in_the_ack(
    make_medialink: MakeMediaLink, database_url: str, text: str, expected: str
) -> None:
    medialink = await make_medialink(database_url=database_url)
    sent = await medialink.command(f"history {text}")
    said = ack_text(sent)
    assert expected in said
    assert "/medialink history" in said
    await medialink.settle()
    assert medialink.slack.posts(sent.response_url) == []


async def test_the_record_unreadable_is_said_plainly(
    make_medialink: MakeMediaLink, tmp_path: Path
) -> None:
    # A database URL that cannot be opened: a directory where the file should be.
    (tmp_path / "not-a-file.db").mkdir()
    medialink = await make_medialink(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'not-a-file.db'}"
    )
    message = await history(medialink)
    assert "cannot read its record right now" in message.all_text()
