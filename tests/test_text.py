"""The SIM label: what renaming sends to 1NCE, and what it renames here."""

from __future__ import annotations

import copy
from http import HTTPStatus
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)

from custom_components.one_nce.const import DOMAIN
from homeassistant.components.text import (
    ATTR_MAX,
    ATTR_VALUE,
    SERVICE_SET_VALUE,
)
from homeassistant.components.text import DOMAIN as TEXT_DOMAIN
from homeassistant.const import ATTR_ENTITY_ID, EntityCategory, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er

from .conftest import (
    FLEET_ICCIDS,
    answer_fleet,
    load_json,
    setup_integration,
    sim_url,
)

# The setups here send more than ten requests at one frozen instant.
pytestmark = pytest.mark.usefixtures("no_rate_limit")

GARDEN_GATE = "text.garden_gate_label"
NO_LABEL = "text.8988228066000000002_label"
# The sensor platform keeps device names in step with the list.
PLATFORMS = [Platform.SENSOR, Platform.TEXT]


def _fleet_with(number: int, **fields: Any) -> list[dict[str, Any]]:
    """The fixture list with SIM `number`'s fields changed."""
    sims: list[dict[str, Any]] = copy.deepcopy(load_json("sims.json"))
    sims[number - 1].update(fields)
    return sims


def _put_bodies(aioclient_mock: AiohttpClientMocker) -> list[Any]:
    return [body for method, _, body, _ in aioclient_mock.mock_calls if method == "PUT"]


async def _set_label(hass: HomeAssistant, entity_id: str, value: str) -> None:
    await hass.services.async_call(
        TEXT_DOMAIN,
        SERVICE_SET_VALUE,
        {ATTR_ENTITY_ID: entity_id, ATTR_VALUE: value},
        blocking=True,
    )


def _device(hass: HomeAssistant, entry: MockConfigEntry, iccid: str) -> dr.DeviceEntry:
    """The SIM's device, found the same way on every Home Assistant release."""
    [device] = [
        device
        for device in dr.async_entries_for_config_entry(
            dr.async_get(hass), entry.entry_id
        )
        if (DOMAIN, iccid) in device.identifiers
    ]
    return device


@pytest.mark.usefixtures("mock_details")
async def test_label_shows_the_portals_name_or_nothing(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """A labelled SIM shows its label, an unlabelled one an empty text."""
    await setup_integration(hass, mock_config_entry, PLATFORMS)

    garden_gate = hass.states.get(GARDEN_GATE)
    assert garden_gate.state == "Garden gate"
    assert garden_gate.attributes[ATTR_MAX] == 255
    assert hass.states.get(NO_LABEL).state == ""
    entry = entity_registry.async_get(GARDEN_GATE)
    assert entry is not None
    assert entry.entity_category is EntityCategory.CONFIG


async def test_relabelling_keeps_status_and_lock_and_renames_the_device(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
) -> None:
    """The PUT carries the new label with the SIM's status and IMEI lock."""
    await setup_integration(hass, mock_config_entry, PLATFORMS)
    answer_fleet(mock_details, _fleet_with(1, label="Front door"))
    mock_details.put(sim_url(FLEET_ICCIDS[0]))

    await _set_label(hass, GARDEN_GATE, "Front door")

    assert _put_bodies(mock_details) == [
        {
            "iccid": FLEET_ICCIDS[0],
            "status": "Enabled",
            "label": "Front door",
            "imei_lock": False,
        }
    ]
    assert hass.states.get(GARDEN_GATE).state == "Front door"
    assert _device(hass, mock_config_entry, FLEET_ICCIDS[0]).name == "Front door"


async def test_a_name_given_in_home_assistant_stays(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
) -> None:
    """The user's own device name keeps showing after a relabel at 1NCE."""
    await setup_integration(hass, mock_config_entry, PLATFORMS)
    registry = dr.async_get(hass)
    registry.async_update_device(
        _device(hass, mock_config_entry, FLEET_ICCIDS[0]).id,
        name_by_user="Gate by the road",
    )
    answer_fleet(mock_details, _fleet_with(1, label="Front door"))
    mock_details.put(sim_url(FLEET_ICCIDS[0]))

    await _set_label(hass, GARDEN_GATE, "Front door")

    device = _device(hass, mock_config_entry, FLEET_ICCIDS[0])
    assert device.name_by_user == "Gate by the road"
    assert device.name == "Front door"


async def test_labelling_a_sim_without_label_keeps_its_lock(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
) -> None:
    """The unlabelled, IMEI-locked SIM stays locked when it gets a name."""
    await setup_integration(hass, mock_config_entry, PLATFORMS)
    answer_fleet(mock_details, _fleet_with(2, label="Cellar meter"))
    mock_details.put(sim_url(FLEET_ICCIDS[1]))

    await _set_label(hass, NO_LABEL, "  Cellar meter ")

    assert _put_bodies(mock_details) == [
        {
            "iccid": FLEET_ICCIDS[1],
            "status": "Enabled",
            "label": "Cellar meter",
            "imei_lock": True,
        }
    ]
    assert _device(hass, mock_config_entry, FLEET_ICCIDS[1]).name == "Cellar meter"


async def test_unchanged_label_sends_nothing(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
) -> None:
    """Saving the same label again does not rewrite the SIM at 1NCE."""
    await setup_integration(hass, mock_config_entry, PLATFORMS)
    mock_details.mock_calls.clear()

    await _set_label(hass, GARDEN_GATE, "Garden gate")

    assert mock_details.mock_calls == []


async def test_a_refused_label_is_reported_in_words(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
) -> None:
    """1NCE's refusal reaches the user, and the old label stays."""
    await setup_integration(hass, mock_config_entry, PLATFORMS)
    mock_details.put(
        sim_url(FLEET_ICCIDS[0]),
        status=HTTPStatus.BAD_REQUEST,
        json={"statusCode": 400, "message": "label is too long"},
    )

    with pytest.raises(HomeAssistantError) as err:
        await _set_label(hass, GARDEN_GATE, "Front door")

    assert err.value.translation_key == "sim_update_failed"
    assert str(err.value) == "Could not change the SIM at 1NCE: label is too long"
    assert hass.states.get(GARDEN_GATE).state == "Garden gate"
