"""Polling through a misbehaving 1NCE: errors, 429s, slow answers, revocation.

The sandbox answers a fifth of the API requests with its gateway's 503 page; a
middleware added here answers some others with 429 and `Retry-After` (as
1NCE does when another client of the account used up the second) and delays
some more. The integration runs with its real rate limiter in real time.
Whether it kept to 10 requests a second is judged twice: where it sends (its
limiter's admissions) and where 1NCE counts (arrivals, and the sandbox's own
limiter). Coordinator refreshes are driven directly rather than by
`freezer`: on frozen time the test loop's clock stands still, and with it
every real-time wait of the limiter.
"""

from __future__ import annotations

import asyncio
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
)
from contextlib import asynccontextmanager
import logging
import random
from unittest.mock import patch

from aiohttp import web
import pytest

from custom_components.one_nce.api import RateLimiter
from custom_components.one_nce.const import DOMAIN
from custom_components.one_nce.coordinator import OneNceConfigEntry
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from sandbox import API_PREFIX

from .conftest import setup_integration
from .fault_common import RunningSandbox, peak_per_second, sandbox_entry, start_sandbox

pytestmark = pytest.mark.usefixtures("no_sleep", "socket_enabled")

TOKEN_PATH = f"{API_PREFIX}/oauth/token"
LIST_ENTITY = "sensor.garden_gate_msisdn"  # from the SIM list
DETAIL_ENTITY = "sensor.garden_gate_sms_volume_left"  # from the SIM's details
CHAOS_CYCLES = 3
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


ADMITTED: list[float] = []


class RecordingLimiter(RateLimiter):
    """The integration's limiter, noting when it lets a request go."""

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a place as the real one does, noting when it was given."""
        async with super().slot():
            ADMITTED.append(self._clock())
            yield


@pytest.fixture(autouse=True)
def generous_rate_limit() -> Generator[None]:
    """Keep the integration's real limiter: its limit is what is tested here."""
    ADMITTED.clear()
    with patch("custom_components.one_nce.api.client.RateLimiter", RecordingLimiter):
        yield


class Chaos:
    """Record every rate-limited request; answer some 429, delay some others."""

    def __init__(self, seed: int) -> None:
        """Behave until `active` is set."""
        self.rng = random.Random(seed)
        self.active = False
        self.arrivals: list[float] = []
        self.too_many = 0
        self.slowed = 0

    def install(self, app: web.Application) -> None:
        """Record outside the sandbox's gateway, misbehave behind it.

        Behind it, a request has passed the token check and been counted by
        the sandbox's limiter, like one 1NCE refuses for the account's rate.
        """
        app.middlewares.insert(0, self.record)
        app.middlewares.append(self.misbehave)

    @staticmethod
    def _limited(request: web.Request) -> bool:
        """Whether the request counts against 1NCE's 10 per second."""
        return request.path.startswith(API_PREFIX) and request.path != TOKEN_PATH

    @web.middleware
    async def record(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        """Note when a rate-limited request arrived."""
        if self._limited(request):
            self.arrivals.append(asyncio.get_running_loop().time())
        return await handler(request)

    @web.middleware
    async def misbehave(
        self, request: web.Request, handler: Handler
    ) -> web.StreamResponse:
        """5 % 429 with Retry-After, 10 % answered 0.2 to 0.6 s late."""
        if not self.active or not self._limited(request):
            return await handler(request)
        roll = self.rng.random()
        if roll < 0.05:
            self.too_many += 1
            return web.json_response(
                {"message": "Too Many Requests"},
                status=429,
                headers={"Retry-After": "1"},
            )
        if roll < 0.15:
            self.slowed += 1
            await asyncio.sleep(self.rng.uniform(0.2, 0.6))
        return await handler(request)


async def poll_once(entry: OneNceConfigEntry) -> None:
    """One cycle: the SIM list, then every SIM's details."""
    runtime = entry.runtime_data
    await runtime.fleet.async_refresh()
    for iccid in runtime.fleet.data or {}:
        runtime.details.request_soon(iccid)
    await runtime.details.async_refresh()


def unavailable(hass: HomeAssistant, entity_id: str) -> bool:
    """Whether the entity shows as unavailable."""
    state = hass.states.get(entity_id)
    assert state is not None, entity_id
    return state.state == STATE_UNAVAILABLE


def reauth_flows(hass: HomeAssistant) -> list[str]:
    """Ids of reauthentication flows in progress for the integration."""
    return [
        flow["flow_id"]
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"].get("source") == SOURCE_REAUTH
    ]


@pytest.fixture
async def chaotic(socket_enabled: None) -> AsyncGenerator[tuple[RunningSandbox, Chaos]]:
    """A three-SIM sandbox with the chaos middleware (inactive until told)."""
    chaos = Chaos(seed=7)
    running = await start_sandbox(app_hook=chaos.install, sims=3)
    yield running, chaos
    await running.server.close()


async def test_chaos_never_crashes_entities_recover_and_reauth_starts(
    hass: HomeAssistant,
    chaotic: tuple[RunningSandbox, Chaos],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """5xx, 429, slow answers, an outage, revocation: the integration copes."""
    running, chaos = chaotic
    sandbox = running.state
    entry = sandbox_entry(running)
    try:
        await setup_integration(hass, entry, [Platform.SENSOR])
        assert entry.state is ConfigEntryState.LOADED
        assert not unavailable(hass, LIST_ENTITY)
        assert not unavailable(hass, DETAIL_ENTITY)

        # A fifth of the requests fail, some are refused (429), some are slow.
        sandbox.faults.update({"error_rate": 0.2})
        chaos.active = True
        for _ in range(CHAOS_CYCLES):
            await poll_once(entry)
        await hass.async_block_till_done()
        assert not unavailable(hass, LIST_ENTITY)

        # 1NCE is down: the entities say so, and come back with it.
        sandbox.faults.update({"error_rate": 1.0})
        await poll_once(entry)
        await hass.async_block_till_done()
        assert unavailable(hass, LIST_ENTITY)
        assert unavailable(hass, DETAIL_ENTITY)
        sandbox.faults.update({"error_rate": 0.2})
        await poll_once(entry)
        await hass.async_block_till_done()
        assert not unavailable(hass, LIST_ENTITY)

        # The credentials are revoked mid-run: reauthentication starts.
        assert not reauth_flows(hass)
        sandbox.faults.update({"revoked": True})
        await poll_once(entry)
        await hass.async_block_till_done()
        assert len(reauth_flows(hass)) == 1
        assert unavailable(hass, LIST_ENTITY)

        # Faults clear (the secret is valid again): everything comes back.
        sandbox.faults.update({"revoked": False, "error_rate": 0.0})
        chaos.active = False
        await poll_once(entry)
        await hass.async_block_till_done()
        assert entry.state is ConfigEntryState.LOADED
        assert not unavailable(hass, LIST_ENTITY)
        assert not unavailable(hass, DETAIL_ENTITY)
        statuses = dict(sandbox.statuses)
    finally:
        await hass.config_entries.async_unload(entry.entry_id)

    # The faults did happen...
    assert statuses.get("503", 0) > 0
    assert chaos.too_many > 0
    assert chaos.slowed > 0
    # ...the integration's limiter never let more than ten go in a second...
    assert peak_per_second(ADMITTED) <= 10
    # ...and failures were reported, never as a crash.
    crashes = [
        record
        for record in caplog.records
        if record.levelno >= logging.ERROR
        and (record.exc_info or "Unexpected" in record.getMessage())
    ]
    assert not crashes, [record.getMessage() for record in crashes]


async def test_chaos_1nce_never_counts_more_than_ten_requests_a_second(
    hass: HomeAssistant, chaotic: tuple[RunningSandbox, Chaos]
) -> None:
    """Judged where 1NCE judges: by arrival, in the sandbox's own limiter."""
    running, chaos = chaotic
    sandbox = running.state
    entry = sandbox_entry(running)
    try:
        await setup_integration(hass, entry, [Platform.SENSOR])
        sandbox.faults.update({"error_rate": 0.2})
        chaos.active = True
        for _ in range(CHAOS_CYCLES):
            await poll_once(entry)
        await hass.async_block_till_done()
        statuses = dict(sandbox.statuses)
    finally:
        await hass.config_entries.async_unload(entry.entry_id)

    assert chaos.too_many > 0
    # Every 429 was one the middleware made up; the sandbox refused nothing.
    assert statuses.get("429", 0) == chaos.too_many
    assert peak_per_second(chaos.arrivals) <= 10
