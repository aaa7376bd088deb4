"""Issue 12's "done when", end to end against the fakes: a workflow uses the step (its
outputs usable by the next step), unfurls work when turned on (link_shared → chat.unfurl →
a click → a private link, recorded), and a new user starting in Socket Mode, exactly as
the README's quick start says, gets a working app on first try.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from functools import partial
from pathlib import Path
from urllib.parse import parse_qsl

import yaml

from bot.audit import Entry
from bot.slack.listeners import workflow
from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, FakeSlack, Json
from tests.fakes.wix import GENERATE_FILE_DOWNLOAD_URL, FakeWix
from tests.slack.audit_helpers import recorded_events as audit_events
from tests.slack.audit_helpers import started
from tests.slack.conftest import (
    CHANNEL_ID,
    OTHER_USER_ID,
    REPO_ROOT,
    USER_ID,
    MakeMediaLink,
    command_form,
    issued_urls,
    link_buttons,
    slack_dates,
    wix_url,
)
from tests.slack.test_e2e_unfurls import click_unfurl, recorded, text_of, unfurled
from tests.slack.test_e2e_workflow import run_step, step_inputs

# ------------------------------------------------------------------ the workflow step


async def test_a_workflow_sends_a_client_the_links_a_form_asked_for(
    make_medialink: MakeMediaLink, fake_slack: FakeSlack, fake_wix: FakeWix, tmp_path: Path
) -> None:
    """ "Send a client the links when a form is submitted": the form's answer (a URL and a
    bare file ID among other words) and an expiry of one day go in; the links, the URLs
    and the expiry come out, ready for the workflow's next step."""
    medialink = await started(make_medialink, tmp_path)
    contract = fake_wix.add_file(kind="document", display_name="contract.pdf")
    logo = fake_wix.add_file(kind="image", display_name="logo.png")
    answer = f"Hi! Please send the client {wix_url(contract)}\nand also {logo}. Thanks, Ann"
    asked_at = time.time()
    response, execution = await run_step(medialink, step_inputs(answer, expires="1d"))
    assert response.status_code == 200

    ended = await fake_slack.wait_for_function_end(execution.id)
    assert ended.state == "completed", ended.error  # the fake checked the declared outputs
    outputs = ended.outputs
    assert outputs is not None
    issued = fake_wix.issued
    assert {link.file_id for link in issued} == {contract, logo}
    assert {link.expiration_minutes for link in issued} == {24 * 60}

    # The plain list: one https URL a line, each one Wix issued, nothing else.
    urls = outputs[workflow.OUTPUT_URLS].splitlines()
    assert sorted(urls) == sorted(issued_urls(fake_wix))
    assert all(url.startswith("https://") for url in urls)
    # The Slack-formatted text: each URL as a link named after its file, once.
    links = outputs[workflow.OUTPUT_LINKS]
    named = dict((url, name) for url, name in re.findall(r"<(https://[^|>]+)\|([^>]+)>", links))
    assert set(named) == set(urls)
    assert "*contract.pdf*" in links
    assert "*logo.png*" in links
    assert len(links) <= 3000  # fits a message section as it is
    # The expiry: a Unix time a day from now, the one Wix gave the links and the text shows.
    expires_at = outputs[workflow.OUTPUT_EXPIRES_AT]
    assert isinstance(expires_at, int)
    assert asked_at + 86400 - 60 <= expires_at <= time.time() + 86400 + 60
    assert all(abs(link.expires_at - expires_at) <= 60 for link in issued)
    assert [ts for ts, _ in slack_dates(links)] == [expires_at]

    # Recorded for the person the step acted for, as the workflow's.
    events = await audit_events(medialink, 2, outcome="ok")
    assert {(e.file_id, e.entry, e.user_id) for e in events} == {
        (contract, "workflow", USER_ID),
        (logo, "workflow", USER_ID),
    }


# ------------------------------------------------------------------ unfurls


async def test_unfurls_on_a_shared_url_becomes_a_private_link_for_whoever_clicks(
    make_medialink: MakeMediaLink, fake_wix: FakeWix
) -> None:
    medialink = await make_medialink(medialink_unfurl=True, audit_running=True)
    file_id = fake_wix.add_file(kind="document", display_name="Brand book.pdf", size=3 * 1024**2)
    url = wix_url(file_id)

    # Alice posts the URL; Slack asks the app about it and the app unfurls it.
    made = await unfurled(medialink, [url], user=USER_ID)
    shown = text_of(made.blocks(url))
    assert "Brand book.pdf" in shown
    assert "3.0 MB" in shown
    assert fake_wix.issued == []  # an unfurl makes no link

    # Bob clicks "Get a download link": a link only he sees, recorded as his.
    sent = await click_unfurl(medialink, made, url, user=OTHER_USER_ID)
    reply = await medialink.reply(sent)
    assert reply.ephemeral
    assert reply.user == OTHER_USER_ID
    [issued] = fake_wix.issued
    assert issued.file_id == file_id
    assert [button["url"] for button in link_buttons(reply)] == [issued.url]
    [request] = fake_wix.requests_to(GENERATE_FILE_DOWNLOAD_URL)
    assert request.status == 200
    [event] = await recorded(medialink, "ok")
    assert (event.user_id, event.entry, event.file_id, event.channel_id) == (
        OTHER_USER_ID,
        Entry.UNFURL_BUTTON,
        file_id,
        CHANNEL_ID,
    )
    assert event.expires_at is not None


# ------------------------------------------------------------------ Socket Mode, first try


def socket_manifest_scopes() -> tuple[str, ...]:
    manifest = yaml.safe_load((REPO_ROOT / "manifest.socket.yaml").read_text(encoding="utf-8"))
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert "request_url" not in str(manifest)  # nothing to fill in before it works
    return tuple(str(scope) for scope in manifest["oauth_config"]["scopes"]["bot"])


def first_env_file(directory: Path, slack: FakeSlack, wix: FakeWix, port: int) -> list[str]:
    """The README's step 5: `cp .env.example .env`, then set the bot token, the app-level
    token and the Wix key and site; the signing secret stays empty. (The API URLs point at
    the fakes, and the port is a free one.) Returns the names .env sets."""
    filled = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "WIX_API_KEY": FakeWix.API_KEY,
        "WIX_SITE_ID": FakeWix.SITE_ID,
    }
    lines = []
    names = []
    for line in (REPO_ROOT / ".env.example").read_text(encoding="utf-8").splitlines():
        name, sep, _ = line.partition("=")
        if sep and not line.startswith("#"):
            names.append(name)
        lines.append(f"{name}={filled[name]}" if name in filled else line)
    assert set(filled) <= set(names)
    assert "SLACK_SIGNING_SECRET=" in lines  # left as it is: Socket Mode needs none
    lines += [
        f"SLACK_API_URL={slack.api_url}",
        f"WIX_API_URL={wix.base_url}",
        "HOST=127.0.0.1",
        f"PORT={port}",
    ]
    (directory / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [*names, "SLACK_API_URL", "WIX_API_URL"]


def medialink_process(command: str, cwd: Path, unset: list[str]) -> subprocess.Popen[str]:
    """``medialink COMMAND`` in ``cwd`` with settings from its .env alone."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in unset and not k.startswith(("SLACK_", "WIX_", "MEDIALINK_"))
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", command],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def replied(slack: FakeSlack, url: str) -> bool:
    return bool(slack.posts(url))


def test_socket_mode_works_on_first_try_from_the_readme(tmp_path: Path) -> None:
    with FakeSlack(scopes=socket_manifest_scopes()) as slack, FakeWix() as wix:
        names = first_env_file(tmp_path, slack, wix, free_port())

        # Step 6: `medialink check`, then `make run` (`medialink serve`).
        check = medialink_process("check", tmp_path, names)
        out, _ = check.communicate(timeout=60)
        assert check.returncode == 0, out
        for setting in ("SLACK_BOT_TOKEN", "SLACK_APP_TOKEN", "WIX_"):
            assert re.search(rf"^ok +{setting}", out, re.MULTILINE), out
        assert "FAIL" not in out
        assert "SLACK_SIGNING_SECRET is not set" not in out

        serve = medialink_process("serve", tmp_path, names)
        try:
            slack.wait_until_sync(
                lambda: slack.socket_connections >= 1, within=30, what="the WebSocket"
            )
            # `/medialink help`, then a link, as the README's last step suggests.
            file_id = wix.add_file(kind="image", display_name="first-try.jpg")
            replies: list[Json] = []
            for text in ("help", wix_url(file_id)):
                url = slack.new_response_url(channel=CHANNEL_ID, user=USER_ID)
                form = command_form(text, response_url=url, trigger_id=slack.new_trigger_id())
                payload: Json = dict(parse_qsl(form, keep_blank_values=True))
                envelope_id = slack.send_envelope("slash_commands", payload)
                slack.wait_until_sync(partial(replied, slack, url), within=20, what="a reply")
                assert slack.envelope(envelope_id).acked
                [post] = slack.posts(url)
                assert post.accepted, (post.status, post.answer)
                replies.append(post.body)
        finally:
            serve.send_signal(signal.SIGTERM)
            try:
                output, _ = serve.communicate(timeout=30)
            finally:
                if serve.poll() is None:
                    serve.kill()
                    serve.communicate()
        assert serve.returncode == 0, output
        assert "MediaLink is connected to Slack over Socket Mode" in output
        assert "Traceback" not in output
        assert " WARNING " not in output, output  # a clean first start warns of nothing
        help_text, link_text = (str(reply) for reply in replies)
        assert "/medialink" in help_text
        assert "first-try.jpg" in link_text
        [issued] = wix.issued
        assert issued.url in link_text
        assert (tmp_path / "medialink.db").exists()  # the .env's database, beside it
