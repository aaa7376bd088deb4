"""The App Home tab end to end: a signed ``app_home_opened`` event (HTTP and Socket Mode)
is acked at once, the real audit store is read, and ``views.publish`` reaches the fake
Slack, which checks the view as Slack would."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.app import build_app
from bot.audit import AuditEvent, Entry
from bot.dispatch import Dispatcher
from bot.server import start_socket_mode
from bot.services import build_services
from tests.fakes.slack import FakeSlack, Json, app_home_opened_event, home_errors
from tests.fakes.wix import FakeWix
from tests.slack.audit_helpers import seed
from tests.slack.conftest import (
    CHANNEL_ID,
    FAST_RETRY,
    OTHER_USER_ID,
    USER_ID,
    MakeMediaLink,
    MediaLink,
    medialink_settings,
)

ADMIN_ID = "U0ADMIN01"
HOUR = timedelta(hours=1)


def link(number: int, *, user: str = USER_ID, name: str) -> AuditEvent:
    at = datetime.now(UTC) - number * HOUR
    return AuditEvent(
        at=at,
        team_id="T0MEDIALNK",
        enterprise_id=None,
        user_id=user,
        channel_id=CHANNEL_ID,
        entry=Entry.COMMAND.value,
        outcome="ok",
        file_id=f"{number:06x}_{number:032x}~mv2.jpg",
        file_name=name,
        private=False,
        asset_keys=("src",),
        expires_at=at + 2 * HOUR,
    )


def refusal(*, user: str, reason: str) -> AuditEvent:
    return AuditEvent(
        at=datetime.now(UTC) - HOUR,
        team_id="T0MEDIALNK",
        enterprise_id=None,
        user_id=user,
        channel_id=CHANNEL_ID,
        entry=Entry.MESSAGE_SHORTCUT.value,
        outcome="refused",
        reason=reason,
    )


RECORD = [
    link(1, name="alices-poster.jpg"),
    link(2, user=OTHER_USER_ID, name="bobs-trailer.mp4"),
    refusal(user=OTHER_USER_ID, reason="guests may not use MediaLink"),
]


async def open_home(medialink: MediaLink, user: str = USER_ID, *, tab: str = "home") -> Any:
    body = json.dumps(app_home_opened_event(user, tab=tab))
    return await medialink.post(body, content_type="application/json")


async def published_home(slack: FakeSlack, user: str) -> Json:
    [call] = await slack.wait_for_calls("views.publish")
    assert call.ok, call.response
    assert call.args["user_id"] == user
    view = slack.home_view(user)
    assert view is not None
    assert home_errors({k: view[k] for k in ("type", "blocks")}) == []
    return view


def view_text(view: Json) -> str:
    found: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("text"), str):
                found.append(value["text"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(view.get("blocks"))
    return "\n".join(found)


async def test_home_is_published_with_use_limits_and_own_links(
    make_medialink: MakeMediaLink,
    fake_slack: FakeSlack,
    database_url: str,
    suite_log: io.StringIO,
) -> None:
    await seed(database_url, RECORD)
    medialink = await make_medialink(
        database_url=database_url, medialink_admins=ADMIN_ID, medialink_max_expiry="2d"
    )
    response = await open_home(medialink)
    assert response.status_code == 200
    assert response.text == ""  # acked at once, with nothing to show
    view = await published_home(fake_slack, USER_ID)
    shown = view_text(view)
    assert "/medialink history" in shown
    assert "at most 2 days" in shown
    assert "Share in channel" in shown
    assert f"<@{ADMIN_ID}>" in shown
    assert "alices-poster.jpg" in shown
    assert "bobs-trailer.mp4" not in shown  # someone else's: admins only
    assert "Recent refusals" not in shown
    await medialink.settle()
    assert "alices-poster.jpg" not in suite_log.getvalue()  # the record stays out of logs


async def test_admin_sees_the_workspaces_activity_and_refusals(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, database_url: str
) -> None:
    await seed(database_url, RECORD)
    medialink = await make_medialink(database_url=database_url, medialink_admins=ADMIN_ID)
    response = await open_home(medialink, ADMIN_ID)
    assert response.status_code == 200
    view = await published_home(fake_slack, ADMIN_ID)
    shown = view_text(view)
    assert "Recent activity in the workspace" in shown
    assert "bobs-trailer.mp4" in shown
    assert f"by <@{OTHER_USER_ID}>" in shown
    assert "Recent refusals" in shown
    assert "guests may not use MediaLink" in shown
    assert "the message shortcut" in shown


async def test_a_long_record_stays_within_the_home_tabs_limits(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, database_url: str
) -> None:
    long_name = "n" * 500 + ".jpg"
    events = [
        link(n, user=OTHER_USER_ID if n % 2 else USER_ID, name=long_name) for n in range(1, 80)
    ]
    events += [refusal(user=OTHER_USER_ID, reason="r" * 2000) for _ in range(40)]
    await seed(database_url, events)
    medialink = await make_medialink(database_url=database_url, medialink_admins=USER_ID)
    await open_home(medialink)
    view = await published_home(fake_slack, USER_ID)  # the fake refuses a view over limits
    assert len(view["blocks"]) <= 100


async def test_the_messages_tab_publishes_nothing(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, database_url: str
) -> None:
    medialink = await make_medialink(database_url=database_url)
    response = await open_home(medialink, tab="messages")
    assert response.status_code == 200
    await medialink.settle()
    assert fake_slack.calls_to("views.publish") == []


async def test_an_unsigned_event_publishes_nothing(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, database_url: str
) -> None:
    medialink = await make_medialink(database_url=database_url)
    body = json.dumps(app_home_opened_event(USER_ID))
    response = await medialink.post(body, content_type="application/json", signed=False)
    assert response.status_code == 401
    await medialink.assert_nothing_went_out()


async def test_a_refused_publish_is_logged_by_its_code_only(
    make_medialink: MakeMediaLink,
    fake_slack: FakeSlack,
    database_url: str,
    suite_log: io.StringIO,
) -> None:
    await seed(database_url, RECORD)
    fake_slack.home_tab_enabled = False  # the app's Home tab switched off in its settings
    medialink = await make_medialink(database_url=database_url)
    response = await open_home(medialink)
    assert response.status_code == 200
    [call] = await fake_slack.wait_for_calls("views.publish")
    assert call.error == "not_enabled"
    await medialink.settle()
    log = suite_log.getvalue()
    assert "views.publish failed: not_enabled" in log
    assert "alices-poster.jpg" not in log


async def test_home_over_socket_mode(
    fake_slack: FakeSlack, fake_wix: FakeWix, database_url: str
) -> None:
    await seed(database_url, RECORD)
    settings = medialink_settings(
        fake_slack,
        fake_wix,
        slack_app_token=fake_slack.app_token,
        slack_signing_secret=None,
        database_url=database_url,
    )
    services = build_services(settings, retry=FAST_RETRY)
    dispatcher = Dispatcher()
    app = build_app(settings, services, dispatcher)
    handler: Any = await start_socket_mode(app, fake_slack.app_token)
    try:
        envelope_id = fake_slack.send_envelope("events_api", app_home_opened_event(USER_ID))
        acked = await fake_slack.wait_for_ack(envelope_id)
        assert not acked.ack
        view = await published_home(fake_slack, USER_ID)
        assert "alices-poster.jpg" in view_text(view)
    finally:
        await handler.close_async()
        await dispatcher.finish(5)
        await services.aclose()


def test_the_fake_refuses_home_views_slack_would_refuse() -> None:
    blocks = [{"type": "divider"} for _ in range(101)]
    assert any(
        "no more than 100" in error for error in home_errors({"type": "home", "blocks": blocks})
    )
    assert home_errors({"type": "modal", "blocks": []}) == [
        "must be home [json-pointer:/view/type]"
    ]
    assert home_errors({"type": "home", "blocks": [], "title": {}}) != []
