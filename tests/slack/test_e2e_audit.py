"""Every link made and every refusal reaches the audit trail, from each entry point,
with who, where and until when, and never a URL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.audit import AuditEvent, AuditQuery
from bot.audit.store import SqlAuditTrail
from bot.cli import main
from tests.fakes.slack import TEAM_ID
from tests.fakes.wix import FakeWix
from tests.slack.audit_helpers import recorded_events as events
from tests.slack.audit_helpers import started
from tests.slack.conftest import (
    CHANNEL_ID,
    USER_ID,
    MakeMediaLink,
    wix_url,
)


async def test_a_command_records_one_link_per_file_with_who_where_and_until_when(
    make_medialink: MakeMediaLink, fake_wix: FakeWix, tmp_path: Path
) -> None:
    medialink = await started(make_medialink, tmp_path)
    first = fake_wix.add_file(display_name="plan.pdf", kind="document")
    second = fake_wix.add_file()
    sent = await medialink.command(f"{wix_url(first)} {wix_url(second)} expires=2h")
    await medialink.reply(sent)
    found = await events(medialink, 2, outcome="ok")
    assert {event.file_id for event in found} == {first, second}
    for event in found:
        assert event.entry == "command"
        assert (event.user_id, event.team_id, event.channel_id) == (USER_ID, TEAM_ID, CHANNEL_ID)
        assert event.asset_keys == ("src",)
        assert event.expires_at is not None
        lifetime = (event.expires_at - event.at).total_seconds()
        assert 7190 <= lifetime <= 7210
        assert repr(event).count("http") == 0
    [plan] = [event for event in found if event.file_id == first]
    assert plan.file_name == "plan.pdf"


async def test_a_missing_file_is_recorded_with_wix_answer_and_request_id(
    make_medialink: MakeMediaLink, fake_wix: FakeWix, tmp_path: Path
) -> None:
    medialink = await started(make_medialink, tmp_path)
    missing = "2acbb8_0000000000000000000000000000dead~mv2.jpg"
    sent = await medialink.command(wix_url(missing))
    await medialink.reply(sent)
    [event] = await events(medialink, 1, file_id=missing)
    assert event.outcome not in {"ok", "refused"}
    assert event.wix_request_id  # the fake answers with one, as Wix does
    assert event.expires_at is None


async def test_a_button_records_its_own_entry(
    make_medialink: MakeMediaLink, fake_wix: FakeWix, tmp_path: Path
) -> None:
    medialink = await started(make_medialink, tmp_path)
    reply = await medialink.reply(await medialink.command(wix_url(fake_wix.add_file())))
    await medialink.reply(await medialink.click(reply, "medialink_regenerate"))
    found = await events(medialink, 2, outcome="ok")
    assert sorted(event.entry for event in found) == ["button:regenerate", "command"]


async def test_a_member_over_quota_is_recorded_as_refused(
    make_medialink: MakeMediaLink, fake_wix: FakeWix, tmp_path: Path
) -> None:
    medialink = await started(
        make_medialink, tmp_path, medialink_user_files_per_minute=1, medialink_max_refs=1
    )
    await medialink.reply(await medialink.command(wix_url(fake_wix.add_file())))
    await medialink.reply(await medialink.command(wix_url(fake_wix.add_file())))
    [refusal] = await events(medialink, 1, outcome="refused")
    assert refusal.entry == "command"
    assert refusal.user_id == USER_ID
    assert refusal.reason is not None
    assert "limit is 1" in refusal.reason


def test_the_command_line_records_its_links(
    fake_wix: FakeWix,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    database = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    for name, value in {
        "WIX_API_KEY": FakeWix.API_KEY,
        "WIX_SITE_ID": FakeWix.SITE_ID,
        "WIX_API_URL": fake_wix.base_url,
        "DATABASE_URL": database,
    }.items():
        monkeypatch.setenv(name, value)
    file_id = fake_wix.add_file()
    assert main(["link", wix_url(file_id), "--json"]) == 0
    capsys.readouterr()

    async def read() -> list[AuditEvent]:
        trail = SqlAuditTrail(database)
        try:
            await trail.start()
            return list(await trail.query(AuditQuery()))
        finally:
            await trail.aclose()

    [event] = asyncio.run(read())
    assert (event.entry, event.file_id, event.outcome, event.user_id) == (
        "cli",
        file_id,
        "ok",
        None,
    )
