"""The install flow's states and a workspace's stored settings, on the real database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.audit.store import SqlAuditTrail
from bot.policy import AccessSettings, PrivateFiles
from bot.workspaces.policy import PolicyStore, WorkspacePolicy
from bot.workspaces.stores import SignedStateStore, TooManyInstalls

SECRET = b"s" * 32


@pytest.fixture
async def trail(tmp_path: Path) -> AsyncIterator[SqlAuditTrail]:
    trail = SqlAuditTrail(f"sqlite+aiosqlite:///{tmp_path / 'workspaces.db'}")
    await trail.migrate()
    yield trail
    await trail.aclose()


async def test_a_state_is_good_once(trail: SqlAuditTrail) -> None:
    states = SignedStateStore(trail.engine, SECRET)
    state = await states.async_issue()
    assert await states.async_consume(state)
    assert not await states.async_consume(state)


async def test_two_replicas_consuming_one_state_accept_it_once(trail: SqlAuditTrail) -> None:
    states = SignedStateStore(trail.engine, SECRET)
    state = await states.async_issue()
    answers = await asyncio.gather(*(states.async_consume(state) for _ in range(5)))
    assert sorted(answers) == [False, False, False, False, True]


async def test_forged_and_foreign_states_are_refused(trail: SqlAuditTrail) -> None:
    states = SignedStateStore(trail.engine, SECRET)
    other = SignedStateStore(trail.engine, b"o" * 32)
    theirs = await other.async_issue()
    assert not await states.async_consume(theirs)  # signed with another secret
    nonce = theirs.split(".", 1)[0]
    for forged in ("", nonce, nonce + ".", nonce + ".00", "x" * 5000, "é.é"):
        assert not await states.async_consume(forged)


async def test_an_expired_state_is_refused_and_pruned(trail: SqlAuditTrail) -> None:
    states = SignedStateStore(trail.engine, SECRET, lifetime=-1, max_pending=1)
    old = await states.async_issue()
    assert not await states.async_consume(old)
    # The expired one does not count against the bound: it is pruned at the next issue.
    await states.async_issue()


async def test_installs_under_way_are_bounded(trail: SqlAuditTrail) -> None:
    states = SignedStateStore(trail.engine, SECRET, max_pending=2)
    first = await states.async_issue()
    await states.async_issue()
    with pytest.raises(TooManyInstalls):
        await states.async_issue()
    assert await states.async_consume(first)
    await states.async_issue()  # room again


async def test_settings_are_stored_per_tenant_and_seen_by_another_replica(
    trail: SqlAuditTrail,
) -> None:
    here = PolicyStore(trail.engine)
    there = PolicyStore(trail.engine, ttl=0.0)
    assert await there.get("T1") is None
    chosen = WorkspacePolicy(allowed_channels=("C2", "C1", "C1"), private_files="nobody")
    await here.save("T1", chosen, by="U1")
    assert chosen.allowed_channels == ("C1", "C2")
    assert await there.get("T1") == chosen
    assert await there.get("T2") is None
    applied = chosen.applied_to(AccessSettings(admins=frozenset({"U9"})))
    assert applied.private_files is PrivateFiles.NOBODY
    assert applied.admins == {"U9"}
    await here.delete("T1")
    assert await there.get("T1") is None


def test_stored_lists_hold_only_slack_ids() -> None:
    with pytest.raises(ValueError, match="not such an ID"):
        WorkspacePolicy(allowed_users=("C0CHANNEL",))
    with pytest.raises(ValueError, match="1000"):
        WorkspacePolicy(admins=tuple(f"U{n:06d}" for n in range(1001)))
