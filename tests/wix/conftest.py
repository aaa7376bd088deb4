"""Fixtures for the Wix client tests: the loopback fake, a fake clock, a recording sleep."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any, Protocol

import pytest
from pydantic import SecretStr

from bot.wix.auth import ApiKeyAuth, OAuthClientCredentials, WixAuth
from bot.wix.client import WixMediaClient
from tests.fakes.wix import FakeWix


class FakeClock:
    """A monotonic clock that only moves when told to (or when ``RecordingSleep`` sleeps)."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingSleep:
    """An ``asyncio.sleep`` stand-in: records each delay and advances the fake clock."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(float(delay))
        self.clock.advance(float(delay))
        await asyncio.sleep(0)  # still yield, like a real sleep


class ClientFactory(Protocol):
    def __call__(self, auth: WixAuth | None = None, **kwargs: Any) -> WixMediaClient: ...


@pytest.fixture
def fake_wix() -> Iterator[FakeWix]:
    with FakeWix() as fake:
        yield fake


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake_sleep(fake_clock: FakeClock) -> RecordingSleep:
    return RecordingSleep(fake_clock)


@pytest.fixture
def api_key_auth() -> ApiKeyAuth:
    return ApiKeyAuth(SecretStr(FakeWix.API_KEY), FakeWix.SITE_ID)


@pytest.fixture
def oauth(fake_wix: FakeWix, fake_clock: FakeClock) -> OAuthClientCredentials:
    return OAuthClientCredentials(
        FakeWix.CLIENT_ID,
        SecretStr(FakeWix.CLIENT_SECRET),
        FakeWix.INSTANCE_ID,
        token_url=fake_wix.base_url + "/oauth2/token",
        clock=fake_clock,
    )


@pytest.fixture
async def make_client(
    fake_wix: FakeWix,
    api_key_auth: ApiKeyAuth,
    fake_clock: FakeClock,
    fake_sleep: RecordingSleep,
) -> AsyncIterator[ClientFactory]:
    """Build clients pointed at the fake, with the fake clock and recording sleep by default."""
    clients: list[WixMediaClient] = []

    def factory(auth: WixAuth | None = None, **kwargs: Any) -> WixMediaClient:
        kwargs.setdefault("base_url", fake_wix.base_url)
        kwargs.setdefault("sleep", fake_sleep)
        kwargs.setdefault("clock", fake_clock)
        client = WixMediaClient(auth or api_key_auth, **kwargs)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.aclose()
