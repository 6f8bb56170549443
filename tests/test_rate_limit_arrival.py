"""Never a 429 from 1NCE's own counter: 10 requests in any second, counted at arrival.

1NCE counts where requests arrive, not where they leave, and the network
bunches them: the client admits 10 per 1.25 s, so arrivals up to a quarter of
a second late still fit. And it counts per customer, whoever asks: the setup
flow's check and the new entry's first polls share one limiter. Against the
previous code (one limiter per client) this setup got 429s from the sandbox.

The sandbox's gateway is the counter (a sliding second per customer, on its
own clock); a middleware in front of it delays each request by up to 0.2 s,
as a network would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Generator
import random
from unittest.mock import patch

from aiohttp import web
import pytest

from custom_components.one_nce.api import RateLimiter
from custom_components.one_nce.config_flow import SECTION_ADVANCED
from custom_components.one_nce.const import CONF_API_URL, DOMAIN
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_CLIENT_ID, CONF_CLIENT_SECRET
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from sandbox import API_PREFIX, DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

from .fault_common import peak_per_second, start_sandbox, wait_for

pytestmark = pytest.mark.usefixtures("socket_enabled")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
SIMS = 250
# The first round: 3 list pages and 30 SIMs' details, about 12 s at 8 a second.
FIRST_ROUND = 30
NETWORK_JITTER = 0.2


@pytest.fixture(autouse=True)
def generous_rate_limit() -> Generator[None]:
    """Keep the integration's real limiter: its limit is what is tested here."""
    with patch("custom_components.one_nce.api.client.RateLimiter", RateLimiter):
        yield


async def test_setting_up_250_sims_from_the_flow_gets_no_429(
    hass: HomeAssistant,
) -> None:
    rng = random.Random(7)
    arrivals: list[float] = []

    @web.middleware
    async def network(request: web.Request, handler: Handler) -> web.StreamResponse:
        await asyncio.sleep(rng.uniform(0, NETWORK_JITTER))
        if request.path.startswith(API_PREFIX) and not request.path.endswith(
            "/oauth/token"
        ):
            arrivals.append(asyncio.get_running_loop().time())
        return await handler(request)

    running = await start_sandbox(
        lambda app: app.middlewares.insert(0, network), sims=SIMS
    )
    try:
        result = await hass.config_entries.flow.async_init(
            DOMAIN, context={"source": SOURCE_USER}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {
                CONF_CLIENT_ID: DEFAULT_CLIENT_ID,
                CONF_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
                SECTION_ADVANCED: {CONF_API_URL: running.api_url},
            },
        )
        assert result["type"] is FlowResultType.CREATE_ENTRY
        entry = result["result"]
        await wait_for(
            lambda: len(entry.runtime_data.details.data or {}) >= FIRST_ROUND,
            60,
            "the first round of details",
        )

        assert len(entry.runtime_data.fleet.data) == SIMS
        assert len(arrivals) >= 1 + 3 + 3 * FIRST_ROUND
        assert running.state.statuses["429"] == 0
        assert peak_per_second(arrivals) <= 10
        assert await hass.config_entries.async_unload(entry.entry_id)
    finally:
        await running.server.close()
