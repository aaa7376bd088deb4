"""The `medialink` command, run as people run it: argv in, stdout/stderr and exit code out."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.cli import main
from tests.fakes.slack import APP_TOKEN, BOT_TOKEN, FakeSlack
from tests.fakes.wix import FakeWix
from tests.wix.test_refs import CATALOGUE

CLI = [sys.executable, "-m", "bot.cli"]
IMAGE_URL = "https://static.wixstatic.com/media/2acbb8_66ffafe2e5d04335b968dc73dae5585c~mv2.jpg"


@pytest.fixture
def wix() -> Iterator[FakeWix]:
    with FakeWix() as fake:
        yield fake


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture(autouse=True)
def isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("SLACK_", "WIX_", "MEDIALINK_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def api_key_env(wix: FakeWix) -> dict[str, str]:
    return {
        "WIX_API_KEY": FakeWix.API_KEY,
        "WIX_SITE_ID": FakeWix.SITE_ID,
        "WIX_API_URL": wix.base_url,
    }


def slack_env(slack: FakeSlack) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": "signing-secret",
        "SLACK_API_URL": slack.api_url,
    }


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def oauth_env(wix: FakeWix) -> dict[str, str]:
    return {
        "WIX_CLIENT_ID": FakeWix.CLIENT_ID,
        "WIX_CLIENT_SECRET": FakeWix.CLIENT_SECRET,
        "WIX_INSTANCE_ID": FakeWix.INSTANCE_ID,
        "WIX_API_URL": wix.base_url,
    }


def run(
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str] | None = None,
    stdin: str = "",
) -> tuple[int, str, str]:
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    code = main(argv, stdin=io.StringIO(stdin))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_parse_json_has_exactly_the_documented_shape(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = f"see <{IMAGE_URL}|photo> and https://archive.wixmp.com/archive/wix/7d332530d35c465aa4a0e71d1737909d"
    code, out, _ = run(["parse", "--json", text], capsys, monkeypatch)
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"refs", "rejected"}
    [ref] = data["refs"]
    assert set(ref) == {"file_id", "media_type", "filename", "source"}
    assert ref["file_id"] == "2acbb8_66ffafe2e5d04335b968dc73dae5585c~mv2.jpg"
    assert ref["media_type"] == "image"
    assert ref["source"] == IMAGE_URL
    [rejected] = data["rejected"]
    assert set(rejected) == {"text", "reason"}
    assert "archive.wixmp.com" in rejected["text"]
    assert rejected["reason"]


def test_parse_reads_stdin_and_prints_a_table(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin = f"{IMAGE_URL}\nwix:video://v1/4acbb8_5646ee01a5524905af4f2e7c567cbbce/clip.mp4#posterUri=x\n"
    code, out, _ = run(["parse"], capsys, monkeypatch, stdin=stdin)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["FILE", "ID", "TYPE", "FILENAME", "SOURCE"]
    assert "2acbb8_66ffafe2e5d04335b968dc73dae5585c~mv2.jpg" in lines[1]
    assert "4acbb8_5646ee01a5524905af4f2e7c567cbbce" in lines[2]
    assert "video" in lines[2]


def test_parse_needs_no_credentials_and_says_when_nothing_is_found(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(["parse", "nothing to see here"], capsys, monkeypatch)
    assert code == 0
    assert "No Wix media references found" in out


@pytest.mark.parametrize("auth", ["api_key", "oauth"])
def test_link_json_against_the_fake_with_both_auth_methods(
    auth: str,
    wix: FakeWix,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    image = wix.add_file(kind="image")
    video = wix.add_file(kind="video")
    env = api_key_env(wix) if auth == "api_key" else oauth_env(wix)
    code, out, err = run(
        ["link", image, video, "--expires", "2h", "--json"], capsys, monkeypatch, env
    )
    assert code == 0, err
    data = json.loads(out)
    assert set(data) == {"files"}
    assert [item["file_id"] for item in data["files"]] == [image, video]
    for item in data["files"]:
        assert set(item) == {
            "file_id",
            "links",
            "expires_at",
            "error",
            "missing_renditions",
            "fallback",
        }
        assert item["error"] is None
        assert item["missing_renditions"] == []
        assert item["fallback"] is None
        assert item["expires_at"].endswith("+00:00")
        [link] = item["links"]
        assert link["asset_key"] == "src"
        assert link["url"].startswith("https://download-files.wixmp.com/")
    bodies = [r.json for r in wix.requests_to("generate-file-download-url")]
    assert all(isinstance(b, dict) and b["expirationInMinutes"] == 120 for b in bodies)
    if auth == "oauth":
        assert wix.tokens_issued == 1


def test_link_with_assets_and_a_failure_exits_1(
    wix: FakeWix, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    video = wix.add_file(kind="video")
    missing = "abcdef_0123456789abcdef0123456789abcdef~mv2.jpg"
    code, out, _ = run(
        ["link", video, missing, "--assets", "src,nonexistent.mp4", "--json"],
        capsys,
        monkeypatch,
        api_key_env(wix),
    )
    assert code == 1
    files = json.loads(out)["files"]
    assert [link["asset_key"] for link in files[0]["links"]] == ["src"]
    assert files[1]["links"] == []
    assert "not found" in files[1]["error"]


def test_link_says_when_the_original_was_sent_instead_of_a_missing_rendition(
    wix: FakeWix, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    video = wix.add_file(kind="video", renditions=["720p.mp4"])
    image = wix.add_file(kind="image")
    argv = ["link", video, image, "--assets", "1080p.mp4"]
    code, out, err = run([*argv, "--json"], capsys, monkeypatch, api_key_env(wix))
    assert code == 0, err
    files = json.loads(out)["files"]
    for item in files:
        assert [link["asset_key"] for link in item["links"]] == ["src"]
        assert item["missing_renditions"] == ["1080p.mp4"]
        assert item["fallback"] == {
            "asked": ["1080p.mp4"],
            "sent": "src",
            "reason": "the file has no such rendition",
        }

    code, out, _ = run(argv, capsys, monkeypatch, api_key_env(wix))
    assert code == 0
    assert out.count("the file has no '1080p.mp4' rendition, so this is the original (src)") == 2


def test_link_json_has_no_fallback_when_some_renditions_exist(
    wix: FakeWix, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    video = wix.add_file(kind="video", renditions=["720p.mp4"])
    code, out, _ = run(
        ["link", video, "--assets", "720p.mp4,1080p.mp4", "--json"],
        capsys,
        monkeypatch,
        api_key_env(wix),
    )
    assert code == 0
    [item] = json.loads(out)["files"]
    assert [link["asset_key"] for link in item["links"]] == ["720p.mp4"]
    assert item["missing_renditions"] == ["1080p.mp4"]
    assert item["fallback"] is None


def test_link_text_output_names_each_file(
    wix: FakeWix, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    image = wix.add_file(kind="image", display_name="team-photo.jpg")
    code, out, _ = run(["link", image], capsys, monkeypatch, api_key_env(wix))
    assert code == 0
    assert "team-photo.jpg" in out
    assert "src: https://download-files.wixmp.com/" in out
    assert "expires" in out


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["link", IMAGE_URL, "--expires", "8d"], "at most 7 days"),
        (["link", IMAGE_URL, "--expires", "8d"], "MEDIALINK_MAX_EXPIRY sets the longest"),
        (["link", IMAGE_URL, "--redirect", "http://x.example"], "--redirect must be an https"),
        (["link", "no urls here"], "no Wix media URL"),
    ],
)
def test_link_bad_input_exits_2_with_a_clear_message(
    argv: list[str],
    expected: str,
    wix: FakeWix,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, _, err = run(argv, capsys, monkeypatch, api_key_env(wix))
    assert code == 2
    assert expected in err
    assert "Traceback" not in err
    assert wix.requests_to("generate-file-download-url") == []


def test_link_bad_duration_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SystemExit) as exited:
        run(["link", IMAGE_URL, "--expires", "soon"], capsys, monkeypatch)
    assert exited.value.code == 2
    assert "45m, 2h, 7d" in capsys.readouterr().err


def test_expires_help_gives_the_default_and_the_longest(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def expires_help(env: dict[str, str]) -> str:
        with pytest.raises(SystemExit) as exited:
            run(["link", "--help"], capsys, monkeypatch, env)
        assert exited.value.code == 0
        return " ".join(capsys.readouterr().out.split())

    built_in = expires_help({})
    assert "default 1 hour (MEDIALINK_DEFAULT_EXPIRY)" in built_in
    assert "at most 7 days (MEDIALINK_MAX_EXPIRY)" in built_in
    configured = expires_help({"MEDIALINK_DEFAULT_EXPIRY": "2h", "MEDIALINK_MAX_EXPIRY": "30d"})
    assert "default 2 hours" in configured
    assert "at most 30 days" in configured
    # Settings that cannot be read: MediaLink's own defaults, and a word about why.
    broken = expires_help({"MEDIALINK_MAX_EXPIRY": "soon"})
    assert "at most 7 days" in broken
    assert "settings have problems" in broken


def test_serve_help_describes_both_modes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SystemExit):
        run(["serve", "--help"], capsys, monkeypatch)
    shown = " ".join(capsys.readouterr().out.split())
    assert "Socket Mode" in shown
    assert "SLACK_APP_TOKEN" in shown
    assert "POST /slack/events" in shown


# What an offline command must not load: the network, settings and storage stacks.
HEAVY_MODULES = ("aiohttp", "httpx", "pydantic", "slack_bolt", "slack_sdk", "sqlalchemy")


def imported_modules(argv: list[str]) -> set[str]:
    """Every module ``python -m bot.cli ARGV`` imports, from ``-X importtime``."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "bot.cli", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("import time:")]
    assert lines, "no -X importtime output"
    return {line.rsplit("|", 1)[1].strip() for line in lines}


@pytest.mark.parametrize(
    "argv",
    [["parse", IMAGE_URL], ["parse", "--json", IMAGE_URL], ["--help"], ["parse", "--help"]],
    ids=["parse", "parse-json", "help", "parse-help"],
)
def test_offline_commands_start_without_the_network_and_storage_stacks(argv: list[str]) -> None:
    modules = imported_modules(argv)
    assert "bot.wix.refs" in modules or "--help" in argv
    loaded = sorted({name.split(".")[0] for name in modules} & set(HEAVY_MODULES))
    assert loaded == [], f"medialink {' '.join(argv)} imports {loaded}"


def test_link_without_credentials_says_what_to_set(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run(["link", IMAGE_URL], capsys, monkeypatch)
    assert code == 2
    assert "WIX_API_KEY" in err
    assert "WIX_SITE_ID" in err


def line(out: str, start: str) -> str:
    """The one line of ``out`` that starts with ``start``."""
    [found] = [text for text in out.splitlines() if text.startswith(start)]
    return found


@pytest.mark.parametrize("auth", ["api_key", "oauth"])
def test_check_passes_against_the_fakes(
    auth: str,
    wix: FakeWix,
    slack: FakeSlack,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = (api_key_env(wix) if auth == "api_key" else oauth_env(wix)) | slack_env(slack)
    code, out, _ = run(["check"], capsys, monkeypatch, env)
    assert code == 0, out
    assert line(out, "ok   WIX_")
    assert line(out, "ok   SLACK_BOT_TOKEN")
    assert line(out, "ok   SLACK_SIGNING_SECRET")
    assert "FAIL" not in out


def test_check_in_socket_mode_opens_a_connection_url_but_never_shows_it(
    wix: FakeWix,
    slack: FakeSlack,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = api_key_env(wix) | slack_env(slack) | {"SLACK_APP_TOKEN": APP_TOKEN}
    code, out, err = run(["check"], capsys, monkeypatch, env)
    assert code == 0, out
    assert line(out, "ok   SLACK_APP_TOKEN")
    assert [call.method for call in slack.calls_to("apps.connections.open")]
    assert "ws://" not in out + err
    assert "ticket" not in out + err


def test_check_reports_a_missing_bot_token_and_checks_the_rest(
    wix: FakeWix, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(["check"], capsys, monkeypatch, api_key_env(wix))
    assert code == 2, out
    assert "xoxb-" in line(out, "FAIL SLACK_BOT_TOKEN is not set")
    assert line(out, "ok   WIX_API_KEY")


def test_check_checks_slack_without_wix_credentials(
    slack: FakeSlack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(["check"], capsys, monkeypatch, slack_env(slack))
    assert code == 2, out
    assert "WIX_SITE_ID" in line(out, "FAIL no Wix credentials")
    assert line(out, "ok   SLACK_BOT_TOKEN")
    assert slack.calls_to("auth.test")


@pytest.mark.parametrize(
    ("setting", "value", "refusal"),
    [
        ("SLACK_BOT_TOKEN", BOT_TOKEN, "token_revoked"),
        ("SLACK_BOT_TOKEN", "xoxb-...", "invalid_auth"),
        ("SLACK_APP_TOKEN", "xapp-1-A0MEDIALNK-3333-wrong", "invalid_auth"),
        ("SLACK_APP_TOKEN", APP_TOKEN, "token_revoked"),
    ],
)
def test_check_reports_a_token_slack_refuses(
    setting: str,
    value: str,
    refusal: str,
    wix: FakeWix,
    slack: FakeSlack,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slack.revoked_tokens |= {BOT_TOKEN, APP_TOKEN} & {value}
    env = api_key_env(wix) | slack_env(slack) | {setting: value}
    code, out, _ = run(["check"], capsys, monkeypatch, env)
    assert code == 1, out
    refused = line(out, f"FAIL {setting} was refused by Slack ({refusal})")
    assert ".env" in refused
    assert value not in out
    assert line(out, "ok   WIX_API_KEY")


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        ("WIX_CLIENT_SECRET", "wrong-secret", "Invalid app id or app secret"),
        ("WIX_INSTANCE_ID", "not-this-instance", "Unknown app instance"),
    ],
)
def test_check_reports_app_credentials_wix_refuses(
    setting: str,
    value: str,
    expected: str,
    wix: FakeWix,
    slack: FakeSlack,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = oauth_env(wix) | slack_env(slack) | {setting: value}
    code, out, _ = run(["check"], capsys, monkeypatch, env)
    assert code == 1, out
    refused = line(out, "FAIL Wix refused the app's credentials")
    assert expected in refused
    assert "WIX_INSTANCE_ID" in refused
    assert "wrong-secret" not in out


def test_check_names_an_unreachable_slack_api_url_once(
    wix: FakeWix,
    slack: FakeSlack,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    closed = f"http://127.0.0.1:{closed_port()}/api/"
    env = api_key_env(wix) | slack_env(slack)
    env |= {"SLACK_API_URL": closed, "SLACK_APP_TOKEN": APP_TOKEN}
    code, out, _ = run(["check"], capsys, monkeypatch, env)
    assert code == 1, out
    assert "connection refused" in line(out, f"FAIL cannot connect to SLACK_API_URL ({closed}")


def test_check_fails_with_a_wrong_key_and_says_what_to_fix(
    wix: FakeWix,
    slack: FakeSlack,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = api_key_env(wix) | slack_env(slack) | {"WIX_API_KEY": "IST.wrong-key"}
    code, out, _ = run(["check"], capsys, monkeypatch, env)
    assert code == 1
    assert "api-keys" in line(out, "FAIL WIX_API_KEY was refused by Wix")
    assert "wrong-key" not in out


def test_check_reports_a_read_only_key(
    wix: FakeWix,
    slack: FakeSlack,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wix.key_permissions = "read"
    code, out, _ = run(["check"], capsys, monkeypatch, api_key_env(wix) | slack_env(slack))
    assert code == 1
    assert "Manage Media Manager" in line(out, "FAIL WIX_API_KEY")
    assert "either" not in out


def test_check_tells_a_wrong_site_id_from_a_missing_permission_as_far_as_it_can(
    wix: FakeWix,
    slack: FakeSlack,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = api_key_env(wix) | slack_env(slack) | {"WIX_SITE_ID": "0000-not-this-site"}
    code, out, _ = run(["check"], capsys, monkeypatch, env)
    assert code == 1
    # The fake names the site in its refusal, so check names WIX_SITE_ID alone; a bare
    # 403 gets the "either … or …" answer (UNCONFIRMED how Wix words it: docs/wix.md).
    refused = line(out, "FAIL Wix refused access")
    assert "WIX_SITE_ID" in refused
    assert "/dashboard/" in refused
    assert "either" not in refused


def test_check_cannot_connect_to_wix_api_url(
    slack: FakeSlack, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = f"http://127.0.0.1:{closed_port()}"
    env = {"WIX_API_KEY": FakeWix.API_KEY, "WIX_SITE_ID": FakeWix.SITE_ID, "WIX_API_URL": closed}
    code, out, _ = run(["check"], capsys, monkeypatch, env | slack_env(slack))
    assert code == 1, out
    failed = line(out, f"FAIL cannot connect to WIX_API_URL ({closed}")
    assert "connection refused" in failed
    assert "try again" not in failed


@pytest.mark.parametrize("status", [500, 503])
def test_check_tells_wix_5xx_from_cannot_connect(
    status: int,
    wix: FakeWix,
    slack: FakeSlack,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wix.inject(None, status=status, times=10)
    code, out, _ = run(["check"], capsys, monkeypatch, api_key_env(wix) | slack_env(slack))
    assert code == 1, out
    assert f"HTTP {status}" in line(out, "FAIL Wix answered 5xx")
    assert "cannot connect" not in out


def test_check_notices_urls_that_are_not_wix_or_slack(
    wix: FakeWix,
    slack: FakeSlack,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each URL points at the other fake: both answer, neither as the right service.
    env = api_key_env(wix) | slack_env(slack)
    env |= {"WIX_API_URL": slack.base_url, "SLACK_API_URL": f"{wix.base_url}/api/"}
    code, out, _ = run(["check"], capsys, monkeypatch, env)
    assert code == 1, out
    assert "not as Wix does" in line(out, f"FAIL WIX_API_URL ({slack.base_url})")
    assert "like Slack's Web API" in line(out, f"FAIL SLACK_API_URL ({wix.base_url}/api/)")


def test_link_names_an_unreachable_wix_api_url(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = f"http://127.0.0.1:{closed_port()}"
    env = {"WIX_API_KEY": FakeWix.API_KEY, "WIX_SITE_ID": FakeWix.SITE_ID, "WIX_API_URL": closed}
    code, out, _ = run(["link", IMAGE_URL], capsys, monkeypatch, env)
    assert code == 1
    assert f"cannot connect to WIX_API_URL ({closed}" in out
    assert "Wix is unavailable" not in out


def test_check_with_bad_settings_exits_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, _, err = run(["check"], capsys, monkeypatch, {"PORT": "x", "WIX_API_KEY": "k"})
    assert code == 2
    assert "PORT is not valid" in err


def test_console_script_runs_in_a_fresh_process(wix: FakeWix, tmp_path: Path) -> None:
    image = wix.add_file(kind="image")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WIX_", "SLACK_"))}
    env |= api_key_env(wix)
    parsed = subprocess.run(
        [*CLI, "parse", "--json", IMAGE_URL], capture_output=True, text=True, check=True, env=env
    )
    assert json.loads(parsed.stdout)["refs"][0]["media_type"] == "image"
    linked = subprocess.run(
        [*CLI, "link", "--json"],
        input=image,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert linked.returncode == 0, linked.stderr
    assert json.loads(linked.stdout)["files"][0]["file_id"] == image


@pytest.mark.parametrize(("text", "file_id", "media_type", "filename"), CATALOGUE)
def test_parse_json_gets_every_catalogue_form_right(
    text: str,
    file_id: str,
    media_type: str,
    filename: str | None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, out, _ = run(["parse", "--json", text], capsys, monkeypatch)
    assert code == 0
    [ref] = json.loads(out)["refs"]
    assert (ref["file_id"], ref["media_type"], ref["filename"]) == (
        file_id,
        str(media_type),
        filename,
    )


def test_check_says_either_or_when_a_bare_403_tells_neither(
    wix: FakeWix,
    slack: FakeSlack,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wix.inject(None, status=403, body={}, times=4)  # the probe and the site lookup
    code, out, _ = run(["check"], capsys, monkeypatch, api_key_env(wix) | slack_env(slack))
    assert code == 1
    refused = line(out, "FAIL Wix refused access")
    assert "either WIX_SITE_ID" in refused
    assert "Manage Media Manager" in refused
