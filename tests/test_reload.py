"""Reauthenticating, reconfiguring and tuning an entry that is running.

The flows in tests/test_config_flow.py run against an entry that was added
but never set up, which has none of what a loaded entry registers. Here each
flow runs against a loaded entry (set up against the fixtures), and the
deprecation guard of tests/conftest.py watches: Home Assistant from 2026.6 on
reports a flow that reloads an entry which has an update listener, and 2026.12
refuses it. What a user notices is checked too: the entry reloads exactly
once and then works with what was saved, or does not reload at all.
"""

from __future__ import annotations

import base64
from collections.abc import Generator
from datetime import timedelta
from unittest.mock import AsyncMock, patch

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)

import custom_components.one_nce as integration
from custom_components.one_nce.const import (
    CONF_CLOUDHOOK_URL,
    CONF_DETAIL_INTERVAL,
    CONF_FORWARDER_SECRET,
    CONF_LIST_INTERVAL,
    CONF_MAX_SMS_PARTS,
    CONF_SMS_LOW_THRESHOLD,
    DOMAIN,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import CONF_CLIENT_ID, CONF_CLIENT_SECRET
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType

from .conftest import CLIENT_ID, TOKEN_URL

NEW_SECRET = "n3w-s3cr3t-from-the-portal"
DEFAULT_OPTIONS = {
    CONF_LIST_INTERVAL: 15,
    CONF_DETAIL_INTERVAL: 60,
    CONF_SMS_LOW_THRESHOLD: 20,
    CONF_MAX_SMS_PARTS: 6,
}

pytestmark = pytest.mark.usefixtures("mock_details", "no_rate_limit")


@pytest.fixture
def setups() -> Generator[AsyncMock]:
    """Count how often the entry is set up, letting each setup run for real."""
    with patch.object(
        integration,
        "async_setup_entry",
        AsyncMock(wraps=integration.async_setup_entry),
    ) as setup:
        yield setup


async def start(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set the entry up as Home Assistant does at startup, and let it settle."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED


async def settle(hass: HomeAssistant) -> None:
    """Let a scheduled reload and what it starts run to the end."""
    await hass.async_block_till_done(wait_background_tasks=True)


def secrets_sent_for_tokens(aioclient_mock: AiohttpClientMocker) -> list[str]:
    """The Authorization header of each token request, in order."""
    return [
        headers["Authorization"]
        for method, url, _, headers in aioclient_mock.mock_calls
        if method == "POST" and str(url) == TOKEN_URL
    ]


def basic_auth(secret: str) -> str:
    """Basic auth for our Client-ID and a secret (RFC 7617)."""
    return "Basic " + base64.b64encode(f"{CLIENT_ID}:{secret}".encode()).decode()


async def test_reauth_of_a_running_entry_reloads_it_once_with_the_new_secret(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    setups: AsyncMock,
) -> None:
    await start(hass, mock_config_entry)
    before = mock_config_entry.runtime_data
    mock_details.mock_calls.clear()
    setups.reset_mock()

    result = await mock_config_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CLIENT_SECRET: NEW_SECRET}
    )
    await settle(hass)

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert mock_config_entry.data[CONF_CLIENT_SECRET] == NEW_SECRET
    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert setups.await_count == 1
    assert mock_config_entry.runtime_data is not before
    # The flow proved the secret, then the reloaded entry used it.
    assert secrets_sent_for_tokens(mock_details) == [basic_auth(NEW_SECRET)] * 2


async def test_reconfigure_of_a_running_entry_reloads_it_once_with_the_new_secret(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    setups: AsyncMock,
) -> None:
    await start(hass, mock_config_entry)
    before = mock_config_entry.runtime_data
    mock_details.mock_calls.clear()
    setups.reset_mock()

    result = await mock_config_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CLIENT_ID: CLIENT_ID, CONF_CLIENT_SECRET: NEW_SECRET}
    )
    await settle(hass)

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert mock_config_entry.data[CONF_CLIENT_SECRET] == NEW_SECRET
    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert setups.await_count == 1
    assert mock_config_entry.runtime_data is not before
    assert secrets_sent_for_tokens(mock_details) == [basic_auth(NEW_SECRET)] * 2


async def test_new_options_reload_a_running_entry_once_and_apply(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, setups: AsyncMock
) -> None:
    """The intervals are fixed when the coordinators are built: saving reloads."""
    await start(hass, mock_config_entry)
    assert mock_config_entry.runtime_data.fleet.update_interval == timedelta(minutes=15)
    setups.reset_mock()

    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**DEFAULT_OPTIONS, CONF_LIST_INTERVAL: 30}
    )
    await settle(hass)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert setups.await_count == 1
    assert mock_config_entry.runtime_data.fleet.update_interval == timedelta(minutes=30)


async def test_saving_the_same_options_again_does_not_reload(
    hass: HomeAssistant, setups: AsyncMock
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=CLIENT_ID,
        data={CONF_CLIENT_ID: CLIENT_ID, CONF_CLIENT_SECRET: "s3cr3t-never-logged"},
        options=DEFAULT_OPTIONS,
    )
    await start(hass, entry)
    before = entry.runtime_data
    setups.reset_mock()

    result = await hass.config_entries.options.async_init(entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"], dict(DEFAULT_OPTIONS)
    )
    await settle(hass)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert setups.await_count == 0
    assert entry.runtime_data is before


async def test_storing_the_forwarder_secret_at_setup_does_not_reload(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, setups: AsyncMock
) -> None:
    """An entry from before the forwarder gets its secret without a second setup."""
    assert CONF_FORWARDER_SECRET not in mock_config_entry.data

    await start(hass, mock_config_entry)

    assert mock_config_entry.data[CONF_FORWARDER_SECRET]
    assert setups.await_count == 1


async def test_entry_data_stored_while_running_does_not_reload(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, setups: AsyncMock
) -> None:
    """What receiving stores later (a cloudhook, a secret) needs no reload."""
    await start(hass, mock_config_entry)
    before = mock_config_entry.runtime_data
    setups.reset_mock()

    hass.config_entries.async_update_entry(
        mock_config_entry,
        data={
            **mock_config_entry.data,
            CONF_CLOUDHOOK_URL: "https://hooks.nabu.casa/gAAAAABm-cloudhook-token",
        },
    )
    await settle(hass)

    assert setups.await_count == 0
    assert mock_config_entry.runtime_data is before
    assert mock_config_entry.state is ConfigEntryState.LOADED
