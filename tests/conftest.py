"""Shared fixtures: a 1NCE account answered by Home Assistant's HTTP mocker."""

from __future__ import annotations

from collections.abc import Generator
from contextlib import nullcontext
import json
from pathlib import Path
import re
from typing import Any
from unittest.mock import AsyncMock, PropertyMock, patch

# Import the project's package before the plugin's own `custom_components`,
# or Home Assistant's loader finds the plugin's and not this integration.
import custom_components  # noqa: F401  # isort: skip
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)
from syrupy.assertion import SnapshotAssertion
from syrupy.location import PyTestLocation

from custom_components.one_nce.api import DEFAULT_BASE_URL, OneNceClient, RateLimiter
from custom_components.one_nce.const import CONF_API_URL, DOMAIN
from homeassistant.const import (
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    MAJOR_VERSION,
    MINOR_VERSION,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

# Autouse: a test fails if Home Assistant reports a deprecation of ours.
from .deprecation_guard import fail_on_deprecation_reports  # noqa: F401

# Autouse: a test fails if a secret, token or forwarder secret reaches a log.
from .secrets_guard import secrets_guard  # noqa: F401

FIXTURES = Path(__file__).parent / "fixtures"
CLIENT_ID = "ha-client-4711"
CLIENT_SECRET = "s3cr3t-never-logged"
TOKEN_URL = f"{DEFAULT_BASE_URL}/oauth/token"
SIMS_URL = f"{DEFAULT_BASE_URL}/v2/sims"
# v1 usage of any SIM (the daily usage import asks once per SIM).
USAGE_URL_PATTERN = re.compile(r"/v1/sims/\d+/usage")
# v1 organisation limits, and the options for each (read by the select platform).
LIMITS_URL = f"{DEFAULT_BASE_URL}/v1/sims/limits"
LIMIT_OPTIONS_FIXTURES = {
    "smsMT": "limit_options_sms_mt.json",
    "smsMO": "limit_options_sms_mo.json",
    "data": "limit_options_data.json",
}


def load_json(name: str) -> Any:
    """Read a fixture written in the shapes the live 1NCE API answers with."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(
    enable_custom_integrations: None,
) -> Generator[None]:
    """Let Home Assistant load the integration from custom_components."""
    return


@pytest.fixture(autouse=True)
def generous_rate_limit() -> Generator[None]:
    """Let integration tests run without real-time waits for the rate limiter.

    The limiter waits on the event loop's real clock, which frozen test time
    does not move, so a test would race it. Its behaviour is proven on virtual
    time in tests/api/test_ratelimit.py and tests/test_coordinator.py, which
    use a real one.
    """

    def limiter(*args: Any, **kwargs: Any) -> RateLimiter:
        return RateLimiter(10_000, *args[1:], **kwargs)

    with patch("custom_components.one_nce.api.client.RateLimiter", new=limiter):
        yield


@pytest.fixture
def mock_config_entry() -> MockConfigEntry:
    """A configured 1NCE account."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="1NCE",
        unique_id=CLIENT_ID,
        data={
            CONF_CLIENT_ID: CLIENT_ID,
            CONF_CLIENT_SECRET: CLIENT_SECRET,
            CONF_API_URL: DEFAULT_BASE_URL,
        },
    )


def answer_limits(aioclient_mock: AiohttpClientMocker, **limits: Any) -> None:
    """Answer the organisation's monthly limits (as `limits` says, if given)
    and the options for each."""
    aioclient_mock.get(LIMITS_URL, **(limits or {"json": load_json("limits.json")}))
    for service, fixture in LIMIT_OPTIONS_FIXTURES.items():
        aioclient_mock.get(
            f"{DEFAULT_BASE_URL}/v1/sims/{service}/limits", json=load_json(fixture)
        )


@pytest.fixture
def mock_api(aioclient_mock: AiohttpClientMocker) -> AiohttpClientMocker:
    """1NCE with a token endpoint and a one-page fleet of three SIMs."""
    aioclient_mock.post(TOKEN_URL, json=load_json("token.json"))
    aioclient_mock.get(
        SIMS_URL,
        json=load_json("sims.json"),
        headers={"X-Total-Pages": "1", "X-Total-Count": "3"},
    )
    aioclient_mock.get(USAGE_URL_PATTERN, json=load_json("usage_unused.json"))
    answer_limits(aioclient_mock)
    return aioclient_mock


@pytest.fixture
def no_sleep() -> Generator[None]:
    """Let the client's retry backoff pass without waiting in real time."""

    def client_without_waits(*args: Any, **kwargs: Any) -> OneNceClient:
        return OneNceClient(*args, backoff_base=0.0, **kwargs)

    with patch(
        "custom_components.one_nce.connection.OneNceClient",
        side_effect=client_without_waits,
    ):
        yield


FLEET_ICCIDS = (
    "8988228066000000001",
    "8988228066000000002",
    "8988228066000000003",
)


def sim_url(iccid: str, path: str = "") -> str:
    """The URL of one SIM's endpoint, as the client calls it."""
    return f"{SIMS_URL}/{iccid}{path}"


def answer_details(aioclient_mock: AiohttpClientMocker, number: int) -> None:
    """Answer fleet SIM `number`'s quota and status requests from its fixtures.

    Its event log too (asked for only while its last-event sensor is enabled):
    SIM 1 has two events, the others none.
    """
    iccid = FLEET_ICCIDS[number - 1]
    for path, fixture in (
        ("/quota/sms", f"quota_sms_{number}.json"),
        ("/quota/data", f"quota_data_{number}.json"),
        ("/status", f"status_{number}.json"),
    ):
        aioclient_mock.get(sim_url(iccid, path), json=load_json(fixture))
    events = load_json("events.json") if number == 1 else []
    aioclient_mock.get(sim_url(iccid, "/events"), json=events)


@pytest.fixture
def mock_details(mock_api: AiohttpClientMocker) -> AiohttpClientMocker:
    """1NCE that also answers the three SIMs' quotas and network status.

    The bodies carry the live API's quirks: zone-less dates, numbers as
    strings, an empty `{}` data quota and an overdrawn (negative) SMS volume.
    """
    for number in range(1, len(FLEET_ICCIDS) + 1):
        answer_details(mock_api, number)
    return mock_api


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Create entities that are disabled by default as enabled, to test them all."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield


def answer_fleet(
    aioclient_mock: AiohttpClientMocker, sims: list[dict[str, Any]]
) -> None:
    """Answer anew (earlier answers dropped): this SIM list, and the details of
    whichever of the three fixture SIMs it still holds."""
    aioclient_mock.clear_requests()
    aioclient_mock.post(TOKEN_URL, json=load_json("token.json"))
    aioclient_mock.get(SIMS_URL, json=sims, headers={"X-Total-Pages": "1"})
    aioclient_mock.get(USAGE_URL_PATTERN, json=load_json("usage_unused.json"))
    answer_limits(aioclient_mock)
    listed = {sim["iccid"] for sim in sims}
    for number, iccid in enumerate(FLEET_ICCIDS, start=1):
        if iccid in listed:
            answer_details(aioclient_mock, number)


def find_device(
    hass: HomeAssistant, identifier: tuple[str, str]
) -> dr.DeviceEntry | None:
    """The 1NCE device with this identifier, found alike on every release.

    Home Assistant 2026.x reports `async_get_device` as deprecated (and fails
    a test calling it); a 1NCE entry's own devices are listed on every release.
    """
    registry = dr.async_get(hass)
    return next(
        (
            device
            for entry in hass.config_entries.async_entries(DOMAIN)
            for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
            if identifier in device.identifiers
        ),
        None,
    )


async def setup_integration(
    hass: HomeAssistant, entry: MockConfigEntry, platforms: list[Platform]
) -> None:
    """Set the entry up with only `platforms`, so each test sees its own."""
    entry.add_to_hass(hass)
    with patch("custom_components.one_nce.PLATFORMS", platforms):
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()


class ReleaseSnapshotExtension(HomeAssistantSnapshotExtension):
    """Home Assistant's snapshots, in one folder per Home Assistant release.

    Releases serialize the same entities differently (2026.x writes registry
    aliases as a list, for one), so each test leg keeps its own snapshots:
    `snapshots/ha2025.4/`, `snapshots/ha2026.10/`.
    """

    @classmethod
    def dirname(cls, *, test_location: PyTestLocation) -> str:
        """Put the snapshots under the running release's folder."""
        folder = Path(super().dirname(test_location=test_location))
        return str(folder / f"ha{MAJOR_VERSION}.{MINOR_VERSION}")


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshot with Home Assistant's serializer (stable ids, `snapshots/` folder).

    The test plugin defines the same fixture, but syrupy's own plugin can win
    over it; a conftest fixture always wins.
    """
    return snapshot.use_extension(ReleaseSnapshotExtension)


@pytest.fixture
def stable_config_entry(mock_config_entry: MockConfigEntry) -> MockConfigEntry:
    """The same account with a fixed entry id, so snapshots of ids are stable."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=mock_config_entry.title,
        unique_id=mock_config_entry.unique_id,
        entry_id="01JONCE0ACCOUNT0000000000",
        data=dict(mock_config_entry.data),
    )


@pytest.fixture
def no_rate_limit() -> Generator[None]:
    """Admit every request at once: entity tests are not about the limiter.

    Home Assistant's test loop runs on the frozen clock of `freezer`, so a
    limiter wait for the next one-second window would never end once a setup
    sends more than ten requests (the limiter has its own tests in tests/api).
    """
    with (
        patch(
            "custom_components.one_nce.api.ratelimit.RateLimiter.acquire", AsyncMock()
        ),
        patch(
            "custom_components.one_nce.api.ratelimit.RateLimiter.slot",
            lambda _limiter: nullcontext(),
        ),
    ):
        yield


@pytest.fixture
async def loaded(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
) -> AiohttpClientMocker:
    """A loaded account with its SIM devices; requests made so far forgotten."""
    from .services_common import set_up  # noqa: PLC0415  # it imports this module

    await set_up(hass, mock_config_entry, [Platform.SENSOR])
    mock_details.mock_calls.clear()
    return mock_details


@pytest.fixture
async def sms_api(loaded: AiohttpClientMocker) -> AiohttpClientMocker:
    """A loaded account whose SMS endpoint accepts everything (v2 style)."""
    from .services_common import answer_sms_posts  # noqa: PLC0415

    answer_sms_posts(loaded)
    return loaded
