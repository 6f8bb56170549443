"""The blueprints in blueprints/automation/one_nce, run against a sandbox 1NCE.

Each test copies the repository's blueprints into the configuration folder of
the test instance, sets up an automation from one of them with inputs as the
UI would store them (Home Assistant validates them), and runs it end to end:
the integration talks to an in-process sandbox over real HTTP, and the
sandbox's forwarder pushes SMS and delivery reports to Home Assistant's own
HTTP server. Notifications land in `notify.*` actions registered by the test.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from pathlib import Path
import shutil
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
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
from homeassistant.setup import async_setup_component
from sandbox import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    SandboxConfig,
    create_app,
)

from .blueprint_common import (
    CELLAR_PUMP,
    GARDEN_GATE,
    WEATHER_STATION,
    Notifier,
    SandboxControl,
    expect_event,
    sim_device_id,
)
from .conftest import setup_integration
from .forwarder_common import forwarder_path

BLUEPRINTS = Path(__file__).parent.parent / "blueprints"
WAKE_EVENT = "test_wake_the_device"
WEATHER_STATION_VOLUME = "sensor.weather_station_sms_volume_left"


@pytest.fixture
def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A configuration folder of the test's own, holding the blueprints."""
    hass.config.config_dir = str(tmp_path)
    shutil.copytree(BLUEPRINTS, tmp_path / "blueprints")
    return tmp_path


@pytest.fixture
async def control(socket_enabled: None) -> AsyncGenerator[SandboxControl]:
    """A sandbox on 127.0.0.1 whose SMS reach their outcome within 0.2 s."""
    app = create_app(
        SandboxConfig(delivery_delay=0.2, retry_initial=0.05, retry_max_gap=0.2)
    )
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    async with aiohttp.ClientSession() as session:
        yield SandboxControl(server, session)
    await server.close()


@pytest.fixture
async def entry(
    hass: HomeAssistant,
    config_dir: Path,
    control: SandboxControl,
    hass_client_no_auth: ClientSessionGenerator,
) -> AsyncGenerator[MockConfigEntry]:
    """The sandbox's account, loaded, with the forwarder pushing to Home Assistant."""
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
    # The usage import runs in the background from setup; an unload in the
    # middle of it would leave its coordinator's next refresh scheduled.
    await hass.async_block_till_done(wait_background_tasks=True)
    # Stops following SMS whose report never came, and their timers.
    assert await hass.config_entries.async_unload(entry.entry_id)


async def use_blueprint(hass: HomeAssistant, name: str, inputs: dict[str, Any]) -> None:
    """Set up an automation from one of the blueprints; it must be valid."""
    assert await async_setup_component(
        hass,
        "automation",
        {
            "automation": {
                "alias": name,
                "use_blueprint": {"path": f"one_nce/{name}.yaml", "input": inputs},
            }
        },
    )
    await hass.async_block_till_done()
    state = hass.states.get(f"automation.{name}")
    assert state is not None, f"blueprint {name} was refused, see the log"
    assert state.state == "on"


def notify(service: str, message: str) -> list[dict[str, Any]]:
    """An actions input that sends one notification."""
    return [{"action": f"notify.{service}", "data": {"message": message}}]


async def wake(
    hass: HomeAssistant,
    iccid: str,
    wait_seconds: float = 5.0,
    *,
    report_delivery: bool = True,
) -> None:
    """Set up the wake blueprint for a SIM, then fire its trigger.

    Without `report_delivery` the optional input is left out, as a user may.
    """
    inputs: dict[str, Any] = {
        "wake_trigger": [{"trigger": "event", "event_type": WAKE_EVENT}],
        "sim": sim_device_id(hass, iccid),
        "message": "WAKE UP",
        "timeout": {"seconds": wait_seconds},
        "on_failure": notify("failed", "{{ sim_name }}: {{ outcome }}"),
    }
    if report_delivery:
        inputs["on_delivered"] = notify("delivered", "{{ sim_name }}: {{ sms_id }}")
    await use_blueprint(hass, "wake_device_by_sms", inputs)
    hass.bus.async_fire(WAKE_EVENT)


async def mt_sms(control: SandboxControl) -> list[tuple[str, str]]:
    """The SMS the sandbox was asked to send, as (ICCID, payload)."""
    return [
        (sms["iccid"], sms["payload"])
        for sms in await control.all_sms()
        if sms["sms_type"]["description"] == "MT"
    ]


# --- Wake a device by SMS ----------------------------------------------------


@pytest.mark.usefixtures("entry")
async def test_wake_sends_the_payload_and_runs_no_failure_actions_once_delivered(
    hass: HomeAssistant, control: SandboxControl
) -> None:
    delivered = Notifier.register(hass, "delivered")
    failed = Notifier.register(hass, "failed")

    await wake(hass, GARDEN_GATE)

    [message] = await delivered.wait()
    sent = await control.all_sms()
    assert [(sms["iccid"], sms["payload"]) for sms in sent] == [
        (GARDEN_GATE, "WAKE UP")
    ]
    assert sent[0]["status"]["description"] == "DELIVERED"
    assert message == f"Garden gate: {sent[0]['id']}"
    await hass.async_block_till_done()
    assert failed.messages == []


@pytest.mark.usefixtures("entry")
async def test_wake_runs_the_failure_actions_when_the_sms_fails(
    hass: HomeAssistant, control: SandboxControl
) -> None:
    await control.change_sim(GARDEN_GATE, mt_outcome="failed")
    delivered = Notifier.register(hass, "delivered")
    failed = Notifier.register(hass, "failed")

    await wake(hass, GARDEN_GATE)

    assert await failed.wait() == ["Garden gate: failed"]
    assert await mt_sms(control) == [(GARDEN_GATE, "WAKE UP")]
    assert delivered.messages == []


@pytest.mark.usefixtures("entry")
async def test_wake_runs_the_failure_actions_when_no_report_comes_in_time(
    hass: HomeAssistant, control: SandboxControl
) -> None:
    # 1NCE holds the delivery report: nothing reaches Home Assistant.
    await control.point_forwarder(None)
    delivered = Notifier.register(hass, "delivered")
    failed = Notifier.register(hass, "failed")

    started = hass.loop.time()
    await wake(hass, GARDEN_GATE, wait_seconds=1.0)

    assert await failed.wait() == ["Garden gate: timeout"]
    assert hass.loop.time() - started >= 1.0
    assert await mt_sms(control) == [(GARDEN_GATE, "WAKE UP")]
    assert delivered.messages == []


@pytest.mark.usefixtures("entry")
async def test_wake_runs_the_failure_actions_when_the_sms_cannot_be_sent(
    hass: HomeAssistant, control: SandboxControl
) -> None:
    failed = Notifier.register(hass, "failed")

    # No SMS volume left: the action refuses to send.
    await wake(hass, CELLAR_PUMP, report_delivery=False)

    assert await failed.wait() == ["Cellar pump: not_sent"]
    assert await mt_sms(control) == []


# --- Warn when a SIM's SMS volume runs low -----------------------------------


def weather_station_volume(hass: HomeAssistant) -> float:
    """What the weather station's SMS volume sensor shows."""
    state = hass.states.get(WEATHER_STATION_VOLUME)
    assert state is not None
    return float(state.state)


async def test_low_volume_warns_once_the_volume_drops_below_the_threshold(
    hass: HomeAssistant, control: SandboxControl, entry: MockConfigEntry
) -> None:
    low = Notifier.register(hass, "low")
    await use_blueprint(
        hass,
        "sms_volume_low",
        {
            "volume_sensors": [WEATHER_STATION_VOLUME],
            "threshold": 30,
            "actions": notify(
                "low", "{{ sim_name }}: {{ volume }} SMS left (below {{ threshold }})"
            ),
        },
    )
    assert weather_station_volume(hass) == 32

    await control.change_sim(WEATHER_STATION, sms_volume=29)
    # What the SIM's next turn in the detail round would do.
    entry.runtime_data.details.request_soon(WEATHER_STATION)
    await entry.runtime_data.details.async_refresh()

    assert await low.wait() == ["Weather station: 29 SMS left (below 30)"]


async def test_low_volume_stays_quiet_while_the_volume_is_above_the_threshold(
    hass: HomeAssistant, control: SandboxControl, entry: MockConfigEntry
) -> None:
    low = Notifier.register(hass, "low")
    await use_blueprint(
        hass,
        "sms_volume_low",
        {
            "volume_sensors": [WEATHER_STATION_VOLUME],
            "threshold": 30,
            "actions": notify("low", "{{ sim_name }}: {{ volume }}"),
        },
    )

    await control.change_sim(WEATHER_STATION, sms_volume=30)
    entry.runtime_data.details.request_soon(WEATHER_STATION)
    await entry.runtime_data.details.async_refresh()
    await hass.async_block_till_done()

    assert weather_station_volume(hass) == 30
    assert low.messages == []


# --- Forward incoming SMS to a notifier --------------------------------------


async def forward_from(hass: HomeAssistant, sims: list[str]) -> Notifier:
    """Set up the forward blueprint for these SIMs (none: all of them)."""
    forwarded = Notifier.register(hass, "forwarded")
    await use_blueprint(
        hass,
        "forward_incoming_sms",
        {
            "sims": [sim_device_id(hass, iccid) for iccid in sims],
            "actions": notify(
                "forwarded", "{{ sim_name }} ({{ sms.sender }}): {{ sms.text }}"
            ),
        },
    )
    return forwarded


@pytest.mark.usefixtures("entry")
async def test_forward_passes_text_and_sender_on_exactly(
    hass: HomeAssistant, control: SandboxControl
) -> None:
    forwarded = await forward_from(hass, [GARDEN_GATE])

    # Both look like numbers; neither may be changed on the way.
    await control.send_from_sim(GARDEN_GATE, "1.50", source_address="+4915112345678")

    assert await forwarded.wait() == ["Garden gate (+4915112345678): 1.50"]


@pytest.mark.usefixtures("entry")
async def test_forward_from_all_sims_when_none_are_chosen(
    hass: HomeAssistant, control: SandboxControl
) -> None:
    forwarded = await forward_from(hass, [])

    await control.send_from_sim(WEATHER_STATION, "Rain: 4 mm")

    assert await forwarded.wait() == ["Weather station (882285100000002): Rain: 4 mm"]


@pytest.mark.usefixtures("entry")
async def test_forward_ignores_sms_from_sims_not_chosen(
    hass: HomeAssistant, control: SandboxControl
) -> None:
    forwarded = await forward_from(hass, [GARDEN_GATE])
    received = expect_event(hass, EVENT_SMS_RECEIVED)

    await control.send_from_sim(WEATHER_STATION, "Rain: 4 mm")

    async with asyncio.timeout(5):
        event = await received
    assert event.data["iccid"] == WEATHER_STATION
    await hass.async_block_till_done()
    assert forwarded.messages == []
