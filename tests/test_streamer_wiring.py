"""What 1NCE's Data Streamer pushes reaches the SIM's polled state, through HTTP.

The endpoint and the details coordinator are tested apart elsewhere; these
tests post batches to Home Assistant's real HTTP server and look at what a
user sees: the connection status and the quota, and the requests saved.
"""

from __future__ import annotations

from http import HTTPStatus

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from homeassistant.core import HomeAssistant

from .conftest import sim_url
from .forwarder_common import GARDEN_GATE, setup_receiving
from .streamer_common import pdp_event, quota_event, sms_usage, stream
from .test_usage_sensors import MONTH, RECEIVED, answer_usage

pytestmark = pytest.mark.usefixtures("mock_details")

CONNECTION = "sensor.garden_gate_connection_status"


@pytest.fixture
async def entry(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> MockConfigEntry:
    """The account, loaded with its streamer address."""
    await setup_receiving(hass, mock_config_entry)
    return mock_config_entry


def requests_to(aioclient_mock: AiohttpClientMocker, url: str) -> int:
    """How many requests went to `url` so far."""
    return sum(1 for call in aioclient_mock.mock_calls if str(call[1]) == url)


async def test_a_pushed_session_end_sets_the_connection_without_a_request(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    client = await hass_client_no_auth()
    assert hass.states.get(CONNECTION).state == "online"
    before = aioclient_mock.call_count

    deleted = pdp_event(7001, event_type={"id": 5, "description": "Delete PDP Context"})
    response = await stream(client, entry, [deleted])
    await hass.async_block_till_done()

    assert response.status == HTTPStatus.OK
    assert hass.states.get(CONNECTION).state == "attached"
    assert aioclient_mock.call_count == before


async def test_a_pushed_quota_event_reads_that_quota_once(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    client = await hass_client_no_auth()
    data_quota = sim_url(GARDEN_GATE, "/quota/data")
    sms_quota = sim_url(GARDEN_GATE, "/quota/sms")
    data_before = requests_to(aioclient_mock, data_quota)
    sms_before = requests_to(aioclient_mock, sms_quota)

    response = await stream(client, entry, [quota_event(7002)])
    await hass.async_block_till_done()

    assert response.status == HTTPStatus.OK
    assert requests_to(aioclient_mock, data_quota) == data_before + 1
    assert requests_to(aioclient_mock, sms_quota) == sms_before


@pytest.mark.freeze_time("2026-11-24 12:00:00+00:00")
async def test_streamed_sms_usage_counts_in_the_month_without_a_poll(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The stream owns a SIM's days from the day after its first record."""
    answer_usage(aioclient_mock, **MONTH)
    await setup_receiving(hass, mock_config_entry)
    await hass.async_block_till_done()
    client = await hass_client_no_auth()
    received = int(hass.states.get(RECEIVED).state)
    requests = aioclient_mock.call_count

    first = sms_usage(
        9001,
        start_timestamp="2026-11-24T12:30:00Z",
        end_timestamp="2026-11-24T12:30:01Z",
    )
    assert (await stream(client, mock_config_entry, [first])).status == HTTPStatus.OK
    await hass.async_block_till_done()
    assert int(hass.states.get(RECEIVED).state) == received  # v1 counts that day

    freezer.move_to("2026-11-25T09:00:00+00:00")
    second = sms_usage(
        9002,
        start_timestamp="2026-11-25T08:59:00Z",
        end_timestamp="2026-11-25T08:59:01Z",
    )
    assert (await stream(client, mock_config_entry, [second])).status == HTTPStatus.OK
    await hass.async_block_till_done()
    assert int(hass.states.get(RECEIVED).state) == received + 1
    asked = [str(call[1]) for call in aioclient_mock.mock_calls[requests:]]
    assert not [url for url in asked if "/usage" in url or url.endswith("/sms")]
