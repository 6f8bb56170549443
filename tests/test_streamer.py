"""The Data Streamer's address: what 1NCE's batches get as an answer, what is handed on.

Every test talks to Home Assistant's real HTTP server, with the integration
set up the way a user has it (the event and sensor platforms).
"""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus
import json
import time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.one_nce.api import ConnectivityStatus
from custom_components.one_nce.api.records import (
    NetworkEvent,
    NetworkEventType,
    UsageKind,
    UsageRecord,
)
from custom_components.one_nce.const import (
    CONF_FORWARDER_SECRET,
    CONF_STREAMER_PASSWORD,
    DOMAIN,
    EVENT_DELIVERY_REPORT,
    EVENT_NETWORK_EVENT,
    EVENT_SMS_RECEIVED,
)
from custom_components.one_nce.receiving.announce import network_event_signal
from custom_components.one_nce.receiving.streamer import StreamKind
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_CLIENT_ID
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.setup import async_setup_component

from .conftest import find_device, load_json
from .forwarder_common import (
    FOREIGN_ICCID,
    GARDEN_GATE,
    answer_account,
    delivery_report,
    mo_sms,
    push,
    reload_receiving,
    setup_receiving,
)
from .streamer_common import (
    NETWORK_EVENT,
    an_hour_ago,
    credential,
    data_usage,
    pdp_event,
    quota_event,
    sms_usage,
    stream,
    streamer_path,
)

pytestmark = pytest.mark.usefixtures("mock_details")

RECORDS = "sensor.1nce_account_streamer_records_received"
DUPLICATES = "sensor.1nce_account_streamer_duplicates"
REJECTED = "sensor.1nce_account_streamer_rejected_requests"
UNREADABLE = "sensor.1nce_account_streamer_unreadable_records"
LAST_REQUEST = "sensor.1nce_account_streamer_last_seen"


@pytest.fixture
async def entry(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> MockConfigEntry:
    """The account, loaded (and migrated: it was made before the streamer)."""
    await setup_receiving(hass, mock_config_entry)
    return mock_config_entry


@pytest.fixture
async def client(hass_client_no_auth: ClientSessionGenerator) -> object:
    """An HTTP client without Home Assistant credentials, as 1NCE is."""
    return await hass_client_no_auth()


@pytest.fixture
def usage_batches(entry: MockConfigEntry) -> list[list[UsageRecord]]:
    """Every batch of new usage records the entry hands on."""
    batches: list[list[UsageRecord]] = []
    entry.async_on_unload(
        entry.runtime_data.receiver.streamer.async_add_usage_listener(batches.append)
    )
    return batches


def listen_usage(entry: MockConfigEntry) -> list[list[UsageRecord]]:
    """Follow the (re)loaded entry's usage hand-on."""
    batches: list[list[UsageRecord]] = []
    entry.async_on_unload(
        entry.runtime_data.receiver.streamer.async_add_usage_listener(batches.append)
    )
    return batches


def answer_account_again(aioclient_mock: AiohttpClientMocker) -> None:
    """Answer everything else as before (the first matching answer wins)."""
    from .conftest import SIMS_URL, TOKEN_URL, answer_details  # noqa: PLC0415

    aioclient_mock.post(TOKEN_URL, json=load_json("token.json"))
    aioclient_mock.get(
        SIMS_URL, json=load_json("sims.json"), headers={"X-Total-Pages": "1"}
    )
    for number in (1, 2, 3):
        answer_details(aioclient_mock, number)


def ids(batches: list[list[UsageRecord]]) -> list[str]:
    return [record.record_id for batch in batches for record in batch]


async def settle(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Let the health sensors write what they held back (at most every 5 s)."""
    freezer.tick(timedelta(seconds=6))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()


# --- the credential ----------------------------------------------------------


@pytest.mark.parametrize("form", ["basic", "bare", "lower"])
async def test_the_entrys_credential_is_accepted_with_or_without_basic(
    hass: HomeAssistant, entry: MockConfigEntry, client, usage_batches, form: str
) -> None:
    """1NCE may or may not put "Basic " in front of what was pasted."""
    authorization = f"basic {credential(entry)}" if form == "lower" else form
    response = await stream(client, entry, [data_usage(1)], authorization=authorization)

    assert response.status == HTTPStatus.OK
    assert ids(usage_batches) == ["1"]


@pytest.mark.parametrize(
    "authorization",
    [None, "Basic b25lX25jZTp3cm9uZw==", "Bearer x", "Basic ", ""],
    ids=["missing", "wrong", "other scheme", "empty basic", "empty"],
)
async def test_a_wrong_or_missing_credential_answers_401(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client,
    usage_batches,
    authorization: str | None,
) -> None:
    """Nothing is taken in without the entry's credential."""
    response = await stream(client, entry, [data_usage(1)], authorization=authorization)

    assert response.status == HTTPStatus.UNAUTHORIZED
    assert usage_batches == []


async def test_another_entrys_credential_answers_401(
    hass: HomeAssistant, entry: MockConfigEntry, client, usage_batches
) -> None:
    """The credential belongs to its address: another loaded entry's fails."""
    other = MockConfigEntry(
        domain=DOMAIN,
        title="Other 1NCE",
        unique_id="other-client",
        data={
            key: value
            for key, value in entry.data.items()
            if key not in (CONF_FORWARDER_SECRET, CONF_STREAMER_PASSWORD)
        }
        | {CONF_CLIENT_ID: "other-client"},
    )
    await setup_receiving(hass, other)
    assert other.state is ConfigEntryState.LOADED
    assert other.data[CONF_STREAMER_PASSWORD] != entry.data[CONF_STREAMER_PASSWORD]
    other_batches = listen_usage(other)

    response = await client.post(
        streamer_path(entry),
        json=[data_usage(1)],
        headers={"Authorization": f"Basic {credential(other)}"},
    )
    own = await stream(client, other, [data_usage(2)])

    assert response.status == HTTPStatus.UNAUTHORIZED
    assert usage_batches == []
    assert own.status == HTTPStatus.OK
    assert ids(other_batches) == ["2"]


# --- the other answers -------------------------------------------------------


async def test_an_unknown_address_answers_404(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    """A secret no entry has is not found, whatever credential comes with it."""
    secret = entry.data[CONF_FORWARDER_SECRET]
    response = await client.post(
        f"/api/one_nce/streamer/{secret[:-1]}",
        json=[data_usage(1)],
        headers={"Authorization": f"Basic {credential(entry)}"},
    )

    assert response.status == HTTPStatus.NOT_FOUND


async def test_an_unloaded_entry_answers_503_and_1nce_retries(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    """While the entry is not loaded nothing is stored, and 1NCE is told to retry."""
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()

    response = await stream(client, entry, [data_usage(1)])

    assert entry.state is ConfigEntryState.NOT_LOADED
    assert response.status == HTTPStatus.SERVICE_UNAVAILABLE


async def test_a_body_over_16_mib_answers_413(
    hass: HomeAssistant, entry: MockConfigEntry, client, usage_batches
) -> None:
    """The limit fits 3,000 records many times over, and no more."""
    body = b"[" + b" " * (16 * 1024 * 1024) + b"]"
    response = await client.post(
        streamer_path(entry),
        data=body,
        headers={
            "Authorization": f"Basic {credential(entry)}",
            "Content-Type": "application/json",
        },
    )

    assert response.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE


async def test_a_body_over_16_mib_without_its_length_answers_413(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    """A chunked body is counted as it arrives."""

    async def chunks() -> Any:
        yield b"["
        for _ in range(17):
            yield b" " * (1024 * 1024)
        yield b"]"

    response = await client.post(
        streamer_path(entry),
        data=chunks(),
        headers={"Authorization": f"Basic {credential(entry)}"},
    )

    assert response.status == HTTPStatus.REQUEST_ENTITY_TOO_LARGE


@pytest.mark.parametrize("body", [b"not json", b"[1, 2", b"42", b'"text"'])
async def test_a_body_that_is_no_batch_answers_400(
    hass: HomeAssistant, entry: MockConfigEntry, client, body: bytes
) -> None:
    """Neither JSON, nor an array or an object of records."""
    response = await client.post(
        streamer_path(entry),
        data=body,
        headers={"Authorization": f"Basic {credential(entry)}"},
    )

    assert response.status == HTTPStatus.BAD_REQUEST


async def test_no_answer_is_a_redirect(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    """The streamer follows no redirect: a trailing slash is not found, not moved."""
    response = await client.post(
        streamer_path(entry) + "/",
        json=[data_usage(1)],
        headers={"Authorization": f"Basic {credential(entry)}"},
        allow_redirects=False,
    )

    assert not 300 <= response.status < 400


# --- de-duplication ------------------------------------------------------------


async def test_a_batch_of_3000_records_is_acknowledged_and_handed_on_once(
    hass: HomeAssistant, entry: MockConfigEntry, client, usage_batches
) -> None:
    """1NCE's largest batch: every record stored, then handed on in one call."""
    batch = [data_usage(record_id, mib=0.001) for record_id in range(1, 3001)]

    started = time.perf_counter()
    response = await stream(client, entry, batch)
    elapsed = time.perf_counter() - started

    assert response.status == HTTPStatus.OK
    assert len(usage_batches) == 1
    assert sorted(int(record_id) for record_id in ids(usage_batches)) == list(
        range(1, 3001)
    )
    assert all(record.kind is UsageKind.DATA for record in usage_batches[0])
    print(f"3,000 records: {len(json.dumps(batch))} bytes, {elapsed:.3f} s")


async def test_a_retransmitted_batch_is_handed_on_once(
    hass: HomeAssistant, entry: MockConfigEntry, client, usage_batches
) -> None:
    """1NCE resends a batch it did not hear 200 for: the copy adds nothing."""
    batch = [data_usage(1), data_usage(2), sms_usage(3)]

    first = await stream(client, entry, batch)
    again = await stream(client, entry, batch)

    assert (first.status, again.status) == (HTTPStatus.OK, HTTPStatus.OK)
    assert ids(usage_batches) == ["1", "2", "3"]


async def test_records_in_any_order_are_each_handed_on_once(
    hass: HomeAssistant, entry: MockConfigEntry, client, usage_batches
) -> None:
    """Batches overlap and come in any order; only what is new goes on."""
    await stream(client, entry, [data_usage(3), data_usage(1)])
    await stream(client, entry, [data_usage(2), data_usage(1), data_usage(2)])
    await stream(client, entry, [data_usage(4), data_usage(3)])

    assert ids(usage_batches) == ["3", "1", "2", "4"]


async def test_the_same_id_of_usage_and_of_an_event_are_different_records(
    hass: HomeAssistant, entry: MockConfigEntry, client, usage_batches
) -> None:
    """Ids are de-duplicated per kind: 1NCE does not say they are unique across."""
    events = async_capture_events(hass, EVENT_NETWORK_EVENT)

    await stream(client, entry, [data_usage(7), pdp_event(7)])

    assert ids(usage_batches) == ["7"]
    assert len(events) == 1


async def test_what_was_handed_on_stays_known_across_a_reload(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    """A batch resent after a restart of the entry is still a copy."""
    await stream(client, entry, [data_usage(1), pdp_event(2)])
    await reload_receiving(hass, entry)
    batches = listen_usage(entry)
    events = async_capture_events(hass, EVENT_NETWORK_EVENT)

    response = await stream(client, entry, [data_usage(1), pdp_event(2), data_usage(3)])

    assert response.status == HTTPStatus.OK
    assert ids(batches) == ["3"]
    assert events == []


async def test_ids_are_forgotten_after_9_days(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client,
    usage_batches,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Longer than the 7 days a new stream replays; not for ever."""
    await stream(client, entry, [data_usage(1)])
    freezer.tick(timedelta(days=9, hours=2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()

    await stream(client, entry, [data_usage(1)])

    assert ids(usage_batches) == ["1", "1"]


async def test_unreadable_and_unknown_records_are_acknowledged_and_counted(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client,
    usage_batches,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Retrying could never help them: 200, counted, and the rest goes on."""
    batch = [
        "not a record",
        {"id": 5},
        data_usage(6, sim={"iccid": "no ICCID"}, endpoint={}),
        data_usage(7, traffic_type={"id": 99, "description": "Video"}),
        data_usage(8),
    ]

    response = await stream(client, entry, batch)
    await settle(hass, freezer)

    assert response.status == HTTPStatus.OK
    assert ids(usage_batches) == ["8"]
    assert hass.states.get(UNREADABLE).state == "4"
    assert hass.states.get(RECORDS).state == "1"


async def test_records_of_sims_not_in_the_account_are_dropped(
    hass: HomeAssistant, entry: MockConfigEntry, client, usage_batches
) -> None:
    """Another account's SIM is not ours to count, even after a fresh SIM list."""
    foreign = {"id": 1, "iccid": FOREIGN_ICCID}
    events = async_capture_events(hass, EVENT_NETWORK_EVENT)

    response = await stream(
        client,
        entry,
        [
            data_usage(1, sim=foreign, endpoint={"name": FOREIGN_ICCID}),
            pdp_event(2, sim=foreign, endpoint={"name": FOREIGN_ICCID}),
            data_usage(3),
        ],
    )
    diagnostics = entry.runtime_data.receiver.streamer.health.as_dict()

    assert response.status == HTTPStatus.OK
    assert ids(usage_batches) == ["3"]
    assert events == []
    assert diagnostics["foreign"] == 2


# --- SMS -----------------------------------------------------------------------


async def test_an_sms_by_forwarder_and_streamer_fires_one_event(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    """Both channels bring the same MO SMS: it is one message."""
    received = async_capture_events(hass, EVENT_SMS_RECEIVED)

    by_forwarder = await push(client, entry, mo_sms())
    by_streamer = await stream(client, entry, [mo_sms()])
    again = await stream(client, entry, [mo_sms(id=6203, payload="Gate closed")])

    assert (by_forwarder.status, by_streamer.status) == (HTTPStatus.OK, HTTPStatus.OK)
    assert again.status == HTTPStatus.OK
    assert [event.data["text"] for event in received] == ["Gate opened", "Gate closed"]


async def test_an_sms_by_streamer_first_is_not_repeated_by_the_forwarder(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    """Whichever channel is first, the other adds nothing."""
    received = async_capture_events(hass, EVENT_SMS_RECEIVED)

    await stream(client, entry, [mo_sms()])
    await push(client, entry, mo_sms())

    assert len(received) == 1
    assert received[0].data["iccid"] == GARDEN_GATE


async def test_a_delivery_report_by_both_channels_fires_one_event(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    """A delivery report (Platform 1.0 shape) the forwarder brought is known."""
    reports = async_capture_events(hass, EVENT_DELIVERY_REPORT)

    await stream(client, entry, [delivery_report()])
    await push(client, entry, delivery_report(), method="PATCH")
    await stream(client, entry, [delivery_report()])

    assert [event.data["status"] for event in reports] == ["delivered"]


async def test_a_platform_2_delivery_report_fires_under_the_sms_id(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    """detail.sms.id names the SMS, the report's own id is kept; ISO Z dates."""
    reports = async_capture_events(hass, EVENT_DELIVERY_REPORT)
    body = load_json("forwarder_delivery_report_p2.json")

    response = await stream(client, entry, [body])
    await push(client, entry, body, method="PATCH")

    assert response.status == HTTPStatus.OK
    assert [
        (event.data["sms_id"], event.data["report_id"], event.data["status"])
        for event in reports
    ] == [("551734281731175386", "775120394", "delivered")]


async def test_an_sms_of_another_organisation_is_dropped(
    hass: HomeAssistant, entry: MockConfigEntry, client, aioclient_mock
) -> None:
    """The forwarder's rule holds for the streamer: other accounts' SMS stay out."""
    answer_account(aioclient_mock, token="token_with_organisation.json")
    await reload_receiving(hass, entry)
    received = async_capture_events(hass, EVENT_SMS_RECEIVED)

    response = await stream(client, entry, [mo_sms(organisation={"id": 1})])

    assert response.status == HTTPStatus.OK
    assert received == []


# --- network events --------------------------------------------------------------


async def test_a_network_event_shows_on_the_sim_and_fires_a_bus_event(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    """The entity's state and attributes, the bus event, the signal, the listener."""
    bus = async_capture_events(hass, EVENT_NETWORK_EVENT)
    signalled: list[NetworkEvent] = []
    listened: list[NetworkEvent] = []
    entry.async_on_unload(
        async_dispatcher_connect(
            hass, network_event_signal(entry.entry_id, GARDEN_GATE), signalled.append
        )
    )
    entry.async_on_unload(
        entry.runtime_data.receiver.streamer.async_add_event_listener(listened.append)
    )

    await stream(client, entry, [pdp_event(11)])
    await hass.async_block_till_done()

    state = hass.states.get(NETWORK_EVENT)
    assert state.attributes["event_type"] == "pdp_context_created"
    assert state.attributes["operator"] == "Vodafone"
    assert state.attributes["country"] == "Germany"
    assert state.attributes["alert"] is False
    device = find_device(hass, (DOMAIN, GARDEN_GATE))
    assert len(bus) == 1
    assert bus[0].data["device_id"] == device.id
    assert bus[0].data["iccid"] == GARDEN_GATE
    assert bus[0].data["event_type"] == NetworkEventType.PDP_CONTEXT_CREATED
    assert bus[0].data["type_id"] == 3
    assert bus[0].data["operator"] == "Vodafone"
    assert [event.record_id for event in signalled] == ["11"]
    assert [event.record_id for event in listened] == ["11"]


async def test_a_quota_event_carries_what_is_left(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    """Quota used up: an alert, the service and the (negative) volume left."""
    bus = async_capture_events(hass, EVENT_NETWORK_EVENT)

    await stream(client, entry, [quota_event(12)])

    assert hass.states.get(NETWORK_EVENT).attributes["event_type"] == "quota_used_up"
    assert bus[0].data["alert"] is True
    assert bus[0].data["quota_service"] == "data"
    assert bus[0].data["quota_left"] < 0


async def test_an_event_older_than_an_hour_fires_nothing_and_stays_known(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    """Replayed history updates nothing live, and never later either."""
    bus = async_capture_events(hass, EVENT_NETWORK_EVENT)
    listened: list[NetworkEvent] = []
    entry.async_on_unload(
        entry.runtime_data.receiver.streamer.async_add_event_listener(listened.append)
    )
    old = pdp_event(13, at=an_hour_ago())

    first = await stream(client, entry, [old])
    again = await stream(client, entry, [old])

    assert (first.status, again.status) == (HTTPStatus.OK, HTTPStatus.OK)
    assert bus == []
    assert listened == []
    assert hass.states.get(NETWORK_EVENT).state == "unknown"
    health = entry.runtime_data.receiver.streamer.health
    assert (health.records, health.duplicates) == (1, 1)


async def test_events_of_a_batch_are_announced_oldest_first(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    """The entity ends on the latest event, whatever order the batch had."""
    bus = async_capture_events(hass, EVENT_NETWORK_EVENT)

    await stream(
        client, entry, [quota_event(21), pdp_event(20, at=an_hour_ago(minutes=30))]
    )

    assert [event.data["type_id"] for event in bus] == [3, 19]
    assert hass.states.get(NETWORK_EVENT).attributes["event_type"] == "quota_used_up"


async def test_a_failing_listener_does_not_fail_the_batch(
    hass: HomeAssistant, entry: MockConfigEntry, client, usage_batches
) -> None:
    """The records are stored: a consumer's bug must not make 1NCE resend."""

    def broken(_: Any) -> None:
        raise RuntimeError("consumer bug")

    streamer = entry.runtime_data.receiver.streamer
    entry.async_on_unload(streamer.async_add_usage_listener(broken))
    entry.async_on_unload(streamer.async_add_event_listener(broken))

    response = await stream(client, entry, [data_usage(1), pdp_event(2)])

    assert response.status == HTTPStatus.OK
    assert ids(usage_batches) == ["1"]


async def test_a_removed_listener_hears_nothing_more(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    """The callback a listener gets ends its subscription."""
    heard: list[Any] = []
    streamer = entry.runtime_data.receiver.streamer
    remove_usage = streamer.async_add_usage_listener(heard.append)
    remove_events = streamer.async_add_event_listener(heard.append)
    remove_usage()
    remove_events()

    await stream(client, entry, [data_usage(1), pdp_event(2)])

    assert heard == []


# --- health --------------------------------------------------------------------


async def test_health_sensors_count_records_duplicates_and_refusals(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The account device shows how the streamer has been doing."""
    await stream(client, entry, [data_usage(1), data_usage(2)])
    await stream(client, entry, [data_usage(2), data_usage(3)])
    await stream(client, entry, [data_usage(4)], authorization="Basic wrong")
    await settle(hass, freezer)

    assert hass.states.get(RECORDS).state == "3"
    assert hass.states.get(DUPLICATES).state == "1"
    assert hass.states.get(REJECTED).state == "1"
    assert hass.states.get(UNREADABLE).state == "0"
    assert hass.states.get(LAST_REQUEST).state not in ("unknown", "unavailable")


async def test_delivering_tells_which_stream_kinds_are_alive(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Others ask whether usage arrives by stream (so polling can hold back)."""
    streamer = entry.runtime_data.receiver.streamer
    assert not streamer.delivering(StreamKind.USAGE)

    await stream(client, entry, [data_usage(1)])

    assert streamer.delivering(StreamKind.USAGE)
    assert not streamer.delivering(StreamKind.EVENTS)
    freezer.tick(timedelta(days=1, minutes=1))
    assert not streamer.delivering(StreamKind.USAGE)
    assert streamer.delivering(StreamKind.USAGE, within=timedelta(days=2))


# --- repair issue --------------------------------------------------------------


def silent_issue(hass: HomeAssistant, entry: MockConfigEntry, kind: str) -> Any:
    return ir.async_get(hass).async_get_issue(
        DOMAIN, f"streamer_silent_{kind}_{entry.entry_id}"
    )


async def pass_time(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    """Let time pass an hour at a time, as the hourly check sees it."""
    step = timedelta(hours=1)
    while delta > timedelta(0):
        freezer.tick(min(step, delta))
        delta -= step
        async_fire_time_changed(hass)
        await hass.async_block_till_done()


async def test_a_stream_silent_for_a_day_raises_an_issue_until_records_come(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A stream that delivered, then a day without, while a SIM is online."""
    await stream(client, entry, [data_usage(1)])
    await pass_time(hass, freezer, timedelta(hours=23))
    assert silent_issue(hass, entry, "usage") is None

    await pass_time(hass, freezer, timedelta(hours=2))

    issue = silent_issue(hass, entry, "usage")
    assert issue is not None
    assert issue.translation_key == "streamer_silent_usage"
    # The event stream never delivered: it is not configured, nothing to say.
    assert silent_issue(hass, entry, "events") is None

    await stream(client, entry, [data_usage(1)])

    assert silent_issue(hass, entry, "usage") is None


async def test_no_issue_while_no_sim_is_online(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A quiet fleet sends nothing: silence is no fault then.

    The garden gate's data session ends (pushed), so no SIM is online; the
    other fixture SIMs are not online either.
    """
    ended = pdp_event(1, event_type={"id": 5, "description": "Delete PDP Context"})
    await stream(client, entry, [ended])

    await pass_time(hass, freezer, timedelta(hours=25))

    details = entry.runtime_data.details.data
    assert not [
        iccid
        for iccid, sim in details.items()
        if sim.connectivity.status is ConnectivityStatus.ONLINE
    ]
    assert silent_issue(hass, entry, "events") is None


async def test_the_issue_survives_an_unload_and_goes_with_the_entry(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Unloading does not fix a stream; removing the account ends the issue."""
    await stream(client, entry, [pdp_event(1)])
    await pass_time(hass, freezer, timedelta(hours=25))
    assert silent_issue(hass, entry, "events") is not None

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    assert silent_issue(hass, entry, "events") is not None

    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert silent_issue(hass, entry, "events") is None


async def test_a_silent_stream_is_noticed_after_a_restart(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The last delivery is stored: a reload does not forget the stream exists."""
    await stream(client, entry, [data_usage(1)])
    await reload_receiving(hass, entry)

    await pass_time(hass, freezer, timedelta(hours=25))

    assert silent_issue(hass, entry, "usage") is not None


# --- migration, diagnostics ------------------------------------------------------


async def test_an_entry_of_an_earlier_release_gets_a_credential(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """Entries made before the streamer (1.1) get a password once, kept after."""
    assert CONF_STREAMER_PASSWORD not in mock_config_entry.data
    await setup_receiving(hass, mock_config_entry)

    password = mock_config_entry.data[CONF_STREAMER_PASSWORD]
    assert mock_config_entry.minor_version == 2
    assert len(password) >= 32  # 192 bits, URL-safe
    await reload_receiving(hass, mock_config_entry)
    assert mock_config_entry.data[CONF_STREAMER_PASSWORD] == password


async def test_an_entry_of_a_later_major_version_is_not_loaded(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """A downgrade cannot read a newer entry: it stays unloaded, untouched."""
    newer = MockConfigEntry(
        domain=DOMAIN,
        title="1NCE",
        unique_id="newer",
        data=dict(mock_config_entry.data),
        version=2,
    )
    newer.add_to_hass(hass)

    assert not await hass.config_entries.async_setup(newer.entry_id)

    assert newer.state is ConfigEntryState.MIGRATION_ERROR
    assert CONF_STREAMER_PASSWORD not in newer.data


async def test_diagnostics_show_the_streamer_without_its_credential(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Counts and last deliveries are there; password and credential are not."""
    assert await async_setup_component(hass, "diagnostics", {})
    entry = mock_config_entry
    await setup_receiving(hass, entry)
    client = await hass_client_no_auth()
    await stream(client, entry, [data_usage(1), data_usage(1)])

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    assert diagnostics["streamer"]["requests"]["records"] == 1
    assert diagnostics["streamer"]["remembered_ids"] == 1
    assert diagnostics["streamer"]["last_delivery"]["events"] is None
    assert diagnostics["streamer"]["last_delivery"]["usage"] is not None
    dumped = json.dumps(diagnostics)
    assert entry.data[CONF_STREAMER_PASSWORD] not in dumped
    assert credential(entry) not in dumped


async def test_a_storage_failure_answers_503(
    hass: HomeAssistant, entry: MockConfigEntry, client, usage_batches
) -> None:
    """Nothing stored, nothing acknowledged: 1NCE sends the batch again."""
    from unittest.mock import patch  # noqa: PLC0415

    with patch(
        "custom_components.one_nce.receiving.journal._append",
        side_effect=OSError("disk full"),
    ):
        failed = await stream(client, entry, [data_usage(1)])
    retried = await stream(client, entry, [data_usage(1)])

    assert failed.status == HTTPStatus.SERVICE_UNAVAILABLE
    assert retried.status == HTTPStatus.OK
    assert ids(usage_batches) == ["1"]


async def test_a_sim_list_that_cannot_load_answers_503(
    hass: HomeAssistant, no_sleep: None, entry: MockConfigEntry, client, aioclient_mock
) -> None:
    """Whether an unknown SIM is ours cannot be told: 1NCE retries later."""
    answer_account(aioclient_mock, sims_status=500)
    entry.runtime_data.fleet.last_update_success = False
    foreign = {"id": 1, "iccid": FOREIGN_ICCID}

    response = await stream(
        client, entry, [data_usage(1, sim=foreign, endpoint={"name": FOREIGN_ICCID})]
    )

    assert response.status == HTTPStatus.SERVICE_UNAVAILABLE


async def test_a_batch_whose_sms_could_not_be_stored_still_hands_on_its_usage(
    hass: HomeAssistant, entry: MockConfigEntry, client, usage_batches
) -> None:
    """The usage and events were stored: they are handed on, and the resend adds nothing."""
    from unittest.mock import patch  # noqa: PLC0415

    bus = async_capture_events(hass, EVENT_NETWORK_EVENT)
    received = async_capture_events(hass, EVENT_SMS_RECEIVED)
    inbox = entry.runtime_data.receiver.inbox
    batch = [data_usage(1), pdp_event(2), mo_sms()]

    with patch.object(inbox, "async_accept", side_effect=OSError("disk full")):
        failed = await stream(client, entry, batch)
    retried = await stream(client, entry, batch)

    assert failed.status == HTTPStatus.SERVICE_UNAVAILABLE
    assert retried.status == HTTPStatus.OK
    assert ids(usage_batches) == ["1"]
    assert [event.data["type_id"] for event in bus] == [3]
    assert len(received) == 1


async def test_a_batch_being_stored_when_the_entry_unloads_is_handed_on(
    hass: HomeAssistant, entry: MockConfigEntry, client, usage_batches
) -> None:
    """Unloading waits for a batch being stored: 200 means it was handed on."""
    import asyncio  # noqa: PLC0415

    streamer = entry.runtime_data.receiver.streamer
    store = streamer.records
    journal = store._journal
    real_write = journal.write
    reached = asyncio.Event()
    gate = asyncio.Event()

    async def held_write(record: Any, on_commit: Any) -> Any:
        reached.set()
        await gate.wait()
        return await real_write(record, on_commit)

    stopping = asyncio.Event()
    real_stop = getattr(streamer, "async_stop", None)

    async def stop() -> None:
        stopping.set()
        if real_stop is not None:
            await real_stop()

    journal.write = held_write
    streamer.async_stop = stop
    request = asyncio.ensure_future(stream(client, entry, [data_usage(1)]))
    await reached.wait()
    unload = asyncio.ensure_future(hass.config_entries.async_unload(entry.entry_id))
    # Until the unload waits for the batch, or is through without waiting.
    waiting = asyncio.ensure_future(stopping.wait())
    await asyncio.wait({unload, waiting}, return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    gate.set()
    response = await request
    assert await unload

    assert response.status == HTTPStatus.OK
    assert ids(usage_batches) == ["1"]


async def test_an_sms_replayed_by_a_new_stream_days_later_fires_nothing(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A new stream replays 7 days: an MO SMS the forwarder brought is known."""
    received = async_capture_events(hass, EVENT_SMS_RECEIVED)
    assert (await push(client, entry, mo_sms())).status == HTTPStatus.OK
    freezer.tick(timedelta(days=7))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()

    replayed = await stream(client, entry, [mo_sms()])

    assert replayed.status == HTTPStatus.OK
    assert len(received) == 1


# --- flat records, unreadable ones ---------------------------------------------


def _now_iso() -> str:
    from homeassistant.util import dt as dt_util  # noqa: PLC0415

    return dt_util.utcnow().isoformat().replace("+00:00", "Z")


async def test_flat_records_of_every_kind_are_taken_in(
    hass: HomeAssistant, entry: MockConfigEntry, client, usage_batches
) -> None:
    """The Platform 2.0 migration pages' flat shape: usage, event, MO SMS, report."""
    bus = async_capture_events(hass, EVENT_NETWORK_EVENT)
    received = async_capture_events(hass, EVENT_SMS_RECEIVED)
    reports = async_capture_events(hass, EVENT_DELIVERY_REPORT)
    flat = [
        {
            "id": "31",
            "start_timestamp": "2026-12-06T06:24:47.000Z",
            "end_timestamp": "2026-12-06T06:25:10.000Z",
            "traffic_type_id": 5,
            "volume_total": 1.0,
            "endpoint_name": GARDEN_GATE,
            "organisation_id": 4567,
        },
        {
            "id": "32",
            "timestamp": _now_iso(),
            "event_type_id": 3,
            "alert": False,
            "endpoint_name": GARDEN_GATE,
            "organisation_id": 4567,
        },
        {
            "id": 33,
            "payload": "Gate opened",
            "submit_date": "2026-12-06 07:01:00",
            "dest_address": "12345",
            "source_address": "882285100000001",
            "dcs": 0,
            "endpoint_id": 8765432,
            "endpoint_name": GARDEN_GATE,
            "organisation_id": 4567,
        },
        {
            "id": 34,
            "submit_date": "2026-12-06T08:00:00Z",
            "final_date": "2026-12-06T08:00:09Z",
            "endpoint_name": GARDEN_GATE,
            "organisation_id": 4567,
            "status_id": 4,
            "status_status": "DELIVERED",
            "detail_sms_id": "551734281731175386",
        },
    ]

    response = await stream(client, entry, flat)

    assert response.status == HTTPStatus.OK
    assert ids(usage_batches) == ["31"]
    assert [event.data["type_id"] for event in bus] == [3]
    assert [event.data["text"] for event in received] == ["Gate opened"]
    assert [
        (event.data["sms_id"], event.data["report_id"], event.data["status"])
        for event in reports
    ] == [("551734281731175386", "34", "delivered")]
    assert entry.runtime_data.receiver.streamer.health.unreadable == 0


def unreadable_event(record_id: int) -> dict[str, Any]:
    """An event whose timestamp cannot be read."""
    return {**pdp_event(record_id), "timestamp": "soon"}


async def test_why_records_were_unreadable_shows_in_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    mock_config_entry: MockConfigEntry,
) -> None:
    """The latest counts by reason (field names only) help find a new shape."""
    assert await async_setup_component(hass, "diagnostics", {})
    entry = mock_config_entry
    await setup_receiving(hass, entry)
    client = await hass_client_no_auth()
    await stream(client, entry, [unreadable_event(1), {"id": 2}])

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    assert diagnostics["streamer"]["requests"]["unreadable_reasons"] == {
        "timestamp: not a recognised date/time format": 1,
        "record is of no known kind": 1,
    }


async def test_a_stream_delivering_only_unreadable_records_raises_no_issue(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client,
    freezer: FrozenDateTimeFactory,
) -> None:
    """1NCE delivers, in a shape not understood: the stream has not gone quiet."""
    await stream(client, entry, [pdp_event(1)])
    for record_id in range(2, 5):
        await pass_time(hass, freezer, timedelta(hours=10))
        response = await stream(client, entry, [unreadable_event(record_id)])
        assert response.status == HTTPStatus.OK

    assert silent_issue(hass, entry, "events") is None


async def test_why_records_were_unreadable_is_logged_once_per_request(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One debug line a request names the reasons, never a value from the body."""
    caplog.set_level("DEBUG", logger="custom_components.one_nce")

    await stream(client, entry, [unreadable_event(1), unreadable_event(2)])

    lines = [
        record.getMessage()
        for record in caplog.records
        if "unreadable" in record.getMessage()
    ]
    assert len(lines) == 1
    assert "'timestamp: not a recognised date/time format': 2" in lines[0]
    assert "soon" not in lines[0]


async def test_a_huge_volume_costs_its_record_not_the_batch(
    hass: HomeAssistant, entry: MockConfigEntry, client, usage_batches
) -> None:
    """`volume.total` 1e308 is unreadable; the batch is acknowledged, no 500."""
    huge = data_usage(1, volume={"total": 1e308, "rx": 1.0, "tx": 0.5})

    response = await stream(client, entry, [huge, data_usage(2)])

    assert response.status == HTTPStatus.OK
    assert ids(usage_batches) == ["2"]


async def test_an_older_event_from_a_later_batch_leaves_the_entity_on_the_newer(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    """Batches come in any order: the entity shows the newest event and its time."""
    bus = async_capture_events(hass, EVENT_NETWORK_EVENT)
    newer = quota_event(21)

    await stream(client, entry, [newer])
    await stream(client, entry, [pdp_event(20, at=an_hour_ago(minutes=30))])

    state = hass.states.get(NETWORK_EVENT)
    assert state.attributes["event_type"] == "quota_used_up"
    assert state.attributes["timestamp"] == bus[0].data["timestamp"]
    assert [event.data["type_id"] for event in bus] == [19, 3]


async def test_the_entity_knows_the_event_it_showed_across_a_reload(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    """After a reload an older event still does not replace the one shown."""
    await stream(client, entry, [quota_event(21)])
    await reload_receiving(hass, entry)

    await stream(client, entry, [pdp_event(20, at=an_hour_ago(minutes=30))])

    assert hass.states.get(NETWORK_EVENT).attributes["event_type"] == "quota_used_up"


async def test_an_sms_only_batch_makes_no_stream_look_alive(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    """1NCE does not say which stream carries SMS: they show only the address in use."""
    streamer = entry.runtime_data.receiver.streamer

    response = await stream(client, entry, [mo_sms(), delivery_report()])

    assert response.status == HTTPStatus.OK
    assert not streamer.delivering(StreamKind.EVENTS)
    assert not streamer.delivering(StreamKind.USAGE)
    assert streamer.in_use()


async def test_a_downtime_of_over_a_day_raises_no_issue_at_startup(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client,
    freezer: FrozenDateTimeFactory,
) -> None:
    """After Home Assistant was down, 1NCE gets a day to deliver again."""
    await stream(client, entry, [data_usage(1)])
    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()
    freezer.tick(timedelta(days=3))

    await reload_receiving(hass, entry)
    assert silent_issue(hass, entry, "usage") is None
    await pass_time(hass, freezer, timedelta(hours=23))
    assert silent_issue(hass, entry, "usage") is None

    await pass_time(hass, freezer, timedelta(hours=2))
    assert silent_issue(hass, entry, "usage") is not None


async def test_records_of_known_sims_are_taken_in_while_the_sim_list_cannot_load(
    hass: HomeAssistant,
    no_sleep: None,
    entry: MockConfigEntry,
    client,
    usage_batches,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Only the SIM nobody can tell about waits: 503 for it, the rest goes on once."""
    answer_account(aioclient_mock, sims_status=500)
    entry.runtime_data.fleet.last_update_success = False
    foreign = {"id": 1, "iccid": FOREIGN_ICCID}
    batch = [
        data_usage(1),
        data_usage(2, sim=foreign, endpoint={"name": FOREIGN_ICCID}),
        pdp_event(3),
    ]
    bus = async_capture_events(hass, EVENT_NETWORK_EVENT)

    first = await stream(client, entry, batch)
    retried = await stream(client, entry, batch)

    assert (first.status, retried.status) == (HTTPStatus.SERVICE_UNAVAILABLE,) * 2
    assert ids(usage_batches) == ["1"]
    assert len(bus) == 1

    aioclient_mock.clear_requests()
    answer_account_again(aioclient_mock)
    freezer.tick(timedelta(minutes=2))
    last = await stream(client, entry, batch)

    assert last.status == HTTPStatus.OK
    assert ids(usage_batches) == ["1"]
    assert entry.runtime_data.receiver.streamer.health.foreign == 1


async def test_a_stream_of_unreadable_records_is_alive_but_not_delivering(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    """Polling must not yield to a stream whose records cannot be read."""
    streamer = entry.runtime_data.receiver.streamer

    await stream(client, entry, [unreadable_event(1)])

    assert not streamer.delivering(StreamKind.EVENTS)
    assert streamer.last_heard(StreamKind.EVENTS) is not None
    assert streamer.last_heard(StreamKind.USAGE) is None
