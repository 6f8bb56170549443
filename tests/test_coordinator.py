"""The request budget: what polling costs 1NCE, and how it is spread in time."""

from __future__ import annotations

import asyncio
import copy
import re
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)
from yarl import URL

from custom_components.one_nce.api import OneNceClient, RateLimiter
from custom_components.one_nce.const import DETAIL_CATCH_UP_BATCH
from custom_components.one_nce.coordinator import DetailsCoordinator, FleetCoordinator
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession

from .conftest import SIMS_URL, TOKEN_URL, load_json


class VirtualTime:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


def make_fleet(count: int) -> list[dict[str, Any]]:
    """`count` SIMs in the list's shape, each with its own ICCID."""
    template = load_json("sims.json")[0]
    sims = []
    for number in range(count):
        sim = copy.deepcopy(template)
        sim["iccid"] = f"89882280660{number:08d}"
        sims.append(sim)
    return sims


class Fake1nce:
    """Answers list pages and details, noting the virtual time of each call."""

    def __init__(self, sims: list[dict[str, Any]], time: VirtualTime) -> None:
        self.sims = sims
        self.time = time
        self.calls: list[tuple[float, str]] = []

    def install(self, aioclient_mock: AiohttpClientMocker) -> None:
        aioclient_mock.post(TOKEN_URL, json=load_json("token.json"))
        aioclient_mock.get(SIMS_URL, side_effect=self.sims_page)
        aioclient_mock.get(re.compile(r"/v2/sims/\d+/"), side_effect=self.detail)

    async def sims_page(
        self, method: str, url: URL, data: Any
    ) -> AiohttpClientMockResponse:
        self.calls.append((self.time.now, url.path))
        page, size = int(url.query["page"]), int(url.query["pageSize"])
        pages = -(-len(self.sims) // size)
        return AiohttpClientMockResponse(
            method,
            url,
            json=self.sims[(page - 1) * size : page * size],
            headers={"X-Total-Pages": str(pages)},
        )

    async def detail(
        self, method: str, url: URL, data: Any
    ) -> AiohttpClientMockResponse:
        self.calls.append((self.time.now, url.path))
        if url.path.endswith("/status"):
            body: Any = {"status": {"description": "ONLINE"}, "services": []}
        else:
            body = {"volume": "200", "total_volume": 250}
        return AiohttpClientMockResponse(method, url, json=body)

    def list_calls(self) -> int:
        return sum(1 for _, path in self.calls if path.endswith("/v2/sims"))

    def detail_iccids(self) -> list[str]:
        return [
            path.split("/")[-3] for _, path in self.calls if path.endswith("/quota/sms")
        ]

    def peak_per_second(self) -> int:
        times = sorted(when for when, _ in self.calls)
        return max(
            sum(1 for other in times[index:] if other < start + 1.0)
            for index, start in enumerate(times)
        )


@pytest.fixture
def virtual_time() -> VirtualTime:
    return VirtualTime()


def _coordinators(
    hass: HomeAssistant, entry: MockConfigEntry, virtual_time: VirtualTime
) -> tuple[FleetCoordinator, DetailsCoordinator]:
    entry.add_to_hass(hass)
    client = OneNceClient(
        async_get_clientsession(hass),
        "id",
        "secret",
        clock=virtual_time.clock,
        sleep=virtual_time.sleep,
        # The real limit (10 requests/s), on virtual time: that is under test.
        rate_limiter=RateLimiter(clock=virtual_time.clock, sleep=virtual_time.sleep),
    )
    fleet = FleetCoordinator(hass, entry, client)
    details = DetailsCoordinator(hass, entry, client, fleet)
    return fleet, details


async def test_fleet_of_250_costs_three_list_requests_per_cycle(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    virtual_time: VirtualTime,
) -> None:
    """Each list cycle reads 250 SIMs in ceil(250/100) = 3 requests."""
    fake = Fake1nce(make_fleet(250), virtual_time)
    fake.install(aioclient_mock)
    fleet, _ = _coordinators(hass, mock_config_entry, virtual_time)

    for cycle in range(1, 4):
        await fleet.async_refresh()
        assert fleet.last_update_success
        assert len(fleet.data) == 250
        assert fake.list_calls() == 3 * cycle


async def test_no_second_carries_more_than_ten_requests(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    virtual_time: VirtualTime,
) -> None:
    """The list and the first burst of details stay within 1NCE's 10 requests/s."""
    fake = Fake1nce(make_fleet(250), virtual_time)
    fake.install(aioclient_mock)
    fleet, details = _coordinators(hass, mock_config_entry, virtual_time)

    await fleet.async_refresh()
    details.note_fleet_update()
    await asyncio.gather(details.async_refresh(), fleet.async_refresh())

    # The first tick catches up a batch of never-fetched SIMs, three calls each.
    assert len(fake.detail_iccids()) == DETAIL_CATCH_UP_BATCH
    assert len(fake.calls) == 6 + 3 * DETAIL_CATCH_UP_BATCH
    assert fake.peak_per_second() == 10


async def test_details_settle_into_one_fetch_per_sim_per_interval(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    virtual_time: VirtualTime,
    freezer: Any,
) -> None:
    """After catching up, a tick never fetches more than ceil(N/60) SIMs, and once
    settled every hour refreshes every SIM exactly once."""
    fake = Fake1nce(make_fleet(250), virtual_time)
    fake.install(aioclient_mock)
    fleet, details = _coordinators(hass, mock_config_entry, virtual_time)
    await fleet.async_refresh()
    details.note_fleet_update()

    async def tick() -> int:
        before = len(fake.detail_iccids())
        await details.async_refresh()
        freezer.tick(60)
        return len(fake.detail_iccids()) - before

    catch_up = [await tick() for _ in range(-(-250 // DETAIL_CATCH_UP_BATCH))]
    assert sum(catch_up) == 250
    assert max(catch_up) == DETAIL_CATCH_UP_BATCH

    settling = [await tick() for _ in range(3 * 60)]
    assert max(settling) <= -(-250 // 60)

    start = len(fake.detail_iccids())
    hour = [await tick() for _ in range(60)]
    assert max(hour) <= -(-250 // 60)
    assert sorted(fake.detail_iccids()[start:]) == sorted(
        sim["iccid"] for sim in fake.sims
    )


async def test_sim_whose_list_state_changed_is_fetched_at_the_next_tick(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    virtual_time: VirtualTime,
) -> None:
    """A SIM whose SMS level dropped is not left waiting for its turn."""
    fake = Fake1nce(make_fleet(3), virtual_time)
    fake.install(aioclient_mock)
    fleet, details = _coordinators(hass, mock_config_entry, virtual_time)
    await fleet.async_refresh()
    details.note_fleet_update()
    await details.async_refresh()
    assert len(fake.detail_iccids()) == 3

    await details.async_refresh()
    assert len(fake.detail_iccids()) == 3  # nothing is due yet

    fake.sims[1]["quota_status_SMS"] = {"id": 1, "description": "less than 20%"}
    await fleet.async_refresh()
    details.note_fleet_update()
    await details.async_refresh()
    assert fake.detail_iccids()[3:] == [fake.sims[1]["iccid"]]
