"""A real sandbox on 127.0.0.1, a real forwarder receiver, the integration's client.

These tests cross real sockets on purpose: they are the contract check between
what the sandbox serves and what `OneNceClient` and `api.forwarder` expect.
Home Assistant is not needed, so the project-wide autouse fixture that would
start it is replaced here by one that does nothing.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
import json
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
import pytest

from custom_components.one_nce.api import OneNceClient
from sandbox import (
    API_PREFIX,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    SANDBOX,
    Sandbox,
    SandboxConfig,
    create_app,
)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override the project-wide fixture: these tests run without Home Assistant."""
    return


@dataclass
class Receiver:
    """Stands where Home Assistant's forwarder view would: records, answers."""

    answers: list[int] = field(default_factory=list)
    """Statuses to answer with, in order; 200 once they run out."""
    requests: list[tuple[str, Any, float]] = field(default_factory=list)
    acknowledged: list[tuple[str, Any, float]] = field(default_factory=list)
    url: str = ""
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def bodies(self, method: str) -> list[Any]:
        """What was acknowledged for `method` (the 2xx-answered requests)."""
        return [body for seen, body, _ in self.acknowledged if seen == method]

    async def wait_for(self, count: int, within: float = 5.0) -> None:
        """Wait until `count` requests have been acknowledged."""
        async with asyncio.timeout(within):
            while len(self.acknowledged) < count:
                self.arrived.clear()
                await self.arrived.wait()


@dataclass
class Running:
    """A started sandbox: its API URL, control URL and in-process state."""

    server: TestServer
    state: Sandbox

    @property
    def base(self) -> str:
        """Root URL of the sandbox."""
        return str(self.server.make_url("")).rstrip("/")

    @property
    def api_url(self) -> str:
        """What the integration's API URL setting would be."""
        return f"{self.base}{API_PREFIX}"


@pytest.fixture
async def receiver(socket_enabled: None) -> AsyncGenerator[Receiver]:
    """A forwarder receiver on 127.0.0.1."""
    received = Receiver()
    loop = asyncio.get_running_loop()

    async def handle(request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        status = received.answers.pop(0) if received.answers else 200
        entry = (request.method, body, loop.time())
        received.requests.append(entry)
        if 200 <= status < 300:
            received.acknowledged.append(entry)
        received.arrived.set()
        return web.Response(status=status)

    app = web.Application()
    app.router.add_route("*", "/api/one_nce/forwarder/{secret}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    received.url = str(server.make_url("/api/one_nce/forwarder/test-secret"))
    yield received
    await server.close()


@pytest.fixture
async def start_sandbox(
    socket_enabled: None,
) -> AsyncGenerator[Callable[..., Any]]:
    """Start sandboxes with a fast default config (no delivery delay)."""
    servers: list[TestServer] = []

    async def start(**overrides: Any) -> Running:
        fast: dict[str, Any] = {
            "delivery_delay": 0.0,
            "retry_initial": 0.01,
            "retry_max_gap": 0.1,
        }
        config = SandboxConfig(**(fast | overrides))
        app = create_app(config)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        servers.append(server)
        return Running(server, app[SANDBOX])

    yield start
    for server in servers:
        await server.close()


@pytest.fixture
async def session(socket_enabled: None) -> AsyncGenerator[aiohttp.ClientSession]:
    """One client session for the test."""
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture
def make_client(session: aiohttp.ClientSession) -> Callable[..., OneNceClient]:
    """The integration's client against a sandbox, without slow backoff."""

    def make(
        running: Running,
        client_id: str = DEFAULT_CLIENT_ID,
        client_secret: str = DEFAULT_CLIENT_SECRET,
        **kwargs: Any,
    ) -> OneNceClient:
        kwargs.setdefault("backoff_base", 0.0)
        return OneNceClient(
            session, client_id, client_secret, base_url=running.api_url, **kwargs
        )

    return make


def basic_auth(client_id: str, client_secret: str) -> str:
    """An Authorization header as RFC 7617 spells it (aiohttp's helper is deprecated)."""
    token = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()
    return f"Basic {token}"


async def bearer(running: Running, session: aiohttp.ClientSession) -> str:
    """An Authorization header with a fresh token, for requests made by hand."""
    async with session.post(
        f"{running.api_url}/oauth/token",
        json={"grant_type": "client_credentials"},
        headers={"Authorization": basic_auth(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET)},
    ) as response:
        return f"Bearer {(await response.json())['access_token']}"


async def truth(
    running: Running, session: aiohttp.ClientSession, iccid: str, **query: str
) -> dict[str, Any]:
    """What the sandbox says the SIM really used (`GET /_sandbox/usage/{iccid}`)."""
    async with session.get(
        f"{running.base}/_sandbox/usage/{iccid}", params=query
    ) as response:
        assert response.status == 200, await response.text()
        result: dict[str, Any] = await response.json()
        return result


async def advance(
    running: Running, session: aiohttp.ClientSession, seconds: float
) -> None:
    """Skip the sandbox's clock ahead through its control API."""
    async with session.post(
        f"{running.base}/_sandbox/time/advance", json={"seconds": seconds}
    ) as response:
        assert response.status == 200


async def wait_until(predicate: Callable[[], bool], within: float = 5.0) -> None:
    """Poll a condition on the sandbox's state (cheap: no request is made)."""
    for _ in range(int(within / 0.01)):
        if predicate():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")
