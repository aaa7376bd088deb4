"""Sharing Wix's budget: round-robin between members, per-member quota, deadlines, a cap.

Through the link service and real HTTP against the loopback fake Wix.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import SecretStr

from bot.config import Settings
from bot.services import build_services
from bot.slack.messages import MEDIALINK_BUSY, describe_error
from bot.wix.auth import ApiKeyAuth
from bot.wix.client import RetryPolicy, WixMediaClient
from bot.wix.fairness import FileQuota, FileQuotaError, WixBusyError
from bot.wix.links import LinkService
from bot.wix.ratelimit import RateLimiter
from bot.wix.refs import MediaRef, parse_media_refs
from tests.fakes.wix import FakeWix
from tests.wix.conftest import FakeClock, RecordingSleep

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)

ServiceFactory = Callable[..., LinkService]


@pytest.fixture
def wix() -> Iterator[FakeWix]:
    with FakeWix() as fake:
        yield fake


@pytest.fixture
async def make_service(wix: FakeWix) -> AsyncIterator[ServiceFactory]:
    clients: list[WixMediaClient] = []

    def factory(limiter: RateLimiter | None = None, **kwargs: Any) -> LinkService:
        limiter = limiter or RateLimiter(100_000, 60.0)
        client = WixMediaClient(
            ApiKeyAuth(SecretStr(FakeWix.API_KEY), FakeWix.SITE_ID),
            base_url=wix.base_url,
            retry=RetryPolicy(max_attempts=1),
            limiter=limiter,
            max_concurrency=limiter.limit,  # as in production
        )
        clients.append(client)
        return LinkService(client, now=lambda: NOW, **kwargs)

    yield factory
    for client in clients:
        await client.aclose()


def refs_for(file_ids: list[str]) -> tuple[MediaRef, ...]:
    return parse_media_refs("\n".join(file_ids)).refs


async def until(condition: Callable[[], bool]) -> None:
    """Let the event loop run until ``condition`` holds (for at most about ten seconds)."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the condition never held")


# -- round-robin ---------------------------------------------------------------------


async def test_one_file_gets_its_link_while_another_member_floods(
    wix: FakeWix, make_service: ServiceFactory
) -> None:
    # Five calls per tenth of a second; six 10-file commands make 66 calls.
    limiter = RateLimiter(5, 0.1)
    service = make_service(limiter)
    files = [wix.add_file(kind="image") for _ in range(61)]
    finished: list[str] = []

    async def ask(name: str, requester: str, file_ids: list[str]) -> None:
        results = await service.generate(refs_for(file_ids), requester=requester)
        assert all(result.ok for result in results)
        finished.append(name)

    flood = [
        asyncio.create_task(ask(f"alice-{n}", "U0ALICE", files[n * 10 : n * 10 + 10]))
        for n in range(6)
    ]
    await until(lambda: limiter.queued > 0)  # Alice's calls are queued before Bob asks
    await asyncio.gather(*flood, ask("bob", "U0BOB", files[60:]))

    # Arrival order would put Bob last; taking turns, at most Alice's first command
    # (already under way when he asked) finishes before his.
    assert finished.index("bob") <= 1, finished


# -- per-member quota ----------------------------------------------------------------


async def test_over_quota_is_refused_with_the_numbers_and_no_wix_call(
    wix: FakeWix, make_service: ServiceFactory, fake_clock: FakeClock, fake_sleep: RecordingSleep
) -> None:
    service = make_service(
        RateLimiter(100_000, 60.0, clock=fake_clock, sleep=fake_sleep), user_files_per_minute=10
    )
    files = [wix.add_file(kind="image") for _ in range(12)]
    await service.generate(refs_for(files[:6]), requester="U0ALICE")
    calls = len(wix.requests)

    fake_clock.advance(20.0)
    with pytest.raises(FileQuotaError) as caught:
        await service.generate(refs_for(files[6:11]), requester="U0ALICE")
    error = caught.value
    assert (error.asked, error.limit) == (11, 10)
    assert error.retry_after == pytest.approx(40.0)
    assert str(error) == (
        "You've asked for 11 files in the last minute (the limit is 10); try again in 40 s."
    )
    assert describe_error(error) == str(error)
    assert len(wix.requests) == calls, "refused before any Wix call"

    # Other members and the CLI have their own allowance.
    await service.generate(refs_for(files[6:11]), requester="U0BOB")
    await service.generate(refs_for(files), requester=None)

    # The window slides: a minute after her first request, Alice has room again.
    fake_clock.advance(40.0)
    results = await service.generate(refs_for(files[6:11]), requester="U0ALICE")
    assert all(result.ok for result in results)


def test_the_quota_waits_only_as_long_as_needed_and_forgets_idle_members() -> None:
    quota = FileQuota(10, period=60.0)
    quota.take("alice", 4, now=0.0)
    quota.take("alice", 4, now=10.0)
    quota.take("alice", 2, now=30.0)
    with pytest.raises(FileQuotaError) as caught:
        quota.take("alice", 5, now=40.0)
    # The first request (4 files) leaving the window at 60 s is not enough; the second
    # leaving at 70 s is: 30 s from now.
    assert caught.value.retry_after == pytest.approx(30.0)
    with pytest.raises(FileQuotaError) as too_many:
        quota.take("bob", 11, now=40.0)
    assert too_many.value.retry_after is None
    assert "at once" in str(too_many.value)

    for n in range(1_000):
        quota.take(f"member-{n}", 1, now=50.0)
    assert len(quota) == 1_001
    quota.take("carol", 1, now=111.0)  # everyone else has been idle for a minute
    assert len(quota) == 1


async def test_the_quota_comes_from_settings(wix: FakeWix) -> None:
    settings = Settings(
        _env_file=None,
        wix_api_key=SecretStr(FakeWix.API_KEY),
        wix_site_id=FakeWix.SITE_ID,
        wix_api_url=wix.base_url,
        medialink_max_refs=20,
        medialink_user_files_per_minute=25,
    )
    services = build_services(settings)
    try:
        assert services.links.quota.limit == 25
    finally:
        await services.aclose()


def test_a_quota_smaller_than_one_request_is_refused_at_start_up() -> None:
    with pytest.raises(ValueError, match="MEDIALINK_USER_FILES_PER_MINUTE"):
        Settings(
            _env_file=None,
            medialink_max_refs=50,
            medialink_user_files_per_minute=20,
        )


# -- deadlines and the cap -----------------------------------------------------------


async def test_a_file_whose_call_cannot_start_in_time_gets_the_busy_error(
    wix: FakeWix, make_service: ServiceFactory, fake_clock: FakeClock, fake_sleep: RecordingSleep
) -> None:
    # Two calls a minute: Alice's one file (descriptor and link) fills the window.
    service = make_service(RateLimiter(2, 60.0, clock=fake_clock, sleep=fake_sleep))
    alice, bob = wix.add_file(kind="image"), wix.add_file(kind="image")
    await service.generate(refs_for([alice]), requester="U0ALICE")
    calls = len(wix.requests)

    [result] = await service.generate(
        refs_for([bob]), requester="U0BOB", deadline=fake_clock() + 10.0
    )
    assert isinstance(result.error, WixBusyError)
    assert not result.ok
    assert describe_error(result.error) == MEDIALINK_BUSY
    assert "try again in a minute" in MEDIALINK_BUSY.lower()
    assert len(wix.requests) == calls

    # With the default deadline (minutes away) the same request waits its turn.
    [result] = await service.generate(refs_for([bob]), requester="U0BOB")
    assert result.ok
    assert fake_sleep.delays == [pytest.approx(60.0)]


async def test_requests_beyond_the_cap_fail_at_once(
    wix: FakeWix, make_service: ServiceFactory
) -> None:
    service = make_service(max_pending=2)
    files = [wix.add_file(kind="image") for _ in range(3)]
    wix.latency = 0.3
    under_way = [
        asyncio.create_task(service.generate(refs_for([file_id]), requester="U0ALICE"))
        for file_id in files[:2]
    ]
    await until(lambda: service.pending == 2)

    with pytest.raises(WixBusyError, match="MediaLink is busy"):
        await service.generate(refs_for(files[2:]), requester="U0BOB")
    for outcome in await asyncio.gather(*under_way):
        assert all(result.ok for result in outcome)
    assert not any(
        isinstance(r.json, dict) and r.json.get("fileId") == files[2] for r in wix.requests
    )
    assert service.pending == 0
    # Room again once they are done.
    [result] = await service.generate(refs_for(files[2:]), requester="U0BOB")
    assert result.ok
