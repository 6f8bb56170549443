"""Account sensors for this month's SMS, fed by the daily usage import."""

from __future__ import annotations

from datetime import datetime
from http import HTTPStatus
import logging
import re
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
)

from custom_components.one_nce.api import DEFAULT_BASE_URL
from custom_components.one_nce.api.records import UsageKind, UsageRecord
from custom_components.one_nce.const import DOMAIN
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from .conftest import (
    FLEET_ICCIDS,
    SIMS_URL,
    TOKEN_URL,
    USAGE_URL_PATTERN,
    answer_details,
    load_json,
)
from .services_common import set_up

# Home Assistant's test instance runs in US/Pacific: months here are its months.
pytestmark = pytest.mark.freeze_time("2026-11-24 12:00:00+00:00")

UNAVAILABLE_HTML: dict[str, Any] = {
    "status": HTTPStatus.SERVICE_UNAVAILABLE,
    "text": "<html>",
}


def answer_usage(
    aioclient_mock: AiohttpClientMocker,
    *,
    sim_2: dict[str, Any] | None = None,
    sms_list: dict[str, Any] | None = None,
    **answer: Any,
) -> None:
    """Answer the account as usual, but usage requests as given (SIM 2's apart)."""
    aioclient_mock.clear_requests()
    if sms_list is not None:
        aioclient_mock.get(re.compile(r"/v2/sims/\d+/sms"), **sms_list)
    if sim_2 is not None:
        aioclient_mock.get(
            f"{DEFAULT_BASE_URL}/v1/sims/{FLEET_ICCIDS[1]}/usage", **sim_2
        )
    aioclient_mock.get(USAGE_URL_PATTERN, **answer)
    aioclient_mock.post(TOKEN_URL, json=load_json("token.json"))
    aioclient_mock.get(SIMS_URL, json=load_json("sims.json"))
    for number in range(1, len(FLEET_ICCIDS) + 1):
        answer_details(aioclient_mock, number)


SENT = "sensor.1nce_account_sms_sent_this_month"
RECEIVED = "sensor.1nce_account_sms_received_this_month"
MONTH = {"json": load_json("usage_gate_month.json")}
GONE = {"status": HTTPStatus.GONE, "json": {"message": "Gone"}}


async def _move_to(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, when: str
) -> None:
    """Let time pass to `when`, running whatever polls fall due."""
    freezer.move_to(when)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def _month_entities(
    entity_registry: er.EntityRegistry, entry: MockConfigEntry
) -> list[str]:
    return [
        registered.entity_id
        for registered in er.async_entries_for_config_entry(
            entity_registry, entry.entry_id
        )
        if registered.unique_id.endswith("_this_month")
    ]


def _retired_warnings(caplog: pytest.LogCaptureFixture) -> int:
    return sum(
        record.levelno == logging.WARNING and "no longer offers usage" in record.message
        for record in caplog.records
    )


async def test_month_sensors_sum_the_fleets_sms_of_this_month(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
) -> None:
    """Three SIMs with the same November usage: 3 x 7 sent, 3 x 4 received."""
    answer_usage(mock_details, **MONTH)
    await set_up(hass, mock_config_entry, [Platform.SENSOR])

    sent = hass.states.get(SENT)
    assert sent.state == "21"
    assert hass.states.get(RECEIVED).state == "12"
    assert sent.attributes["unit_of_measurement"] == "SMS"
    # A total that restarts with the local month, which long-term statistics
    # sum per month without reading a lower value as a new meter.
    assert sent.attributes["state_class"] == "total"
    assert sent.attributes["last_reset"] == "2026-11-01T00:00:00-07:00"


async def test_month_sensors_restart_at_zero_at_local_midnight_on_the_first(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """At midnight in California, not in UTC, the count starts again from 0."""
    answer_usage(mock_details, **MONTH)
    await set_up(hass, mock_config_entry, [Platform.SENSOR])

    # December 1st in UTC, still November 30th here.
    await _move_to(hass, freezer, "2026-12-01 07:58:00+00:00")
    assert hass.states.get(SENT).state == "21"

    await _move_to(hass, freezer, "2026-12-01 08:01:00+00:00")
    sent = hass.states.get(SENT)
    assert sent.state == "0"
    assert sent.attributes["last_reset"] == "2026-12-01T00:00:00-08:00"


@pytest.mark.usefixtures("no_sleep")
async def test_month_sensors_are_unknown_while_a_sims_month_is_unknown(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Two SIMs' SMS are not the fleet's: no number until the third is known."""
    answer_usage(mock_details, sim_2=UNAVAILABLE_HTML, **MONTH)
    await set_up(hass, mock_config_entry, [Platform.SENSOR])

    assert hass.states.get(SENT).state == STATE_UNKNOWN

    # Its usage is asked for again an hour later, not the next day.
    answer_usage(mock_details, **MONTH)
    await _move_to(hass, freezer, "2026-11-24 13:00:01+00:00")
    assert hass.states.get(SENT).state == "21"


@pytest.mark.usefixtures("no_sleep")
async def test_month_sensors_count_the_other_sims_when_one_keeps_failing(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """One broken SIM does not leave the month unknown for good; it says so.

    At its third failure (after 1 h and 2 h more) the others are counted and
    `sims_not_counted` tells how many are left out; back, it counts again.
    """
    answer_usage(mock_details, sim_2=UNAVAILABLE_HTML, **MONTH)
    await set_up(hass, mock_config_entry, [Platform.SENSOR])

    await _move_to(hass, freezer, "2026-11-24 13:00:01+00:00")
    assert hass.states.get(SENT).state == STATE_UNKNOWN

    await _move_to(hass, freezer, "2026-11-24 15:00:02+00:00")
    sent = hass.states.get(SENT)
    assert sent.state == "14"
    assert sent.attributes["sims_not_counted"] == 1
    assert hass.states.get(RECEIVED).state == "8"

    answer_usage(mock_details, **MONTH)
    await _move_to(hass, freezer, "2026-11-24 19:00:03+00:00")
    sent = hass.states.get(SENT)
    assert sent.state == "21"
    assert sent.attributes["sims_not_counted"] == 0


@pytest.mark.usefixtures("no_sleep")
async def test_month_sensors_appear_once_usage_was_read(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    entity_registry: er.EntityRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """While usage has never loaded there is nothing to show; then they come."""
    answer_usage(mock_details, **UNAVAILABLE_HTML)
    await set_up(hass, mock_config_entry, [Platform.SENSOR])

    assert _month_entities(entity_registry, mock_config_entry) == []

    # A failed first poll is retried within the hour, not the next day.
    answer_usage(mock_details, **MONTH)
    await _move_to(hass, freezer, "2026-11-24 13:00:01+00:00")

    assert sorted(_month_entities(entity_registry, mock_config_entry)) == [
        RECEIVED,
        SENT,
    ]
    assert hass.states.get(SENT).state == "21"


@pytest.mark.usefixtures("no_sleep")
async def test_month_sensors_of_an_earlier_run_return_soon_after_a_failed_first_poll(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    entity_registry: er.EntityRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Sensors known from before a restart are not left unavailable for a day."""
    mock_config_entry.add_to_hass(hass)
    for key in ("sms_sent_this_month", "sms_received_this_month"):
        entity_registry.async_get_or_create(
            "sensor",
            DOMAIN,
            f"{mock_config_entry.entry_id}_{key}",
            config_entry=mock_config_entry,
            suggested_object_id=f"1nce_account_{key}",
        )
    answer_usage(mock_details, **UNAVAILABLE_HTML)
    await set_up(hass, mock_config_entry, [Platform.SENSOR])
    before = hass.states.get(SENT)
    assert before is None or before.state == STATE_UNAVAILABLE

    answer_usage(mock_details, **MONTH)
    await _move_to(hass, freezer, "2026-11-24 13:00:01+00:00")

    assert hass.states.get(SENT).state == "21"
    assert hass.states.get(RECEIVED).state == "12"


async def test_no_usage_source_creates_no_month_sensors_and_removes_old_ones(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    entity_registry: er.EntityRegistry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """v1 usage and the SMS list gone: one log line, no sensors stuck unavailable."""
    mock_config_entry.add_to_hass(hass)
    for key in ("sms_sent_this_month", "sms_received_this_month"):
        entity_registry.async_get_or_create(
            "sensor",
            DOMAIN,
            f"{mock_config_entry.entry_id}_{key}",
            config_entry=mock_config_entry,
        )
    answer_usage(mock_details, sms_list=GONE, **GONE)
    await set_up(hass, mock_config_entry, [Platform.SENSOR])

    assert _month_entities(entity_registry, mock_config_entry) == []
    assert hass.states.get(SENT) is None
    assert _retired_warnings(caplog) == 1
    # The rest of the account is unaffected.
    assert hass.states.get("sensor.1nce_account_sims").state == "3"


async def test_month_sensors_go_when_every_usage_source_is_retired_later(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    entity_registry: er.EntityRegistry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """1NCE retiring v1 and the SMS list while Home Assistant runs: sensors go."""
    answer_usage(mock_details, **MONTH)
    await set_up(hass, mock_config_entry, [Platform.SENSOR])
    assert hass.states.get(SENT).state == "21"

    answer_usage(mock_details, sms_list=GONE, **GONE)
    await _move_to(hass, freezer, "2026-11-25 12:01:00+00:00")

    assert _month_entities(entity_registry, mock_config_entry) == []
    assert hass.states.get(SENT) is None
    assert _retired_warnings(caplog) == 1


async def test_month_sensors_count_platform_2_sims_from_their_sms_lists(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
) -> None:
    """No v1 usage for any SIM: the SMS lists fill the sensors, also after a reload.

    Each of the three SIMs lists two delivered MT SMS and one MO (plus one
    pending and one expired, which do not count); reloading the entry reads
    the same lists again and counts nothing twice.
    """
    not_found = {"status": HTTPStatus.NOT_FOUND, "json": {"message": "Not Found"}}
    sms_list = {"json": load_json("sms_list_platform2.json")}
    answer_usage(mock_details, sms_list=sms_list, **not_found)
    await set_up(hass, mock_config_entry, [Platform.SENSOR])

    assert hass.states.get(SENT).state == "6"
    assert hass.states.get(RECEIVED).state == "3"

    with patch("custom_components.one_nce.PLATFORMS", [Platform.SENSOR]):
        assert await hass.config_entries.async_reload(mock_config_entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get(SENT).state == "6"
    assert hass.states.get(RECEIVED).state == "3"


def _streamed(number: int, iccid: str, when: str) -> UsageRecord:
    end = datetime.fromisoformat(when)
    return UsageRecord(
        record_id=str(number),
        iccid=iccid,
        start=end,
        end=end,
        kind=UsageKind.SMS,
        sms_mt=1,
    )


async def test_month_sensors_follow_the_data_streamer_without_a_poll(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A streamed SMS of a day the stream owns shows at once, no request made.

    The stream's first record falls on a day v1 already counts: it is not
    added. From the next day on the stream counts the SIM's SMS.
    """
    answer_usage(mock_details, **MONTH)
    await set_up(hass, mock_config_entry, [Platform.SENSOR])
    usage = mock_config_entry.runtime_data.usage
    requests = mock_details.call_count
    gate = FLEET_ICCIDS[0]

    await usage.async_add_streamed([_streamed(1, gate, "2026-11-24T12:30:00+00:00")])
    await hass.async_block_till_done()
    assert hass.states.get(SENT).state == "21"

    freezer.move_to("2026-11-25T09:00:00+00:00")  # 01:00 local, before the poll
    await usage.async_add_streamed([_streamed(2, gate, "2026-11-25T08:59:00+00:00")])
    await hass.async_block_till_done()
    assert hass.states.get(SENT).state == "22"
    assert mock_details.call_count == requests
