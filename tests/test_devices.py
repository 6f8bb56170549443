"""SIMs as devices: they appear, follow their label and leave with the list."""

from __future__ import annotations

import copy
from datetime import timedelta
import inspect
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)
from pytest_homeassistant_custom_component.typing import WebSocketGenerator

from custom_components.one_nce import PLATFORMS
from custom_components.one_nce.const import DOMAIN
from homeassistant.const import STATE_ON, STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.device_registry import DeviceEntryType
from homeassistant.setup import async_setup_component

from .conftest import (
    FLEET_ICCIDS,
    answer_fleet,
    find_device,
    load_json,
    setup_integration,
    sim_url,
)

# The setups here send more than ten requests at one frozen instant.
pytestmark = pytest.mark.usefixtures("no_rate_limit")

NEW_ICCID = "8988228066000000004"


def _sims(*, without: str | None = None, **fields: Any) -> list[dict[str, Any]]:
    """The fixture list, maybe without one SIM; `fields` change SIM 2."""
    sims: list[dict[str, Any]] = copy.deepcopy(load_json("sims.json"))
    sims[1].update(fields)
    return [sim for sim in sims if sim["iccid"] != without]


async def _poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Let one list interval pass; the extra second covers the random jitter."""
    freezer.tick(timedelta(minutes=15, seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def _sim_device(
    device_registry: dr.DeviceRegistry, iccid: str
) -> dr.DeviceEntry | None:
    return find_device(device_registry.hass, (DOMAIN, iccid))


@pytest.mark.usefixtures("mock_details")
async def test_each_sim_is_a_device_under_the_account(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """SIMs are named by label (else ICCID) and hang off a 1NCE account service."""
    await setup_integration(hass, mock_config_entry, PLATFORMS)

    account = find_device(hass, (DOMAIN, mock_config_entry.entry_id))
    assert account is not None
    assert (
        account.name,
        account.manufacturer,
        account.model,
        account.entry_type,
    ) == ("1NCE account", "1NCE", "Management API", DeviceEntryType.SERVICE)
    assert account.configuration_url == "https://portal.1nce.com"
    sims = [_sim_device(device_registry, iccid) for iccid in FLEET_ICCIDS]
    assert [
        (device.name, device.model, device.serial_number, device.via_device_id)
        for device in sims
        if device is not None
    ] == [
        ("Garden gate", "IoT SIM", FLEET_ICCIDS[0], account.id),
        (FLEET_ICCIDS[1], "IoT SIM", FLEET_ICCIDS[1], account.id),
        ("Weather station", "IoT SIM", FLEET_ICCIDS[2], account.id),
    ]


@pytest.mark.usefixtures("mock_details")
async def test_a_german_home_assistant_names_the_account_in_german(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """The account device's name follows the server language, and so do new ids."""
    hass.config.language = "de"
    await setup_integration(hass, mock_config_entry, [Platform.SENSOR])

    account = find_device(hass, (DOMAIN, mock_config_entry.entry_id))
    assert account is not None
    assert account.name == "1NCE-Konto"
    entity_id = entity_registry.async_get_entity_id(
        "sensor", DOMAIN, f"{mock_config_entry.entry_id}_sims"
    )
    assert entity_id == "sensor.1nce_konto_sim_karten"
    state = hass.states.get(entity_id)
    assert state is not None
    assert state.attributes["friendly_name"] == "1NCE-Konto SIM-Karten"


async def test_a_new_sim_appears_without_reload(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    device_registry: dr.DeviceRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A SIM added at 1NCE gets its device and entities at the next poll."""
    await setup_integration(hass, mock_config_entry, PLATFORMS)
    new_sim = {**load_json("sims.json")[0], "iccid": NEW_ICCID, "label": "Cellar"}
    answer_fleet(mock_details, [*load_json("sims.json"), new_sim])
    for path, fixture in (
        ("/quota/sms", "quota_sms_1.json"),
        ("/quota/data", "quota_data_1.json"),
        ("/status", "status_1.json"),
    ):
        mock_details.get(sim_url(NEW_ICCID, path), json=load_json(fixture))

    await _poll(hass, freezer)

    device = _sim_device(device_registry, NEW_ICCID)
    assert device is not None
    assert device.name == "Cellar"
    assert hass.states.get("switch.cellar_sim_enabled").state == STATE_ON
    assert hass.states.get("sensor.cellar_msisdn").state == "882285100000001"
    assert hass.states.get("sensor.1nce_account_sims").state == "4"
    # Its details follow within a minute.
    freezer.tick(timedelta(minutes=1, seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get("sensor.cellar_sms_volume_left").state == "75.0"


async def test_a_sim_that_left_loses_its_device_and_entities(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A SIM the list no longer shows is gone from devices, entities and states."""
    await setup_integration(hass, mock_config_entry, PLATFORMS)
    gone = _sim_device(device_registry, FLEET_ICCIDS[2])
    assert gone is not None
    answer_fleet(mock_details, _sims(without=FLEET_ICCIDS[2]))

    await _poll(hass, freezer)

    assert _sim_device(device_registry, FLEET_ICCIDS[2]) is None
    assert not er.async_entries_for_device(entity_registry, gone.id)
    assert hass.states.get("switch.weather_station_sim_enabled") is None
    assert hass.states.get("sensor.1nce_account_sims").state == "2"
    assert hass.states.get("switch.garden_gate_sim_enabled").state == STATE_ON


async def test_a_sim_that_returns_gets_its_entities_back(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A SIM moved away and back at 1NCE is shown again without a reload."""
    await setup_integration(hass, mock_config_entry, PLATFORMS)
    answer_fleet(mock_details, _sims(without=FLEET_ICCIDS[2]))
    await _poll(hass, freezer)

    answer_fleet(mock_details, _sims())
    await _poll(hass, freezer)

    assert hass.states.get("switch.weather_station_sim_enabled").state == "off"


async def test_an_empty_list_removes_nothing(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    device_registry: dr.DeviceRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A list suddenly without any SIM keeps devices (and their settings)."""
    await setup_integration(hass, mock_config_entry, PLATFORMS)
    answer_fleet(mock_details, [])

    await _poll(hass, freezer)

    assert all(_sim_device(device_registry, iccid) for iccid in FLEET_ICCIDS)
    assert hass.states.get("switch.garden_gate_sim_enabled").state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.garden_gate_sms_volume_left").state == (
        STATE_UNAVAILABLE
    )


async def test_a_relabelled_sim_renames_its_device(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    device_registry: dr.DeviceRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A label set in the 1NCE Portal becomes the device's name; entity ids stay."""
    await setup_integration(hass, mock_config_entry, PLATFORMS)
    answer_fleet(mock_details, _sims(label="Barn"))

    await _poll(hass, freezer)

    device = _sim_device(device_registry, FLEET_ICCIDS[1])
    assert device is not None
    assert device.name == "Barn"
    state = hass.states.get("switch.8988228066000000002_sim_enabled")
    assert state.attributes["friendly_name"] == "Barn SIM enabled"


@pytest.mark.usefixtures("mock_details")
async def test_a_device_left_over_from_before_is_removed_at_setup(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """A SIM that left while Home Assistant was off does not linger."""
    mock_config_entry.add_to_hass(hass)
    device_registry.async_get_or_create(
        config_entry_id=mock_config_entry.entry_id,
        identifiers={(DOMAIN, NEW_ICCID)},
        name="Old tracker",
    )

    await setup_integration(hass, mock_config_entry, PLATFORMS)

    assert _sim_device(device_registry, NEW_ICCID) is None
    assert _sim_device(device_registry, FLEET_ICCIDS[0]) is not None


async def _remove_device_answer(
    hass_ws_client: WebSocketGenerator,
    hass: HomeAssistant,
    device_id: str,
    entry_id: str,
) -> dict[str, Any]:
    """Ask to delete a device as the device page does; return Home Assistant's answer."""
    client = await hass_ws_client(hass)
    # Home Assistant 2026.x removes a device by its id alone (it has one entry);
    # before, the user removes it from one entry.
    if len(inspect.signature(client.remove_device).parameters) == 1:
        response: dict[str, Any] = await client.remove_device(device_id)
    else:
        response = await client.remove_device(device_id, entry_id)
    return response


async def _remove_device(
    hass_ws_client: WebSocketGenerator,
    hass: HomeAssistant,
    device_id: str,
    entry_id: str,
) -> bool:
    response = await _remove_device_answer(hass_ws_client, hass, device_id, entry_id)
    return bool(response["success"])


async def test_deleting_a_listed_sim_or_the_account_says_why_not(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    device_registry: dr.DeviceRegistry,
) -> None:
    """The device page shows the error's message: a reason, not "rejected"."""
    assert await async_setup_component(hass, "config", {})
    await setup_integration(hass, mock_config_entry, PLATFORMS)
    entry_id = mock_config_entry.entry_id
    listed = _sim_device(device_registry, FLEET_ICCIDS[0])
    account = find_device(hass, (DOMAIN, entry_id))
    assert listed is not None
    assert account is not None

    refused = await _remove_device_answer(hass_ws_client, hass, listed.id, entry_id)
    assert not refused["success"]
    assert refused["error"]["message"].startswith(
        f"1NCE still lists the SIM Garden gate ({FLEET_ICCIDS[0]}), so its device "
        "would come back with the next update."
    )
    refused = await _remove_device_answer(hass_ws_client, hass, account.id, entry_id)
    assert not refused["success"]
    assert refused["error"]["message"].startswith(
        "This device is the 1NCE account itself"
    )
    assert _sim_device(device_registry, FLEET_ICCIDS[0]) is not None


async def test_only_a_sim_no_longer_listed_can_be_deleted_by_hand(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    device_registry: dr.DeviceRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Listed SIMs and the account refuse deletion; a SIM gone from 1NCE allows it."""
    assert await async_setup_component(hass, "config", {})
    await setup_integration(hass, mock_config_entry, PLATFORMS)
    entry_id = mock_config_entry.entry_id
    listed = _sim_device(device_registry, FLEET_ICCIDS[0])
    account = find_device(hass, (DOMAIN, entry_id))
    assert listed is not None
    assert account is not None

    assert not await _remove_device(hass_ws_client, hass, listed.id, entry_id)
    assert not await _remove_device(hass_ws_client, hass, account.id, entry_id)

    # An empty list keeps the devices; the user may now delete them.
    answer_fleet(mock_details, [])
    await _poll(hass, freezer)
    assert await _remove_device(hass_ws_client, hass, listed.id, entry_id)
    assert _sim_device(device_registry, FLEET_ICCIDS[0]) is None
    assert not await _remove_device(hass_ws_client, hass, account.id, entry_id)


async def test_a_sim_deleted_by_hand_comes_back_when_listed_again(
    hass: HomeAssistant,
    hass_ws_client: WebSocketGenerator,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    device_registry: dr.DeviceRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Deleting a SIM's device does not hide the SIM should 1NCE list it again."""
    assert await async_setup_component(hass, "config", {})
    await setup_integration(hass, mock_config_entry, PLATFORMS)
    answer_fleet(mock_details, [])
    await _poll(hass, freezer)
    device = _sim_device(device_registry, FLEET_ICCIDS[0])
    assert device is not None
    assert await _remove_device(
        hass_ws_client, hass, device.id, mock_config_entry.entry_id
    )

    answer_fleet(mock_details, load_json("sims.json"))
    await _poll(hass, freezer)

    assert _sim_device(device_registry, FLEET_ICCIDS[0]) is not None
    assert hass.states.get("switch.garden_gate_sim_enabled").state == STATE_ON
