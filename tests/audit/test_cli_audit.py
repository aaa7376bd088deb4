"""`medialink audit`: the export, driven through bot.cli.main on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.audit import AuditEvent, Entry, Outcome
from bot.audit.export import COLUMNS
from bot.audit.store import SqlAuditTrail
from bot.cli import main

NOW = datetime.now(UTC).replace(microsecond=0)


def seed(url: str) -> None:
    events = [
        AuditEvent(
            at=NOW - timedelta(days=10),
            team_id="T1",
            enterprise_id=None,
            user_id="U0ALICE01",
            channel_id="C1",
            entry=Entry.COMMAND,
            outcome=Outcome.OK,
            file_id="old_file.jpg",
            file_name="old.jpg",
            private=False,
            asset_keys=("src",),
            expires_at=NOW - timedelta(days=9),
            wix_request_id="req-old",
        ),
        AuditEvent(
            at=NOW - timedelta(hours=2),
            team_id="T1",
            enterprise_id="E1",
            user_id="U0ALICE01",
            channel_id="C1",
            entry=Entry.button("regenerate"),
            outcome=Outcome.OK,
            file_id="abc123_launch.jpg",
            file_name="=HYPERLINK(launch)",
            private=True,
            asset_keys=("src", "720p.mp4"),
            expires_at=NOW + timedelta(days=1),
            wix_request_id="req-1",
        ),
        AuditEvent(
            at=NOW - timedelta(hours=1),
            team_id="T1",
            enterprise_id=None,
            user_id="U0GUEST01",
            channel_id="C2",
            entry=Entry.MESSAGE_SHORTCUT,
            outcome=Outcome.REFUSED,
            file_id="abc123_launch.jpg",
            reason="guests may not make links; ask <@U0ADMIN01>",
        ),
    ]

    async def write() -> None:
        trail = SqlAuditTrail(url)
        trail.record(events)
        await trail.aclose()

    asyncio.run(write())


@pytest.fixture
def seeded(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("DATABASE_URL", database_url)
    seed(database_url)
    return database_url


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["audit", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_json_has_every_field_newest_first_with_zones(
    seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--json")
    assert code == 0
    events = json.loads(out)["events"]
    assert [e["user_id"] for e in events] == ["U0GUEST01", "U0ALICE01", "U0ALICE01"]
    assert all(tuple(e) == COLUMNS for e in events)
    refused, made, _ = events
    assert refused["outcome"] == "refused"
    assert refused["reason"] == "guests may not make links; ask <@U0ADMIN01>"
    assert refused["expires_at"] is None
    assert made == {
        "at": (NOW - timedelta(hours=2)).isoformat(),
        "team_id": "T1",
        "enterprise_id": "E1",
        "user_id": "U0ALICE01",
        "channel_id": "C1",
        "entry": "button:regenerate",
        "file_id": "abc123_launch.jpg",
        "file_name": "=HYPERLINK(launch)",
        "private": True,
        "asset_keys": ["src", "720p.mp4"],
        "expires_at": (NOW + timedelta(days=1)).isoformat(),
        "outcome": "ok",
        "reason": None,
        "wix_request_id": "req-1",
    }
    assert made["at"].endswith("+00:00")
    assert datetime.fromisoformat(made["at"]).tzinfo is not None


def test_filters(seeded: str, capsys: pytest.CaptureFixture[str]) -> None:
    def users(*args: str) -> list[str]:
        code, out, err = run(capsys, "--json", *args)
        assert code == 0, err
        return [e["user_id"] for e in json.loads(out)["events"]]

    assert users("--since", "7d") == ["U0GUEST01", "U0ALICE01"]
    assert users("--user", "U0ALICE01") == ["U0ALICE01", "U0ALICE01"]
    assert users("--user", "<@U0GUEST01|guest>", "--user", "U0ALICE01", "--since", "1d") == [
        "U0GUEST01",
        "U0ALICE01",
    ]
    assert users("--outcome", "refused") == ["U0GUEST01"]
    assert users("--file", "https://static.wixstatic.com/media/abc123_launch.jpg") == [
        "U0GUEST01",
        "U0ALICE01",
    ]
    assert users("--file", "old_file.jpg") == ["U0ALICE01"]
    assert users("--limit", "1") == ["U0GUEST01"]


def test_csv_has_the_same_columns_and_defuses_formulas(
    seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "--csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert tuple(rows[0]) == COLUMNS
    assert [row["outcome"] for row in rows] == ["refused", "ok", "ok"]
    made = rows[1]
    assert made["file_name"] == "'=HYPERLINK(launch)"  # a spreadsheet shows it, runs nothing
    assert made["asset_keys"] == "src 720p.mp4"
    assert made["private"] == "true"
    assert made["at"] == (NOW - timedelta(hours=2)).isoformat()


def test_table_by_default(seeded: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys)
    assert code == 0
    header, *lines = out.splitlines()
    assert header.split() == ["AT", "USER", "ENTRY", "FILE", "OUTCOME", "EXPIRES", "REASON"]
    assert len(lines) == 3
    for shown in ("U0GUEST01", "refused", "guests may not"):
        assert shown in lines[0]
    assert "(private)" in lines[1]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "soon"], "is not a period"),
        (["--user", "not an id"], "is not a Slack user ID"),
        (["--limit", "5000"], "from 1 to 1000"),
        (["--json", "--csv"], "not allowed with"),
    ],
)
def test_bad_arguments_say_what_to_do(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["audit", *args])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_an_unreachable_database_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://medialink:hunter2hunter2@127.0.0.1:1/x")
    code, out, err = run(capsys, "--json")
    assert code == 1
    assert out == ""
    assert "the audit record cannot be read right now" in err
    assert "postgresql+asyncpg://medialink:***@127.0.0.1:1/x" in err
    assert "hunter2hunter2" not in err
    assert "Traceback" not in err


def test_an_unsupported_database_url_is_a_settings_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://root:pw@db/medialink")
    code, _, err = run(capsys)
    assert code == 2
    assert "DATABASE_URL is not valid" in err
    assert "postgresql+asyncpg://" in err
    assert "root:pw" not in err


def test_team_shows_only_that_tenants_rows(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Several workspaces: ``--team`` is the tenant (bot.tenancy). A row made through T1
    for another tenant (a shared channel) is not T1's; an org-wide install's rows are
    found by the org's ID; rows from before tenants were recorded count as their team's."""
    monkeypatch.setenv("DATABASE_URL", database_url)

    def row(n: int, team: str, tenant: str | None, enterprise: str | None = None) -> AuditEvent:
        return AuditEvent(
            at=NOW - timedelta(minutes=n),
            team_id=team,
            enterprise_id=enterprise,
            user_id=f"U0USER{n:04d}",
            channel_id="C1",
            entry=Entry.COMMAND,
            outcome=Outcome.OK,
            file_id=f"file{n}.jpg",
            tenant_id=tenant,
        )

    async def write() -> None:
        trail = SqlAuditTrail(database_url)
        trail.record(
            [
                row(1, "T1", "T1"),
                row(2, "T1", "T2"),
                row(3, "T2", "T2"),
                row(4, "T7", "E9", enterprise="E9"),
                row(5, "T1", None),
            ]
        )
        await trail.aclose()

    asyncio.run(write())
    shown = {}
    for team in ("T1", "T2", "E9"):
        code, out, _ = run(capsys, "--team", team, "--json")
        assert code == 0
        shown[team] = [event["file_id"] for event in json.loads(out)["events"]]
    assert shown == {
        "T1": ["file1.jpg", "file5.jpg"],
        "T2": ["file2.jpg", "file3.jpg"],
        "E9": ["file4.jpg"],
    }
