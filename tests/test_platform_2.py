"""The integration against the sandbox's Platform 2.0 account, over real HTTP.

The integration asks the in-process sandbox's management API; the sandbox's
SMS forwarder and, where a test points them there, its Data Streams (a Usage
and an Event stream, as a user creates them in 1NCE's Portal) push to Home
Assistant's real HTTP server with the entry's forwarder address and Basic
credential. On Platform 2.0 the sandbox gives SMS 18-digit ids, names the SMS
of a delivery report in `detail.sms.id` and streams every MO SMS and delivery
report as SMS events too, so one message can come by two channels.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable
from pathlib import Path
import shutil
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.one_nce import PLATFORMS
from custom_components.one_nce.const import (
    CONF_API_URL,
    DOMAIN,
    EVENT_DELIVERY_REPORT,
    EVENT_NETWORK_EVENT,
    EVENT_SMS_RECEIVED,
)
from homeassistant.const import (
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    STATE_UNAVAILABLE,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
from homeassistant.util import dt as dt_util
from sandbox import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, SANDBOX, PlatformMode

from .blueprint_common import (
    GARDEN_GATE,
    Notifier,
    SandboxControl,
    expect_event,
    running_sandbox,
)
from .conftest import setup_integration
from .forwarder_common import forwarder_path
from .streamer_common import credential, streamer_path
from .test_blueprints import BLUEPRINTS, wake

CAMPER_VAN = "8988228066000000005"  # offline: an `attach` makes it ATTACHED
SIMS = [f"898822806600000000{number}" for number in range(1, 7)]
CAMPER_VAN_NETWORK_EVENT = "event.camper_van_network_event"
RECEIVING = [Platform.EVENT, Platform.SENSOR]
WAIT = 10.0


def wide(sms_id: Any) -> bool:
    """An 18-digit Platform 2.0 id, written as decimal digits."""
    return isinstance(sms_id, str) and sms_id.isdigit() and len(sms_id) == 18


SMS_STATUS = "GET /v2/sims/{iccid}/sms/{sms_id}"


@pytest.fixture
async def control(
    socket_enabled: None, request: pytest.FixtureRequest
) -> AsyncGenerator[SandboxControl]:
    """A sandbox playing a Platform 2.0 account (or what the test is given)."""
    async with running_sandbox(getattr(request, "param", PlatformMode.TWO)) as running:
        yield running


async def _setup(
    hass: HomeAssistant,
    control: SandboxControl,
    hass_client_no_auth: ClientSessionGenerator,
    platforms: list[Platform],
) -> MockConfigEntry:
    """Add the sandbox's account, load it, point the forwarder at Home Assistant."""
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
    await setup_integration(hass, entry, platforms)
    home_assistant = await hass_client_no_auth()
    await control.point_forwarder(str(home_assistant.make_url(forwarder_path(entry))))
    return entry


async def _unload(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    # The usage import runs in the background from setup.
    await hass.async_block_till_done(wait_background_tasks=True)
    assert await hass.config_entries.async_unload(entry.entry_id)


@pytest.fixture
async def entry(
    hass: HomeAssistant,
    control: SandboxControl,
    hass_client_no_auth: ClientSessionGenerator,
) -> AsyncGenerator[MockConfigEntry]:
    """The account with its receiving platforms, the forwarder pushing to it."""
    entry = await _setup(hass, control, hass_client_no_auth, RECEIVING)
    yield entry
    await _unload(hass, entry)


@pytest.fixture
async def streams(
    control: SandboxControl,
    entry: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """A Usage and an Event stream to the entry's real streamer address."""
    home_assistant = await hass_client_no_auth()
    url = str(home_assistant.make_url(streamer_path(entry)))
    await control.set_streams(flush_interval=0.05)
    for kind in ("usage", "event"):
        await control.add_stream(kind, url, credential(entry))


@pytest.fixture
def config_dir(hass: HomeAssistant, tmp_path: Path) -> Path:
    """A configuration folder of the test's own, holding the blueprints."""
    hass.config.config_dir = str(tmp_path)
    shutil.copytree(BLUEPRINTS, tmp_path / "blueprints")
    return tmp_path


async def until(check: Callable[[], Awaitable[bool]]) -> None:
    """Wait until `check` holds: the sandbox pushes in real time, over HTTP."""
    async with asyncio.timeout(WAIT):
        # The sandbox is another server: polled over HTTP, it has no event to await.
        while not await check():  # noqa: ASYNC110
            await asyncio.sleep(0.05)


def both_channels_done(
    control: SandboxControl, streamed: int
) -> Callable[[], Awaitable[bool]]:
    """Tell whether the forwarder and the Event stream delivered all they had.

    The forwarder: nothing pending, something acknowledged. The Event stream:
    every event record emitted so far (at least `streamed`) acknowledged.
    """

    async def done() -> bool:
        forwarder = await control.forwarder()
        overview = await control.streams()
        [events] = [s for s in overview["streams"] if s["type"] == "event"]
        emitted = overview["emitted"].get("event", 0)
        return (
            forwarder["pending"] == 0
            and forwarder["acknowledged"] >= 1
            and emitted >= streamed
            and events["records_acknowledged"] == emitted
        )

    return done


async def send(hass: HomeAssistant, iccid: str, message: str) -> str:
    """Send a one-part SMS with the action; return the id it answers."""
    response = await hass.services.async_call(
        DOMAIN,
        "send_sms",
        {"iccid": iccid, "message": message},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    [sent] = response["messages"]
    [sms_id] = sent["sms_ids"]
    return str(sms_id)


# --- SMS and delivery reports ---------------------------------------------------


@pytest.mark.usefixtures("config_dir", "entry")
async def test_wake_blueprint_completes_delivered_with_the_id_send_sms_returned(
    hass: HomeAssistant, control: SandboxControl
) -> None:
    """The blueprint waits for the report whose `sms_id` is the one it was given."""
    reports = async_capture_events(hass, EVENT_DELIVERY_REPORT)
    delivered = Notifier.register(hass, "delivered")
    failed = Notifier.register(hass, "failed")

    await wake(hass, GARDEN_GATE)

    [message] = await delivered.wait()
    returned = message.removeprefix("Garden gate: ")  # {{ sms_id }}: send_sms's
    [sent] = await control.all_sms()
    assert wide(returned)
    assert returned == str(sent["id"])
    assert [(event.data["status"], event.data["sms_id"]) for event in reports] == [
        ("delivered", returned)
    ]
    # Platform 2.0's report has an id of its own; the SMS is named apart.
    assert wide(reports[0].data["report_id"])
    assert reports[0].data["report_id"] != returned
    await hass.async_block_till_done()
    assert failed.messages == []


@pytest.mark.usefixtures("entry")
async def test_an_sms_pushed_then_polled_fires_one_report(
    hass: HomeAssistant, control: SandboxControl, entry: MockConfigEntry
) -> None:
    """The push names the SMS as text, the poll as a JSON integer: one SMS.

    The report is pushed at once; the SMS is then followed again, as after a
    restart from a store written before the push, and its status is read.
    """
    reports = async_capture_events(hass, EVENT_DELIVERY_REPORT)
    pushed = expect_event(hass, EVENT_DELIVERY_REPORT)
    sms_id = await send(hass, GARDEN_GATE, "Gate: open")
    async with asyncio.timeout(WAIT):
        await pushed
    delivery = entry.runtime_data.delivery
    assert delivery.followed == []  # the final push ended the following

    delivery.follow(GARDEN_GATE, [sms_id], None)
    # Its look-up, as its timer would run it a minute later; firing every
    # timer instead would also run the day's polls against the real-time
    # sandbox, all in one frozen second.
    await delivery._async_look_up(delivery.followed, dt_util.utcnow())
    await hass.async_block_till_done()

    assert await control.requests(SMS_STATUS) == 1
    assert delivery.followed == []  # the poll found it final
    assert [(event.data["status"], event.data["sms_id"]) for event in reports] == [
        ("delivered", sms_id)
    ]


# --- the Data Streamer ------------------------------------------------------------


@pytest.mark.usefixtures("entry", "streams")
async def test_a_network_event_streamed_reaches_the_entity_and_the_bus(
    hass: HomeAssistant, control: SandboxControl
) -> None:
    """The offline camper van attaches: its Network event entity and the bus say so."""
    arrived = expect_event(hass, EVENT_NETWORK_EVENT)

    played = await control.inject(CAMPER_VAN, "attach")

    async with asyncio.timeout(WAIT):
        event = await arrived
    await hass.async_block_till_done()
    assert played["connectivity"] == "ATTACHED"
    assert (event.data["iccid"], event.data["event_type"]) == (CAMPER_VAN, "attach")
    state = hass.states.get(CAMPER_VAN_NETWORK_EVENT)
    assert state is not None
    assert state.attributes["event_type"] == "attach"


@pytest.mark.usefixtures("entry", "streams")
async def test_an_mo_sms_by_forwarder_and_streamer_fires_once(
    hass: HomeAssistant, control: SandboxControl
) -> None:
    """The sandbox pushes the SMS and streams it as an SMS event: one message."""
    received = async_capture_events(hass, EVENT_SMS_RECEIVED)

    await control.send_from_sim(GARDEN_GATE, "Gate opened")
    await until(both_channels_done(control, streamed=1))
    await hass.async_block_till_done()

    [pushed] = [
        sms for sms in await control.all_sms() if sms["sms_type"]["description"] == "MO"
    ]
    assert [(event.data["text"], event.data["sms_id"]) for event in received] == [
        ("Gate opened", str(pushed["id"]))
    ]


@pytest.mark.usefixtures("entry", "streams")
async def test_a_delivery_report_by_forwarder_and_streamer_fires_once(
    hass: HomeAssistant, control: SandboxControl
) -> None:
    """The report is pushed and streamed; `one_nce_delivery_report` fires once."""
    reports = async_capture_events(hass, EVENT_DELIVERY_REPORT)

    sms_id = await send(hass, GARDEN_GATE, "Gate: open")
    await until(both_channels_done(control, streamed=1))
    await hass.async_block_till_done()

    assert [(event.data["status"], event.data["sms_id"]) for event in reports] == [
        ("delivered", sms_id)
    ]


# --- a hybrid account ----------------------------------------------------------


@pytest.mark.parametrize("control", [PlatformMode.HYBRID], indirect=True)
async def test_a_hybrid_account_sets_up_with_every_sims_entities(
    hass: HomeAssistant,
    control: SandboxControl,
    hass_client_no_auth: ClientSessionGenerator,
    entity_registry: er.EntityRegistry,
) -> None:
    """SIMs 1-3 on Platform 1.0, 4-6 on 2.0 (v1 404): each has the same entities."""
    entry = await _setup(hass, control, hass_client_no_auth, PLATFORMS)

    keys: dict[str, set[str]] = {}
    unavailable: list[str] = []
    for entity in er.async_entries_for_config_entry(entity_registry, entry.entry_id):
        iccid, _, key = entity.unique_id.partition("_")
        if iccid not in SIMS:
            continue
        keys.setdefault(iccid, set()).add(key)
        state = hass.states.get(entity.entity_id)
        if entity.disabled_by is None and (
            state is None or state.state == STATE_UNAVAILABLE
        ):
            unavailable.append(entity.entity_id)
    await _unload(hass, entry)

    platforms = [control.server.app[SANDBOX].fleet[iccid].platform for iccid in SIMS]
    assert platforms == [1] * 3 + [2] * 3
    assert sorted(keys) == SIMS
    assert all(keys[iccid] == keys[SIMS[0]] for iccid in SIMS)
    assert {"sms_volume", "network_event", "incoming_sms", "sms_delivery"} <= keys[
        SIMS[0]
    ]
    assert unavailable == []
