"""The sandbox's management API, read by the integration's own client."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from custom_components.one_nce.api import (
    ConnectivityStatus,
    OneNceAuthenticationError,
    OneNceClient,
    OneNceNotFoundError,
    OneNcePermissionError,
    QuotaLevel,
    QuotaStatus,
)
from sandbox import OWNER_CLIENT_ID, OWNER_CLIENT_SECRET

from .conftest import Running, basic_auth

ICCIDS = [f"8988228066{index:09d}" for index in range(1, 7)]

Start = Callable[..., Any]
MakeClient = Callable[..., OneNceClient]


async def test_token_names_user_and_organisation(
    start_sandbox: Start, make_client: MakeClient
) -> None:
    running: Running = await start_sandbox()
    info = await make_client(running).async_authenticate()
    assert info.user_id == "sandbox-client"
    assert info.organisation_id == "4567"
    assert info.expires_in == 3600


async def test_bad_credentials_answer_400_and_fail_authentication(
    start_sandbox: Start, make_client: MakeClient, session: aiohttp.ClientSession
) -> None:
    running: Running = await start_sandbox()
    with pytest.raises(OneNceAuthenticationError, match="Incorrect username"):
        await make_client(running, client_secret="wrong").async_authenticate()
    async with session.post(
        f"{running.api_url}/oauth/token",
        json={"grant_type": "client_credentials"},
        headers={"Authorization": basic_auth("sandbox-client", "wrong")},
    ) as response:
        assert response.status == 400
        assert (await response.json())["errorCode"] == "BadCredentials"


async def test_owner_credentials_get_a_token_the_api_refuses(
    start_sandbox: Start, make_client: MakeClient
) -> None:
    running: Running = await start_sandbox()
    client = make_client(running, OWNER_CLIENT_ID, OWNER_CLIENT_SECRET)
    await client.async_authenticate()
    with pytest.raises(OneNcePermissionError):
        await client.async_get_sims_page()


async def test_fleet_pages_carry_paging_headers(
    start_sandbox: Start, make_client: MakeClient
) -> None:
    running: Running = await start_sandbox(sims=250)
    client = make_client(running)
    page = await client.async_get_sims_page(1)
    assert (page.total_pages, page.total_count, len(page.sims)) == (3, 250, 100)
    sims = await client.async_get_sims()
    assert len({sim.iccid for sim in sims}) == 250
    assert running.state.requests["GET /v2/sims"] == 4  # page 1 twice, then 2, 3


async def test_seeded_fleet_shows_every_situation(
    start_sandbox: Start, make_client: MakeClient
) -> None:
    running: Running = await start_sandbox()
    sims = {sim.iccid: sim for sim in await make_client(running).async_get_sims()}
    assert list(sims) == ICCIDS
    levels = [sims[iccid].sms_quota_level for iccid in ICCIDS]
    assert levels == [
        QuotaLevel.SUFFICIENT,
        QuotaLevel.LOW,
        QuotaLevel.EXHAUSTED,
        QuotaLevel.SUFFICIENT,
        QuotaLevel.SUFFICIENT,
        QuotaLevel.SUFFICIENT,
    ]
    assert sims[ICCIDS[1]].imei == "861234567890123"  # sent as a JSON number
    assert not sims[ICCIDS[3]].enabled
    assert sims[ICCIDS[5]].label is None
    assert sims[ICCIDS[5]].imei is None


async def test_unknown_iccid_is_empty_200_read_as_not_found(
    start_sandbox: Start, make_client: MakeClient, session: aiohttp.ClientSession
) -> None:
    running: Running = await start_sandbox()
    client = make_client(running)
    with pytest.raises(OneNceNotFoundError):
        await client.async_get_sim("8988228066999999999")
    # Token and SIM both answered 200: the "not found" was an empty body.
    assert dict(running.state.statuses) == {"200": 2}
    assert (await client.async_get_sim(ICCIDS[0])).label == "Garden gate"


async def test_quotas_and_connectivity(
    start_sandbox: Start, make_client: MakeClient
) -> None:
    running: Running = await start_sandbox()
    client = make_client(running)
    sms = await client.async_get_sms_quota(ICCIDS[1])
    assert (sms.volume, sms.total_volume, sms.status) == (32, 250, QuotaStatus.ACTIVE)
    assert sms.expiry_date is not None
    empty = await client.async_get_sms_quota(ICCIDS[2])
    assert (empty.volume, empty.status) == (0, QuotaStatus.EXHAUSTED)
    data = await client.async_get_data_quota(ICCIDS[0])
    assert data.peak_throughput == 1_000_000
    online = await client.async_get_connectivity(ICCIDS[0])
    assert online.status is ConnectivityStatus.ONLINE
    assert (online.radio_access_type, online.operator) == ("4G", "Telekom")
    attached = await client.async_get_connectivity(ICCIDS[1])
    assert attached.status is ConnectivityStatus.ATTACHED
    assert attached.radio_access_type is None
    offline = await client.async_get_connectivity(ICCIDS[4])
    assert offline.status is ConnectivityStatus.OFFLINE
    assert len(await client.async_get_events(ICCIDS[0])) == 3


async def test_put_replaces_the_record(
    start_sandbox: Start, make_client: MakeClient
) -> None:
    running: Running = await start_sandbox()
    client = make_client(running)
    await client.async_update_sim(
        ICCIDS[0], enabled=False, label="Gate", imei_lock=True
    )
    sim = await client.async_get_sim(ICCIDS[0])
    assert (sim.enabled, sim.label, sim.imei_lock) == (False, "Gate", True)
    await client.async_update_sim(ICCIDS[0], enabled=True, label=None, imei_lock=False)
    assert (await client.async_get_sim(ICCIDS[0])).label is None


async def test_reset_and_top_up(start_sandbox: Start, make_client: MakeClient) -> None:
    running: Running = await start_sandbox()
    client = make_client(running)
    await client.async_reset_connection(ICCIDS[0])
    order = await client.async_top_up(ICCIDS[2])
    assert order is not None
    assert "/v2/orders/" in order
    assert (await client.async_get_sms_quota(ICCIDS[2])).volume == 250


async def test_usage_is_daily_with_a_total(
    start_sandbox: Start, make_client: MakeClient
) -> None:
    running: Running = await start_sandbox()
    client = make_client(running)
    today = running.state.clock.now().date()
    usage = await client.async_get_usage(ICCIDS[0], today - timedelta(days=10), today)
    assert len(usage.days) == 10  # yesterday back to ten days ago
    assert usage.days == sorted(usage.days, key=lambda day: day.day)


async def test_limits_read_and_set(
    start_sandbox: Start, make_client: MakeClient
) -> None:
    running: Running = await start_sandbox()
    client = make_client(running)
    limits = await client.async_get_limits()
    assert limits.sms_mt is not None
    assert (limits.sms_mt.limit, limits.sms_mt.unit) == ("1000", "SMS")
    await client.async_set_limits(sms_mt_limit_id=11)
    limits = await client.async_get_limits()
    assert limits.sms_mt is not None
    assert limits.sms_mt.limit == "100"
