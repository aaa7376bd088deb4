"""Every Wix call through the workspace's own sites, end to end: ``find`` (one site, a
named one, or all at once), the form's type-ahead, unfurls, a reply's buttons
(Regenerate, zip), each making links on the site the file was found on; a workspace with
no site it may use reaches none; an uninstall deletes the workspace's sites."""

from __future__ import annotations

import json
from typing import Any

from bot.sites.model import AuthKind
from bot.slack.button_state import decode_state, encode_state
from bot.slack.render import ACTION_REGENERATE, ACTION_ZIP, PICKER_ACTION, PICKER_BLOCK
from tests.fakes.slack import (
    TEAM_ID,
    FakeInstall,
    FakeSlack,
    Json,
    Message,
    app_uninstalled_event,
    block_suggestion_payload,
)
from tests.fakes.wix import (
    GENERATE_FILE_DOWNLOAD_URL,
    GENERATE_FILES_DOWNLOAD_URL,
    GENERATE_VIDEO_STREAM_URL,
    SEARCH_FILES,
    FakeWix,
)
from tests.log_secrets import SITE_KEYS
from tests.slack.conftest import (
    USER_ID,
    MakeMediaLink,
    MediaLink,
    generate_bodies,
    interaction_body,
    wix_url,
)
from tests.slack.test_e2e_find import find
from tests.slack.test_e2e_sites import connect, open_sites_modal, start, submit
from tests.slack.test_e2e_unfurls import click_unfurl, unfurl_button, unfurled
from tests.slack.test_e2e_workspaces import (
    ALICE,
    ANNA,
    BEN,
    BOB,
    CLIENT_ID,
    CLIENT_SECRET,
    TEAM_A,
    TEAM_B,
    install,
    oauth_settings,
)

ENV = FakeWix.SITE_ID


def sites_asked(wix: FakeWix, path: str) -> list[str | None]:
    return [r.site for r in wix.requests_to(path)]


async def two_sites(make_medialink: MakeMediaLink, fake_wix: FakeWix, **settings: Any) -> Any:
    """MediaLink with the environment's site and ``acme`` connected; (app, acme's ID)."""
    medialink = await start(make_medialink, **settings)
    acme, acme_key, _ = fake_wix.add_site()
    assert (await connect(medialink, "acme", acme, acme_key)).startswith("✅")
    fake_wix.reset()
    return medialink, acme


# ------------------------------------------------------------------ find


async def test_find_with_several_sites_searches_each_and_links_where_it_was_found(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink, acme = await two_sites(make_medialink, fake_wix)
    fake_wix.add_file(kind="document", display_name="launch brief.pdf")
    on_acme = fake_wix.add_site_file(acme, kind="video", display_name="launch video.mp4")

    _, results = await find(medialink, "launch")
    asked = sites_asked(fake_wix, SEARCH_FILES)
    assert len(asked) == 2
    assert set(asked) == {ENV, acme}  # each site once
    text = results.all_text()
    assert "on 2 sites" in text
    assert "launch video.mp4" in text
    assert "on `acme`" in text
    assert "on `default`" in text

    # "Get link" on acme's file: made on acme alone, not looked for on the environment's.
    index = result_index(results, "launch video.mp4")
    fake_wix.reset()
    sent = await medialink.click(results, f"medialink_find_get_{index}")
    reply = await medialink.reply(sent)
    assert "From Wix site `acme`." in reply.all_text()
    assert sites_asked(fake_wix, GENERATE_FILE_DOWNLOAD_URL) == [acme]
    assert [body["fileId"] for body in generate_bodies(fake_wix)] == [on_acme]
    assert not fake_wix.requests_for_site(ENV)

    # "Stream" on it: the stream is made on acme too.
    fake_wix.reset()
    sent = await medialink.click(results, f"medialink_find_stream_{index}")
    stream = await medialink.reply(sent)
    assert "HLS stream" in stream.all_text()
    assert sites_asked(fake_wix, GENERATE_VIDEO_STREAM_URL) == [acme]
    assert not fake_wix.requests_for_site(ENV)


def result_index(results: Message, name: str) -> int:
    """The index of the result called ``name`` in a page of results."""
    for block in results.blocks:
        block_id = str(block.get("block_id", ""))
        section = block_id.startswith("find_file_") and block["type"] == "section"
        if section and name in block["text"]["text"]:
            return int(block_id.removeprefix("find_file_"))
    raise AssertionError(f"no result called {name}")


async def test_find_site_option_searches_that_site_and_more_results_stay_on_it(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink, acme = await two_sites(make_medialink, fake_wix)
    fake_wix.add_file(kind="document", display_name="report env.pdf")
    for number in range(12):
        fake_wix.add_site_file(acme, kind="document", display_name=f"report {number}.pdf")

    _, results = await find(medialink, "report site=acme")
    assert sites_asked(fake_wix, SEARCH_FILES) == [acme]
    assert "on `acme`" in results.all_text()
    assert "report env.pdf" not in results.all_text()
    fake_wix.reset()
    sent = await medialink.click(results, "medialink_find_more")
    await medialink.reply(sent)
    assert sites_asked(fake_wix, SEARCH_FILES) == [acme]


async def test_a_find_button_whose_site_is_gone_gets_no_link(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink, acme = await two_sites(make_medialink, fake_wix)
    fake_wix.add_site_file(acme, kind="document", display_name="contract.pdf")
    _, results = await find(medialink, "contract site=acme")
    view = await open_sites_modal(medialink)
    assert "Removed *acme*" in await submit(medialink, view, "remove", site="acme")
    fake_wix.reset()
    sent = await medialink.click(results, "medialink_find_get_0")
    reply = await medialink.reply(sent)
    assert "acme these buttons were made on is not connected here" in reply.all_text()
    assert fake_wix.requests == []


# ------------------------------------------------------------------ the form's type-ahead


async def suggest(medialink: MediaLink, value: str, team: str = TEAM_ID) -> list[Json]:
    payload = block_suggestion_payload(
        action_id=PICKER_ACTION,
        block_id=PICKER_BLOCK,
        value=value,
        user={"id": USER_ID, "username": "u", "name": "u", "team_id": team},
    )
    payload["team"]["id"] = team
    response = await medialink.post(interaction_body(payload))
    assert response.status_code == 200
    options: list[Json] = response.json()["options"]
    return options


async def test_the_picker_offers_every_sites_files_named_and_links_on_that_site(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink, acme = await two_sites(make_medialink, fake_wix)
    on_env = fake_wix.add_file(kind="document", display_name="plan env.pdf")
    on_acme = fake_wix.add_site_file(acme, kind="document", display_name="plan acme.pdf")
    view = await open_form(medialink)
    options = await suggest(medialink, "plan")
    by_value = {option["value"]: option["text"]["text"] for option in options}
    assert by_value == {
        f"default/{on_env}": "plan env.pdf · document · 12.1 KB · on default",
        f"acme/{on_acme}": "plan acme.pdf · document · 12.1 KB · on acme",
    }
    fake_wix.reset()
    picked = [option for option in options if option["value"].startswith("acme/")]
    sent = await medialink.submit_view(view, picked=picked)
    reply = await medialink.reply(sent)
    assert "From Wix site `acme`." in reply.all_text()
    assert sites_asked(fake_wix, GENERATE_FILE_DOWNLOAD_URL) == [acme]
    assert not fake_wix.requests_for_site(ENV)


async def open_form(medialink: MediaLink) -> Json:
    before = {view["id"] for view in medialink.slack.views()}
    await medialink.global_shortcut()
    await medialink.settle()
    [view] = [view for view in medialink.slack.views() if view["id"] not in before]
    return view


# ------------------------------------------------------------------ unfurls


async def test_an_unfurl_is_described_by_the_site_that_has_the_file_and_links_there(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink, acme = await two_sites(make_medialink, fake_wix, medialink_unfurl=True)
    file_id = fake_wix.add_site_file(acme, kind="image", display_name="acme poster.jpg")
    url = wix_url(file_id)
    made = await unfurled(medialink, [url])
    _, button = unfurl_button(made.blocks(url))
    assert button["value"] == f"acme/{file_id}"
    assert "acme poster.jpg" in json.dumps(made.blocks(url))
    fake_wix.reset()
    sent = await click_unfurl(medialink, made, url, user=USER_ID)
    reply = await medialink.reply(sent)
    assert "From Wix site `acme`." in reply.all_text()
    assert sites_asked(fake_wix, GENERATE_FILE_DOWNLOAD_URL) == [acme]
    assert not fake_wix.requests_for_site(ENV)


# ------------------------------------------------------------------ a reply's buttons


async def test_regenerate_and_zip_use_the_site_the_reply_came_from(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink, acme = await two_sites(make_medialink, fake_wix, medialink_zip_enabled="everyone")
    file_id = fake_wix.add_site_file(acme, kind="image")
    sent = await medialink.command(file_id)  # not on the default site: found on acme
    reply = await medialink.reply(sent)
    assert "found on `acme`" in reply.all_text()

    fake_wix.reset()
    again = await medialink.reply(await medialink.click(reply, ACTION_REGENERATE))
    assert "From Wix site `acme`." in again.all_text()
    assert not fake_wix.requests_for_site(ENV)  # not asked first any more

    fake_wix.reset()
    zipped = await medialink.reply(await medialink.click(reply, ACTION_ZIP))
    assert "From Wix site `acme`." in zipped.all_text()
    assert sites_asked(fake_wix, GENERATE_FILES_DOWNLOAD_URL) == [acme]
    assert not fake_wix.requests_for_site(ENV)


async def test_a_button_made_before_sites_were_kept_still_works(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink, acme = await two_sites(make_medialink, fake_wix)
    file_id = fake_wix.add_site_file(acme, kind="image")
    reply = await medialink.reply(await medialink.command(file_id))
    value = str(reply.element(ACTION_REGENERATE)["value"])
    state = decode_state(value, max_expiry=medialink.settings.medialink_max_expiry)
    assert state.sites() == {file_id: "acme"}
    old = encode_state(
        state.with_files([f.__class__(f.file_id, f.media_type) for f in state.files])
    )
    assert "acme" not in json.dumps(decode_state(old, max_expiry=state.expires_in).sites())
    again = await medialink.reply(await medialink.click(reply, ACTION_REGENERATE, value=old))
    assert "found on `acme`" in again.all_text()  # chosen again, as before


async def test_a_forged_site_in_a_button_is_refused_without_a_wix_call(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink, acme = await two_sites(make_medialink, fake_wix)
    file_id = fake_wix.add_site_file(acme, kind="image")
    reply = await medialink.reply(await medialink.command(f"{file_id} site=acme"))
    state = decode_state(
        str(reply.element(ACTION_REGENERATE)["value"]),
        max_expiry=medialink.settings.medialink_max_expiry,
    )
    forged = encode_state(state.with_sites({file_id: "other-workspace-site"}))
    fake_wix.reset()
    answer = await medialink.reply(await medialink.click(reply, ACTION_REGENERATE, value=forged))
    assert "not connected here" in answer.all_text()
    assert fake_wix.requests == []


# ------------------------------------------------------------------ several workspaces


async def test_a_workspace_that_may_not_use_the_environments_site_cannot_search_it(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    fake_slack.enable_oauth(CLIENT_ID, CLIENT_SECRET)
    medialink = await make_medialink(
        audit_running=True, **oauth_settings(medialink_allowed_teams=TEAM_A)
    )
    fake_slack.oauth_redirect_url = medialink.url + "/slack/oauth_redirect"
    _, a = await install(medialink, FakeInstall(TEAM_A, ALICE))
    _, b = await install(medialink, FakeInstall(TEAM_B, BOB))
    fake_wix.add_file(kind="document", display_name="operator secret plan.pdf")
    assert "operator secret plan.pdf" in (await a.reply("find secret plan", user=ANNA)).all_text()
    fake_wix.reset()
    refused = (await b.reply("find secret plan", user=BEN)).all_text()
    assert "No Wix site is connected to this workspace yet" in refused
    assert "operator secret plan.pdf" not in refused
    assert await suggest(medialink, "secret plan", team=TEAM_B) == []
    assert fake_wix.requests == []  # neither the search nor the type-ahead asked Wix


async def test_uninstall_deletes_the_workspaces_sites_and_closes_their_clients(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, fake_wix: FakeWix
) -> None:
    fake_slack.enable_oauth(CLIENT_ID, CLIENT_SECRET)
    medialink = await make_medialink(
        audit_running=True,
        medialink_encryption_key=SITE_KEYS[0],
        **oauth_settings(medialink_admins=f"{ALICE},{BOB}"),
    )
    fake_slack.oauth_redirect_url = medialink.url + "/slack/oauth_redirect"
    _, a = await install(medialink, FakeInstall(TEAM_A, ALICE))
    _, b = await install(medialink, FakeInstall(TEAM_B, BOB))
    services = medialink.services
    assert services is not None
    registry = services.sites
    assert registry is not None
    assert registry.store is not None
    keyring = registry.keyring()
    assert keyring is not None
    for tenant, name in ((TEAM_A, "alpha"), (TEAM_B, "bravo")):
        site_id, key, _ = fake_wix.add_site()
        await registry.store.add_site(
            tenant=tenant,
            name=name,
            site_id=site_id,
            kind=AuthKind.API_KEY,
            sealed=keyring.encrypt({"api_key": key}),
            domains=[f"www.{name}.com"],
            by=None,
        )
        await registry.store.set_channel_site(tenant=tenant, channel_id="C0GENERAL", name=name)
        file_id = fake_wix.add_site_file(site_id, kind="image")
        registry.changed()
        workspace, member = (a, ANNA) if tenant == TEAM_A else (b, BEN)
        assert f"`{name}`" in (await workspace.reply(file_id, user=member)).all_text()
    assert registry.clients == 2

    medialink.slack.uninstall(a.install)
    assert (await a.send_event(app_uninstalled_event(TEAM_A))).status_code == 200
    await medialink.settle()
    snap = await registry.store.snapshot()
    assert TEAM_A not in snap.sites
    assert TEAM_A not in snap.domains
    assert TEAM_A not in snap.channels
    assert set(snap.sites[TEAM_B]) == {"bravo"}  # the other workspace keeps its own
    assert registry.clients == 1
    assert "alpha" not in (await registry.view(TEAM_A)).sites
