"""Delivery reports of sent SMS found by asking 1NCE when none are pushed."""

from __future__ import annotations

from datetime import datetime, timedelta
from http import HTTPStatus
import logging
import re
from typing import Any
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
    AiohttpClientMockResponse,
)
from yarl import URL

from custom_components.one_nce.const import DOMAIN, EVENT_DELIVERY_REPORT
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util

from .conftest import FLEET_ICCIDS, setup_integration
from .forwarder_common import delivery_report, push, reload_receiving
from .services_common import answer_sms_posts, answer_sms_posts_in_turn, send

pytestmark = pytest.mark.freeze_time("2026-11-24 08:00:00+00:00")

GATE = FLEET_ICCIDS[0]
FIRST_ID = 6026  # answer_sms_posts hands out ids from here
PLATFORMS = [Platform.EVENT, Platform.SENSOR]
STATUS_URL = re.compile(r"/v2/sims/\d+/sms/\d+$")


def sms_status(sms_id: int, status_id: int, description: str) -> dict[str, Any]:
    """One MT SMS as 1NCE's SMS detail endpoint returns it."""
    final = status_id in (4, 5, 6, 7)
    return {
        "id": sms_id,
        "submit_date": "2026-11-24T08:00:00.000Z",
        "final_date": "2026-11-24T08:00:09.000Z" if final else None,
        "retry_count": 0,
        "dcs": 0,
        "payload": "wake up",
        "status": {"id": status_id, "description": description},
        "sms_type": {"id": 1, "description": "MT"},
    }


def status_polls(aioclient_mock: AiohttpClientMocker) -> int:
    return sum(
        1
        for method, url, _data, _headers in aioclient_mock.mock_calls
        if method.upper() == "GET" and "/sms/" in str(url)
    )


class StatusAnswers:
    """1NCE's SMS detail endpoint, answering what each test sets per SMS."""

    def __init__(self, aioclient_mock: AiohttpClientMocker) -> None:
        self.answers: dict[int, dict[str, Any]] = {}
        self.asked: list[datetime] = []
        aioclient_mock.get(STATUS_URL, side_effect=self._answer)

    def set(self, sms_id: int = FIRST_ID, **answer: Any) -> None:
        self.answers[sms_id] = answer

    async def _answer(
        self, method: str, url: URL, data: Any
    ) -> AiohttpClientMockResponse:
        sms_id = int(url.path.rsplit("/", 1)[1])
        self.asked.append(dt_util.utcnow())
        answer = self.answers.get(sms_id, {"status": HTTPStatus.NOT_FOUND})
        return AiohttpClientMockResponse(method, url, **answer)


async def later(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    freezer.tick(delta)
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


@pytest.fixture
def statuses(mock_details: AiohttpClientMocker) -> StatusAnswers:
    """The SMS statuses 1NCE reports; unknown SMS answer 404."""
    return StatusAnswers(mock_details)


@pytest.fixture
async def sending(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    statuses: StatusAnswers,
) -> AiohttpClientMocker:
    """A loaded account that accepts SMS; requests so far forgotten."""
    await setup_integration(hass, mock_config_entry, PLATFORMS)
    await hass.async_block_till_done(wait_background_tasks=True)
    answer_sms_posts(mock_details)
    mock_details.mock_calls.clear()
    return mock_details


async def test_without_push_the_report_is_polled_and_fired_once(
    hass: HomeAssistant,
    sending: AiohttpClientMocker,
    statuses: StatusAnswers,
    freezer: FrozenDateTimeFactory,
) -> None:
    events = async_capture_events(hass, EVENT_DELIVERY_REPORT)
    await send(hass, iccid=GATE, message="wake up")
    statuses.set(json=sms_status(FIRST_ID, 2, "PENDING"))

    await later(hass, freezer, timedelta(seconds=30))
    assert status_polls(sending) == 0  # a pushed report gets its minute first

    await later(hass, freezer, timedelta(seconds=31))
    assert [event.data["status"] for event in events] == ["pending"]

    statuses.set(json=sms_status(FIRST_ID, 4, "DELIVERED"))
    await later(hass, freezer, timedelta(minutes=2, seconds=1))
    assert [(event.data["status"], event.data["sms_id"]) for event in events] == [
        ("pending", str(FIRST_ID)),
        ("delivered", str(FIRST_ID)),
    ]
    assert events[-1].data["final_date"] == "2026-11-24T08:00:09+00:00"
    assert (
        hass.states.get("event.garden_gate_sms_delivery").attributes["event_type"]
        == "delivered"
    )

    asked = status_polls(sending)
    await later(hass, freezer, timedelta(days=2))
    assert status_polls(sending) == asked == 2


async def test_asking_backs_off_while_the_sim_is_unreachable(
    hass: HomeAssistant,
    sending: AiohttpClientMocker,
    statuses: StatusAnswers,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """After 1, 3, 7, 15, 31 and 63 minutes, then hourly until the SMS expired."""
    sent_at = dt_util.utcnow()
    await send(hass, iccid=GATE, message="wake up")
    statuses.set(json=sms_status(FIRST_ID, 3, "BUFFERED"))

    for _ in range(64):
        await later(hass, freezer, timedelta(minutes=1))
    assert [(when - sent_at) // timedelta(minutes=1) for when in statuses.asked] == [
        1,
        3,
        7,
        15,
        31,
        63,
    ]

    for _ in range(26):
        await later(hass, freezer, timedelta(hours=1))
    # Hourly from 2 h 3 min on; the last look comes after the 24 h validity
    # and 15 minutes' grace, and then the SMS is no longer followed.
    assert len(statuses.asked) == 6 + 24
    assert statuses.asked[-1] - sent_at > timedelta(hours=24, minutes=15)
    assert mock_config_entry.runtime_data.delivery.followed == []


async def test_pushed_final_report_means_no_polling(
    hass: HomeAssistant,
    sending: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    events = async_capture_events(hass, EVENT_DELIVERY_REPORT)
    await send(hass, iccid=GATE, message="wake up")
    client = await hass_client_no_auth()

    response = await push(
        client, mock_config_entry, delivery_report(id=FIRST_ID), method="PATCH"
    )
    await later(hass, freezer, timedelta(hours=2))

    assert response.status == HTTPStatus.OK
    assert status_polls(sending) == 0
    assert [event.data["status"] for event in events] == ["delivered"]


async def test_polled_then_pushed_report_fires_once(
    hass: HomeAssistant,
    sending: AiohttpClientMocker,
    statuses: StatusAnswers,
    mock_config_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    events = async_capture_events(hass, EVENT_DELIVERY_REPORT)
    await send(hass, iccid=GATE, message="wake up")
    statuses.set(json=sms_status(FIRST_ID, 4, "DELIVERED"))
    await later(hass, freezer, timedelta(minutes=1, seconds=1))
    client = await hass_client_no_auth()

    response = await push(
        client, mock_config_entry, delivery_report(id=FIRST_ID), method="PATCH"
    )

    assert response.status == HTTPStatus.OK
    assert [event.data["status"] for event in events] == ["delivered"]


async def test_every_part_of_a_long_sms_is_followed(
    hass: HomeAssistant,
    sending: AiohttpClientMocker,
    statuses: StatusAnswers,
    freezer: FrozenDateTimeFactory,
) -> None:
    events = async_capture_events(hass, EVENT_DELIVERY_REPORT)
    await send(hass, iccid=GATE, message="x" * 200)  # two parts
    for sms_id in (FIRST_ID, FIRST_ID + 1):
        statuses.set(sms_id, json=sms_status(sms_id, 4, "DELIVERED"))

    await later(hass, freezer, timedelta(minutes=1, seconds=1))

    assert sorted(event.data["sms_id"] for event in events) == [
        str(FIRST_ID),
        str(FIRST_ID + 1),
    ]


async def test_following_survives_a_reload(
    hass: HomeAssistant,
    sending: AiohttpClientMocker,
    statuses: StatusAnswers,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    events = async_capture_events(hass, EVENT_DELIVERY_REPORT)
    await send(hass, iccid=GATE, message="wake up")
    await reload_receiving(hass, mock_config_entry)
    statuses.set(json=sms_status(FIRST_ID, 6, "EXPIRED"))

    await later(hass, freezer, timedelta(minutes=1, seconds=1))

    assert [event.data["status"] for event in events] == ["expired"]


async def test_failures_to_ask_are_retried_later_quietly(
    hass: HomeAssistant,
    no_sleep: None,
    sending: AiohttpClientMocker,
    statuses: StatusAnswers,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    events = async_capture_events(hass, EVENT_DELIVERY_REPORT)
    await send(hass, iccid=GATE, message="wake up")
    statuses.set(status=HTTPStatus.INTERNAL_SERVER_ERROR)

    await later(hass, freezer, timedelta(minutes=1, seconds=1))
    assert events == []

    statuses.set(json=sms_status(FIRST_ID, 5, "FAILED"))
    await later(hass, freezer, timedelta(minutes=2))

    assert [event.data["status"] for event in events] == ["failed"]
    assert not [
        record
        for record in caplog.records
        if record.name.startswith("custom_components.one_nce")
        and record.levelno >= logging.WARNING
    ]


async def test_sms_no_longer_listed_is_given_up(
    hass: HomeAssistant,
    sending: AiohttpClientMocker,
    statuses: StatusAnswers,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    await send(hass, iccid=GATE, message="wake up")
    statuses.set(status=HTTPStatus.NOT_FOUND)

    await later(hass, freezer, timedelta(minutes=1, seconds=1))
    await later(hass, freezer, timedelta(hours=3))

    assert status_polls(sending) == 1
    assert mock_config_entry.runtime_data.delivery.followed == []


async def test_removing_the_account_deletes_what_it_followed(
    hass: HomeAssistant,
    sending: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
    hass_storage: dict[str, Any],
) -> None:
    await send(hass, iccid=GATE, message="wake up")
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    key = f"{DOMAIN}.{mock_config_entry.entry_id}.delivery"
    assert [sms["sms_id"] for sms in hass_storage[key]["data"]["sms"]] == [
        str(FIRST_ID)
    ]

    await hass.config_entries.async_remove(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    assert key not in hass_storage


async def test_unreadable_stored_entries_are_dropped(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    hass_storage: dict[str, Any],
) -> None:
    hass_storage[f"{DOMAIN}.{mock_config_entry.entry_id}.delivery"] = {
        "version": 1,
        "key": f"{DOMAIN}.{mock_config_entry.entry_id}.delivery",
        "data": {
            "sms": [
                {"iccid": GATE, "sms_id": "1", "due": "soon", "gap": 60, "until": "x"},
                {"iccid": GATE},
                {
                    "iccid": GATE,
                    "sms_id": "2",
                    "due": "2026-11-24T08:01:00+00:00",
                    "gap": 60,
                    "until": "2026-11-25T08:15:00+00:00",
                },
            ]
        },
    }

    await setup_integration(hass, mock_config_entry, PLATFORMS)

    assert [sms.sms_id for sms in mock_config_entry.runtime_data.delivery.followed] == [
        "2"
    ]


async def test_a_report_that_could_not_be_stored_is_asked_for_again(
    hass: HomeAssistant,
    sending: AiohttpClientMocker,
    statuses: StatusAnswers,
    freezer: FrozenDateTimeFactory,
) -> None:
    events = async_capture_events(hass, EVENT_DELIVERY_REPORT)
    await send(hass, iccid=GATE, message="wake up")
    statuses.set(json=sms_status(FIRST_ID, 4, "DELIVERED"))

    with patch(
        "custom_components.one_nce.receiving.journal._append",
        side_effect=OSError("No space left on device"),
    ):
        await later(hass, freezer, timedelta(minutes=1))
    assert events == []

    await later(hass, freezer, timedelta(minutes=2))
    assert [event.data["status"] for event in events] == ["delivered"]


async def test_after_a_long_stop_one_look_catches_up(
    hass: HomeAssistant,
    sending: AiohttpClientMocker,
    statuses: StatusAnswers,
    mock_config_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Home Assistant off for hours asks once on its return, not once per gap missed."""
    await send(hass, iccid=GATE, message="wake up")
    statuses.set(json=sms_status(FIRST_ID, 3, "BUFFERED"))
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    freezer.tick(timedelta(hours=5))

    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await later(hass, freezer, timedelta(seconds=1))
    back_at = dt_util.utcnow()
    await later(hass, freezer, timedelta(minutes=1))

    assert len(statuses.asked) == 1
    assert [
        sms.due - back_at for sms in mock_config_entry.runtime_data.delivery.followed
    ] == [timedelta(minutes=2) - timedelta(seconds=1)]


# --- Platform 2.0: the report names the SMS send_sms returned ----------------------

P2_SMS_ID = 551734281731175386  # 18 digits, above 2^53: exact only as text or int


def p2_report(status_id: int = 4, status: str = "DELIVERED") -> dict[str, Any]:
    """Platform 2.0's report of the SMS sent: an id of its own, the SMS's in detail."""
    return delivery_report(
        id=775120394,
        submit_date="2026-11-24T08:00:00Z",
        final_date="2026-11-24T08:00:09Z",
        status={"id": status_id, "status": status},
        detail={"sms": {"id": str(P2_SMS_ID)}},
    )


@pytest.fixture
async def sending_p2(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    statuses: StatusAnswers,
) -> AiohttpClientMocker:
    """A loaded account whose SMS get Platform 2.0's 18-digit ids."""
    await setup_integration(hass, mock_config_entry, PLATFORMS)
    await hass.async_block_till_done(wait_background_tasks=True)
    answer_sms_posts_in_turn(mock_details, P2_SMS_ID)
    mock_details.mock_calls.clear()
    return mock_details


async def test_pushed_platform_2_report_carries_the_id_send_sms_returned(
    hass: HomeAssistant,
    sending_p2: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    """What the "Wake a device by SMS" blueprint waits for: the same id."""
    events = async_capture_events(hass, EVENT_DELIVERY_REPORT)
    sent = await send(hass, iccid=GATE, message="wake up")
    client = await hass_client_no_auth()

    response = await push(client, mock_config_entry, p2_report(), method="PATCH")
    await later(hass, freezer, timedelta(hours=2))

    assert response.status == HTTPStatus.OK
    returned = sent["messages"][0]["sms_ids"]
    assert [(event.data["sms_id"], event.data["report_id"]) for event in events] == [
        (returned[-1], "775120394")
    ]
    assert returned == [str(P2_SMS_ID)]
    # The final report ended the following: no request for its status.
    assert status_polls(sending_p2) == 0
    assert mock_config_entry.runtime_data.delivery.followed == []


async def test_pushed_platform_2_report_then_a_poll_of_it_fire_once(
    hass: HomeAssistant,
    sending_p2: AiohttpClientMocker,
    statuses: StatusAnswers,
    mock_config_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    events = async_capture_events(hass, EVENT_DELIVERY_REPORT)
    await send(hass, iccid=GATE, message="wake up")
    client = await hass_client_no_auth()
    await push(client, mock_config_entry, p2_report(3, "BUFFERED"), method="PATCH")
    statuses.set(P2_SMS_ID, json=sms_status(P2_SMS_ID, 3, "BUFFERED"))

    await later(hass, freezer, timedelta(minutes=1, seconds=1))
    assert status_polls(sending_p2) == 1
    statuses.set(P2_SMS_ID, json=sms_status(P2_SMS_ID, 4, "DELIVERED"))
    await later(hass, freezer, timedelta(minutes=2))

    assert [(event.data["status"], event.data["sms_id"]) for event in events] == [
        ("buffered", str(P2_SMS_ID)),
        ("delivered", str(P2_SMS_ID)),
    ]
    assert events[0].data["report_id"] == "775120394"
    assert "report_id" not in events[1].data  # polled: the SMS's own id only


async def test_polled_report_then_the_platform_2_push_of_it_fire_once(
    hass: HomeAssistant,
    sending_p2: AiohttpClientMocker,
    statuses: StatusAnswers,
    mock_config_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    events = async_capture_events(hass, EVENT_DELIVERY_REPORT)
    await send(hass, iccid=GATE, message="wake up")
    statuses.set(P2_SMS_ID, json=sms_status(P2_SMS_ID, 4, "DELIVERED"))
    await later(hass, freezer, timedelta(minutes=1, seconds=1))
    client = await hass_client_no_auth()

    response = await push(client, mock_config_entry, p2_report(), method="PATCH")

    assert response.status == HTTPStatus.OK
    assert [(event.data["status"], event.data["sms_id"]) for event in events] == [
        ("delivered", str(P2_SMS_ID))
    ]


async def test_a_restart_between_push_and_poll_still_fires_once(
    hass: HomeAssistant,
    sending_p2: AiohttpClientMocker,
    statuses: StatusAnswers,
    mock_config_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    events = async_capture_events(hass, EVENT_DELIVERY_REPORT)
    await send(hass, iccid=GATE, message="wake up")
    client = await hass_client_no_auth()
    await push(client, mock_config_entry, p2_report(3, "BUFFERED"), method="PATCH")

    await reload_receiving(hass, mock_config_entry)
    statuses.set(P2_SMS_ID, json=sms_status(P2_SMS_ID, 3, "BUFFERED"))
    await later(hass, freezer, timedelta(minutes=1, seconds=1))

    assert status_polls(sending_p2) == 1
    assert [(event.data["status"], event.data["sms_id"]) for event in events] == [
        ("buffered", str(P2_SMS_ID))
    ]


async def test_a_restart_between_poll_and_push_still_fires_once(
    hass: HomeAssistant,
    sending_p2: AiohttpClientMocker,
    statuses: StatusAnswers,
    mock_config_entry: MockConfigEntry,
    hass_client_no_auth: Any,
    freezer: FrozenDateTimeFactory,
) -> None:
    events = async_capture_events(hass, EVENT_DELIVERY_REPORT)
    await send(hass, iccid=GATE, message="wake up")
    statuses.set(P2_SMS_ID, json=sms_status(P2_SMS_ID, 4, "DELIVERED"))
    await later(hass, freezer, timedelta(minutes=1, seconds=1))

    await reload_receiving(hass, mock_config_entry)
    client = await hass_client_no_auth()
    response = await push(client, mock_config_entry, p2_report(), method="PATCH")

    assert response.status == HTTPStatus.OK
    assert [event.data["status"] for event in events] == ["delivered"]


async def test_platform_1_report_of_an_sms_sent_with_a_v1_id_carries_that_id(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    statuses: StatusAnswers,
    hass_client_no_auth: Any,
) -> None:
    """v1 answers with a Location header; its report's `id` is the SMS's."""
    await setup_integration(hass, mock_config_entry, PLATFORMS)
    answer_sms_posts(mock_details, location=True)
    events = async_capture_events(hass, EVENT_DELIVERY_REPORT)
    sent = await send(hass, iccid=GATE, message="wake up")
    client = await hass_client_no_auth()

    await push(client, mock_config_entry, delivery_report(id=FIRST_ID), method="PATCH")

    assert [event.data["sms_id"] for event in events] == sent["messages"][0]["sms_ids"]
    assert "report_id" not in events[0].data
