"""The "SMS volume low" binary sensor: the one to automate a warning on."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    snapshot_platform,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)
from syrupy.assertion import SnapshotAssertion

from custom_components.one_nce.api import (
    Connectivity,
    ConnectivityStatus,
    Quota,
    QuotaLevel,
    QuotaStatus,
    Sim,
)
from custom_components.one_nce.const import CONF_SMS_LOW_THRESHOLD
from custom_components.one_nce.coordinator import SimDetails
from custom_components.one_nce.sms_volume import sms_level
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from .conftest import (
    FLEET_ICCIDS,
    SIMS_URL,
    TOKEN_URL,
    answer_details,
    load_json,
    setup_integration,
    sim_url,
)

# The setups here send more than ten requests at one frozen instant.
pytestmark = pytest.mark.usefixtures("no_rate_limit")

GARDEN_GATE = "binary_sensor.garden_gate_sms_volume_low"
NO_LABEL = "binary_sensor.8988228066000000002_sms_volume_low"
WEATHER_STATION = "binary_sensor.weather_station_sms_volume_low"


@pytest.mark.usefixtures("mock_details")
async def test_every_sms_volume_low_sensor(
    hass: HomeAssistant,
    stable_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
) -> None:
    """One problem sensor per SIM: off at 30 % left, on at 12 % and when overdrawn."""
    await setup_integration(hass, stable_config_entry, [Platform.BINARY_SENSOR])

    await snapshot_platform(
        hass, entity_registry, snapshot, stable_config_entry.entry_id
    )


@pytest.mark.usefixtures("mock_details")
async def test_the_users_threshold_decides_what_is_low(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """At a 40 % threshold, the SIM with 30 % left reports low volume."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, options={CONF_SMS_LOW_THRESHOLD: 40}
    )
    await setup_integration(hass, mock_config_entry, [Platform.BINARY_SENSOR])

    assert hass.states.get(GARDEN_GATE).state == STATE_ON
    assert hass.states.get(NO_LABEL).state == STATE_ON


@pytest.mark.usefixtures("mock_details")
async def test_a_low_threshold_keeps_a_modest_volume_ok(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """At 10 %, 12 % left is fine, but an overdrawn SIM is still a problem."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, options={CONF_SMS_LOW_THRESHOLD: 10}
    )
    await setup_integration(hass, mock_config_entry, [Platform.BINARY_SENSOR])

    assert hass.states.get(NO_LABEL).state == STATE_OFF
    assert hass.states.get(WEATHER_STATION).state == STATE_ON


@pytest.mark.usefixtures("mock_api")
async def test_without_details_the_list_level_decides(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """Before exact volumes load, 1NCE's own 20 % level from the list is used."""
    await setup_integration(hass, mock_config_entry, [Platform.BINARY_SENSOR])

    assert hass.states.get(GARDEN_GATE).state == STATE_OFF
    assert hass.states.get(NO_LABEL).state == STATE_ON
    assert hass.states.get(WEATHER_STATION).state == STATE_ON


async def test_a_sim_nobody_reported_on_is_unknown(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """No SMS level in the list and an empty SMS quota: unknown, not "fine"."""
    sims = load_json("sims.json")
    del sims[0]["quota_status_SMS"]
    # Registered first, so it answers before the fixture's quota does.
    aioclient_mock.get(sim_url(FLEET_ICCIDS[0], "/quota/sms"), json={})
    aioclient_mock.post(TOKEN_URL, json=load_json("token.json"))
    aioclient_mock.get(SIMS_URL, json=sims)
    for number in (1, 2, 3):
        answer_details(aioclient_mock, number)
    await setup_integration(hass, mock_config_entry, [Platform.BINARY_SENSOR])

    assert hass.states.get(GARDEN_GATE).state == STATE_UNKNOWN


def _details(
    volume: float | None, total: float | None, status: QuotaStatus | None = None
) -> SimDetails:
    return SimDetails(
        sms_quota=Quota(volume=volume, total_volume=total, status=status),
        data_quota=Quota(),
        connectivity=Connectivity(status=ConnectivityStatus.ONLINE),
        fetched_at=datetime(2025, 4, 2, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("details", "list_level", "expected"),
    [
        # The exact volume outvotes the list's coarser (and older) level.
        (_details(75, 250), QuotaLevel.LOW, QuotaLevel.SUFFICIENT),
        (_details(30, 250), QuotaLevel.SUFFICIENT, QuotaLevel.LOW),
        (_details(0, 250), QuotaLevel.SUFFICIENT, QuotaLevel.EXHAUSTED),
        (_details(-2, 250), QuotaLevel.LOW, QuotaLevel.EXHAUSTED),
        # Volume left on an expired quota cannot be spent any more.
        (
            _details(200, 250, QuotaStatus.EXPIRED),
            QuotaLevel.SUFFICIENT,
            QuotaLevel.EXHAUSTED,
        ),
        (_details(200, 250, QuotaStatus.ACTIVE), None, QuotaLevel.SUFFICIENT),
        # Without a total no share can be judged: the list stands in.
        (_details(5, None), QuotaLevel.LOW, QuotaLevel.LOW),
        (_details(5, 0), None, QuotaLevel.SUFFICIENT),
        # An empty `{}` quota or no details at all: the list decides.
        (_details(None, None), QuotaLevel.LOW, QuotaLevel.LOW),
        (None, QuotaLevel.EXHAUSTED, QuotaLevel.EXHAUSTED),
        (None, None, None),
    ],
)
def test_sms_level_prefers_the_exact_volume(
    details: SimDetails | None,
    list_level: QuotaLevel | None,
    expected: QuotaLevel | None,
) -> None:
    """Binary sensor, quota state and account counts all judge a SIM this way."""
    sim = Sim(
        iccid=FLEET_ICCIDS[0],
        enabled=True,
        status="Enabled",
        sms_quota_level=list_level,
    )

    assert sms_level(sim, details, 20) is expected
