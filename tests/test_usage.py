"""Six months of SMS and data usage in the recorder, and this month's totals."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping
from datetime import UTC, date, datetime, timedelta
from http import HTTPStatus
import logging
import re
from typing import Any, TypedDict
from unittest.mock import AsyncMock, patch

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)

from custom_components.one_nce.api import DEFAULT_BASE_URL, OneNceClient, Sim
from custom_components.one_nce.const import DOMAIN
from custom_components.one_nce.statistics import (
    async_remove_zone_record,
    fleet_subject,
    statistic_metadata,
)
from custom_components.one_nce.usage import UsageCoordinator
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.models import StatisticMeanType
from homeassistant.components.recorder.statistics import (
    get_metadata,
    statistics_during_period,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util

from .conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    TOKEN_URL,
    USAGE_URL_PATTERN,
    load_json,
)

GATE = "8988228066000000001"  # labelled "Garden gate"
METER = "8988228066000000002"  # no label
STATION = "8988228066000000003"  # labelled "Weather station"
USAGE_URL = f"{DEFAULT_BASE_URL}/v1/sims/{{}}/usage"
SMS_LIST = re.compile(r"/v2/sims/\d+/sms")
FLEET = "one_nce:ha_client_4711_fleet"
START = "2026-11-23 12:00:00+00:00"
OUTAGE: dict[str, Any] = {"status": HTTPStatus.SERVICE_UNAVAILABLE, "text": "<html>"}

# Home Assistant starts at START: its event loop's clock follows the frozen
# time, and moving that clock backwards (from the real date to START) leaves
# the recorder's timers waiting for a day that never comes.
pytestmark = pytest.mark.freeze_time(START)

type Rows = dict[date, tuple[float, float]]


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """Override conftest's: it needs `hass` first, the recorder must come before.

    These tests build the usage coordinator directly and never load the
    integration through Home Assistant's loader.
    """


@pytest.fixture
def sims() -> dict[str, Sim]:
    """The two SIMs of the account whose usage is followed."""
    return {
        item["iccid"]: Sim.from_api(item)
        for item in load_json("sims.json")
        if item["iccid"] in (GATE, METER)
    }


def _answer(aioclient_mock: AiohttpClientMocker, **answers: Any) -> None:
    """Answer the token and each named SIM's usage (a fixture name or mock kwargs)."""
    aioclient_mock.clear_requests()
    aioclient_mock.post(TOKEN_URL, json=load_json("token.json"))
    for name, answer in answers.items():
        iccid = {"gate": GATE, "meter": METER, "station": STATION}[name]
        kwargs = {"json": load_json(answer)} if isinstance(answer, str) else answer
        aioclient_mock.get(USAGE_URL.format(iccid), **kwargs)


def _windows(aioclient_mock: AiohttpClientMocker) -> dict[str, tuple[str, str]]:
    """The (start_dt, end_dt) asked for, per ICCID."""
    return {
        url.path.split("/")[-2]: (url.query["start_dt"], url.query["end_dt"])
        for method, url, _data, _headers in aioclient_mock.mock_calls
        if method == "GET"
    }


@pytest.fixture
async def usage(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, sims: dict[str, Sim]
) -> AsyncGenerator[UsageCoordinator]:
    """A usage coordinator of the two SIMs, shut down after the test."""
    coordinator = _coordinator(hass, mock_config_entry, sims)
    yield coordinator
    await coordinator.async_shutdown()


def _coordinator(
    hass: HomeAssistant, entry: MockConfigEntry, sims: Mapping[str, Sim]
) -> UsageCoordinator:
    client = OneNceClient(
        async_get_clientsession(hass), CLIENT_ID, CLIENT_SECRET, sleep=AsyncMock()
    )
    return UsageCoordinator(hass, entry, client, lambda: sims)


async def _poll(hass: HomeAssistant, usage: UsageCoordinator) -> None:
    await usage.async_refresh()
    await async_wait_recording_done(hass)


def _move_to(hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: str) -> None:
    """Move the clock and run the timers due, like time passing would.

    Without firing them, a daily timer due at exactly the new time would never
    run: the event loop's clock is then too coarse to see it due, and the loop
    spins on it, starving the recorder's thread.
    """
    freezer.move_to(when)
    async_fire_time_changed(hass)


async def _next_day(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    await _later(hass, freezer, timedelta(days=1))


async def _later(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    """Let `delta` pass, running the poll that falls due and its import."""
    freezer.tick(delta)
    async_fire_time_changed(hass)
    # The coordinator's own poll runs as the entry's background task.
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)


async def _rows(hass: HomeAssistant, statistic_id: str) -> Rows:
    """Stored rows of one statistic: local date -> (state, sum).

    Home Assistant's test instance runs in US/Pacific (UTC-8), so a row stored
    at UTC midnight would show on the local day before.
    """
    stats = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        datetime(2026, 1, 1, tzinfo=UTC),
        None,
        {statistic_id},
        "hour",
        None,
        {"state", "sum"},
    )
    return {
        dt_util.as_local(dt_util.utc_from_timestamp(row["start"])).date(): (
            row["state"],
            row["sum"],
        )
        for row in stats.get(statistic_id, [])
    }


def _day(text: str) -> date:
    return date.fromisoformat(text)


@pytest.mark.freeze_time(START)
async def test_first_run_backfills_six_months_per_sim_and_for_the_fleet(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    usage: UsageCoordinator,
) -> None:
    """One request per SIM fetches six months; every day gets a row and a sum."""
    _answer(
        aioclient_mock,
        gate="usage_gate_backfill.json",
        meter="usage_meter_backfill.json",
    )
    await _poll(hass, usage)

    # One request per SIM (and the token), however long the window.
    assert [call[0] for call in aioclient_mock.mock_calls] == ["POST", "GET", "GET"]
    assert _windows(aioclient_mock) == {
        GATE: ("2026-05-23", "2026-11-23"),
        METER: ("2026-05-23", "2026-11-23"),
    }
    sent = await _rows(hass, f"one_nce:sms_mt_{GATE}")
    # Day by day from six months back; the day 1NCE left out counts as zero.
    assert min(sent) == _day("2026-05-23")
    assert len(sent) == 185
    assert sent[_day("2026-10-31")] == (4, 4)
    assert sent[_day("2026-11-20")] == (3, 7)
    assert sent[_day("2026-11-21")] == (0, 7)
    assert sent[_day("2026-11-23")] == (1, 8)
    received = await _rows(hass, f"one_nce:sms_mo_{GATE}")
    assert received[_day("2026-11-23")] == (2, 7)
    data = await _rows(hass, f"one_nce:data_{METER}")
    assert data[_day("2026-11-01")] == (3.0, 3.0)
    assert data[_day("2026-11-23")] == pytest.approx((0.1, 3.1))

    fleet_sent = await _rows(hass, f"{FLEET}_sms_mt")
    assert fleet_sent[_day("2026-11-01")] == (5, 9)
    assert fleet_sent[_day("2026-11-23")] == (3, 15)
    fleet_received = await _rows(hass, f"{FLEET}_sms_mo")
    assert fleet_received[_day("2026-11-23")] == (2, 8)


@pytest.mark.freeze_time(START)
async def test_statistics_are_named_after_the_sim_and_carry_units(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    usage: UsageCoordinator,
) -> None:
    """The statistics picker shows the SIM's label (or ICCID) and the fleet."""
    _answer(
        aioclient_mock,
        gate="usage_gate_backfill.json",
        meter="usage_meter_backfill.json",
    )
    await _poll(hass, usage)

    metadata = await get_instance(hass).async_add_executor_job(get_metadata, hass)
    described = {
        statistic_id: (meta["name"], meta["unit_of_measurement"], meta["has_sum"])
        for statistic_id, (_id, meta) in metadata.items()
    }
    assert described == {
        f"one_nce:sms_mt_{GATE}": ("Garden gate SMS sent (MT)", "SMS", True),
        f"one_nce:sms_mo_{GATE}": ("Garden gate SMS received (MO)", "SMS", True),
        f"one_nce:data_{GATE}": ("Garden gate data used", "MB", True),
        f"one_nce:sms_mt_{METER}": (f"{METER} SMS sent (MT)", "SMS", True),
        f"one_nce:sms_mo_{METER}": (f"{METER} SMS received (MO)", "SMS", True),
        f"one_nce:data_{METER}": (f"{METER} data used", "MB", True),
        f"{FLEET}_sms_mt": ("1NCE fleet SMS sent (MT)", "SMS", True),
        f"{FLEET}_sms_mo": ("1NCE fleet SMS received (MO)", "SMS", True),
        f"{FLEET}_data": ("1NCE fleet data used", "MB", True),
    }
    assert all(
        meta["mean_type"] == StatisticMeanType.NONE for _id, meta in metadata.values()
    )


async def test_next_day_refetches_from_the_last_day_without_double_counting(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    usage: UsageCoordinator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Yesterday's partial day is replaced, not added to, and sums carry on."""
    _answer(
        aioclient_mock,
        gate="usage_gate_backfill.json",
        meter="usage_meter_backfill.json",
    )
    await _poll(hass, usage)
    _answer(aioclient_mock, gate="usage_gate_next.json", meter="usage_meter_next.json")

    await _next_day(hass, freezer)

    assert _windows(aioclient_mock) == {
        GATE: ("2026-11-23", "2026-11-24"),
        METER: ("2026-11-23", "2026-11-24"),
    }
    sent = await _rows(hass, f"one_nce:sms_mt_{GATE}")
    assert sent[_day("2026-11-22")] == (0, 7)
    assert sent[_day("2026-11-23")] == (2, 9)
    assert sent[_day("2026-11-24")] == (2, 11)
    fleet_sent = await _rows(hass, f"{FLEET}_sms_mt")
    assert fleet_sent[_day("2026-11-23")] == (4, 16)
    assert fleet_sent[_day("2026-11-24")] == (3, 19)
    fleet_data = await _rows(hass, f"{FLEET}_data")
    assert fleet_data[_day("2026-11-23")] == pytest.approx((0.85, 7.1))
    assert fleet_data[_day("2026-11-24")] == pytest.approx((0.25, 7.35))

    # The same day imported again (a manual refresh) changes nothing.
    await _poll(hass, usage)
    assert await _rows(hass, f"{FLEET}_sms_mt") == fleet_sent


async def test_restart_reaches_back_to_the_month_start_for_the_totals(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
    sims: dict[str, Sim],
    usage: UsageCoordinator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """After a restart the month's totals are complete again, sums unchanged."""
    _answer(
        aioclient_mock,
        gate="usage_gate_backfill.json",
        meter="usage_meter_backfill.json",
    )
    await _poll(hass, usage)
    await usage.async_shutdown()
    _move_to(hass, freezer, "2026-11-24 12:00:00+00:00")
    _answer(
        aioclient_mock, gate="usage_gate_month.json", meter="usage_meter_month.json"
    )
    restarted = _coordinator(hass, mock_config_entry, sims)

    await _poll(hass, restarted)
    await restarted.async_shutdown()

    assert _windows(aioclient_mock) == {
        GATE: ("2026-11-01", "2026-11-24"),
        METER: ("2026-11-01", "2026-11-24"),
    }
    # Gate: 3 + 0 + 2 + 2 sent, 0 + 1 + 3 + 0 received; meter: 5 + 2 + 1, 1 + 0 + 1.
    assert restarted.month_totals() == (15, 6)
    fleet_sent = await _rows(hass, f"{FLEET}_sms_mt")
    assert fleet_sent[_day("2026-10-31")] == (4, 4)
    assert fleet_sent[_day("2026-11-01")] == (5, 9)
    assert fleet_sent[_day("2026-11-24")] == (3, 19)


async def test_restart_with_a_sim_failing_leaves_the_totals_unknown_not_low(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
    sims: dict[str, Sim],
    usage: UsageCoordinator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A SIM whose first fetch after a restart fails would make the total drop."""
    _answer(
        aioclient_mock,
        gate="usage_gate_backfill.json",
        meter="usage_meter_backfill.json",
    )
    await _poll(hass, usage)
    assert usage.month_totals() == (11, 4)
    await usage.async_shutdown()

    _move_to(hass, freezer, "2026-11-24 12:00:00+00:00")
    _answer(
        aioclient_mock,
        gate="usage_gate_month.json",
        meter={"status": HTTPStatus.SERVICE_UNAVAILABLE, "text": "<html>"},
    )
    restarted = _coordinator(hass, mock_config_entry, sims)
    await _poll(hass, restarted)
    await restarted.async_shutdown()

    assert restarted.last_update_success is True
    assert restarted.month_totals() is None


@pytest.mark.freeze_time(START)
async def test_month_totals_count_this_month_across_the_fleet(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    usage: UsageCoordinator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The account sensors' SMS of this month: unknown, then counted, then reset.

    Months are Home Assistant's local months (US/Pacific here, UTC-8).
    """
    assert usage.month_totals() is None
    _answer(
        aioclient_mock,
        gate="usage_gate_backfill.json",
        meter="usage_meter_backfill.json",
    )
    await _poll(hass, usage)

    # October's day is not this month's; November's from both SIMs are.
    assert usage.month_totals() == (3 + 0 + 1 + 5 + 2, 0 + 1 + 2 + 1 + 0)

    # December in UTC, still November 30th here: November still counts.
    await usage.async_shutdown()
    _move_to(hass, freezer, "2026-12-01 07:30:00+00:00")
    assert usage.month_totals() == (11, 4)
    # Local midnight: before any poll of the new month, the old month's days
    # no longer count.
    _move_to(hass, freezer, "2026-12-01 08:30:00+00:00")
    assert usage.month_totals() == (0, 0)


async def test_a_failed_sim_is_caught_up_and_the_fleet_corrected(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    usage: UsageCoordinator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """One SIM failing keeps the others' import; the next day heals the fleet."""
    _answer(
        aioclient_mock,
        gate="usage_gate_backfill.json",
        meter={"status": HTTPStatus.SERVICE_UNAVAILABLE, "text": "<html>"},
    )
    await _poll(hass, usage)

    assert usage.last_update_success is True
    assert (await _rows(hass, f"{FLEET}_sms_mt"))[_day("2026-11-23")] == (1, 8)
    # A total without the failed SIM's month would be too low: unknown instead.
    assert usage.month_totals() is None

    _answer(
        aioclient_mock, gate="usage_gate_month.json", meter="usage_meter_backfill.json"
    )
    await _next_day(hass, freezer)

    assert _windows(aioclient_mock) == {
        GATE: ("2026-11-01", "2026-11-24"),
        METER: ("2026-05-24", "2026-11-24"),
    }
    fleet_sent = await _rows(hass, f"{FLEET}_sms_mt")
    assert fleet_sent[_day("2026-11-01")] == (5, 9)
    assert fleet_sent[_day("2026-11-20")] == (3, 12)
    assert fleet_sent[_day("2026-11-23")] == (2 + 2, 16)
    assert fleet_sent[_day("2026-11-24")] == (2, 18)
    # Both SIMs' months known: gate 3 + 0 + 2 + 2 and 0 + 1 + 3 + 0, meter 5 + 2
    # and 1 + 0.
    assert usage.month_totals() == (14, 5)


async def test_a_day_is_stored_on_that_date_west_of_greenwich(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    usage: UsageCoordinator,
) -> None:
    """In New York, a daily statistics graph shows November 20th's SMS on the 20th."""
    await hass.config.async_set_time_zone("America/New_York")
    _answer(
        aioclient_mock,
        gate="usage_gate_backfill.json",
        meter="usage_meter_backfill.json",
    )
    await _poll(hass, usage)

    new_york = dt_util.get_time_zone("America/New_York")
    days = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        datetime(2026, 11, 19, tzinfo=new_york),
        datetime(2026, 11, 22, tzinfo=new_york),
        {f"one_nce:sms_mt_{GATE}"},
        "day",
        None,
        {"state", "change"},
    )
    change = {
        datetime.fromtimestamp(row["start"], new_york): row["change"]
        for row in days[f"one_nce:sms_mt_{GATE}"]
    }
    assert change[datetime(2026, 11, 19, tzinfo=new_york)] == 0
    assert change[datetime(2026, 11, 20, tzinfo=new_york)] == 3
    assert change[datetime(2026, 11, 21, tzinfo=new_york)] == 0


async def test_half_hour_zones_keep_days_apart_and_sums_right(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    usage: UsageCoordinator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """In India local midnight is no whole UTC hour: the row goes half an hour later.

    Half an hour earlier would put it on the day before; the next day's
    re-import still finds its own rows and counts nothing twice.
    """
    await hass.config.async_set_time_zone("Asia/Kolkata")
    _answer(
        aioclient_mock,
        gate="usage_gate_backfill.json",
        meter="usage_meter_backfill.json",
    )
    await _poll(hass, usage)
    _answer(aioclient_mock, gate="usage_gate_next.json", meter="usage_meter_next.json")

    await _next_day(hass, freezer)

    assert _windows(aioclient_mock)[GATE] == ("2026-11-23", "2026-11-24")
    sent = await _rows(hass, f"one_nce:sms_mt_{GATE}")
    assert sent[_day("2026-11-20")] == (3, 7)
    assert sent[_day("2026-11-23")] == (2, 9)
    assert sent[_day("2026-11-24")] == (2, 11)
    assert len(sent) == 186
    stored = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        datetime(2026, 11, 19, 12, tzinfo=UTC),
        datetime(2026, 11, 20, 12, tzinfo=UTC),
        {f"one_nce:sms_mt_{GATE}"},
        "hour",
        None,
        {"state"},
    )
    # 00:30 on November 20th in India.
    assert [row["start"] for row in stored[f"one_nce:sms_mt_{GATE}"]] == [
        datetime(2026, 11, 19, 19, tzinfo=UTC).timestamp()
    ]


@pytest.mark.freeze_time("2026-11-24 06:00:00+00:00")
async def test_no_day_is_asked_for_before_it_has_begun_here(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    usage: UsageCoordinator,
) -> None:
    """At 10 pm in California it is tomorrow in UTC; that day is not stored yet."""
    _answer(
        aioclient_mock,
        gate="usage_gate_backfill.json",
        meter="usage_meter_backfill.json",
    )
    await usage.async_refresh()

    assert _windows(aioclient_mock)[GATE] == ("2026-11-01", "2026-11-23")


@pytest.mark.freeze_time("2026-11-30 23:30:00+00:00")
async def test_a_new_local_month_east_of_greenwich_starts_at_zero(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    usage: UsageCoordinator,
) -> None:
    """At 00:30 on December 1st in Berlin, 1NCE's December has not begun yet."""
    await hass.config.async_set_time_zone("Europe/Berlin")
    _answer(
        aioclient_mock,
        gate="usage_gate_backfill.json",
        meter="usage_meter_backfill.json",
    )
    await usage.async_refresh()

    assert _windows(aioclient_mock)[GATE] == ("2026-11-30", "2026-11-30")
    assert usage.month_totals() == (0, 0)


async def test_failed_poll_is_retried_within_hours_not_the_next_day(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    usage: UsageCoordinator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An outage fails the poll; it is asked again after one hour, then two."""
    _answer(aioclient_mock, gate=OUTAGE, meter=OUTAGE)
    await _poll(hass, usage)

    assert usage.last_update_success is False
    assert usage.month_totals() is None
    assert usage.not_counted() == []
    assert "no longer offers usage" not in caplog.text

    await _later(hass, freezer, timedelta(hours=1))
    assert _windows(aioclient_mock) == {
        GATE: ("2026-05-23", "2026-11-23"),
        METER: ("2026-05-23", "2026-11-23"),
    }
    assert usage.last_update_success is False
    assert usage.data is None

    _answer(
        aioclient_mock,
        gate="usage_gate_backfill.json",
        meter="usage_meter_backfill.json",
    )
    await _later(hass, freezer, timedelta(hours=2))

    assert usage.last_update_success is True
    assert _windows(aioclient_mock)[GATE] == ("2026-05-23", "2026-11-23")
    assert usage.month_totals() == (11, 4)
    assert (await _rows(hass, f"{FLEET}_sms_mt"))[_day("2026-11-23")] == (3, 15)
    # The daily poll keeps its time: a day after the failed one.
    _answer(aioclient_mock, gate="usage_gate_next.json", meter="usage_meter_next.json")
    await _later(hass, freezer, timedelta(hours=21))
    assert _windows(aioclient_mock) == {
        GATE: ("2026-11-23", "2026-11-24"),
        METER: ("2026-11-23", "2026-11-24"),
    }


@pytest.mark.parametrize("status", [HTTPStatus.NOT_FOUND, HTTPStatus.GONE])
async def test_no_usage_source_left_is_reported_once_and_not_asked_again(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    usage: UsageCoordinator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    status: HTTPStatus,
) -> None:
    """v1 usage and the SMS list both gone: one warning, no totals, no requests."""
    gone = {"status": status, "json": {"message": "Not Found"}}
    _answer(aioclient_mock, gate=gone, meter=gone)
    aioclient_mock.get(SMS_LIST, status=HTTPStatus.GONE, json={"message": "Gone"})
    await _poll(hass, usage)

    assert _retired_warnings(caplog) == 1
    assert usage.month_totals() is None
    assert usage.last_update_success is True

    aioclient_mock.clear_requests()
    for _ in range(3):
        await _next_day(hass, freezer)
    await usage.async_refresh()
    assert aioclient_mock.call_count == 0
    assert _retired_warnings(caplog) == 1


def _retired_warnings(caplog: pytest.LogCaptureFixture) -> int:
    return sum(
        record.levelno == logging.WARNING and "no longer offers usage" in record.message
        for record in caplog.records
    )


async def test_history_continues_after_home_assistant_was_off_for_months(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
    sims: dict[str, Sim],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Beyond what 1NCE keeps, sums carry on from the last stored day."""
    gate_only = {GATE: sims[GATE]}
    _answer(aioclient_mock, gate="usage_gate_backfill.json")
    first = _coordinator(hass, mock_config_entry, gate_only)
    await _poll(hass, first)
    await first.async_shutdown()

    _move_to(hass, freezer, "2027-06-10 12:00:00+00:00")
    _answer(aioclient_mock, gate="usage_gate_after_outage.json")
    later = _coordinator(hass, mock_config_entry, gate_only)
    await _poll(hass, later)
    await later.async_shutdown()

    assert _windows(aioclient_mock) == {GATE: ("2026-12-10", "2027-06-10")}
    sent = await _rows(hass, f"one_nce:sms_mt_{GATE}")
    assert sent[_day("2026-11-23")] == (1, 8)
    assert _day("2026-12-01") not in sent
    assert sent[_day("2026-12-10")] == (0, 8)
    assert sent[_day("2027-06-10")] == (1, 9)


async def test_sims_leaving_or_never_used_do_not_skew_the_totals(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
    sims: dict[str, Sim],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A SIM that left stops counting; one without any usage gets no rows."""
    station = Sim.from_api(load_json("sims.json")[2])
    fleet = {**sims, STATION: station}
    _answer(
        aioclient_mock,
        gate="usage_gate_backfill.json",
        meter="usage_meter_backfill.json",
        station="usage_unused.json",
    )
    usage = _coordinator(hass, mock_config_entry, fleet)
    await _poll(hass, usage)

    assert usage.month_totals() == (11, 4)
    assert await _rows(hass, f"one_nce:sms_mt_{STATION}") == {}

    del fleet[METER]
    _answer(aioclient_mock, gate="usage_gate_next.json", station="usage_unused.json")
    await _next_day(hass, freezer)
    await usage.async_shutdown()

    # Garden gate's November alone: 3 + 0 + 2 + 2 sent, 0 + 1 + 3 + 0 received.
    assert usage.month_totals() == (7, 4)


@pytest.mark.freeze_time(START)
async def test_unexpected_errors_surface_instead_of_retiring_usage(
    hass: HomeAssistant,
    usage: UsageCoordinator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A bug is logged as one and polling goes on; it is not "v1 retired"."""
    with patch.object(usage.client, "async_get_usage", side_effect=RuntimeError):
        await usage.async_refresh()

    assert usage.last_update_success is False
    assert usage.update_interval == timedelta(days=1)
    assert "Unexpected error fetching one_nce usage data" in caplog.text
    assert "no longer offers usage" not in caplog.text


@pytest.mark.freeze_time(START)
async def test_without_recorder_only_this_month_is_fetched(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    usage: UsageCoordinator,
) -> None:
    """No recorder, no import: the month's totals still work from one request."""
    _answer(
        aioclient_mock,
        gate="usage_gate_backfill.json",
        meter="usage_meter_backfill.json",
    )
    await usage.async_refresh()

    assert usage.last_update_success is True
    assert _windows(aioclient_mock) == {
        GATE: ("2026-11-01", "2026-11-23"),
        METER: ("2026-11-01", "2026-11-23"),
    }
    assert usage.month_totals() == (11, 4)


@pytest.mark.freeze_time(START)
async def test_empty_fleet_asks_nothing(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
) -> None:
    """An account without SIMs costs no request and has zero SMS this month."""
    _answer(aioclient_mock)
    usage = _coordinator(hass, mock_config_entry, {})
    await _poll(hass, usage)
    await usage.async_shutdown()

    assert aioclient_mock.call_count == 0
    assert usage.month_totals() == (0, 0)


def test_each_account_has_its_own_fleet_statistics() -> None:
    """Two accounts in one Home Assistant never write into each other's fleet."""
    first = MockConfigEntry(domain=DOMAIN, title="1NCE", unique_id="Org-4711")
    second = MockConfigEntry(domain=DOMAIN, title="1NCE Work", unique_id="org-0815")
    no_unique_id = MockConfigEntry(domain=DOMAIN, title="1NCE", entry_id="01JABCDEF")

    assert (
        fleet_subject(first).statistic_ids["sms_mt"] == "one_nce:org_4711_fleet_sms_mt"
    )
    assert (
        fleet_subject(second).statistic_ids["sms_mo"] == "one_nce:org_0815_fleet_sms_mo"
    )
    assert fleet_subject(second).name == "1NCE Work fleet"
    assert (
        fleet_subject(no_unique_id).statistic_ids["data"]
        == "one_nce:01jabcdef_fleet_data"
    )


class _OlderMetaData(TypedDict):
    mean_type: StatisticMeanType
    has_sum: bool
    name: str | None
    source: str
    statistic_id: str
    unit_of_measurement: str | None


class _NewerMetaData(_OlderMetaData):
    unit_class: str | None


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        (_OlderMetaData, {}),
        (_NewerMetaData, {"unit_class": "information"}),
    ],
)
def test_metadata_has_the_keys_the_running_recorder_declares(
    declared: type, expected: dict[str, str]
) -> None:
    """Older recorders get no unit_class; newer ones get it (and never has_mean)."""
    with patch("custom_components.one_nce.statistics.StatisticMetaData", declared):
        metadata = statistic_metadata(
            statistic_id="one_nce:data_1", name="x", unit="MB", unit_class="information"
        )

    assert metadata == {
        "mean_type": StatisticMeanType.NONE,
        "has_sum": True,
        "name": "x",
        "source": "one_nce",
        "statistic_id": "one_nce:data_1",
        "unit_of_measurement": "MB",
        **expected,
    }


# --- retrying failed SIMs ---------------------------------------------------------


def _usage_requests(aioclient_mock: AiohttpClientMocker) -> list[str]:
    """The ICCIDs whose usage was asked for, in order."""
    return [
        url.path.split("/")[-2]
        for method, url, _data, _headers in aioclient_mock.mock_calls
        if method == "GET"
    ]


def _records(
    caplog: pytest.LogCaptureFixture, level: int, text: str
) -> list[logging.LogRecord]:
    return [
        record
        for record in caplog.records
        if record.levelno == level and text in record.getMessage()
    ]


async def test_a_failed_sim_is_retried_alone_an_hour_later_and_heals_the_fleet(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    usage: UsageCoordinator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """One request for the failed SIM; the fleet's days then count it too."""
    _answer(aioclient_mock, gate="usage_gate_backfill.json", meter=OUTAGE)
    await _poll(hass, usage)
    assert usage.month_totals() is None

    # Garden gate is not answered any more: asking it again would fail the test.
    _answer(aioclient_mock, meter="usage_meter_backfill.json")
    await _later(hass, freezer, timedelta(hours=1))

    assert _windows(aioclient_mock) == {METER: ("2026-05-23", "2026-11-23")}
    assert _usage_requests(aioclient_mock) == [METER]
    assert usage.month_totals() == (11, 4)
    # The same fleet as if nothing had failed.
    fleet_sent = await _rows(hass, f"{FLEET}_sms_mt")
    assert fleet_sent[_day("2026-10-31")] == (4, 4)
    assert fleet_sent[_day("2026-11-01")] == (5, 9)
    assert fleet_sent[_day("2026-11-23")] == (3, 15)
    assert (await _rows(hass, f"{FLEET}_sms_mo"))[_day("2026-11-23")] == (2, 8)
    assert (await _rows(hass, f"one_nce:sms_mt_{METER}"))[_day("2026-11-23")] == (
        2,
        7,
    )


async def test_a_sim_failing_again_and_again_is_asked_less_often_and_reported_once(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    usage: UsageCoordinator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """After 1 h, 2 h, 4 h ...; at the third failure a warning, and the month counts
    the other SIM; when it is back, one line says so and it counts again."""
    _answer(aioclient_mock, gate="usage_gate_backfill.json", meter=OUTAGE)
    await _poll(hass, usage)
    _answer(aioclient_mock, meter=OUTAGE)

    asked = []
    for pause in (0.5, 0.5, 1, 1, 2, 2):  # hours: 0.5 1 2 3 5 7
        aioclient_mock.mock_calls.clear()
        await _later(hass, freezer, timedelta(hours=pause))
        asked.append(METER in _usage_requests(aioclient_mock))
    assert asked == [False, True, False, True, False, True]

    warnings = _records(caplog, logging.WARNING, METER)
    assert len(warnings) == 1
    assert "3 times in a row" in warnings[0].getMessage()
    # Garden gate's November alone: 3 + 0 + 1 sent, 0 + 1 + 2 received.
    assert usage.month_totals() == (4, 3)
    assert usage.not_counted() == [METER]

    _answer(aioclient_mock, meter="usage_meter_backfill.json")
    await _later(hass, freezer, timedelta(hours=7, minutes=59))
    assert _usage_requests(aioclient_mock) == []
    await _later(hass, freezer, timedelta(minutes=1))

    assert _usage_requests(aioclient_mock) == [METER]
    assert usage.month_totals() == (11, 4)
    assert usage.not_counted() == []
    assert len(_records(caplog, logging.INFO, f"Usage of SIM {METER} is fetched")) == 1
    assert len(_records(caplog, logging.WARNING, METER)) == 1


async def test_a_fleet_wide_outage_is_reported_in_one_short_line(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Seven SIMs failing three times: one warning naming five, counting the rest."""
    template = load_json("sims.json")[0]
    fleet = {
        iccid: Sim.from_api({**template, "iccid": iccid})
        for iccid in (f"89882280660000001{n:02}" for n in range(7))
    }
    _answer(aioclient_mock)
    aioclient_mock.get(USAGE_URL_PATTERN, **OUTAGE)
    usage = _coordinator(hass, mock_config_entry, fleet)
    for _ in range(3):
        await usage.async_refresh()
    await usage.async_shutdown()

    warnings = [
        record.getMessage()
        for record in caplog.records
        if record.levelno == logging.WARNING
    ]
    assert len(warnings) == 1
    assert "8988228066000000104 and 2 more failed 3 times" in warnings[0]
    assert "8988228066000000105" not in warnings[0]


async def test_a_refresh_by_hand_asks_a_failed_sim_at_once(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    usage: UsageCoordinator,
) -> None:
    """Before its pause is over, a refresh asked for retries only the failed SIM."""
    _answer(aioclient_mock, gate="usage_gate_backfill.json", meter=OUTAGE)
    await usage.async_refresh()
    _answer(aioclient_mock, meter="usage_meter_backfill.json")

    await usage.async_refresh()

    assert _windows(aioclient_mock) == {METER: ("2026-11-01", "2026-11-23")}
    assert usage.month_totals() == (11, 4)


async def test_a_failed_sim_that_leaves_is_not_asked_again(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
    sims: dict[str, Sim],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Once the failed SIM left the account, the retry is an ordinary poll."""
    usage = _coordinator(hass, mock_config_entry, sims)
    _answer(aioclient_mock, gate="usage_gate_backfill.json", meter=OUTAGE)
    await _poll(hass, usage)
    del sims[METER]
    _answer(aioclient_mock, gate="usage_gate_backfill.json")

    await _later(hass, freezer, timedelta(hours=1))
    await usage.async_shutdown()

    assert _usage_requests(aioclient_mock) == [GATE]
    assert usage.month_totals() == (4, 3)
    assert usage.not_counted() == []


# --- a SIM list answering [] ------------------------------------------------------


async def _backfilled_then_emptied(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    sims: dict[str, Sim],
) -> tuple[UsageCoordinator, dict[str, Sim]]:
    """A fleet imported at its first poll, whose SIM list then answers `[]`.

    Returns the coordinator and the list it reads, to fill again if wanted.
    """
    listed = dict(sims)
    usage = _coordinator(hass, entry, listed)
    _answer(
        aioclient_mock,
        gate="usage_gate_backfill.json",
        meter="usage_meter_backfill.json",
    )
    await _poll(hass, usage)
    listed.clear()
    return usage, listed


async def test_an_empty_sim_list_once_keeps_the_month(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
    sims: dict[str, Sim],
    freezer: FrozenDateTimeFactory,
) -> None:
    """A list briefly answering `[]` at the daily poll does not zero the totals."""
    usage, listed = await _backfilled_then_emptied(
        hass, mock_config_entry, aioclient_mock, sims
    )
    _answer(aioclient_mock)

    await _next_day(hass, freezer)

    assert aioclient_mock.call_count == 0
    assert usage.month_totals() == (11, 4)

    # An hour later the list is back: the day's poll is made up for.
    listed.update(sims)
    _answer(aioclient_mock, gate="usage_gate_next.json", meter="usage_meter_next.json")
    await _later(hass, freezer, timedelta(hours=1))
    await usage.async_shutdown()

    assert _windows(aioclient_mock) == {
        GATE: ("2026-11-23", "2026-11-24"),
        METER: ("2026-11-23", "2026-11-24"),
    }
    # Gate 3 + 0 + 2 + 2 sent, 0 + 1 + 3 + 0 received; meter 5 + 2 + 1, 1 + 0 + 1.
    assert usage.month_totals() == (15, 6)


async def test_a_sim_list_still_empty_an_hour_later_is_believed(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
    sims: dict[str, Sim],
    freezer: FrozenDateTimeFactory,
) -> None:
    """An account whose SIMs all left has no SMS this month."""
    usage, _ = await _backfilled_then_emptied(
        hass, mock_config_entry, aioclient_mock, sims
    )

    await _next_day(hass, freezer)
    assert usage.month_totals() == (11, 4)
    await _later(hass, freezer, timedelta(hours=1))
    await usage.async_shutdown()

    assert usage.month_totals() == (0, 0)


async def test_an_empty_list_waits_for_two_list_polls_before_it_is_believed(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
    sims: dict[str, Sim],
    freezer: FrozenDateTimeFactory,
) -> None:
    """With the list read every 3 hours, an hour later it cannot have changed."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=mock_config_entry.unique_id,
        data=dict(mock_config_entry.data),
        options={"list_interval": 180},
    )
    entry.add_to_hass(hass)
    usage, _ = await _backfilled_then_emptied(hass, entry, aioclient_mock, sims)

    await _next_day(hass, freezer)
    assert usage.update_interval == timedelta(hours=6)
    await _later(hass, freezer, timedelta(hours=1))
    assert usage.month_totals() == (11, 4)
    await _later(hass, freezer, timedelta(hours=5))
    await usage.async_shutdown()

    assert usage.month_totals() == (0, 0)


# --- Home Assistant's time zone changes --------------------------------------------


async def _stored(
    hass: HomeAssistant, statistic_id: str
) -> list[tuple[datetime, float, float]]:
    """Every stored row of a statistic: (start in local time, state, sum), in order."""
    stats = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        datetime(2026, 1, 1, tzinfo=UTC),
        None,
        {statistic_id},
        "hour",
        None,
        {"state", "sum"},
    )
    return [
        (
            dt_util.as_local(dt_util.utc_from_timestamp(row["start"])),
            row["state"],
            row["sum"],
        )
        for row in stats.get(statistic_id, [])
    ]


def _assert_consistent(rows: list[tuple[datetime, float, float]]) -> None:
    """One row per local date, at its midnight, each sum the last plus the day's count."""
    assert rows
    assert all(start.hour == 0 and start.minute == 0 for start, _, _ in rows)
    days = [start.date() for start, _, _ in rows]
    assert days == [days[0] + timedelta(days=n) for n in range(len(days))]
    running = 0.0
    for _start, state, total in rows:
        running += state
        assert total == pytest.approx(running)


@pytest.mark.parametrize(
    ("before", "after"),
    [("Europe/Berlin", "America/New_York"), ("America/New_York", "Europe/Berlin")],
)
async def test_a_new_time_zone_imports_the_statistics_again_once(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    usage: UsageCoordinator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
    before: str,
    after: str,
) -> None:
    """Rows of the old zone would read as the day before or after: no day counted
    twice or lost, every row on its date, one request per SIM, one log line."""
    await hass.config.async_set_time_zone(before)
    _answer(
        aioclient_mock,
        gate="usage_gate_backfill.json",
        meter="usage_meter_backfill.json",
    )
    await _poll(hass, usage)

    await hass.config.async_set_time_zone(after)
    _answer(
        aioclient_mock, gate="usage_gate_month.json", meter="usage_meter_month.json"
    )
    await _next_day(hass, freezer)

    assert _windows(aioclient_mock) == {
        GATE: ("2026-05-24", "2026-11-24"),
        METER: ("2026-05-24", "2026-11-24"),
    }
    for statistic_id in (
        f"one_nce:sms_mt_{GATE}",
        f"one_nce:sms_mo_{METER}",
        f"{FLEET}_sms_mt",
        f"{FLEET}_sms_mo",
        f"{FLEET}_data",
    ):
        _assert_consistent(await _stored(hass, statistic_id))
    fleet_sent = {
        start.date(): (state, total)
        for start, state, total in await _stored(hass, f"{FLEET}_sms_mt")
    }
    # Only what 1NCE now reports: gate 3 + 0 + 2 + 2, meter 5 + 2 + 1.
    assert fleet_sent[_day("2026-11-20")] == (3, 8)
    assert fleet_sent[_day("2026-11-23")] == (4, 12)
    assert fleet_sent[_day("2026-11-24")] == (3, 15)
    told = _records(caplog, logging.INFO, "imported again")
    assert len(told) == 1
    assert before in told[0].getMessage()
    assert after in told[0].getMessage()

    # The day after, it is an ordinary day again.
    _answer(aioclient_mock, gate="usage_gate_next.json", meter="usage_meter_next.json")
    await _next_day(hass, freezer)
    assert _windows(aioclient_mock)[GATE] == ("2026-11-24", "2026-11-25")
    assert len(_records(caplog, logging.INFO, "imported again")) == 1
    _assert_consistent(await _stored(hass, f"{FLEET}_sms_mt"))


async def test_statistics_of_unknown_zone_are_imported_again_once(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    aioclient_mock: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
    sims: dict[str, Sim],
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Rows from before zones were recorded (e.g. at UTC midnight) are redone."""
    usage = _coordinator(hass, mock_config_entry, sims)
    _answer(
        aioclient_mock,
        gate="usage_gate_backfill.json",
        meter="usage_meter_backfill.json",
    )
    await _poll(hass, usage)
    await usage.async_shutdown()
    del hass_storage[f"one_nce.{mock_config_entry.entry_id}.usage_zones"]

    _move_to(hass, freezer, "2026-11-24 12:00:00+00:00")
    _answer(
        aioclient_mock, gate="usage_gate_month.json", meter="usage_meter_month.json"
    )
    restarted = _coordinator(hass, mock_config_entry, sims)
    await _poll(hass, restarted)
    await restarted.async_shutdown()

    assert _windows(aioclient_mock)[GATE] == ("2026-05-24", "2026-11-24")
    assert "time zone unknown" in caplog.text
    _assert_consistent(await _stored(hass, f"{FLEET}_sms_mt"))


async def test_removing_the_account_forgets_its_zones(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    aioclient_mock: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
    usage: UsageCoordinator,
) -> None:
    """No file of a removed account is left behind in `.storage`."""
    _answer(
        aioclient_mock,
        gate="usage_gate_backfill.json",
        meter="usage_meter_backfill.json",
    )
    await _poll(hass, usage)
    key = f"one_nce.{mock_config_entry.entry_id}.usage_zones"
    assert key in hass_storage

    await async_remove_zone_record(hass, mock_config_entry.entry_id)

    assert key not in hass_storage
