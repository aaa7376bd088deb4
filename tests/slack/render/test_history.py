"""The record rendered: /medialink history's lines and buttons, and the App Home view."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.audit import AuditEvent, Entry
from bot.slack.button_state import decode_state
from bot.slack.render.history import (
    ACTION_HISTORY_REGENERATE_PREFIX,
    HISTORY_REGENERATE_ACTION,
    MAX_HISTORY,
    HistorySubject,
    Scope,
    entry_label,
    regenerate_token,
    render_history,
)
from bot.slack.render.home import MAX_HOME_ITEMS, HomeContent, HomeLimits, render_home
from bot.slack.render.limits import MAX_VIEW_BLOCKS
from tests.fakes.slack import block_kit_errors
from tests.slack.render.conftest import Json, assert_within_limits, elements, texts

VIEWER = "U0ALICE01"
OTHER = "U0BOB0002"
NOW = datetime(2030, 5, 17, 12, 0, tzinfo=UTC)
WEEK = timedelta(days=7)
HOUR = timedelta(hours=1)
OWN = HistorySubject(Scope.OWN)


def made(
    number: int,
    *,
    user: str = VIEWER,
    ago: timedelta = HOUR,
    lasts: timedelta = 2 * HOUR,
    keys: tuple[str, ...] = ("src",),
    name: str | None = None,
    private: bool = False,
) -> AuditEvent:
    at = NOW - ago
    return AuditEvent(
        at=at,
        team_id="T0MEDIALNK",
        enterprise_id=None,
        user_id=user,
        channel_id="C0GENERAL",
        entry=Entry.COMMAND.value,
        outcome="ok",
        file_id=f"{number:06x}_{number:032x}~mv2.jpg",
        file_name=name or f"Photo {number}.jpg",
        private=private,
        asset_keys=keys,
        expires_at=at + lasts,
    )


def history(events: list[AuditEvent], subject: HistorySubject = OWN, **kwargs: object) -> Json:
    options: dict[str, object] = {
        "subject": subject,
        "viewer_id": VIEWER,
        "now": NOW,
        "max_expiry": WEEK,
        "default_expiry": HOUR,
    }
    options.update(kwargs)
    return render_history(events, **options)  # type: ignore[arg-type]


def test_each_link_shows_file_assets_when_and_whether_it_still_works() -> None:
    valid = made(1, ago=HOUR, lasts=2 * HOUR, keys=("src", "720p.mp4"), private=True)
    expired = made(2, ago=3 * HOUR, lasts=HOUR)
    message = history([valid, expired])
    assert_within_limits(message)
    [first, second] = [b for b in message["blocks"] if b["block_id"].startswith("history_")][1:3]
    assert "Photo 1.jpg" in first["text"]["text"]
    assert "Original, 720p.mp4" in first["text"]["text"]
    assert "private" in first["text"]["text"]
    assert "Valid until" in first["text"]["text"]
    assert str(int(valid.at.timestamp())) in first["text"]["text"]  # when it was made
    assert str(int(valid.expires_at.timestamp())) in first["text"]["text"]  # type: ignore[union-attr]
    assert "Expired" in second["text"]["text"]
    assert "Valid" not in second["text"]["text"]


def test_regenerate_buttons_carry_the_file_its_renditions_and_its_lifetime() -> None:
    event = made(1, lasts=2 * HOUR, keys=("720p.mp4",))
    message = history([event])
    [regenerate] = list(elements([message]))
    assert HISTORY_REGENERATE_ACTION.fullmatch(regenerate["action_id"])
    state = decode_state(regenerate["value"], max_expiry=WEEK, user_id=VIEWER)
    assert state.user_id == VIEWER
    assert [file.file_id for file in state.files] == [event.file_id]
    assert state.files[0].filename == "Photo 1.jpg"
    assert state.asset_keys == ("720p.mp4",)
    assert state.expires_minutes == 120


def test_regenerate_is_for_the_viewer_even_on_someone_elses_link() -> None:
    token = regenerate_token(
        made(1, user=OTHER), viewer_id=VIEWER, max_expiry=WEEK, default_expiry=HOUR
    )
    assert token is not None
    assert decode_state(token, max_expiry=WEEK, user_id=VIEWER).user_id == VIEWER


def test_regenerate_keeps_within_todays_cap() -> None:
    event = made(1, lasts=5 * 24 * HOUR)
    token = regenerate_token(event, viewer_id=VIEWER, max_expiry=HOUR, default_expiry=HOUR)
    assert token is not None
    assert decode_state(token, max_expiry=HOUR, user_id=VIEWER).expires_minutes == 60


def test_no_regenerate_button_when_the_record_cannot_name_a_usable_file() -> None:
    unusable = [
        replace(made(1), file_id=None),
        replace(made(2), file_id="not a file/../id"),
        replace(made(3), asset_keys=tuple(f"k{n}" for n in range(30))),
        replace(made(4), outcome="refused"),
    ]
    message = history(unusable)
    assert_within_limits(message)
    assert list(elements([message])) == []


def test_at_most_twenty_links_and_unique_action_ids() -> None:
    events = [made(n, ago=n * HOUR) for n in range(1, 40)]
    message = history(events)
    assert_within_limits(message)
    action_ids = [e["action_id"] for e in elements([message])]
    assert len(action_ids) == MAX_HISTORY
    assert len(set(action_ids)) == MAX_HISTORY
    assert action_ids[0] == f"{ACTION_HISTORY_REGENERATE_PREFIX}0"


def test_empty_history_says_how_to_make_a_link() -> None:
    message = history([])
    assert_within_limits(message)
    assert "no links yet" in texts([message])
    assert "/medialink" in texts([message])
    assert list(elements([message])) == []


def test_admin_views_name_the_subject_and_by_file_who_made_each_link() -> None:
    by_user = history([made(1, user=OTHER)], HistorySubject(Scope.USER, user_id=OTHER))
    assert f"<@{OTHER}>" in texts([by_user])
    event = made(1, user=OTHER)
    by_file = history([event], HistorySubject(Scope.FILE, file_id=event.file_id))
    assert f"by <@{OTHER}>" in texts([by_file])
    assert str(event.file_id) in texts([by_file])


def test_hostile_text_from_the_record_is_clipped_and_escaped() -> None:
    name = "<!channel> *bold* " + "x" * 5000
    event = replace(made(1, name=name), asset_keys=("<@U0EVIL>", *(f"k{n}" for n in range(9))))
    message = history([event])
    assert_within_limits(message)
    shown = texts([message])
    assert "<!channel>" not in shown
    assert "&lt;!channel&gt;" in shown
    assert "<@U0EVIL>" not in shown
    assert "and 5 more" in shown


def test_entry_labels() -> None:
    assert entry_label("command") == "`/medialink`"
    assert entry_label(Entry.button("medialink_share")) == "a button (medialink_share)"
    assert entry_label("<!here>") == "&lt;!here&gt;"


# --- App Home ---------------------------------------------------------------------------

LIMITS = HomeLimits(
    max_expiry=WEEK,
    default_expiry=HOUR,
    max_refs=50,
    share_enabled=True,
    admins=("U0ADMIN01",),
    private_files="admins",
)


def refused(number: int) -> AuditEvent:
    return AuditEvent(
        at=NOW - number * HOUR,
        team_id="T0MEDIALNK",
        enterprise_id=None,
        user_id=OTHER,
        channel_id="C0RANDOM1",
        entry=Entry.MESSAGE_SHORTCUT.value,
        outcome="refused",
        reason=f"guests may not use MediaLink ({number})",
    )


def home_text(view: Json) -> str:
    return texts([view])


def test_home_explains_use_and_limits_and_lists_own_links() -> None:
    view = render_home(
        HomeContent(user_id=VIEWER, is_admin=False, own_links=[made(1)]), LIMITS, now=NOW
    )
    assert view["type"] == "home"
    assert block_kit_errors(view["blocks"], surface="modal") == []
    shown = home_text(view)
    assert "/medialink history" in shown
    assert "at most 7 days" in shown
    assert "Share in channel" in shown
    assert "Only MediaLink's admins may make links to files Wix marks private" in shown
    assert "<@U0ADMIN01>" in shown
    assert "Photo 1.jpg" in shown
    assert "Recent refusals" not in shown
    assert "activity" not in shown.lower()


def test_home_for_an_admin_shows_activity_and_refusals() -> None:
    content = HomeContent(
        user_id=VIEWER,
        is_admin=True,
        own_links=[],
        activity=[made(7, user=OTHER)],
        refusals=[refused(1)],
    )
    view = render_home(content, LIMITS, now=NOW)
    assert block_kit_errors(view["blocks"], surface="modal") == []
    shown = home_text(view)
    assert "Recent activity" in shown
    assert f"by <@{OTHER}>" in shown
    assert "Recent refusals" in shown
    assert "guests may not use MediaLink (1)" in shown
    assert "the message shortcut" in shown


def test_home_is_bounded_whatever_the_record_holds() -> None:
    many = [made(n, ago=n * HOUR) for n in range(1, 200)]
    content = HomeContent(
        user_id=VIEWER,
        is_admin=True,
        own_links=many,
        activity=many,
        refusals=[refused(n) for n in range(1, 200)],
    )
    view = render_home(
        content, replace(LIMITS, admins=tuple(f"U{n:08d}" for n in range(50))), now=NOW
    )
    assert len(view["blocks"]) <= MAX_VIEW_BLOCKS
    assert block_kit_errors(view["blocks"], surface="modal") == []
    own = [b for b in view["blocks"] if b["block_id"].startswith("home_own_")]
    assert len([b for b in own if b["block_id"] != "home_own_more"]) == MAX_HOME_ITEMS


def test_home_says_when_the_record_cannot_be_read() -> None:
    content = HomeContent(user_id=VIEWER, is_admin=True, record_readable=False)
    view = render_home(content, replace(LIMITS, share_enabled=False), now=NOW)
    assert block_kit_errors(view["blocks"], surface="modal") == []
    shown = home_text(view)
    assert "cannot be read right now" in shown
    assert "switched off" in shown
