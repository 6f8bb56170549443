"""Platform 2.0 in the sandbox, next to Platform 1.0 and a hybrid account.

Per SIM on Platform 2.0: v1 answers 404, SMS ids are 18 digits (a string when
created, an exact JSON integer when listed), delivery reports have an id of
their own and name the SMS in `detail.sms.id`, MO SMS say
`destination_address`. Platform 1.0 keeps the shapes it always had.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
import json
import re
from typing import Any

import aiohttp
import pytest

from custom_components.one_nce.api import (
    DeliveryStatus,
    OneNceClient,
    OneNceFeatureUnavailableError,
)
from custom_components.one_nce.api.forwarder import (
    parse_delivery_report,
    parse_mo_sms,
)
from sandbox import DEFAULT_PLATFORM, PlatformMode
from sandbox.__main__ import _parser

from .conftest import Receiver, Running, advance, bearer

GATE, LOW, EMPTY, DISABLED, OFFLINE, PLAIN = (
    f"8988228066{index:09d}" for index in range(1, 7)
)
WIDE = 2**53
ZULU = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")
ZONELESS = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")

Start = Callable[..., Any]
MakeClient = Callable[..., OneNceClient]


def is_wide(sms_id: object) -> bool:
    """An 18-digit Platform 2.0 id, above what a float holds exactly."""
    text = str(sms_id)
    return text.isdigit() and len(text) == 18 and int(text) > WIDE


async def send(
    running: Running, session: aiohttp.ClientSession, iccid: str, text: str
) -> tuple[int, str, Any]:
    """POST an SMS by hand: the status, the raw answer and its JSON."""
    async with session.post(
        f"{running.api_url}/v2/sims/{iccid}/sms",
        json={"payload": text},
        headers={"Authorization": await bearer(running, session)},
    ) as response:
        raw = await response.text()
        return response.status, raw, json.loads(raw)


async def inject_mo(
    running: Running, session: aiohttp.ClientSession, iccid: str, text: str
) -> dict[str, Any]:
    """Have a SIM send an SMS through the control API."""
    async with session.post(
        f"{running.base}/_sandbox/mo", json={"iccid": iccid, "text": text}
    ) as response:
        assert response.status == 201
        result: dict[str, Any] = await response.json()
        return result


# --- which SIM is on which platform -------------------------------------------


def test_command_line_serves_platform_2_unless_told() -> None:
    assert _parser().parse_args(["serve"]).platform is DEFAULT_PLATFORM
    assert DEFAULT_PLATFORM is PlatformMode.TWO
    for typed, mode in (("1", PlatformMode.ONE), ("hybrid", PlatformMode.HYBRID)):
        assert _parser().parse_args(["serve", "--platform", typed]).platform is mode
    with pytest.raises(SystemExit):
        _parser().parse_args(["serve", "--platform", "3"])


async def test_platform_2_sim_answers_404_for_its_v1_usage_and_the_account_limits(
    start_sandbox: Start, make_client: MakeClient
) -> None:
    running: Running = await start_sandbox(platform=PlatformMode.TWO)
    client = make_client(running)
    with pytest.raises(OneNceFeatureUnavailableError):
        await client.async_get_usage(GATE, date(2026, 12, 1), date(2026, 12, 6))
    with pytest.raises(OneNceFeatureUnavailableError):
        await client.async_get_limits()
    assert running.state.statuses["404"] == 2
    # v2 answers as before.
    assert (await client.async_get_sms_quota(GATE)).volume == 231


async def test_hybrid_account_has_both_halves_and_keeps_its_limits(
    start_sandbox: Start, make_client: MakeClient, session: aiohttp.ClientSession
) -> None:
    running: Running = await start_sandbox(platform="hybrid")
    async with session.get(f"{running.base}/_sandbox") as response:
        summary = await response.json()
    assert summary["platform"] == "hybrid"
    platforms = {sim["iccid"]: sim["platform"] for sim in summary["sims"]}
    assert platforms == {GATE: 1, LOW: 1, EMPTY: 1, DISABLED: 2, OFFLINE: 2, PLAIN: 2}
    client = make_client(running)
    today = running.state.clock.now().date()
    assert (await client.async_get_usage(GATE, today, today)).days is not None
    with pytest.raises(OneNceFeatureUnavailableError):
        await client.async_get_usage(PLAIN, today, today)
    assert (await client.async_get_limits()).sms_mt is not None


async def test_hybrid_fleet_of_odd_size_puts_the_larger_half_on_platform_2(
    start_sandbox: Start,
) -> None:
    running: Running = await start_sandbox(platform=PlatformMode.HYBRID, sims=7)
    assert [sim.platform for sim in running.state.fleet.values()] == [
        1,
        1,
        1,
        2,
        2,
        2,
        2,
    ]


async def test_platform_1_keeps_v1_and_small_sms_ids(
    start_sandbox: Start, make_client: MakeClient, session: aiohttp.ClientSession
) -> None:
    running: Running = await start_sandbox(platform=PlatformMode.ONE)
    client = make_client(running)
    today = running.state.clock.now().date()
    await client.async_get_usage(GATE, today, today)
    assert (await client.async_get_limits()).sms_mt is not None
    status, _, body = await send(running, session, GATE, "Hello")
    assert status == 201
    assert isinstance(body["id"], int)
    assert not is_wide(body["id"])


# --- SMS ids ------------------------------------------------------------------


async def test_platform_2_sms_id_is_an_18_digit_string_listed_as_an_exact_integer(
    start_sandbox: Start, session: aiohttp.ClientSession
) -> None:
    running: Running = await start_sandbox(platform=PlatformMode.TWO)
    status, raw, body = await send(running, session, GATE, "Gate: open")
    assert status == 201
    assert isinstance(body["id"], str)
    assert is_wide(body["id"])
    assert f'"{body["id"]}"' in raw
    async with session.get(
        f"{running.api_url}/v2/sims/{GATE}/sms",
        headers={"Authorization": await bearer(running, session)},
    ) as response:
        listed_raw = await response.text()
    [listed] = json.loads(listed_raw)
    assert listed["id"] == int(body["id"])
    # Written as a bare number with every digit: no quotes, no float.
    assert re.search(rf'"id": ?{body["id"]}[,}}]', listed_raw)


# --- what the forwarder pushes ------------------------------------------------


async def test_platform_2_delivery_report_has_its_own_id_and_names_the_sms(
    start_sandbox: Start, session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    running: Running = await start_sandbox(
        platform=PlatformMode.TWO, forwarder_url=receiver.url
    )
    _, _, created = await send(running, session, GATE, "Wake up")
    await receiver.wait_for(1)
    [report] = receiver.bodies("PATCH")
    assert report["detail"] == {"sms": {"id": created["id"]}}
    assert is_wide(report["id"])
    assert str(report["id"]) != created["id"]
    assert ZULU.fullmatch(report["submit_date"])
    assert ZULU.fullmatch(report["final_date"])
    assert report["status"] == {"id": 4, "status": "DELIVERED"}
    parsed = parse_delivery_report(report)
    assert (parsed.iccid, parsed.status) == (GATE, DeliveryStatus.DELIVERED)


async def test_platform_2_report_ids_differ_from_report_to_report(
    start_sandbox: Start, session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    running: Running = await start_sandbox(
        platform=PlatformMode.TWO, forwarder_url=receiver.url
    )
    created = [(await send(running, session, GATE, text))[2] for text in "ab"]
    await receiver.wait_for(2)
    reports = receiver.bodies("PATCH")
    assert len({report["id"] for report in reports}) == 2
    assert {report["detail"]["sms"]["id"] for report in reports} == {
        sms["id"] for sms in created
    }


async def test_platform_2_mo_sms_says_destination_address(
    start_sandbox: Start, session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    running: Running = await start_sandbox(
        platform=PlatformMode.TWO, forwarder_url=receiver.url
    )
    injected = await inject_mo(running, session, GATE, "Water level high")
    await receiver.wait_for(1)
    [body] = receiver.bodies("POST")
    assert body["destination_address"] == "12345"
    assert "dest_address" not in body
    assert is_wide(body["id"])
    assert body["id"] == injected["ids"][0]
    mo = parse_mo_sms(body)
    assert (mo.sms_id, mo.payload) == (str(injected["ids"][0]), "Water level high")


async def test_platform_1_pushes_keep_their_shapes(
    start_sandbox: Start, session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    running: Running = await start_sandbox(
        platform=PlatformMode.ONE, forwarder_url=receiver.url
    )
    _, _, created = await send(running, session, GATE, "Wake up")
    await inject_mo(running, session, GATE, "Hello")
    await receiver.wait_for(2)
    [report] = receiver.bodies("PATCH")
    assert report["id"] == created["id"]
    assert "detail" not in report
    assert ZONELESS.fullmatch(report["final_date"])
    [mo] = receiver.bodies("POST")
    assert mo["dest_address"] == "12345"
    assert "destination_address" not in mo


async def test_hybrid_account_pushes_each_sims_own_shape(
    start_sandbox: Start, session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    running: Running = await start_sandbox(
        platform=PlatformMode.HYBRID, forwarder_url=receiver.url
    )
    for iccid in (GATE, PLAIN):
        await send(running, session, iccid, "Ping")
    await receiver.wait_for(2)
    detail = {
        report["endpoint"]["name"]: "detail" in report
        for report in receiver.bodies("PATCH")
    }
    assert detail == {GATE: False, PLAIN: True}


# --- the SMS list -------------------------------------------------------------


@pytest.mark.parametrize("platform", list(PlatformMode))
async def test_sms_list_pages_20_by_default_up_to_1000(
    start_sandbox: Start, session: aiohttp.ClientSession, platform: PlatformMode
) -> None:
    running: Running = await start_sandbox(platform=platform)
    for number in range(25):
        running.state.gateway.inject_mo(GATE, f"Reading {number}")
    headers = {"Authorization": await bearer(running, session)}

    async def page(**query: int) -> tuple[int, Any]:
        async with session.get(
            f"{running.api_url}/v2/sims/{GATE}/sms", params=query, headers=headers
        ) as response:
            return response.status, await response.json()

    assert [len(body) for _, body in [await page(), await page(page=2)]] == [20, 5]
    status, everything = await page(per_page=1000)
    assert (status, len(everything)) == (200, 25)
    assert everything[0]["payload"] == "Reading 24"  # newest first
    for refused in ({"per_page": 1001}, {"per_page": 0}, {"page": 0}):
        assert (await page(**refused))[0] == 400


async def test_sms_older_than_seven_days_leave_the_list(
    start_sandbox: Start, session: aiohttp.ClientSession, make_client: MakeClient
) -> None:
    running: Running = await start_sandbox(platform=PlatformMode.TWO)
    client = make_client(running)
    running.state.gateway.inject_mo(GATE, "old")
    await advance(running, session, 6 * 86400)
    running.state.gateway.inject_mo(GATE, "new")
    assert [sms.payload for sms in await client.async_list_sms(GATE)] == [
        "new",
        "old",
    ]
    await advance(running, session, 86400 + 60)
    assert [sms.payload for sms in await client.async_list_sms(GATE)] == ["new"]


async def test_reset_keeps_the_platform(
    start_sandbox: Start, session: aiohttp.ClientSession
) -> None:
    running: Running = await start_sandbox(platform=PlatformMode.HYBRID)
    async with session.post(
        f"{running.base}/_sandbox/reset", json={"sims": 4}
    ) as response:
        assert response.status == 200
    async with session.get(f"{running.base}/_sandbox") as response:
        summary = await response.json()
    assert summary["platform"] == "hybrid"
    assert [sim["platform"] for sim in summary["sims"]] == [1, 1, 2, 2]
