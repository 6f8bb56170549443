"""Adding, re-authenticating, reconfiguring and tuning a 1NCE account."""

from __future__ import annotations

import base64
from collections.abc import Callable, Generator
from http import HTTPStatus
import json
from typing import Any
from unittest.mock import AsyncMock, patch

import aiohttp
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)
import voluptuous as vol

# How the frontend receives a form: Home Assistant 2026.x serializes with
# probatio, older releases with voluptuous-serialize.
try:
    from probatio import to_field_list as serialize_schema
except ImportError:
    from voluptuous_serialize import convert as serialize_schema

from custom_components.one_nce.api import DEFAULT_BASE_URL, OneNceClient
from custom_components.one_nce.config_flow import (
    DEFAULT_API_URL_ENV,
    SECTION_ADVANCED,
)
from custom_components.one_nce.const import (
    CONF_API_URL,
    CONF_DETAIL_INTERVAL,
    CONF_FORWARDER_SECRET,
    CONF_LIST_INTERVAL,
    CONF_MAX_SMS_PARTS,
    CONF_SMS_LOW_THRESHOLD,
    CONF_STREAMER_PASSWORD,
    DOMAIN,
)
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import CONF_CLIENT_ID, CONF_CLIENT_SECRET
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import (
    FlowResult,
    FlowResultType,
    InvalidData,
    section,
)
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.translation import async_get_translations

from .conftest import CLIENT_ID, CLIENT_SECRET, SIMS_URL, TOKEN_URL, load_json

NEW_SECRET = "n3w-s3cr3t-from-the-portal"
SANDBOX_URL = "https://sandbox.example.net/management-api"
FIRST_PAGE = {"page": "1", "pageSize": "1"}
BAD_CREDENTIALS = {
    "statusCode": 400,
    "errorCode": "CognitoAuthenticationError",
    "message": "Incorrect username or password.",
}
GATEWAY_PAGE = "<html><body><h1>503 Service Unavailable</h1></body></html>"
DEFAULT_OPTIONS = {
    CONF_LIST_INTERVAL: 15,
    CONF_DETAIL_INTERVAL: 60,
    CONF_SMS_LOW_THRESHOLD: 20,
    CONF_MAX_SMS_PARTS: 6,
}


@pytest.fixture(autouse=True)
def client_without_waits() -> Generator[AsyncMock]:
    """Let the client's retry backoff pass without waiting in real time."""
    sleep = AsyncMock()

    def build(*args: Any, **kwargs: Any) -> OneNceClient:
        # The account's shared limiter (connection.py) keeps real waits: a
        # sleep that returns at once without time passing would make it spin.
        return OneNceClient(*args, sleep=sleep, **kwargs)

    with patch("custom_components.one_nce.connection.OneNceClient", side_effect=build):
        yield sleep


@pytest.fixture
def mock_setup_entry() -> Generator[AsyncMock]:
    """Keep a created or reloaded entry from really talking to 1NCE."""
    with patch(
        "custom_components.one_nce.async_setup_entry", return_value=True
    ) as setup:
        yield setup


def _without_streamer(data: Any) -> dict[str, Any]:
    """The entry's data but the Data Streamer credential its migration added."""
    return {key: value for key, value in data.items() if key != CONF_STREAMER_PASSWORD}


def answer_account(
    aioclient_mock: AiohttpClientMocker, base_url: str = DEFAULT_BASE_URL
) -> None:
    """Answer like a healthy account: a token and a first page of one SIM."""
    aioclient_mock.clear_requests()
    aioclient_mock.post(f"{base_url}/oauth/token", json=load_json("token.json"))
    aioclient_mock.get(
        f"{base_url}/v2/sims",
        params=FIRST_PAGE,
        json=load_json("sims.json")[:1],
        headers={"X-Total-Pages": "3", "X-Total-Count": "3", "X-Current-Page": "1"},
    )


def token_refused(aioclient_mock: AiohttpClientMocker) -> None:
    """1NCE's observed answer to a wrong Client-ID or secret."""
    aioclient_mock.post(TOKEN_URL, status=HTTPStatus.BAD_REQUEST, json=BAD_CREDENTIALS)


def sims_unauthorized(aioclient_mock: AiohttpClientMocker) -> None:
    """A token is issued, but the SIM list refuses it even after a renewal."""
    aioclient_mock.post(TOKEN_URL, json=load_json("token.json"))
    aioclient_mock.get(
        SIMS_URL, status=HTTPStatus.UNAUTHORIZED, json={"message": "Unauthorized"}
    )


def sims_forbidden(aioclient_mock: AiohttpClientMocker) -> None:
    """A token is issued, but the API forbids its holder the SIM list."""
    aioclient_mock.post(TOKEN_URL, json=load_json("token.json"))
    aioclient_mock.get(
        SIMS_URL,
        status=HTTPStatus.FORBIDDEN,
        json={"message": "User is not authorized to access this resource"},
    )


def gateway_down(aioclient_mock: AiohttpClientMocker) -> None:
    """1NCE's gateway answers an HTML error page."""
    aioclient_mock.post(
        TOKEN_URL, status=HTTPStatus.SERVICE_UNAVAILABLE, text=GATEWAY_PAGE
    )


def sims_down(aioclient_mock: AiohttpClientMocker) -> None:
    """The token works but the SIM list keeps failing."""
    aioclient_mock.post(TOKEN_URL, json=load_json("token.json"))
    aioclient_mock.get(SIMS_URL, status=HTTPStatus.SERVICE_UNAVAILABLE)


def token_timeout(aioclient_mock: AiohttpClientMocker) -> None:
    """1NCE does not answer in time."""
    aioclient_mock.post(TOKEN_URL, exc=TimeoutError())


def no_network(aioclient_mock: AiohttpClientMocker) -> None:
    """1NCE cannot be reached at all."""
    aioclient_mock.post(TOKEN_URL, exc=aiohttp.ClientConnectionError("no route"))


def assert_secret_hidden(result: FlowResult[Any, Any], *secrets: str) -> None:
    """Fail if anything the frontend receives for this form carries a secret."""
    shown = dict(result)
    if shown.get("data_schema") is not None:
        shown["data_schema"] = serialize_schema(
            shown["data_schema"], custom_serializer=cv.custom_serializer
        )
    text = json.dumps(shown, default=str)
    for secret in secrets or (CLIENT_SECRET,):
        assert secret not in text


def suggested(result: FlowResult[Any, Any]) -> dict[str, Any]:
    """The values a form shows pre-filled, sections as nested dicts."""

    def prefilled(schema: vol.Schema) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, value in schema.schema.items():
            if isinstance(value, section):
                if inner := prefilled(value.schema):
                    values[str(key)] = inner
            elif key.description and "suggested_value" in key.description:
                values[str(key)] = key.description["suggested_value"]
        return values

    schema = result["data_schema"]
    assert schema is not None
    return prefilled(schema)


def fields(result: FlowResult[Any, Any]) -> list[str]:
    """The fields a form asks for at its top level."""
    schema = result["data_schema"]
    assert schema is not None
    return [str(key) for key in schema.schema]


def frontend_fields(result: FlowResult[Any, Any]) -> list[dict[str, Any]]:
    """The form as the frontend receives it (serialized, sections included)."""
    fields: list[dict[str, Any]] = serialize_schema(
        result["data_schema"], custom_serializer=cv.custom_serializer
    )
    return fields


def frontend_prefill(fields: list[dict[str, Any]]) -> dict[str, Any]:
    """What the frontend's form starts with, by its own rule.

    A field's suggested value, else its default; a section without either is
    filled from its fields. A section's own default therefore hides the
    defaults and suggested values of the fields inside it.
    """
    data: dict[str, Any] = {}
    for field in fields:
        suggested = (field.get("description") or {}).get("suggested_value")
        if suggested is not None:
            data[field["name"]] = suggested
        elif "default" in field:
            data[field["name"]] = field["default"]
        elif field.get("type") == "expandable":
            inner = frontend_prefill(field["schema"])
            if field.get("required") or inner:
                data[field["name"]] = inner
    return data


def frontend_sends(fields: list[dict[str, Any]], data: dict[str, Any]) -> bool:
    """Whether the frontend submits `data`, or says not all fields are filled in."""
    for field in fields:
        value = data.get(field["name"])
        if field.get("required") and value in ("", None):
            return False
        if (
            field.get("type") == "expandable"
            and value is not None
            and not frontend_sends(field["schema"], value)
        ):
            return False
    return True


def section_of(fields: list[dict[str, Any]]) -> dict[str, Any]:
    """The serialized advanced section of a credential form."""
    return next(field for field in fields if field["name"] == SECTION_ADVANCED)


def with_api_url(url: str, secret: str = CLIENT_SECRET) -> dict[str, Any]:
    """What the frontend sends when the folded section's API URL is edited."""
    return {
        CONF_CLIENT_ID: CLIENT_ID,
        CONF_CLIENT_SECRET: secret,
        SECTION_ADVANCED: {CONF_API_URL: url},
    }


def basic_auth(secret: str) -> str:
    """The Authorization header 1NCE receives for our Client-ID and a secret.

    Spelled out after RFC 7617 rather than with aiohttp's (deprecated) helper.
    """
    return "Basic " + base64.b64encode(f"{CLIENT_ID}:{secret}".encode()).decode()


async def start_user_flow(hass: HomeAssistant) -> FlowResult[Any, Any]:
    """Open the "add integration" dialog."""
    return await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )


async def test_valid_credentials_create_an_entry_with_default_options(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_setup_entry: AsyncMock,
) -> None:
    answer_account(aioclient_mock)
    result = await start_user_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "user"
    assert result["errors"] == {}
    assert fields(result) == [CONF_CLIENT_ID, CONF_CLIENT_SECRET, SECTION_ADVANCED]

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_CLIENT_ID: f"  {CLIENT_ID} ", CONF_CLIENT_SECRET: CLIENT_SECRET},
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == f"1NCE ({CLIENT_ID})"
    forwarder_secret = result["data"][CONF_FORWARDER_SECRET]
    assert result["data"] == {
        CONF_CLIENT_ID: CLIENT_ID,
        CONF_CLIENT_SECRET: CLIENT_SECRET,
        CONF_API_URL: DEFAULT_BASE_URL,
        CONF_FORWARDER_SECRET: forwarder_secret,
        CONF_STREAMER_PASSWORD: result["data"][CONF_STREAMER_PASSWORD],
    }
    # The closing message tells the address to paste into the 1NCE Portal.
    assert len(forwarder_secret) >= 43
    assert result["description_placeholders"]["forwarder_url"].endswith(
        f"/{forwarder_secret}"
    )
    # And the Data Streamer's: its URL and the Basic credential, 192 bits.
    assert len(result["data"][CONF_STREAMER_PASSWORD]) >= 32
    assert result["description_placeholders"]["streamer_url"].endswith(
        f"/api/one_nce/streamer/{forwarder_secret}"
    )
    assert (
        base64.b64decode(
            result["description_placeholders"]["streamer_credential"]
        ).decode()
        == f"one_nce:{result['data'][CONF_STREAMER_PASSWORD]}"
    )
    assert result["options"] == DEFAULT_OPTIONS
    assert result["result"].unique_id == CLIENT_ID
    # Proven the way the integration uses them: a token, then the SIM list.
    assert [(method, str(url)) for method, url, _, _ in aioclient_mock.mock_calls] == [
        ("POST", TOKEN_URL),
        ("GET", f"{SIMS_URL}?page=1&pageSize=1"),
    ]
    assert aioclient_mock.mock_calls[0][3]["Authorization"] == basic_auth(CLIENT_SECRET)
    assert len(mock_setup_entry.mock_calls) == 1


async def test_long_generated_client_id_is_shortened_in_the_title(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_setup_entry: AsyncMock,
) -> None:
    client_id = "7b0f3c2a9d8e4f61a5c3b2d1e0f9a8b7"
    answer_account(aioclient_mock)
    result = await start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_CLIENT_ID: client_id, CONF_CLIENT_SECRET: CLIENT_SECRET},
    )

    assert result["title"] == "1NCE (…f9a8b7)"
    assert result["data"][CONF_CLIENT_ID] == client_id


@pytest.mark.parametrize(
    ("trouble", "error"),
    [
        pytest.param(token_refused, "invalid_auth", id="wrong-credentials"),
        pytest.param(sims_unauthorized, "no_api_permission", id="token-refused-401"),
        pytest.param(sims_forbidden, "no_api_permission", id="sims-forbidden-403"),
        pytest.param(gateway_down, "cannot_connect", id="gateway-html-503"),
        pytest.param(sims_down, "cannot_connect", id="sims-503"),
        pytest.param(token_timeout, "cannot_connect", id="timeout"),
        pytest.param(no_network, "cannot_connect", id="no-network"),
    ],
)
async def test_refused_or_unreachable_account_shows_error_then_recovers(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_setup_entry: AsyncMock,
    trouble: Callable[[AiohttpClientMocker], None],
    error: str,
) -> None:
    trouble(aioclient_mock)
    result = await start_user_flow(hass)
    user_input = {CONF_CLIENT_ID: CLIENT_ID, CONF_CLIENT_SECRET: CLIENT_SECRET}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": error}
    # The Client-ID stays filled in for the correction; the secret never returns.
    assert suggested(result) == {
        CONF_CLIENT_ID: CLIENT_ID,
        SECTION_ADVANCED: {CONF_API_URL: DEFAULT_BASE_URL},
    }
    assert_secret_hidden(result)
    assert not hass.config_entries.async_entries(DOMAIN)

    answer_account(aioclient_mock)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_CLIENT_SECRET] == CLIENT_SECRET


async def test_unexpected_failure_is_logged_and_shown_as_unknown(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_setup_entry: AsyncMock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    answer_account(aioclient_mock)
    result = await start_user_flow(hass)
    user_input = {CONF_CLIENT_ID: CLIENT_ID, CONF_CLIENT_SECRET: CLIENT_SECRET}

    with patch.object(
        OneNceClient, "async_get_sims_page", side_effect=ValueError("surprise")
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], user_input
        )

    assert result["errors"] == {"base": "unknown"}
    assert "Unexpected error while checking 1NCE credentials" in caplog.text
    assert CLIENT_SECRET not in caplog.text
    assert_secret_hidden(result)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_setup_form_as_the_browser_fills_it_needs_only_client_id_and_secret(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_setup_entry: AsyncMock,
) -> None:
    """The folded API URL is filled in already, so the form can be sent as it is."""
    answer_account(aioclient_mock)
    result = await start_user_flow(hass)
    fields = frontend_fields(result)
    typed = {
        **frontend_prefill(fields),
        CONF_CLIENT_ID: CLIENT_ID,
        CONF_CLIENT_SECRET: CLIENT_SECRET,
    }

    assert typed[SECTION_ADVANCED] == {CONF_API_URL: DEFAULT_BASE_URL}
    assert frontend_sends(fields, typed)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], typed)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_API_URL] == DEFAULT_BASE_URL


async def test_after_an_error_the_folded_api_url_shows_what_was_entered(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_setup_entry: AsyncMock,
) -> None:
    """A URL of one's own survives a refusal, and its section opens to show it."""
    aioclient_mock.post(
        f"{SANDBOX_URL}/oauth/token",
        status=HTTPStatus.BAD_REQUEST,
        json=BAD_CREDENTIALS,
    )
    result = await start_user_flow(hass)
    assert section_of(frontend_fields(result))["expanded"] is False

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], with_api_url(SANDBOX_URL)
    )

    assert result["errors"] == {"base": "invalid_auth"}
    fields = frontend_fields(result)
    assert frontend_prefill(fields)[SECTION_ADVANCED] == {CONF_API_URL: SANDBOX_URL}
    assert section_of(fields)["expanded"] is True
    assert_secret_hidden(result)


async def test_a_refused_secret_keeps_the_default_url_folded(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_setup_entry: AsyncMock,
) -> None:
    token_refused(aioclient_mock)
    result = await start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CLIENT_ID: CLIENT_ID, CONF_CLIENT_SECRET: "wrong"}
    )

    assert result["errors"] == {"base": "invalid_auth"}
    fields = frontend_fields(result)
    assert frontend_prefill(fields) == {
        CONF_CLIENT_ID: CLIENT_ID,
        SECTION_ADVANCED: {CONF_API_URL: DEFAULT_BASE_URL},
    }
    assert section_of(fields)["expanded"] is False


async def test_a_blank_api_url_means_the_public_api(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_setup_entry: AsyncMock,
) -> None:
    answer_account(aioclient_mock)
    result = await start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], with_api_url("  ")
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_API_URL] == DEFAULT_BASE_URL


async def test_the_environment_can_name_the_api_url_the_form_starts_from(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_setup_entry: AsyncMock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """scripts/develop points new entries at its sandbox this way."""
    monkeypatch.setenv(DEFAULT_API_URL_ENV, SANDBOX_URL)
    answer_account(aioclient_mock, base_url=SANDBOX_URL)
    result = await start_user_flow(hass)
    typed = {
        **frontend_prefill(frontend_fields(result)),
        CONF_CLIENT_ID: CLIENT_ID,
        CONF_CLIENT_SECRET: CLIENT_SECRET,
    }
    assert typed[SECTION_ADVANCED] == {CONF_API_URL: SANDBOX_URL}

    result = await hass.config_entries.flow.async_configure(result["flow_id"], typed)

    assert result["data"][CONF_API_URL] == SANDBOX_URL


async def test_a_second_setup_of_the_same_account_meanwhile_is_explained(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_setup_entry: AsyncMock,
) -> None:
    """Another tab's dialog for the same Client-ID stops with a sentence, not a key."""
    token_refused(aioclient_mock)
    first = await start_user_flow(hass)
    first = await hass.config_entries.flow.async_configure(
        first["flow_id"], {CONF_CLIENT_ID: CLIENT_ID, CONF_CLIENT_SECRET: "wrong"}
    )
    assert first["errors"] == {"base": "invalid_auth"}

    second = await start_user_flow(hass)
    second = await hass.config_entries.flow.async_configure(
        second["flow_id"], {CONF_CLIENT_ID: CLIENT_ID, CONF_CLIENT_SECRET: "other"}
    )

    assert second["type"] is FlowResultType.ABORT
    assert second["reason"] == "already_in_progress"
    key = f"component.{DOMAIN}.config.abort.already_in_progress"
    for language in ("en", "de"):
        texts = await async_get_translations(hass, language, "config", [DOMAIN])
        assert texts.get(key, "").strip(), language


async def test_api_url_is_folded_away_and_defaults_to_the_public_api(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_setup_entry: AsyncMock,
) -> None:
    answer_account(aioclient_mock)
    result = await start_user_flow(hass)
    assert result["data_schema"] is not None
    advanced = result["data_schema"].schema[SECTION_ADVANCED]
    assert advanced.options == {"collapsed": True}
    assert [str(key) for key in advanced.schema.schema] == [CONF_API_URL]

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], with_api_url(DEFAULT_BASE_URL)
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_API_URL] == DEFAULT_BASE_URL


async def test_entry_can_be_pointed_at_another_api(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_setup_entry: AsyncMock,
) -> None:
    answer_account(aioclient_mock, base_url=SANDBOX_URL)
    result = await start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], with_api_url(f" {SANDBOX_URL}/ ")
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_API_URL] == SANDBOX_URL
    assert {url.host for _, url, _, _ in aioclient_mock.mock_calls} == {
        "sandbox.example.net"
    }


@pytest.mark.parametrize(
    "api_url", ["ftp://api.example.net", "api.1nce.com", "http://[::1", "https://"]
)
async def test_api_url_that_is_no_web_address_is_refused_before_any_request(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_setup_entry: AsyncMock,
    api_url: str,
) -> None:
    result = await start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], with_api_url(api_url)
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_url"}
    assert suggested(result) == {
        CONF_CLIENT_ID: CLIENT_ID,
        SECTION_ADVANCED: {CONF_API_URL: api_url},
    }
    assert_secret_hidden(result)
    assert aioclient_mock.call_count == 0

    answer_account(aioclient_mock, base_url=SANDBOX_URL)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], with_api_url(SANDBOX_URL)
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"][CONF_API_URL] == SANDBOX_URL


async def test_same_client_id_in_other_case_is_the_same_account(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await start_user_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_CLIENT_ID: f" {CLIENT_ID.upper()}", CONF_CLIENT_SECRET: "other"},
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert aioclient_mock.call_count == 0
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1


async def test_reauth_asks_only_for_the_secret_and_stores_the_new_one(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
    mock_setup_entry: AsyncMock,
) -> None:
    mock_config_entry.add_to_hass(hass)
    answer_account(aioclient_mock)

    result = await mock_config_entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert fields(result) == [CONF_CLIENT_SECRET]
    assert result["description_placeholders"]["client_id"] == CLIENT_ID
    assert_secret_hidden(result)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CLIENT_SECRET: NEW_SECRET}
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert _without_streamer(mock_config_entry.data) == {
        CONF_CLIENT_ID: CLIENT_ID,
        CONF_CLIENT_SECRET: NEW_SECRET,
        CONF_API_URL: DEFAULT_BASE_URL,
    }
    assert aioclient_mock.mock_calls[0][3]["Authorization"] == basic_auth(NEW_SECRET)
    # The entry is reloaded with the new secret.
    assert len(mock_setup_entry.mock_calls) == 1


async def test_reauth_with_a_wrong_secret_keeps_the_old_one_until_corrected(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
    mock_setup_entry: AsyncMock,
) -> None:
    mock_config_entry.add_to_hass(hass)
    token_refused(aioclient_mock)
    result = await mock_config_entry.start_reauth_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CLIENT_SECRET: "typo"}
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "invalid_auth"}
    assert_secret_hidden(result, CLIENT_SECRET, "typo")
    assert mock_config_entry.data[CONF_CLIENT_SECRET] == CLIENT_SECRET

    answer_account(aioclient_mock)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CLIENT_SECRET: NEW_SECRET}
    )
    assert result["reason"] == "reauth_successful"
    assert mock_config_entry.data[CONF_CLIENT_SECRET] == NEW_SECRET


async def test_reauth_checks_the_secret_against_the_entrys_own_api(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_setup_entry: AsyncMock,
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=CLIENT_ID,
        data={
            CONF_CLIENT_ID: CLIENT_ID,
            CONF_CLIENT_SECRET: CLIENT_SECRET,
            CONF_API_URL: SANDBOX_URL,
        },
    )
    entry.add_to_hass(hass)
    answer_account(aioclient_mock, base_url=SANDBOX_URL)
    result = await entry.start_reauth_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CLIENT_SECRET: NEW_SECRET}
    )

    assert result["reason"] == "reauth_successful"
    assert entry.data[CONF_API_URL] == SANDBOX_URL


async def test_reconfigure_replaces_the_secret_of_the_same_account(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
    mock_setup_entry: AsyncMock,
) -> None:
    mock_config_entry.add_to_hass(hass)
    answer_account(aioclient_mock)

    result = await mock_config_entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert suggested(result) == {
        CONF_CLIENT_ID: CLIENT_ID,
        SECTION_ADVANCED: {CONF_API_URL: DEFAULT_BASE_URL},
    }
    assert_secret_hidden(result)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_CLIENT_ID: CLIENT_ID.upper(), CONF_CLIENT_SECRET: NEW_SECRET},
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert _without_streamer(mock_config_entry.data) == {
        CONF_CLIENT_ID: CLIENT_ID.upper(),
        CONF_CLIENT_SECRET: NEW_SECRET,
        CONF_API_URL: DEFAULT_BASE_URL,
    }
    assert mock_config_entry.unique_id == CLIENT_ID
    assert len(mock_setup_entry.mock_calls) == 1


async def test_reconfigure_form_as_the_browser_fills_it_needs_only_the_secret(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_setup_entry: AsyncMock,
) -> None:
    """Client-ID and the entry's own API URL are filled in; only the secret is typed."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=CLIENT_ID,
        data={
            CONF_CLIENT_ID: CLIENT_ID,
            CONF_CLIENT_SECRET: CLIENT_SECRET,
            CONF_API_URL: SANDBOX_URL,
        },
    )
    entry.add_to_hass(hass)
    answer_account(aioclient_mock, base_url=SANDBOX_URL)
    result = await entry.start_reconfigure_flow(hass)
    fields = frontend_fields(result)
    prefilled = frontend_prefill(fields)
    assert prefilled == {
        CONF_CLIENT_ID: CLIENT_ID,
        SECTION_ADVANCED: {CONF_API_URL: SANDBOX_URL},
    }
    assert not frontend_sends(fields, prefilled)
    typed = {**prefilled, CONF_CLIENT_SECRET: NEW_SECRET}
    assert frontend_sends(fields, typed)

    result = await hass.config_entries.flow.async_configure(result["flow_id"], typed)

    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_API_URL] == SANDBOX_URL
    assert entry.data[CONF_CLIENT_SECRET] == NEW_SECRET


@pytest.mark.parametrize("language", ["en", "de"])
async def test_forwarder_address_is_shown_whole_in_a_code_block(
    hass: HomeAssistant, language: str
) -> None:
    """Setup's last step and Reconfigure show the address on lines of its own.

    Inside a sentence a long address wraps mid-token and is hard to copy whole;
    a fenced code block keeps it on one line, copied in one piece.
    """
    texts = await async_get_translations(hass, language, "config", [DOMAIN])
    prefix = f"component.{DOMAIN}.config."
    for key in ("step.reconfigure.description", "create_entry.default"):
        assert "\n\n```\n{forwarder_url}\n```\n\n" in texts[prefix + key], key


async def test_reconfigure_moves_the_entry_to_another_api(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
    mock_setup_entry: AsyncMock,
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reconfigure_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], with_api_url("mailto:ops@example.net")
    )
    assert result["errors"] == {"base": "invalid_url"}
    assert aioclient_mock.call_count == 0

    answer_account(aioclient_mock, base_url=SANDBOX_URL)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], with_api_url(SANDBOX_URL)
    )

    assert result["reason"] == "reconfigure_successful"
    assert mock_config_entry.data[CONF_API_URL] == SANDBOX_URL


async def test_reconfigure_keeps_a_custom_api_unless_changed(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_setup_entry: AsyncMock,
) -> None:
    entry = MockConfigEntry(
        domain=DOMAIN,
        unique_id=CLIENT_ID,
        data={
            CONF_CLIENT_ID: CLIENT_ID,
            CONF_CLIENT_SECRET: CLIENT_SECRET,
            CONF_API_URL: SANDBOX_URL,
        },
    )
    entry.add_to_hass(hass)
    answer_account(aioclient_mock, base_url=SANDBOX_URL)
    result = await entry.start_reconfigure_flow(hass)
    assert suggested(result)[SECTION_ADVANCED] == {CONF_API_URL: SANDBOX_URL}

    # A client that leaves the folded section out must not reset the URL.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {CONF_CLIENT_ID: CLIENT_ID, CONF_CLIENT_SECRET: NEW_SECRET}
    )

    assert result["reason"] == "reconfigure_successful"
    assert entry.data[CONF_API_URL] == SANDBOX_URL
    assert entry.data[CONF_CLIENT_SECRET] == NEW_SECRET


async def test_reconfigure_with_another_client_id_is_refused(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
    mock_setup_entry: AsyncMock,
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await mock_config_entry.start_reconfigure_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_CLIENT_ID: "someone-else", CONF_CLIENT_SECRET: NEW_SECRET},
    )

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "unique_id_mismatch"
    assert result["description_placeholders"] == {"client_id": CLIENT_ID}
    assert_secret_hidden(result, CLIENT_SECRET, NEW_SECRET)
    assert aioclient_mock.call_count == 0
    assert mock_config_entry.data[CONF_CLIENT_SECRET] == CLIENT_SECRET
    assert not mock_setup_entry.mock_calls


async def test_reconfigure_with_refused_credentials_changes_nothing(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_config_entry: MockConfigEntry,
    mock_setup_entry: AsyncMock,
) -> None:
    mock_config_entry.add_to_hass(hass)
    sims_forbidden(aioclient_mock)
    result = await mock_config_entry.start_reconfigure_flow(hass)

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {CONF_CLIENT_ID: CLIENT_ID, CONF_CLIENT_SECRET: NEW_SECRET},
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"base": "no_api_permission"}
    assert suggested(result) == {
        CONF_CLIENT_ID: CLIENT_ID,
        SECTION_ADVANCED: {CONF_API_URL: DEFAULT_BASE_URL},
    }
    assert_secret_hidden(result, CLIENT_SECRET, NEW_SECRET)
    assert mock_config_entry.data[CONF_CLIENT_SECRET] == CLIENT_SECRET
    assert not mock_setup_entry.mock_calls


async def test_options_start_from_the_defaults(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)

    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)

    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    assert suggested(result) == DEFAULT_OPTIONS


async def test_options_form_shows_the_saved_values(hass: HomeAssistant) -> None:
    saved = {**DEFAULT_OPTIONS, CONF_LIST_INTERVAL: 30, CONF_MAX_SMS_PARTS: 3}
    entry = MockConfigEntry(domain=DOMAIN, unique_id=CLIENT_ID, options=saved)
    entry.add_to_hass(hass)

    result = await hass.config_entries.options.async_init(entry.entry_id)

    assert suggested(result) == saved


async def test_options_refuse_details_more_often_than_the_list_then_save(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)
    contradictory = {
        CONF_LIST_INTERVAL: 30,
        CONF_DETAIL_INTERVAL: 20,
        CONF_SMS_LOW_THRESHOLD: 10,
        CONF_MAX_SMS_PARTS: 2,
    }

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], contradictory
    )

    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {CONF_DETAIL_INTERVAL: "detail_shorter_than_list"}
    assert suggested(result) == contradictory
    assert mock_config_entry.options == {}

    result = await hass.config_entries.options.async_configure(
        result["flow_id"], {**contradictory, CONF_DETAIL_INTERVAL: 30.0}
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert mock_config_entry.options == {**contradictory, CONF_DETAIL_INTERVAL: 30}
    assert all(type(value) is int for value in mock_config_entry.options.values())


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (CONF_LIST_INTERVAL, 4),
        (CONF_DETAIL_INTERVAL, 14),
        (CONF_SMS_LOW_THRESHOLD, 100),
        (CONF_MAX_SMS_PARTS, 11),
    ],
)
async def test_options_out_of_range_are_refused(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, key: str, value: int
) -> None:
    mock_config_entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(mock_config_entry.entry_id)

    with pytest.raises(InvalidData):
        await hass.config_entries.options.async_configure(
            result["flow_id"], {**DEFAULT_OPTIONS, key: value}
        )
    assert mock_config_entry.options == {}
