"""Account sensors for this month's SMS, fed by the daily usage import."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)

from homeassistant.const import STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant

from .conftest import (
    FLEET_ICCIDS,
    SIMS_URL,
    TOKEN_URL,
    USAGE_URL_PATTERN,
    answer_details,
    load_json,
)
from .test_services import set_up


def answer_usage(aioclient_mock: AiohttpClientMocker, **answer: object) -> None:
    """Answer the account as usual, but usage requests as given."""
    aioclient_mock.clear_requests()
    aioclient_mock.get(USAGE_URL_PATTERN, **answer)  # type: ignore[arg-type]
    aioclient_mock.post(TOKEN_URL, json=load_json("token.json"))
    aioclient_mock.get(SIMS_URL, json=load_json("sims.json"))
    for number in range(1, len(FLEET_ICCIDS) + 1):
        answer_details(aioclient_mock, number)


SENT = "sensor.1nce_account_sms_sent_this_month"
RECEIVED = "sensor.1nce_account_sms_received_this_month"


@pytest.mark.freeze_time("2026-11-24 12:00:00+00:00")
async def test_month_sensors_sum_the_fleets_sms_of_this_month(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
) -> None:
    """Three SIMs with the same November usage: 3 x 7 sent, 3 x 4 received."""
    answer_usage(mock_details, json=load_json("usage_gate_month.json"))
    await set_up(hass, mock_config_entry, [Platform.SENSOR])

    assert hass.states.get(SENT).state == "21"
    assert hass.states.get(RECEIVED).state == "12"
    assert hass.states.get(SENT).attributes["unit_of_measurement"] == "SMS"


async def test_month_sensors_are_unavailable_without_usage_statistics(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
) -> None:
    """When 1NCE has retired v1 usage, the month sensors say so by being unavailable."""
    answer_usage(mock_details, status=HTTPStatus.GONE)
    await set_up(hass, mock_config_entry, [Platform.SENSOR])

    assert hass.states.get(SENT).state == STATE_UNAVAILABLE
    assert hass.states.get(RECEIVED).state == STATE_UNAVAILABLE
