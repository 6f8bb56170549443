"""Helpers for the tests of the receiving side (forwarder view, inbox, events)."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)

from custom_components.one_nce.api import DeliveryReport, DeliveryStatus
from custom_components.one_nce.const import CONF_FORWARDER_SECRET, FORWARDER_PATH
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant

from .conftest import (
    FLEET_ICCIDS,
    SIMS_URL,
    TOKEN_URL,
    answer_details,
    load_json,
    setup_integration,
)

RECEIVING_PLATFORMS = [Platform.EVENT, Platform.SENSOR]
GARDEN_GATE = FLEET_ICCIDS[0]
FOREIGN_ICCID = "8988228066000009999"
INCOMING_SMS = "event.garden_gate_incoming_sms"
SMS_DELIVERY = "event.garden_gate_sms_delivery"


async def setup_receiving(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set the entry up with the platforms the forwarder feeds."""
    await setup_integration(hass, entry, RECEIVING_PLATFORMS)


async def reload_receiving(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Reload the entry (as an options change or a restart of it would)."""
    with patch("custom_components.one_nce.PLATFORMS", RECEIVING_PLATFORMS):
        assert await hass.config_entries.async_reload(entry.entry_id)
        await hass.async_block_till_done()


def forwarder_path(entry: MockConfigEntry) -> str:
    """The path 1NCE is told to call for this entry."""
    return FORWARDER_PATH.format(secret=entry.data[CONF_FORWARDER_SECRET])


def mo_sms(**changes: Any) -> dict[str, Any]:
    """A single-part MO SMS from the garden gate's SIM, as 1NCE posts it."""
    body: dict[str, Any] = load_json("forwarder_mo.json")
    body.update(changes)
    return body


def mo_part(
    sms_id: int, partno: int, total: int, payload: str, identifier: int = 7000
) -> dict[str, Any]:
    """One part of a long MO SMS."""
    return mo_sms(
        id=sms_id,
        payload=payload,
        multi_part_info={"partno": partno, "total": total, "identifier": identifier},
    )


def delivery_report(**changes: Any) -> dict[str, Any]:
    """A delivery report of an SMS sent to the garden gate, as 1NCE patches it."""
    body: dict[str, Any] = load_json("forwarder_delivery_report.json")
    body.update(changes)
    return body


async def push(
    client: TestClient,
    entry: MockConfigEntry,
    body: Any,
    method: str = "POST",
) -> ClientResponse:
    """Send what 1NCE's forwarder would send."""
    return await client.request(method, forwarder_path(entry), json=body)


def answer_account(
    aioclient_mock: AiohttpClientMocker,
    *,
    token: str = "token.json",
    sims: list[dict[str, Any]] | None = None,
    sims_status: int = 200,
) -> None:
    """Answer anew: this token, this SIM list (default: the fixture fleet)."""
    aioclient_mock.clear_requests()
    aioclient_mock.post(TOKEN_URL, json=load_json(token))
    if sims_status != 200:
        aioclient_mock.get(SIMS_URL, status=sims_status)
    else:
        aioclient_mock.get(
            SIMS_URL,
            json=load_json("sims.json") if sims is None else sims,
            headers={"X-Total-Pages": "1"},
        )
    for number in range(1, len(FLEET_ICCIDS) + 1):
        answer_details(aioclient_mock, number)


def sim_list_requests(aioclient_mock: AiohttpClientMocker) -> int:
    """How often the SIM list was asked for since the answers were last set."""
    return sum(
        1
        for method, url, _, _ in aioclient_mock.mock_calls
        if method == "GET"
        and str(url).startswith(SIMS_URL)
        and url.path.endswith("/sims")
    )


def report(
    sms_id: str, status: DeliveryStatus, status_id: int, iccid: str = GARDEN_GATE
) -> DeliveryReport:
    """A delivery report as polling finds it (no dates, no organisation)."""
    return DeliveryReport(
        sms_id=sms_id,
        iccid=iccid,
        endpoint_id=None,
        organisation_id=None,
        status=status,
        status_id=status_id,
        submit_date=None,
        final_date=None,
    )


async def poll_report(
    entry: MockConfigEntry,
    sms_id: str,
    status: DeliveryStatus = DeliveryStatus.DELIVERED,
    status_id: int = 4,
) -> bool:
    """Hand a polled report to the entry's inbox, the door polling uses."""
    return bool(
        await entry.runtime_data.receiver.inbox.async_accept_report(
            report(sms_id, status, status_id), source="poll"
        )
    )
