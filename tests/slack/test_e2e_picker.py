"""The global shortcut's type-ahead file picker, end to end.

Slack sends a signed ``block_suggestion`` as a person types in the form's picker and
shows whatever options the answer holds; the form's submission then carries the
picked options' values next to the pasted URLs (docs/slack.md, External selects).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest

from bot.audit import AuditQuery
from bot.audit.store import SqlAuditTrail
from bot.dispatch import Dispatcher
from bot.slack.listeners.picker import SUGGESTION_DEADLINE
from bot.slack.messages import MODAL_NEEDS_FILES, MODAL_NEEDS_URLS
from tests.fakes.slack import (
    TEAM_ID,
    FakeSlack,
    Json,
    block_suggestion_payload,
    options_answer_errors,
)
from tests.fakes.wix import SEARCH_FILES, FakeWix
from tests.slack.conftest import (
    OTHER_USER_ID,
    USER_ID,
    MakeMediaLink,
    MediaLink,
    generate_bodies,
    interaction_body,
    link_buttons,
    wix_url,
)

ADMIN_ID = "U0ADMIN01"
PICKER_BLOCK, PICKER_ACTION = "picked", "picked_files"


async def open_form(medialink: MediaLink) -> Json:
    """The form as views.open received it (the fake checked it against Block Kit)."""
    await medialink.global_shortcut()
    [call] = await medialink.slack.wait_for_calls("views.open")
    assert call.ok, call.response
    view = call.response["view"]
    assert isinstance(view, dict)
    return view


async def suggest(
    medialink: MediaLink, value: str, *, user: str = USER_ID, view: Json | None = None
) -> tuple[list[Json], float]:
    """Type ``value`` in the picker: the options Slack would show, and how long it took."""
    payload = block_suggestion_payload(
        action_id=PICKER_ACTION,
        block_id=PICKER_BLOCK,
        value=value,
        user={"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM_ID},
        view=view,
    )
    started = time.monotonic()
    response = await medialink.post(interaction_body(payload))
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    answer = response.json()
    assert options_answer_errors(answer) == [], answer
    options = answer["options"]
    assert isinstance(options, list)
    return options, elapsed


def searches(wix: FakeWix) -> list[dict[str, Any]]:
    return [r.json for r in wix.requests_to(SEARCH_FILES) if isinstance(r.json, dict)]


def values(options: list[Json]) -> list[str]:
    """The picked files' IDs: each value names the site it was found on, here the
    environment's (``default/<file ID>``)."""
    assert all(str(option["value"]).startswith("default/") for option in options)
    return [str(option["value"]).removeprefix("default/") for option in options]


# ------------------------------------------------------------------ the form


async def test_the_form_has_an_optional_picker_next_to_the_url_box(medialink: MediaLink) -> None:
    view = await open_form(medialink)
    block_ids = [block.get("block_id") for block in view["blocks"]]
    assert block_ids.index(PICKER_BLOCK) == block_ids.index("urls") + 1
    [picker] = [block for block in view["blocks"] if block.get("block_id") == PICKER_BLOCK]
    element = picker["element"]
    assert element["type"] == "multi_external_select"
    assert element["action_id"] == PICKER_ACTION
    assert element["min_query_length"] >= 2
    assert element["max_selected_items"] == medialink.settings.medialink_max_refs
    assert picker["optional"] is True
    [urls] = [block for block in view["blocks"] if block.get("block_id") == "urls"]
    assert urls["optional"] is True  # picked files alone are enough


# ------------------------------------------------------------------ the answers


async def test_typing_part_of_a_name_offers_the_matching_files(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    video = fake_wix.add_file(kind="video", display_name="Launch video.mp4", size=5 * 1024**2)
    poster = fake_wix.add_file(kind="image", display_name="launch poster.jpg", size=2048)
    fake_wix.add_file(kind="document", display_name="contract.pdf")
    options, _ = await suggest(medialink, "  launch ")
    assert sorted(values(options)) == sorted([video, poster])
    texts = {option["value"].removeprefix("default/"): option["text"]["text"] for option in options}
    assert texts[video] == "Launch video.mp4 · video · 5.0 MB"
    assert texts[poster] == "launch poster.jpg · image · 2.0 KB"
    assert all(option["text"]["type"] == "plain_text" for option in options)
    [search] = searches(fake_wix)
    assert search["search"] == "launch"
    assert search["private"] is False  # a member may not link private files by default


async def test_a_long_name_is_clipped_so_type_and_size_still_show(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    name = "quarterly " * 20 + "report.pdf"
    fake_wix.add_file(kind="document", display_name=name, size=1000)
    [option], _ = await suggest(medialink, "quarterly")
    text = option["text"]["text"]
    assert len(text) <= 75
    assert text.endswith("… · document · 1000 B")


async def test_a_file_whose_id_cannot_be_an_option_value_is_left_out(
    medialink: MediaLink, fake_wix: FakeWix, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    too_long = "abcdef_" + "0" * 150 + ".pdf"  # Wix allows 1000 characters, Slack 150
    fake_wix.add_file(too_long, kind="document", display_name="minutes long.pdf")
    fits = fake_wix.add_file(kind="document", display_name="minutes short.pdf")
    options, _ = await suggest(medialink, "minutes")
    assert values(options) == [fits]
    assert "left out 1 file" in caplog.text


async def test_fewer_characters_than_the_minimum_ask_wix_nothing(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    fake_wix.add_file(display_name="a.jpg")
    for typed in ("", "a", "   a  "):
        options, _ = await suggest(medialink, typed)
        assert options == []
    await medialink.settle()
    assert searches(fake_wix) == []


async def test_a_long_query_is_cut_to_what_wix_accepts(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    options, _ = await suggest(medialink, "x" * 5000)
    assert options == []
    [search] = searches(fake_wix)
    assert search["search"] == "x" * 200


async def test_more_matches_than_slack_shows_are_capped_at_100(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    for number in range(130):
        fake_wix.add_file(kind="document", display_name=f"report-{number:03}.pdf")
    options, _ = await suggest(medialink, "report")
    assert len(options) == 100
    assert len(set(values(options))) == 100


@pytest.mark.parametrize(("user", "sees_private"), [(USER_ID, False), (ADMIN_ID, True)])
async def test_private_files_are_hidden_from_people_who_may_not_link_them(
    make_medialink: MakeMediaLink, fake_wix: FakeWix, user: str, sees_private: bool
) -> None:
    medialink = await make_medialink(medialink_private_files="admins", medialink_admins=ADMIN_ID)
    secret = fake_wix.add_file(kind="document", display_name="plan secret.pdf", private=True)
    public = fake_wix.add_file(kind="image", display_name="plan public.jpg")
    options, _ = await suggest(medialink, "plan", user=user)
    assert (secret in values(options)) is sees_private
    assert public in values(options)
    [search] = searches(fake_wix)
    if sees_private:
        assert "private" not in search
        [secret_option] = [o for o in options if o["value"] == f"default/{secret}"]
        assert secret_option["text"]["text"].endswith(" · private")
    else:
        assert search["private"] is False


async def test_a_refused_person_gets_no_options_and_no_wix_call(
    make_medialink: MakeMediaLink, fake_wix: FakeWix, fake_slack: FakeSlack, tmp_path: Path
) -> None:
    medialink = await make_medialink(
        medialink_allowed_users=OTHER_USER_ID,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}",
        audit_running=True,
    )
    fake_wix.add_file(display_name="logo.jpg")
    options, _ = await suggest(medialink, "logo")
    assert options == []
    await medialink.settle()
    assert fake_wix.requests == []
    assert fake_slack.posts() == []  # nothing is posted for an options request
    assert fake_slack.calls_to("views.open") == []
    # Every keystroke would be a record: the picker's refusals are not recorded.
    assert medialink.services is not None
    trail = medialink.services.audit
    assert isinstance(trail, SqlAuditTrail)
    assert await trail.flush(5.0)
    assert await trail.query(AuditQuery(outcome="refused", limit=10)) == []


async def test_wix_slower_than_the_deadline_gives_an_empty_list_in_time(
    medialink: MediaLink, fake_wix: FakeWix, caplog: pytest.LogCaptureFixture
) -> None:
    wix_delay = SUGGESTION_DEADLINE + 8.0
    fake_wix.add_file(display_name="slow.jpg")
    fake_wix.inject(SEARCH_FILES, delay=wix_delay)
    options, elapsed = await suggest(medialink, "slow")
    assert options == []
    assert elapsed < wix_delay  # answered without waiting for Wix
    assert "Traceback" not in caplog.text
    # The app is none the worse: the next search answers.
    options, _ = await suggest(medialink, "slow")
    assert len(options) == 1


async def test_searches_count_against_the_members_quota(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(
        medialink_max_refs=2, medialink_user_files_per_minute=2, medialink_admins=ADMIN_ID
    )
    fake_wix.add_file(display_name="logo.jpg")
    for _ in range(2):
        options, _ = await suggest(medialink, "logo")
        assert len(options) == 1
    options, _ = await suggest(medialink, "logo")
    assert options == []  # over the quota: no options, and Wix was not asked
    assert len(searches(fake_wix)) == 2
    options, _ = await suggest(medialink, "logo", user=ADMIN_ID)  # someone else's quota
    assert len(options) == 1


async def test_nothing_typed_reaches_the_logs(
    medialink: MediaLink, fake_wix: FakeWix, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake_wix.add_file(display_name="zanzibar-offsite.jpg")
    fake_wix.inject(SEARCH_FILES, status=500, times=5)
    for typed in ("zanzibar", "qwertyuiop-unique"):
        await suggest(medialink, typed)
    await medialink.settle()
    assert "zanzibar" not in caplog.text
    assert "qwertyuiop" not in caplog.text


async def test_a_busy_app_answers_with_no_options_rather_than_a_message(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(dispatcher=Dispatcher(max_running=0))
    fake_wix.add_file(display_name="logo.jpg")
    options, _ = await suggest(medialink, "logo")
    assert options == []
    assert searches(fake_wix) == []


# ------------------------------------------------------------------ the submission


async def test_pasted_and_picked_files_come_back_in_one_reply_each_once(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    pasted = fake_wix.add_file(kind="document", display_name="brief.pdf")
    first = fake_wix.add_file(kind="image", display_name="launch poster.jpg")
    second = fake_wix.add_file(kind="video", display_name="launch video.mp4")
    view = await open_form(medialink)
    options, _ = await suggest(medialink, "launch", view=view)
    also_pasted = {"text": {"type": "plain_text", "text": "brief.pdf"}, "value": pasted}
    sent = await medialink.submit_view(view, urls=wix_url(pasted), picked=[*options, also_pasted])
    assert sent.response.text == ""  # the form closes
    reply = await medialink.reply(sent)
    linked = [body["fileId"] for body in generate_bodies(fake_wix)]
    assert sorted(linked) == sorted([pasted, first, second])  # each file once
    text = reply.all_text()
    assert all(name in text for name in ("brief.pdf", "launch poster.jpg", "launch video.mp4"))
    assert text.index("brief.pdf") < text.index("launch")  # pasted first, then picked
    assert len(link_buttons(reply)) >= 3
    await medialink.settle()
    assert len(medialink.slack.posts(sent.response_url)) == 1  # one reply


async def test_picked_files_alone_are_enough(medialink: MediaLink, fake_wix: FakeWix) -> None:
    file_id = fake_wix.add_file(kind="document", display_name="contract.pdf")
    view = await open_form(medialink)
    options, _ = await suggest(medialink, "contract", view=view)
    sent = await medialink.submit_view(view, picked=options)
    await medialink.reply(sent)
    assert [body["fileId"] for body in generate_bodies(fake_wix)] == [file_id]


async def test_neither_pasted_nor_picked_is_asked_for_in_the_form(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    view = await open_form(medialink)
    sent = await medialink.submit_view(view, urls=None, picked=[])
    answer = sent.response.json()
    assert answer["response_action"] == "errors"
    assert answer["errors"]["urls"] == MODAL_NEEDS_FILES
    await medialink.settle()
    assert fake_wix.requests == []


async def test_a_picked_value_no_search_could_offer_is_ignored(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    view = await open_form(medialink)
    forged = [
        {"text": {"type": "plain_text", "text": "x"}, "value": value}
        for value in ("../../etc/passwd", "two words", "x" * 151, "")
    ]
    sent = await medialink.submit_view(view, picked=forged)
    answer = sent.response.json()
    assert answer["response_action"] == "errors"
    assert answer["errors"]["urls"].startswith(MODAL_NEEDS_FILES)
    await medialink.settle()
    assert fake_wix.requests == []


async def test_a_form_opened_before_the_picker_existed_still_works(
    medialink: MediaLink, fake_wix: FakeWix
) -> None:
    view = await open_form(medialink)
    # The form as it was: no picker, and the URL box required.
    old = {**view, "blocks": [b for b in view["blocks"] if b.get("block_id") != PICKER_BLOCK]}
    for block in old["blocks"]:
        if block.get("block_id") == "urls":
            block.pop("optional", None)
    empty = await medialink.submit_view(old, urls=None)
    assert empty.response.json()["errors"]["urls"] == MODAL_NEEDS_URLS
    file_id = fake_wix.add_file(kind="document", display_name="contract.pdf")
    sent = await medialink.submit_view(old, urls=wix_url(file_id))
    assert sent.response.text == ""
    await medialink.reply(sent)
    assert [body["fileId"] for body in generate_bodies(fake_wix)] == [file_id]
