"""Fixtures for the client package: a fake clock, a mocked 1NCE, recorded shapes.

Time is virtual: the client and its limiter get `FakeTime.clock` and
`FakeTime.sleep`, so a test can wait an hour for a token to age, or sit out a
`Retry-After`, without waiting at all, and can assert how long was waited.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)
from yarl import URL

from custom_components.one_nce.api import DEFAULT_BASE_URL, OneNceClient

API_FIXTURES = Path(__file__).parent / "fixtures"
BASE_URL = DEFAULT_BASE_URL
TOKEN_URL = f"{BASE_URL}/oauth/token"
SIMS_URL = f"{BASE_URL}/v2/sims"
CLIENT_ID = "api-user-17"
CLIENT_SECRET = "s3cr3t:with-colon"  # a colon in the secret must survive Basic auth
ICCID = "8988228066000000101"
SIM_URL = f"{SIMS_URL}/{ICCID}"

SideEffect = Callable[[str, URL, Any], Awaitable[AiohttpClientMockResponse]]


def read_api_fixture(name: str) -> Any:
    """Read a recorded shape: JSON files as data, anything else as text."""
    text = (API_FIXTURES / name).read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else text


@pytest.fixture
def load_api_fixture() -> Callable[[str], Any]:
    """Give tests the fixture reader (files in the live API's shapes)."""
    return read_api_fixture


class FakeTime:
    """A monotonic clock that only moves when someone sleeps on it."""

    def __init__(self, start: float = 1000.0) -> None:
        """Start at an arbitrary, non-zero time, like time.monotonic()."""
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        """Return the virtual now."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Let everything runnable at the current time run, then move time on.

        Yielding first means that requests already in flight finish at the time
        they were sent, as they would on a real clock, before time advances.
        """
        self.sleeps.append(seconds)
        wake_at = self.now + max(0.0, seconds)
        for _ in range(5):
            await asyncio.sleep(0)
        self.now = max(self.now, wake_at)

    def advance(self, seconds: float) -> None:
        """Let time pass without anyone sleeping (an idle client)."""
        self.now += seconds

    @property
    def slept(self) -> float:
        """Total of all waits asked for."""
        return sum(self.sleeps)


@pytest.fixture
def fake_time() -> FakeTime:
    """Virtual time for one test."""
    return FakeTime()


@pytest.fixture
async def session(
    aioclient_mock: AiohttpClientMocker,
) -> AsyncGenerator[aiohttp.ClientSession]:
    """A real ClientSession whose requests are answered by `aioclient_mock`."""
    client_session = aioclient_mock.create_session(asyncio.get_running_loop())
    yield client_session
    await client_session.close()


@pytest.fixture
def client(session: aiohttp.ClientSession, fake_time: FakeTime) -> OneNceClient:
    """A client on virtual time, against the mocked 1NCE."""
    return OneNceClient(
        session,
        CLIENT_ID,
        CLIENT_SECRET,
        clock=fake_time.clock,
        sleep=fake_time.sleep,
    )


@pytest.fixture
def token_mock(aioclient_mock: AiohttpClientMocker) -> AiohttpClientMocker:
    """1NCE's token endpoint, answering with a valid token."""
    aioclient_mock.post(TOKEN_URL, json=read_api_fixture("token.json"))
    return aioclient_mock


def answers(*responses: dict[str, Any]) -> SideEffect:
    """Answer successive requests with `responses`; the last one repeats.

    Each item takes the keyword arguments of `AiohttpClientMockResponse`
    (`status`, `json`, `text`, `headers`, `exc`).
    """
    queue = list(responses)

    async def side_effect(
        method: str, url: URL, data: Any
    ) -> AiohttpClientMockResponse:
        kwargs = queue.pop(0) if len(queue) > 1 else queue[0]
        return AiohttpClientMockResponse(method=method, url=url, **kwargs)

    return side_effect


def calls_to(
    aioclient_mock: AiohttpClientMocker, method: str, url: str
) -> list[tuple[Any, ...]]:
    """The recorded calls (method, URL, body, headers) to one endpoint."""
    return [
        call
        for call in aioclient_mock.mock_calls
        if call[0].upper() == method.upper() and str(call[1].with_query(None)) == url
    ]


@pytest.fixture(autouse=True)
def generous_rate_limit() -> None:
    """Switch off tests/conftest.py's fixture of this name for the client tests.

    That one swaps in a 10,000-a-second limiter so that integration tests on
    frozen time never wait. Overriding it by name, with nothing, keeps the
    client's real limiter here, where its limits are what is tested
    (test_ratelimit.py proves this override is in effect).
    """
