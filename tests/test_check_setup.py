"""`medialink check` reports the set-up in force besides its probes: the mode (and what
MEDIALINK_ALLOWED_TEAMS means in it), link unfurls, whether MEDIALINK_ENCRYPTION_KEY is
set (never the key), and how many Wix sites are connected and readable with it.

Run as people run it (argv in, stdout and exit code out), against the fake Slack and
Wix, with the sites in a real SQLite database written by the sites' own store."""

from __future__ import annotations

import asyncio
import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.audit.store import SqlAuditTrail
from bot.cli import main
from bot.sites.keys import Keyring
from bot.sites.model import AuthKind
from bot.sites.store import SiteStore
from tests.fakes.slack import BOT_TOKEN, FakeSlack
from tests.fakes.wix import FakeWix
from tests.log_secrets import SITE_KEYS

OLD_KEY, NEW_KEY = SITE_KEYS
CLIENT_ID = "1111111111.2222222222"
CLIENT_SECRET = "fake-client-secret-0123456789abcdef"
STATE_SECRET = "state-secret-" + "s" * 40


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
        if name.startswith(("SLACK_", "WIX_", "MEDIALINK_", "DATABASE_URL", "REDIS_URL")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env; the default SQLite file would go here


def env_for(wix: FakeWix, slack: FakeSlack, **more: str) -> dict[str, str]:
    return {
        "WIX_API_KEY": FakeWix.API_KEY,
        "WIX_SITE_ID": FakeWix.SITE_ID,
        "WIX_API_URL": wix.base_url,
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": "signing-secret",
        "SLACK_API_URL": slack.api_url,
    } | more


def check(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], env: dict[str, str]
) -> tuple[int, str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(["check"], stdin=io.StringIO(""))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def line(out: str, start: str) -> str:
    [found] = [text for text in out.splitlines() if text.startswith(start)]
    return found


def store_sites(database: Path, sealed_with: str, tenants: list[str]) -> None:
    """One site per entry of ``tenants``, written as `/medialink sites` writes them."""

    async def write() -> None:
        url = f"sqlite+aiosqlite:///{database}"
        audit = SqlAuditTrail(url)
        store = SiteStore(url, migrate=audit.migrate)
        keyring = Keyring(sealed_with)
        try:
            for number, tenant in enumerate(tenants):
                await store.add_site(
                    tenant=tenant,
                    name=f"client-{number}",
                    site_id=f"2f1a6a5e-0000-4000-8000-00000000000{number}",
                    kind=AuthKind.API_KEY,
                    sealed=keyring.encrypt({"api_key": f"IST.key-{number}"}),
                    domains=(),
                    by="U1",
                )
        finally:
            await store.aclose()
            await audit.aclose()

    asyncio.run(write())


def test_a_fresh_set_up_says_token_mode_unfurls_off_no_key_no_sites_and_creates_nothing(
    wix: FakeWix,
    slack: FakeSlack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = check(monkeypatch, capsys, env_for(wix, slack))
    assert code == 0, out
    assert "HTTP" in line(out, "ok   Token mode (one workspace, SLACK_BOT_TOKEN's")
    assert line(out, "ok   MEDIALINK_UNFURL is off")
    assert "new-key" in line(out, "ok   MEDIALINK_ENCRYPTION_KEY is not set")
    assert "does not exist yet" in line(out, "ok   no Wix sites connected yet")
    assert "     workspaces: only the bot token's own workspace" in out
    assert not (tmp_path / "medialink.db").exists(), "check created the database"


def test_sites_readable_with_the_key_are_counted_and_the_key_never_shown(
    wix: FakeWix,
    slack: FakeSlack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store_sites(tmp_path / "medialink.db", OLD_KEY, ["T1", "T1", "T2"])
    keys = f"{NEW_KEY},{OLD_KEY}"  # mid-rotation: the old key still opens the rows
    env = env_for(wix, slack, MEDIALINK_ENCRYPTION_KEY=keys, MEDIALINK_UNFURL="true")
    code, out = check(monkeypatch, capsys, env)
    assert code == 0, out
    assert "link_shared" in line(out, "ok   MEDIALINK_UNFURL is on")
    assert line(out, "ok   MEDIALINK_ENCRYPTION_KEY is set (2 keys; the first encrypts")
    assert line(out, "ok   3 Wix sites connected, in 2 workspaces; each readable")
    for key in SITE_KEYS:
        assert key not in out
    assert "IST.key" not in out


def test_sites_the_key_cannot_open_fail_the_check_and_say_what_to_do(
    wix: FakeWix,
    slack: FakeSlack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store_sites(tmp_path / "medialink.db", OLD_KEY, ["T1", "T2"])
    # The old key dropped before `medialink rotate-key` ran.
    code, out = check(monkeypatch, capsys, env_for(wix, slack, MEDIALINK_ENCRYPTION_KEY=NEW_KEY))
    assert code == 1, out
    failed = line(out, "FAIL 2 Wix sites connected, in 2 workspaces; 2 of them cannot")
    assert "rotate-key" in failed
    assert NEW_KEY not in out


def test_sites_without_any_key_fail_the_check(
    wix: FakeWix,
    slack: FakeSlack,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store_sites(tmp_path / "medialink.db", OLD_KEY, ["T1"])
    code, out = check(monkeypatch, capsys, env_for(wix, slack))
    assert code == 1, out
    assert "is not set" in line(out, "FAIL 1 Wix site connected, in 1 workspace, but")


def test_an_unreachable_database_is_reported_without_its_password(
    wix: FakeWix,
    slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = "postgresql+asyncpg://medialink:pg-secret-pw@127.0.0.1:1/medialink"
    code, out = check(monkeypatch, capsys, env_for(wix, slack, DATABASE_URL=url))
    assert code == 1, out
    assert "medialink:***@127.0.0.1:1" in line(out, "FAIL could not read the connected Wix sites")
    assert "pg-secret-pw" not in out


@pytest.mark.parametrize(
    ("teams", "env_site"),
    [("", "serves no workspace"), ("T0AAAAAA1", "serves T0AAAAAA1 only")],
)
def test_oauth_mode_says_what_the_allowed_teams_mean_there(
    teams: str,
    env_site: str,
    wix: FakeWix,
    slack: FakeSlack,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    slack.enable_oauth(CLIENT_ID, CLIENT_SECRET)
    env = env_for(
        wix,
        slack,
        SLACK_CLIENT_ID=CLIENT_ID,
        SLACK_CLIENT_SECRET=CLIENT_SECRET,
        SLACK_STATE_SECRET=STATE_SECRET,
        MEDIALINK_ALLOWED_TEAMS=teams,
    )
    del env["SLACK_BOT_TOKEN"]
    code, out = check(monkeypatch, capsys, env)
    assert code == 0, out
    assert env_site in line(out, "ok   OAuth mode (several workspaces)")
    assert "Token mode" not in out
    policy = line(out, "     workspaces: each that installs MediaLink")
    assert (teams or "none (MEDIALINK_ALLOWED_TEAMS is empty)") in policy
    assert STATE_SECRET not in out
    assert CLIENT_SECRET not in out
