"""The forwarder address: what 1NCE's pushes get as an answer, and what fires.

Every test talks to Home Assistant's real HTTP server, with the integration
set up the way a user has it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
import logging
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.one_nce.api import DeliveryStatus
from custom_components.one_nce.const import (
    CONF_FORWARDER_SECRET,
    EVENT_DELIVERY_REPORT,
    EVENT_SMS_RECEIVED,
)
from custom_components.one_nce.receiving.inbox import InboxClosedError
from homeassistant.const import EVENT_HOMEASSISTANT_STARTED
from homeassistant.core import CoreState, HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util

from .conftest import find_device, load_json
from .forwarder_common import (
    FOREIGN_ICCID,
    GARDEN_GATE,
    INCOMING_SMS,
    SMS_DELIVERY,
    answer_account,
    delivery_report,
    forwarder_path,
    mo_part,
    mo_sms,
    poll_report,
    push,
    reload_receiving,
    report,
    setup_receiving,
    sim_list_requests,
)

pytestmark = pytest.mark.usefixtures("mock_details")


@pytest.fixture
async def entry(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> MockConfigEntry:
    """The account, loaded, with the forwarder secret it was given at setup."""
    await setup_receiving(hass, mock_config_entry)
    return mock_config_entry


@pytest.fixture
async def client(hass_client_no_auth: ClientSessionGenerator) -> object:
    """An HTTP client without credentials, as 1NCE is."""
    return await hass_client_no_auth()


# --- answers ---------------------------------------------------------------


async def test_unknown_address_answers_404(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)

    response = await client.post("/api/one_nce/forwarder/not-the-secret", json=mo_sms())

    assert response.status == 404
    assert events == []


async def test_unloaded_entry_answers_503_so_1nce_retries(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    assert await hass.config_entries.async_unload(entry.entry_id)
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)

    response = await push(client, entry, mo_sms())

    assert response.status == 503
    assert events == []


async def test_home_assistant_still_starting_answers_503(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    """Before automations are all there, nothing is accepted."""
    hass.set_state(CoreState.starting)
    try:
        response = await push(client, entry, mo_sms())
    finally:
        hass.set_state(CoreState.running)

    assert response.status == 503


async def test_body_over_64_kib_answers_413(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    response = await push(client, entry, mo_sms(payload="x" * 70_000))

    assert response.status == 413


async def test_streamed_body_over_64_kib_answers_413(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    """Without a Content-Length, reading stops at the limit all the same."""

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(20):
            yield b" " * 4096

    response = await client.post(forwarder_path(entry), data=chunks())

    assert response.status == 413


async def test_body_that_is_not_json_answers_400(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    response = await client.post(forwarder_path(entry), data=b"id=6202&payload=hi")

    assert response.status == 400


async def test_json_that_is_no_message_answers_422_with_the_reason(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    body = mo_sms()
    del body["payload"]

    response = await push(client, entry, body)

    assert response.status == 422
    assert await response.text() == "payload missing"


async def test_sim_of_another_account_answers_403_after_one_list_refresh(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client,
    mock_details: AiohttpClientMocker,
) -> None:
    """A stranger costs one SIM list request a minute, however often it knocks."""
    answer_account(mock_details)
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)
    stranger = mo_sms(endpoint={"id": 1, "name": FOREIGN_ICCID})

    responses = await asyncio.gather(
        *(push(client, entry, {**stranger, "id": n}) for n in range(1, 4))
    )
    again = await push(client, entry, {**stranger, "id": 4})

    assert [response.status for response in [*responses, again]] == [403] * 4
    assert sim_list_requests(mock_details) == 1
    assert events == []


async def test_sim_newer_than_the_list_is_accepted_after_the_refresh(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client,
    mock_details: AiohttpClientMocker,
) -> None:
    newcomer = {**load_json("sims.json")[0], "iccid": FOREIGN_ICCID}
    answer_account(mock_details, sims=[*load_json("sims.json"), newcomer])
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)

    response = await push(
        client, entry, mo_sms(endpoint={"id": 1, "name": FOREIGN_ICCID})
    )

    assert response.status == 200
    assert [event.data["iccid"] for event in events] == [FOREIGN_ICCID]


async def test_unknown_sim_while_1nce_is_down_answers_503(
    hass: HomeAssistant,
    no_sleep: object,
    entry: MockConfigEntry,
    client,
    mock_details: AiohttpClientMocker,
) -> None:
    """Nobody can tell whether the SIM is ours: 1NCE is asked to retry."""
    answer_account(mock_details, sims_status=500)
    stranger = mo_sms(endpoint={"id": 1, "name": FOREIGN_ICCID})

    first = await push(client, entry, stranger)
    # Within the minute no new refresh is tried; the list is still unknown.
    second = await push(client, entry, stranger)

    assert (first.status, second.status) == (503, 503)


async def test_other_organisation_answers_403(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    answer_account(mock_details, token="token_with_organisation.json")
    await setup_receiving(hass, mock_config_entry)
    client = await hass_client_no_auth()

    foreign = await push(client, mock_config_entry, mo_sms(organisation={"id": 9999}))
    ours = await push(client, mock_config_entry, mo_sms(organisation={"id": 4567}))

    assert (foreign.status, ours.status) == (403, 200)


# --- received SMS ------------------------------------------------------------


async def test_sms_fires_one_event_and_the_sims_event_entity(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client,
    device_registry: dr.DeviceRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)

    response = await push(client, entry, mo_sms())

    assert response.status == 200
    device = find_device(hass, ("one_nce", GARDEN_GATE))
    assert device is not None
    expected = {
        "iccid": GARDEN_GATE,
        "sms_id": "6202",
        "text": "Gate opened",
        "payload": "Gate opened",
        "dcs": 0,
        "source_address": "882285100000001",
        "dest_address": "12345",
        "submit_date": "2018-08-17T16:31:51+00:00",
        "parts": 1,
        "complete": True,
    }
    assert [event.data for event in events] == [{"device_id": device.id, **expected}]
    state = hass.states.get(INCOMING_SMS)
    assert state.attributes["event_type"] == "received"
    assert {key: state.attributes[key] for key in expected} == expected
    assert state.state == dt_util.utcnow().isoformat(timespec="milliseconds")


async def test_retransmissions_answer_200_and_fire_nothing(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)

    first = await push(client, entry, mo_sms())
    again = await push(client, entry, mo_sms())
    together = await asyncio.gather(
        *(push(client, entry, mo_sms(id=6300)) for _ in range(5))
    )

    assert [first.status, again.status] == [200, 200]
    assert [response.status for response in together] == [200] * 5
    assert [event.data["sms_id"] for event in events] == ["6202", "6300"]


async def test_retransmission_after_a_reload_fires_nothing(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    """The ids seen are on disk, not only in memory."""
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)
    await push(client, entry, mo_sms())

    await reload_receiving(hass, entry)
    again = await push(client, entry, mo_sms())

    assert again.status == 200
    assert len(events) == 1


async def test_numbers_as_strings_and_extra_keys_are_read(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)

    response = await push(client, entry, load_json("forwarder_mo_quirks.json"))

    assert response.status == 200
    assert [(event.data["sms_id"], event.data["text"]) for event in events] == [
        ("6203", "Battery low")
    ]


@pytest.mark.parametrize(
    ("dcs", "payload", "text"),
    [
        (0, "Gate opened", "Gate opened"),
        (8, "Grüße aus dem Garten", "Grüße aus dem Garten"),
        (8, "0048006900200263", "Hi \u0263"),
        (4, "DEADBEEF", None),
    ],
    ids=["gsm7", "ucs2-as-text", "ucs2-as-hex", "binary"],
)
async def test_payload_is_decoded_as_its_coding_says(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client,
    dcs: int,
    payload: str,
    text: str | None,
) -> None:
    """Text where there is text; the raw payload always."""
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)

    await push(client, entry, mo_sms(dcs=dcs, payload=payload))

    assert [
        (event.data["text"], event.data["payload"], event.data["dcs"])
        for event in events
    ] == [(text, payload, dcs)]


# --- long SMS ------------------------------------------------------------------


async def test_long_sms_out_of_order_and_twice_fires_once_joined(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)
    parts = {
        3: mo_part(7003, 3, 3, "the garden."),
        1: mo_part(7000, 1, 3, "Someone opened "),
        2: mo_part(7001, 2, 3, "the gate to "),
    }

    statuses = [
        (await push(client, entry, parts[number])).status for number in (3, 1, 3)
    ]
    assert events == []
    statuses.append((await push(client, entry, parts[2])).status)
    statuses.append((await push(client, entry, parts[1])).status)

    assert statuses == [200] * 5
    assert [
        (
            event.data["text"],
            event.data["sms_id"],
            event.data["parts"],
            event.data["complete"],
        )
        for event in events
    ] == [("Someone opened the gate to the garden.", "7000", 3, True)]


async def test_ucs2_characters_split_across_parts_are_joined_before_decoding(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    """A surrogate pair cut in two by the split still becomes one emoji."""
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)
    first = {**mo_part(7100, 1, 2, "0041D83D", identifier=7100), "dcs": 8}
    second = {**mo_part(7101, 2, 2, "DE000042", identifier=7100), "dcs": 8}

    await push(client, entry, first)
    await push(client, entry, second)

    assert [event.data["text"] for event in events] == ["A\U0001f600B"]


async def test_long_sms_across_a_reload_fires_once(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    """Parts stored before a reload and parts after it make one message."""
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)
    await push(client, entry, mo_part(7000, 1, 3, "Someone opened "))
    await push(client, entry, mo_part(7002, 3, 3, "the garden."))

    await reload_receiving(hass, entry)
    assert events == []
    await push(client, entry, mo_part(7000, 1, 3, "Someone opened "))
    await push(client, entry, mo_part(7001, 2, 3, "the gate to "))

    assert [(event.data["text"], event.data["complete"]) for event in events] == [
        ("Someone opened the gate to the garden.", True)
    ]


async def test_incomplete_long_sms_fires_after_an_hour_with_what_came(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client,
    freezer: FrozenDateTimeFactory,
) -> None:
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)
    await push(client, entry, mo_part(7001, 2, 3, "the gate to "))
    await push(client, entry, mo_part(7000, 1, 3, "Someone opened "))

    freezer.tick(timedelta(minutes=59))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert events == []
    freezer.tick(timedelta(minutes=2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()

    assert [
        (event.data["text"], event.data["parts"], event.data["complete"])
        for event in events
    ] == [("Someone opened the gate to ", 2, False)]


async def test_incomplete_long_sms_overdue_at_setup_fires_then(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An hour that passed while the entry was down still ends in an event."""
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)
    await push(client, entry, mo_part(7000, 1, 2, "Someone opened "))
    assert await hass.config_entries.async_unload(entry.entry_id)

    freezer.tick(timedelta(hours=2))
    await reload_receiving(hass, entry)

    assert [(event.data["text"], event.data["complete"]) for event in events] == [
        ("Someone opened ", False)
    ]


async def test_incomplete_long_sms_waits_only_the_rest_of_its_hour_after_a_reload(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client,
    freezer: FrozenDateTimeFactory,
) -> None:
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)
    await push(client, entry, mo_part(7000, 1, 2, "Someone opened "))
    freezer.tick(timedelta(minutes=30))
    await reload_receiving(hass, entry)

    freezer.tick(timedelta(minutes=31))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()

    assert [event.data["complete"] for event in events] == [False]


async def test_messages_due_while_home_assistant_starts_fire_once_started(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Automations load during start-up; a message waits until they can see it."""
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)
    await push(client, entry, mo_part(7000, 1, 2, "Someone opened "))
    assert await hass.config_entries.async_unload(entry.entry_id)
    freezer.tick(timedelta(hours=2))

    hass.set_state(CoreState.starting)
    await reload_receiving(hass, entry)
    assert events == []
    hass.set_state(CoreState.running)
    hass.bus.async_fire(EVENT_HOMEASSISTANT_STARTED)
    await hass.async_block_till_done()

    assert [event.data["complete"] for event in events] == [False]


# --- delivery reports ----------------------------------------------------------


async def test_delivery_report_by_patch_fires_event_and_entity(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client,
    device_registry: dr.DeviceRegistry,
) -> None:
    events = async_capture_events(hass, EVENT_DELIVERY_REPORT)

    response = await push(client, entry, delivery_report(), method="PATCH")

    assert response.status == 200
    device = find_device(hass, ("one_nce", GARDEN_GATE))
    expected = {
        "iccid": GARDEN_GATE,
        "sms_id": "2819195",
        "status": "delivered",
        "status_id": 4,
        "submit_date": "2025-03-02T10:00:00+00:00",
        "final_date": "2025-03-02T10:00:07+00:00",
    }
    assert [event.data for event in events] == [{"device_id": device.id, **expected}]
    state = hass.states.get(SMS_DELIVERY)
    assert state.attributes["event_type"] == "delivered"
    assert {key: state.attributes[key] for key in expected} == expected


async def test_delivery_report_that_is_no_report_answers_422(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    response = await push(client, entry, mo_sms(), method="PATCH")

    assert response.status == 422
    assert await response.text() == "status missing"


async def test_same_final_report_pushed_and_polled_fires_once(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    events = async_capture_events(hass, EVENT_DELIVERY_REPORT)
    await push(client, entry, delivery_report(), method="PATCH")
    await push(client, entry, delivery_report(), method="PATCH")

    polled = await poll_report(entry, "2819195")

    assert polled is False
    assert len(events) == 1


async def test_polled_report_then_pushed_one_fires_once_even_after_a_reload(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    events = async_capture_events(hass, EVENT_DELIVERY_REPORT)
    assert await poll_report(entry, "2819195")

    await reload_receiving(hass, entry)
    response = await push(client, entry, delivery_report(), method="PATCH")

    assert response.status == 200
    assert len(events) == 1


async def test_progress_reports_fire_once_each_and_none_after_the_final_one(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    events = async_capture_events(hass, EVENT_DELIVERY_REPORT)
    buffered = delivery_report(status={"id": 3, "status": "BUFFERED"})
    failed = delivery_report(status={"id": 5, "status": "FAILED"})

    for body in (buffered, buffered, failed, buffered, delivery_report()):
        assert (await push(client, entry, body, method="PATCH")).status == 200

    assert [event.data["status"] for event in events] == ["buffered", "failed"]


async def test_concurrent_push_and_poll_of_one_report_fire_once(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    events = async_capture_events(hass, EVENT_DELIVERY_REPORT)

    async def poll() -> bool:
        return await poll_report(entry, "2819195")

    results = await asyncio.gather(
        poll(), push(client, entry, delivery_report(), method="PATCH"), poll()
    )

    assert results[1].status == 200
    assert len(events) == 1


async def test_nothing_is_recorded_for_an_unloaded_entry(
    hass: HomeAssistant, entry: MockConfigEntry
) -> None:
    events = async_capture_events(hass, EVENT_DELIVERY_REPORT)
    inbox = entry.runtime_data.receiver.inbox
    assert await hass.config_entries.async_unload(entry.entry_id)

    with pytest.raises(InboxClosedError):
        await inbox.async_accept_report(
            report("1", DeliveryStatus.DELIVERED, 4), source="poll"
        )
    assert events == []


# --- storage failures ------------------------------------------------------------


async def test_failed_write_answers_503_and_the_retry_fires(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    """A message that could not be stored is neither acknowledged nor remembered."""
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)
    with patch(
        "custom_components.one_nce.receiving.journal._append",
        side_effect=OSError("No space left on device"),
    ):
        failed = await push(client, entry, mo_sms())
    retried = await push(client, entry, mo_sms())

    assert (failed.status, retried.status) == (503, 200)
    assert len(events) == 1


async def test_failed_write_of_a_report_answers_503_and_fires_nothing(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    events = async_capture_events(hass, EVENT_DELIVERY_REPORT)
    with patch(
        "custom_components.one_nce.receiving.journal._append",
        side_effect=OSError("No space left on device"),
    ):
        failed = await push(client, entry, delivery_report(), method="PATCH")

    assert failed.status == 503
    assert events == []


# --- secrets and health ----------------------------------------------------------


async def test_no_secret_in_the_integrations_logs(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="custom_components.one_nce")
    secret = entry.data[CONF_FORWARDER_SECRET]
    body = mo_sms()
    del body["payload"]

    await push(client, entry, body)
    await push(client, entry, mo_sms(endpoint={"id": 1, "name": FOREIGN_ICCID}))
    await client.post(forwarder_path(entry), data=b"not json")
    await client.post(f"/api/one_nce/forwarder/{secret[:-1]}", json=mo_sms())
    await push(client, entry, mo_sms())

    ours = [
        record.getMessage()
        for record in caplog.records
        if record.name.startswith("custom_components.one_nce")
    ]
    assert any("payload missing" in message for message in ours)
    assert not [message for message in ours if secret in message]
    assert not [message for message in ours if "Gate opened" in message]


async def test_health_sensors_count_requests(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    client,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The first request shows at once, later ones within a few seconds."""
    await push(client, entry, mo_sms())
    assert (
        hass.states.get("sensor.1nce_account_forwarder_messages_received").state == "1"
    )

    await push(client, entry, mo_sms())
    await push(client, entry, mo_sms(endpoint={"id": 1, "name": FOREIGN_ICCID}))
    assert hass.states.get("sensor.1nce_account_forwarder_duplicates").state == "0"
    freezer.tick(timedelta(seconds=6))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()

    assert (
        hass.states.get("sensor.1nce_account_forwarder_messages_received").state == "1"
    )
    assert hass.states.get("sensor.1nce_account_forwarder_duplicates").state == "1"
    assert (
        hass.states.get("sensor.1nce_account_forwarder_rejected_requests").state == "1"
    )
    last = dt_util.parse_datetime(
        hass.states.get("sensor.1nce_account_forwarder_last_seen").state
    )
    assert timedelta(0) < dt_util.utcnow() - last <= timedelta(seconds=7)


# --- Platform 2.0 bodies and arrays ----------------------------------------------

P2_SMS_ID = "551734281731175386"  # 18 digits, above 2^53


def p2_report(**changes: object) -> dict[str, object]:
    """A Platform 2.0 delivery report: an id of its own, the SMS's in detail."""
    body: dict[str, object] = load_json("forwarder_delivery_report_p2.json")
    body.update(changes)
    return body


def p2_mo(**changes: object) -> dict[str, object]:
    """A Platform 2.0 MO SMS, its recipient under `destination_address`."""
    body: dict[str, object] = load_json("forwarder_mo_p2.json")
    body.update(changes)
    return body


async def test_platform_2_report_fires_with_the_sms_id_and_its_own_report_id(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    events = async_capture_events(hass, EVENT_DELIVERY_REPORT)

    response = await push(client, entry, p2_report(), method="PATCH")

    assert response.status == 200
    device = find_device(hass, ("one_nce", GARDEN_GATE))
    expected = {
        "iccid": GARDEN_GATE,
        "sms_id": P2_SMS_ID,
        "report_id": "775120394",
        "status": "delivered",
        "status_id": 4,
        "submit_date": "2026-11-24T08:00:00+00:00",
        "final_date": "2026-11-24T08:00:09.250000+00:00",
    }
    assert [event.data for event in events] == [{"device_id": device.id, **expected}]
    state = hass.states.get(SMS_DELIVERY)
    assert {key: state.attributes[key] for key in expected} == expected


async def test_platform_1_report_has_no_report_id(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    events = async_capture_events(hass, EVENT_DELIVERY_REPORT)

    await push(client, entry, delivery_report(), method="PATCH")

    assert [event.data["sms_id"] for event in events] == ["2819195"]
    assert "report_id" not in events[0].data
    assert "report_id" not in hass.states.get(SMS_DELIVERY).attributes


async def test_platform_2_report_is_known_by_its_sms_not_its_own_id(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    """A retransmission, or the report polled, is the same SMS and status."""
    events = async_capture_events(hass, EVENT_DELIVERY_REPORT)
    await push(client, entry, p2_report(), method="PATCH")

    again = await push(client, entry, p2_report(id=775120395), method="PATCH")
    polled = await poll_report(entry, P2_SMS_ID)
    by_its_own_id = await poll_report(entry, "775120394")

    assert again.status == 200
    assert polled is False
    assert by_its_own_id is True  # another SMS as far as anybody can tell
    assert [event.data["sms_id"] for event in events] == [P2_SMS_ID, "775120394"]


async def test_report_with_a_bad_sms_id_answers_422_without_echoing_it(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    events = async_capture_events(hass, EVENT_DELIVERY_REPORT)

    response = await push(
        client,
        entry,
        p2_report(detail={"sms": {"id": 5.517342817311754e17}}),
        method="PATCH",
    )

    assert response.status == 422
    assert await response.text() == "detail.sms.id is not a string of digits"
    assert events == []


async def test_platform_2_sms_with_destination_address_fires_dest_address(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)

    response = await push(client, entry, p2_mo())

    assert response.status == 200
    assert [
        {key: event.data[key] for key in ("sms_id", "dest_address", "submit_date")}
        for event in events
    ] == [
        {
            "sms_id": "551734281731175999",
            "dest_address": "12345",
            "submit_date": "2026-11-24T07:59:58+00:00",
        }
    ]
    assert hass.states.get(INCOMING_SMS).attributes["dest_address"] == "12345"


async def test_array_of_sms_stores_each_and_answers_200(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)

    response = await push(client, entry, [p2_mo(), mo_sms(), mo_sms()])
    again = await push(client, entry, [p2_mo(), mo_sms()])

    assert (response.status, again.status) == (200, 200)
    assert [event.data["sms_id"] for event in events] == [
        "551734281731175999",
        "6202",
    ]


async def test_array_of_reports_fires_each_status_in_order(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    events = async_capture_events(hass, EVENT_DELIVERY_REPORT)
    buffered = p2_report(id=775120390, status={"id": 3, "status": "BUFFERED"})

    response = await push(
        client, entry, [buffered, p2_report(), delivery_report()], method="PATCH"
    )

    assert response.status == 200
    assert [(event.data["sms_id"], event.data["status"]) for event in events] == [
        (P2_SMS_ID, "buffered"),
        (P2_SMS_ID, "delivered"),
        ("2819195", "delivered"),
    ]


async def test_array_with_a_refused_message_stores_the_rest_and_answers_its_refusal(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    """1NCE retries the whole array: what was stored is then a duplicate."""
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)
    broken = mo_sms(id=6300)
    del broken["payload"]
    foreign = mo_sms(id=6301, endpoint={"id": 1, "name": FOREIGN_ICCID})

    response = await push(client, entry, [p2_mo(), broken, foreign, mo_sms()])
    retried = await push(client, entry, [p2_mo(), mo_sms()])

    assert response.status == 422
    assert await response.text() == "message 2 of 4: payload missing"
    assert retried.status == 200
    assert [event.data["sms_id"] for event in events] == [
        "551734281731175999",
        "6202",
    ]
    health = entry.runtime_data.receiver.health
    assert (health.rejected, health.duplicates, health.received) == (1, 1, 0)


async def test_array_whose_message_could_not_be_stored_answers_503(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)
    with patch(
        "custom_components.one_nce.receiving.journal._append",
        side_effect=OSError("No space left on device"),
    ):
        failed = await push(client, entry, [p2_mo(), mo_sms()])
    retried = await push(client, entry, [p2_mo(), mo_sms()])

    assert (failed.status, retried.status) == (503, 200)
    assert await failed.text() == "message 1 of 2: could not store"
    assert len(events) == 2


async def test_array_element_that_is_no_object_is_refused_by_its_place(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    response = await push(client, entry, [[p2_mo()]], method="PATCH")

    assert response.status == 422
    assert await response.text() == "message 1 of 1: body is not a JSON object"


async def test_empty_array_answers_200_and_fires_nothing(
    hass: HomeAssistant, entry: MockConfigEntry, client
) -> None:
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)

    response = await push(client, entry, [])

    assert response.status == 200
    assert events == []
