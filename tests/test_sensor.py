"""Sensors: what each SIM and the account show, and when they cannot say."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from http import HTTPStatus

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

from custom_components.one_nce.const import CONF_SMS_LOW_THRESHOLD
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er

from .conftest import (
    FLEET_ICCIDS,
    SIMS_URL,
    TOKEN_URL,
    USAGE_URL_PATTERN,
    answer_details,
    answer_fleet,
    load_json,
    setup_integration,
    sim_url,
)

# The setups here send more than ten requests at one frozen instant.
pytestmark = pytest.mark.usefixtures("no_rate_limit")

GARDEN_GATE = "sensor.garden_gate"
NO_LABEL = "sensor.8988228066000000002"


async def _wait(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, delta: timedelta
) -> None:
    """Let time pass; the extra second covers the coordinators' random jitter."""
    freezer.tick(delta + timedelta(seconds=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def _poll(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Let one list interval pass (details tick along with it)."""
    await _wait(hass, freezer, timedelta(minutes=15))


# Frozen: the month sensors' `last_reset` is the start of the current month.
@pytest.mark.freeze_time("2026-11-24 12:00:00+00:00")
@pytest.mark.usefixtures("entity_registry_enabled_by_default", "mock_details")
async def test_every_sensor_shows_the_fleet(
    hass: HomeAssistant,
    stable_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    snapshot: SnapshotAssertion,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Every SIM and account sensor, with its state and attributes."""
    await setup_integration(hass, stable_config_entry, [Platform.SENSOR])
    # The last network events are read at the first tick after setup.
    await _wait(hass, freezer, timedelta(minutes=1))

    await snapshot_platform(
        hass, entity_registry, snapshot, stable_config_entry.entry_id
    )


@pytest.mark.usefixtures("mock_details")
async def test_rarely_needed_sensors_start_disabled(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
) -> None:
    """ICCID, IMSI, IMEI, IP address and the like do not clutter a new installation.

    The ICCID is the SIM device's serial number already.
    """
    await setup_integration(hass, mock_config_entry, [Platform.SENSOR])

    disabled = {
        entry.unique_id.removeprefix(f"{FLEET_ICCIDS[0]}_")
        for entry in er.async_entries_for_config_entry(
            entity_registry, mock_config_entry.entry_id
        )
        if entry.disabled_by is not None and entry.unique_id.startswith(FLEET_ICCIDS[0])
    }
    assert disabled == {
        "iccid",
        "imsi",
        "imei",
        "ip_address",
        "activation_date",
        "radio_access_type",
        "sms_volume_total",
        "data_volume_total",
        "last_event",
    }
    assert hass.states.get(f"{GARDEN_GATE}_sms_volume_left").state == "75.0"


@pytest.mark.usefixtures("mock_details")
async def test_quirky_details_read_honestly(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """An empty `{}` quota is unknown, an overdrawn one is negative and exhausted."""
    await setup_integration(hass, mock_config_entry, [Platform.SENSOR])

    assert hass.states.get(f"{NO_LABEL}_data_volume_left").state == STATE_UNKNOWN
    assert hass.states.get(f"{NO_LABEL}_sms_volume_left").state == "30.0"
    weather = "sensor.weather_station"
    assert hass.states.get(f"{weather}_sms_volume_left").state == "-2.0"
    assert hass.states.get(f"{weather}_sms_quota_state").state == "exhausted"
    assert hass.states.get(f"{weather}_connection_status").state == "blocked"
    # The account's total counts the overdrawn SIM as empty, not as a debt.
    assert hass.states.get("sensor.1nce_account_sms_volume_left").state == "105.0"


@pytest.mark.usefixtures("mock_details")
async def test_account_counts_follow_the_users_threshold(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """At 40 % the Garden gate SIM (30 % left) counts as low, like its own sensor."""
    mock_config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        mock_config_entry, options={CONF_SMS_LOW_THRESHOLD: 40}
    )
    await setup_integration(hass, mock_config_entry, [Platform.SENSOR])

    assert hass.states.get("sensor.1nce_account_sims").state == "3"
    assert (
        hass.states.get("sensor.1nce_account_sims_with_sufficient_sms_volume").state
        == "0"
    )
    assert hass.states.get("sensor.1nce_account_sims_with_low_sms_volume").state == "2"
    assert hass.states.get("sensor.1nce_account_sims_without_sms_volume").state == "1"
    assert hass.states.get(f"{GARDEN_GATE}_sms_quota_state").state == "low"


@pytest.mark.usefixtures("mock_api")
async def test_without_details_the_list_tells_the_sms_state(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    """Before any details load, quota states come from the list.

    Each SIM's own exact volume is unavailable until its details are read, and
    so is the account's total: the list's `current_quota_SMS` is the quota
    set for a SIM, not what is left of it.
    """
    await setup_integration(hass, mock_config_entry, [Platform.SENSOR])

    assert hass.states.get(f"{GARDEN_GATE}_sms_quota_state").state == "sufficient"
    assert hass.states.get(f"{NO_LABEL}_sms_quota_state").state == "low"
    assert hass.states.get(f"{NO_LABEL}_data_quota_state").state == "low"
    assert hass.states.get(f"{GARDEN_GATE}_sms_volume_left").state == STATE_UNAVAILABLE
    assert hass.states.get("sensor.1nce_account_sims_with_low_sms_volume").state == "1"
    assert hass.states.get("sensor.1nce_account_sms_volume_left").state == (
        STATE_UNKNOWN
    )


def _answer_with_sim_2_status_failing(
    aioclient_mock: AiohttpClientMocker, sims: list[dict[str, object]] | None = None
) -> None:
    aioclient_mock.clear_requests()
    aioclient_mock.post(TOKEN_URL, json=load_json("token.json"))
    aioclient_mock.get(SIMS_URL, json=sims or load_json("sims.json"))
    aioclient_mock.get(
        sim_url(FLEET_ICCIDS[1], "/status"),
        status=HTTPStatus.INTERNAL_SERVER_ERROR,
        text="<html>Internal Server Error</html>",
    )
    for number in (1, 2, 3):
        answer_details(aioclient_mock, number)


async def test_one_sims_failing_details_leave_the_others_alone(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    no_sleep: None,
) -> None:
    """Only the SIM whose details fail loses its detail sensors; its list ones stay."""
    _answer_with_sim_2_status_failing(aioclient_mock)
    await setup_integration(hass, mock_config_entry, [Platform.SENSOR])

    assert hass.states.get(f"{NO_LABEL}_connection_status").state == STATE_UNAVAILABLE
    assert hass.states.get(f"{NO_LABEL}_sms_volume_left").state == STATE_UNAVAILABLE
    assert hass.states.get(f"{NO_LABEL}_msisdn").state == "882285100000002"
    # Its SMS state falls back to what the list says.
    assert hass.states.get(f"{NO_LABEL}_sms_quota_state").state == "low"
    assert hass.states.get(f"{GARDEN_GATE}_connection_status").state == "online"
    assert hass.states.get("sensor.weather_station_sms_volume_left").state == "-2.0"


async def test_one_sims_failing_details_leave_the_others_alone_later(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    no_sleep: None,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A minute later, when only the failing SIM is retried, the others still show."""
    _answer_with_sim_2_status_failing(aioclient_mock)
    await setup_integration(hass, mock_config_entry, [Platform.SENSOR])

    await _wait(hass, freezer, timedelta(minutes=1))

    assert hass.states.get(f"{NO_LABEL}_connection_status").state == STATE_UNAVAILABLE
    assert hass.states.get(f"{GARDEN_GATE}_connection_status").state == "online"


async def test_list_outage_makes_every_sensor_unavailable_until_it_recovers(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    no_sleep: None,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Without the list nothing is shown as current; with it back, all return."""
    await setup_integration(hass, mock_config_entry, [Platform.SENSOR])
    watched = (
        f"{GARDEN_GATE}_msisdn",
        f"{GARDEN_GATE}_sms_volume_left",
        f"{GARDEN_GATE}_sms_quota_state",
        "sensor.1nce_account_sims",
    )

    mock_details.clear_requests()
    mock_details.post(TOKEN_URL, json=load_json("token.json"))
    mock_details.get(SIMS_URL, status=HTTPStatus.BAD_GATEWAY, text="<html>")
    await _poll(hass, freezer)
    assert [hass.states.get(entity_id).state for entity_id in watched] == [
        STATE_UNAVAILABLE
    ] * len(watched)

    answer_fleet(mock_details, load_json("sims.json"))
    await _poll(hass, freezer)
    assert [hass.states.get(entity_id).state for entity_id in watched] == [
        "882285100000001",
        "75.0",
        "sufficient",
        "3",
    ]


# --- the account's SMS volume left -------------------------------------------------

ACCOUNT_SMS_LEFT = "sensor.1nce_account_sms_volume_left"
TILES = (
    "sensor.1nce_account_sims_with_sufficient_sms_volume",
    "sensor.1nce_account_sims_with_low_sms_volume",
    "sensor.1nce_account_sims_without_sms_volume",
)


def _answer_with(
    aioclient_mock: AiohttpClientMocker,
    answers: dict[tuple[int, str], dict[str, object]],
) -> None:
    """Answer the fleet as the fixtures do, but these SIMs' (number, path) as given."""
    aioclient_mock.clear_requests()
    for (number, path), answer in answers.items():
        aioclient_mock.get(sim_url(FLEET_ICCIDS[number - 1], path), **answer)  # type: ignore[arg-type]
    aioclient_mock.post(TOKEN_URL, json=load_json("token.json"))
    aioclient_mock.get(SIMS_URL, json=load_json("sims.json"))
    aioclient_mock.get(USAGE_URL_PATTERN, json=load_json("usage_unused.json"))
    for number in (1, 2, 3):
        answer_details(aioclient_mock, number)


async def _refetch_sim_2(hass: HomeAssistant, freezer: FrozenDateTimeFactory) -> None:
    """Have SIM 2's details fetched again at the next tick."""
    entry = hass.config_entries.async_entries("one_nce")[0]
    entry.runtime_data.details.request_soon(FLEET_ICCIDS[1])
    await _wait(hass, freezer, timedelta(minutes=1))


def _tiles(hass: HomeAssistant) -> list[int]:
    return [int(hass.states.get(entity_id).state) for entity_id in TILES]


def _sims_with(number: int, **fields: object) -> list[dict[str, object]]:
    """The fixture's SIM list, with these fields of SIM `number` changed."""
    sims: list[dict[str, object]] = load_json("sims.json")
    sims[number - 1].update(fields)
    return sims


def _not_counted(hass: HomeAssistant) -> int:
    return int(hass.states.get(ACCOUNT_SMS_LEFT).attributes["sims_not_counted"])


@pytest.mark.usefixtures("no_sleep")
async def test_account_sms_volume_leaves_out_a_sim_without_details_and_says_so(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """SIM 2's details fail from the start: the others count, and it is named.

    Neither blank for good because of one broken SIM, nor a guess in its place.
    """
    _answer_with_sim_2_status_failing(aioclient_mock)
    await setup_integration(hass, mock_config_entry, [Platform.SENSOR])

    # Garden gate 75, Weather station overdrawn (0); SIM 2 not known.
    assert hass.states.get(ACCOUNT_SMS_LEFT).state == "75.0"
    assert _not_counted(hass) == 1

    answer_fleet(aioclient_mock, load_json("sims.json"))
    await _refetch_sim_2(hass, freezer)

    assert hass.states.get(ACCOUNT_SMS_LEFT).state == "105.0"
    assert _not_counted(hass) == 0


@pytest.mark.usefixtures("no_sleep")
async def test_account_sms_volume_never_takes_the_lists_quota_for_what_is_left(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The list's `current_quota_SMS` is the quota set (250), not SMS left."""
    _answer_with_sim_2_status_failing(aioclient_mock)
    await setup_integration(hass, mock_config_entry, [Platform.SENSOR])

    _answer_with_sim_2_status_failing(
        aioclient_mock, _sims_with(2, current_quota_SMS=500)
    )
    for _ in range(4):
        await _poll(hass, freezer)

    assert hass.states.get(f"{NO_LABEL}_sms_volume_left").state == STATE_UNAVAILABLE
    assert hass.states.get(ACCOUNT_SMS_LEFT).state == "75.0"


async def test_account_sms_volume_counts_an_expired_quota_as_empty(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """SMS left on an expired quota cannot be sent, so they are not in the total."""
    expired = {**load_json("quota_sms_1.json"), "status": {"description": "EXPIRED"}}
    _answer_with(aioclient_mock, {(1, "/quota/sms"): {"json": expired}})
    await setup_integration(hass, mock_config_entry, [Platform.SENSOR])

    assert hass.states.get(f"{GARDEN_GATE}_sms_volume_left").state == "75.0"
    assert hass.states.get(ACCOUNT_SMS_LEFT).state == "30.0"


@pytest.mark.usefixtures("no_sleep", "mock_details")
async def test_account_sms_volume_keeps_a_failing_sims_last_volume(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A SIM whose details fail later still counts, with the volume it last had.

    The dashboard tiles keep counting it too, from the level the list shows.
    """
    await setup_integration(hass, mock_config_entry, [Platform.SENSOR])
    assert hass.states.get(ACCOUNT_SMS_LEFT).state == "105.0"

    _answer_with_sim_2_status_failing(aioclient_mock)
    await _refetch_sim_2(hass, freezer)

    assert hass.states.get(f"{NO_LABEL}_sms_volume_left").state == STATE_UNAVAILABLE
    assert hass.states.get(ACCOUNT_SMS_LEFT).state == "105.0"
    assert _tiles(hass) == [1, 1, 1]


@pytest.mark.usefixtures("mock_details")
async def test_account_sms_volume_keeps_a_volume_1nce_stops_telling(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An empty `{}` SMS quota after a known one leaves the SIM's 30 SMS counted."""
    await setup_integration(hass, mock_config_entry, [Platform.SENSOR])

    _answer_with(aioclient_mock, {(2, "/quota/sms"): {"json": {}}})
    await _refetch_sim_2(hass, freezer)

    assert hass.states.get(f"{NO_LABEL}_sms_volume_left").state == STATE_UNKNOWN
    assert hass.states.get(ACCOUNT_SMS_LEFT).state == "105.0"


async def test_account_sms_volume_counts_a_sim_the_list_shows_empty(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A SIM whose quota is always `{}` and which the list shows with none left is empty.

    The list still says 250 SMS of it: volume left on an expired quota, which
    cannot be spent.
    """
    _answer_with(aioclient_mock, {(3, "/quota/sms"): {"json": {}}})
    await setup_integration(hass, mock_config_entry, [Platform.SENSOR])

    assert hass.states.get("sensor.weather_station_sms_volume_left").state == (
        STATE_UNKNOWN
    )
    assert hass.states.get(ACCOUNT_SMS_LEFT).state == "105.0"


async def test_account_sms_volume_leaves_out_a_sim_always_answering_empty_quota(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """SIM 2's quota is always `{}` (a known 1NCE quirk): left out, and counted so."""
    _answer_with(aioclient_mock, {(2, "/quota/sms"): {"json": {}}})
    await setup_integration(hass, mock_config_entry, [Platform.SENSOR])

    assert hass.states.get(f"{NO_LABEL}_sms_volume_left").state == STATE_UNKNOWN
    # Garden gate 75, Weather station overdrawn.
    assert hass.states.get(ACCOUNT_SMS_LEFT).state == "75.0"
    assert _not_counted(hass) == 1


async def test_account_sms_volume_is_0_when_the_list_says_every_sim_has_none(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Every quota answered `{}`, every SIM listed with none left: 0, not unknown."""
    sims = load_json("sims.json")
    for sim in sims:
        sim["quota_status_SMS"] = {"id": 2, "description": "No volume available"}
    aioclient_mock.post(TOKEN_URL, json=load_json("token.json"))
    aioclient_mock.get(SIMS_URL, json=sims)
    aioclient_mock.get(USAGE_URL_PATTERN, json=load_json("usage_unused.json"))
    for number in (1, 2, 3):
        aioclient_mock.get(sim_url(FLEET_ICCIDS[number - 1], "/quota/sms"), json={})
        answer_details(aioclient_mock, number)
    await setup_integration(hass, mock_config_entry, [Platform.SENSOR])

    assert hass.states.get(ACCOUNT_SMS_LEFT).state == "0.0"
    assert _not_counted(hass) == 0


@pytest.mark.usefixtures("mock_details")
async def test_account_sms_volume_forgets_a_sim_that_left(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A SIM that leaves the account takes its volume with it."""
    await setup_integration(hass, mock_config_entry, [Platform.SENSOR])
    assert hass.states.get(ACCOUNT_SMS_LEFT).state == "105.0"

    # Garden gate (75 SMS) leaves.
    answer_fleet(aioclient_mock, load_json("sims.json")[1:])
    await _poll(hass, freezer)

    assert hass.states.get(ACCOUNT_SMS_LEFT).state == "30.0"
    assert hass.states.get("sensor.1nce_account_sims").state == "2"


# --- last network event ---------------------------------------------------------

LAST_EVENT = f"{GARDEN_GATE}_last_network_event"


def _event_calls(aioclient_mock: AiohttpClientMocker) -> list[str]:
    """The query of every event log request, in order."""
    return [
        url.query_string
        for method, url, _, _ in aioclient_mock.mock_calls
        if method == "GET" and url.path.endswith("/events")
    ]


def _detail_calls(aioclient_mock: AiohttpClientMocker) -> int:
    return sum(
        url.path.endswith(("/quota/sms", "/quota/data", "/status"))
        for _, url, _, _ in aioclient_mock.mock_calls
    )


async def test_disabled_last_event_sensor_costs_no_requests(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    entity_registry: er.EntityRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Off by default, and while off no event log is read, a whole interval long."""
    await setup_integration(hass, mock_config_entry, [Platform.SENSOR])

    entry = entity_registry.async_get(LAST_EVENT)
    assert entry is not None
    assert entry.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    for _ in range(65):
        await _wait(hass, freezer, timedelta(minutes=1))
    # Every SIM's details were read again meanwhile; their events never.
    assert _detail_calls(mock_details) == 2 * 3 * len(FLEET_ICCIDS)
    assert _event_calls(mock_details) == []


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_last_event_shows_the_newest_event_where_and_when(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Enabled, it reads each SIM's newest event at the next tick, alone."""
    await setup_integration(hass, mock_config_entry, [Platform.SENSOR])
    assert hass.states.get(LAST_EVENT).state == STATE_UNAVAILABLE
    mock_details.mock_calls.clear()

    await _wait(hass, freezer, timedelta(minutes=1))

    state = hass.states.get(LAST_EVENT)
    assert state.state == "Update location"
    assert state.attributes["time"] == datetime(2024, 11, 25, 12, 7, 9, tzinfo=UTC)
    assert state.attributes["operator"] == "Telekom"
    assert state.attributes["country"] == "Germany"
    # A SIM without events has no last event, which is not an error.
    assert hass.states.get(f"{NO_LABEL}_last_network_event").state == STATE_UNKNOWN
    # One newest-first event per SIM; the volumes are not read again for it.
    assert _event_calls(mock_details) == ["page=1&pageSize=1&sort=-timestamp"] * len(
        FLEET_ICCIDS
    )
    assert _detail_calls(mock_details) == 0


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_last_event_is_read_with_the_details_and_no_more_often(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """After the first read, a SIM's events are read once per detail interval."""
    await setup_integration(hass, mock_config_entry, [Platform.SENSOR])
    await _wait(hass, freezer, timedelta(minutes=1))
    assert len(_event_calls(mock_details)) == len(FLEET_ICCIDS)

    for _ in range(57):
        await _wait(hass, freezer, timedelta(minutes=1))
    assert len(_event_calls(mock_details)) == len(FLEET_ICCIDS)

    for _ in range(6):
        await _wait(hass, freezer, timedelta(minutes=1))
    assert len(_event_calls(mock_details)) == 2 * len(FLEET_ICCIDS)
    assert hass.states.get(LAST_EVENT).state == "Update location"


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_disabling_the_last_event_sensor_stops_its_requests(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
    entity_registry: er.EntityRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Once the user turns it off, the SIM's event log is no longer read."""
    await setup_integration(hass, mock_config_entry, [Platform.SENSOR])
    for entity_id in er.async_entries_for_config_entry(
        entity_registry, mock_config_entry.entry_id
    ):
        if entity_id.unique_id.endswith("_last_event"):
            entity_registry.async_update_entity(
                entity_id.entity_id, disabled_by=er.RegistryEntryDisabler.USER
            )
    await hass.async_block_till_done()
    mock_details.mock_calls.clear()

    for _ in range(65):
        await _wait(hass, freezer, timedelta(minutes=1))

    assert _detail_calls(mock_details) > 0
    assert _event_calls(mock_details) == []


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_failing_event_log_leaves_the_volumes_alone(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
    no_sleep: None,
) -> None:
    """Without its events a SIM shows no last event, but still its SMS volume."""
    aioclient_mock.post(TOKEN_URL, json=load_json("token.json"))
    aioclient_mock.get(SIMS_URL, json=load_json("sims.json"))
    aioclient_mock.get(USAGE_URL_PATTERN, json=load_json("usage_unused.json"))
    aioclient_mock.get(
        sim_url(FLEET_ICCIDS[0], "/events"),
        status=HTTPStatus.BAD_GATEWAY,
        text="<html>Bad Gateway</html>",
    )
    for number in (1, 2, 3):
        answer_details(aioclient_mock, number)
    await setup_integration(hass, mock_config_entry, [Platform.SENSOR])

    await _wait(hass, freezer, timedelta(minutes=1))

    assert hass.states.get(LAST_EVENT).state == STATE_UNAVAILABLE
    assert hass.states.get(f"{GARDEN_GATE}_sms_volume_left").state == "75.0"
    assert hass.states.get(f"{NO_LABEL}_last_network_event").state == STATE_UNKNOWN


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_rate_limited_event_log_slows_the_details_down(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """1NCE asking for a pause is heeded, events or not (an hour reads as 10 minutes)."""
    aioclient_mock.post(TOKEN_URL, json=load_json("token.json"))
    aioclient_mock.get(SIMS_URL, json=load_json("sims.json"))
    aioclient_mock.get(USAGE_URL_PATTERN, json=load_json("usage_unused.json"))
    aioclient_mock.get(
        sim_url(FLEET_ICCIDS[0], "/events"),
        status=HTTPStatus.TOO_MANY_REQUESTS,
        headers={"Retry-After": "3600"},
    )
    for number in (1, 2, 3):
        answer_details(aioclient_mock, number)
    await setup_integration(hass, mock_config_entry, [Platform.SENSOR])

    await _wait(hass, freezer, timedelta(minutes=1))

    details = mock_config_entry.runtime_data.details
    assert details.update_interval == timedelta(minutes=10)
    assert hass.states.get(LAST_EVENT).state == STATE_UNAVAILABLE
