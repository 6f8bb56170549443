"""Polling while 1NCE struggles: ask less, log once, recover alone.

Time is Home Assistant's frozen clock, moved 30 s at a time with the timers
fired after each move. The list is polled on the minute (0, 15, 30 ...), the
details tick half a minute later (0.5, 1.5 ...), so the two never race. The
client waits (retries, rate limit) on its own virtual clock, as in
tests/test_coordinator.py; requests are counted where 1NCE would count them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
import logging
import random
from typing import Any, Protocol
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

from custom_components.one_nce.const import (
    CONF_DETAIL_INTERVAL,
    CONF_LIST_INTERVAL,
    DOMAIN,
)
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
        # Share of SIM fetches failing, decided per SIM and minute so that a
        # fetch's attempts agree.
        self.fail_share = 0.0
        self.empty_list = False
        # Called with the SIMs before each list poll answers (SIMs in use).
        self.on_list: Callable[[list[dict[str, Any]]], None] | None = None
        self.connection_word = "ONLINE"
        self.quota_word: str | None = None
        # Called with the ICCID as each of its fetches begins.
        self.during_fetch: Callable[[str], None] | None = None
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
        if self.empty_list:
            return AiohttpClientMockResponse(
                method, url, json=[], headers={"X-Total-Pages": "1"}
            )
        if self.on_list is not None and url.query["page"] == "1":
            self.on_list(self.sims)
        return await super().sims_page(method, url, data)

    async def detail(
        self, method: str, url: URL, data: Any
    ) -> AiohttpClientMockResponse:
        self.log.append((minutes(), url.path))
        iccid = iccid_of(url.path)
        if self.during_fetch is not None and url.path.endswith("/quota/sms"):
            self.during_fetch(iccid)
        if failure := self._failure(iccid, url.path):
            return AiohttpClientMockResponse(method, url, **failure)
        if url.path.endswith("/events"):
            return AiohttpClientMockResponse(method, url, json=load_json("events.json"))
        if url.path.endswith("/status"):
            body: Any = {"status": {"description": self.connection_word}}
            return AiohttpClientMockResponse(method, url, json=body)
        if self.quota_word is not None:
            body = {"volume": 20, "total_volume": 250, "status": self.quota_word}
            return AiohttpClientMockResponse(method, url, json=body)
        return await super().detail(method, url, data)

    def _failure(self, iccid: str, path: str) -> dict[str, Any] | None:
        """How a detail request that fails is answered, if it does."""
        if self.down or self.details_down:
            return {"status": 503, "text": "<html>"}
        if status := self.sim_status.get(iccid):
            return {
                "status": status,
                "json": {"message": "No"},
                "headers": self.sim_headers,
            }
        if path.endswith("/events") and (status := self.events_status.get(iccid)):
            return {"status": status, "text": "<"}
        if random.Random(f"{iccid}@{minutes()}").random() < self.fail_share:
            return {"status": 500, "text": "<html>"}
        return None

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


# The shortest detail interval: every tick has SIMs due.
DETAILS_EVERY_15_MINUTES = {CONF_DETAIL_INTERVAL: 15}
# The longest list interval the options allow, details every 15 minutes.
LIST_ONCE_A_DAY = {CONF_LIST_INTERVAL: 24 * 60, CONF_DETAIL_INTERVAL: 15}


class MakePolling(Protocol):
    """Builds 1NCE with `sims` SIMs and the coordinators of an entry."""

    def __call__(
        self, sims: int, options: dict[str, Any] | None = None
    ) -> tuple[Troubled1nce, Polling]: ...


@pytest.fixture
async def make_polling(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    virtual_time: VirtualTime,
    freezer: FrozenDateTimeFactory,
) -> AsyncGenerator[MakePolling]:
    """The account polled as `options` say (as configured, if not given);
    every polling made is stopped at the end, so no timer outlives the test.
    Starting is the test's: some set 1NCE's trouble up first."""
    made: list[Polling] = []

    def make(
        sims: int, options: dict[str, Any] | None = None
    ) -> tuple[Troubled1nce, Polling]:
        entry = mock_config_entry
        if options is not None:
            entry = MockConfigEntry(
                domain=DOMAIN,
                title=entry.title,
                unique_id=entry.unique_id,
                data=dict(entry.data),
                options=options,
            )
        fake = Troubled1nce(make_fleet(sims), virtual_time)
        fake.install(aioclient_mock)
        fleet, details = _coordinators(hass, entry, virtual_time)
        polling = Polling(hass, freezer, fleet, details)
        made.append(polling)
        return fake, polling

    yield make
    for polling in made:
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
    make_polling: MakePolling, caplog: pytest.LogCaptureFixture
) -> None:
    """Two hours of one SIM failing cost 7 fetches (84 requests), not one a
    minute; one warning when it starts, one info line when it is back."""
    fake, polling = make_polling(3)
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
    make_polling: MakePolling, caplog: pytest.LogCaptureFixture
) -> None:
    """A listed SIM whose details 404 is asked once per list poll, not each
    minute; once the list drops it, never again."""
    fake, polling = make_polling(3)
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
    make_polling: MakePolling, caplog: pytest.LogCaptureFixture
) -> None:
    """1NCE down from minute 20 to 50: one failing batch, three probes, then
    nothing until the list is back (83 requests; a batch each minute cost
    1,560); afterwards no tick asks for more than before; one warning, one
    info line."""
    fake, polling = make_polling(60, DETAILS_EVERY_15_MINUTES)
    await polling.start()
    await polling.run_until(20)
    assert max(fake.sims_per_tick(15, 20)) == 4  # ceil(60 SIMs / 15 minutes)

    fake.down = True
    await polling.run_until(50)
    assert not polling.fleet.last_update_success
    fake.down = False
    await polling.run_until(60)

    # 4 SIMs at 20.5, probes at 21.5, 23.5 and 27.5; the list fails at 30.
    # Of the batch at 20.5, one SIM's last status attempt is never sent: its
    # quota read gave up first, and a fetch's failure cancels its siblings.
    assert fake.detail_requests(since=20, until=60) == 7 * DETAIL_PATHS * ATTEMPTS - 1
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
    make_polling: MakePolling, caplog: pytest.LogCaptureFixture
) -> None:
    """Down just before the list poll: not one detail request until the list
    answers again, and no detail log line at all (the list's says it)."""
    fake, polling = make_polling(60, DETAILS_EVERY_15_MINUTES)
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
    make_polling: MakePolling, caplog: pytest.LogCaptureFixture
) -> None:
    """Probes 1, 2, 4 minutes apart, then once after each list poll (at most
    a list interval apart): 11 fetches in 70 minutes, not 4 a minute."""
    fake, polling = make_polling(60, DETAILS_EVERY_15_MINUTES)
    await polling.start()
    await polling.run_until(20)

    fake.details_down = True
    await polling.run_until(80)
    fake.details_down = False
    await polling.run_until(95)

    assert fake.tick_times(20, 90) == [20.5, 21.5, 23.5, 27.5, 30.5, 45.5, 60.5, 75.5]
    # Less one status attempt of the first batch, cancelled as above.
    assert fake.detail_requests(since=20, until=90) == 11 * DETAIL_PATHS * ATTEMPTS - 1
    assert fake.sims_per_tick(90, 91) == [1]
    assert len(details_lines(caplog, logging.WARNING)) == 1
    assert len(details_lines(caplog, logging.INFO)) == 1


async def test_429_on_the_list_stretches_it_up_to_4x_and_successes_restore_it(
    make_polling: MakePolling,
) -> None:
    """429 without Retry-After: polls at 15, 45, 105, 165 (not every 15
    minutes); after 1NCE recovers, 30 then 15 minutes apart again."""
    fake, polling = make_polling(3)
    await polling.start()
    fake.list_status = 429
    await polling.run_until(110)
    assert polling.fleet.update_interval == timedelta(hours=1)

    fake.list_status = None
    await polling.run_until(215)
    assert fake.list_poll_times() == [0, 15, 45, 105, 165, 195, 210]
    assert polling.fleet.update_interval == timedelta(minutes=15)


async def test_429_on_details_thins_the_batches_until_the_list_answers(
    make_polling: MakePolling,
) -> None:
    """One SIM refused with 429 halves the catch-up batches (15, not 30 SIMs a
    minute) until the next successful list poll restores the pace."""
    fake, polling = make_polling(120, DETAILS_EVERY_15_MINUTES)
    fake.sim_status[fake.sims[0]["iccid"]] = 429
    await polling.start()
    del fake.sim_status[fake.sims[0]["iccid"]]

    await polling.run_until(16)
    assert fake.sims_per_tick(0, 15) == [30, 15, 15, 15, 15, 15, 15, 1]
    assert polling.fleet.slowdown == 1
    # Back to the usual pace (ceil(120 / 15) = 8 SIMs a minute).
    assert fake.sims_per_tick(15, 16) == [8]


async def test_asking_for_a_failing_sim_skips_its_back_off_once(
    make_polling: MakePolling,
) -> None:
    """A person pressing refresh is not kept waiting for the back-off."""
    fake, polling = make_polling(3)
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
    make_polling: MakePolling,
) -> None:
    """1NCE asking for ten minutes' pause gets ten minutes without details."""
    fake, polling = make_polling(3)
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
    make_polling: MakePolling, caplog: pytest.LogCaptureFixture
) -> None:
    """An enabled last-event sensor costs one request at the next tick, alone;
    an event log that fails leaves the SIM's volumes and logs no warning."""
    fake, polling = make_polling(3)
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
    make_polling: MakePolling, mock_config_entry: MockConfigEntry
) -> None:
    """A 403 is for reauthentication to fix, not a failing SIM to log."""
    fake, polling = make_polling(3)
    fleet, details = polling.fleet, polling.details
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
    make_polling: MakePolling, caplog: pytest.LogCaptureFixture
) -> None:
    """Anything that is not a 1NCE error is logged as the bug it is."""
    _, polling = make_polling(3)
    fleet, details = polling.fleet, polling.details
    await fleet.async_refresh()
    with patch.object(
        details.client, "async_get_sms_quota", side_effect=RuntimeError("bug")
    ):
        await details.async_refresh()

    assert not details.last_update_success
    assert "Unexpected error fetching one_nce SIM details data" in caplog.text


def warnings_about(caplog: pytest.LogCaptureFixture, word: str) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "custom_components.one_nce"
        and record.levelno == logging.WARNING
        and word in record.getMessage()
    ]


async def test_sims_in_use_do_not_starve_the_rest_of_a_large_fleet(
    make_polling: MakePolling,
) -> None:
    """1,000 SIMs whose data volume and IP address change at every list poll:
    once caught up no tick asks for more than ceil(1000 / 60) = 17 SIMs (51
    requests a minute), and no SIM's details grow older than 1.5 intervals."""
    fake, polling = make_polling(1000)
    addresses = iter(range(1, 1_000_000))

    def in_use(sims: list[dict[str, Any]]) -> None:
        for sim in sims:
            sim["current_quota"] -= 1
            sim["ip_address"] = f"100.64.{next(addresses) % 250}.1"

    fake.on_list = in_use
    await polling.start()
    oldest = timedelta(0)
    while minutes() < 150:
        await polling.run_until(minutes() + 0.5)
        details = polling.details.data
        if len(details) == 1000:
            now = dt_util.utcnow()
            oldest = max(oldest, *(now - sim.fetched_at for sim in details.values()))

    assert max(fake.sims_per_tick(0, 34)) == 30  # new SIMs, a batch a minute
    assert max(fake.sims_per_tick(34, 150)) == 17
    assert oldest < timedelta(minutes=90), oldest


async def test_changed_sims_come_first_oldest_first_within_the_batch(
    make_polling: MakePolling,
) -> None:
    """40 of 120 SIMs whose SMS level changed: 30, then the other 10 with the
    usual 8, then the usual 8 a minute; the 30 longest unread go first. While
    1NCE asks us to slow down, the same work takes half the SIMs a minute."""
    fake, polling = make_polling(120, DETAILS_EVERY_15_MINUTES)
    await polling.start()
    await polling.run_until(29.5)
    changed = [sim["iccid"] for sim in fake.sims[::3]]
    fetched_at = {iccid: polling.details.data[iccid].fetched_at for iccid in changed}
    for sim in fake.sims[::3]:
        sim["quota_status_SMS"] = {"id": 1, "description": "less than 20%"}

    await polling.run_until(33)
    assert fake.sims_per_tick(30, 33) == [30, 18, 8]
    first = {iccid_of(path) for when, path in fake.log if when == 30.5}
    assert first == set(sorted(changed, key=fetched_at.__getitem__)[:30])
    assert all(30.5 <= fake.fetch_times(iccid)[-1] <= 31.5 for iccid in changed)

    await polling.run_until(44.5)
    # Told twice to slow down (4x); the list poll at 45 halves it to 2x.
    polling.fleet.note_rate_limited()
    polling.fleet.note_rate_limited()
    for sim in fake.sims[1::3]:
        sim["quota_status_SMS"] = {"id": 1, "description": "less than 20%"}
    await polling.run_until(49)
    assert polling.fleet.slowdown == 2
    assert fake.sims_per_tick(45, 49) == [15, 15, 9, 5]


async def test_a_partial_outage_is_one_warning_and_one_info_line(
    make_polling: MakePolling, caplog: pytest.LogCaptureFixture
) -> None:
    """30 % of 1,000 SIMs' fetches failing for an hour: one warning when it
    starts, one info line when every SIM answers again; each SIM's failure
    and recovery only at debug level."""
    caplog.set_level(logging.DEBUG, logger="custom_components.one_nce")
    fake, polling = make_polling(1000)
    fake.fail_share = 0.3
    await polling.start()
    await polling.run_until(60)
    assert polling.details.failed
    fake.fail_share = 0.0
    await polling.run_until(90)

    assert not polling.details.failed
    [warning] = details_lines(caplog, logging.WARNING)
    assert warning.startswith("Details of 10 SIMs could not be fetched;")
    assert details_lines(caplog, logging.INFO) == [
        "Details of all SIMs are fetched again"
    ]
    debug = details_lines(caplog, logging.DEBUG)
    assert sum("could not be fetched" in line for line in debug) > 200
    assert sum("are fetched again" in line for line in debug) > 200


async def test_a_fleet_of_one_is_spoken_of_as_one_sim(
    make_polling: MakePolling, caplog: pytest.LogCaptureFixture
) -> None:
    """Its only SIM failing is 1NCE struggling, worded for one SIM."""
    fake, polling = make_polling(1)
    fake.details_down = True
    await polling.start()
    await polling.run_until(5)
    fake.details_down = False
    await polling.run_until(10)

    only = fake.sims[0]["iccid"]
    assert fake.fetch_times(only) == [0.5, 1.5, 3.5, 7.5]
    [warning] = details_lines(caplog, logging.WARNING)
    assert warning.startswith(
        f"Details of SIM {only} could not be fetched; asking 1NCE again 1, 2,"
        " 4 ... minutes apart until it answers: GET "
    )
    assert details_lines(caplog, logging.INFO) == [
        "Details of SIMs are fetched from 1NCE again"
    ]
    assert "1 SIMs" not in caplog.text


async def test_with_a_daily_list_details_back_are_seen_within_15_minutes(
    make_polling: MakePolling, caplog: pytest.LogCaptureFixture
) -> None:
    """Probes 1, 2, 4, 8, then 15 minutes apart (not up to a day); a SIM
    asked for while 1NCE's details struggle is asked at the next tick."""
    fake, polling = make_polling(60, LIST_ONCE_A_DAY)
    await polling.start()
    await polling.run_until(20)

    fake.details_down = True
    await polling.run_until(120)
    fake.details_down = False
    await polling.run_until(130)
    assert fake.tick_times(20, 126) == [
        *[20.5, 21.5, 23.5, 27.5, 35.5],
        *[50.5, 65.5, 80.5, 95.5, 110.5, 125.5],
    ]
    assert fake.sims_per_tick(126, 130) == [4, 4, 4, 4]
    assert len(details_lines(caplog, logging.INFO)) == 1

    await polling.run_until(140)
    fake.details_down = True
    await polling.run_until(160)
    assert fake.tick_times(140, 160) == [140.5, 141.5, 143.5, 147.5, 155.5]
    fake.details_down = False
    wanted = fake.sims[7]["iccid"]
    polling.details.request_soon(wanted)
    await polling.run_until(161)
    assert fake.tick_times(160, 161) == [160.5]
    assert fake.fetch_times(wanted)[-1] == 160.5
    assert polling.details.available(wanted)
    assert fake.list_poll_times() == [0]


async def test_with_a_daily_list_a_429_thins_details_for_15_minutes_not_a_day(
    make_polling: MakePolling,
) -> None:
    """Without a list poll to say 1NCE is fine again, 15 quiet minutes do."""
    fake, polling = make_polling(60, LIST_ONCE_A_DAY)
    await polling.start()
    await polling.run_until(20)
    # The SIM whose turn is next.
    known = polling.details.data
    refused = min(
        (sim["iccid"] for sim in fake.sims), key=lambda i: known[i].fetched_at
    )
    fake.sim_status[refused] = 429
    await polling.run_until(20.5)
    assert polling.fleet.slowdown == 2
    del fake.sim_status[refused]

    await polling.run_until(40)
    assert fake.sims_per_tick(21, 36) == [2] * 15
    assert fake.sims_per_tick(36, 40) == [4] * 4
    assert polling.fleet.slowdown == 1
    assert fake.list_poll_times() == [0]


@pytest.mark.parametrize(
    ("list_minutes", "stretched_minutes"), [(15, 60), (30, 60), (24 * 60, 24 * 60)]
)
async def test_429s_stretch_the_list_to_an_hour_or_its_own_interval_at_most(
    make_polling: MakePolling, list_minutes: int, stretched_minutes: int
) -> None:
    """A list read every 30 minutes is slowed to an hour, not two; one read
    once a day stays daily, not every four days, failing or not."""
    fake, polling = make_polling(3, {CONF_LIST_INTERVAL: list_minutes})
    fleet = polling.fleet
    await fleet.async_refresh()
    fake.list_status = 429
    for _ in range(3):
        await fleet.async_refresh()
    assert fleet.slowdown == 4
    assert fleet.update_interval == timedelta(minutes=stretched_minutes)

    fake.list_status = None
    fake.down = True
    await fleet.async_refresh()
    assert fleet.update_interval == timedelta(minutes=stretched_minutes)
    fake.down = False
    await fleet.async_refresh()
    assert fleet.slowdown == 2
    assert fleet.update_interval == timedelta(
        minutes=min(2 * list_minutes, max(list_minutes, 60))
    )


async def test_details_resume_a_tick_after_the_list_even_after_a_long_retry_after(
    make_polling: MakePolling,
) -> None:
    """Ten minutes' pause asked for, then the list fails: once the list is
    back (here read again at 11), details follow at the next tick, not ten
    minutes after the last."""
    fake, polling = make_polling(3)
    refused = fake.sims[0]["iccid"]
    fake.sim_status[refused] = 429
    fake.sim_headers["Retry-After"] = "600"
    await polling.start()
    del fake.sim_status[refused]
    await polling.run_until(5)
    fake.down = True
    await polling.fleet.async_refresh()
    await polling.run_until(11)
    assert polling.details.update_interval == timedelta(minutes=1)

    fake.down = False
    await polling.fleet.async_refresh()
    await polling.run_until(12)
    assert fake.fetch_times(refused) == [0.5, 11.5]
    assert polling.details.available(refused)


async def test_an_empty_list_keeps_every_sims_details_and_back_off(
    make_polling: MakePolling,
) -> None:
    """A list answering [] is 1NCE's glitch: details stay, nothing is asked
    meanwhile, and afterwards no SIM is read again as if new."""
    fake, polling = make_polling(3)
    good, bad, other = (sim["iccid"] for sim in fake.sims)
    fake.sim_status[bad] = 500
    await polling.start()
    await polling.run_until(14)

    fake.empty_list = True
    await polling.run_until(29)
    assert polling.fleet.data == {}
    assert set(polling.details.data) == {good, other}
    assert polling.details.failed[bad].failures == 4
    fake.empty_list = False
    await polling.run_until(40)

    assert fake.fetch_times(good) == [0.5]
    assert fake.fetch_times(other) == [0.5]
    # The back-off goes on where it was: due at 15.5, asked once listed.
    assert fake.fetch_times(bad) == [0.5, 1.5, 3.5, 7.5, 30.5]
    assert polling.details.failed[bad].failures == 5
    assert polling.details.available(good)


async def test_an_unknown_status_word_is_warned_about_once_per_word(
    make_polling: MakePolling, caplog: pytest.LogCaptureFixture
) -> None:
    """A state 1NCE introduced shows as unknown, and the log says which."""
    fake, polling = make_polling(3, DETAILS_EVERY_15_MINUTES)
    fake.connection_word = "ROAMING"
    fake.quota_word = "PAUSED"
    await polling.start()
    await polling.run_until(20)
    assert all(len(fake.fetch_times(sim["iccid"])) == 2 for sim in fake.sims)
    assert polling.details.data[fake.sims[0]["iccid"]].connectivity.status is None

    fake.connection_word = "PARKED"
    polling.details.request_soon(fake.sims[0]["iccid"])
    await polling.run_until(21)

    assert warnings_about(caplog, "unknown") == [
        "1NCE reported an unknown connection status 'ROAMING'; shown as unknown",
        "1NCE reported an unknown quota status 'PAUSED'; shown as unknown",
        "1NCE reported an unknown connection status 'PARKED'; shown as unknown",
    ]


async def test_asking_for_a_sim_while_it_is_being_fetched_is_not_lost(
    make_polling: MakePolling,
) -> None:
    """A change made while a SIM's details are on their way may not be in
    them: the SIM is asked again at the next tick, back-off or not."""
    fake, polling = make_polling(3)
    changed, bad = fake.sims[0]["iccid"], fake.sims[1]["iccid"]
    fake.sim_status[bad] = 500

    def change_while_fetching(iccid: str) -> None:
        if (iccid, minutes()) in {(changed, 0.5), (bad, 1.5)}:
            polling.details.request_soon(iccid)

    fake.during_fetch = change_while_fetching
    await polling.start()
    await polling.run_until(5)

    assert fake.fetch_times(changed) == [0.5, 1.5]
    # Failed at 0.5 and 1.5; asked for during the second, so asked at 2.5.
    assert fake.fetch_times(bad)[:3] == [0.5, 1.5, 2.5]
