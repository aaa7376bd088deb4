"""The rolling-window rate limiter, driven by a fake clock (no real waiting)."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.wix.fairness import Caller, WixBusyError
from bot.wix.ratelimit import RateLimiter
from tests.wix.conftest import FakeClock, RecordingSleep


def _limiter(
    limit: int = 180, period: float = 60.0
) -> tuple[RateLimiter, FakeClock, RecordingSleep]:
    clock = FakeClock()
    sleep = RecordingSleep(clock)
    return RateLimiter(limit, period, clock=clock, sleep=sleep), clock, sleep


async def take(limiter: RateLimiter, caller: Caller | None = None) -> None:
    """One request that takes no time: it counts from the moment it is let through."""
    async with limiter.slot(caller):
        pass


async def test_the_181st_call_in_a_minute_waits_for_the_oldest_to_expire() -> None:
    limiter, clock, sleep = _limiter()
    first = clock()
    for _ in range(180):
        await take(limiter)
        clock.advance(0.1)
    assert sleep.delays == []
    assert limiter.in_window == 180

    await take(limiter)

    assert clock() == pytest.approx(first + 60.0)
    assert sleep.delays == [pytest.approx(60.0 - 18.0)]
    assert (limiter.acquired, limiter.waited) == (181, 1)
    assert limiter.total_wait == pytest.approx(42.0)


async def test_an_acquisition_exactly_one_period_old_has_left_the_window() -> None:
    limiter, clock, sleep = _limiter(limit=1, period=10.0)
    await take(limiter)
    clock.advance(10.0)
    await take(limiter)
    assert sleep.delays == []


async def test_one_requesters_waiters_are_served_in_arrival_order() -> None:
    limiter, _, _ = _limiter(limit=2, period=5.0)
    order: list[int] = []

    async def one(n: int) -> None:
        await take(limiter)
        order.append(n)

    await asyncio.gather(*(one(n) for n in range(7)))
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

    async def one() -> None:
        arrived.append(clock())
        async with limiter.slot():
            granted.append(clock())

    async def run() -> None:
        if concurrent:  # everything arrives at once
            await asyncio.gather(*(one() for _ in gaps))
            return
        for gap in gaps:  # arrivals spread out by the gaps
            clock.advance(gap)
            await one()

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

    third = asyncio.create_task(take(limiter))
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
    waiter = asyncio.create_task(take(limiter))
    await asyncio.sleep(0)
    assert not waiter.done()
    clock.advance(3.0)
    release.set()
    await holder
    await waiter
    assert sleep.delays == [pytest.approx(10.0)]
    assert limiter.waited == 1


# -- fairness and deadlines ------------------------------------------------------------


class ManualTime:
    """A clock and sleep that move only when the test says: sleepers wake on ``advance``."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        future = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.now + delay, future))
        await future

    async def advance(self, seconds: float) -> None:
        self.now += seconds
        for wake, future in list(self._sleepers):
            if wake <= self.now and not future.done():
                future.set_result(None)
        self._sleepers = [(w, f) for w, f in self._sleepers if not f.done()]
        for _ in range(5):  # let the woken run
            await asyncio.sleep(0)


async def test_requesters_take_turns_instead_of_queueing_behind_a_flood() -> None:
    limiter, _, _ = _limiter(limit=2, period=5.0)
    order: list[str] = []

    async def one(name: str, requester: str) -> None:
        await take(limiter, Caller(requester))
        order.append(name)

    flood = [asyncio.create_task(one(f"a{n}", "alice")) for n in range(10)]
    await asyncio.sleep(0)
    bob = asyncio.create_task(one("bob", "bob"))
    await asyncio.gather(*flood, bob)

    # Alice's first two went at once, her third was already waiting for the window,
    # then the turns alternate: Bob is next but one instead of eleventh.
    assert order.index("bob") <= 4
    assert [name for name in order if name != "bob"] == [f"a{n}" for n in range(10)]


async def test_the_anonymous_caller_is_a_requester_of_its_own() -> None:
    limiter, _, _ = _limiter(limit=1, period=5.0)
    order: list[str] = []

    async def one(name: str, caller: Caller | None) -> None:
        await take(limiter, caller)
        order.append(name)

    flood = [asyncio.create_task(one(f"a{n}", Caller("alice"))) for n in range(6)]
    await asyncio.sleep(0)
    await asyncio.gather(*flood, one("cli", None))
    assert order.index("cli") <= 3


async def test_a_waiter_that_cannot_start_before_its_deadline_gives_up_at_once() -> None:
    limiter, clock, sleep = _limiter(limit=1, period=10.0)
    await take(limiter)
    with pytest.raises(WixBusyError, match="MediaLink is busy") as caught:
        await take(limiter, Caller("bob", deadline=clock() + 5.0))
    assert caught.value.retry_after == pytest.approx(10.0)
    assert sleep.delays == []  # it did not wait for nothing
    assert limiter.gave_up == 1
    # Someone with time to spare still gets through.
    await take(limiter, Caller("bob", deadline=clock() + 10.0))
    assert limiter.acquired == 2


async def test_a_queued_waiter_gives_up_at_its_deadline_while_others_wait_on() -> None:
    time = ManualTime()
    limiter = RateLimiter(1, 60.0, clock=time, sleep=time.sleep)
    release = asyncio.Event()
    failed_at: list[float] = []

    async def hold() -> None:
        async with limiter.slot():
            await release.wait()

    async def patient() -> None:
        await take(limiter, Caller("alice"))  # no deadline

    async def hurried() -> None:
        try:
            await take(limiter, Caller("bob", deadline=time() + 3.0))
        except WixBusyError:
            failed_at.append(time())

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    first = asyncio.create_task(patient())  # its turn: waits for the holder
    await asyncio.sleep(0)
    second = asyncio.create_task(hurried())  # queued behind it
    await asyncio.sleep(0)

    await time.advance(2.0)
    assert failed_at == []
    await time.advance(1.0)
    await second
    assert failed_at == [1_003.0]  # at its deadline, not when the place frees up
    assert not first.done()

    release.set()
    await holder
    await time.advance(60.0)
    await first
    assert limiter.acquired == 2
    assert limiter.queued == 0


async def test_a_cancelled_waiter_passes_its_turn_on() -> None:
    limiter, clock, _ = _limiter(limit=1, period=10.0)
    release = asyncio.Event()

    async def hold() -> None:
        async with limiter.slot():
            await release.wait()

    holder = asyncio.create_task(hold())
    await asyncio.sleep(0)
    waiting = asyncio.create_task(take(limiter, Caller("alice")))  # its turn: waits
    queued = asyncio.create_task(take(limiter, Caller("bob")))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    release.set()
    await holder
    await queued  # got the turn Alice left
    assert limiter.acquired == 2
    assert clock() == pytest.approx(1_010.0)
