"""Polling while 1NCE struggles: ask less, log once, recover alone.

Time is Home Assistant's frozen clock, moved 30 s at a time with the timers
fired after each move. The list is polled on the minute (0, 15, 30 ...), the
details tick half a minute later (0.5, 1.5 ...), so the two never race. The
client waits (retries, rate limit) on its own virtual clock, as in
tests/test_coordinator.py; requests are counted where 1NCE would count them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import logging
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)
from yarl import URL

from custom_components.one_nce.const import CONF_DETAIL_INTERVAL, DOMAIN
from custom_components.one_nce.coordinator import DetailsCoordinator, FleetCoordinator
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.util import dt as dt_util

from .conftest import load_json
from .test_coordinator import Fake1nce, VirtualTime, _coordinators, make_fleet

START = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
pytestmark = pytest.mark.freeze_time(START)

# The client's attempts at a request 1NCE keeps failing with 5xx or 429.
ATTEMPTS = 4
DETAIL_PATHS = 3


def iccid_of(path: str) -> str:
    """The ICCID in a SIM's detail path ("" for the list)."""
    return path.partition("/v2/sims/")[2].partition("/")[0]


def minutes() -> float:
    """Minutes since the test began, on Home Assistant's frozen clock."""
    return (dt_util.utcnow() - START).total_seconds() / 60


class Troubled1nce(Fake1nce):
    """1NCE that can go down, fail one SIM, or ask us to slow down."""

    def __init__(self, sims: list[dict[str, Any]], time: VirtualTime) -> None:
        super().__init__(sims, time)
        self.down = False
        self.details_down = False
        self.list_status: int | None = None
        self.sim_status: dict[str, int] = {}
        self.sim_headers: dict[str, str] = {}
        self.events_status: dict[str, int] = {}
        self.log: list[tuple[float, str]] = []

    async def sims_page(
        self, method: str, url: URL, data: Any
    ) -> AiohttpClientMockResponse:
        self.log.append((minutes(), url.path))
        if self.down:
            return AiohttpClientMockResponse(method, url, status=503, text="<html>")
        if self.list_status is not None:
            return AiohttpClientMockResponse(
                method, url, status=self.list_status, json={"message": "Slow down"}
            )
        return await super().sims_page(method, url, data)

    async def detail(
        self, method: str, url: URL, data: Any
    ) -> AiohttpClientMockResponse:
        self.log.append((minutes(), url.path))
        if self.down or self.details_down:
            return AiohttpClientMockResponse(method, url, status=503, text="<html>")
        iccid = iccid_of(url.path)
        if status := self.sim_status.get(iccid):
            return AiohttpClientMockResponse(
                method,
                url,
                status=status,
                json={"message": "No"},
                headers=self.sim_headers,
            )
        if url.path.endswith("/events"):
            if status := self.events_status.get(iccid):
                return AiohttpClientMockResponse(method, url, status=status, text="<")
            return AiohttpClientMockResponse(method, url, json=load_json("events.json"))
        return await super().detail(method, url, data)

    def detail_requests(
        self, iccid: str = "", since: float = 0, until: float = 1e9
    ) -> int:
        """Detail requests (of one SIM, if given) made in [since, until)."""
        return sum(
            1
            for when, path in self.log
            if since <= when < until
            and iccid_of(path)
            and iccid_of(path).startswith(iccid)
        )

    def fetch_times(self, iccid: str) -> list[float]:
        """When the SIM's details were asked for (once per fetch, not attempt)."""
        return sorted(
            {when for when, path in self.log if path.endswith(f"{iccid}/quota/sms")}
        )

    def tick_times(self, since: float, until: float) -> list[float]:
        """When any SIM's details were asked for in [since, until)."""
        return sorted(
            {
                when
                for when, path in self.log
                if since <= when < until and path.endswith("/quota/sms")
            }
        )

    def sims_per_tick(self, since: float, until: float) -> list[int]:
        """How many SIMs each tick in [since, until) asked for."""
        ticks = Counter(
            (when, iccid_of(path))
            for when, path in self.log
            if since <= when < until and path.endswith("/quota/sms")
        )
        return list(Counter(when for when, _ in ticks).values())

    def list_poll_times(self) -> list[float]:
        return sorted({when for when, path in self.log if path.endswith("/v2/sims")})


@dataclass
class Polling:
    """The two coordinators, scheduling themselves as in a running entry."""

    hass: HomeAssistant
    freezer: FrozenDateTimeFactory
    fleet: FleetCoordinator
    details: DetailsCoordinator
    unsubscribe: list[Any] = field(default_factory=list)

    async def start(self) -> None:
        """List at minute 0, details from 0.5 on."""
        self.unsubscribe.append(
            self.fleet.async_add_listener(self.details.note_fleet_update)
        )
        self.unsubscribe.append(self.details.async_add_listener(callback(lambda: None)))
        await self.fleet.async_refresh()
        self.freezer.tick(timedelta(seconds=30))
        await self.details.async_refresh()

    async def run_until(self, minute: float) -> None:
        while minutes() < minute - 1e-6:
            self.freezer.tick(timedelta(seconds=30))
            async_fire_time_changed(self.hass)
            await self.hass.async_block_till_done(wait_background_tasks=True)

    def stop(self) -> None:
        for unsubscribe in self.unsubscribe:
            unsubscribe()
        self.unsubscribe.clear()


@pytest.fixture
def virtual_time() -> VirtualTime:
    return VirtualTime()


@pytest.fixture
def details_every_15_minutes(mock_config_entry: MockConfigEntry) -> MockConfigEntry:
    """The shortest detail interval: every tick has SIMs due."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=mock_config_entry.title,
        unique_id=mock_config_entry.unique_id,
        data=dict(mock_config_entry.data),
        options={CONF_DETAIL_INTERVAL: 15},
    )


def make_polling(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    virtual_time: VirtualTime,
    freezer: FrozenDateTimeFactory,
    fleet_size: int,
) -> tuple[Troubled1nce, Polling]:
    fake = Troubled1nce(make_fleet(fleet_size), virtual_time)
    fake.install(aioclient_mock)
    fleet, details = _coordinators(hass, entry, virtual_time)
    return fake, Polling(hass, freezer, fleet, details)


@pytest.fixture
async def polls() -> AsyncGenerator[list[Polling]]:
    """Stop every polling a test started, so no timer outlives it."""
    started: list[Polling] = []
    yield started
    for polling in started:
        polling.stop()


def details_lines(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "custom_components.one_nce"
        and record.levelno == level
        and record.getMessage().startswith("Details")
    ]


@pytest.fixture(autouse=True)
def info_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="custom_components.one_nce")


async def test_failing_sim_is_asked_again_after_1_2_4_minutes_not_every_minute(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    virtual_time: VirtualTime,
    freezer: FrozenDateTimeFactory,
    polls: list[Polling],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Two hours of one SIM failing cost 7 fetches (84 requests), not one a
    minute; one warning when it starts, one info line when it is back."""
    fake, polling = make_polling(
        hass, mock_config_entry, aioclient_mock, virtual_time, freezer, 3
    )
    polls.append(polling)
    bad = fake.sims[1]["iccid"]
    fake.sim_status[bad] = 500
    await polling.start()

    await polling.run_until(120)

    assert fake.fetch_times(bad) == [0.5, 1.5, 3.5, 7.5, 15.5, 31.5, 63.5]
    assert fake.detail_requests(bad) == 7 * DETAIL_PATHS * ATTEMPTS
    assert not polling.details.available(bad)
    assert polling.details.available(fake.sims[0]["iccid"])
    [warning] = details_lines(caplog, logging.WARNING)
    assert warning.startswith(f"Details of SIM {bad} could not be fetched")

    # At most a detail interval apart, and back to normal once it answers.
    del fake.sim_status[bad]
    await polling.run_until(190)
    assert fake.fetch_times(bad)[7:] == [123.5, 183.5]
    assert polling.details.available(bad)
    assert len(details_lines(caplog, logging.WARNING)) == 1
    assert details_lines(caplog, logging.INFO) == [
        f"Details of SIM {bad} are fetched again"
    ]


async def test_sim_1nce_does_not_know_waits_for_the_next_list(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    virtual_time: VirtualTime,
    freezer: FrozenDateTimeFactory,
    polls: list[Polling],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A listed SIM whose details 404 is asked once per list poll, not each
    minute; once the list drops it, never again."""
    fake, polling = make_polling(
        hass, mock_config_entry, aioclient_mock, virtual_time, freezer, 3
    )
    polls.append(polling)
    gone = fake.sims[2]["iccid"]
    fake.sim_status[gone] = 404
    await polling.start()

    await polling.run_until(59)
    assert fake.fetch_times(gone) == [0.5, 15.5, 30.5, 45.5]
    assert not polling.details.available(gone)

    fake.sims.pop(2)
    await polling.run_until(120)
    assert fake.fetch_times(gone) == [0.5, 15.5, 30.5, 45.5]
    assert gone not in polling.details.failed
    # Leaving the account is no failure worth a warning.
    assert details_lines(caplog, logging.WARNING) == []


async def test_1nce_down_for_30_minutes_costs_seven_detail_fetches(
    hass: HomeAssistant,
    details_every_15_minutes: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    virtual_time: VirtualTime,
    freezer: FrozenDateTimeFactory,
    polls: list[Polling],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """1NCE down from minute 20 to 50: one failing batch, three probes, then
    nothing until the list is back (84 requests; a batch each minute cost
    1,560); afterwards no tick asks for more than before; one warning, one
    info line."""
    fake, polling = make_polling(
        hass, details_every_15_minutes, aioclient_mock, virtual_time, freezer, 60
    )
    polls.append(polling)
    await polling.start()
    await polling.run_until(20)
    assert max(fake.sims_per_tick(15, 20)) == 4  # ceil(60 SIMs / 15 minutes)

    fake.down = True
    await polling.run_until(50)
    assert not polling.fleet.last_update_success
    fake.down = False
    await polling.run_until(60)

    # 4 SIMs at 20.5, probes at 21.5, 23.5 and 27.5; the list fails at 30.
    assert fake.detail_requests(since=20, until=60) == 7 * DETAIL_PATHS * ATTEMPTS
    assert fake.tick_times(20, 60) == [20.5, 21.5, 23.5, 27.5]

    await polling.run_until(90)
    assert polling.fleet.last_update_success
    # The list at 60 is back; one probe at 60.5, then the usual pace.
    assert fake.sims_per_tick(60, 61) == [1]
    assert max(fake.sims_per_tick(61, 90)) == 4
    assert all(polling.details.available(sim["iccid"]) for sim in fake.sims), (
        polling.details.failed
    )
    assert len(details_lines(caplog, logging.WARNING)) == 1
    assert details_lines(caplog, logging.WARNING)[0].startswith(
        "Details of 4 SIMs in a row could not be fetched"
    )
    assert details_lines(caplog, logging.INFO) == [
        "Details of SIMs are fetched from 1NCE again"
    ]


async def test_while_the_list_fails_details_ask_nothing(
    hass: HomeAssistant,
    details_every_15_minutes: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    virtual_time: VirtualTime,
    freezer: FrozenDateTimeFactory,
    polls: list[Polling],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Down just before the list poll: not one detail request until the list
    answers again, and no detail log line at all (the list's says it)."""
    fake, polling = make_polling(
        hass, details_every_15_minutes, aioclient_mock, virtual_time, freezer, 60
    )
    polls.append(polling)
    await polling.start()
    await polling.run_until(14.5)

    fake.down = True
    await polling.run_until(55)
    fake.down = False
    await polling.run_until(75)

    assert fake.detail_requests(since=14.75, until=60) == 0
    assert max(fake.sims_per_tick(60, 75)) == 4
    assert details_lines(caplog, logging.WARNING) == []
    assert details_lines(caplog, logging.INFO) == []


async def test_details_down_while_the_list_answers_are_probed_one_sim_at_a_time(
    hass: HomeAssistant,
    details_every_15_minutes: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    virtual_time: VirtualTime,
    freezer: FrozenDateTimeFactory,
    polls: list[Polling],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Probes 1, 2, 4 minutes apart, then once after each list poll (at most
    a list interval apart): 11 fetches in 70 minutes, not 4 a minute."""
    fake, polling = make_polling(
        hass, details_every_15_minutes, aioclient_mock, virtual_time, freezer, 60
    )
    polls.append(polling)
    await polling.start()
    await polling.run_until(20)

    fake.details_down = True
    await polling.run_until(80)
    fake.details_down = False
    await polling.run_until(95)

    assert fake.tick_times(20, 90) == [20.5, 21.5, 23.5, 27.5, 30.5, 45.5, 60.5, 75.5]
    assert fake.detail_requests(since=20, until=90) == 11 * DETAIL_PATHS * ATTEMPTS
    assert fake.sims_per_tick(90, 91) == [1]
    assert len(details_lines(caplog, logging.WARNING)) == 1
    assert len(details_lines(caplog, logging.INFO)) == 1


async def test_429_on_the_list_stretches_it_up_to_4x_and_successes_restore_it(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    virtual_time: VirtualTime,
    freezer: FrozenDateTimeFactory,
    polls: list[Polling],
) -> None:
    """429 without Retry-After: polls at 15, 45, 105, 165 (not every 15
    minutes); after 1NCE recovers, 30 then 15 minutes apart again."""
    fake, polling = make_polling(
        hass, mock_config_entry, aioclient_mock, virtual_time, freezer, 3
    )
    polls.append(polling)
    await polling.start()
    fake.list_status = 429
    await polling.run_until(110)
    assert polling.fleet.update_interval == timedelta(hours=1)

    fake.list_status = None
    await polling.run_until(215)
    assert fake.list_poll_times() == [0, 15, 45, 105, 165, 195, 210]
    assert polling.fleet.update_interval == timedelta(minutes=15)


async def test_429_on_details_thins_the_batches_until_the_list_answers(
    hass: HomeAssistant,
    details_every_15_minutes: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    virtual_time: VirtualTime,
    freezer: FrozenDateTimeFactory,
    polls: list[Polling],
) -> None:
    """One SIM refused with 429 halves the catch-up batches (15, not 30 SIMs a
    minute) until the next successful list poll restores the pace."""
    fake, polling = make_polling(
        hass, details_every_15_minutes, aioclient_mock, virtual_time, freezer, 120
    )
    polls.append(polling)
    fake.sim_status[fake.sims[0]["iccid"]] = 429
    await polling.start()
    del fake.sim_status[fake.sims[0]["iccid"]]

    await polling.run_until(16)
    assert fake.sims_per_tick(0, 15) == [30, 15, 15, 15, 15, 15, 15, 1]
    assert polling.fleet.slowdown == 1
    # Back to the usual pace (ceil(120 / 15) = 8 SIMs a minute).
    assert fake.sims_per_tick(15, 16) == [8]


async def test_asking_for_a_failing_sim_skips_its_back_off_once(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    virtual_time: VirtualTime,
    freezer: FrozenDateTimeFactory,
    polls: list[Polling],
) -> None:
    """A person pressing refresh is not kept waiting for the back-off."""
    fake, polling = make_polling(
        hass, mock_config_entry, aioclient_mock, virtual_time, freezer, 3
    )
    polls.append(polling)
    bad = fake.sims[1]["iccid"]
    fake.sim_status[bad] = 500
    await polling.start()
    await polling.run_until(10)
    assert fake.fetch_times(bad) == [0.5, 1.5, 3.5, 7.5]

    del fake.sim_status[bad]
    polling.details.request_soon(bad)
    await polling.run_until(11)
    assert fake.fetch_times(bad)[-1] == 10.5
    assert polling.details.available(bad)


async def test_a_long_retry_after_on_details_is_sat_out(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    virtual_time: VirtualTime,
    freezer: FrozenDateTimeFactory,
    polls: list[Polling],
) -> None:
    """1NCE asking for ten minutes' pause gets ten minutes without details."""
    fake, polling = make_polling(
        hass, mock_config_entry, aioclient_mock, virtual_time, freezer, 3
    )
    polls.append(polling)
    bad = fake.sims[0]["iccid"]
    fake.sim_status[bad] = 429
    fake.sim_headers["Retry-After"] = "600"
    await polling.start()
    assert polling.details.update_interval == timedelta(minutes=10)
    del fake.sim_status[bad]

    await polling.run_until(10)
    assert fake.tick_times(0.75, 10) == []
    await polling.run_until(11)
    assert fake.tick_times(0.75, 11) == [10.5]
    assert polling.details.update_interval == timedelta(minutes=1)


async def test_watched_event_log_is_read_at_the_next_tick_and_its_failure_is_harmless(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    virtual_time: VirtualTime,
    freezer: FrozenDateTimeFactory,
    polls: list[Polling],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An enabled last-event sensor costs one request at the next tick, alone;
    an event log that fails leaves the SIM's volumes and logs no warning."""
    fake, polling = make_polling(
        hass, mock_config_entry, aioclient_mock, virtual_time, freezer, 3
    )
    polls.append(polling)
    first, second, third = (sim["iccid"] for sim in fake.sims)
    fake.events_status[second] = 502
    await polling.start()
    unwatch_first = polling.details.async_watch_events(first)
    polling.details.async_watch_events(second)

    await polling.run_until(2)
    events = [path for _, path in fake.log if path.endswith("/events")]
    assert sorted(iccid_of(path) for path in events) == [first, *[second] * ATTEMPTS]
    assert polling.fleet.slowdown == 1
    assert fake.tick_times(1, 2) == []  # no volumes asked again for it
    details = polling.details.data
    assert details[first].last_event_known
    assert details[first].last_event is not None
    assert not details[second].last_event_known
    assert polling.details.available(second)
    assert details_lines(caplog, logging.WARNING) == []

    unwatch_first()
    await polling.run_until(62)
    events = [path for _, path in fake.log if path.endswith("/events")]
    assert [iccid_of(path) for path in events].count(first) == 1

    # An event log answering 429 slows polling down like any other 429.
    await polling.run_until(63)  # every SIM's volumes were read again
    fake.events_status[third] = 429
    polling.details.async_watch_events(third)
    await polling.run_until(64)
    assert fake.tick_times(63, 64) == []
    assert not polling.details.data[third].last_event_known
    assert polling.fleet.slowdown == 2


async def test_refused_credentials_stop_the_details_without_warnings(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    virtual_time: VirtualTime,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A 403 is for reauthentication to fix, not a failing SIM to log."""
    fake = Troubled1nce(make_fleet(3), virtual_time)
    fake.install(aioclient_mock)
    fleet, details = _coordinators(hass, mock_config_entry, virtual_time)
    await fleet.async_refresh()
    fake.sim_status = {sim["iccid"]: 403 for sim in fake.sims}
    with patch.object(mock_config_entry, "async_start_reauth") as reauth:
        await details.async_refresh()
        fake.list_status = 403
        await fleet.async_refresh()

    assert isinstance(details.last_exception, ConfigEntryAuthFailed)
    assert isinstance(fleet.last_exception, ConfigEntryAuthFailed)
    assert reauth.call_count == 2


async def test_a_bug_surfaces_instead_of_backing_off(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    virtual_time: VirtualTime,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Anything that is not a 1NCE error is logged as the bug it is."""
    fake = Troubled1nce(make_fleet(3), virtual_time)
    fake.install(aioclient_mock)
    fleet, details = _coordinators(hass, mock_config_entry, virtual_time)
    await fleet.async_refresh()
    with patch.object(
        details.client, "async_get_sms_quota", side_effect=RuntimeError("bug")
    ):
        await details.async_refresh()

    assert not details.last_update_success
    assert "Unexpected error fetching one_nce SIM details data" in caplog.text
