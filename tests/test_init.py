"""Setting up, failing, recovering and unloading a 1NCE entry."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus
from typing import Any

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)

from custom_components.one_nce.const import DOMAIN
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState
from homeassistant.core import HomeAssistant

from .conftest import (
    FLEET_ICCIDS,
    SIMS_URL,
    TOKEN_URL,
    USAGE_URL_PATTERN,
    answer_details,
    answer_fleet,
    load_json,
)

# The coordinator adds a sub-second offset to its schedule; step past it.
POLL = timedelta(minutes=15, seconds=1)


def _fleet_answers(aioclient_mock: AiohttpClientMocker, **sims_kwargs: object) -> None:
    """Answer anew: the SIM list as given (default: the fixture fleet), details as usual."""
    if not sims_kwargs:
        answer_fleet(aioclient_mock, load_json("sims.json"))
        return
    aioclient_mock.clear_requests()
    aioclient_mock.post(TOKEN_URL, json=load_json("token.json"))
    aioclient_mock.get(SIMS_URL, **sims_kwargs)  # type: ignore[arg-type]
    aioclient_mock.get(USAGE_URL_PATTERN, json=load_json("usage_unused.json"))
    for number in range(1, len(FLEET_ICCIDS) + 1):
        answer_details(aioclient_mock, number)


async def test_setup_loads_the_fleet_and_unload_releases_it(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
) -> None:
    """A working account loads with every SIM, and unloads cleanly."""
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert mock_config_entry.state is ConfigEntryState.LOADED
    fleet = mock_config_entry.runtime_data.fleet
    assert sorted(fleet.data) == [
        "8988228066000000001",
        "8988228066000000002",
        "8988228066000000003",
    ]
    # One token, one SIM page, three detail calls and one usage call per SIM,
    # and the monthly limits with their three lists of options.
    paths = [call[1].path for call in mock_details.mock_calls]
    assert paths.count("/management-api/oauth/token") == 1
    assert paths.count("/management-api/v2/sims") == 1
    assert sum(path.endswith("/usage") for path in paths) == len(FLEET_ICCIDS)
    assert sum("/limits" in path for path in paths) == 4
    assert len(paths) == 2 + 4 * len(FLEET_ICCIDS) + 4
    assert mock_config_entry.runtime_data.details.data.keys() == fleet.data.keys()

    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    await hass.async_block_till_done()
    assert mock_config_entry.state is ConfigEntryState.NOT_LOADED


async def test_refused_credentials_start_reauthentication(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """1NCE's 400 for bad credentials ends setup and asks the user to re-enter them."""
    aioclient_mock.post(
        TOKEN_URL,
        status=HTTPStatus.BAD_REQUEST,
        json={
            "statusCode": 400,
            "errorCode": "CognitoAuthenticationError",
            "message": "Incorrect username or password.",
        },
    )
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]


async def test_token_without_api_permission_starts_reauthentication(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A token the API keeps refusing means the credentials are wrong for the API."""
    aioclient_mock.post(TOKEN_URL, json=load_json("token.json"))
    aioclient_mock.get(SIMS_URL, status=HTTPStatus.UNAUTHORIZED)
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert mock_config_entry.state is ConfigEntryState.SETUP_ERROR
    # One renewal and one retry after the first 401, then it gives up.
    assert [call[0] for call in aioclient_mock.mock_calls] == [
        "POST",
        "GET",
        "POST",
        "GET",
    ]
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert len(flows) == 1


async def test_unreachable_api_retries_setup_later(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    no_sleep: None,
) -> None:
    """A 1NCE outage at startup leaves the entry retrying, not failed."""
    aioclient_mock.post(TOKEN_URL, json=load_json("token.json"))
    aioclient_mock.get(SIMS_URL, status=HTTPStatus.SERVICE_UNAVAILABLE, text="<html>")
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert mock_config_entry.state is ConfigEntryState.SETUP_RETRY
    assert not hass.config_entries.flow.async_progress_by_handler(DOMAIN)


def _timers(hass: HomeAssistant) -> list[str]:
    """What the loop will call back later, by callback, delayed writes aside."""
    scheduled = getattr(hass.loop, "_scheduled", [])
    return sorted(
        repr(handle._callback)
        for handle in scheduled
        if not handle.cancelled() and "delayed_write" not in repr(handle)
    )


@pytest.mark.freeze_time("2025-04-02 08:00:00+00:00")
async def test_unload_leaves_no_timer_listener_or_poll_behind(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    no_rate_limit: None,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Unloading cancels every timer and listener: a day passes without a request."""
    timers_before = _timers(hass)
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert len(_timers(hass)) > len(timers_before), "a loaded entry polls on timers"
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert _timers(hass) == timers_before
    # Components we depend on stay loaded with listeners of their own; what
    # must not happen is that each load and unload of ours leaves more.
    listeners_after_first = hass.bus.async_listeners()

    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert await hass.config_entries.async_unload(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert _timers(hass) == timers_before
    assert hass.bus.async_listeners() == listeners_after_first
    calls = len(mock_details.mock_calls)
    for step in (timedelta(minutes=1), POLL, timedelta(hours=1), timedelta(days=1)):
        freezer.tick(step)
        async_fire_time_changed(hass)
        await hass.async_block_till_done(wait_background_tasks=True)
    assert len(mock_details.mock_calls) == calls


async def test_removing_the_account_leaves_no_stored_file_of_it(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    no_rate_limit: None,
    hass_storage: dict[str, Any],
) -> None:
    """Every `.storage` file the account wrote goes with it."""
    prefix = f"{DOMAIN}.{mock_config_entry.entry_id}."
    # What an account leaves after a while: SMS followed for delivery and the
    # time zone its usage statistics were written in.
    for name, data in (
        ("delivery", {"sms": []}),
        ("usage_zones", {"8988228066000000001": {"zone": "Europe/Berlin"}}),
    ):
        hass_storage[prefix + name] = {
            "version": 1,
            "minor_version": 1,
            "key": prefix + name,
            "data": data,
        }
    mock_config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)

    await hass.config_entries.async_remove(mock_config_entry.entry_id)
    await hass.async_block_till_done()

    assert [key for key in hass_storage if key.startswith(prefix)] == []


async def test_outage_is_logged_once_and_recovers_alone(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    no_sleep: None,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Polls during an outage fail quietly after the first log line, then recover."""
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    fleet = mock_config_entry.runtime_data.fleet

    _fleet_answers(mock_details, status=HTTPStatus.BAD_GATEWAY, text="<html>bad</html>")
    for _ in range(3):
        freezer.tick(POLL)
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    assert fleet.last_update_success is False
    assert caplog.text.count("Error fetching one_nce fleet data") == 1

    _fleet_answers(mock_details)
    freezer.tick(POLL)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert fleet.last_update_success is True
    assert caplog.text.count("Fetching one_nce fleet data recovered") == 1


async def test_rate_limit_stretches_the_poll_interval(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A 429 doubles the next poll's interval, and success restores it.

    An hour's Retry-After is read as 1NCE's ten-minute cap, which the doubled
    interval already exceeds.
    """
    mock_config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(mock_config_entry.entry_id)
    await hass.async_block_till_done(wait_background_tasks=True)
    fleet = mock_config_entry.runtime_data.fleet
    assert fleet.update_interval == timedelta(minutes=15)

    _fleet_answers(
        mock_details,
        status=HTTPStatus.TOO_MANY_REQUESTS,
        headers={"Retry-After": "3600"},
    )
    freezer.tick(POLL)
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert fleet.last_update_success is False
    assert fleet.update_interval == timedelta(minutes=30)
    # The 429 is answered by waiting, not by asking again at once.
    assert len(mock_details.mock_calls) == 1

    _fleet_answers(mock_details)
    freezer.tick(timedelta(minutes=30, seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert fleet.last_update_success is True
    assert fleet.update_interval == timedelta(minutes=15)


@pytest.mark.parametrize(
    ("error", "state", "reason"),
    [
        (
            PermissionError("denied"),
            ConfigEntryState.SETUP_RETRY,
            "receiver_not_opened",
        ),
        (RuntimeError("a bug"), ConfigEntryState.SETUP_ERROR, "setup_failed"),
    ],
    ids=["unreadable-file", "bug"],
)
async def test_a_receiver_that_cannot_open_leaves_no_timer_behind(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    no_rate_limit: None,
    error: Exception,
    state: ConfigEntryState,
    reason: str,
) -> None:
    """What was started is stopped again; a file that cannot be read retries."""
    from unittest.mock import patch  # noqa: PLC0415

    from custom_components.one_nce.receiving.records import (  # noqa: PLC0415
        RecordStore,
    )

    timers_before = _timers(hass)
    mock_config_entry.add_to_hass(hass)
    with patch.object(RecordStore, "async_load", side_effect=error):
        await hass.config_entries.async_setup(mock_config_entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)

    assert mock_config_entry.state is state
    retry = 1 if state is ConfigEntryState.SETUP_RETRY else 0
    assert len(_timers(hass)) == len(timers_before) + retry
    assert mock_config_entry.error_reason_translation_key == reason
