"""The install flow's states and a workspace's stored settings, on the real database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.audit.store import SqlAuditTrail
from bot.policy import AccessSettings, PrivateFiles
from bot.workspaces.policy import PolicyStore, WorkspacePolicy
from bot.workspaces.schema import oauth_states
from bot.workspaces.stores import SignedStateStore

SECRET = b"s" * 32


@pytest.fixture
async def trail(tmp_path: Path) -> AsyncIterator[SqlAuditTrail]:
    trail = SqlAuditTrail(f"sqlite+aiosqlite:///{tmp_path / 'workspaces.db'}")
    await trail.migrate()
    yield trail
    await trail.aclose()


async def state_rows(trail: SqlAuditTrail) -> int:
    async with trail.engine.connect() as connection:
        return int(
            await connection.scalar(sa.select(sa.func.count()).select_from(oauth_states)) or 0
        )


async def test_a_state_is_good_until_an_install_used_it(trail: SqlAuditTrail) -> None:
    states = SignedStateStore(trail.engine, SECRET)
    state = await states.async_issue()
    assert await states.async_consume(state)
    assert await states.async_consume(state)  # Slack refused the code: the state may retry
    await states.used(state)  # Slack accepted the code exchange
    assert not await states.async_consume(state)


async def test_two_replicas_marking_one_state_used_write_it_once(trail: SqlAuditTrail) -> None:
    states = SignedStateStore(trail.engine, SECRET)
    state = await states.async_issue()
    await asyncio.gather(*(states.used(state) for _ in range(5)))
    assert await state_rows(trail) == 1
    assert not await states.async_consume(state)


async def test_forged_and_foreign_states_are_refused(trail: SqlAuditTrail) -> None:
    states = SignedStateStore(trail.engine, SECRET)
    other = SignedStateStore(trail.engine, b"o" * 32)
    theirs = await other.async_issue()
    assert not await states.async_consume(theirs)  # signed with another secret
    nonce, expiry, signature = theirs.split(".")
    later = str(int(expiry) + 3600)
    mine = (await states.async_issue()).split(".")
    for forged in (
        "",
        nonce,
        nonce + ".",
        nonce + ".00",
        f"{nonce}.{expiry}",
        f"{nonce}.{later}.{signature}",  # a longer life, under the old signature
        f"{mine[0]}.{later}.{mine[2]}",
        "x" * 5000,
        "é.é",
    ):
        assert not await states.async_consume(forged)
        await states.used(forged)  # never written
    assert await state_rows(trail) == 0


async def test_an_expired_state_is_refused_and_its_row_pruned(trail: SqlAuditTrail) -> None:
    now = [1_000_000.0]
    states = SignedStateStore(trail.engine, SECRET, lifetime=600, clock=lambda: now[0])
    old = await states.async_issue()
    assert await states.async_consume(old)
    now[0] += 601
    assert not await states.async_consume(old)
    # A used state's row goes once past its expiry, at the next install's.
    real = SignedStateStore(trail.engine, SECRET)
    first, second = await real.async_issue(), await real.async_issue()
    await real.used(first)
    async with trail.engine.begin() as connection:
        await connection.execute(oauth_states.update().values(expire_at=datetime(2000, 1, 1)))
    await real.used(second)
    assert await state_rows(trail) == 1


async def test_anonymous_visits_write_nothing_and_a_real_install_still_works(
    trail: SqlAuditTrail,
) -> None:
    """Each visit to /slack/install issues a state; 20,000 of them (the old store's rows
    filled its 10,000-state bound and blocked installs for ten minutes) write no row."""
    states = SignedStateStore(trail.engine, SECRET)
    for _ in range(20_000):
        await states.async_issue()
    assert await state_rows(trail) == 0
    state = await states.async_issue()
    assert await states.async_consume(state)
    await states.used(state)
    assert await state_rows(trail) == 1


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


async def test_settings_are_read_again_in_the_background_before_they_expire(
    trail: SqlAuditTrail,
) -> None:
    """With steady traffic no request waits for the database: past half its lifetime an
    entry is still answered from the cache at once, and read again behind the scenes;
    an unchanged answer keeps the same object (what is built on it stays built)."""
    now = [0.0]
    here = PolicyStore(trail.engine, ttl=10.0, clock=lambda: now[0])
    there = PolicyStore(trail.engine)
    first = WorkspacePolicy(private_files="nobody")
    await there.save("T1", first, by="U1")
    seen = await here.get("T1")
    assert seen == first
    now[0] = 4.0  # fresh, young: nothing is read
    assert await here.get("T1") is seen
    assert not here._reading  # no read under way
    await there.save("T1", WorkspacePolicy(private_files="everyone"), by="U1")
    now[0] = 6.0  # fresh, but past half its life: the cached answer, and a read begins
    assert await here.get("T1") is seen
    assert here._reading
    await asyncio.gather(*here._reading.values())
    changed = await here.get("T1")
    assert changed is not None
    assert changed.private_files == "everyone"
    now[0] = 10.0  # the background read (at 6) reset the clock: no read needed yet
    assert await here.get("T1") is changed
    assert not here._reading


async def test_a_read_ahead_waits_for_the_burst_that_started_it(trail: SqlAuditTrail) -> None:
    """The request past half an entry's life is often the first of a burst: the read it
    starts gives way (the dispatcher's calm) before it touches the database."""
    now = [0.0]
    here = PolicyStore(trail.engine, ttl=10.0, clock=lambda: now[0])
    there = PolicyStore(trail.engine)
    await there.save("T1", WorkspacePolicy(private_files="nobody"), by="U1")
    seen = await here.get("T1")
    calm = asyncio.Event()
    gave_way: list[bool] = []

    async def burst_acked() -> None:
        gave_way.append(True)
        await calm.wait()

    here.give_way = burst_acked
    await there.save("T1", WorkspacePolicy(private_files="everyone"), by="U1")
    now[0] = 6.0
    assert await here.get("T1") is seen  # answered from the cache, a read ahead begun
    await asyncio.sleep(0.05)
    assert gave_way == [True]
    assert await here.get("T1") is seen  # the database not read yet: the burst goes on
    calm.set()
    await asyncio.gather(*here._reading.values())
    changed = await here.get("T1")
    assert changed is not None
    assert changed.private_files == "everyone"
