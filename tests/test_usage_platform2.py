"""Usage of Platform 2.0 SIMs (no v1 usage): SMS list, data quota, Data Streamer."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import UTC, date, datetime, timedelta
from http import HTTPStatus
import logging
from typing import Any

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

from custom_components.one_nce.api import DEFAULT_BASE_URL, OneNceClient, Quota, Sim
from custom_components.one_nce.api.records import UsageKind, UsageRecord
from custom_components.one_nce.usage import UsageCoordinator
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util

from .conftest import CLIENT_ID, CLIENT_SECRET, TOKEN_URL, load_json

GATE = "8988228066000000001"  # a Platform 2.0 SIM: no v1 usage
METER = "8988228066000000002"  # a Platform 1.0 SIM of the same (hybrid) account
FLEET = "one_nce:ha_client_4711_fleet"
START = "2026-11-23 12:00:00+00:00"  # 04:00 in US/Pacific, the tests' zone
V1_GONE: dict[str, Any] = {"status": HTTPStatus.NOT_FOUND, "json": {"message": "x"}}
SMS_URL = f"{DEFAULT_BASE_URL}/v2/sims/{GATE}/sms"

pytestmark = pytest.mark.freeze_time(START)


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations() -> None:
    """The recorder must come before `hass`; these tests need no loader."""


def _answer(
    aioclient_mock: AiohttpClientMocker, sms: str | list[Any], meter: str | None = None
) -> None:
    """GATE answers no v1 usage and lists `sms`; METER answers v1 usage."""
    aioclient_mock.clear_requests()
    aioclient_mock.post(TOKEN_URL, json=load_json("token.json"))
    aioclient_mock.get(f"{DEFAULT_BASE_URL}/v1/sims/{GATE}/usage", **V1_GONE)
    if meter is not None:
        aioclient_mock.get(
            f"{DEFAULT_BASE_URL}/v1/sims/{METER}/usage", json=load_json(meter)
        )
    aioclient_mock.get(SMS_URL, json=load_json(sms) if isinstance(sms, str) else sms)


def _sims(*iccids: str) -> dict[str, Sim]:
    return {
        item["iccid"]: Sim.from_api(item)
        for item in load_json("sims.json")
        if item["iccid"] in iccids
    }


def _coordinator(
    hass: HomeAssistant, entry: MockConfigEntry, sims: dict[str, Sim]
) -> UsageCoordinator:
    client = OneNceClient(async_get_clientsession(hass), CLIENT_ID, CLIENT_SECRET)
    return UsageCoordinator(hass, entry, client, lambda: sims)


@pytest.fixture
async def usage(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> AsyncGenerator[UsageCoordinator]:
    """A usage coordinator of the Platform 2.0 SIM alone."""
    mock_config_entry.add_to_hass(hass)
    coordinator = _coordinator(hass, mock_config_entry, _sims(GATE))
    yield coordinator
    await coordinator.async_shutdown()


async def _poll(hass: HomeAssistant, usage: UsageCoordinator) -> None:
    await usage.async_refresh()
    await async_wait_recording_done(hass)


async def _later(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    """Let time pass, running what falls due (polls, imports, saves)."""
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)


async def _hours(
    hass: HomeAssistant, statistic_id: str
) -> dict[datetime, tuple[float, float]]:
    """Every stored row of a statistic: start (local) -> (state, sum)."""
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
        dt_util.as_local(dt_util.utc_from_timestamp(row["start"])): (
            row["state"],
            row["sum"],
        )
        for row in stats.get(statistic_id, [])
    }


async def _days(
    hass: HomeAssistant, statistic_id: str
) -> dict[date, tuple[float, float]]:
    """Each local day's state (summed over its rows) and its last sum."""
    days: dict[date, tuple[float, float]] = {}
    for start, (state, total) in sorted((await _hours(hass, statistic_id)).items()):
        known = days.get(start.date(), (0.0, 0.0))
        days[start.date()] = (known[0] + state, total)
    return days


def _day(text: str) -> date:
    return date.fromisoformat(text)


def _list_requests(aioclient_mock: AiohttpClientMocker) -> list[dict[str, str]]:
    return [
        dict(url.query)
        for method, url, _data, _headers in aioclient_mock.mock_calls
        if method == "GET" and url.path.endswith("/sms")
    ]


async def test_a_platform_2_sim_counts_the_sms_of_its_list(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    usage: UsageCoordinator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """MO when sent, MT once delivered; pending, expired and old SMS not counted."""
    caplog.set_level(logging.INFO)
    _answer(aioclient_mock, "sms_list_platform2.json")
    await _poll(hass, usage)

    assert usage.supported
    assert usage.month_totals() == (2, 1)
    assert _list_requests(aioclient_mock) == [{"page": "1", "per_page": "1000"}]
    sent = await _days(hass, f"one_nce:sms_mt_{GATE}")
    assert min(sent) == _day("2026-11-16")  # the SMS list reaches back 7 days
    assert sent[_day("2026-11-21")] == (1, 1)
    assert sent[_day("2026-11-22")] == (1, 2)
    assert sent[_day("2026-11-23")] == (0, 2)
    received = await _days(hass, f"one_nce:sms_mo_{GATE}")
    assert received[_day("2026-11-20")] == (1, 1)
    assert (await _days(hass, f"{FLEET}_sms_mt"))[_day("2026-11-23")] == (0, 2)
    reach = [r for r in caplog.records if "reaches back only 7 days" in r.message]
    assert len(reach) == 1
    assert reach[0].levelno == logging.INFO


async def test_each_sms_counts_once_across_daily_reads_and_a_restart(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
    usage: UsageCoordinator,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The next day's list repeats four SMS: only the two new ones are added."""
    caplog.set_level(logging.INFO)
    _answer(aioclient_mock, "sms_list_platform2.json")
    await _poll(hass, usage)
    _answer(aioclient_mock, "sms_list_platform2_next.json")
    await _later(hass, freezer, timedelta(days=1))

    assert usage.month_totals() == (3, 2)
    # One request a day: v1 is not asked again, the list has one page.
    gets = [url for method, url, *_ in aioclient_mock.mock_calls if method == "GET"]
    assert [str(url.with_query(None)) for url in gets] == [SMS_URL]
    sent = await _days(hass, f"one_nce:sms_mt_{GATE}")
    assert sent[_day("2026-11-23")] == (1, 3)  # the SMS pending yesterday
    received = await _days(hass, f"one_nce:sms_mo_{GATE}")
    assert received[_day("2026-11-24")] == (1, 2)

    # Home Assistant restarts: the ids counted were saved, the same list again.
    await usage.async_shutdown()
    await _later(hass, freezer, timedelta(minutes=1))
    restarted = _coordinator(hass, mock_config_entry, _sims(GATE))
    await _poll(hass, restarted)
    assert restarted.month_totals() == (3, 2)
    assert (await _days(hass, f"one_nce:sms_mt_{GATE}"))[_day("2026-11-24")] == (0, 3)
    # The switch to the SMS list is remembered, not announced again.
    assert sum("reaches back only" in r.message for r in caplog.records) == 1
    await restarted.async_shutdown()


def _v1_month(before: str) -> tuple[int, int]:
    """GATE's SMS sent and received this month as v1 told, before a day."""
    rows = [
        row
        for row in load_json("usage_gate_month.json")["stats"]
        if "2026-11-01" <= row["date"][:10] < before
    ]
    return (
        sum(int(row["sms"]["volume_tx"]) for row in rows),
        sum(int(row["sms"]["volume_rx"]) for row in rows),
    )


async def test_a_sim_whose_v1_usage_stops_keeps_its_month_and_goes_on_from_its_list(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
    usage: UsageCoordinator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """v1 answers today, 404 tomorrow: v1's days stay, the list counts from then.

    Also after a restart, when v1 no longer tells this month's earlier days.
    """
    aioclient_mock.clear_requests()
    aioclient_mock.post(TOKEN_URL, json=load_json("token.json"))
    aioclient_mock.get(
        f"{DEFAULT_BASE_URL}/v1/sims/{GATE}/usage",
        json=load_json("usage_gate_month.json"),
    )
    await _poll(hass, usage)
    v1_sent = await _days(hass, f"one_nce:sms_mt_{GATE}")

    _answer(aioclient_mock, "sms_list_platform2_next.json")
    await _later(hass, freezer, timedelta(days=1))
    # v1's days up to its last one (11-23, partial then) stay; the list
    # counts from that day on: the MT delivered on 11-23, the MO of 11-24.
    sent, received = _v1_month("2026-11-23")
    assert usage.month_totals() == (sent + 1, received + 1)
    stored = await _days(hass, f"one_nce:sms_mt_{GATE}")
    assert stored[_day("2026-11-20")] == v1_sent[_day("2026-11-20")]
    assert stored[_day("2026-11-23")] == (1, sent + 1)

    await usage.async_shutdown()
    await _later(hass, freezer, timedelta(minutes=1))
    restarted = _coordinator(hass, mock_config_entry, _sims(GATE))
    await _poll(hass, restarted)
    assert restarted.month_totals() == (sent + 1, received + 1)
    assert (await _days(hass, f"one_nce:sms_mt_{GATE}"))[_day("2026-11-20")] == (
        v1_sent[_day("2026-11-20")]
    )
    await restarted.async_shutdown()


async def test_every_page_of_the_sms_list_is_read(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    usage: UsageCoordinator,
) -> None:
    """A busy SIM's week of 1,500 MO SMS takes two pages of 1,000."""
    pages = [
        [
            {
                "id": str(900000000000000000 + number),
                "submit_date": "2026-11-22T12:00:00Z",
                "status": {"id": 4, "description": "DELIVERED"},
                "sms_type": {"id": 2, "description": "MO"},
            }
            for number in range(first, last)
        ]
        for first, last in ((0, 1000), (1000, 1500))
    ]
    _answer(aioclient_mock, [])
    aioclient_mock.clear_requests()
    aioclient_mock.post(TOKEN_URL, json=load_json("token.json"))
    aioclient_mock.get(f"{DEFAULT_BASE_URL}/v1/sims/{GATE}/usage", **V1_GONE)
    aioclient_mock.get(SMS_URL, params={"page": 1, "per_page": 1000}, json=pages[0])
    aioclient_mock.get(SMS_URL, params={"page": 2, "per_page": 1000}, json=pages[1])
    await _poll(hass, usage)

    assert usage.month_totals() == (0, 1500)
    assert [query["page"] for query in _list_requests(aioclient_mock)] == ["1", "2"]


async def test_data_is_counted_from_quota_drops_and_a_top_up_is_no_use(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    usage: UsageCoordinator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Drops count; top-ups and a new, smaller quota are never negative use.

    500 -> 480 MB (20), a 500 MB top-up (its total rises), 980 -> 965 (15), a
    new 100 MB quota, 50 -> 40 (10), a top-up told only by its
    `last_volume_added`, 540 -> 530 (10): 55 MB.
    """
    _answer(aioclient_mock, [])
    await _poll(hass, usage)
    readings = [
        Quota(volume=500.0, total_volume=500.0),
        Quota(volume=480.0, total_volume=500.0),
        Quota(volume=980.0, total_volume=1000.0, last_volume_added=500.0),
        Quota(volume=980.0, total_volume=1000.0, last_volume_added=500.0),
        Quota(volume=965.0, total_volume=1000.0, last_volume_added=500.0),
        Quota(volume=50.0, total_volume=100.0),
        Quota(volume=40.0, total_volume=100.0),
        Quota(volume=540.0, last_volume_added=500.0),
        Quota(volume=530.0, last_volume_added=500.0),
        Quota(),  # 1NCE answered `{}`
    ]
    for quota in readings:
        freezer.tick(timedelta(minutes=30))
        usage.note_quotas({GATE: (quota, dt_util.utcnow())})
        # The same reading handed over again (another SIM's update) counts nothing.
        usage.note_quotas({GATE: (quota, dt_util.utcnow())})
    await _later(hass, freezer, timedelta(days=1))

    data = await _days(hass, f"one_nce:data_{GATE}")
    assert data[_day("2026-11-23")] == (pytest.approx(55.0), pytest.approx(55.0))
    assert all(state >= 0 for state, _sum in data.values())


async def test_a_hybrid_account_gives_complete_fleet_totals(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
) -> None:
    """One SIM still on v1, one on the SMS list: the fleet sums both."""
    mock_config_entry.add_to_hass(hass)
    usage = _coordinator(hass, mock_config_entry, _sims(GATE, METER))
    _answer(aioclient_mock, "sms_list_platform2.json", meter="usage_meter_month.json")
    await _poll(hass, usage)

    month = [
        row
        for row in load_json("usage_meter_month.json")["stats"]
        if "2026-11-01" <= row["date"][:10] <= "2026-11-23"
    ]
    meter_sent = sum(int(row["sms"]["volume_tx"]) for row in month)
    meter_received = sum(int(row["sms"]["volume_rx"]) for row in month)
    assert usage.month_totals() == (2 + meter_sent, 1 + meter_received)
    fleet = await _days(hass, f"{FLEET}_sms_mt")
    gate = await _days(hass, f"one_nce:sms_mt_{GATE}")
    meter = await _days(hass, f"one_nce:sms_mt_{METER}")
    assert (
        fleet[_day("2026-11-23")][1]
        == gate[_day("2026-11-23")][1] + meter[_day("2026-11-23")][1]
    )
    await usage.async_shutdown()


def _record(
    number: int, when: str, *, mo: int = 0, mt: int = 0, data: int = 0
) -> UsageRecord:
    end = datetime.fromisoformat(when)
    return UsageRecord(
        record_id=str(700000000000000000 + number),
        iccid=GATE,
        start=end - timedelta(seconds=1),
        end=end,
        kind=UsageKind.DATA if data else UsageKind.SMS,
        data_bytes=data,
        sms_mo=mo,
        sms_mt=mt,
    )


async def test_streamed_records_own_the_days_after_the_first(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    usage: UsageCoordinator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The stream's first day stays the list's; from the next it is the stream's.

    The month totals follow a batch at once, without a poll; hourly rows reach
    the recorder a minute later, and the list's SMS of a streamed day are not
    counted on top.
    """
    _answer(aioclient_mock, "sms_list_platform2.json")
    await _poll(hass, usage)
    updates: list[None] = []
    usage.async_add_listener(lambda: updates.append(None))
    requests = aioclient_mock.call_count

    # 11-23 local: the list already counts this day; the stream starts here.
    await usage.async_add_streamed([_record(1, "2026-11-23T13:00:00+00:00", mt=1)])
    assert usage.month_totals() == (2, 1)
    # 11-24 local (UTC-8): the stream's own day.
    freezer.move_to("2026-11-24T09:10:00+00:00")
    await usage.async_add_streamed(
        [
            _record(2, "2026-11-24T08:15:00+00:00", mo=1),
            _record(3, "2026-11-24T09:05:00+00:00", mo=1),
            _record(4, "2026-11-24T09:06:00+00:00", data=3 * 1024 * 1024),
        ]
    )
    assert usage.month_totals() == (2, 3)
    assert updates
    assert aioclient_mock.call_count == requests  # no poll needed
    await _later(hass, freezer, timedelta(minutes=2))

    hours = await _hours(hass, f"one_nce:sms_mo_{GATE}")
    local = dt_util.get_default_time_zone()
    assert hours[datetime(2026, 11, 24, 0, tzinfo=local)] == (1, 2)
    assert hours[datetime(2026, 11, 24, 1, tzinfo=local)] == (1, 3)
    data = await _hours(hass, f"one_nce:data_{GATE}")
    assert data[datetime(2026, 11, 24, 1, tzinfo=local)] == (3.0, 3.0)
    fleet = await _hours(hass, f"{FLEET}_sms_mo")
    assert fleet[datetime(2026, 11, 24, 1, tzinfo=local)] == (1, 3)

    # The daily poll: the list now holds an MO of 11-24 the stream already
    # sent (not added), and an MT delivered on 11-23, the list's day (added).
    _answer(aioclient_mock, "sms_list_platform2_next.json")
    freezer.move_to("2026-11-24T12:00:00+00:00")
    await _later(hass, freezer, timedelta(minutes=1))
    assert usage.month_totals() == (3, 3)
    received = await _days(hass, f"one_nce:sms_mo_{GATE}")
    assert received[_day("2026-11-24")] == (2, 3)
    assert received[_day("2026-11-23")] == (0, 1)
    sent = await _days(hass, f"one_nce:sms_mt_{GATE}")
    assert sent[_day("2026-11-23")] == (1, 3)
    fleet_sent = await _days(hass, f"{FLEET}_sms_mt")
    assert fleet_sent[_day("2026-11-23")] == (1, 3)
    assert fleet_sent[_day("2026-11-24")] == (0, 3)


async def test_the_sms_list_takes_over_when_the_stream_is_silent_for_a_day(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    usage: UsageCoordinator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Days after the stream's last one are the list's again, none counted twice."""
    _answer(aioclient_mock, "sms_list_platform2.json")
    await _poll(hass, usage)
    await usage.async_add_streamed([_record(1, "2026-11-22T20:00:00+00:00", mo=1)])
    await usage.async_add_streamed([_record(2, "2026-11-23T13:00:00+00:00", mo=1)])
    await _later(hass, freezer, timedelta(minutes=2))
    assert usage.month_totals() == (2, 2)

    # Silent since: two days later the list is read again and owns 11-24 on.
    _answer(aioclient_mock, "sms_list_platform2_next.json")
    await _later(hass, freezer, timedelta(days=1))
    _answer(aioclient_mock, "sms_list_platform2_next.json")
    await _later(hass, freezer, timedelta(days=1))

    assert len(_list_requests(aioclient_mock)) == 1
    received = await _days(hass, f"one_nce:sms_mo_{GATE}")
    assert received[_day("2026-11-23")] == (1, 2)  # the stream's day
    assert received[_day("2026-11-24")] == (1, 3)  # the list's again
    # The MT delivered on 11-23 belongs to the stream's day: not added later.
    assert usage.month_totals() == (2, 3)


async def test_the_streams_days_survive_a_restart(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
    usage: UsageCoordinator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """After a restart the streamed records and the stream's days are still known.

    The stream's day counts its record once; the list's MO of that day is
    not added, its MT of the day before (the list's day) is.
    """
    _answer(aioclient_mock, "sms_list_platform2.json")
    await _poll(hass, usage)
    await usage.async_add_streamed([_record(1, "2026-11-23T13:00:00+00:00", mo=1)])
    freezer.move_to("2026-11-24T09:10:00+00:00")
    await usage.async_add_streamed([_record(2, "2026-11-24T09:00:00+00:00", mo=1)])
    # Home Assistant stops before the streamed day reached the recorder.
    await usage.async_shutdown()

    restarted = _coordinator(hass, mock_config_entry, _sims(GATE))
    _answer(aioclient_mock, "sms_list_platform2_next.json")
    await _poll(hass, restarted)
    assert restarted.month_totals() == (3, 2)
    assert len(_list_requests(aioclient_mock)) == 1
    received = await _days(hass, f"one_nce:sms_mo_{GATE}")
    assert received[_day("2026-11-24")] == (1, 2)
    await restarted.async_shutdown()


async def test_a_batch_before_the_first_poll_is_counted_by_it(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    usage: UsageCoordinator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Records streamed before usage was first read wait for that poll."""
    await usage.async_add_streamed([_record(1, "2026-11-22T20:00:00+00:00", mo=1)])
    await usage.async_add_streamed([_record(2, "2026-11-23T11:00:00+00:00", mo=1)])
    assert usage.month_totals() is None
    await _later(hass, freezer, timedelta(minutes=2))

    _answer(aioclient_mock, "sms_list_platform2.json")
    await _poll(hass, usage)
    # The list's two MT and its MO of 11-20; the stream's MO of 11-23.
    assert usage.month_totals() == (2, 2)
    received = await _days(hass, f"one_nce:sms_mo_{GATE}")
    assert received[_day("2026-11-23")] == (1, 2)


async def test_a_first_batch_out_of_order_starts_after_its_earliest_day(
    recorder_mock: Recorder,
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    usage: UsageCoordinator,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The stream's first batch, newest record first: its earliest day decides."""
    _answer(aioclient_mock, "sms_list_platform2.json")
    await _poll(hass, usage)
    freezer.move_to("2026-11-24T09:10:00+00:00")
    await usage.async_add_streamed(
        [
            _record(2, "2026-11-24T09:00:00+00:00", mo=1),  # 11-24 local
            _record(1, "2026-11-23T13:00:00+00:00", mo=1),  # 11-23, the list's
        ]
    )
    # The list's MO of 11-20, the stream's of 11-24.
    assert usage.month_totals() == (2, 2)
