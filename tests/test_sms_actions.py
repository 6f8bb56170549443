"""The other actions: cancel_sms, list_sms, list_events and top_up."""

from __future__ import annotations

from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)
import voluptuous as vol
from yarl import URL

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util

from .conftest import (
    load_json,
    sim_url,
)
from .services_common import (
    ICCID_1,
    ICCID_2,
    call,
    calls,
    next_detail_tick,
    sim_device_id,
)

# --- cancel_sms ---------------------------------------------------------------


async def test_cancel_deletes_the_buffered_sms(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """Cancelling is one DELETE of that SMS on that SIM."""
    loaded.delete(sim_url(ICCID_1, "/sms/6026"), json={"id": "6026"})

    await call(
        hass, "cancel_sms", device_id=sim_device_id(hass, ICCID_1), sms_id="6026"
    )

    assert calls(loaded) == [("DELETE", f"/management-api/v2/sims/{ICCID_1}/sms/6026")]


@pytest.mark.parametrize(
    "status", [HTTPStatus.NOT_FOUND, HTTPStatus.BAD_REQUEST], ids=["404", "400"]
)
async def test_cancel_of_a_final_sms_is_refused(
    hass: HomeAssistant, loaded: AiohttpClientMocker, status: HTTPStatus
) -> None:
    """An SMS already delivered or expired cannot be cancelled: say so plainly."""
    loaded.delete(
        sim_url(ICCID_1, "/sms/6026"),
        status=status,
        json={"message": "SMS is in final state"},
    )

    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "cancel_sms", iccid=ICCID_1, sms_id=6026)

    assert err.value.translation_key == "sms_not_cancelable"
    assert err.value.translation_placeholders == {
        "sms_id": "6026",
        "sim": ICCID_1,
        "error": "SMS is in final state",
    }


async def test_cancel_during_an_outage_fails(
    no_sleep: None, hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """1NCE being down is not the user's mistake: a plain failure, not a refusal."""
    loaded.delete(sim_url(ICCID_1, "/sms/6026"), status=HTTPStatus.BAD_GATEWAY)

    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "cancel_sms", iccid=ICCID_1, sms_id="6026")

    assert not isinstance(err.value, ServiceValidationError)
    assert err.value.translation_key == "cancel_failed"


@pytest.mark.parametrize("two_sims", [False, True], ids=["none", "two"])
async def test_cancel_needs_exactly_one_sim(
    hass: HomeAssistant, loaded: AiohttpClientMocker, two_sims: bool
) -> None:
    """An SMS id belongs to one SIM, so exactly one must be named."""
    target = (
        {"iccid": ICCID_1, "device_id": sim_device_id(hass, ICCID_2)}
        if two_sims
        else {}
    )

    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "cancel_sms", sms_id="6026", **target)

    assert err.value.translation_key == "one_sim_needed"
    assert loaded.mock_calls == []


# --- list_sms -----------------------------------------------------------------


async def test_list_shows_the_sms_tab_newest_first(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """Sent and received SMS, newest first, received UCS-2 text decoded."""
    loaded.get(sim_url(ICCID_1, "/sms"), json=load_json("sms_list.json"))

    response = await call(hass, "list_sms", iccid=ICCID_1)

    assert calls(loaded) == [
        (
            "GET",
            f"/management-api/v2/sims/{ICCID_1}/sms?page=1&per_page=100",
        )
    ]
    assert response == {
        "sms": [
            {
                "id": "6040",
                "direction": "mt",
                "status": "buffered",
                "status_id": 3,
                "submit_date": "2025-04-03T08:00:00+00:00",
                "final_date": None,
                "source_address": "1234",
                "dcs": 4,
                "payload": "48656C6C6F",
                "text": None,
            },
            {
                "id": "6031",
                "direction": "mo",
                "status": "delivered",
                "status_id": 4,
                "submit_date": "2025-04-02T11:30:00+00:00",
                "final_date": "2025-04-02T11:30:00+00:00",
                "source_address": "882285100000001",
                "dcs": 8,
                "payload": "041F04400438043204350442",
                "text": "Привет",
            },
            {
                "id": "6026",
                "direction": "mt",
                "status": "delivered",
                "status_id": 4,
                "submit_date": "2025-04-02T10:00:00+00:00",
                "final_date": "2025-04-02T10:00:05+00:00",
                "source_address": "HomeAssist",
                "dcs": 0,
                "payload": "Gate: open",
                "text": "Gate: open",
            },
            {
                "id": "6012",
                "direction": "mo",
                "status": "delivered",
                "status_id": 4,
                "submit_date": "2025-04-01T09:00:00+00:00",
                "final_date": "2025-04-01T09:00:01+00:00",
                "source_address": "882285100000001",
                "dcs": 0,
                "payload": "Temp 21.5",
                "text": "Temp 21.5",
            },
        ]
    }


def sms_pages(
    aioclient_mock: AiohttpClientMocker, items: list[dict[str, Any]], *, size: int = 100
) -> None:
    """Serve `items` as 1NCE does: in pages of `size`, in the order given."""

    async def page(method: str, url: URL, data: Any) -> AiohttpClientMockResponse:
        number = int(url.query["page"])
        assert url.query["per_page"] == str(size)
        chunk = items[(number - 1) * size : number * size]
        return AiohttpClientMockResponse(method, url, json=chunk)

    aioclient_mock.get(sim_url(ICCID_1, "/sms"), side_effect=page)


def listed_sms(count: int, *, start: int = 7000) -> list[dict[str, Any]]:
    """`count` SMS, a minute apart, in an order that is neither old- nor new-first."""
    first = datetime(2025, 4, 1, tzinfo=dt_util.UTC)
    # A fixed shuffle (0, 167, 84, 1, ... for 250): the newest on the last page.
    order = sorted(range(count), key=lambda number: number * 3 % count)
    return [
        {
            "id": start + number,
            "submit_date": (first + timedelta(minutes=number)).isoformat(),
            "payload": f"#{number}",
            "dcs": 0,
            "status": {"id": 4},
            "sms_type": {"id": 1 + number % 2},
        }
        for number in order
    ]


def page_requests(aioclient_mock: AiohttpClientMocker) -> list[str]:
    return [url.query["page"] for _, url, _, _ in aioclient_mock.mock_calls]


async def test_list_reads_every_page_and_returns_the_newest(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """250 SMS over three pages, in no order: the newest come back, newest first."""
    items = listed_sms(250)
    newest = max(items, key=lambda item: item["id"])
    assert items.index(newest) >= 200  # on the third page
    sms_pages(loaded, items)

    response = await call(hass, "list_sms", iccid=ICCID_1, limit=100)

    assert page_requests(loaded) == ["1", "2", "3"]  # page 3 is short: the end
    assert [item["id"] for item in response["sms"]] == [
        str(sms_id) for sms_id in range(7249, 7149, -1)
    ]


async def test_list_direction_and_limit_apply_after_reading_all_pages(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """Filtering happens over all pages, so the newest received SMS are found."""
    sms_pages(loaded, listed_sms(250))

    response = await call(hass, "list_sms", iccid=ICCID_1, direction="mo", limit=3)

    assert [item["id"] for item in response["sms"]] == ["7249", "7247", "7245"]
    assert {item["direction"] for item in response["sms"]} == {"mo"}


async def test_list_stops_when_1nce_ignores_the_page(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """A server answering page 1 to every page is asked twice, not twenty times."""
    same = listed_sms(100)
    loaded.get(sim_url(ICCID_1, "/sms"), json=same)

    response = await call(hass, "list_sms", iccid=ICCID_1)

    assert page_requests(loaded) == ["1", "2"]
    assert len(response["sms"]) == 20


async def test_list_reads_at_most_twenty_pages(
    hass: HomeAssistant,
    loaded: AiohttpClientMocker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An endless list costs at most 20 requests (2,000 SMS, far over a week's).

    The answer may then lack SMS, and the log says so once.
    """

    async def endless(method: str, url: URL, data: Any) -> AiohttpClientMockResponse:
        number = int(url.query["page"])
        return AiohttpClientMockResponse(
            method, url, json=listed_sms(100, start=number * 1000)
        )

    loaded.get(sim_url(ICCID_1, "/sms"), side_effect=endless)

    response = await call(hass, "list_sms", iccid=ICCID_1, limit=1)

    assert page_requests(loaded) == [str(number) for number in range(1, 21)]
    assert [item["id"] for item in response["sms"]] == ["20099"]
    warnings = [
        record.getMessage()
        for record in caplog.records
        if record.levelname == "WARNING"
    ]
    assert warnings == [
        f"Listing the SMS of {ICCID_1} stopped after 20 pages (2000 SMS); any "
        "further SMS 1NCE keeps for it were not read"
    ]


async def test_list_filters_by_direction_and_limits_the_count(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """Only received SMS, and only as many as asked for, the newest kept."""
    loaded.get(sim_url(ICCID_1, "/sms"), json=load_json("sms_list.json"))

    response = await call(
        hass,
        "list_sms",
        device_id=sim_device_id(hass, ICCID_1),
        direction="mo",
        limit=1,
    )

    assert [item["id"] for item in response["sms"]] == ["6031"]


async def test_list_keeps_sms_without_payload(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """An SMS whose body 1NCE no longer shows is listed, just without text."""
    loaded.get(
        sim_url(ICCID_1, "/sms"),
        json=[{"id": 6001, "sms_type": {"id": 2}, "status": {"id": 4}}],
    )

    response = await call(hass, "list_sms", iccid=ICCID_1)

    assert [
        (item["id"], item["payload"], item["text"]) for item in response["sms"]
    ] == [("6001", None, None)]


async def test_list_failure_is_reported(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """A refused list request fails the action with 1NCE's words."""
    loaded.get(
        sim_url(ICCID_1, "/sms"),
        status=HTTPStatus.BAD_REQUEST,
        json={"message": "per_page too large"},
    )

    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "list_sms", iccid=ICCID_1)

    assert err.value.translation_key == "list_failed"
    assert err.value.translation_placeholders == {
        "sim": ICCID_1,
        "error": "per_page too large",
    }


# --- list_events -----------------------------------------------------------------


async def test_list_events_shows_the_sims_events_newest_first(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """The Portal's event list: type, time, network and severity, newest first."""
    response = await call(
        hass, "list_events", device_id=sim_device_id(hass, ICCID_1), limit=5
    )

    assert calls(loaded) == [
        (
            "GET",
            f"/management-api/v2/sims/{ICCID_1}/events"
            "?page=1&pageSize=5&sort=-timestamp",
        )
    ]
    assert response == {
        "events": [
            {
                "id": 30211,
                "timestamp": "2024-11-25T12:07:09+00:00",
                "type": "Update location",
                "description": (
                    "New location received from VLR for IMSI 901405100000001."
                ),
                "severity": "INFO",
                "source": "Network",
                "alert": False,
                "operator": "Telekom",
                "country": "Germany",
            },
            {
                "id": 30198,
                "timestamp": "2024-11-25T11:58:40+00:00",
                "type": "Delete PDP Context",
                "description": "PDP Context deleted.",
                "severity": "WARN",
                "source": "Network",
                "alert": True,
                "operator": None,
                "country": None,
            },
        ]
    }


async def test_list_events_returns_no_more_than_asked_for(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """Should 1NCE send more than the limit, only the newest are returned."""
    response = await call(hass, "list_events", iccid=ICCID_1, limit=1)

    assert [event["type"] for event in response["events"]] == ["Update location"]


async def test_list_events_of_a_quiet_sim_is_empty(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """A SIM without events answers an empty list, not an error."""
    response = await call(hass, "list_events", iccid=ICCID_2)

    assert response == {"events": []}
    assert calls(loaded)[0][1].endswith("?page=1&pageSize=20&sort=-timestamp")


async def test_list_events_limit_stays_within_one_page(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """More than 100 events at once is refused before 1NCE is asked."""
    with pytest.raises(vol.Invalid):
        await call(hass, "list_events", iccid=ICCID_1, limit=101)

    assert calls(loaded) == []


async def test_list_events_failure_is_reported(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """A refused event request fails the action with 1NCE's words."""
    loaded.clear_requests()
    loaded.get(
        sim_url(ICCID_1, "/events"),
        status=HTTPStatus.BAD_REQUEST,
        json={"message": "pageSize too large"},
    )

    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "list_events", iccid=ICCID_1)

    assert err.value.translation_key == "events_failed"
    assert str(err.value) == (
        f"Reading the network events of {ICCID_1} failed: pageSize too large"
    )


# --- top_up -------------------------------------------------------------------


async def test_top_up_without_confirmation_orders_nothing(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """A billed order never happens by accident."""
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, "top_up", iccid=ICCID_2, confirm=False)

    assert err.value.translation_key == "top_up_not_confirmed"
    assert loaded.mock_calls == []


async def test_confirmed_top_up_places_the_order(
    hass: HomeAssistant,
    loaded: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
) -> None:
    """One POST to the SIM's top-up; the new volume is read at the next tick."""
    loaded.post(
        sim_url(ICCID_2, "/topup"),
        status=HTTPStatus.CREATED,
        headers={"Location": "https://portal.1nce.com/orders/77"},
    )

    await call(hass, "top_up", device_id=sim_device_id(hass, ICCID_2), confirm=True)

    assert calls(loaded) == [("POST", f"/management-api/v2/sims/{ICCID_2}/topup")]
    loaded.mock_calls.clear()
    await next_detail_tick(mock_config_entry)
    assert ("GET", f"/management-api/v2/sims/{ICCID_2}/quota/sms") in calls(loaded)


async def test_refused_top_up_is_reported(
    hass: HomeAssistant, loaded: AiohttpClientMocker
) -> None:
    """When 1NCE refuses the order, the user reads why."""
    loaded.post(
        sim_url(ICCID_2, "/topup"),
        status=HTTPStatus.UNPROCESSABLE_ENTITY,
        json={"message": "No payment method on file"},
    )

    with pytest.raises(HomeAssistantError) as err:
        await call(hass, "top_up", iccid=ICCID_2, confirm=True)

    assert err.value.translation_key == "top_up_failed"
    assert err.value.translation_placeholders == {
        "sim": ICCID_2,
        "error": "No payment method on file",
    }
