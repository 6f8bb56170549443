"""The "SIM enabled" and "IMEI lock" switches: what they send and what shows."""

from __future__ import annotations

import copy
from http import HTTPStatus
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    snapshot_platform,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.one_nce.const import DOMAIN
from homeassistant.components.switch import (
    DOMAIN as SWITCH_DOMAIN,
)
from homeassistant.components.switch import (
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
)
from homeassistant.const import (
    ATTR_ENTITY_ID,
    STATE_OFF,
    STATE_ON,
    EntityCategory,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import entity_registry as er

from .conftest import (
    FLEET_ICCIDS,
    SIMS_URL,
    answer_fleet,
    load_json,
    setup_integration,
    sim_url,
)

# The setups here send more than ten requests at one frozen instant.
pytestmark = pytest.mark.usefixtures("no_rate_limit")

GARDEN_GATE = "switch.garden_gate_sim_enabled"
NO_LABEL = "switch.8988228066000000002_sim_enabled"
GARDEN_GATE_LOCK = "switch.garden_gate_imei_lock"
NO_LABEL_LOCK = "switch.8988228066000000002_imei_lock"


def _fleet_with(**changes: dict[str, Any]) -> list[dict[str, Any]]:
    """The fixture list with some SIMs' fields changed (keyed by `sim<n>`)."""
    sims: list[dict[str, Any]] = copy.deepcopy(load_json("sims.json"))
    for key, fields in changes.items():
        sims[int(key.removeprefix("sim")) - 1].update(fields)
    return sims


def _calls(aioclient_mock: AiohttpClientMocker, method: str) -> list[Any]:
    return [call for call in aioclient_mock.mock_calls if call[0] == method]


@pytest.mark.usefixtures("entity_registry_enabled_by_default", "mock_details")
async def test_every_sim_has_its_switches(
    hass: HomeAssistant,
    stable_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Per SIM: enabled (on for enabled SIMs), and whether its IMEI is locked."""
    await setup_integration(hass, stable_config_entry, [Platform.SWITCH])

    await snapshot_platform(
        hass, entity_registry, snapshot, stable_config_entry.entry_id
    )


async def test_turning_off_keeps_label_and_imei_lock_and_rereads_the_list(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
) -> None:
    """1NCE replaces the record: the PUT carries the label and lock it had."""
    await setup_integration(hass, mock_config_entry, [Platform.SWITCH])
    answer_fleet(mock_details, _fleet_with(sim1={"status": "Disabled"}))
    mock_details.put(sim_url(FLEET_ICCIDS[0]))

    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: GARDEN_GATE}, blocking=True
    )

    [(_, url, body, _)] = _calls(mock_details, "PUT")
    assert str(url) == sim_url(FLEET_ICCIDS[0])
    assert body == {
        "iccid": FLEET_ICCIDS[0],
        "status": "Disabled",
        "label": "Garden gate",
        "imei_lock": False,
    }
    assert [str(call[1]).split("?")[0] for call in _calls(mock_details, "GET")] == [
        SIMS_URL
    ]
    assert hass.states.get(GARDEN_GATE).state == STATE_OFF


async def test_turning_on_a_sim_without_label_sends_no_label(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
) -> None:
    """A SIM without a label gets none invented; its IMEI lock stays on."""
    answer_fleet(mock_details, _fleet_with(sim2={"status": "Disabled"}))
    await setup_integration(hass, mock_config_entry, [Platform.SWITCH])
    assert hass.states.get(NO_LABEL).state == STATE_OFF
    answer_fleet(mock_details, load_json("sims.json"))
    mock_details.put(sim_url(FLEET_ICCIDS[1]))

    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: NO_LABEL}, blocking=True
    )

    [(_, _, body, _)] = _calls(mock_details, "PUT")
    assert body == {"iccid": FLEET_ICCIDS[1], "status": "Enabled", "imei_lock": True}
    assert hass.states.get(NO_LABEL).state == STATE_ON


async def test_a_refused_change_is_reported_in_words(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
) -> None:
    """1NCE's 422 for an expired SIM reaches the user, and the switch stays on."""
    await setup_integration(hass, mock_config_entry, [Platform.SWITCH])
    mock_details.put(
        sim_url(FLEET_ICCIDS[0]),
        status=HTTPStatus.UNPROCESSABLE_ENTITY,
        json={"statusCode": 422, "message": "SIM is expired"},
    )

    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            SWITCH_DOMAIN,
            SERVICE_TURN_OFF,
            {ATTR_ENTITY_ID: GARDEN_GATE},
            blocking=True,
        )

    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "sim_update_failed"
    assert str(err.value) == "Could not change the SIM at 1NCE: SIM is expired"
    assert hass.states.get(GARDEN_GATE).state == STATE_ON


@pytest.mark.usefixtures("mock_details")
async def test_imei_lock_is_a_disabled_configuration_switch(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """A lock can brick a SIM moved to another device: not offered unasked."""
    await setup_integration(hass, mock_config_entry, [Platform.SWITCH])

    entry = entity_registry.async_get(GARDEN_GATE_LOCK)
    assert entry is not None
    assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert entry.entity_category is EntityCategory.CONFIG
    assert hass.states.get(GARDEN_GATE_LOCK) is None


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_locking_the_imei_keeps_status_and_label(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
) -> None:
    """The PUT changes only imei_lock; the SIM stays enabled and keeps its label."""
    await setup_integration(hass, mock_config_entry, [Platform.SWITCH])
    assert hass.states.get(GARDEN_GATE_LOCK).state == STATE_OFF
    answer_fleet(mock_details, _fleet_with(sim1={"imei_lock": True}))
    mock_details.put(sim_url(FLEET_ICCIDS[0]))

    await hass.services.async_call(
        SWITCH_DOMAIN,
        SERVICE_TURN_ON,
        {ATTR_ENTITY_ID: GARDEN_GATE_LOCK},
        blocking=True,
    )

    [(_, _, body, _)] = _calls(mock_details, "PUT")
    assert body == {
        "iccid": FLEET_ICCIDS[0],
        "status": "Enabled",
        "label": "Garden gate",
        "imei_lock": True,
    }
    assert hass.states.get(GARDEN_GATE_LOCK).state == STATE_ON
    assert hass.states.get(GARDEN_GATE).state == STATE_ON


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_second_change_is_built_on_the_first(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
) -> None:
    """Unlocking right after disabling does not re-enable the SIM on the way."""
    await setup_integration(hass, mock_config_entry, [Platform.SWITCH])
    answer_fleet(mock_details, _fleet_with(sim2={"status": "Disabled"}))
    mock_details.put(sim_url(FLEET_ICCIDS[1]))

    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: NO_LABEL}, blocking=True
    )
    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: NO_LABEL_LOCK}, blocking=True
    )

    bodies = [body for _, _, body, _ in _calls(mock_details, "PUT")]
    assert bodies == [
        {"iccid": FLEET_ICCIDS[1], "status": "Disabled", "imei_lock": True},
        {"iccid": FLEET_ICCIDS[1], "status": "Disabled", "imei_lock": False},
    ]
