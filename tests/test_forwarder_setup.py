"""The forwarder's address: secret, URL shown to the user, repair issue, cloudhook."""

from __future__ import annotations

import base64
from collections.abc import Generator
import json
from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, patch

import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_capture_events,
)
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.one_nce.const import (
    CONF_CLOUDHOOK_URL,
    CONF_FORWARDER_SECRET,
    CONF_STREAMER_PASSWORD,
    DOMAIN,
    EVENT_SMS_RECEIVED,
)
from custom_components.one_nce.receiving.address import (
    LEARN_MORE_URL,
    webhook_id_for,
)
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.const import CONF_CLIENT_ID, CONF_CLIENT_SECRET
from homeassistant.core import HomeAssistant
from homeassistant.core_config import async_process_ha_core_config
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.setup import async_setup_component

from .conftest import CLIENT_ID, CLIENT_SECRET, SIMS_URL, TOKEN_URL, load_json
from .forwarder_common import (
    RECEIVING_PLATFORMS,
    forwarder_path,
    mo_sms,
    push,
    setup_receiving,
    sim_list_requests,
)

EXTERNAL_URL = "https://ha.example.com"
CLOUDHOOK_URL = "https://hooks.nabu.casa/gAAAAABm-cloudhook-token"
SECRET = "Zm9yd2FyZGVyLXNlY3JldC1vZi10aGUtdGVzdHMtMDAx"


def issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    """The entry's "no HTTPS address" repair issue, if raised."""
    return ir.async_get(hass).async_get_issue(
        DOMAIN, f"no_https_external_url_{entry.entry_id}"
    )


async def set_external_url(hass: HomeAssistant, url: str) -> None:
    """Configure Home Assistant's external URL as a user would."""
    await async_process_ha_core_config(hass, {"external_url": url})


@pytest.fixture
def entry_with_secret(mock_config_entry: MockConfigEntry) -> MockConfigEntry:
    """An account that already has its forwarder secret (not a new one)."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=mock_config_entry.title,
        unique_id=mock_config_entry.unique_id,
        data={**mock_config_entry.data, CONF_FORWARDER_SECRET: SECRET},
    )


@pytest.fixture
def platforms() -> Generator[None]:
    """Keep reloads to the platforms the forwarder feeds."""
    with patch("custom_components.one_nce.PLATFORMS", RECEIVING_PLATFORMS):
        yield


@pytest.fixture
def cloud() -> Generator[dict[str, Any]]:
    """Home Assistant Cloud, subscribed and connected, as far as we ask it."""
    mocks: dict[str, Any] = {
        "async_active_subscription": lambda hass: True,
        "async_get_or_create_cloudhook": AsyncMock(return_value=CLOUDHOOK_URL),
        "async_delete_cloudhook": AsyncMock(),
    }
    with patch.multiple("homeassistant.components.cloud", **mocks):
        yield mocks


# --- the secret --------------------------------------------------------------


@pytest.mark.usefixtures("platforms")
async def test_entry_without_secret_gets_one_without_a_reload(
    hass: HomeAssistant,
    mock_config_entry: MockConfigEntry,
    mock_details: AiohttpClientMocker,
) -> None:
    """Entries from before the forwarder get 256 random bits at their next setup."""
    await setup_receiving(hass, mock_config_entry)

    assert len(mock_config_entry.data[CONF_FORWARDER_SECRET]) >= 43
    assert mock_config_entry.state is ConfigEntryState.LOADED
    assert sim_list_requests(mock_details) == 1


# --- what the user is shown --------------------------------------------------


async def _add_account(hass: HomeAssistant, aioclient_mock: AiohttpClientMocker):
    aioclient_mock.post(TOKEN_URL, json=load_json("token.json"))
    aioclient_mock.get(
        SIMS_URL, json=load_json("sims.json")[:1], headers={"X-Total-Pages": "1"}
    )
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    with patch("custom_components.one_nce.async_setup_entry", return_value=True):
        return await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {CONF_CLIENT_ID: CLIENT_ID, CONF_CLIENT_SECRET: CLIENT_SECRET},
        )


async def test_flow_ends_with_the_address_to_paste_into_the_portal(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    await set_external_url(hass, EXTERNAL_URL)

    result = await _add_account(hass, aioclient_mock)

    assert result["type"] is FlowResultType.CREATE_ENTRY
    secret = result["data"][CONF_FORWARDER_SECRET]
    password = result["data"][CONF_STREAMER_PASSWORD]
    assert result["description_placeholders"] == {
        "forwarder_url": f"{EXTERNAL_URL}/api/one_nce/forwarder/{secret}",
        # The Data Streamer's address and credential: the same secret path.
        "streamer_url": f"{EXTERNAL_URL}/api/one_nce/streamer/{secret}",
        "streamer_credential": base64.b64encode(
            f"one_nce:{password}".encode()
        ).decode(),
    }


async def test_flow_without_public_address_shows_where_the_domain_goes(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    result = await _add_account(hass, aioclient_mock)

    secret = result["data"][CONF_FORWARDER_SECRET]
    assert result["description_placeholders"]["forwarder_url"] == (
        f"https://…/api/one_nce/forwarder/{secret}"
    )
    assert result["description_placeholders"]["streamer_url"] == (
        f"https://…/api/one_nce/streamer/{secret}"
    )


@pytest.mark.usefixtures("mock_details")
async def test_reconfigure_shows_the_address(
    hass: HomeAssistant, entry_with_secret: MockConfigEntry
) -> None:
    await set_external_url(hass, EXTERNAL_URL)
    await setup_receiving(hass, entry_with_secret)

    result = await entry_with_secret.start_reconfigure_flow(hass)

    assert result["description_placeholders"]["forwarder_url"] == (
        f"{EXTERNAL_URL}/api/one_nce/forwarder/{SECRET}"
    )
    assert result["description_placeholders"]["streamer_url"] == (
        f"{EXTERNAL_URL}/api/one_nce/streamer/{SECRET}"
    )
    # The credential given to the entry when it was migrated, ready to paste.
    password = entry_with_secret.data[CONF_STREAMER_PASSWORD]
    assert (
        base64.b64decode(result["description_placeholders"]["streamer_credential"])
        == f"one_nce:{password}".encode()
    )


# --- the repair issue --------------------------------------------------------


@pytest.mark.usefixtures("mock_details")
async def test_no_https_address_raises_a_repair_issue(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    await setup_receiving(hass, mock_config_entry)

    found = issue(hass, mock_config_entry)
    assert found is not None
    assert found.translation_key == "no_https_external_url"
    assert found.severity is ir.IssueSeverity.WARNING
    assert found.learn_more_url == LEARN_MORE_URL
    assert found.translation_placeholders == {"title": mock_config_entry.title}


@pytest.mark.usefixtures("mock_details")
async def test_https_external_url_means_no_repair_issue(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    await set_external_url(hass, EXTERNAL_URL)

    await setup_receiving(hass, mock_config_entry)

    assert issue(hass, mock_config_entry) is None


@pytest.mark.usefixtures("mock_details")
@pytest.mark.parametrize(
    "external_url",
    [
        "http://ha.example.com",
        "https://203.0.113.7:8123",
        "https://homeassistant.local:8123",
        "https://homeassistant:8123",
    ],
    ids=["plain-http", "ip-address", "mdns-name", "single-label-name"],
)
async def test_address_1nce_refuses_raises_the_repair_issue(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry, external_url: str
) -> None:
    await set_external_url(hass, external_url)

    await setup_receiving(hass, mock_config_entry)

    assert issue(hass, mock_config_entry) is not None


@pytest.mark.usefixtures("mock_details")
async def test_repair_issue_goes_once_the_external_url_is_set(
    hass: HomeAssistant, mock_config_entry: MockConfigEntry
) -> None:
    await setup_receiving(hass, mock_config_entry)
    assert issue(hass, mock_config_entry) is not None

    await hass.config.async_update(external_url=EXTERNAL_URL)
    await hass.async_block_till_done()

    assert issue(hass, mock_config_entry) is None


@pytest.mark.usefixtures("mock_details")
async def test_cloud_remote_address_serves_as_the_forwarder_url(
    hass: HomeAssistant, entry_with_secret: MockConfigEntry
) -> None:
    """Remote UI passes any method through, PATCH included."""
    with patch(
        "homeassistant.helpers.network._get_cloud_url",
        return_value="https://abcdefgh.ui.nabu.casa",
    ):
        await setup_receiving(hass, entry_with_secret)
        result = await entry_with_secret.start_reconfigure_flow(hass)

    assert issue(hass, entry_with_secret) is None
    assert result["description_placeholders"]["forwarder_url"] == (
        f"https://abcdefgh.ui.nabu.casa/api/one_nce/forwarder/{SECRET}"
    )


# --- the webhook and the cloudhook -------------------------------------------


@pytest.mark.usefixtures("mock_details", "platforms")
async def test_cloud_subscription_gets_a_cloudhook_that_receives_sms(
    hass: HomeAssistant,
    entry_with_secret: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    cloud: dict[str, Any],
) -> None:
    hass.config.components.add("cloud")
    await setup_receiving(hass, entry_with_secret)
    events = async_capture_events(hass, EVENT_SMS_RECEIVED)
    client = await hass_client_no_auth()
    webhook_path = f"/api/webhook/{webhook_id_for(SECRET)}"

    sms = await client.post(webhook_path, json=mo_sms())
    report = await client.patch(webhook_path, json=mo_sms(id=6203))

    cloud["async_get_or_create_cloudhook"].assert_awaited_once_with(
        hass, webhook_id_for(SECRET)
    )
    assert entry_with_secret.data[CONF_CLOUDHOOK_URL] == CLOUDHOOK_URL
    assert issue(hass, entry_with_secret) is None
    assert sms.status == 200
    assert [event.data["sms_id"] for event in events] == ["6202"]
    # A cloudhook cannot pass a PATCH, so neither does the webhook.
    assert report.status == 405


@pytest.mark.usefixtures("mock_details", "platforms")
async def test_cloudhook_comes_once_the_cloud_connects(
    hass: HomeAssistant, entry_with_secret: MockConfigEntry, cloud: dict[str, Any]
) -> None:
    from homeassistant.components.cloud import (  # noqa: PLC0415
        SIGNAL_CLOUD_CONNECTION_STATE,
        CloudConnectionState,
        CloudNotConnected,
    )

    hass.config.components.add("cloud")
    cloud["async_get_or_create_cloudhook"].side_effect = [
        CloudNotConnected,
        CLOUDHOOK_URL,
    ]
    await setup_receiving(hass, entry_with_secret)
    assert CONF_CLOUDHOOK_URL not in entry_with_secret.data

    async_dispatcher_send(
        hass, SIGNAL_CLOUD_CONNECTION_STATE, CloudConnectionState.CLOUD_CONNECTED
    )
    await hass.async_block_till_done()

    assert entry_with_secret.data[CONF_CLOUDHOOK_URL] == CLOUDHOOK_URL
    assert issue(hass, entry_with_secret) is None


async def test_webhook_and_view_answer_503_while_the_entry_waits_for_1nce(
    hass: HomeAssistant,
    entry_with_secret: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    hass_client_no_auth: ClientSessionGenerator,
    no_sleep: AsyncMock,
) -> None:
    """Home Assistant would answer 200 for an unknown webhook; ours says retry."""
    aioclient_mock.post(TOKEN_URL, status=503, text="<html>503</html>")
    entry_with_secret.add_to_hass(hass)
    await hass.config_entries.async_setup(entry_with_secret.entry_id)
    await hass.async_block_till_done()
    assert entry_with_secret.state is ConfigEntryState.SETUP_RETRY
    client = await hass_client_no_auth()

    webhook = await client.post(f"/api/webhook/{webhook_id_for(SECRET)}", json=mo_sms())
    view = await push(client, entry_with_secret, mo_sms())

    assert (webhook.status, view.status) == (503, 503)


@pytest.mark.usefixtures("mock_details")
async def test_removing_the_entry_drops_webhook_cloudhook_and_stored_messages(
    hass: HomeAssistant,
    entry_with_secret: MockConfigEntry,
    hass_client_no_auth: ClientSessionGenerator,
    cloud: dict[str, Any],
) -> None:
    hass.config.components.add("cloud")
    await setup_receiving(hass, entry_with_secret)
    client = await hass_client_no_auth()
    await push(client, entry_with_secret, mo_sms())
    inbox = Path(
        hass.config.path(".storage", f"one_nce.{entry_with_secret.entry_id}.inbox")
    )
    assert await hass.async_add_executor_job(inbox.exists)

    await hass.config_entries.async_remove(entry_with_secret.entry_id)
    await hass.async_block_till_done()

    assert webhook_id_for(SECRET) not in hass.data["webhook"]
    cloud["async_delete_cloudhook"].assert_awaited_once_with(
        hass, webhook_id_for(SECRET)
    )
    assert not await hass.async_add_executor_job(inbox.exists)
    response = await client.post(forwarder_path(entry_with_secret), json=mo_sms())
    assert response.status == 404


# --- diagnostics -------------------------------------------------------------


@pytest.mark.usefixtures("mock_details")
async def test_diagnostics_mask_the_addresses_and_count_requests(
    hass: HomeAssistant,
    entry_with_secret: MockConfigEntry,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    cloud: dict[str, Any],
) -> None:
    hass.config.components.add("cloud")
    await set_external_url(hass, EXTERNAL_URL)
    assert await async_setup_component(hass, "diagnostics", {})
    await setup_receiving(hass, entry_with_secret)
    client = await hass_client_no_auth()
    await push(client, entry_with_secret, mo_sms())
    await push(client, entry_with_secret, mo_sms())

    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, entry_with_secret
    )

    forwarder = diagnostics["forwarder"]
    assert forwarder["forwarder_url"] == (
        f"{EXTERNAL_URL}/api/one_nce/forwarder/**REDACTED**"
    )
    assert forwarder["cloudhook_url"] == "https://hooks.nabu.casa/**REDACTED**"
    assert {key: forwarder["requests"][key] for key in ("received", "duplicates")} == {
        "received": 1,
        "duplicates": 1,
    }
    assert forwarder["inbox"]["remembered_ids"] == 1
    dumped = json.dumps(diagnostics)
    assert SECRET not in dumped
    assert webhook_id_for(SECRET) not in dumped
    assert CLOUDHOOK_URL not in dumped


def test_webhook_id_reveals_nothing_of_the_secret() -> None:
    webhook_id = webhook_id_for(SECRET)

    assert webhook_id.startswith("one_nce_")
    assert SECRET not in webhook_id
    assert webhook_id != webhook_id_for(SECRET[:-1] + "2")


@pytest.mark.usefixtures("mock_details", "platforms")
async def test_reconfigure_offers_the_cloudhook_without_a_public_address(
    hass: HomeAssistant, entry_with_secret: MockConfigEntry, cloud: dict[str, Any]
) -> None:
    """SMS can still come in through the cloudhook (delivery reports by polling)."""
    hass.config.components.add("cloud")
    await setup_receiving(hass, entry_with_secret)

    result = await entry_with_secret.start_reconfigure_flow(hass)

    assert result["description_placeholders"]["forwarder_url"] == CLOUDHOOK_URL


@pytest.mark.usefixtures("mock_details")
async def test_diagnostics_without_any_address(
    hass: HomeAssistant,
    entry_with_secret: MockConfigEntry,
    hass_client: ClientSessionGenerator,
) -> None:
    assert await async_setup_component(hass, "diagnostics", {})
    await setup_receiving(hass, entry_with_secret)

    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, entry_with_secret
    )

    assert diagnostics["forwarder"]["forwarder_url"] is None
    assert diagnostics["forwarder"]["cloudhook_url"] is None
    assert diagnostics["forwarder"]["requests"]["received"] == 0
