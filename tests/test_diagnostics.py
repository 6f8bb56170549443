"""Diagnostics: useful for a bug report, and free of secrets and identifiers."""

from __future__ import annotations

import json

from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component

from .conftest import CLIENT_ID, CLIENT_SECRET, load_json


async def test_diagnostics_describe_the_fleet_without_secrets(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
) -> None:
    """Counts and states are there; credentials, tokens and SIM identifiers are not."""
    assert await async_setup_component(hass, "diagnostics", {})
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)

    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, mock_config_entry
    )

    assert diagnostics["fleet"]["sim_count"] == 3
    # A token, the SIM list, three detail requests and one usage request for
    # each of three SIMs, and the monthly limits with their three options.
    assert diagnostics["client"]["requests_sent"] == 2 + 4 * 3 + 4
    assert diagnostics["limits"] == {
        "supported": True,
        "last_update_success": True,
        "current": {
            "data": {"limit_id": 1, "limit": "50", "unit": "MB"},
            "sms_mt": {"limit_id": 11, "limit": "10", "unit": "SMS"},
            "sms_mo": None,
        },
    }
    assert diagnostics["details"]["sims_with_details"] == 3
    assert diagnostics["fleet"]["sims"][1]["sms_quota_level"] == "low"
    dumped = json.dumps(diagnostics)
    secrets = [CLIENT_ID, CLIENT_SECRET, load_json("token.json")["access_token"]]
    identifiers = [
        value
        for sim in load_json("sims.json")
        for key, value in sim.items()
        if key in ("iccid", "imsi", "msisdn", "imei", "ip_address", "label")
    ]
    for value in [*secrets, *identifiers]:
        assert str(value) not in dumped
