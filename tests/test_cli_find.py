"""`medialink find`, run as people run it: argv in, stdout/stderr and exit code out."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot.audit.store import SqlAuditTrail
from bot.sites.keys import Keyring
from bot.sites.model import AuthKind
from bot.sites.store import SiteStore
from tests.fakes.wix import FakeWix
from tests.log_secrets import SITE_KEYS
from tests.test_cli import api_key_env, run, wix  # noqa: F401 - the fixture, shared

SEARCH = "/site-media/v1/files/search"


def test_find_json_has_exactly_the_documented_shape(
    wix: FakeWix,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    report = wix.add_file(kind="document", display_name="Q3 report.pdf", size=4096)
    secret = wix.add_file(kind="document", display_name="Q3 report draft.pdf", private=True)
    wix.add_file(kind="image", display_name="holiday.jpg")
    code, out, _ = run(["find", "q3", "report", "--json"], capsys, monkeypatch, api_key_env(wix))
    assert code == 0
    data = json.loads(out)
    assert set(data) == {"files", "next_cursor"}
    assert data["next_cursor"] is None
    by_id = {file["file_id"]: file for file in data["files"]}
    assert set(by_id) == {report, secret}  # the operator sees private files too
    assert set(by_id[report]) == {
        "file_id",
        "name",
        "media_type",
        "size_bytes",
        "private",
        "updated_at",
    }
    assert by_id[report]["name"] == "Q3 report.pdf"
    assert by_id[report]["media_type"] == "document"
    assert by_id[report]["size_bytes"] == 4096
    assert by_id[report]["private"] is False
    assert by_id[secret]["private"] is True
    assert by_id[report]["updated_at"].startswith("20")
    [request] = wix.requests_to(SEARCH)
    assert request.json == {"search": "q3 report", "paging": {"limit": 20}}


def test_find_pages_with_the_cursor_and_filters(
    wix: FakeWix,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for n in range(3):
        wix.add_file(kind="video", display_name=f"clip {n}")
    wix.add_file(kind="video", display_name="clip secret", private=True)
    env = api_key_env(wix)
    argv = ["find", "clip", "--type", "video", "--public", "--limit", "2", "--json"]
    code, out, _ = run(argv, capsys, monkeypatch, env)
    assert code == 0
    first = json.loads(out)
    assert len(first["files"]) == 2
    assert first["next_cursor"]
    code, out, _ = run([*argv, "--cursor", first["next_cursor"]], capsys, monkeypatch, env)
    assert code == 0
    second = json.loads(out)
    assert len(second["files"]) == 1
    assert second["next_cursor"] is None
    names = {f["name"] for f in first["files"] + second["files"]}
    assert names == {"clip 0", "clip 1", "clip 2"}
    assert wix.requests_to(SEARCH)[0].json == {
        "search": "clip",
        "mediaTypes": ["VIDEO"],
        "private": False,
        "paging": {"limit": 2},
    }


def test_find_prints_a_readable_table(
    wix: FakeWix,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    image = wix.add_file(kind="image", display_name="team photo.jpg", size=1234)
    code, out, _ = run(["find", "team"], capsys, monkeypatch, api_key_env(wix))
    assert code == 0
    header, row = out.splitlines()
    assert header.split() == ["NAME", "TYPE", "SIZE", "PRIVATE", "UPDATED", "FILE", "ID"]
    assert row.startswith("team photo.jpg")
    assert "image" in row
    assert "1234" in row
    assert image in row
    code, out, _ = run(["find", "nothing-like-this"], capsys, monkeypatch, api_key_env(wix))
    assert (code, out) == (0, "No files match.\n")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["find", "x" * 201], "at most 200 characters"),
        (["find", "x", "--cursor", "c" * 3000], "search again"),
    ],
)
def test_find_bad_input_exits_2_before_any_call(
    argv: list[str],
    expected: str,
    wix: FakeWix,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, _, err = run(argv, capsys, monkeypatch, api_key_env(wix))
    assert code == 2
    assert expected in err
    assert wix.requests == []


def test_find_says_when_wix_refuses(
    wix: FakeWix,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wix.inject(SEARCH, status=403, times=2)
    code, _, err = run(["find", "x"], capsys, monkeypatch, api_key_env(wix))
    assert code == 1
    assert "medialink find: " in err
    assert "Traceback" not in err


def test_find_types_offered_are_the_ones_the_search_reads() -> None:
    """The parser names the types without importing the search's models (start-up)."""
    from bot import cli  # noqa: PLC0415
    from bot.wix.found import FIND_TYPE_NAMES  # noqa: PLC0415

    assert set(cli.FIND_TYPES) == set(FIND_TYPE_NAMES)


def test_find_on_a_connected_site_named_with_site(
    wix: FakeWix,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'sites.db'}"
    acme, acme_key, _ = wix.add_site()
    on_acme = wix.add_site_file(acme, kind="document", display_name="acme brief.pdf")
    wix.add_file(kind="document", display_name="env brief.pdf")
    asyncio.run(_connect(database, "T0AGENCY1", "acme", acme, acme_key))
    env = api_key_env(wix) | {"DATABASE_URL": database, "MEDIALINK_ENCRYPTION_KEY": SITE_KEYS[0]}

    code, out, _ = run(["find", "brief", "--site", "acme", "--json"], capsys, monkeypatch, env)
    assert code == 0
    data = json.loads(out)
    assert data["site"] == "acme"
    assert [file["file_id"] for file in data["files"]] == [on_acme]
    assert [r.site for r in wix.requests_to(SEARCH)] == [acme]

    argv = ["find", "brief", "--site", "nope"]
    code, _, err = run(argv, capsys, monkeypatch, env)
    assert code == 2
    assert "no site named nope is connected" in err


async def _connect(database: str, tenant: str, name: str, site_id: str, key: str) -> None:
    trail = SqlAuditTrail(database)
    store = SiteStore(database, migrate=trail.migrate)
    try:
        await store.add_site(
            tenant=tenant,
            name=name,
            site_id=site_id,
            kind=AuthKind.API_KEY,
            sealed=Keyring(SITE_KEYS[0]).encrypt({"api_key": key}),
            domains=(),
            by=None,
        )
    finally:
        await store.aclose()
        await trail.aclose()
