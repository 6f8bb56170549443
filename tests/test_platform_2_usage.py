"""Usage on Platform 2.0 against the sandbox, over real HTTP, into the real recorder.

The sandbox keeps its own truth of what each SIM used per day
(`GET /_sandbox/usage/{iccid}`): every SMS the gateway took and every MB an
online SIM used. The integration counts a Platform 2.0 SIM (v1 answers 404)
from its SMS list, its data quota's drops and the Data Streamer's records;
these tests hold what it counted (the account's month sensors, the SIMs' and
the fleet's long-term statistics) against that truth.

The sandbox books days in UTC; Home Assistant's zone is set to UTC here so
both mean the same calendar day. Days before the sandbox started are its
seeded history: v1 reports them, but no SMS of theirs is in the SMS list, so
a Platform 2.0 SIM's truth is taken from the day the sandbox started.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.recorder.common import (
    async_wait_recording_done,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.one_nce.api.records import QuotaService
from custom_components.one_nce.const import CONF_API_URL, DOMAIN
from custom_components.one_nce.statistics import sim_subject
from homeassistant import loader
from homeassistant.components.recorder import Recorder
from homeassistant.components.recorder.statistics import statistics_during_period
from homeassistant.const import CONF_CLIENT_ID, CONF_CLIENT_SECRET, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.util import dt as dt_util
from sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, SANDBOX, PlatformMode
from sandbox.fleet import Connectivity

from .blueprint_common import (
    GARDEN_GATE,
    WEATHER_STATION,
    SandboxControl,
    running_sandbox,
)
from .conftest import setup_integration
from .forwarder_common import forwarder_path
from .streamer_common import credential, streamer_path

SIMS = [f"898822806600000000{number}" for number in range(1, 7)]
SENT = "sensor.1nce_account_sms_sent_this_month"
RECEIVED = "sensor.1nce_account_sms_received_this_month"
PLATFORMS = [Platform.EVENT, Platform.SENSOR]
WAIT = 10.0


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(recorder_mock: Recorder) -> None:
    """Override conftest's: the recorder must come before `hass`, which it needs."""


@pytest.fixture
async def control(
    hass: HomeAssistant,
    socket_enabled: None,
    request: pytest.FixtureRequest,
) -> AsyncGenerator[SandboxControl]:
    """A sandbox on Platform 2.0 (or what the test is given); the recorder runs."""
    hass.data.pop(loader.DATA_CUSTOM_COMPONENTS)  # the loader finds one_nce
    await hass.config.async_set_time_zone("UTC")
    async with running_sandbox(getattr(request, "param", PlatformMode.TWO)) as running:
        yield running


async def _setup(
    hass: HomeAssistant,
    control: SandboxControl,
    hass_client_no_auth: ClientSessionGenerator,
) -> MockConfigEntry:
    """Add the sandbox's account, load it, point the forwarder at Home Assistant."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="1NCE sandbox",
        unique_id=DEFAULT_CLIENT_ID,
        data={
            CONF_CLIENT_ID: DEFAULT_CLIENT_ID,
            CONF_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
            CONF_API_URL: control.api_url,
        },
    )
    await setup_integration(hass, entry, PLATFORMS)
    await _settled(hass)
    home_assistant = await hass_client_no_auth()
    await control.point_forwarder(str(home_assistant.make_url(forwarder_path(entry))))
    return entry


@pytest.fixture
async def entry(
    hass: HomeAssistant,
    control: SandboxControl,
    hass_client_no_auth: ClientSessionGenerator,
) -> AsyncGenerator[MockConfigEntry]:
    """The account, loaded; its first usage poll (from setup) done."""
    entry = await _setup(hass, control, hass_client_no_auth)
    yield entry
    await _settled(hass)
    assert await hass.config_entries.async_unload(entry.entry_id)


async def _settled(hass: HomeAssistant) -> None:
    """Let background work (the usage poll setup starts) and the recorder finish."""
    await hass.async_block_till_done(wait_background_tasks=True)
    await async_wait_recording_done(hass)


async def _poll_usage(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Run the usage coordinator's daily read now, as its timer would.

    Firing every timer instead would run the day's other polls against the
    real-time sandbox in one frozen second.
    """
    await entry.runtime_data.usage.async_refresh()
    await _settled(hass)


async def _until_final(control: SandboxControl) -> None:
    """Wait until the sandbox's gateway has no MT SMS left pending."""
    async with asyncio.timeout(WAIT):
        # The sandbox is another server: polled over HTTP, it has no event to await.
        while any(  # noqa: ASYNC110
            sms["status"]["description"] == "PENDING" for sms in await control.all_sms()
        ):
            await asyncio.sleep(0.05)


async def _send(hass: HomeAssistant, iccid: str, message: str) -> None:
    """Send a one-part SMS to a SIM with the integration's action."""
    await hass.services.async_call(
        DOMAIN,
        "send_sms",
        {"iccid": iccid, "message": message},
        blocking=True,
        return_response=True,
    )


def _started(control: SandboxControl) -> date:
    return control.server.app[SANDBOX].started.date()


async def _truth(control: SandboxControl, iccid: str, since: date) -> dict[date, Any]:
    """The sandbox's own record of a SIM's days from `since`: date -> row."""
    truth = await control.usage_truth(iccid, since.isoformat())
    return {date.fromisoformat(row["date"]): row for row in truth["days"]}


async def _days(hass: HomeAssistant, statistic_id: str) -> dict[date, float]:
    """Each day's usage in the recorder (the states of its rows summed)."""
    stats = await get_instance(hass).async_add_executor_job(
        statistics_during_period,
        hass,
        datetime(2026, 1, 1, tzinfo=UTC),
        None,
        {statistic_id},
        "hour",
        None,
        {"state"},
    )
    days: dict[date, float] = {}
    for row in stats.get(statistic_id, []):
        day = dt_util.as_local(dt_util.utc_from_timestamp(row["start"])).date()
        days[day] = days.get(day, 0.0) + (row["state"] or 0.0)
    return days


def _state(hass: HomeAssistant, entity_id: str) -> str:
    state = hass.states.get(entity_id)
    assert state is not None
    return state.state


async def _expected_month(
    control: SandboxControl, sims: dict[str, date]
) -> tuple[int, int]:
    """The truth's SMS sent and received this month, each SIM from its first day."""
    month = dt_util.now().date().replace(day=1)
    sent = received = 0
    for iccid, since in sims.items():
        for row in (await _truth(control, iccid, max(since, month))).values():
            sent += row["sms_mt"]
            received += row["sms_mo"]
    return sent, received


async def _assert_sms_match_truth(
    hass: HomeAssistant, entry: MockConfigEntry, control: SandboxControl
) -> None:
    """Month sensors, each SIM's and the fleet's statistics of today: the truth's."""
    today = dt_util.now().date()
    started = _started(control)
    sent, received = await _expected_month(control, dict.fromkeys(SIMS, started))
    assert (_state(hass, SENT), _state(hass, RECEIVED)) == (str(sent), str(received))
    fleet = {"sms_mt": 0, "sms_mo": 0}
    for iccid in SIMS:
        row = (await _truth(control, iccid, today)).get(today, {})
        ids = sim_subject(iccid, None).statistic_ids
        for kind in fleet:
            fleet[kind] += row.get(kind, 0)
            counted = (await _days(hass, ids[kind])).get(today, 0.0)
            assert (iccid, kind, counted) == (iccid, kind, row.get(kind, 0))
    fleet_ids = entry.runtime_data.usage.fleet.statistic_ids
    for kind, expected in fleet.items():
        assert (await _days(hass, fleet_ids[kind])).get(today) == expected


# --- SMS from the SMS list -----------------------------------------------------


async def test_platform_2_sms_are_counted_once_across_a_restart(
    hass: HomeAssistant,
    control: SandboxControl,
    entry: MockConfigEntry,
) -> None:
    """MT sent by the action and MO from two SIMs: the month and the day match.

    Reloading the entry (a restart) reads the same SMS lists again: nothing
    changes. One more SMS afterwards adds exactly one.
    """
    await _send(hass, GARDEN_GATE, "Gate: open")
    await _send(hass, GARDEN_GATE, "Gate: close")
    await _send(hass, WEATHER_STATION, "Station: report")
    await control.send_from_sim(GARDEN_GATE, "Gate opened")
    await control.send_from_sim(WEATHER_STATION, "Rain: 3 mm")
    await control.send_from_sim(WEATHER_STATION, "Wind: 12 km/h")
    await _until_final(control)

    await _poll_usage(hass, entry)
    await _assert_sms_match_truth(hass, entry, control)
    assert (_state(hass, SENT), _state(hass, RECEIVED)) == ("3", "3")

    assert await hass.config_entries.async_reload(entry.entry_id)
    await _settled(hass)
    await _poll_usage(hass, entry)
    assert (_state(hass, SENT), _state(hass, RECEIVED)) == ("3", "3")
    await _assert_sms_match_truth(hass, entry, control)

    await _send(hass, WEATHER_STATION, "Station: report again")
    await _until_final(control)
    await _poll_usage(hass, entry)
    assert (_state(hass, SENT), _state(hass, RECEIVED)) == ("4", "3")
    await _assert_sms_match_truth(hass, entry, control)


# --- a hybrid account ------------------------------------------------------------


@pytest.mark.parametrize("control", [PlatformMode.HYBRID], indirect=True)
async def test_a_hybrid_account_counts_every_sims_sms(
    hass: HomeAssistant,
    control: SandboxControl,
    entry: MockConfigEntry,
) -> None:
    """SIMs 1-3 by v1 usage, 4-6 (v1 404) by their SMS lists: complete totals."""
    fleet = control.server.app[SANDBOX].fleet
    v1 = [iccid for iccid in SIMS if fleet[iccid].platform == 1]
    v2 = [iccid for iccid in SIMS if fleet[iccid].platform == 2]
    assert (len(v1), len(v2)) == (3, 3)
    for iccid in (v1[0], v2[-1]):  # both reachable: SIM 4 is disabled
        await _send(hass, iccid, "Hello")
        await control.send_from_sim(iccid, "Hi")
    await _until_final(control)

    await _poll_usage(hass, entry)

    # v1 reports every day of the month; the SMS lists what was sent since.
    month = dt_util.now().date().replace(day=1)
    since = dict.fromkeys(v1, month) | dict.fromkeys(v2, _started(control))
    sent, received = await _expected_month(control, since)
    assert (_state(hass, SENT), _state(hass, RECEIVED)) == (str(sent), str(received))
    today = dt_util.now().date()
    fleet_ids = entry.runtime_data.usage.fleet.statistic_ids
    for kind in ("sms_mt", "sms_mo"):
        expected = 0
        for iccid in SIMS:
            row = (await _truth(control, iccid, today)).get(today, {})
            expected += row.get(kind, 0)
            counted = await _days(hass, sim_subject(iccid, None).statistic_ids[kind])
            assert (iccid, counted.get(today, 0)) == (iccid, row.get(kind, 0))
        assert (await _days(hass, fleet_ids[kind])).get(today) == expected


# --- data from the data quota --------------------------------------------------


async def _read_details(
    hass: HomeAssistant, entry: MockConfigEntry, control: SandboxControl, iccid: str
) -> float:
    """Read the SIM's details now; return the truth's MB of today at that reading.

    The sandbox's SIM uses data every whole minute of its clock, which runs in
    real time too: the truth read right after the details is the one the
    quota showed unless a minute began in between, which the quota's volume
    tells (the truth's volume left must be the one read). Then it is read again.
    """
    details = entry.runtime_data.details
    today = dt_util.now().date()
    for _attempt in range(3):
        details.schedule.request_soon(iccid, dt_util.utcnow())
        await details.async_refresh()
        await hass.async_block_till_done()
        truth = await control.usage_truth(iccid, today.isoformat())
        read = details.data[iccid].data_quota.volume
        assert read is not None
        if abs(truth["data_volume"] - read) < 1e-3:
            return float(truth["total"]["data_mb"])
    pytest.fail("the sandbox's minutes kept turning while the quota was read")


def _ledger_mb(entry: MockConfigEntry, iccid: str, day: date) -> float:
    """The data the integration counted for a SIM on a day."""
    counted = {
        usage.day: usage for usage in entry.runtime_data.usage.ledger.days(iccid)
    }
    return counted[day].data_mb if day in counted else 0.0


async def test_platform_2_data_counts_the_quotas_drop_between_two_readings(
    hass: HomeAssistant,
    control: SandboxControl,
    entry: MockConfigEntry,
) -> None:
    """The online garden gate uses data; ten sandbox minutes apart, two readings.

    What the integration counts for the day grows by exactly what the truth
    says was used between the readings, and the day's statistic shows it.
    """
    today = dt_util.now().date()
    first = await _read_details(hass, entry, control, GARDEN_GATE)
    counted_first = _ledger_mb(entry, GARDEN_GATE, today)

    await control.advance(600)
    second = await _read_details(hass, entry, control, GARDEN_GATE)
    used = second - first

    assert used > 0.05  # 8 to 40 KB a minute
    assert _ledger_mb(entry, GARDEN_GATE, today) - counted_first == pytest.approx(
        used, abs=1e-5
    )
    await _poll_usage(hass, entry)
    data_id = sim_subject(GARDEN_GATE, None).statistic_ids["data"]
    stored = (await _days(hass, data_id)).get(today, 0.0)
    assert stored == pytest.approx(_ledger_mb(entry, GARDEN_GATE, today), abs=1e-5)


async def test_platform_2_data_counts_a_single_quota_read_too(
    hass: HomeAssistant,
    control: SandboxControl,
    entry: MockConfigEntry,
) -> None:
    """A quota read alone (after streamed traffic or a quota event) counts its drop.

    While the usage stream delivers, a SIM's quotas are read after its
    traffic, not with its scheduled details; the day it starts is still the
    quota's to count. The drop since the last reading is the truth's use.
    """
    today = dt_util.now().date()
    first = await _read_details(hass, entry, control, GARDEN_GATE)
    counted_first = _ledger_mb(entry, GARDEN_GATE, today)
    await control.advance(600)

    details = entry.runtime_data.details
    # What streamed traffic or a quota event asks for: the data quota alone.
    details.quota_reads.note_now((GARDEN_GATE, QuotaService.DATA), dt_util.utcnow())
    await details.async_refresh()
    await hass.async_block_till_done()
    truth = await control.usage_truth(GARDEN_GATE, today.isoformat())
    read = details.data[GARDEN_GATE].data_quota.volume
    assert read == pytest.approx(truth["data_volume"], abs=1e-3)
    used = truth["total"]["data_mb"] - first

    assert used > 0.05
    assert _ledger_mb(entry, GARDEN_GATE, today) - counted_first == pytest.approx(
        used, abs=1e-5
    )


# --- the Data Streamer's usage stream ------------------------------------------


async def _until_streamed(control: SandboxControl) -> None:
    """Wait until Home Assistant acknowledged every usage record emitted."""
    async with asyncio.timeout(WAIT):
        while True:
            overview = await control.streams()
            [usage] = [s for s in overview["streams"] if s["type"] == "usage"]
            emitted = overview["emitted"].get("usage", 0)
            if usage["records_acknowledged"] == emitted:
                return
            await asyncio.sleep(0.05)


async def test_streamed_usage_records_sum_to_the_truth_of_the_days_they_own(
    hass: HomeAssistant,
    control: SandboxControl,
    entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """The usage stream feeds the month sensors; its days equal the truth.

    The garden gate's first record falls on today, which its SMS list keeps;
    the stream owns the next day, reached by skipping the sandbox's clock a
    day ahead. Every SIM is detached first, so no data used today reaches
    that day's records: then the gate comes online, uses data for ten
    minutes, sends and receives an SMS, and detaches (its session's last
    record). That day's streamed sums are the truth's; the month sensors
    follow without a poll.
    """
    home_assistant = await hass_client_no_auth()
    await control.set_streams(flush_interval=0.05)
    await control.add_stream(
        "usage", str(home_assistant.make_url(streamer_path(entry))), credential(entry)
    )
    fleet = control.server.app[SANDBOX].fleet
    for iccid in SIMS:
        if fleet[iccid].connectivity is Connectivity.ONLINE:
            await control.inject(iccid, "detach")
    await control.send_from_sim(GARDEN_GATE, "Gate opened")
    await _until_streamed(control)
    await _poll_usage(hass, entry)
    started = _started(control)
    sent, received = await _expected_month(control, dict.fromkeys(SIMS, started))
    assert (_state(hass, SENT), _state(hass, RECEIVED)) == (str(sent), str(received))
    assert received == 1

    await control.advance(24 * 3600)
    # Any request settles the skipped day: no SIM is online to use data in it.
    await control.usage_truth(GARDEN_GATE)
    tomorrow = dt_util.now().date() + timedelta(days=1)
    await control.inject(GARDEN_GATE, "pdp-create")
    await _send(hass, GARDEN_GATE, "Gate: close")
    await control.send_from_sim(GARDEN_GATE, "Gate closed")
    await _until_final(control)
    await control.advance(600)
    await control.inject(GARDEN_GATE, "detach")
    await _until_streamed(control)
    await hass.async_block_till_done(wait_background_tasks=True)

    sent, received = await _expected_month(control, dict.fromkeys(SIMS, started))
    assert (sent, received) == (1, 2)
    assert (_state(hass, SENT), _state(hass, RECEIVED)) == ("1", "2")
    stream = entry.runtime_data.usage.ledger.stream
    now = dt_util.utcnow()
    assert stream.owns(GARDEN_GATE, tomorrow, now)
    assert not stream.owns(GARDEN_GATE, tomorrow - timedelta(days=1), now)
    gate = (await _truth(control, GARDEN_GATE, tomorrow))[tomorrow]
    assert gate["data_mb"] > 0.05  # ten minutes online
    for iccid in SIMS:
        none = {"sms_mt": 0, "sms_mo": 0, "data_mb": 0.0}
        truth = (await _truth(control, iccid, tomorrow)).get(tomorrow, none)
        streamed = stream.day(iccid, tomorrow)
        assert (iccid, streamed.sms_mt, streamed.sms_mo) == (
            iccid,
            truth["sms_mt"],
            truth["sms_mo"],
        )
        assert streamed.data_mb == pytest.approx(truth["data_mb"], abs=1e-5)
