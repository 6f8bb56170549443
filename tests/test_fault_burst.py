"""A burst of MO SMS from the sandbox's forwarder while the entry reloads twice.

The sandbox plays 1NCE's forwarder with its retry rule (every push retried
until a 2xx): Home Assistant answers 503 while the entry is unloaded, and the
parts of long SMS arrive in random order, some before a reload and some after.
Whatever the timing, each SMS must fire exactly one complete event.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
import random
from typing import Any
from unittest.mock import patch

import aiohttp
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.one_nce.const import EVENT_SMS_RECEIVED, FORWARDER_PATH
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from sandbox import Faults, Sandbox
from sandbox.ha_config import free_port

from .conftest import setup_integration
from .fault_common import (
    E2E_SECRET,
    PROBE_RELOAD,
    SENDING_ICCIDS,
    HomeAssistantProcess,
    sandbox_entry,
    start_sandbox,
    wait_for,
    write_ha_config,
)
from .forwarder_common import RECEIVING_PLATFORMS, forwarder_path, reload_receiving

MESSAGES = 500
LONG_EVERY = 5  # a fifth of them span several parts
WAVES = 10
RELOAD_AFTER_WAVES = (3, 7)


def burst_texts(rng: random.Random) -> list[str]:
    """500 distinct texts; every fifth one 2 to 3 parts long (GSM-7: 153 a part)."""
    texts = []
    for number in range(MESSAGES):
        head = f"msg {number:03d} "
        if number % LONG_EVERY == 0:
            length = rng.randint(170, 450)
            texts.append((head + "long " * 100)[:length])
        else:
            texts.append(head + "x" * rng.randint(0, 140))
    return texts


type Push = tuple[str, dict[str, Any]]
type Expected = dict[str, tuple[str, str, int]]


def prepare_burst(sandbox: Sandbox) -> tuple[list[Push], Expected]:
    """Have the SIMs send the burst; return its pushes shuffled, and what to expect.

    The sandbox splits each SMS as a phone would, but its pushes are held so
    that all parts of all SMS go out in one shuffled order. Expected: the
    first part's id (the SMS's id in its event) -> (ICCID, text, parts).
    """
    rng = random.Random(20261124)
    held: list[Push] = []
    expected: Expected = {}
    with patch.object(
        sandbox.forwarder, "push", side_effect=lambda *push: held.append(push)
    ):
        for number, text in enumerate(burst_texts(rng)):
            iccid = SENDING_ICCIDS[number % len(SENDING_ICCIDS)]
            records = sandbox.gateway.inject_mo(iccid, text)
            expected[str(records[0].sms_id)] = (iccid, text, len(records))
    rng.shuffle(held)
    assert len(held) > MESSAGES  # some SMS did span several parts
    return held, expected


def assert_each_sms_fired_once_and_whole(
    events: list[dict[str, Any]], expected: Expected
) -> None:
    """Exactly one complete event per SMS, with its whole text."""
    assert len(events) == MESSAGES
    ids = Counter(event["sms_id"] for event in events)
    assert set(ids) == set(expected)
    assert max(ids.values()) == 1
    for event in events:
        iccid, text, parts = expected[event["sms_id"]]
        assert (
            event["iccid"],
            event["text"],
            event["parts"],
            event["complete"],
        ) == (iccid, text, parts, True)


async def test_burst_of_500_sms_across_two_reloads_fires_each_once_and_whole(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    socket_enabled: None,
) -> None:
    """500 MO SMS (100 of them in shuffled parts) across two reloads: 500 events."""
    running = await start_sandbox(faults=Faults(rate_limit=0))
    sandbox = running.state
    entry = sandbox_entry(running)
    try:
        await setup_integration(hass, entry, RECEIVING_PLATFORMS)
        client = await hass_client_no_auth()
        sandbox.forwarder.set_url(str(client.make_url(forwarder_path(entry))))
        events = async_capture_events(hass, EVENT_SMS_RECEIVED)

        held, expected = prepare_burst(sandbox)
        forwarder = sandbox.forwarder

        wave = -(-len(held) // WAVES)
        reloads: list[asyncio.Task[None]] = []
        for number in range(WAVES):
            for method, body in held[number * wave : (number + 1) * wave]:
                forwarder.push(method, body)
            if number + 1 in RELOAD_AFTER_WAVES:
                if reloads:
                    await reloads[-1]
                # The reload runs while the next waves arrive.
                reloads.append(
                    hass.async_create_task(
                        reload_receiving(hass, entry), eager_start=True
                    )
                )
            await asyncio.sleep(0.05)
        await asyncio.gather(*reloads)

        await wait_for(
            lambda: not forwarder.pending, within=40, what="every push acknowledged"
        )
        await hass.async_block_till_done()
        counts = dict(forwarder.counts)
        assert entry.state is ConfigEntryState.LOADED
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        await running.server.close()

    assert len(reloads) == 2
    assert counts["acknowledged"] == len(held)
    assert counts["dropped"] == 0
    # Pushes that met an unloaded entry were refused (503) and sent again.
    assert counts["attempts"] > len(held)
    assert_each_sms_fired_once_and_whole([event.data for event in events], expected)


@pytest.mark.timeout(300)
async def test_burst_across_reloads_and_a_restart_of_home_assistant(
    socket_enabled: None, tmp_path: Path
) -> None:
    """End to end: a real Home Assistant process, reloaded twice and restarted once.

    The sandbox pushes over real HTTP to `python -m homeassistant`; a probe
    integration writes every `one_nce_sms_received` event to a file, which
    outlives the restart. The process is stopped (SIGTERM) in the middle of
    the burst; pushes meet a stopping, then absent Home Assistant and are
    retried. Only while it starts again are pushes held (no URL), so that the
    probe listens before the entry takes any; parts stored before the stop
    must be joined with parts that come after it.
    """
    running = await start_sandbox(faults=Faults(rate_limit=0), retry_max_gap=0.25)
    sandbox = running.state
    forwarder = sandbox.forwarder
    port = free_port()
    write_ha_config(tmp_path, running.api_url, port)
    home = HomeAssistantProcess(tmp_path, port)
    url = f"{home.base}{FORWARDER_PATH.format(secret=E2E_SECRET)}"
    held, expected = prepare_burst(sandbox)
    wave = -(-len(held) // WAVES)
    reloads = restarts = 0
    try:
        home.start()
        async with aiohttp.ClientSession() as session:
            await home.wait_ready(session, within=120)
            forwarder.set_url(url)
            for number in range(1, WAVES + 1):
                for method, body in held[(number - 1) * wave : number * wave]:
                    forwarder.push(method, body)
                await asyncio.sleep(0.05)
                if number in (2, 8):
                    async with session.post(f"{home.base}{PROBE_RELOAD}") as answer:
                        assert (await answer.json()) == {"reloaded": True}
                    reloads += 1
                if number == 5:
                    assert await home.stop() == 0
                    forwarder.set_url(None)
                    home.start()
                    await home.wait_ready(session, within=120)
                    forwarder.set_url(url)
                    restarts += 1
            await wait_for(
                lambda: not forwarder.pending,
                within=60,
                what="every push acknowledged",
            )
            counts = dict(forwarder.counts)
            assert await home.stop() == 0
    finally:
        home.kill()
        await running.server.close()

    assert (reloads, restarts) == (2, 1)
    assert counts["acknowledged"] == len(held)
    assert counts["dropped"] == 0
    assert counts["attempts"] > len(held)
    assert_each_sms_fired_once_and_whole(home.events(), expected)
