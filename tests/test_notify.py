"""Notify entities: `notify.send_message` sends an SMS, and says so when it cannot."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)

from homeassistant.components.notify import (
    ATTR_MESSAGE,
    SERVICE_SEND_MESSAGE,
)
from homeassistant.components.notify import (
    DOMAIN as NOTIFY_DOMAIN,
)
from homeassistant.const import ATTR_ENTITY_ID, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError

from .conftest import FLEET_ICCIDS
from .services_common import (
    GARDEN_GATE as GARDEN_GATE_SIM,
)
from .services_common import (
    SMS_POST,
    answer_sms_posts,
    answer_sms_posts_in_turn,
    sent_bodies,
    set_up,
)

GARDEN_GATE = "notify.garden_gate_sms"
WEATHER_STATION = "notify.weather_station_sms"  # the disabled SIM


@pytest.fixture
async def notify_api(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
) -> AiohttpClientMocker:
    """A loaded account with its notify entities; earlier requests forgotten."""
    await set_up(hass, mock_config_entry, [Platform.NOTIFY])
    mock_details.mock_calls.clear()
    return mock_details


async def notify(hass: HomeAssistant, entity_id: str, message: str) -> None:
    await hass.services.async_call(
        NOTIFY_DOMAIN,
        SERVICE_SEND_MESSAGE,
        {ATTR_ENTITY_ID: entity_id, ATTR_MESSAGE: message},
        blocking=True,
    )


async def test_every_sim_has_an_sms_notifier(
    hass: HomeAssistant, notify_api: AiohttpClientMocker
) -> None:
    """Each SIM device offers a notify entity named after it."""
    states = hass.states.async_all(NOTIFY_DOMAIN)
    assert len(states) == len(FLEET_ICCIDS)
    assert hass.states.get(GARDEN_GATE) is not None


async def test_send_message_is_one_sms_to_that_sim(
    hass: HomeAssistant, notify_api: AiohttpClientMocker
) -> None:
    """The message goes to the entity's SIM as one GSM 7-bit SMS."""
    answer_sms_posts(notify_api)
    await notify(hass, GARDEN_GATE, "wake up")

    assert sent_bodies(notify_api) == [{"payload": "wake up", "dcs": 0}]
    (call,) = notify_api.mock_calls
    assert str(call[1]).endswith(f"/v2/sims/{FLEET_ICCIDS[0]}/sms")
    assert hass.states.get(GARDEN_GATE).state != "unknown"


async def test_long_message_is_split_like_the_action_does(
    hass: HomeAssistant, notify_api: AiohttpClientMocker
) -> None:
    """A 161-character text becomes two concatenated parts."""
    answer_sms_posts(notify_api)
    await notify(hass, GARDEN_GATE, "x" * 161)

    bodies = sent_bodies(notify_api)
    assert [len(body["payload"]) for body in bodies] == [153, 8]
    assert [body["udh"][-4:] for body in bodies] == ["0201", "0202"]


async def test_refusal_by_1nce_raises_instead_of_only_logging(
    hass: HomeAssistant, notify_api: AiohttpClientMocker
) -> None:
    """An automation learns that the SMS did not go out."""
    notify_api.post(SMS_POST, status=HTTPStatus.CONFLICT, json={"message": "busy"})
    with pytest.raises(HomeAssistantError) as raised:
        await notify(hass, GARDEN_GATE, "wake up")
    assert raised.value.translation_key == "send_failed"


async def test_failure_after_the_first_part_names_the_part_that_went_out(
    hass: HomeAssistant,
    notify_api: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
) -> None:
    """A long notification cut short says which 1NCE id already went out."""
    answer_sms_posts_in_turn(notify_api, 6026, (409, "SMSC busy"))

    with pytest.raises(HomeAssistantError) as raised:
        await notify(hass, GARDEN_GATE, "x" * 161)

    assert raised.value.translation_key == "send_failed_partially"
    assert raised.value.translation_placeholders == {
        "sim": GARDEN_GATE_SIM,
        "error": "SMSC busy",
        "sent": f"{GARDEN_GATE_SIM}: 6026",
    }
    assert [sms.sms_id for sms in mock_config_entry.runtime_data.delivery.followed] == [
        "6026"
    ]


async def test_disabled_sim_is_refused_before_any_request(
    hass: HomeAssistant, notify_api: AiohttpClientMocker
) -> None:
    """A disabled SIM cannot receive SMS; nothing is sent to 1NCE."""
    with pytest.raises(ServiceValidationError) as raised:
        await notify(hass, WEATHER_STATION, "wake up")
    assert raised.value.translation_key == "sim_disabled"
    assert notify_api.mock_calls == []
