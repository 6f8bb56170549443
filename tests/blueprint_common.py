"""A sandbox 1NCE for blueprint tests: started in-process, driven by its control API.

The integration talks to the sandbox's management API over real HTTP, and the
sandbox's forwarder pushes to Home Assistant's own HTTP server, so a blueprint
runs end to end the way it would for a user. `running_sandbox(platform)`
starts one on Platform 1.0, 2.0 or a hybrid account.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from custom_components.one_nce.const import DOMAIN
from homeassistant.core import Event, HomeAssistant, ServiceCall, callback
from sandbox import (
    API_PREFIX,
    CONTROL_PREFIX,
    SANDBOX,
    PlatformMode,
    SandboxConfig,
    create_app,
)

from .conftest import find_device

# The sandbox's seeded fleet (sandbox/fleet.py): ICCID prefix + index.
GARDEN_GATE = "8988228066000000001"  # 231 SMS left, delivers
WEATHER_STATION = "8988228066000000002"  # 32 SMS left
CELLAR_PUMP = "8988228066000000003"  # no SMS left


@dataclass
class SandboxControl:
    """A running sandbox, changed the way a test bench would: over `/_sandbox`."""

    server: TestServer
    session: aiohttp.ClientSession

    @property
    def api_url(self) -> str:
        """What the entry's API URL is set to."""
        return str(self.server.make_url(API_PREFIX))

    @property
    def platform(self) -> PlatformMode:
        """The platform the sandbox's account is on."""
        return self.server.app[SANDBOX].config.platform

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        url = self.server.make_url(f"{CONTROL_PREFIX}{path}")
        async with self.session.request(method, url, json=body) as response:
            assert response.status < 300, await response.text()
            return await response.json()

    async def point_forwarder(self, url: str | None) -> None:
        """Set where 1NCE pushes MO SMS and delivery reports (None: hold them)."""
        await self._call("PUT", "/forwarder", {"url": url})

    async def change_sim(self, iccid: str, **changes: Any) -> None:
        """Put a SIM in another situation (`mt_outcome`, `sms_volume`, ...)."""
        await self._call("PATCH", f"/sims/{iccid}", changes)

    async def send_from_sim(self, iccid: str, text: str, **extra: Any) -> None:
        """Have a SIM send an SMS (MO), which the forwarder pushes on."""
        await self._call("POST", "/mo", {"iccid": iccid, "text": text, **extra})

    async def all_sms(self) -> list[dict[str, Any]]:
        """Every SMS the sandbox's gateway holds, newest first."""
        result: list[dict[str, Any]] = await self._call("GET", "/sms")
        return result

    async def usage_truth(self, iccid: str, since: str | None = None) -> Any:
        """What the SIM really used per day (data MB, MT and MO SMS), and in all."""
        query = f"?since={since}" if since else ""
        return await self._call("GET", f"/usage/{iccid}{query}")

    async def advance(self, seconds: float) -> None:
        """Skip the sandbox's clock: data use, deliveries and retries move on."""
        await self._call("POST", "/time/advance", {"seconds": seconds})

    async def forwarder(self) -> dict[str, Any]:
        """Where the forwarder pushes, what is pending, what was acknowledged."""
        result: dict[str, Any] = await self._call("GET", "/forwarder")
        return result

    async def add_stream(self, kind: str, url: str, auth: str) -> None:
        """Create a Data Stream (`usage` or `event`), as in 1NCE's Portal."""
        await self._call("POST", "/streams", {"type": kind, "url": url, "auth": auth})

    async def streams(self) -> dict[str, Any]:
        """The streams (status, counts), settings, and records emitted per type."""
        overview: dict[str, Any] = await self._call("GET", "/streams")
        return overview

    async def set_streams(self, **settings: Any) -> None:
        """Change how streams batch and retry (`flush_interval`, ...)."""
        await self._call("PATCH", "/streams/settings", settings)

    async def inject(self, iccid: str, event: str) -> dict[str, Any]:
        """Play a network event of a SIM (`attach`, `detach`, `quota-used-up`)."""
        result: dict[str, Any] = await self._call(
            "POST", "/streams/inject", {"iccid": iccid, "event": event}
        )
        return result

    async def requests(self, endpoint: str) -> int:
        """How often the API was asked `endpoint` ("GET /v2/sims/{iccid}/sms/{id}")."""
        counters = await self._call("GET", "/counters")
        return int(counters["by_endpoint"].get(endpoint, 0))


@asynccontextmanager
async def running_sandbox(
    platform: PlatformMode = PlatformMode.ONE, **config: Any
) -> AsyncIterator[SandboxControl]:
    """A sandbox on 127.0.0.1 whose SMS reach their outcome within 0.2 s.

    `platform` picks the account's kind (Platform 1.0, 2.0, hybrid); other
    keywords go to `SandboxConfig`.
    """
    fast: dict[str, Any] = {
        "delivery_delay": 0.2,
        "retry_initial": 0.05,
        "retry_max_gap": 0.2,
    }
    app = create_app(SandboxConfig(platform=platform, **(fast | config)))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            yield SandboxControl(server, session)
    finally:
        await server.close()


@dataclass
class Notifier:
    """A `notify.<name>` action that records messages and can be waited for."""

    messages: list[str] = field(default_factory=list)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @classmethod
    def register(cls, hass: HomeAssistant, name: str) -> Notifier:
        """Register the action; blueprints get it as their actions input."""
        notifier = cls()

        @callback
        def record(call: ServiceCall) -> None:
            notifier.messages.append(call.data["message"])
            notifier._arrived.set()

        hass.services.async_register("notify", name, record)
        return notifier

    async def wait(self, count: int = 1, within: float = 5.0) -> list[str]:
        """Return the messages once `count` have arrived."""
        async with asyncio.timeout(within):
            while len(self.messages) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return self.messages


def expect_event(hass: HomeAssistant, event_type: str) -> asyncio.Future[Event[Any]]:
    """Start listening for the next bus event of a type; await the result."""
    future: asyncio.Future[Event[Any]] = hass.loop.create_future()

    @callback
    def seen(event: Event[Any]) -> None:
        if not future.done():
            future.set_result(event)
            unsubscribe()

    unsubscribe = hass.bus.async_listen(event_type, seen)
    return future


def sim_device_id(hass: HomeAssistant, iccid: str) -> str:
    """The device id of a SIM, as a blueprint's device selector gives it."""
    device = find_device(hass, (DOMAIN, iccid))
    assert device is not None
    return device.id
