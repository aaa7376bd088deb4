"""OAuth mode fails closed when a request names no tenant: ``TenantScope`` runs no
listener for it, and the record is never read for "no tenant" (which would be everyone's).
And rows stamp their tenant themselves where the request's context may not be theirs.

Bolt's authorization stands in front of both over HTTP (tests/slack/test_e2e_workspaces.py),
so these drive the middleware and the record reader themselves, on a real database.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.audit import AuditEvent, AuditQuery, Outcome
from bot.audit.store import SqlAuditTrail
from bot.dispatch import Dispatcher
from bot.policy import AccessPolicy
from bot.slack.listeners import SlackDeps
from bot.slack.listeners.history import read_record
from bot.slack.listeners.sites import _Recorder
from bot.slack.tenancy import TenantScope
from bot.tenancy import current_tenant
from bot.wix.auth import ApiKeyAuth
from bot.wix.client import WixMediaClient
from bot.wix.links import LinkService
from bot.workspaces.service import Workspaces, build_workspaces


@pytest.fixture
async def trail(tmp_path: Path) -> AsyncIterator[SqlAuditTrail]:
    trail = SqlAuditTrail(f"sqlite+aiosqlite:///{tmp_path / 'tenancy.db'}")
    await trail.migrate()
    yield trail
    await trail.aclose()


def oauth_workspaces(trail: SqlAuditTrail) -> Workspaces:
    return build_workspaces(
        engine=trail.engine,
        ready=trail.ensure_migrated,
        oauth_client_id="1111111111.2222222222",
        state_secret=b"s" * 32,
    )


def slack_deps(trail: SqlAuditTrail) -> SlackDeps:
    return SlackDeps(
        links=LinkService(WixMediaClient(ApiKeyAuth("IST.unused", "site"))),
        max_refs=1,
        share_enabled=False,
        respond_to=Dispatcher().respond,
        audit=trail,
        workspaces=oauth_workspaces(trail),
    )


def request(body: dict[str, object]) -> AsyncBoltRequest:
    return AsyncBoltRequest(body=json.dumps(body), headers={"content-type": "application/json"})


@pytest.mark.parametrize(
    "body",
    [
        {
            "type": "event_callback",
            "api_app_id": "A0MEDIALNK",
            "event": {"type": "app_home_opened", "user": "U0ALICE0A", "tab": "home"},
        },
        {"command": "/medialink", "text": "history", "user_id": "U0ALICE0A"},
    ],
)
async def test_oauth_mode_runs_no_listener_for_a_request_naming_no_workspace(
    trail: SqlAuditTrail, body: dict[str, object]
) -> None:
    req = request(body)
    assert req.context.team_id is None
    assert req.context.enterprise_id is None
    scope = TenantScope(oauth_workspaces(trail), AccessPolicy(), None)
    served: list[bool] = []

    async def next_() -> BoltResponse:
        served.append(True)
        return BoltResponse(status=200, body="served")

    answer = await scope.async_process(req=req, resp=BoltResponse(status=404), next=next_)
    assert served == []
    assert answer is not None
    assert answer.status == 200
    if "command" in body:
        assert "could not tell which workspace" in answer.body


async def test_the_record_is_not_read_for_no_tenant_in_oauth_mode(trail: SqlAuditTrail) -> None:
    await trail.start()
    trail.record(
        [
            AuditEvent(
                at=datetime.now(UTC),
                team_id=team,
                enterprise_id=None,
                user_id="U0ANNA00A",
                channel_id=None,
                entry="command",
                outcome=Outcome.OK,
                file_id=f"{team}_file",
                tenant_id=team,
            )
            for team in ("T0AAAAAA1", "T0BBBBBB2")
        ]
    )
    assert await trail.flush(10.0)
    deps = slack_deps(trail)
    everyone = AuditQuery(limit=100)
    assert await read_record(deps, everyone) == []
    # A tenant reads its own rows only; one workspace's app (no OAuth) reads them all.
    [own] = await read_record(replace(deps, tenant="T0AAAAAA1"), everyone) or []
    assert own.tenant_id == "T0AAAAAA1"
    single = replace(deps, workspaces=None)
    assert len(await read_record(single, everyone) or []) == 2


async def test_the_sites_modals_rows_carry_their_tenant_whatever_the_context(
    trail: SqlAuditTrail,
) -> None:
    """An org-wide install's admin changes its sites from one of the org's workspaces:
    the row is the org's, even recorded outside that request's context (or inside
    another's)."""
    await trail.start()
    org, workspace = "E0ORG0001", "T0ORGWS01"
    body = {"team": {"id": workspace}, "enterprise": {"id": org}}
    recorder = _Recorder(slack_deps(trail), org, "U0ADMIN01", body)
    recorder.done(Outcome.OK, "added site shop")
    token = current_tenant.set("T0BBBBBB2")  # another tenant's request context
    try:
        recorder.refused("not an admin")
    finally:
        current_tenant.reset(token)
    assert await trail.flush(10.0)
    rows = await trail.query(AuditQuery(tenant_id=org, limit=10))
    assert sorted(row.reason or "" for row in rows) == ["added site shop", "not an admin"]
    assert {row.tenant_id for row in rows} == {org}
    assert await trail.query(AuditQuery(tenant_id="T0BBBBBB2", limit=10)) == []
