"""MT SMS through the sandbox's gateway, MO SMS, and the forwarder's pushes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from custom_components.one_nce.api import (
    DeliveryStatus,
    OneNceClient,
    OneNceInvalidRequestError,
)
from custom_components.one_nce.api.forwarder import (
    parse_delivery_report,
    parse_mo_sms,
)
from custom_components.one_nce.api.sms import decode_payload

from .conftest import Receiver, Running, wait_until

GATE, LOW, EMPTY, DISABLED, OFFLINE, PLAIN = (
    f"8988228066{index:09d}" for index in range(1, 7)
)

Start = Callable[..., Any]
MakeClient = Callable[..., OneNceClient]


async def test_sent_sms_is_delivered_and_reported(
    start_sandbox: Start, make_client: MakeClient, receiver: Receiver
) -> None:
    running: Running = await start_sandbox(forwarder_url=receiver.url)
    client = make_client(running)
    created = await client.async_send_sms(GATE, "Gate: open", dcs=0)
    await receiver.wait_for(1)
    method, body, _ = receiver.acknowledged[0]
    assert method == "PATCH"
    report = parse_delivery_report(body)
    assert (str(report.sms_id), report.iccid) == (created.sms_id, GATE)
    assert (report.status, report.organisation_id) == (DeliveryStatus.DELIVERED, 4567)
    sms = await client.async_get_sms(GATE, created.sms_id)
    assert sms.status is DeliveryStatus.DELIVERED
    assert (await client.async_list_sms(GATE))[0].payload == "Gate: open"
    assert (await client.async_get_sms_quota(GATE)).volume == 230


async def test_sms_to_offline_sim_expires_and_to_empty_sim_fails(
    start_sandbox: Start, make_client: MakeClient, receiver: Receiver
) -> None:
    running: Running = await start_sandbox(forwarder_url=receiver.url)
    client = make_client(running)
    await client.async_send_sms(OFFLINE, "Wake up")
    await client.async_send_sms(EMPTY, "Pump on")
    await receiver.wait_for(2)
    statuses = {
        report.iccid: report.status
        for report in map(parse_delivery_report, receiver.bodies("PATCH"))
    }
    assert statuses == {
        OFFLINE: DeliveryStatus.EXPIRED,
        EMPTY: DeliveryStatus.FAILED,
    }


async def test_v1_style_create_gives_the_id_in_location(
    start_sandbox: Start, make_client: MakeClient
) -> None:
    running: Running = await start_sandbox()
    running.state.faults.sms_create_v1 = True
    client = make_client(running)
    created = await client.async_send_sms(GATE, "Hello")
    assert (await client.async_get_sms(GATE, created.sms_id)).payload == "Hello"


async def test_pending_sms_can_be_cancelled_once(
    start_sandbox: Start, make_client: MakeClient
) -> None:
    running: Running = await start_sandbox()
    running.state.config.delivery_delay = 60
    client = make_client(running)
    created = await client.async_send_sms(GATE, "Never mind")
    await client.async_cancel_sms(GATE, created.sms_id)
    assert (await client.async_get_sms(GATE, created.sms_id)).status_id == 7
    with pytest.raises(OneNceInvalidRequestError):
        await client.async_cancel_sms(GATE, created.sms_id)


async def test_overlong_part_and_traffic_limit_are_refused(
    start_sandbox: Start, make_client: MakeClient
) -> None:
    running: Running = await start_sandbox()
    client = make_client(running)
    with pytest.raises(OneNceInvalidRequestError, match="too long"):
        await client.async_send_sms(GATE, "x" * 161, dcs=0)
    running.state.gateway.mt_this_month = 1000
    with pytest.raises(OneNceInvalidRequestError, match="Traffic limit of 1000"):
        await client.async_send_sms(GATE, "one too many")


async def test_long_mo_sms_is_split_and_retried_until_acknowledged(
    start_sandbox: Start, session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    running: Running = await start_sandbox(forwarder_url=receiver.url)
    receiver.answers = [503, 500, 404]
    text = "Water level high. " * 12  # 216 GSM characters: two parts
    async with session.post(
        f"{running.base}/_sandbox/mo", json={"iccid": GATE, "text": text}
    ) as response:
        assert response.status == 201
        assert (await response.json())["parts"] == 2
    await receiver.wait_for(2)
    parts = sorted(
        map(parse_mo_sms, receiver.bodies("POST")),
        key=lambda sms: sms.multi_part.part,
    )
    assert [(sms.multi_part.part, sms.multi_part.total) for sms in parts] == [
        (1, 2),
        (2, 2),
    ]
    assert len({sms.multi_part.identifier for sms in parts}) == 1
    assert "".join(sms.payload for sms in parts) == text
    assert len(receiver.requests) == 5  # three refusals, then both parts


async def test_unicode_mo_sms_arrives_as_ucs2_hex_with_numbers_as_strings(
    start_sandbox: Start, session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    running: Running = await start_sandbox(forwarder_url=receiver.url)
    running.state.faults.string_numbers = True
    text = "Привет 👋 " * 10  # 90 UTF-16 units: two UCS-2 parts
    async with session.post(
        f"{running.base}/_sandbox/mo", json={"iccid": PLAIN, "text": text}
    ) as response:
        assert (await response.json())["parts"] == 2
    await receiver.wait_for(2)
    bodies = receiver.bodies("POST")
    assert bodies[0]["dcs"] == "8"
    parts = sorted(map(parse_mo_sms, bodies), key=lambda sms: sms.multi_part.part)
    assert decode_payload("".join(sms.payload for sms in parts), 8) == text


async def test_pushes_wait_for_a_url_and_gaps_grow(
    start_sandbox: Start, session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    running: Running = await start_sandbox(retry_initial=0.15, retry_max_gap=10)
    running.state.gateway.inject_mo(GATE, "held")
    await wait_until(lambda: running.state.forwarder.pending != {})
    receiver.answers = [500, 500]
    async with session.put(
        f"{running.base}/_sandbox/forwarder", json={"url": receiver.url}
    ) as response:
        assert (await response.json())["url"] == receiver.url
    await receiver.wait_for(1)
    times = [moment for _, _, moment in receiver.requests]
    first_gap, second_gap = times[1] - times[0], times[2] - times[1]
    assert first_gap >= 0.14
    assert second_gap >= 0.29
    assert second_gap > first_gap


async def test_push_is_dropped_after_the_retry_window(
    start_sandbox: Start, session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    running: Running = await start_sandbox(
        forwarder_url=receiver.url, retry_initial=60, retry_give_up=24 * 3600.0
    )
    receiver.answers = [500] * 100
    running.state.gateway.inject_mo(GATE, "lost")
    forwarder = running.state.forwarder
    for _ in range(1000):  # gaps double from 60 s to 3600 s: 24 h in ~30 attempts
        if forwarder.counts["dropped"]:
            break
        async with session.post(
            f"{running.base}/_sandbox/time/advance", json={"seconds": 3600}
        ):
            pass
        await asyncio.sleep(0.01)
    await wait_until(lambda: forwarder.counts["dropped"] == 1)
    async with session.get(f"{running.base}/_sandbox/forwarder") as response:
        state = await response.json()
    assert state["recent"][-1]["outcome"] == "dropped"
    assert state["pending"] == 0
