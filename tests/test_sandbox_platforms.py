"""The integration against the sandbox's Platform 2.0 and hybrid accounts.

What already works on Platform 2.0 before the receiving side reads
`detail.sms.id`: the account sets up from v2 alone (v1 answers 404), an SMS
sent gets its 18-digit id, and an MO SMS pushed to Home Assistant's real HTTP
server arrives with its 18-digit id exact.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.one_nce.const import (
    CONF_API_URL,
    DOMAIN,
    EVENT_SMS_RECEIVED,
)
from homeassistant.const import CONF_CLIENT_ID, CONF_CLIENT_SECRET, Platform
from homeassistant.core import HomeAssistant
from sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, PlatformMode

from .blueprint_common import (
    GARDEN_GATE,
    SandboxControl,
    expect_event,
    running_sandbox,
)
from .conftest import setup_integration
from .forwarder_common import forwarder_path

GARDEN_GATE_VOLUME = "sensor.garden_gate_sms_volume_left"


@pytest.fixture
async def control(
    socket_enabled: None, request: pytest.FixtureRequest
) -> AsyncGenerator[SandboxControl]:
    """A sandbox on the platform the test is parametrized with."""
    async with running_sandbox(request.param) as running:
        yield running


@pytest.fixture
async def entry(
    hass: HomeAssistant,
    control: SandboxControl,
    hass_client_no_auth: ClientSessionGenerator,
) -> AsyncGenerator[MockConfigEntry]:
    """The sandbox's account, loaded, its forwarder pushing to Home Assistant."""
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
    await setup_integration(hass, entry, [Platform.SENSOR])
    home_assistant = await hass_client_no_auth()
    await control.point_forwarder(str(home_assistant.make_url(forwarder_path(entry))))
    yield entry
    await hass.async_block_till_done(wait_background_tasks=True)
    assert await hass.config_entries.async_unload(entry.entry_id)


def wide(sms_id: Any) -> bool:
    """An 18-digit Platform 2.0 id, written as decimal digits."""
    return isinstance(sms_id, str) and sms_id.isdigit() and len(sms_id) == 18


@pytest.mark.parametrize(
    "control", [PlatformMode.TWO, PlatformMode.HYBRID], indirect=True
)
async def test_account_without_v1_sets_up_and_shows_sms_volume(
    hass: HomeAssistant, control: SandboxControl, entry: MockConfigEntry
) -> None:
    state = hass.states.get(GARDEN_GATE_VOLUME)
    assert state is not None
    assert float(state.state) == 231
    assert control.platform in (PlatformMode.TWO, PlatformMode.HYBRID)


@pytest.mark.parametrize("control", [PlatformMode.TWO], indirect=True)
@pytest.mark.usefixtures("entry")
async def test_sms_sent_on_platform_2_gets_its_18_digit_id(
    hass: HomeAssistant, control: SandboxControl
) -> None:
    response = await hass.services.async_call(
        DOMAIN,
        "send_sms",
        {"iccid": GARDEN_GATE, "message": "Gate: open"},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    [message] = response["messages"]
    [sms_id] = message["sms_ids"]
    assert wide(sms_id)
    [sent] = await control.all_sms()
    assert str(sent["id"]) == sms_id


@pytest.mark.parametrize("control", [PlatformMode.TWO], indirect=True)
@pytest.mark.usefixtures("entry")
async def test_mo_sms_on_platform_2_arrives_with_its_id_exact(
    hass: HomeAssistant, control: SandboxControl
) -> None:
    received = expect_event(hass, EVENT_SMS_RECEIVED)
    await control.send_from_sim(GARDEN_GATE, "Gate opened")
    event = await received
    [pushed] = [
        sms for sms in await control.all_sms() if sms["payload"] == "Gate opened"
    ]
    assert event.data["text"] == "Gate opened"
    assert wide(event.data["sms_id"])
    assert event.data["sms_id"] == str(pushed["id"])
