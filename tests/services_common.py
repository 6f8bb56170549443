"""Helpers for the tests of the 1NCE actions: a loaded account, SMS answers, calls."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
import re
from typing import Any

from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)
from yarl import URL

from custom_components.one_nce.const import DOMAIN
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError

from .conftest import (
    FLEET_ICCIDS,
    find_device,
    setup_integration,
)

ICCID_1, ICCID_2, ICCID_3 = FLEET_ICCIDS
GARDEN_GATE = f"Garden gate ({ICCID_1})"  # how errors name SIM 1 (SIM 2 has no label)
SMS_POST = re.compile(r"/v2/sims/\d+/sms$")
TRAFFIC_LIMIT = "Traffic limit of 100 SMS per month exceeded"
INTEGRATION = Path(__file__).parent.parent / "custom_components" / DOMAIN
ERROR_TEXTS = {
    language: json.loads(
        (INTEGRATION / "translations" / f"{language}.json").read_text(encoding="utf-8")
    )["exceptions"]
    for language in ("en", "de")
}


def assert_placeholders_fit(err: HomeAssistantError) -> None:
    """The error passes exactly the values its English and German texts show.

    A placeholder the text needs but the code lost would show as `{name}`, or
    make Home Assistant fall back to the bare text; one passed but not shown
    is information the user never gets.
    """
    assert err.translation_domain == DOMAIN
    assert err.translation_key is not None
    for language, texts in ERROR_TEXTS.items():
        shown = set(re.findall(r"\{(\w+)\}", texts[err.translation_key]["message"]))
        assert shown == set(err.translation_placeholders or {}), language


def answer_sms_posts(
    aioclient_mock: AiohttpClientMocker, *, location: bool = False
) -> None:
    """Accept every SMS POST with a new id: in the body (v2) or `Location` (v1)."""
    ids = itertools.count(6026)

    async def created(method: str, url: URL, data: Any) -> AiohttpClientMockResponse:
        sms_id = next(ids)
        if location:
            return AiohttpClientMockResponse(
                method, url, status=201, headers={"Location": f"{url}/{sms_id}"}
            )
        return AiohttpClientMockResponse(
            method, url, status=201, json={"id": str(sms_id)}
        )

    aioclient_mock.post(SMS_POST, side_effect=created)


def answer_sms_posts_in_turn(
    aioclient_mock: AiohttpClientMocker, *answers: int | tuple[int, str]
) -> None:
    """Answer the SMS POSTs in order: an id is accepted, (status, text) refused."""
    pending = iter(answers)

    async def next_answer(
        method: str, url: URL, data: Any
    ) -> AiohttpClientMockResponse:
        answer = next(pending)
        if isinstance(answer, int):
            return AiohttpClientMockResponse(
                method, url, status=201, json={"id": str(answer)}
            )
        status, text = answer
        return AiohttpClientMockResponse(
            method, url, status=status, json={"message": text}
        )

    aioclient_mock.post(SMS_POST, side_effect=next_answer)


def followed(entry: MockConfigEntry) -> list[tuple[str, str]]:
    """The (ICCID, SMS id) pairs whose delivery the integration is following."""
    return sorted(
        (sms.iccid, sms.sms_id) for sms in entry.runtime_data.delivery.followed
    )


def sent_bodies(aioclient_mock: AiohttpClientMocker) -> list[dict[str, Any]]:
    """The JSON bodies POSTed to SMS endpoints, in order."""
    return [
        data
        for method, url, data, _ in aioclient_mock.mock_calls
        if method.upper() == "POST" and SMS_POST.search(str(url))
    ]


def calls(aioclient_mock: AiohttpClientMocker) -> list[tuple[str, str]]:
    """Method and URL path (with query) of every request, in order."""
    return [
        (method.upper(), str(URL(str(url)).relative()))
        for method, url, _, _ in aioclient_mock.mock_calls
    ]


async def send(hass: HomeAssistant, **data: Any) -> dict[str, Any]:
    """Call send_sms the way an automation asking for the response does."""
    response = await hass.services.async_call(
        DOMAIN, "send_sms", data, blocking=True, return_response=True
    )
    assert response is not None
    return response


async def call(hass: HomeAssistant, service: str, **data: Any) -> Any:
    """Call an action that may or may not answer."""
    return await hass.services.async_call(
        DOMAIN,
        service,
        data,
        blocking=True,
        return_response=service in ("list_sms", "list_events"),
    )


async def next_detail_tick(entry: MockConfigEntry) -> None:
    """Run the details coordinator's next one-minute refresh now.

    Driving it directly, not with a frozen clock, keeps the client's rate
    limiter (which runs on the monotonic clock) out of the picture.
    """
    await entry.runtime_data.details.async_refresh()


def sim_device_id(hass: HomeAssistant, iccid: str) -> str:
    """The id of the device the integration created for a SIM."""
    device = find_device(hass, (DOMAIN, iccid))
    assert device is not None
    return device.id


async def set_up(
    hass: HomeAssistant, entry: MockConfigEntry, platforms: list[Platform]
) -> None:
    """Set the account up and let its background work (the usage import) finish."""
    await setup_integration(hass, entry, platforms)
    await hass.async_block_till_done(wait_background_tasks=True)
