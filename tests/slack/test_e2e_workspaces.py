"""Several workspaces, end to end: installed through /slack/install and Slack's redirect,
each served with its own token and seeing only its own record; an org-wide install;
token rotation; uninstall.

The app runs in OAuth mode against the fake Slack, which plays slack.com's authorize page
(``/oauth/v2/authorize``), ``oauth.v2.access`` and a token per installation.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
import sqlalchemy as sa

from bot.audit import AuditQuery, Entry
from bot.audit.store import SqlAuditTrail
from bot.config import SettingsError, load_settings
from bot.preflight import check_all, start_up_probes
from bot.sites.model import AuthKind
from bot.slack.render.settings import SETTINGS_EDIT_ACTION, render_settings_modal
from bot.workspaces.oauth import BOT_SCOPES, INSTALL_PATH, REDIRECT_PATH, authorize_url
from bot.workspaces.policy import WorkspacePolicy
from bot.workspaces.schema import oauth_states
from tests.fakes.slack import (
    APP_ID,
    FakeInstall,
    FakeSlack,
    Json,
    Message,
    app_uninstalled_event,
    tokens_revoked_event,
)
from tests.fakes.wix import FakeWix
from tests.slack.conftest import (
    OAUTH_CLIENT_SECRET,
    OAUTH_STATE_SECRET,
    MakeMediaLink,
    MediaLink,
    manifest_bot_scopes,
    medialink_settings,
    wix_url,
)

CLIENT_ID = "1111111111.2222222222"
CLIENT_SECRET = OAUTH_CLIENT_SECRET
STATE_SECRET = OAUTH_STATE_SECRET
STATE_COOKIE = "slack-app-oauth-state"

TEAM_A, TEAM_B = "T0AAAAAA1", "T0BBBBBB2"
ALICE, BOB = "U0ALICE0A", "U0BOB000B"  # the installers of A and B (Slack admins, where said)
ANNA, BEN = "U0ANNA00A", "U0BEN000B"  # members of A and B
ORG, ORG_WS = "E0ORG0001", "T0ORGWS01"


def oauth_settings(**more: Any) -> dict[str, Any]:
    return {
        "slack_bot_token": None,
        "slack_client_id": CLIENT_ID,
        "slack_client_secret": CLIENT_SECRET,
        "slack_state_secret": STATE_SECRET,
        # The environment's Wix site serves only the workspaces named here in OAuth mode
        # (docs/wix.md, Several sites); these tests' workspaces all use it.
        "medialink_allowed_teams": ",".join((TEAM_A, TEAM_B, ORG)),
        **more,
    }


@dataclass
class Workspace:
    """A workspace (or org) with MediaLink installed, and how its people talk to it."""

    medialink: MediaLink
    install: FakeInstall

    @property
    def team(self) -> str:
        return self.install.team_id or self.install.member_team

    def _identity(self) -> dict[str, str]:
        ids = {"team_id": self.team, "is_enterprise_install": str(self.install.org_wide).lower()}
        if self.install.enterprise_id:
            ids["enterprise_id"] = self.install.enterprise_id
        return ids

    async def command(
        self, text: str, *, user: str, channel: str = "C0GENERAL"
    ) -> tuple[httpx.Response, str]:
        slack = self.medialink.slack
        response_url = slack.new_response_url(channel=channel, user=user)
        body = urlencode(
            {
                "token": "gIkuvaNzQIHg97ATvDxqgjtO",
                **self._identity(),
                "team_domain": self.team.lower(),
                "channel_id": channel,
                "channel_name": "general",
                "user_id": user,
                "user_name": user.lower(),
                "command": "/medialink",
                "text": text,
                "api_app_id": APP_ID,
                "response_url": response_url,
                "trigger_id": slack.new_trigger_id(),
            }
        )
        return await self.medialink.post(body), response_url

    async def reply(self, text: str, *, user: str) -> Message:
        response, response_url = await self.command(text, user=user)
        assert response.status_code == 200, response.text
        [post] = await self.medialink.slack.wait_for_posts(response_url)
        assert post.accepted, post
        assert post.message_id is not None
        return self.medialink.slack.message(post.message_id)

    async def open_home(self, user: str) -> Json:
        slack = self.medialink.slack
        before = len(slack.published_views(user))
        event: Json = {
            "token": "XXYYZZ",
            "team_id": self.team,
            "api_app_id": APP_ID,
            "event": {"type": "app_home_opened", "user": user, "tab": "home"},
            "type": "event_callback",
            "event_id": f"Ev{time.monotonic_ns()}",
            "event_time": int(time.time()),
            "authorizations": [
                {
                    "enterprise_id": self.install.enterprise_id,
                    "team_id": None if self.install.org_wide else self.team,
                    "user_id": self.install.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": self.install.org_wide,
                }
            ],
        }
        if self.install.enterprise_id:
            event["enterprise_id"] = self.install.enterprise_id
        response = await self.medialink.post(json.dumps(event), content_type="application/json")
        assert response.status_code == 200
        await slack.wait_until(
            lambda: len(slack.published_views(user)) > before, what="the Home tab published"
        )
        return slack.published_views(user)[-1]

    async def send_event(self, body: Json) -> httpx.Response:
        return await self.medialink.post(json.dumps(body), content_type="application/json")


async def install(medialink: MediaLink, fake: FakeInstall) -> tuple[httpx.Response, Workspace]:
    """The installer's trip: /slack/install → Slack's authorize page → our redirect."""
    slack = medialink.slack
    slack.install_next(fake)
    started = await medialink.http.get(INSTALL_PATH)
    assert started.status_code == 302, started.text
    state = _cookie(started)
    async with httpx.AsyncClient(timeout=10.0) as browser:
        approved = await browser.get(started.headers["location"])
    assert approved.status_code == 302, approved.text
    finished = await medialink.http.get(
        approved.headers["location"], headers={"Cookie": f"{STATE_COOKIE}={state}"}
    )
    return finished, Workspace(medialink, fake)


def _cookie(response: httpx.Response) -> str:
    header = response.headers["set-cookie"]
    name, _, rest = header.partition("=")
    assert name == STATE_COOKIE
    return rest.split(";", 1)[0]


@pytest.fixture
async def oauth_medialink(make_medialink: MakeMediaLink, fake_slack: FakeSlack) -> MediaLink:
    fake_slack.enable_oauth(CLIENT_ID, CLIENT_SECRET)
    medialink = await make_medialink(audit_running=True, **oauth_settings())
    fake_slack.oauth_redirect_url = medialink.url + REDIRECT_PATH
    return medialink


def trail(medialink: MediaLink) -> SqlAuditTrail:
    assert medialink.services is not None
    assert isinstance(medialink.services.audit, SqlAuditTrail)
    return medialink.services.audit


# ------------------------------------------------------------------ installing


async def test_an_install_goes_through_slack_and_is_saved(oauth_medialink: MediaLink) -> None:
    slack = oauth_medialink.slack
    finished, workspace = await install(oauth_medialink, FakeInstall(TEAM_A, ALICE))
    assert finished.status_code == 200, finished.text
    [asked] = slack.authorize_requests
    assert asked["client_id"] == CLIENT_ID
    assert asked["scope"].split(",") == list(BOT_SCOPES)
    [exchange] = slack.calls_to("oauth.v2.access")
    assert exchange.ok
    # The installation's own token answers its workspace's requests.
    file_id = oauth_medialink.wix.add_file(kind="image", display_name="a-poster.jpg")
    reply = await workspace.reply(wix_url(file_id), user=ANNA)
    assert "a-poster.jpg" in reply.all_text()
    tokens = {call.token for call in slack.calls if call.method != "oauth.v2.access"}
    assert tokens == {workspace.install.bot_token}
    installs = await trail(oauth_medialink).query(AuditQuery(tenant_id=TEAM_A))
    assert any(e.entry == Entry.INSTALL and e.user_id == ALICE for e in installs)


async def test_the_environments_site_serves_only_the_workspaces_named_for_it(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack
) -> None:
    """In OAuth mode a workspace installed by anyone must not reach the operator's own
    Wix site: only MEDIALINK_ALLOWED_TEAMS get it; another is told to connect its own."""
    fake_slack.enable_oauth(CLIENT_ID, CLIENT_SECRET)
    medialink = await make_medialink(
        audit_running=True, **oauth_settings(medialink_allowed_teams=TEAM_A)
    )
    fake_slack.oauth_redirect_url = medialink.url + REDIRECT_PATH
    _, a = await install(medialink, FakeInstall(TEAM_A, ALICE))
    _, b = await install(medialink, FakeInstall(TEAM_B, BOB))
    file_id = medialink.wix.add_file(kind="image", display_name="agency-logo.png")
    assert "agency-logo.png" in (await a.reply(wix_url(file_id), user=ANNA)).all_text()
    before = len(medialink.wix.requests)
    refused = (await b.reply(wix_url(file_id), user=BEN)).all_text()
    assert "No Wix site is connected to this workspace yet" in refused
    assert "agency-logo.png" not in refused
    assert len(medialink.wix.requests) == before  # not even a question about the file


async def test_a_bad_or_reused_state_is_refused(oauth_medialink: MediaLink) -> None:
    slack = oauth_medialink.slack
    http = oauth_medialink.http
    # A forged state (with a matching cookie): refused before any call to Slack.
    forged = "nonce.0000"
    answer = await http.get(
        REDIRECT_PATH + "?code=anything&state=" + forged,
        headers={"Cookie": f"{STATE_COOKIE}={forged}"},
    )
    assert answer.status_code == 401
    # A real state without the browser's cookie: refused too.
    slack.install_next(FakeInstall(TEAM_A, ALICE))
    started = await http.get(INSTALL_PATH)
    state = _cookie(started)
    async with httpx.AsyncClient() as browser:
        approved = await browser.get(started.headers["location"])
    redirect = approved.headers["location"]
    assert (await http.get(redirect)).status_code == 400
    # With it: installed once; the same state a second time is refused.
    cookie = {"Cookie": f"{STATE_COOKIE}={state}"}
    assert (await http.get(redirect, headers=cookie)).status_code == 200
    assert (await http.get(redirect, headers=cookie)).status_code == 401
    assert len(slack.calls_to("oauth.v2.access")) == 1


async def test_anonymous_visits_to_the_install_page_store_nothing(
    oauth_medialink: MediaLink,
) -> None:
    """/slack/install is open to anyone: each visit's state lives in its signature and the
    browser's cookie, not in the database, so visits cannot fill a table and turn real
    installs away (tests/workspaces/test_stores.py issues 20,000). Only an install Slack
    accepted writes its state down."""
    http = oauth_medialink.http
    for _ in range(300):
        visit = await http.get(INSTALL_PATH)
        assert visit.status_code == 302
    store = trail(oauth_medialink)
    async with store.engine.connect() as connection:
        rows = await connection.scalar(sa.select(sa.func.count()).select_from(oauth_states))
    assert rows == 0
    finished, _ = await install(oauth_medialink, FakeInstall(TEAM_A, ALICE))
    assert finished.status_code == 200, finished.text
    async with store.engine.connect() as connection:
        rows = await connection.scalar(sa.select(sa.func.count()).select_from(oauth_states))
    assert rows == 1
    assert oauth_medialink.slack.calls_to("oauth.v2.access")


async def test_a_code_slack_refuses_fails_the_install_and_is_not_logged(
    oauth_medialink: MediaLink,
) -> None:
    """Bolt warns with the refused code in its text; the suite's log check (the fake's
    codes are among the secrets it looks for) fails the test if it reaches the log."""
    slack = oauth_medialink.slack
    http = oauth_medialink.http
    finished, _ = await install(oauth_medialink, FakeInstall(TEAM_A, ALICE))
    assert finished.status_code == 200
    used_code = finished.url.params.get("code")
    assert used_code
    # A fresh state and its cookie, with the code already exchanged: Slack refuses it.
    slack.install_next(FakeInstall(TEAM_B, BOB))
    started = await http.get(INSTALL_PATH)
    state = _cookie(started)
    answer = await http.get(
        REDIRECT_PATH + f"?code={used_code}&state={state}",
        headers={"Cookie": f"{STATE_COOKIE}={state}"},
    )
    assert answer.status_code == 401
    assert used_code not in answer.text
    assert len(slack.calls_to("oauth.v2.access")) == 2


async def test_only_the_two_oauth_pages_skip_the_signature_and_they_are_bounded(
    oauth_medialink: MediaLink,
) -> None:
    http = oauth_medialink.http
    assert (await http.post(INSTALL_PATH, content=b"x")).status_code == 405
    assert (await http.post(REDIRECT_PATH, content=b"x")).status_code == 405
    assert (await http.get("/slack/events")).status_code == 405
    assert (await http.get("/slack/install/more")).status_code == 404
    assert (await http.get(REDIRECT_PATH + "?state=" + "x" * 5000)).status_code == 414
    with_body = await http.request("GET", INSTALL_PATH, content=b"body")
    assert with_body.status_code == 413
    assert oauth_medialink.slack.calls == []


async def test_single_workspace_mode_has_no_oauth_pages(medialink: MediaLink) -> None:
    assert (await medialink.http.get(INSTALL_PATH)).status_code == 404
    assert (await medialink.http.get(REDIRECT_PATH)).status_code == 404


def test_the_authorize_page_sits_beside_the_web_api() -> None:
    assert authorize_url("https://slack.com/api/") == "https://slack.com/oauth/v2/authorize"


def test_an_install_asks_for_the_manifests_bot_scopes() -> None:
    assert sorted(BOT_SCOPES) == sorted(manifest_bot_scopes())


# ------------------------------------------------------------------ isolation


async def test_two_workspaces_see_only_their_own(
    oauth_medialink: MediaLink, fake_wix: FakeWix
) -> None:
    slack = oauth_medialink.slack
    slack.add_user(ALICE, admin=True, team_id=TEAM_A)
    slack.add_user(BOB, owner=True, team_id=TEAM_B)
    _, a = await install(oauth_medialink, FakeInstall(TEAM_A, ALICE, team_name="Agency A"))
    _, b = await install(oauth_medialink, FakeInstall(TEAM_B, BOB, team_name="Brand B"))
    file_a = fake_wix.add_file(kind="image", display_name="alpha-poster.jpg")
    file_b = fake_wix.add_file(kind="image", display_name="bravo-trailer.jpg")
    assert "alpha-poster.jpg" in (await a.reply(wix_url(file_a), user=ANNA)).all_text()
    assert "bravo-trailer.jpg" in (await b.reply(wix_url(file_b), user=BEN)).all_text()
    # A guest of each workspace is refused there.
    slack.add_user("U0GUESTA1", guest=True, team_id=TEAM_A)
    slack.add_user("U0GUESTB2", guest=True, team_id=TEAM_B)
    for workspace, guest, file_id in ((a, "U0GUESTA1", file_a), (b, "U0GUESTB2", file_b)):
        refused, _ = await workspace.command(wix_url(file_id), user=guest)
        assert "not available to guests" in refused.text

    # Each Slack call went with the token of the workspace it was about.
    home_of = {ANNA: TEAM_A, "U0GUESTA1": TEAM_A, BEN: TEAM_B, "U0GUESTB2": TEAM_B}
    asked = slack.calls_to("users.info")
    assert {call.args["user"] for call in asked} == set(home_of)
    for call in asked:
        assert slack.installs[str(call.token)].team_id == home_of[call.args["user"]]

    # History: each sees its own link; an admin's history of a file of the other
    # workspace is empty.
    history_a = (await a.reply("history", user=ANNA)).all_text()
    history_b = (await b.reply("history", user=BEN)).all_text()
    assert "alpha-poster.jpg" in history_a
    assert "bravo-trailer.jpg" not in history_a
    assert "bravo-trailer.jpg" in history_b
    assert "alpha-poster.jpg" not in history_b
    by_file = (await a.reply(f"history {wix_url(file_b)}", user=ALICE)).all_text()
    assert "bravo-trailer.jpg" not in by_file

    # App Home: each workspace's Slack admin sees its workspace's activity and refusals.
    home_a = json.dumps(await a.open_home(ALICE))
    home_b = json.dumps(await b.open_home(BOB))
    assert "alpha-poster.jpg" in home_a
    assert "bravo-trailer.jpg" not in home_a
    assert "bravo-trailer.jpg" in home_b
    assert "alpha-poster.jpg" not in home_b
    assert "U0GUESTA1" in home_a
    assert "U0GUESTB2" not in home_a
    assert "U0GUESTB2" in home_b
    assert "U0GUESTA1" not in home_b

    # The record holds each row under its tenant; the export by tenant shows nothing else.
    rows_a = await trail(oauth_medialink).query(AuditQuery(tenant_id=TEAM_A, limit=100))
    rows_b = await trail(oauth_medialink).query(AuditQuery(tenant_id=TEAM_B, limit=100))
    assert rows_a
    assert rows_b
    assert {e.tenant_id for e in rows_a} == {TEAM_A}
    assert {e.tenant_id for e in rows_b} == {TEAM_B}
    assert not {e.file_id for e in rows_a} & {file_b}


async def test_an_org_wide_install_serves_the_orgs_workspaces_as_one_tenant(
    oauth_medialink: MediaLink, fake_wix: FakeWix
) -> None:
    org = FakeInstall(None, ALICE, enterprise_id=ORG, org_wide=True, member_team=ORG_WS)
    finished, workspace = await install(oauth_medialink, org)
    assert finished.status_code == 200, finished.text
    file_id = fake_wix.add_file(kind="image", display_name="org-poster.jpg")
    reply = await workspace.reply(wix_url(file_id), user=ANNA)
    assert "org-poster.jpg" in reply.all_text()
    rows = await trail(oauth_medialink).query(AuditQuery(tenant_id=ORG, limit=100))
    links = [e for e in rows if e.outcome == "ok" and e.file_id == file_id]
    assert links
    assert links[0].team_id == ORG_WS
    assert links[0].enterprise_id == ORG


# ------------------------------------------------------------------ token rotation


async def test_an_expired_token_is_refreshed_before_the_call(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    fake_slack.enable_oauth(CLIENT_ID, CLIENT_SECRET, rotation=True)
    medialink = await make_medialink(audit_running=True, **oauth_settings())
    fake_slack.oauth_redirect_url = medialink.url + REDIRECT_PATH
    # A token with a minute to live: within the refresh window (two hours) from the start.
    finished, workspace = await install(medialink, FakeInstall(TEAM_A, ALICE, lifetime=60))
    assert finished.status_code == 200, finished.text
    first_token = workspace.install.bot_token
    fake_slack.expire_tokens(workspace.install)  # Slack no longer takes it
    file_id = fake_wix.add_file(kind="image", display_name="rotated.jpg")
    reply = await workspace.reply(wix_url(file_id), user=ANNA)
    assert "rotated.jpg" in reply.all_text()
    assert workspace.install.refreshed == 1
    assert workspace.install.bot_token != first_token
    methods = [call.method for call in fake_slack.calls]
    refreshed_at = max(i for i, m in enumerate(methods) if m == "oauth.v2.access")
    after = fake_slack.calls[refreshed_at + 1 :]
    assert after
    assert {call.token for call in after} == {workspace.install.bot_token}
    assert not [call for call in fake_slack.calls if call.error == "token_expired"]


# ------------------------------------------------------------------ uninstall


async def test_uninstall_cleans_up_and_the_next_request_is_refused(
    oauth_medialink: MediaLink, fake_wix: FakeWix
) -> None:
    services = oauth_medialink.services
    assert services is not None
    assert services.workspaces is not None
    cleaned: list[str] = []

    async def probe(tenant: str) -> None:
        cleaned.append(tenant)

    services.workspaces.uninstall_hooks.register("probe", probe)
    _, a = await install(oauth_medialink, FakeInstall(TEAM_A, ALICE))
    _, b = await install(oauth_medialink, FakeInstall(TEAM_B, BOB))
    file_id = fake_wix.add_file(kind="image", display_name="kept.jpg")
    await a.reply(wix_url(file_id), user=ANNA)

    oauth_medialink.slack.uninstall(a.install)
    assert (await a.send_event(app_uninstalled_event(TEAM_A))).status_code == 200
    await oauth_medialink.settle()
    assert cleaned == [TEAM_A]
    store = services.workspaces.installations
    assert store is not None
    assert await store.async_find_installation(enterprise_id=None, team_id=TEAM_A) is None
    assert await store.async_find_installation(enterprise_id=None, team_id=TEAM_B) is not None

    wix_calls = len(fake_wix.requests)
    response, response_url = await a.command(wix_url(file_id), user=ANNA)
    assert response.status_code == 200
    [post] = await oauth_medialink.slack.wait_for_posts(response_url)
    assert "reinstall" in json.dumps(post.body).lower()
    assert len(fake_wix.requests) == wix_calls  # nothing reached Wix
    # The other workspace goes on.
    assert "kept.jpg" in (await b.reply(wix_url(file_id), user=BEN)).all_text()


async def test_uninstall_deletes_the_workspaces_sites_and_their_sealed_keys(
    oauth_medialink: MediaLink,
) -> None:
    """The sites hook is wired at start (not by the test): a workspace that uninstalls
    leaves no stored Wix credentials behind, and another workspace's sites stay."""
    services = oauth_medialink.services
    assert services is not None
    assert services.sites is not None
    assert services.workspaces is not None
    assert "sites" in services.workspaces.uninstall_hooks.names
    store = services.sites.store
    assert store is not None
    _, a = await install(oauth_medialink, FakeInstall(TEAM_A, ALICE))
    await install(oauth_medialink, FakeInstall(TEAM_B, BOB))
    for tenant, name in ((TEAM_A, "client-a"), (TEAM_B, "client-b")):
        await store.add_site(
            tenant=tenant,
            name=name,
            site_id="5a1f5c3e-0000-4000-8000-00000000000" + tenant[-1],
            kind=AuthKind.API_KEY,
            sealed="gAAAA-sealed-" + tenant,
            domains=(f"www.{name}.example",),
            by=None,
        )
        await store.set_channel_site(tenant=tenant, channel_id="C0GENERAL", name=name)
    before = (await store.snapshot()).version

    oauth_medialink.slack.uninstall(a.install)
    assert (await a.send_event(app_uninstalled_event(TEAM_A))).status_code == 200
    await oauth_medialink.settle()

    after = await store.snapshot()
    assert TEAM_A not in after.sites
    assert TEAM_A not in after.domains
    assert TEAM_A not in after.channels
    assert set(after.sites[TEAM_B]) == {"client-b"}
    assert after.domains[TEAM_B] == {"www.client-b.example": "client-b"}
    assert after.version > before  # other replicas reload


async def test_a_revoked_bot_token_removes_the_installation(oauth_medialink: MediaLink) -> None:
    services = oauth_medialink.services
    assert services is not None
    assert services.workspaces is not None
    store = services.workspaces.installations
    assert store is not None
    _, a = await install(oauth_medialink, FakeInstall(TEAM_A, ALICE))
    assert (await a.send_event(tokens_revoked_event(TEAM_A))).status_code == 200
    await oauth_medialink.settle()
    assert await store.async_find_installation(enterprise_id=None, team_id=TEAM_A) is None


async def test_an_unsigned_uninstall_is_refused(oauth_medialink: MediaLink) -> None:
    await install(oauth_medialink, FakeInstall(TEAM_A, ALICE))
    body = json.dumps(app_uninstalled_event(TEAM_A))
    response = await oauth_medialink.post(body, signed=False, content_type="application/json")
    assert response.status_code == 401
    services = oauth_medialink.services
    assert services is not None
    assert services.workspaces is not None
    store = services.workspaces.installations
    assert store is not None
    assert await store.async_find_installation(enterprise_id=None, team_id=TEAM_A) is not None


# ------------------------------------------------------------------ settings from App Home


async def click_edit_settings(workspace: Workspace, user: str) -> httpx.Response:
    """ "Edit settings" pressed in the Home tab (a block_actions from a view)."""
    slack = workspace.medialink.slack
    payload = {
        "type": "block_actions",
        "user": {"id": user, "team_id": workspace.team},
        "api_app_id": APP_ID,
        "token": "Shh_its_a_seekrit",
        "container": {"type": "view", "view_id": "V0HOME"},
        "trigger_id": slack.new_trigger_id(),
        "team": {"id": workspace.team},
        "enterprise": None,
        "is_enterprise_install": False,
        "view": {"id": "V0HOME", "type": "home", "blocks": []},
        "actions": [
            {
                "type": "button",
                "action_id": SETTINGS_EDIT_ACTION,
                "block_id": "home_settings",
                "action_ts": f"{time.time():.6f}",
            }
        ],
    }
    return await workspace.medialink.post(f"payload={quote(json.dumps(payload))}")


async def submit_settings(
    workspace: Workspace, view: Json, user: str, **changes: str
) -> httpx.Response:
    """Submit the settings modal with ``changes`` (a list as text, or a choice's value)."""
    values: dict[str, Json] = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        element = block["element"]
        name = block["block_id"].removeprefix("settings_")
        if element["type"] == "plain_text_input":
            text = changes.get(name, element.get("initial_value"))
            state: Json = {"type": "plain_text_input", "value": text}
        else:
            wanted = changes.get(name, element["initial_option"]["value"])
            [picked] = [o for o in element["options"] if o["value"] == wanted]
            state = {"type": "static_select", "selected_option": picked}
        values[block["block_id"]] = {element["action_id"]: state}
    payload = {
        "type": "view_submission",
        "team": {"id": workspace.team},
        "user": {"id": user, "team_id": workspace.team},
        "api_app_id": APP_ID,
        "token": "Shh_its_a_seekrit",
        "trigger_id": workspace.medialink.slack.new_trigger_id(),
        "view": {**view, "state": {"values": values}},
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return await workspace.medialink.post(f"payload={quote(json.dumps(payload))}")


async def test_an_admin_changes_the_workspaces_settings_from_app_home(
    oauth_medialink: MediaLink, make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    slack = oauth_medialink.slack
    slack.add_user(ALICE, admin=True, team_id=TEAM_A)
    _, a = await install(oauth_medialink, FakeInstall(TEAM_A, ALICE))
    _, b = await install(oauth_medialink, FakeInstall(TEAM_B, BOB))
    file_id = fake_wix.add_file(kind="image", display_name="settings.jpg")
    # Another replica on the same database, which has served A already.
    replica = Workspace(await make_medialink(audit_running=True, **oauth_settings()), a.install)
    assert "settings.jpg" in (await replica.reply(wix_url(file_id), user=ANNA)).all_text()
    services = replica.medialink.services
    assert services is not None
    assert services.workspaces is not None
    services.workspaces.policies.ttl = 0.2  # a short wait for the other replica's change

    # A Slack admin of the workspace is an admin: the Home tab offers the settings.
    home = json.dumps(await a.open_home(ALICE))
    assert "This workspace's settings" in home
    assert SETTINGS_EDIT_ACTION in home
    assert (await click_edit_settings(a, ALICE)).status_code == 200
    await slack.wait_for_calls("views.open")
    [modal] = [v for v in slack.views() if v.get("callback_id") == "medialink_settings"]

    # A bad ID is explained under its input, and nothing is saved.
    bad = await submit_settings(a, modal, ALICE, allowed_channels="general")
    assert bad.json()["response_action"] == "errors"
    assert "settings_allowed_channels" in bad.json()["errors"]

    saved = await submit_settings(a, modal, ALICE, allowed_channels="C0ONLY001", zip="admins")
    assert saved.status_code == 200
    assert saved.text == ""
    # In force in A at once (here) and on the other replica, not in B.
    refused, _ = await a.command(wix_url(file_id), user=ANNA)
    assert "cannot be used in this conversation" in refused.text
    await asyncio.sleep(0.3)  # the replica's cached entry ages past its ttl
    refused, _ = await replica.command(wix_url(file_id), user=ANNA)
    assert "cannot be used in this conversation" in refused.text
    assert "settings.jpg" in (await b.reply(wix_url(file_id), user=BEN)).all_text()
    # Recorded, for A only.
    rows = await trail(oauth_medialink).query(AuditQuery(tenant_id=TEAM_A, limit=100))
    [change] = [e for e in rows if e.entry == Entry.SETTINGS]
    assert change.user_id == ALICE
    assert change.reason == "changed: allowed_channels, zip"
    rows_b = await trail(oauth_medialink).query(AuditQuery(tenant_id=TEAM_B, limit=100))
    assert not [e for e in rows_b if e.entry == Entry.SETTINGS]


async def test_reinstalling_makes_nobody_an_admin_slacks_own_admins_are(
    oauth_medialink: MediaLink, fake_wix: FakeWix
) -> None:
    """Whoever may install apps can reinstall MediaLink; that made them its admin (private
    files, everyone's record, the settings). Now Slack's admins and owners are, with
    MEDIALINK_ADMINS and the workspace's own list; the installer is nobody special."""
    slack = oauth_medialink.slack
    mallory, sara, owen = "U0MALLORY", "U0SARA00A", "U0OWEN00A"
    slack.add_user(sara, admin=True, team_id=TEAM_A)
    slack.add_user(owen, primary_owner=True, team_id=TEAM_A)
    _, a = await install(oauth_medialink, FakeInstall(TEAM_A, ALICE))
    finished, _ = await install(oauth_medialink, FakeInstall(TEAM_A, mallory))
    assert finished.status_code == 200, finished.text
    file_id = fake_wix.add_file(kind="image", display_name="anna-only.jpg")
    assert "anna-only.jpg" in (await a.reply(wix_url(file_id), user=ANNA)).all_text()

    for installer in (mallory, ALICE):
        assert SETTINGS_EDIT_ACTION not in json.dumps(await a.open_home(installer))
        refused, _ = await a.command(f"history <@{ANNA}>", user=installer)  # in the ack
        others = refused.text
        assert "Only MediaLink's admins can see other people's links" in others
        assert "anna-only.jpg" not in others
    services = oauth_medialink.services
    assert services is not None
    assert services.workspaces is not None
    forged = await submit_settings(
        a, render_settings_modal(WorkspacePolicy()), mallory, allow_guests="true"
    )
    assert forged.json()["response_action"] == "errors"

    for admin in (sara, owen):
        assert SETTINGS_EDIT_ACTION in json.dumps(await a.open_home(admin))
        assert "anna-only.jpg" in (await a.reply(f"history <@{ANNA}>", user=admin)).all_text()
    # A cached person costs no Slack call before the ack.
    before = len(slack.calls_to("users.info"))
    assert "anna-only.jpg" in (await a.reply(f"history <@{ANNA}>", user=sara)).all_text()
    assert len(slack.calls_to("users.info")) == before


async def test_a_member_may_not_change_the_settings(oauth_medialink: MediaLink) -> None:
    slack = oauth_medialink.slack
    _, a = await install(oauth_medialink, FakeInstall(TEAM_A, ALICE))
    home = json.dumps(await a.open_home(ANNA))
    assert SETTINGS_EDIT_ACTION not in home
    assert (await click_edit_settings(a, ANNA)).status_code == 200
    [opened] = await slack.wait_for_calls("views.open")
    assert "Only MediaLink's admins" in json.dumps(opened.args["view"])
    # A hand-made submission is refused too, and nothing is stored.
    services = oauth_medialink.services
    assert services is not None
    assert services.workspaces is not None
    policies = services.workspaces.policies
    modal = render_settings_modal(WorkspacePolicy())
    forged = await submit_settings(a, modal, ANNA, allow_guests="true")
    assert forged.json()["response_action"] == "errors"
    policies.ttl = 0.0
    assert await policies.get(TEAM_A) is None


# ------------------------------------------------------------------ settings


def test_oauth_needs_all_three_settings_and_says_which_are_missing() -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(env_file=None, slack_client_id=CLIENT_ID, slack_signing_secret="s")
    message = str(raised.value)
    assert "SLACK_CLIENT_ID is set but SLACK_CLIENT_SECRET, SLACK_STATE_SECRET are not" in message
    assert CLIENT_ID not in message.replace("SLACK_CLIENT_ID", "")


def test_oauth_mode_refuses_a_bot_token_socket_mode_and_a_short_state_secret() -> None:
    with pytest.raises(SettingsError) as raised:
        load_settings(
            env_file=None,
            slack_client_id=CLIENT_ID,
            slack_client_secret=CLIENT_SECRET,
            slack_state_secret="short",
            slack_bot_token="xoxb-1",
            slack_app_token="xapp-1",
        )
    problems = raised.value.problems
    assert any("SLACK_STATE_SECRET is shorter" in p for p in problems)
    assert any("unset SLACK_BOT_TOKEN" in p for p in problems)
    assert any("unset SLACK_APP_TOKEN" in p for p in problems)
    assert "short" not in " ".join(problems).replace("shorter", "")


def test_oauth_mode_needs_no_bot_token() -> None:
    settings = load_settings(
        env_file=None,
        slack_client_id=CLIENT_ID,
        slack_client_secret=CLIENT_SECRET,
        slack_state_secret=STATE_SECRET,
        slack_signing_secret="secret",
    )
    assert settings.oauth_enabled
    assert settings.slack_problems() == {}
    assert not load_settings(env_file=None).oauth_enabled


async def test_check_asks_slack_about_the_app_credentials_not_a_token(
    fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    fake_slack.enable_oauth(CLIENT_ID, CLIENT_SECRET)
    good = medialink_settings(fake_slack, fake_wix, **oauth_settings())
    [result] = [r for r in await check_all(good) if r.setting == "SLACK_CLIENT_ID"]
    assert result.ok, result.message
    assert not [r for r in await check_all(good) if r.setting == "SLACK_BOT_TOKEN"]
    assert fake_slack.calls_to("auth.test") == []
    wrong = medialink_settings(fake_slack, fake_wix, **oauth_settings(slack_client_secret="nope"))
    [refused] = await start_up_probes(wrong)
    assert refused.outcome == "failed"
    assert "bad_client_secret" in refused.message
    assert "nope" not in refused.message


async def test_an_org_wide_uninstall_removes_the_orgs_installation(
    oauth_medialink: MediaLink, fake_wix: FakeWix
) -> None:
    org = FakeInstall(None, ALICE, enterprise_id=ORG, org_wide=True, member_team=ORG_WS)
    _, workspace = await install(oauth_medialink, org)
    services = oauth_medialink.services
    assert services is not None
    assert services.workspaces is not None
    store = services.workspaces.installations
    assert store is not None
    found = await store.async_find_installation(
        enterprise_id=ORG, team_id=None, is_enterprise_install=True
    )
    assert found is not None
    body = app_uninstalled_event(ORG_WS, enterprise_id=ORG, org_wide=True)
    assert (await workspace.send_event(body)).status_code == 200
    await oauth_medialink.settle()
    gone = await store.async_find_installation(
        enterprise_id=ORG, team_id=None, is_enterprise_install=True
    )
    assert gone is None
    rows = await trail(oauth_medialink).query(AuditQuery(tenant_id=ORG, limit=100))
    assert [e.reason for e in rows if e.entry == Entry.UNINSTALL] == ["app_uninstalled"]


async def test_a_request_naming_no_workspace_reads_and_changes_nothing(
    oauth_medialink: MediaLink, fake_wix: FakeWix
) -> None:
    """OAuth mode, a signed request that names no workspace (no team anywhere): it cannot
    be told apart from any tenant's, so it is served as none of them, never as all.
    (Bolt's authorization finds no installation for it first; tests/slack/test_tenancy.py
    checks MediaLink's own refusal behind it.)"""
    slack = oauth_medialink.slack
    slack.add_user(ALICE, admin=True, team_id=TEAM_A)
    _, a = await install(oauth_medialink, FakeInstall(TEAM_A, ALICE))
    file_id = fake_wix.add_file(kind="image", display_name="team-a-secret.jpg")
    assert "team-a-secret.jpg" in (await a.reply(wix_url(file_id), user=ANNA)).all_text()
    calls_before = len(slack.calls)

    home: Json = {
        "token": "XXYYZZ",
        "api_app_id": APP_ID,
        "event": {"type": "app_home_opened", "user": ALICE, "tab": "home"},
        "type": "event_callback",
        "event_id": f"Ev{time.monotonic_ns()}",
        "event_time": int(time.time()),
    }
    answered = await a.send_event(home)
    assert "team-a-secret" not in answered.text
    response_url = slack.new_response_url(channel="C0GENERAL", user=ALICE)
    command = urlencode(
        {
            "token": "gIkuvaNzQIHg97ATvDxqgjtO",
            "channel_id": "C0GENERAL",
            "user_id": ALICE,
            "command": "/medialink",
            "text": f"history {wix_url(file_id)}",
            "api_app_id": APP_ID,
            "response_url": response_url,
            "trigger_id": slack.new_trigger_id(),
        }
    )
    answered = await oauth_medialink.post(command)
    assert answered.status_code == 200
    assert "team-a-secret" not in answered.text
    await asyncio.sleep(0.5)  # whatever would follow the ack has had its turn
    assert slack.published_views(ALICE) == []
    # At most Bolt's own "reinstall" notice: it finds no installation for no workspace.
    assert all("team-a-secret" not in json.dumps(post.body) for post in slack.posts(response_url))
    assert len(slack.calls) == calls_before  # not one call, with any workspace's token
