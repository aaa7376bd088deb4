"""The access policy end to end: signed requests against the fakes, refusals recorded.

A pasted signed link (``download-files.wixmp.com/…?token=…``) is read like any Wix
reference: its token is dropped, and it goes through the same policy and the same
private-files rule as the file's own URL. Holding a shared link gives no more than
typing the file's ID.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.audit import AuditEvent
from tests.fakes.slack import FakeSlack, Message
from tests.fakes.wix import FakeWix
from tests.slack.audit_helpers import recorded_events, started
from tests.slack.conftest import (
    CHANNEL_ID,
    OTHER_CHANNEL_ID,
    OTHER_USER_ID,
    USER_ID,
    MakeMediaLink,
    MediaLink,
    ack_text,
    generate_bodies,
    link_buttons,
    private_answer,
    wix_url,
)

ADMIN_ID = "U0ADMIN01"


async def refusals(medialink: MediaLink, count: int = 1) -> list[AuditEvent]:
    """The refusals the trail has written, once there are ``count`` (bounded wait)."""
    return await recorded_events(medialink, count, outcome="refused")


async def refused_command(medialink: MediaLink, text: str, **kwargs: Any) -> str:
    sent = await medialink.command(text, **kwargs)
    return await private_answer(medialink, sent)


async def linked(medialink: MediaLink, text: str, **kwargs: Any) -> Message:
    sent = await medialink.command(text, **kwargs)
    assert sent.response.status_code == 200
    assert ack_text(sent) == ""
    return await medialink.reply(sent)


# ------------------------------------------------------------------ each kind of list


async def test_a_workspace_not_allowed_is_refused_in_the_ack_and_recorded(
    make_medialink: MakeMediaLink, fake_wix: FakeWix, tmp_path: Path
) -> None:
    medialink = await started(
        make_medialink, tmp_path, medialink_allowed_teams="T0ELSEWHERE", medialink_admins=ADMIN_ID
    )
    file_id = fake_wix.add_file()
    text = await refused_command(medialink, wix_url(file_id))
    assert "not enabled for this workspace" in text
    assert f"<@{ADMIN_ID}>" in text  # whom to ask
    await medialink.settle()
    assert fake_wix.requests == []
    [event] = await refusals(medialink)
    assert (event.user_id, event.entry, event.outcome) == (USER_ID, "command", "refused")
    assert event.reason == "team_not_allowed"
    assert event.channel_id == CHANNEL_ID


async def test_channels_list(make_medialink: MakeMediaLink, fake_wix: FakeWix) -> None:
    medialink = await make_medialink(medialink_allowed_channels=OTHER_CHANNEL_ID)
    file_id = fake_wix.add_file()
    text = await refused_command(medialink, wix_url(file_id), channel=CHANNEL_ID)
    assert "cannot be used in this conversation" in text
    assert f"<#{OTHER_CHANNEL_ID}>" in text
    reply = await linked(medialink, wix_url(file_id), channel=OTHER_CHANNEL_ID)
    assert link_buttons(reply)


async def test_users_list_and_admins(make_medialink: MakeMediaLink, fake_wix: FakeWix) -> None:
    medialink = await make_medialink(
        medialink_allowed_users=OTHER_USER_ID, medialink_admins=ADMIN_ID
    )
    file_id = fake_wix.add_file()
    text = await refused_command(medialink, wix_url(file_id), user=USER_ID)
    assert "not on the list" in text
    assert f"<@{ADMIN_ID}>" in text
    assert link_buttons(await linked(medialink, wix_url(file_id), user=OTHER_USER_ID))
    # An admin needs no place on the list.
    assert link_buttons(await linked(medialink, wix_url(file_id), user=ADMIN_ID))


async def test_user_groups_are_resolved_and_cached(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    fake_slack.set_usergroup("S0EDITORS", [USER_ID])
    medialink = await make_medialink(medialink_allowed_usergroups="S0EDITORS")
    file_id = fake_wix.add_file()
    assert link_buttons(await linked(medialink, wix_url(file_id)))
    assert link_buttons(await linked(medialink, wix_url(file_id)))
    assert len(fake_slack.calls_to("usergroups.users.list")) == 1  # cached
    assert len(fake_slack.calls_to("users.info")) == 1
    text = await refused_command(medialink, wix_url(file_id), user=OTHER_USER_ID)
    assert "not on the list" in text


# ------------------------------------------------------------------ guests and other orgs


async def test_guests_are_refused_unless_allowed(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    fake_slack.add_user(USER_ID, guest=True)
    fake_slack.add_user(OTHER_USER_ID, single_channel_guest=True)
    file_id = fake_wix.add_file()
    medialink = await make_medialink()
    assert "not available to guests" in await refused_command(medialink, wix_url(file_id))
    assert "not available to guests" in await refused_command(
        medialink, wix_url(file_id), user=OTHER_USER_ID
    )
    await medialink.settle()
    assert fake_wix.requests == []
    allowing = await make_medialink(medialink_allow_guests="true")
    assert link_buttons(await linked(allowing, wix_url(file_id)))


async def test_people_from_other_organisations_are_refused_unless_allowed(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    fake_slack.add_user(OTHER_USER_ID, team_id="T0PARTNER1", enterprise_id="E0PARTNER1")
    file_id = fake_wix.add_file()
    medialink = await make_medialink()
    text = await refused_command(medialink, wix_url(file_id), user=OTHER_USER_ID)
    assert "other organisations" in text
    allowing = await make_medialink(medialink_allow_external="true")
    assert link_buttons(await linked(allowing, wix_url(file_id), user=OTHER_USER_ID))


async def test_slack_failing_to_say_who_asks_refuses_with_try_again(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    fake_slack.inject("users.info", "internal_error")
    medialink = await make_medialink()
    file_id = fake_wix.add_file()
    assert "Try again" in await refused_command(medialink, wix_url(file_id))
    await medialink.settle()
    assert fake_wix.requests == []
    assert link_buttons(await linked(medialink, wix_url(file_id)))  # not cached: asked again


# ------------------------------------------------------------------ private files


@pytest.mark.parametrize(
    ("rule", "user", "private_linked"),
    [
        ("everyone", USER_ID, True),
        ("admins", USER_ID, False),
        ("admins", ADMIN_ID, True),
        ("nobody", ADMIN_ID, False),
    ],
)
async def test_private_files_under_each_rule(
    make_medialink: MakeMediaLink,
    fake_wix: FakeWix,
    rule: str,
    user: str,
    private_linked: bool,
) -> None:
    medialink = await make_medialink(medialink_private_files=rule, medialink_admins=ADMIN_ID)
    private = fake_wix.add_file(kind="document", display_name="contract.pdf", private=True)
    public = fake_wix.add_file(kind="image", display_name="logo.jpg")
    reply = await linked(medialink, f"{wix_url(private)} {wix_url(public)}", user=user)
    linked_ids = {body["fileId"] for body in generate_bodies(fake_wix)}
    assert public in linked_ids
    assert (private in linked_ids) is private_linked
    if not private_linked:
        assert "private files are not linked for you" in reply.all_text()


async def test_a_shared_link_pasted_back_by_someone_else_follows_the_same_rules(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(
        medialink_private_files="admins", medialink_admins=ADMIN_ID, medialink_allow_guests="true"
    )
    private = fake_wix.add_file(kind="document", display_name="contract.pdf", private=True)
    admin_reply = await linked(medialink, wix_url(private), user=ADMIN_ID)
    [button] = link_buttons(admin_reply)
    signed = button["url"]
    assert "download-files.wixmp.com" in signed
    assert "token=" in signed
    before = len(generate_bodies(fake_wix))
    sent = await medialink.message_shortcut({"text": f"here: {signed}"}, user=OTHER_USER_ID)
    reply = await medialink.reply(sent)
    assert "private files are not linked for you" in reply.all_text()
    assert len(generate_bodies(fake_wix)) == before  # no link call for it
    assert signed.split("?", 1)[1] not in reply.all_text()


# ------------------------------------------------------------------ every entry point


async def test_message_shortcut_refusal_is_posted_to_the_response_url(
    make_medialink: MakeMediaLink, fake_wix: FakeWix, tmp_path: Path
) -> None:
    medialink = await started(make_medialink, tmp_path, medialink_allowed_users=OTHER_USER_ID)
    file_id = fake_wix.add_file()
    sent = await medialink.message_shortcut({"text": wix_url(file_id)})
    assert sent.response.status_code == 200
    [post] = await medialink.wait_posts(sent)
    assert "not on the list" in post.body["text"]
    await medialink.settle()
    assert fake_wix.requests == []
    [event] = await refusals(medialink)
    assert event.entry == "message_shortcut"


async def test_global_shortcut_refusal_opens_a_modal_that_says_why(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack
) -> None:
    fake_slack.add_user(USER_ID, guest=True)
    medialink = await make_medialink()
    sent = await medialink.global_shortcut()
    assert sent.response.status_code == 200
    await fake_slack.wait_for_calls("views.open")
    [view] = fake_slack.views()
    assert "guests" in str(view)
    assert "urls" not in {block.get("block_id") for block in view.get("blocks", [])}


async def test_modal_submission_is_rechecked_for_the_chosen_conversation(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, fake_wix: FakeWix, tmp_path: Path
) -> None:
    medialink = await started(make_medialink, tmp_path, medialink_allowed_channels=OTHER_CHANNEL_ID)
    await medialink.global_shortcut()  # the form opens: the conversation is not chosen yet
    [open_call] = await fake_slack.wait_for_calls("views.open")
    view = open_call.args["view"]
    file_id = fake_wix.add_file()
    sent = await medialink.submit_view(view, urls=wix_url(file_id), conversation=CHANNEL_ID)
    answer = sent.response.json()
    assert answer["response_action"] == "errors"
    assert "cannot be used in this conversation" in answer["errors"]["urls"]
    assert f"#{OTHER_CHANNEL_ID}" in answer["errors"]["urls"]
    await medialink.settle()
    assert fake_wix.requests == []
    [event] = await refusals(medialink)
    assert (event.entry, event.channel_id) == ("global_shortcut", CHANNEL_ID)


BUTTONS = (
    "medialink_regenerate",
    "medialink_share",
    "medialink_dm",
    "medialink_expiry_15",
    "medialink_rendition_0_0",
)


async def test_old_buttons_are_refused_after_the_policy_changes(
    make_medialink: MakeMediaLink, fake_wix: FakeWix, tmp_path: Path
) -> None:
    """Someone removed from the list cannot regenerate from an old message."""
    before = await make_medialink(medialink_zip_enabled="everyone")
    video = fake_wix.add_file(kind="video", renditions=("720p.mp4",))
    reply = await linked(before, wix_url(video))
    after = await started(make_medialink, tmp_path, medialink_allowed_users=OTHER_USER_ID)
    wix_before = len(fake_wix.requests)
    for action_id in (*BUTTONS, "medialink_zip"):
        sent = await after.click(reply, action_id)
        assert sent.response.status_code == 200
        [post] = await after.wait_posts(sent)
        assert "not on the list" in post.body["text"], action_id
    await after.settle()
    assert len(fake_wix.requests) == wix_before
    events = await refusals(after, len(BUTTONS) + 1)
    assert sorted(event.entry for event in events) == sorted(
        f"button:{action_id.removeprefix('medialink_')}"
        for action_id in (*BUTTONS, "medialink_zip")
    )


# ------------------------------------------------------------------ redirect hosts, share, zip


async def test_redirect_must_be_on_the_allowed_hosts(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(medialink_redirect_hosts="example.com")
    file_id = fake_wix.add_file()
    text = await refused_command(medialink, f"{wix_url(file_id)} redirect=https://evil.example/x")
    assert "example.com" in text
    reply = await linked(medialink, f"{wix_url(file_id)} redirect=https://example.com/expired")
    assert link_buttons(reply)


async def test_share_confirmation_says_until_when_and_who_can_use_them(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    reply = await linked(medialink, f"{wix_url(fake_wix.add_file())} expires=2h")
    confirm = reply.element("medialink_share")["confirm"]["text"]["text"]
    assert "Anyone in this conversation" in confirm
    assert "2h" in confirm or "2 hours" in confirm
    assert "<!date^" in confirm


async def test_zip_is_for_admins_unless_everyone_and_holds_public_files_only(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(
        medialink_zip_enabled="true", medialink_admins=ADMIN_ID, medialink_private_files="everyone"
    )
    private = fake_wix.add_file(kind="document", private=True)
    public = fake_wix.add_file(kind="image")
    text = f"{wix_url(private)} {wix_url(public)}"
    assert "medialink_zip" not in (await linked(medialink, text)).action_ids()
    reply = await linked(medialink, text, user=ADMIN_ID)
    assert "permanent" in reply.element("medialink_zip")["text"]["text"]
    sent = await medialink.click(reply, "medialink_zip", user=ADMIN_ID)
    zip_reply = await medialink.reply(sent)
    assert "permanent" in zip_reply.all_text()
    zip_calls = [r for r in fake_wix.requests if r.path.endswith("/files/generate-download-url")]
    [call] = zip_calls
    assert isinstance(call.json, dict)
    assert call.json["fileIds"] == [public]


async def test_a_user_without_zip_rights_cannot_forge_the_button(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(medialink_zip_enabled="admins", medialink_admins=ADMIN_ID)
    reply = await linked(medialink, wix_url(fake_wix.add_file()))
    token = reply.element("medialink_regenerate")["value"]
    sent = await medialink.click(reply, "medialink_zip", forged={"value": token})
    [post] = await medialink.wait_posts(sent)
    assert "admins" in str(post.body)
    assert not [r for r in fake_wix.requests if r.path.endswith("/files/generate-download-url")]
