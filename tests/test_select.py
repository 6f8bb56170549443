"""The organisation's monthly limits: what they show, send, and do without v1."""

from __future__ import annotations

from datetime import timedelta
from http import HTTPStatus
import logging
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    snapshot_platform,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.one_nce.api import Limit
from custom_components.one_nce.const import DOMAIN
from custom_components.one_nce.select import option_name
from homeassistant.components.select import (
    ATTR_OPTION,
    ATTR_OPTIONS,
    SERVICE_SELECT_OPTION,
)
from homeassistant.components.select import DOMAIN as SELECT_DOMAIN
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.const import ATTR_ENTITY_ID, STATE_UNAVAILABLE, Platform
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import entity_registry as er

from .conftest import (
    FLEET_ICCIDS,
    LIMITS_URL,
    SIMS_URL,
    TOKEN_URL,
    USAGE_URL_PATTERN,
    answer_details,
    answer_limits,
    load_json,
    setup_integration,
)

# The setups here send more than ten requests at one frozen instant.
pytestmark = pytest.mark.usefixtures("no_rate_limit")

MT_LIMIT = "select.1nce_account_monthly_limit_of_sent_sms"
MO_LIMIT = "select.1nce_account_monthly_limit_of_received_sms"
DATA_LIMIT = "select.1nce_account_monthly_data_limit"
V1_SIMS = "/management-api/v1/sims/"


def _limit_calls(aioclient_mock: AiohttpClientMocker) -> list[tuple[str, str]]:
    """Method and path of every request about limits, in order."""
    return [
        (method, url.path.removeprefix(V1_SIMS))
        for method, url, _, _ in aioclient_mock.mock_calls
        if url.path.startswith(V1_SIMS) and url.path.endswith("/limits")
    ]


def _posted(aioclient_mock: AiohttpClientMocker) -> list[Any]:
    return [
        body
        for method, url, body, _ in aioclient_mock.mock_calls
        if method == "POST" and str(url) == LIMITS_URL
    ]


async def _select(hass: HomeAssistant, entity_id: str, option: str) -> None:
    await hass.services.async_call(
        SELECT_DOMAIN,
        SERVICE_SELECT_OPTION,
        {ATTR_ENTITY_ID: entity_id, ATTR_OPTION: option},
        blocking=True,
    )


async def _wait(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    """Let time pass; the extra second covers the coordinator's jitter."""
    freezer.tick(delta + timedelta(seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


def _answer_limits_with(aioclient_mock: AiohttpClientMocker, **limits: Any) -> None:
    """Answer anew: the limits in force as given (e.g. an error), all else as usual."""
    aioclient_mock.clear_requests()
    answer_limits(aioclient_mock, **limits)
    aioclient_mock.post(TOKEN_URL, json=load_json("token.json"))
    aioclient_mock.get(
        SIMS_URL, json=load_json("sims.json"), headers={"X-Total-Pages": "1"}
    )
    aioclient_mock.get(USAGE_URL_PATTERN, json=load_json("usage_unused.json"))
    for number in range(1, len(FLEET_ICCIDS) + 1):
        answer_details(aioclient_mock, number)


@pytest.mark.usefixtures("mock_details")
async def test_limits_show_on_the_account_device(
    hass: HomeAssistant,
    stable_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """Each limit shows the option in force among those 1NCE offers."""
    await setup_integration(hass, stable_config_entry, [Platform.SELECT])

    await snapshot_platform(
        hass, entity_registry, snapshot, stable_config_entry.entry_id
    )


@pytest.mark.usefixtures("mock_details")
async def test_no_limit_is_offered_where_1nce_offers_it_or_none_is_set(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """MT offers lifting its limit; MO has none set; data can only be capped."""
    await setup_integration(hass, mock_config_entry, [Platform.SELECT])

    mt, mo, data = (
        hass.states.get(entity) for entity in (MT_LIMIT, MO_LIMIT, DATA_LIMIT)
    )
    assert (mt.state, mt.attributes[ATTR_OPTIONS]) == (
        "10 SMS",
        ["no_limit", "10 SMS", "100 SMS"],
    )
    assert (mo.state, mo.attributes[ATTR_OPTIONS]) == (
        "no_limit",
        ["10 SMS", "100 SMS", "no_limit"],
    )
    assert (data.state, data.attributes[ATTR_OPTIONS]) == (
        "50 MB",
        ["50 MB", "1 GB"],
    )


@pytest.mark.parametrize(
    ("limit", "unit", "shown"),
    [
        ("50", "MB", "50 MB"),
        ("1024", "MB", "1 GB"),
        ("10240", "MB", "10 GB"),
        ("1536", "MB", "1536 MB"),
        ("1048576", "MB", "1 TB"),
        ("2048", "GB", "2 TB"),
        ("1024", "SMS", "1024 SMS"),
        ("0.5", "MB", "0.5 MB"),
    ],
)
def test_data_limits_read_in_the_largest_whole_unit(
    limit: str, unit: str, shown: str
) -> None:
    """1NCE's 1024 MB and 10240 MB options read as 1 GB and 10 GB; SMS stay counts."""
    assert option_name(Limit(limit_id=1, limit=limit, unit=unit)) == shown


async def test_choosing_a_limit_posts_its_id_and_keeps_the_others(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
) -> None:
    """The POST carries the chosen option's id with the ids in force, then rereads."""
    await setup_integration(hass, mock_config_entry, [Platform.SELECT])
    mock_details.mock_calls.clear()
    mock_details.post(LIMITS_URL, status=HTTPStatus.CREATED)

    await _select(hass, MO_LIMIT, "10 SMS")

    assert _posted(mock_details) == [
        {"dataLimitId": 1, "smsMtLimitId": 11, "smsMoLimitId": 21}
    ]
    # The limits in force are read again right away; the options are not.
    assert _limit_calls(mock_details) == [("POST", "limits"), ("GET", "limits")]


async def test_lifting_a_limit_posts_1nces_no_limit_option(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
) -> None:
    """ "No limit" is sent as the option 1NCE lists without a number."""
    await setup_integration(hass, mock_config_entry, [Platform.SELECT])
    mock_details.post(LIMITS_URL, status=HTTPStatus.CREATED)
    after = load_json("limits.json") | {"smsMt": {"id": 10, "unit": "SMS"}}
    _answer_limits_with(mock_details, json=after)
    mock_details.post(LIMITS_URL, status=HTTPStatus.CREATED)

    await _select(hass, MT_LIMIT, "no_limit")

    assert _posted(mock_details) == [{"dataLimitId": 1, "smsMtLimitId": 10}]
    assert hass.states.get(MT_LIMIT).state == "no_limit"


async def test_choosing_the_limit_in_force_sends_nothing(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
) -> None:
    """MO has no limit and 1NCE offers none to choose: nothing to send."""
    await setup_integration(hass, mock_config_entry, [Platform.SELECT])
    mock_details.mock_calls.clear()

    await _select(hass, MO_LIMIT, "no_limit")

    assert mock_details.mock_calls == []


async def test_a_refused_limit_is_explained_in_1nces_words(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
) -> None:
    """1NCE's refusal is a translated error, and the limit in force stays shown."""
    await setup_integration(hass, mock_config_entry, [Platform.SELECT])
    mock_details.post(
        LIMITS_URL,
        status=HTTPStatus.BAD_REQUEST,
        json={"statusCode": 400, "message": "Limit is below this month's usage"},
    )

    with pytest.raises(ServiceValidationError) as err:
        await _select(hass, MT_LIMIT, "100 SMS")

    assert err.value.translation_domain == DOMAIN
    assert err.value.translation_key == "limit_refused"
    assert str(err.value) == (
        "1NCE refused the monthly limit 100 SMS: Limit is below this month's usage"
    )
    assert hass.states.get(MT_LIMIT).state == "10 SMS"


async def test_an_outage_while_changing_is_reported(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    no_sleep: None,
) -> None:
    """1NCE not answering is a failure, not a refusal of the limit."""
    await setup_integration(hass, mock_config_entry, [Platform.SELECT])
    mock_details.post(LIMITS_URL, status=HTTPStatus.BAD_GATEWAY, text="<html>")

    with pytest.raises(HomeAssistantError) as err:
        await _select(hass, DATA_LIMIT, "1 GB")

    assert not isinstance(err.value, ServiceValidationError)
    assert err.value.translation_key == "limit_update_failed"


async def test_limits_are_reread_every_six_hours_without_the_options(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A limit changed in the Portal shows within six hours; options are read once."""
    await setup_integration(hass, mock_config_entry, [Platform.SELECT])
    mock_details.mock_calls.clear()
    changed = load_json("limits.json") | {"smsMo": {"id": 22, "limit": "100"}}
    _answer_limits_with(mock_details, json=changed)

    await _wait(hass, freezer, timedelta(hours=5))
    assert _limit_calls(mock_details) == []

    await _wait(hass, freezer, timedelta(hours=1))
    assert _limit_calls(mock_details) == [("GET", "limits")]
    assert hass.states.get(MO_LIMIT).state == "100 SMS"


async def test_a_failed_read_is_retried_within_the_hour(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
    no_sleep: None,
) -> None:
    """While 1NCE fails the selects are unavailable; half an hour later they are back."""
    await setup_integration(hass, mock_config_entry, [Platform.SELECT])
    _answer_limits_with(mock_details, status=HTTPStatus.BAD_GATEWAY, text="<html>")

    await _wait(hass, freezer, timedelta(hours=6))
    assert hass.states.get(MT_LIMIT).state == STATE_UNAVAILABLE

    _answer_limits_with(mock_details, json=load_json("limits.json"))
    await _wait(hass, freezer, timedelta(minutes=30))
    assert hass.states.get(MT_LIMIT).state == "10 SMS"


def _limits_lines(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    """Level and text of every log record about the limits being gone."""
    return [
        (record.levelno, record.getMessage())
        for record in caplog.records
        if "monthly limits" in record.getMessage()
    ]


async def test_without_v1_there_are_no_limit_selects_and_one_info_line(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    entity_registry: er.EntityRegistry,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """1NCE's v1 gone: no entities, one INFO line says why, 1NCE is not asked again.

    Not a warning: on a Platform 2.0 account it is how things are, with
    nothing for the user to fix.
    """
    _answer_limits_with(mock_details, status=HTTPStatus.NOT_FOUND)

    await setup_integration(hass, mock_config_entry, [Platform.SELECT])
    await _wait(hass, freezer, timedelta(days=1))

    assert hass.states.async_entity_ids(SELECT_DOMAIN) == []
    assert (
        er.async_entries_for_config_entry(entity_registry, mock_config_entry.entry_id)
        == []
    )
    [(level, message)] = _limits_lines(caplog)
    assert level == logging.INFO
    assert "v1 API is retired" in message
    assert [call for call in _limit_calls(mock_details) if call[1] == "limits"] == [
        ("GET", "limits")
    ]


async def test_without_v1_each_load_of_the_entry_logs_one_info_line(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A reload asks 1NCE once more and says so once more, still as information."""
    _answer_limits_with(mock_details, status=HTTPStatus.NOT_FOUND)
    await setup_integration(hass, mock_config_entry, [Platform.SELECT])

    with patch("custom_components.one_nce.PLATFORMS", [Platform.SELECT]):
        assert await hass.config_entries.async_reload(mock_config_entry.entry_id)
        await hass.async_block_till_done(wait_background_tasks=True)

    assert [level for level, _message in _limits_lines(caplog)] == [
        logging.INFO,
        logging.INFO,
    ]


async def test_v1_retired_later_makes_the_selects_unavailable(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Gone after setup: unavailable from the next read on, and no more asking."""
    await setup_integration(hass, mock_config_entry, [Platform.SELECT])
    _answer_limits_with(mock_details, status=HTTPStatus.GONE)

    await _wait(hass, freezer, timedelta(hours=6))
    assert hass.states.get(MT_LIMIT).state == STATE_UNAVAILABLE

    mock_details.mock_calls.clear()
    await _wait(hass, freezer, timedelta(days=1))
    assert _limit_calls(mock_details) == []


async def test_refused_credentials_for_limits_ask_for_reauthentication(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
) -> None:
    """A token 1NCE refuses for the limits starts the reauthentication flow."""
    _answer_limits_with(mock_details, status=HTTPStatus.UNAUTHORIZED)

    await setup_integration(hass, mock_config_entry, [Platform.SELECT])

    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == [SOURCE_REAUTH]
    assert hass.states.get(MT_LIMIT).state == STATE_UNAVAILABLE


async def test_limits_failing_at_setup_show_once_1nce_answers(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
    no_sleep: None,
) -> None:
    """An outage at startup leaves the selects unavailable, not missing."""
    _answer_limits_with(mock_details, status=HTTPStatus.BAD_GATEWAY, text="<html>")

    await setup_integration(hass, mock_config_entry, [Platform.SELECT])
    assert hass.states.get(MT_LIMIT).state == STATE_UNAVAILABLE

    _answer_limits_with(mock_details, json=load_json("limits.json"))
    await _wait(hass, freezer, timedelta(minutes=30))
    state = hass.states.get(MT_LIMIT)
    assert (state.state, state.attributes[ATTR_OPTIONS]) == (
        "10 SMS",
        ["no_limit", "10 SMS", "100 SMS"],
    )
