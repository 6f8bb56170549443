"""Reading a SIM's whole SMS list, 1000 a page (what the usage fallback counts)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)

from custom_components.one_nce.api import OneNceClient
from custom_components.one_nce.api.client import MAX_SMS_LIST_PAGES, MAX_SMS_PER_PAGE

from .conftest import ICCID, SIM_URL, calls_to


def _page(first: int, count: int) -> list[dict[str, Any]]:
    return [
        {
            "id": str(551734281731175386 + number),
            "submit_date": "2026-11-22T12:00:00Z",
            "status": {"id": 4, "description": "DELIVERED"},
            "sms_type": {"id": 2, "description": "MO"},
        }
        for number in range(first, first + count)
    ]


@pytest.mark.usefixtures("token_mock")
async def test_every_page_is_read_until_a_short_one(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    """1,200 SMS: a full page of 1,000, then 200; ids above 2^53 stay exact."""
    url = f"{SIM_URL}/sms"
    aioclient_mock.get(url, params={"page": 1, "per_page": 1000}, json=_page(0, 1000))
    aioclient_mock.get(url, params={"page": 2, "per_page": 1000}, json=_page(1000, 200))
    messages = await client.async_list_all_sms(ICCID)

    assert len(messages) == 1200
    assert messages[0].sms_id == "551734281731175386"
    pages = [dict(call[1].query) for call in calls_to(aioclient_mock, "GET", url)]
    assert pages == [
        {"page": "1", "per_page": "1000"},
        {"page": "2", "per_page": "1000"},
    ]


@pytest.mark.usefixtures("token_mock")
async def test_a_server_ignoring_the_page_is_not_asked_forever(
    aioclient_mock: AiohttpClientMocker, client: OneNceClient
) -> None:
    """The same full page twice: reading stops at the page with nothing new."""
    aioclient_mock.get(f"{SIM_URL}/sms", json=_page(0, MAX_SMS_PER_PAGE))
    messages = await client.async_list_all_sms(ICCID)

    assert len(messages) == MAX_SMS_PER_PAGE
    assert len(calls_to(aioclient_mock, "GET", f"{SIM_URL}/sms")) == 2


@pytest.mark.usefixtures("token_mock")
async def test_reading_stops_after_the_page_limit_and_says_so(
    aioclient_mock: AiohttpClientMocker,
    client: OneNceClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A list that never ends is read up to the limit, and the log tells."""
    for page in range(1, MAX_SMS_LIST_PAGES + 1):
        aioclient_mock.get(
            f"{SIM_URL}/sms",
            params={"page": page, "per_page": MAX_SMS_PER_PAGE},
            json=_page(page * MAX_SMS_PER_PAGE, MAX_SMS_PER_PAGE),
        )
    with caplog.at_level(logging.WARNING):
        messages = await client.async_list_all_sms(ICCID)

    assert len(messages) == MAX_SMS_LIST_PAGES * MAX_SMS_PER_PAGE
    assert f"stopped after {MAX_SMS_LIST_PAGES} pages" in caplog.text
