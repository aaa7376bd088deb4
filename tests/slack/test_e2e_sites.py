"""Several Wix sites, end to end: signed Slack requests to the app served on loopback,
the fake Slack (views.open, views.update) and one fake Wix hosting several sites."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from bot.audit import AuditQuery, Entry, Outcome
from bot.sites.registry import REFRESH_EVERY
from tests.fakes.slack import TEAM_ID, FakeSlack, Json, Message
from tests.fakes.wix import GENERATE_FILE_DOWNLOAD_URL, FakeWix
from tests.log_secrets import SITE_KEYS
from tests.slack.conftest import (
    USER_ID,
    MakeMediaLink,
    MediaLink,
    interaction_body,
    view_submission_payload,
    wix_url,
)
from tests.slack.sites_form import sites_form_values

ADMIN_ID = "U0ADMIN01"


async def start(make_medialink: MakeMediaLink, **settings: Any) -> MediaLink:
    return await make_medialink(
        medialink_admins=ADMIN_ID, medialink_encryption_key=SITE_KEYS[0], **settings
    )


async def open_sites_modal(medialink: MediaLink) -> Json:
    before = {view["id"] for view in medialink.slack.views()}
    sent = await medialink.command("sites", user=ADMIN_ID)
    assert sent.response.status_code == 200
    await medialink.settle()
    [view] = [view for view in medialink.slack.views() if view["id"] not in before]
    assert view["callback_id"] == "medialink_sites"
    return view


async def submit(medialink: MediaLink, view: Json, action: str, **fields: str) -> str:
    """Fill the sites modal and submit it; the status line of the view it became."""
    values = sites_form_values(action, **fields)
    updates = len(medialink.slack.view_updates)
    payload = view_submission_payload(view, values, response_urls=[], user=ADMIN_ID)
    response = await medialink.post(interaction_body(payload))
    assert response.status_code == 200
    answer = response.json() if response.content else {}
    if answer.get("response_action") == "errors":
        return "errors: " + json.dumps(answer["errors"])
    assert answer["response_action"] == "update"
    await medialink.settle()
    assert len(medialink.slack.view_updates) == updates + 1
    updated = medialink.slack.view_updates[-1]
    return status_of(updated)


def status_of(view: Json) -> str:
    for block in view["blocks"]:
        if block.get("block_id") == "sites_status":
            return str(block["text"]["text"])
    return ""


async def connect(
    medialink: MediaLink, name: str, site_id: str, key: str, *, domains: str = ""
) -> str:
    view = await open_sites_modal(medialink)
    return await submit(
        medialink, view, "add", name=name, site_id=site_id, api_key=key, domains=domains
    )


async def links_reply(medialink: MediaLink, text: str, *, within: float = 5.0) -> Message:
    sent = await medialink.command(text)
    return await medialink.reply(sent, within=within)


async def test_an_admin_connects_a_site_and_its_files_get_links(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await start(make_medialink, audit_running=True)
    site_id, key, _ = fake_wix.add_site()
    file_id = fake_wix.add_site_file(site_id, kind="document")

    status = await connect(medialink, "acme", site_id, key, domains="www.client.com")
    assert status.startswith("✅ Connected *acme*"), status
    listed = medialink.slack.view_updates[-1]["blocks"]
    assert any("*acme*" in str(block.get("text", {}).get("text", "")) for block in listed)

    message = await links_reply(medialink, f"{file_id} site=acme")
    assert "From Wix site `acme`." in message.all_text()
    assert message.button_urls()
    generated = [
        r
        for r in fake_wix.requests_to(GENERATE_FILE_DOWNLOAD_URL)
        if r.site == site_id and r.status == 200
    ]
    assert len(generated) == 1  # the link, made on the site itself

    # Recorded, without the key; stored encrypted.
    assert medialink.services is not None
    events = await medialink.services.audit.query(AuditQuery(outcome=Outcome.SITE_ADDED))
    [added] = events
    assert added.entry == Entry.SITES
    assert added.user_id == ADMIN_ID
    assert "acme" in (added.reason or "")
    assert site_id in (added.reason or "")
    assert key not in (added.reason or "")
    engine = create_async_engine(medialink.settings.database_url.get_secret_value())
    async with engine.connect() as connection:
        stored = (await connection.execute(sa.text("SELECT credentials FROM wix_sites"))).scalar()
    await engine.dispose()
    assert isinstance(stored, str)
    assert key not in stored


async def test_a_wrong_key_and_a_wrong_site_id_are_told_apart(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await start(make_medialink)
    site_id, key, _ = fake_wix.add_site()
    other_site, _, _ = fake_wix.add_site()
    read_site, read_key, _ = fake_wix.add_site(permissions="read")

    wrong_site = await connect(medialink, "acme", other_site, key)
    no_permission = await connect(medialink, "acme", read_site, read_key)
    unknown_key = await connect(medialink, "acme", site_id, "IST.not-a-key-wix-knows")
    assert "Check the site ID." in wrong_site, wrong_site
    assert "'Manage Media Manager' permission" in no_permission, no_permission
    assert "Check the API key." in no_permission
    assert "refused this API key" in unknown_key, unknown_key
    assert len({wrong_site, no_permission, unknown_key}) == 3
    assert all(status.startswith("⚠️ Not saved.") for status in (wrong_site, unknown_key))
    assert medialink.services is not None
    assert medialink.services.sites is not None
    view = await medialink.services.sites.view(TEAM_ID)
    assert set(view.sites) <= {"default"}

    # Bad shapes never reach Wix: each is named next to its field.
    wix_calls = len(fake_wix.requests)
    modal = await open_sites_modal(medialink)
    bad = await submit(medialink, modal, "add", name="Bad Name", site_id=site_id, api_key=key)
    assert bad.startswith("errors: ")
    assert "sites_name" in bad
    bad = await submit(medialink, modal, "add", name="acme", site_id="nope", api_key=key)
    assert "sites_site_id" in bad
    assert "not a site ID" in bad
    assert len(fake_wix.requests) == wix_calls


async def test_someone_not_an_admin_is_told_who_to_ask(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack
) -> None:
    medialink = await start(make_medialink)
    sent = await medialink.command("sites", user=USER_ID)
    answer = sent.response.json()
    assert "Only MediaLink's admins" in answer["text"]
    assert f"<@{ADMIN_ID}>" in json.dumps(answer)
    await medialink.settle()
    assert [call.method for call in fake_slack.calls if call.method == "views.open"] == []


async def test_a_custom_domain_url_goes_to_its_site(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await start(make_medialink)
    acme, acme_key, _ = fake_wix.add_site()
    beta, beta_key, _ = fake_wix.add_site()
    acme_file = fake_wix.add_site_file(acme, kind="document")
    beta_file = fake_wix.add_site_file(beta, kind="document")
    assert (await connect(medialink, "acme", acme, acme_key, domains="www.acme.com")).startswith(
        "✅"
    )
    assert (await connect(medialink, "beta", beta, beta_key, domains="beta.shop")).startswith("✅")
    fake_wix.reset()

    message = await links_reply(
        medialink,
        f"https://www.acme.com/_files/ugd/{acme_file} https://beta.shop/_files/ugd/{beta_file}",
    )
    assert "From Wix sites `acme`, `beta`." in message.all_text()
    assert len(message.button_urls()) == 2
    # Each file was asked of its own site only: no search anywhere else.
    by_site = {r.site for r in fake_wix.requests_to(GENERATE_FILE_DOWNLOAD_URL)}
    assert by_site == {acme, beta}
    assert not fake_wix.requests_for_site(FakeWix.SITE_ID)


async def test_a_bare_file_id_is_found_on_the_second_site(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await start(make_medialink)
    acme, acme_key, _ = fake_wix.add_site()
    file_id = fake_wix.add_site_file(acme, kind="image")
    assert (await connect(medialink, "acme", acme, acme_key)).startswith("✅")

    message = await links_reply(medialink, file_id)
    text = message.all_text()
    assert "1 file was not on `default` and found on `acme`." in text, text
    assert len(message.button_urls()) == 1


async def test_one_sites_exhausted_rate_limit_does_not_hold_another_back(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    # Two Wix calls an hour per site: one file's descriptor and link fill a window.
    medialink = await start(make_medialink, wix_rate_limit=2, wix_rate_period=3600)
    acme, acme_key, _ = fake_wix.add_site()
    acme_file = fake_wix.add_site_file(acme, kind="image")
    env_file = fake_wix.add_file(kind="image")
    assert (await connect(medialink, "acme", acme, acme_key)).startswith("✅")

    first = await links_reply(medialink, wix_url(env_file))
    assert "From Wix site `default`." in first.all_text()
    assert medialink.services is not None
    assert medialink.services.links.client.limiter.in_window == 2  # the env site's window is full

    # The other site has a window of its own, so its links come at once.
    second = await links_reply(medialink, f"{acme_file} site=acme")
    assert "From Wix site `acme`." in second.all_text()
    assert len(second.button_urls()) == 1


async def test_a_site_connected_on_one_replica_is_used_by_another_without_restart(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    one = await start(make_medialink)
    two = await start(make_medialink)  # the same database, its own process state
    acme, acme_key, _ = fake_wix.add_site()
    file_id = fake_wix.add_site_file(acme, kind="image")
    refused = await links_reply(two, f"{file_id} site=acme")
    assert "No site named acme is connected here" in refused.all_text()

    assert (await connect(one, "acme", acme, acme_key)).startswith("✅")
    deadline = time.monotonic() + 10 * REFRESH_EVERY + 5
    while True:
        message = await links_reply(two, f"{file_id} site=acme")
        if "From Wix site `acme`." in message.all_text():
            break
        assert time.monotonic() < deadline, "the second replica never saw the new site"
        await asyncio.sleep(REFRESH_EVERY / 4)
    assert two.services is not None
    assert two.services.sites is not None
    # Bounded cost: the second replica asked the database about once a refresh period.
    assert two.services.sites.reloads <= two.services.sites.version_checks


async def test_a_channel_default_and_removal(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await start(make_medialink)
    acme, acme_key, _ = fake_wix.add_site()
    file_id = fake_wix.add_site_file(acme, kind="image")
    assert (await connect(medialink, "acme", acme, acme_key)).startswith("✅")
    view = await open_sites_modal(medialink)
    status = await submit(medialink, view, "channel", site="acme", channel="C0GENERAL")
    assert "default site in <#C0GENERAL>" in status
    fake_wix.reset()
    message = await links_reply(medialink, file_id)  # CHANNEL_ID is C0GENERAL
    assert "From Wix site `acme`." in message.all_text()
    assert "not on" not in message.all_text()
    assert not fake_wix.requests_for_site(FakeWix.SITE_ID)

    view = await open_sites_modal(medialink)
    assert "Removed *acme*" in await submit(medialink, view, "remove", site="acme")
    message = await links_reply(medialink, f"{file_id} site=acme")
    assert "No site named acme" in message.all_text()
