"""The gateway's limits and the faults, counters and CLI offered for tests."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
import os
from pathlib import Path
import sys
from typing import Any

import aiohttp
import pytest

from custom_components.one_nce.api import (
    OneNceAuthenticationError,
    OneNceClient,
    OneNceConnectionError,
    OneNceFeatureUnavailableError,
)
from custom_components.one_nce.api.forwarder import parse_mo_sms

from .conftest import Receiver, Running, bearer

GATE = "8988228066000000001"
ROOT = Path(__file__).parents[2]

Start = Callable[..., Any]
MakeClient = Callable[..., OneNceClient]


async def test_eleventh_request_in_a_second_gets_429_with_retry_after(
    start_sandbox: Start, session: aiohttp.ClientSession
) -> None:
    running: Running = await start_sandbox()
    headers = {"Authorization": await bearer(running, session)}
    answers = []
    for _ in range(11):
        async with session.get(
            f"{running.api_url}/v2/sims/{GATE}", headers=headers
        ) as response:
            answers.append((response.status, response.headers.get("Retry-After")))
    assert answers[:10] == [(200, None)] * 10
    assert answers[10] == (429, "1")


async def test_client_rides_out_the_rate_limit(
    start_sandbox: Start, make_client: MakeClient
) -> None:
    running: Running = await start_sandbox()
    client = make_client(running)
    sims = await asyncio.gather(*(client.async_get_sim(GATE) for _ in range(15)))
    assert len(sims) == 15
    assert running.state.statuses["429"] >= 1


async def test_injected_errors_are_retried_or_surface(
    start_sandbox: Start, make_client: MakeClient, session: aiohttp.ClientSession
) -> None:
    running: Running = await start_sandbox()
    client = make_client(running)
    await client.async_authenticate()
    async with session.patch(
        f"{running.base}/_sandbox/faults", json={"fail_next": 2}
    ) as response:
        assert (await response.json())["fail_next"] == 2
    assert (await client.async_get_sim(GATE)).iccid == GATE  # third try answers
    assert running.state.statuses["503"] == 2
    running.state.faults.update({"error_rate": 1.0, "error_html": False})
    with pytest.raises(OneNceConnectionError):
        await client.async_get_sim(GATE)


async def test_bad_fault_is_refused(
    start_sandbox: Start, session: aiohttp.ClientSession
) -> None:
    running: Running = await start_sandbox()
    for bad in ({"error_rate": 2}, {"latency": "slow"}, {"nonsense": 1}):
        async with session.patch(
            f"{running.base}/_sandbox/faults", json=bad
        ) as response:
            assert response.status == 400


async def test_latency_slows_every_answer(
    start_sandbox: Start, make_client: MakeClient
) -> None:
    running: Running = await start_sandbox()
    client = make_client(running)
    await client.async_authenticate()
    running.state.faults.latency = 0.2
    loop = asyncio.get_running_loop()
    started = loop.time()
    await client.async_get_sim(GATE)
    assert loop.time() - started >= 0.2


async def test_short_token_lifetime_makes_the_client_renew(
    start_sandbox: Start, make_client: MakeClient
) -> None:
    running: Running = await start_sandbox()
    running.state.faults.token_lifetime = 0.3
    client = make_client(running)
    await client.async_get_sim(GATE)
    await asyncio.sleep(0.35)
    await client.async_get_sim(GATE)
    assert running.state.requests["POST /oauth/token"] == 2


async def test_revoked_credentials_end_in_authentication_error(
    start_sandbox: Start, make_client: MakeClient
) -> None:
    running: Running = await start_sandbox()
    client = make_client(running)
    await client.async_get_sim(GATE)
    running.state.faults.revoked = True
    with pytest.raises(OneNceAuthenticationError):
        await client.async_get_sim(GATE)
    assert running.state.statuses["401"] == 1


async def test_retired_v1_means_feature_unavailable(
    start_sandbox: Start, make_client: MakeClient
) -> None:
    running: Running = await start_sandbox()
    running.state.faults.v1_available = False
    client = make_client(running)
    with pytest.raises(OneNceFeatureUnavailableError):
        await client.async_get_usage(GATE, date(2026, 1, 1), date(2026, 1, 2))


async def test_counters_by_endpoint_and_reset(
    start_sandbox: Start, make_client: MakeClient, session: aiohttp.ClientSession
) -> None:
    running: Running = await start_sandbox()
    client = make_client(running)
    await client.async_get_sims()
    await client.async_get_sms_quota(GATE)
    await client.async_get_sms_quota(GATE)
    async with session.get(f"{running.base}/_sandbox/counters") as response:
        counters = await response.json()
    assert counters["by_endpoint"] == {
        "GET /v2/sims": 1,
        "GET /v2/sims/{iccid}/quota/{service}": 2,
        "POST /oauth/token": 1,
    }
    assert counters["total"] == 4
    async with session.delete(f"{running.base}/_sandbox/counters") as response:
        assert (await response.json())["total"] == 0


async def test_reset_reseeds_and_keeps_the_forwarder(
    start_sandbox: Start, session: aiohttp.ClientSession, receiver: Receiver
) -> None:
    running: Running = await start_sandbox(forwarder_url=receiver.url)
    running.state.faults.revoked = True
    async with session.post(
        f"{running.base}/_sandbox/reset", json={"sims": 3}
    ) as response:
        assert (await response.json()) == {"sims": 3}
    async with session.get(f"{running.base}/_sandbox") as response:
        summary = await response.json()
    assert summary["sim_count"] == 3
    assert summary["faults"]["revoked"] is False
    assert summary["forwarder"]["url"] == receiver.url


async def test_cli_injects_an_mo_sms(start_sandbox: Start, receiver: Receiver) -> None:
    running: Running = await start_sandbox(forwarder_url=receiver.url)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sandbox",
        "--sandbox",
        running.base,
        "send-mo",
        GATE,
        "Hello from the CLI",
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=asyncio.subprocess.PIPE,
    )
    output, _ = await process.communicate()
    assert process.returncode == 0
    assert b'"parts": 1' in output
    await receiver.wait_for(1)
    assert parse_mo_sms(receiver.bodies("POST")[0]).payload == "Hello from the CLI"
