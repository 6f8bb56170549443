"""The "Reset connection" button: the request it sends and what follows."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    snapshot_platform,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.one_nce.const import DOMAIN
from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN
from homeassistant.components.button import SERVICE_PRESS
from homeassistant.const import ATTR_ENTITY_ID, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er

from .conftest import FLEET_ICCIDS, setup_integration, sim_url

# The setups here send more than ten requests at one frozen instant.
pytestmark = pytest.mark.usefixtures("no_rate_limit")

GARDEN_GATE = "button.garden_gate_reset_connection"


@pytest.mark.usefixtures("mock_details")
async def test_every_reset_connection_button(
    hass: HomeAssistant,
    stable_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """One button per SIM."""
    await setup_integration(hass, stable_config_entry, [Platform.BUTTON])

    await snapshot_platform(
        hass, entity_registry, snapshot, stable_config_entry.entry_id
    )


async def test_pressing_resets_and_rereads_that_sims_status_soon(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The reset goes to 1NCE; within a minute the SIM's status is fetched again."""
    # The sensors keep the details polling, as they do in a full setup.
    await setup_integration(hass, mock_config_entry, [Platform.BUTTON, Platform.SENSOR])
    mock_details.post(sim_url(FLEET_ICCIDS[0], "/reset"), status=HTTPStatus.CREATED)
    mock_details.mock_calls.clear()

    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: GARDEN_GATE}, blocking=True
    )
    assert [(call[0], str(call[1])) for call in mock_details.mock_calls] == [
        ("POST", sim_url(FLEET_ICCIDS[0], "/reset"))
    ]
    # 1NCE's reset takes no body: the ICCID in the path says it all.
    assert mock_details.mock_calls[0][2] is None

    freezer.tick(timedelta(minutes=1, seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert sorted(str(call[1]) for call in mock_details.mock_calls[1:]) == [
        sim_url(FLEET_ICCIDS[0], "/quota/data"),
        sim_url(FLEET_ICCIDS[0], "/quota/sms"),
        sim_url(FLEET_ICCIDS[0], "/status"),
    ]


async def test_a_failed_reset_is_reported_in_words(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
) -> None:
    """1NCE refusing the reset reaches the user as a readable error."""
    await setup_integration(hass, mock_config_entry, [Platform.BUTTON])
    mock_details.post(
        sim_url(FLEET_ICCIDS[0], "/reset"),
        status=HTTPStatus.BAD_REQUEST,
        json={"statusCode": 400, "message": "SIM is not attached"},
    )

    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: GARDEN_GATE}, blocking=True
        )

    assert err.value.translation_key == "reset_failed"
    assert err.value.translation_domain == DOMAIN
    assert str(err.value) == "Could not reset the SIM's connection: SIM is not attached"
