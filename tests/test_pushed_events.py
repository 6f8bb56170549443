"""Network events the Data Streamer pushes: a SIM's state changes at once.

The receiving side hands each new event of a SIM to
`DetailsCoordinator.async_apply_network_event`; these tests hand them over
the same way and look at what the user sees: the SIM's *Connection status*,
*Last network event* and *SIM enabled* entities, and what it cost 1NCE.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)
from yarl import URL

from custom_components.one_nce.api.records import (
    NetworkEvent,
    NetworkEventType,
    QuotaService,
)
from custom_components.one_nce.coordinator import DetailsCoordinator
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant

from .conftest import (
    FLEET_ICCIDS,
    SIMS_URL,
    TOKEN_URL,
    USAGE_URL_PATTERN,
    answer_details,
    answer_limits,
    load_json,
    setup_integration,
    sim_url,
)

START = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
# When the `details` fixture is done: set up at START, event logs read a
# minute later. Events are timed from here.
BASE = START + timedelta(seconds=61)
pytestmark = [
    pytest.mark.freeze_time(START),
    pytest.mark.usefixtures("no_rate_limit", "entity_registry_enabled_by_default"),
]

ICCID = FLEET_ICCIDS[0]
SIM = "sensor.garden_gate"
CONNECTION = f"{SIM}_connection_status"
RADIO = f"{SIM}_radio_access_type"
LAST_EVENT = f"{SIM}_last_network_event"
SMS_LEFT = f"{SIM}_sms_volume_left"
ENABLED = "switch.garden_gate_sim_enabled"


class Sim1:
    """1NCE's answers for SIM 1's details, changeable, and holdable mid-flight."""

    def __init__(self) -> None:
        self.status: dict[str, Any] = load_json("status_1.json")
        self.sms_quota: dict[str, Any] = load_json("quota_sms_1.json")
        self.gate: asyncio.Event | None = None
        self.held = asyncio.Event()
        self.list_gate: asyncio.Event | None = None
        self.list_held = asyncio.Event()

    def install(self, aioclient_mock: AiohttpClientMocker) -> None:
        for path in ("/status", "/quota/sms"):
            aioclient_mock.get(sim_url(ICCID, path), side_effect=self.answer)
        aioclient_mock.get(
            sim_url(ICCID, "/quota/data"), json=load_json("quota_data_1.json")
        )
        aioclient_mock.get(sim_url(ICCID, "/events"), json=load_json("events.json"))

    async def sims(self, method: str, url: URL, data: Any) -> AiohttpClientMockResponse:
        body = load_json("sims.json")  # as it was when asked
        if self.list_gate is not None:
            self.list_held.set()
            await self.list_gate.wait()
        return AiohttpClientMockResponse(
            method, url, json=body, headers={"X-Total-Pages": "1"}
        )

    async def answer(
        self, method: str, url: URL, data: Any
    ) -> AiohttpClientMockResponse:
        if url.path.endswith("/status"):
            body = dict(self.status)  # as it was when asked
            if self.gate is not None:
                self.held.set()
                await self.gate.wait()
            return AiohttpClientMockResponse(method, url, json=body)
        return AiohttpClientMockResponse(method, url, json=dict(self.sms_quota))


@pytest.fixture
def sim1(aioclient_mock: AiohttpClientMocker) -> Sim1:
    """1NCE with the fixture fleet, SIM 1's details answered by `Sim1`."""
    aioclient_mock.post(TOKEN_URL, json=load_json("token.json"))
    sim = Sim1()
    aioclient_mock.get(SIMS_URL, side_effect=sim.sims)
    aioclient_mock.get(USAGE_URL_PATTERN, json=load_json("usage_unused.json"))
    answer_limits(aioclient_mock)
    sim.install(aioclient_mock)
    for number in (2, 3):
        answer_details(aioclient_mock, number)
    return sim


@pytest.fixture
async def details(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    sim1: Sim1,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> DetailsCoordinator:
    """The account loaded, every SIM's details and events read; no request since."""
    await setup_integration(hass, mock_config_entry, [Platform.SENSOR, Platform.SWITCH])
    await _wait(hass, freezer, timedelta(minutes=1))  # the event logs
    assert hass.states.get(CONNECTION).state == "online"
    aioclient_mock.mock_calls.clear()
    return mock_config_entry.runtime_data.details


async def _wait(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    freezer.tick(delta + timedelta(seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def event(
    kind: NetworkEventType,
    seconds: float,
    *,
    iccid: str = ICCID,
    description: str | None = None,
    **fields: Any,
) -> NetworkEvent:
    """An event of SIM 1 `seconds` after the account was loaded (BASE)."""
    return NetworkEvent(
        record_id=str(1000 + int(seconds)),
        iccid=iccid,
        timestamp=BASE + timedelta(seconds=seconds),
        event_type=kind,
        type_id=None,
        description=description,
        **fields,
    )


async def push(
    hass: HomeAssistant, details: DetailsCoordinator, events: Iterable[NetworkEvent]
) -> None:
    for pushed in events:
        details.async_apply_network_event(pushed)
    await hass.async_block_till_done(wait_background_tasks=True)


def requests(aioclient_mock: AiohttpClientMocker) -> list[str]:
    return [url.path for _, url, _, _ in aioclient_mock.mock_calls]


@pytest.mark.parametrize(
    ("events", "connection", "radio"),
    [
        # The session closes: 1NCE's status says ATTACHED until the network
        # reports the SIM inactive; the radio belongs to the session.
        ([NetworkEventType.PDP_CONTEXT_DELETED], "attached", STATE_UNKNOWN),
        # ... and opens again.
        (
            [
                NetworkEventType.PDP_CONTEXT_DELETED,
                NetworkEventType.PDP_CONTEXT_CREATED,
            ],
            "online",
            "LTE",
        ),
        ([NetworkEventType.BLOCKED], "blocked", STATE_UNKNOWN),
        # Seen by the network after a block: still blocked until a session opens.
        (
            [NetworkEventType.BLOCKED, NetworkEventType.LOCATION_UPDATE],
            "blocked",
            STATE_UNKNOWN,
        ),
        (
            [NetworkEventType.PDP_CONTEXT_DELETED, NetworkEventType.ATTACH],
            "attached",
            STATE_UNKNOWN,
        ),
        # A location update during a session leaves it open.
        ([NetworkEventType.LOCATION_UPDATE], "online", "4G"),
    ],
)
async def test_pushed_events_set_the_connection_without_a_request(
    hass: HomeAssistant,
    details: DetailsCoordinator,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
    events: list[NetworkEventType],
    connection: str,
    radio: str,
) -> None:
    created = NetworkEventType.PDP_CONTEXT_CREATED
    freezer.tick(timedelta(seconds=30))
    await push(
        hass,
        details,
        (
            event(kind, 10 + index, rat="LTE" if kind is created else None)
            for index, kind in enumerate(events)
        ),
    )

    assert hass.states.get(CONNECTION).state == connection
    assert hass.states.get(RADIO).state == radio
    assert requests(aioclient_mock) == []


async def test_the_last_event_shows_the_pushed_event_where_and_when(
    hass: HomeAssistant,
    details: DetailsCoordinator,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.tick(timedelta(seconds=30))
    await push(
        hass,
        details,
        [
            event(
                NetworkEventType.PDP_CONTEXT_CREATED,
                20,
                description="Create PDP Context",
                operator="Vodafone",
                country="Germany",
            )
        ],
    )

    state = hass.states.get(LAST_EVENT)
    assert state.state == "Create PDP Context"
    assert state.attributes["time"] == BASE + timedelta(seconds=20)
    assert state.attributes["operator"] == "Vodafone"
    assert hass.states.get(f"{SIM}_network_operator").state == "Vodafone"
    # Platform 2.0 streams send ids only: the event still reads as 1NCE names it.
    await push(hass, details, [event(NetworkEventType.PDP_CONTEXT_DELETED, 25)])
    assert hass.states.get(LAST_EVENT).state == "Delete PDP Context"
    assert requests(aioclient_mock) == []


async def test_an_event_older_than_what_is_shown_changes_nothing(
    hass: HomeAssistant,
    details: DetailsCoordinator,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Events arrive in any order; a late one neither undoes a newer one nor
    what a poll read after it happened."""
    freezer.tick(timedelta(seconds=40))
    await push(hass, details, [event(NetworkEventType.PDP_CONTEXT_CREATED, 30)])
    await push(
        hass,
        details,
        [
            event(NetworkEventType.PDP_CONTEXT_DELETED, 20),  # before the one shown
            event(NetworkEventType.BLOCKED, -90),  # before the status was read
            event(
                NetworkEventType.QUOTA_USED_UP,
                -70,
                quota_service=QuotaService.SMS,
            ),  # before the quota was read
        ],
    )

    assert hass.states.get(CONNECTION).state == "online"
    last = hass.states.get(LAST_EVENT)
    assert last.attributes["time"] == BASE + timedelta(seconds=30)
    assert requests(aioclient_mock) == []


async def test_a_read_on_its_way_does_not_undo_a_newer_pushed_event(
    hass: HomeAssistant,
    details: DetailsCoordinator,
    sim1: Sim1,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The status read was sent before the session closed, and answers after
    the event said so: the event's state stays; the read's quotas are taken."""
    sim1.gate = asyncio.Event()
    sim1.sms_quota["volume"] = 60
    details.request_soon(ICCID)
    freezer.tick(timedelta(minutes=1, seconds=1))
    async_fire_time_changed(hass)
    await sim1.held.wait()
    freezer.tick(timedelta(seconds=5))

    # Not `push`: waiting for everything to finish would wait for the read.
    details.async_apply_network_event(event(NetworkEventType.PDP_CONTEXT_DELETED, 65))
    assert hass.states.get(CONNECTION).state == "attached"
    sim1.gate.set()
    await hass.async_block_till_done(wait_background_tasks=True)

    assert details.data[ICCID].connectivity.status_text == "ATTACHED"
    assert hass.states.get(CONNECTION).state == "attached"
    assert hass.states.get(SMS_LEFT).state == "60.0"
    assert sorted(requests(aioclient_mock)) == sorted(
        URL(sim_url(ICCID, path)).path
        for path in ("/quota/sms", "/quota/data", "/status", "/events")
    )


async def test_a_quota_event_reads_that_quota_at_once_and_nothing_else(
    hass: HomeAssistant,
    details: DetailsCoordinator,
    sim1: Sim1,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    sim1.sms_quota["volume"] = 0
    freezer.tick(timedelta(seconds=20))
    await push(
        hass,
        details,
        [
            event(
                NetworkEventType.QUOTA_USED_UP,
                10,
                description="SMS quota used up",
                quota_service=QuotaService.SMS,
                quota_left=0,
            )
        ],
    )

    assert [path.rpartition(ICCID)[2] for path in requests(aioclient_mock)] == [
        "/quota/sms"
    ]
    assert hass.states.get(SMS_LEFT).state == "0.0"
    assert hass.states.get(LAST_EVENT).state == "SMS quota used up"
    assert hass.states.get(CONNECTION).state == "online"


async def test_a_pushed_disable_shows_the_sim_disabled_until_the_list_says_more(
    hass: HomeAssistant,
    details: DetailsCoordinator,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    freezer.tick(timedelta(seconds=20))
    assert hass.states.get(ENABLED).state == STATE_ON
    await push(hass, details, [event(NetworkEventType.SIM_DISABLED, 10)])

    assert hass.states.get(ENABLED).state == STATE_OFF
    assert requests(aioclient_mock) == []
    # A list read sent before the event is older than it; one sent after wins.
    await push(hass, details, [event(NetworkEventType.SIM_ENABLED, 5)])
    assert hass.states.get(ENABLED).state == STATE_OFF
    await _wait(hass, freezer, timedelta(minutes=15))
    assert hass.states.get(ENABLED).state == STATE_ON
    # An event from before the list read changes nothing.
    await push(hass, details, [event(NetworkEventType.SIM_DISABLED, 30)])
    assert hass.states.get(ENABLED).state == STATE_ON


async def test_a_list_read_on_its_way_does_not_undo_a_newer_pushed_disable(
    hass: HomeAssistant,
    details: DetailsCoordinator,
    sim1: Sim1,
    freezer: FrozenDateTimeFactory,
) -> None:
    sim1.list_gate = asyncio.Event()
    freezer.tick(timedelta(minutes=15))
    async_fire_time_changed(hass)
    await sim1.list_held.wait()
    freezer.tick(timedelta(seconds=5))

    details.async_apply_network_event(event(NetworkEventType.SIM_DISABLED, 15 * 60 + 3))
    assert hass.states.get(ENABLED).state == STATE_OFF
    sim1.list_gate.set()
    await hass.async_block_till_done(wait_background_tasks=True)

    assert hass.states.get(ENABLED).state == STATE_OFF


async def test_a_sim_the_list_lacks_has_the_list_read_once(
    hass: HomeAssistant,
    details: DetailsCoordinator,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A new SIM (or one the last list missed) is looked up in one list read,
    however many of its events arrive."""
    stranger = "8988228066000000099"
    freezer.tick(timedelta(seconds=20))
    await push(
        hass,
        details,
        [
            event(NetworkEventType.ATTACH, 10, iccid=stranger),
            event(NetworkEventType.PDP_CONTEXT_CREATED, 12, iccid=stranger),
        ],
    )
    details.async_note_streamed_usage([])

    assert requests(aioclient_mock) == [URL(SIMS_URL).path]
