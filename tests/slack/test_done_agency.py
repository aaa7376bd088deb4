"""Issue 11's "done when", as one story, end to end over signed requests.

An agency admin connects three client sites from Slack (the ``/medialink sites`` modal,
each checked against one fake Wix hosting three site IDs with their own keys and
files); the agency's people paste links from any of them (custom-domain URLs, wixstatic
URLs with ``site=`` or the channel's default, a bare file ID found on the second site)
and get the right file's links, from the right site with that site's key, each reply
naming its site; and a second workspace installed through OAuth sees none of it: not
in its sites modal, its history, its App Home, its routing of custom domains, nor its
audit export.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import dataclass

import pytest

from bot.audit.store import SqlAuditTrail
from bot.workspaces.oauth import REDIRECT_PATH
from tests.fakes.slack import FakeInstall, FakeSlack, Json, block_suggestion_payload
from tests.fakes.wix import GENERATE_FILE_DOWNLOAD_URL, FakeWix, RecordedRequest
from tests.log_secrets import SITE_KEYS
from tests.slack.conftest import (
    REPO_ROOT,
    MakeMediaLink,
    interaction_body,
    link_buttons,
    view_submission_payload,
    wix_url,
)
from tests.slack.sites_form import sites_form_values
from tests.slack.test_e2e_sites import ADMIN_ID, connect, links_reply, status_of
from tests.slack.test_e2e_sites import start as start_with_sites
from tests.slack.test_e2e_workspaces import (
    ALICE,
    ANNA,
    BEN,
    BOB,
    CLIENT_ID,
    CLIENT_SECRET,
    TEAM_A,
    TEAM_B,
    Workspace,
    install,
    oauth_settings,
)

CLIENT_CHANNEL = "C0CLIENT2"  # the agency's channel for its second client


@dataclass(frozen=True)
class ClientSite:
    """One client's Wix site as the fake hosts it, and as the agency names it."""

    name: str
    site_id: str
    key: str
    domain: str


async def sites_modal(workspace: Workspace, admin: str) -> Json:
    """``/medialink sites`` from ``admin``: the modal views.open received."""
    slack = workspace.medialink.slack
    before = {view["id"] for view in slack.views()}
    response, _ = await workspace.command("sites", user=admin)
    assert response.status_code == 200, response.text
    assert response.text == ""  # acked; the modal opens
    await workspace.medialink.settle()
    [view] = [view for view in slack.views() if view["id"] not in before]
    assert view["callback_id"] == "medialink_sites"
    return view


async def submit_sites(
    workspace: Workspace, admin: str, action: str, **fields: str
) -> tuple[str, Json]:
    """Open the modal, fill it in as ``admin`` of ``workspace`` and submit it: the status
    line of the view it became, and that view."""
    view = await sites_modal(workspace, admin)
    values = sites_form_values(action, **fields)
    payload = view_submission_payload(view, values, response_urls=[], user=admin)
    payload["team"] = {"id": workspace.team, "domain": workspace.team.lower()}
    payload["user"]["team_id"] = workspace.team
    slack = workspace.medialink.slack
    updates = len(slack.view_updates)
    response = await workspace.medialink.post(interaction_body(payload))
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer.get("response_action") == "update", answer
    await workspace.medialink.settle()
    assert len(slack.view_updates) == updates + 1
    updated = slack.view_updates[-1]
    return status_of(updated), updated


def generated(wix: FakeWix, since: int) -> list[RecordedRequest]:
    """The generate-file-download-url calls Wix answered since request number ``since``."""
    return [
        request
        for request in wix.requests[since:]
        if request.path.endswith(GENERATE_FILE_DOWNLOAD_URL) and request.status == 200
    ]


def file_of(request: RecordedRequest) -> object:
    return request.json.get("fileId") if isinstance(request.json, dict) else None


def assert_made_on(requests: list[RecordedRequest], site: ClientSite, file_id: str) -> None:
    """Each call made ``file_id``'s link on ``site``, with ``site``'s own key."""
    assert requests, f"no link was made for {file_id}"
    for request in requests:
        assert request.site == site.site_id
        assert request.headers.get("wix-site-id") == site.site_id
        assert request.headers.get("authorization") == site.key
        assert file_of(request) == file_id


def issued_for(wix: FakeWix, file_id: str) -> set[str]:
    return {link.url for link in wix.issued if link.file_id == file_id}


async def audit_export(database_url: str, team: str) -> Json:
    """``medialink audit --team TEAM --json``, run as an operator runs it."""
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "WIX_", "MEDIALINK_"))
    }
    env["DATABASE_URL"] = database_url
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "audit",
        "--team",
        team,
        "--json",
        env=env,
        cwd=REPO_ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    exported: Json = json.loads(out)
    return exported


async def test_an_agency_connects_three_client_sites_and_another_workspace_sees_none(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    fake_slack.enable_oauth(CLIENT_ID, CLIENT_SECRET)
    # The environment's own site serves B only: the agency's links come from its clients'.
    medialink = await make_medialink(
        audit_running=True,
        medialink_encryption_key=SITE_KEYS[0],
        **oauth_settings(medialink_allowed_teams=TEAM_B),
    )
    fake_slack.oauth_redirect_url = medialink.url + REDIRECT_PATH
    # The agency's admin is an admin of its Slack workspace (who installs does not count).
    fake_slack.add_user(ALICE, admin=True, team_id=TEAM_A)
    fake_slack.add_user(BOB, admin=True, team_id=TEAM_B)
    finished, agency = await install(medialink, FakeInstall(TEAM_A, ALICE, team_name="Agency"))
    assert finished.status_code == 200, finished.text
    finished, brand = await install(medialink, FakeInstall(TEAM_B, BOB, team_name="Brand"))
    assert finished.status_code == 200, finished.text

    # Three client sites on one Wix, each with its own key and files.
    clients: list[ClientSite] = []
    for name, domain in (
        ("client-one", "www.northwind-foods.com"),
        ("client-two", "shop.client-two.co.uk"),
        ("client-three", "client-three.org"),
    ):
        site_id, key, _ = fake_wix.add_site()
        clients.append(ClientSite(name, site_id, key, domain))
    one, two, three = clients
    brochure = fake_wix.add_site_file(one.site_id, kind="document", display_name="one-brochure.pdf")
    logo = fake_wix.add_site_file(one.site_id, kind="image", display_name="one-logo.png")
    menu = fake_wix.add_site_file(two.site_id, kind="document", display_name="two-menu.pdf")
    banner = fake_wix.add_site_file(two.site_id, kind="image", display_name="two-banner.jpg")
    teaser = fake_wix.add_site_file(two.site_id, kind="image", display_name="two-teaser.jpg")
    reel = fake_wix.add_site_file(three.site_id, kind="document", display_name="three-reel.pdf")
    poster = fake_wix.add_site_file(three.site_id, kind="image", display_name="three-poster.jpg")
    agency_names = {
        "one-brochure.pdf",
        "one-logo.png",
        "two-menu.pdf",
        "two-banner.jpg",
        "two-teaser.jpg",
        "three-reel.pdf",
        "three-poster.jpg",
    }
    agency_files = {brochure, logo, menu, banner, teaser, reel, poster}
    agency_sites = {site.site_id for site in clients}

    # ---- The agency's admin (its installer) connects the three sites from Slack.
    for site in clients:
        status, updated = await submit_sites(
            agency,
            ALICE,
            "add",
            name=site.name,
            site_id=site.site_id,
            api_key=site.key,
            domains=site.domain,
        )
        assert status.startswith(f"✅ Connected *{site.name}*"), status
    listed = json.dumps(updated)
    assert all(f"*{site.name}*" in listed for site in clients)
    status, _ = await submit_sites(agency, ALICE, "channel", site=two.name, channel=CLIENT_CHANNEL)
    assert f"default site in <#{CLIENT_CHANNEL}>" in status
    # Each connection was checked with Wix on that site, with that site's key.
    for site in clients:
        assert any(r.headers.get("authorization") == site.key for r in fake_wix.requests)
    checked = {r.site for r in fake_wix.requests if r.headers.get("authorization") == three.key}
    assert checked == {three.site_id}

    # ---- A custom-domain URL from each client names its site, in one message.
    start = len(fake_wix.requests)
    reply = await agency.reply(
        f"https://{one.domain}/_files/ugd/{brochure} "
        f"https://{two.domain}/_files/ugd/{menu} "
        f"https://{three.domain}/_files/ugd/{reel}",
        user=ANNA,
    )
    text = reply.all_text()
    assert "From Wix sites `client-one`, `client-two`, `client-three`." in text, text
    assert "not on" not in text  # each found where its domain said, no search elsewhere
    calls = generated(fake_wix, start)
    for site, file_id in ((one, brochure), (two, menu), (three, reel)):
        assert_made_on([r for r in calls if file_of(r) == file_id], site, file_id)
    assert {r.site for r in fake_wix.requests[start:]} == agency_sites
    assert set(reply.button_urls()) == (
        issued_for(fake_wix, brochure) | issued_for(fake_wix, menu) | issued_for(fake_wix, reel)
    )
    assert {"one-brochure.pdf", "two-menu.pdf", "three-reel.pdf"} <= set(text.split("*"))

    # ---- A wixstatic URL with site=: that site, nothing asked of the others.
    start = len(fake_wix.requests)
    reply = await agency.reply(f"{wix_url(poster)} site={three.name}", user=ANNA)
    assert "From Wix site `client-three`." in reply.all_text()
    assert "three-poster.jpg" in reply.all_text()
    assert_made_on(generated(fake_wix, start), three, poster)
    assert {r.site for r in fake_wix.requests[start:]} == {three.site_id}
    assert set(reply.button_urls()) == issued_for(fake_wix, poster)

    # ---- A wixstatic URL in the second client's channel: its default site.
    start = len(fake_wix.requests)
    response, response_url = await agency.command(
        wix_url(banner), user=ANNA, channel=CLIENT_CHANNEL
    )
    assert response.status_code == 200
    [post] = await medialink.slack.wait_for_posts(response_url)
    assert post.message_id is not None
    reply = medialink.slack.message(post.message_id)
    assert "From Wix site `client-two`." in reply.all_text()
    assert "not on" not in reply.all_text()
    assert_made_on(generated(fake_wix, start), two, banner)
    assert {r.site for r in fake_wix.requests[start:]} == {two.site_id}

    # ---- A bare file ID elsewhere: not on the first site (the workspace's default),
    # found on the second by looking there too.
    start = len(fake_wix.requests)
    reply = await agency.reply(teaser, user=ANNA)
    text = reply.all_text()
    assert "1 file was not on `client-one` and found on `client-two`." in text, text
    assert "two-teaser.jpg" in text
    assert_made_on(generated(fake_wix, start), two, teaser)
    assert set(reply.button_urls()) == issued_for(fake_wix, teaser)
    assert [button["url"] for button in link_buttons(reply)]
    # A wixstatic URL with no option and no channel default: the first site.
    start = len(fake_wix.requests)
    reply = await agency.reply(wix_url(logo), user=ANNA)
    assert "From Wix site `client-one`." in reply.all_text()
    assert_made_on(generated(fake_wix, start), one, logo)

    # ---- The second workspace sees none of it.
    # Its admin's sites modal lists only what B may use (the environment's site).
    b_modal = json.dumps(await sites_modal(brand, BOB))
    for site in clients:
        assert site.name not in b_modal
        assert site.site_id not in b_modal
        assert site.domain not in b_modal
    assert "*default*" in b_modal

    # B's own site may use the same custom domain: in B it means B's site, never the
    # agency's, and none of the agency's files is found anywhere from B.
    brand_site, brand_key, _ = fake_wix.add_site()
    status, _ = await submit_sites(
        brand,
        BOB,
        "add",
        name="brand-shop",
        site_id=brand_site,
        api_key=brand_key,
        domains=one.domain,
    )
    assert status.startswith("✅ Connected *brand-shop*"), status
    start = len(fake_wix.requests)
    refused = await brand.reply(f"{wix_url(poster)} site={three.name}", user=BEN)
    assert "No site named client-three is connected here" in refused.all_text()
    reply = await brand.reply(f"https://{one.domain}/_files/ugd/{brochure} {teaser}", user=BEN)
    text = reply.all_text()
    assert "`brand-shop`" in text, text
    assert not agency_names & set(text.split("*")), text
    assert "one-brochure.pdf" not in text
    assert "two-teaser.jpg" not in text
    assert link_buttons(reply) == []
    asked_brochure = [r for r in fake_wix.requests[start:] if brochure in json.dumps(r.json)]
    assert asked_brochure
    assert {r.site for r in asked_brochure} <= {brand_site, FakeWix.SITE_ID}
    assert brand_site in {r.site for r in asked_brochure}  # the domain named B's site
    assert not [r for r in fake_wix.requests[start:] if r.site in agency_sites]
    agency_keys = {site.key for site in clients}
    assert not [
        r for r in fake_wix.requests[start:] if r.headers.get("authorization") in agency_keys
    ]
    assert not [r for r in generated(fake_wix, start) if file_of(r) in agency_files]
    # And the agency's own routing is unchanged by B's use of the domain.
    start = len(fake_wix.requests)
    reply = await agency.reply(f"https://{one.domain}/_files/ugd/{brochure}", user=ANNA)
    assert "From Wix site `client-one`." in reply.all_text()
    assert_made_on(generated(fake_wix, start), one, brochure)

    # Its history and its App Home show none of the agency's links.
    history = (await brand.reply("history", user=BEN)).all_text()
    home = json.dumps(await brand.open_home(BOB))
    for name in agency_names:
        assert name not in history
        assert name not in home
    for file_id in agency_files:
        assert file_id not in history
        assert file_id not in home
    # (They are the agency's: its own history shows them.)
    agency_history = (await agency.reply("history", user=ANNA)).all_text()
    assert "two-teaser.jpg" in agency_history

    # Its audit export holds nothing of the agency's: no file, site, site ID or person.
    assert medialink.services is not None
    trail = medialink.services.audit
    assert isinstance(trail, SqlAuditTrail)
    assert await trail.flush(10.0)
    database_url = medialink.settings.database_url.get_secret_value()
    exported_b = await audit_export(database_url, TEAM_B)
    exported_a = await audit_export(database_url, TEAM_A)
    b_text = json.dumps(exported_b)
    assert exported_b["events"]
    assert {event["team_id"] for event in exported_b["events"]} == {TEAM_B}
    # (Ben typed `site=client-three` himself: his refusal quotes it.)
    for needle in (*agency_names, *agency_sites, one.name, two.name):
        assert needle not in b_text
    # The agency's file IDs Ben pasted himself are in B's record as B's own requests,
    # each not found (on B's own site), none with its name.
    asked = [e for e in exported_b["events"] if e["file_id"] in agency_files]
    assert {e["file_id"] for e in asked} == {brochure, teaser}
    assert {e["outcome"] for e in asked} == {"NOT_FOUND"}
    assert ALICE not in b_text
    assert ANNA not in b_text
    # The agency's own export has its links and its site changes (never a key).
    a_text = json.dumps(exported_a)
    assert {brochure, menu, reel, poster, banner, teaser, logo} <= {
        event["file_id"] for event in exported_a["events"]
    }
    assert all(site.site_id in a_text for site in clients)
    assert not [site.key for site in clients if site.key in a_text + b_text]


# ------------------------------------------------------------------ the environment's site


SECRET_NAME = "agency-secret-pitch.jpg"


@pytest.mark.parametrize("surface", ["find", "picker", "unfurl"])
async def test_a_workspace_not_allowed_the_environments_site_finds_nothing_on_it(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, fake_wix: FakeWix, surface: str
) -> None:
    """The agency runs MediaLink with its own site in the environment (for itself only);
    another workspace that installs it must not search, pick or unfurl that site's files."""
    fake_slack.enable_oauth(CLIENT_ID, CLIENT_SECRET)
    medialink = await make_medialink(
        audit_running=True, medialink_unfurl=True, **oauth_settings(medialink_allowed_teams=TEAM_A)
    )
    fake_slack.oauth_redirect_url = medialink.url + REDIRECT_PATH
    _, agency = await install(medialink, FakeInstall(TEAM_A, ALICE))
    _, brand = await install(medialink, FakeInstall(TEAM_B, BOB))
    file_id = fake_wix.add_file(kind="image", display_name=SECRET_NAME)
    # The agency itself finds it (the site is its own).
    assert SECRET_NAME in (await agency.reply("find secret pitch", user=ANNA)).all_text()
    start = len(fake_wix.requests)

    if surface == "find":
        shown = (await brand.reply("find secret pitch", user=BEN)).all_text()
    elif surface == "picker":
        payload = block_suggestion_payload(
            action_id="picked_files",
            block_id="picked",
            value="secret pitch",
            user={"id": BEN, "username": "ben", "name": "ben", "team_id": TEAM_B},
        )
        payload["team"] = {"id": TEAM_B, "domain": TEAM_B.lower()}
        response = await medialink.post(interaction_body(payload))
        assert response.status_code == 200
        shown = response.text
    else:
        event = fake_slack.link_shared_event(
            [wix_url(file_id)], user=BEN, channel="C0GENERAL", team_id=TEAM_B
        )
        response = await medialink.post(json.dumps(event), content_type="application/json")
        assert response.status_code == 200
        await medialink.settle()
        shown = json.dumps([made.unfurls for made in fake_slack.unfurls()])
    await medialink.settle()
    assert SECRET_NAME not in shown
    assert file_id not in shown
    assert not [r for r in fake_wix.requests[start:] if r.site == FakeWix.SITE_ID]


async def test_a_site_whose_key_cannot_be_read_is_not_blamed_on_wix(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    """A replica started without MEDIALINK_ENCRYPTION_KEY (or with the wrong one) cannot
    open a connected site's key: trying again will not help, and the person is told whom
    to ask rather than to retry."""
    one = await start_with_sites(make_medialink)
    site_id, key, _ = fake_wix.add_site()
    file_id = fake_wix.add_site_file(site_id, kind="image")
    assert (await connect(one, "acme", site_id, key)).startswith("✅")
    two = await make_medialink(medialink_admins=ADMIN_ID)  # the same database, no key list
    asked = len(fake_wix.requests)
    text = (await links_reply(two, f"{file_id} site=acme")).all_text()
    assert "Try again in a moment" not in text, text
    assert "whoever runs MediaLink" in text, text
    assert not [r for r in fake_wix.requests[asked:] if r.site == site_id]
