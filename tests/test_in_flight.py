"""Nothing outlives a failed refresh or an unload: requests of a group go together.

When one request of a group fails (a limit option 1NCE answers 404, a SIM's
quota refused), the group has failed; its other requests, still on their way,
are cancelled and awaited before the failure is handed on, so that none of
them runs on after the coordinator gave up, or after the entry was unloaded.
Each test holds one request of a group open until it is cancelled.
"""

from __future__ import annotations

import asyncio
from typing import Any

from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)
from yarl import URL

from custom_components.one_nce.api import DEFAULT_BASE_URL
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant

from .conftest import (
    FLEET_ICCIDS,
    LIMITS_URL,
    SIMS_URL,
    TOKEN_URL,
    USAGE_URL_PATTERN,
    answer_details,
    load_json,
    setup_integration,
    sim_url,
)


class HeldRequests:
    """Answers that never come: each request waits until it is cancelled."""

    def __init__(self) -> None:
        self.started: list[str] = []
        self.cancelled: list[str] = []

    async def __call__(
        self, method: str, url: URL, data: Any
    ) -> AiohttpClientMockResponse:
        self.started.append(url.path)
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled.append(url.path)
            raise
        raise AssertionError("unreachable")  # pragma: no cover


def answer_account(aioclient_mock: AiohttpClientMocker) -> None:
    """1NCE's token, SIM list and usage; limits and details are the tests'."""
    aioclient_mock.post(TOKEN_URL, json=load_json("token.json"))
    aioclient_mock.get(
        SIMS_URL, json=load_json("sims.json"), headers={"X-Total-Pages": "1"}
    )
    aioclient_mock.get(USAGE_URL_PATTERN, json=load_json("usage_unused.json"))


async def test_a_limit_option_answering_404_cancels_the_others_still_asked(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
) -> None:
    held = HeldRequests()
    answer_account(aioclient_mock)
    for number in range(1, len(FLEET_ICCIDS) + 1):
        answer_details(aioclient_mock, number)
    aioclient_mock.get(LIMITS_URL, json=load_json("limits.json"))
    aioclient_mock.get(f"{DEFAULT_BASE_URL}/v1/sims/smsMT/limits", side_effect=held)
    aioclient_mock.get(f"{DEFAULT_BASE_URL}/v1/sims/smsMO/limits", status=404)
    aioclient_mock.get(f"{DEFAULT_BASE_URL}/v1/sims/data/limits", side_effect=held)

    await setup_integration(hass, mock_config_entry, [Platform.SELECT])

    # 1NCE retired the limits (404): no selects, and nothing still asking.
    assert hass.states.async_entity_ids("select") == []
    assert sorted(held.started) == sorted(held.cancelled)
    assert len(held.cancelled) == 2
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    assert mock_config_entry.state is ConfigEntryState.NOT_LOADED


async def test_a_refused_quota_cancels_the_sims_other_detail_requests(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
) -> None:
    held = HeldRequests()
    answer_account(aioclient_mock)
    for number in (2, 3):
        answer_details(aioclient_mock, number)
    gate = FLEET_ICCIDS[0]
    aioclient_mock.get(sim_url(gate, "/quota/sms"), status=400, json={"message": "no"})
    aioclient_mock.get(sim_url(gate, "/quota/data"), side_effect=held)
    aioclient_mock.get(sim_url(gate, "/status"), side_effect=held)

    await setup_integration(hass, mock_config_entry, [Platform.SENSOR])

    assert not mock_config_entry.runtime_data.details.available(gate)
    assert mock_config_entry.runtime_data.details.available(FLEET_ICCIDS[1])
    assert sorted(held.started) == sorted(held.cancelled)
    assert len(held.cancelled) == 2
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
