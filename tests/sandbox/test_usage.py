"""Data use that lowers the data quota, top-ups, and the sandbox's own book of usage.

Every enabled, online SIM uses a little data each simulated minute; its data
quota's `volume` falls by exactly that and the sandbox books it per day, with
the SMS sent to (MT) and from (MO) the SIM, under `GET /_sandbox/usage/{iccid}`:
the truth a test compares Home Assistant's counts with.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
import math
from typing import Any

import aiohttp
import pytest

from custom_components.one_nce.api import OneNceClient
from sandbox import PlatformMode

from .conftest import Running, advance, truth

GATE, LOW, EMPTY, DISABLED, OFFLINE, PLAIN = (
    f"8988228066{index:09d}" for index in range(1, 7)
)
HOUR = 3600

Start = Callable[..., Any]
MakeClient = Callable[..., OneNceClient]


async def data_left(client: OneNceClient, iccid: str) -> float:
    """The data quota's volume as the integration's client reads it."""
    volume = (await client.async_get_data_quota(iccid)).volume
    assert volume is not None
    return volume


@pytest.mark.parametrize("platform", [PlatformMode.ONE, PlatformMode.TWO])
async def test_online_sim_uses_data_by_the_minute_and_the_book_agrees(
    start_sandbox: Start,
    make_client: MakeClient,
    session: aiohttp.ClientSession,
    platform: PlatformMode,
) -> None:
    running: Running = await start_sandbox(platform=platform)
    client = make_client(running)
    before = await data_left(client, GATE)
    booked = (await truth(running, session, GATE))["total"]["data_mb"]
    await advance(running, session, HOUR)
    after = await data_left(client, GATE)
    used = before - after
    assert used == pytest.approx(60 * running.state.fleet[GATE].data_rate)
    book = await truth(running, session, GATE)
    assert book["total"]["data_mb"] - booked == pytest.approx(used)
    assert book["data_volume"] == pytest.approx(after)
    await advance(running, session, 2 * HOUR)
    assert before - await data_left(client, GATE) == pytest.approx(3 * used)


async def test_sims_not_online_use_no_data(
    start_sandbox: Start, make_client: MakeClient, session: aiohttp.ClientSession
) -> None:
    running: Running = await start_sandbox(platform=PlatformMode.TWO)
    client = make_client(running)
    quiet = (LOW, DISABLED, OFFLINE)  # attached, disabled, offline
    before = {iccid: await data_left(client, iccid) for iccid in quiet}
    await advance(running, session, 5 * HOUR)
    assert {iccid: await data_left(client, iccid) for iccid in quiet} == before


async def test_a_sim_going_offline_stops_using_data_from_then_on(
    start_sandbox: Start, make_client: MakeClient, session: aiohttp.ClientSession
) -> None:
    running: Running = await start_sandbox(platform=PlatformMode.TWO)
    client = make_client(running)
    before = await data_left(client, PLAIN)
    await advance(running, session, HOUR)
    async with session.patch(
        f"{running.base}/_sandbox/sims/{PLAIN}", json={"connectivity": "offline"}
    ) as response:
        assert response.status == 200
    used = before - await data_left(client, PLAIN)
    await advance(running, session, 3 * HOUR)
    assert before - await data_left(client, PLAIN) == pytest.approx(used)
    assert used == pytest.approx(60 * running.state.fleet[PLAIN].data_rate)


async def test_data_stops_when_the_quota_is_used_up(
    start_sandbox: Start, make_client: MakeClient, session: aiohttp.ClientSession
) -> None:
    running: Running = await start_sandbox(platform=PlatformMode.TWO)
    client = make_client(running)
    async with session.patch(
        f"{running.base}/_sandbox/sims/{GATE}", json={"data_volume": 0.25}
    ) as response:
        assert response.status == 200
    booked = (await truth(running, session, GATE))["total"]["data_mb"]
    await advance(running, session, 24 * HOUR)
    quota = await client.async_get_data_quota(GATE)
    assert quota.volume == 0
    book = await truth(running, session, GATE)
    assert book["total"]["data_mb"] - booked == pytest.approx(0.25)


async def test_usage_is_booked_to_the_day_it_happens_on(
    start_sandbox: Start, session: aiohttp.ClientSession
) -> None:
    running: Running = await start_sandbox(platform=PlatformMode.TWO)
    clock = running.state.clock
    started = clock.now()
    midnight = (started + timedelta(days=1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    # Minutes count from the sandbox's start and each is booked to the day it
    # starts on: run until ten of them have started after midnight.
    to_midnight = math.ceil((midnight - started).total_seconds() / 60) * 60
    await advance(running, session, to_midnight + 600)
    book = await truth(running, session, GATE, since=started.date().isoformat())
    days = {day["date"]: day["data_mb"] for day in book["days"]}
    rate = running.state.fleet[GATE].data_rate
    assert days[midnight.date().isoformat()] == pytest.approx(10 * rate)
    assert list(days) == [started.date().isoformat(), midnight.date().isoformat()]


async def test_book_counts_sms_sent_to_and_from_the_sim(
    start_sandbox: Start, make_client: MakeClient, session: aiohttp.ClientSession
) -> None:
    running: Running = await start_sandbox(platform=PlatformMode.TWO)
    client = make_client(running)
    today = running.state.clock.now().date().isoformat()
    await client.async_send_sms(GATE, "Gate: open")
    running.state.gateway.inject_mo(GATE, "Gate opened. " * 14)  # two parts
    book = await truth(running, session, GATE, since=today)
    assert [(day["date"], day["sms_mt"], day["sms_mo"]) for day in book["days"]] == [
        (today, 1, 2)
    ]
    assert (book["total"]["sms_mt"], book["total"]["sms_mo"]) == (1, 2)
    assert book["platform"] == 2


async def test_platform_1_usage_statistics_read_the_same_book(
    start_sandbox: Start, make_client: MakeClient, session: aiohttp.ClientSession
) -> None:
    running: Running = await start_sandbox(platform=PlatformMode.ONE)
    client = make_client(running)
    await client.async_send_sms(GATE, "Gate: open")
    await advance(running, session, HOUR)
    today = running.state.clock.now().date()
    usage = await client.async_get_usage(GATE, today - timedelta(days=3), today)
    book = await truth(running, session, GATE)
    booked = {day["date"]: day for day in book["days"]}
    assert usage.days
    for day in usage.days:
        row = booked[day.day.isoformat()]
        assert day.data_mb == pytest.approx(row["data_mb"], abs=1e-6)
        assert (day.sms_mt, day.sms_mo) == (row["sms_mt"], row["sms_mo"])


async def test_top_up_raises_volume_and_total_and_says_what_was_added(
    start_sandbox: Start, make_client: MakeClient
) -> None:
    running: Running = await start_sandbox(platform=PlatformMode.TWO)
    client = make_client(running)
    sms_before = await client.async_get_sms_quota(EMPTY)
    data_before = await client.async_get_data_quota(EMPTY)
    await client.async_top_up(EMPTY)
    for before, after in (
        (sms_before, await client.async_get_sms_quota(EMPTY)),
        (data_before, await client.async_get_data_quota(EMPTY)),
    ):
        assert after.last_volume_added is not None
        assert after.last_volume_added > 0
        assert before.volume is not None
        assert before.total_volume is not None
        assert after.volume == pytest.approx(
            max(before.volume, 0) + after.last_volume_added, abs=0.01
        )
        assert after.total_volume == before.total_volume + after.last_volume_added
        assert after.last_status_change_date != before.last_status_change_date


async def test_book_of_an_unknown_sim_or_a_bad_date_is_refused(
    start_sandbox: Start, session: aiohttp.ClientSession
) -> None:
    running: Running = await start_sandbox()
    async with session.get(
        f"{running.base}/_sandbox/usage/8988228066999999999"
    ) as response:
        assert response.status == 404
    async with session.get(
        f"{running.base}/_sandbox/usage/{GATE}", params={"since": "yesterday"}
    ) as response:
        assert response.status == 400
