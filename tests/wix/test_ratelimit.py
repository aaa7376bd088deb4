"""The rolling-window rate limiter, driven by a fake clock (no real waiting)."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.wix.ratelimit import RateLimiter
from tests.wix.conftest import FakeClock, RecordingSleep


def _limiter(
    limit: int = 180, period: float = 60.0
) -> tuple[RateLimiter, FakeClock, RecordingSleep]:
    clock = FakeClock()
    sleep = RecordingSleep(clock)
    return RateLimiter(limit, period, clock=clock, sleep=sleep), clock, sleep


async def test_the_181st_call_in_a_minute_waits_for_the_oldest_to_expire() -> None:
    limiter, clock, sleep = _limiter()
    first = clock()
    for _ in range(180):
        await limiter.acquire()
        clock.advance(0.1)
    assert sleep.delays == []
    assert limiter.in_window == 180

    await limiter.acquire()

    assert clock() == pytest.approx(first + 60.0)
    assert sleep.delays == [pytest.approx(60.0 - 18.0)]
    assert (limiter.acquired, limiter.waited) == (181, 1)
    assert limiter.total_wait == pytest.approx(42.0)


async def test_an_acquisition_exactly_one_period_old_has_left_the_window() -> None:
    limiter, clock, sleep = _limiter(limit=1, period=10.0)
    await limiter.acquire()
    clock.advance(10.0)
    await limiter.acquire()
    assert sleep.delays == []


async def test_waiters_are_served_in_arrival_order() -> None:
    limiter, _, _ = _limiter(limit=2, period=5.0)
    order: list[int] = []

    async def take(n: int) -> None:
        await limiter.acquire()
        order.append(n)

    await asyncio.gather(*(take(n) for n in range(7)))
    assert order == list(range(7))
    assert limiter.acquired == 7


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError, match="limit"):
        RateLimiter(0)
    with pytest.raises(ValueError, match="period"):
        RateLimiter(10, 0)


@settings(max_examples=200, deadline=None)
@given(
    limit=st.integers(min_value=1, max_value=6),
    period=st.floats(min_value=0.5, max_value=20.0),
    gaps=st.lists(st.floats(min_value=0.0, max_value=8.0), min_size=1, max_size=40),
    concurrent=st.booleans(),
)
def test_never_more_than_limit_in_any_rolling_window(
    limit: int, period: float, gaps: list[float], concurrent: bool
) -> None:
    limiter, clock, _ = _limiter(limit, period)
    granted: list[float] = []
    arrived: list[float] = []

    async def take() -> None:
        arrived.append(clock())
        await limiter.acquire()
        granted.append(clock())

    async def run() -> None:
        if concurrent:  # everything arrives at once
            await asyncio.gather(*(take() for _ in gaps))
            return
        for gap in gaps:  # arrivals spread out by the gaps
            clock.advance(gap)
            await take()

    asyncio.run(run())

    assert len(granted) == len(gaps)
    assert granted == sorted(granted)
    for i in range(len(granted) - limit):
        # limit+1 consecutive grants never fit inside one window...
        assert granted[i + limit] - granted[i] >= period - 1e-9
    for i in range(limit, len(granted)):
        # ...and nobody waited longer than needed: a delayed grant happens exactly when the
        # grant `limit` places earlier leaves the window.
        assert granted[i] <= max(arrived[i], granted[i - limit] + period) + 1e-9


async def test_a_slot_counts_from_when_its_request_ended() -> None:
    limiter, clock, sleep = _limiter(limit=2, period=10.0)
    start = clock()
    ended = asyncio.Event()

    async def slow_request() -> None:
        async with limiter.slot():
            await ended.wait()

    first = asyncio.create_task(slow_request())
    async with limiter.slot():
        clock.advance(1.0)
    await asyncio.sleep(0)
    assert limiter.in_window == 2  # one ended at t=1, one still in flight

    third = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    ended.set()
    await first
    await third
    # The first slot began at t=0 but ended at t=1: the third waits until t=11 (counted
    # from the start it would have waited only until t=10).
    assert sleep.delays == [pytest.approx(10.0)]
    assert clock() == pytest.approx(start + 11.0)


async def test_when_every_place_is_in_flight_the_next_waits_for_one_to_end() -> None:
    limiter, clock, sleep = _limiter(limit=1, period=10.0)
    release = asyncio.Event()

    async def hold() -> None:
        async with limiter.slot():
            await release.wait()

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    waiter = asyncio.create_task(limiter.acquire())
    await asyncio.sleep(0)
    assert not waiter.done()
    clock.advance(3.0)
    release.set()
    await holder
    await waiter
    assert sleep.delays == [pytest.approx(10.0)]
    assert limiter.waited == 1
