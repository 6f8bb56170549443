"""Secrets stay secret: not in diagnostics, and the log guard catches them in logs.

`secrets_guard` (a plugin every test runs under) fails any test whose log
shows a credential, a token or a forwarder secret; the tests here prove that
it does catch them, so that a green suite means something.
"""

from __future__ import annotations

import base64
import json
import logging

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.one_nce.const import CONF_CLOUDHOOK_URL, CONF_FORWARDER_SECRET
from homeassistant.core import HomeAssistant
from homeassistant.core_config import async_process_ha_core_config
from homeassistant.setup import async_setup_component

from .conftest import CLIENT_SECRET, load_json
from .forwarder_common import mo_sms, push, setup_receiving
from .secrets_guard import Secret, find_leaks, fixture_secrets, streamer_secrets

pytestmark = pytest.mark.usefixtures("mock_details")

FORWARDER_SECRET = "fwd-secret-0123456789abcdefghijklmnopqrstuv"
CLOUDHOOK_TOKEN = "gAAAAABm-cloudhook-token-for-diagnostics"
EXTERNAL_URL = "https://ha.example.com"


def record(
    message: str,
    *args: object,
    logger: str = "custom_components.one_nce",
    exc: BaseException | None = None,
) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord(
        logger, logging.DEBUG, __file__, 1, message, args, exc_info
    )


# --- the guard ---------------------------------------------------------------------


def test_guard_knows_the_fixture_tokens() -> None:
    token = load_json("token.json")["access_token"]

    assert token in {secret.value for secret in fixture_secrets()}


def test_guard_finds_a_secret_in_a_message_argument() -> None:
    leaks = find_leaks(
        [record("Logging in with %s", CLIENT_SECRET)],
        [Secret(CLIENT_SECRET, "client secret")],
    )

    assert [str(leak) for leak in leaks] == [
        "client secret in a record of custom_components.one_nce at DEBUG"
    ]


def test_guard_finds_a_secret_in_a_traceback() -> None:
    try:
        raise ValueError(f"bad token {CLIENT_SECRET}")
    except ValueError as err:
        leaked = record("Request failed", exc=err)

    assert find_leaks([leaked], [Secret(CLIENT_SECRET, "client secret")])


def test_guard_allows_the_forwarder_secret_only_in_home_assistants_path_logs() -> None:
    """HA logs the path it serves; nobody else may show the secret."""
    secret = Secret(FORWARDER_SECRET, "forwarder secret", path_segment=True)
    path = f"/api/one_nce/forwarder/{FORWARDER_SECRET}"
    records = [
        record("Serving %s to 127.0.0.1", path, logger="homeassistant.helpers.http"),
        record('"POST %s HTTP/1.1" 200', path, logger="aiohttp.access"),
        record("Refused a request to %s", path),
    ]

    assert [leak.logger for leak in find_leaks(records, [secret])] == [
        "custom_components.one_nce"
    ]


def test_guard_allows_no_credential_in_the_path_logs() -> None:
    leaks = find_leaks(
        [record("Serving %s", CLIENT_SECRET, logger="aiohttp.access")],
        [Secret(CLIENT_SECRET, "client secret")],
    )

    assert len(leaks) == 1


def test_guard_finds_the_streamer_password_and_its_basic_credential() -> None:
    """Logged plain or as the base64 header the Portal is given: both are leaks."""
    password = "streamer-password-0123456789abcdef"
    credential = base64.b64encode(f"one_nce:{password}".encode()).decode()
    records = [
        record("Authorization: Basic %s", credential),
        record("password %s", password),
        record("Data Streamer request refused"),
    ]

    leaks = find_leaks(records, streamer_secrets(password))

    assert sorted(leak.kind for leak in leaks) == [
        "Data Streamer credential",
        "Data Streamer password",
    ]


# --- diagnostics ---------------------------------------------------------------------


async def test_diagnostics_hold_no_secret(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    mock_config_entry: MockConfigEntry,
) -> None:
    """Not the credentials, the token, the forwarder secret or the cloudhook's."""
    await async_process_ha_core_config(hass, {"external_url": EXTERNAL_URL})
    assert await async_setup_component(hass, "diagnostics", {})
    entry = MockConfigEntry(
        domain=mock_config_entry.domain,
        title=mock_config_entry.title,
        unique_id=mock_config_entry.unique_id,
        data={
            **mock_config_entry.data,
            CONF_FORWARDER_SECRET: FORWARDER_SECRET,
            CONF_CLOUDHOOK_URL: f"https://hooks.nabu.casa/{CLOUDHOOK_TOKEN}",
        },
    )
    await setup_receiving(hass, entry)
    # A message, so that the forwarder's counts are there too.
    assert (await push(await hass_client_no_auth(), entry, mo_sms())).status == 200

    diagnostics = await get_diagnostics_for_config_entry(hass, hass_client, entry)

    forwarder = diagnostics["forwarder"]
    assert forwarder["forwarder_url"] == (
        f"{EXTERNAL_URL}/api/one_nce/forwarder/**REDACTED**"
    )
    assert forwarder["cloudhook_url"] == "https://hooks.nabu.casa/**REDACTED**"
    assert forwarder["requests"]["received"] == 1
    dumped = json.dumps(diagnostics)
    for secret in (
        CLIENT_SECRET,
        load_json("token.json")["access_token"],
        FORWARDER_SECRET,
        CLOUDHOOK_TOKEN,
    ):
        assert secret not in dumped
