"""The sandbox's Data Streamer pointed at Home Assistant, and what --check proves of it.

Used by `develop_run.py`. Once the entry is set up, `connect_streams` creates
the two streams a user creates in 1NCE's Portal (*Configuration -> Data
Streams*): a Usage stream and an Event stream, both to the entry's streamer
address with its Basic Auth Header, and makes the sandbox slice data use
every minute so a demo sees usage records soon. `check_streamer` is the
develop check's part about them: a network event played in the sandbox
reaches the SIM's *Network event* entity and the bus, and the account's
*Streamer records received* rises. `both_channels_done` tells when an
MO SMS has gone out by the forwarder and (on Platform 2.0) by the Event
stream too, so the check can count its events.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
import time
from typing import Any, Final

import aiohttp
from develop_ha import DOMAIN, HomeAssistant, Websocket

STREAMER_PATH: Final = "/api/one_nce/streamer/{secret}"
# Data use sliced every minute of sandbox time (1NCE: at most every 15 minutes).
USAGE_INTERVAL: Final = 60
STREAM_TYPES: Final = ("usage", "event")
CAMPER_VAN: Final = "8988228066000000005"  # offline: `attach` makes it ATTACHED
WAIT: Final = 60.0

type Verdict = Callable[[bool, str], None]


async def _control(
    session: aiohttp.ClientSession,
    sandbox: str,
    method: str,
    path: str,
    body: Any = None,
) -> Any:
    async with session.request(
        method, f"{sandbox}/_sandbox{path}", json=body
    ) as response:
        response.raise_for_status()
        return await response.json()


async def connect_streams(
    session: aiohttp.ClientSession,
    sandbox: str,
    ha_base: str,
    secret: str,
    credential: str,
) -> str:
    """Create the Usage and the Event stream to Home Assistant; return their URL."""
    url = f"{ha_base}{STREAMER_PATH.format(secret=secret)}"
    await _control(
        session,
        sandbox,
        "PATCH",
        "/streams/settings",
        {"usage_interval": USAGE_INTERVAL},
    )
    existing = await _control(session, sandbox, "GET", "/streams")
    for stream in existing["streams"]:  # a sandbox of an earlier wiring
        await _control(session, sandbox, "DELETE", f"/streams/{stream['id']}")
    for kind in STREAM_TYPES:
        await _control(
            session,
            sandbox,
            "POST",
            "/streams",
            {
                "type": kind,
                "url": url,
                "auth": credential,
                "name": f"Home Assistant {kind}",
            },
        )
    return url


async def event_stream(session: aiohttp.ClientSession, sandbox: str) -> dict[str, Any]:
    """Read the sandbox's Event stream as its list shows it (status, counts)."""
    overview = await _control(session, sandbox, "GET", "/streams")
    stream: dict[str, Any] = next(
        stream for stream in overview["streams"] if stream["type"] == "event"
    )
    return stream


async def both_channels_done(
    session: aiohttp.ClientSession,
    sandbox: str,
    *,
    acknowledged_before: int,
    streamed: int,
) -> bool:
    """Wait until both channels delivered; False after WAIT seconds.

    Delivered: the forwarder has nothing pending, and the Event stream had
    `streamed` more records acknowledged than `acknowledged_before`.
    """
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        forwarder = await _control(session, sandbox, "GET", "/forwarder")
        stream = await event_stream(session, sandbox)
        if (
            forwarder["pending"] == 0
            and stream["records_acknowledged"] >= acknowledged_before + streamed
            and stream["queued"] == 0
            and stream["in_flight"] == 0
        ):
            return True
        await asyncio.sleep(0.2)
    return False


async def _state(
    ha: HomeAssistant, entity_id: str, wanted: Callable[[dict[str, Any]], bool]
) -> dict[str, Any] | None:
    """Wait until the entity's state is as wanted; None after WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        state = (await ha.async_states()).get(entity_id)
        if state is not None and wanted(state):
            return state
        await asyncio.sleep(0.5)
    return None


def _count(state: dict[str, Any] | None) -> int | None:
    try:
        return int(float(state["state"])) if state is not None else None
    except ValueError:
        return None


async def check_streamer(
    ha: HomeAssistant,
    sandbox: str,
    session: aiohttp.ClientSession,
    ws: Websocket,
    entities: dict[str, str],
    *,
    verdict: Verdict,
) -> None:
    """Check that a network event reaches the SIM's entity and the bus, counted.

    `entities` maps the integration's unique ids to entity ids; `ws` is
    subscribed to `one_nce_network_event` by this.
    """
    [entry] = await ha.async_entries()
    records_id = entities.get(f"{entry['entry_id']}_streamer_records", "")
    network_id = entities.get(f"{CAMPER_VAN}_network_event", "")
    states = await ha.async_states()
    before = _count(states.get(records_id))
    verdict(before is not None, f"{records_id} = {before} before the event")
    await ws.command(type="subscribe_events", event_type=f"{DOMAIN}_network_event")

    played = await _control(
        session,
        sandbox,
        "POST",
        "/streams/inject",
        {"iccid": CAMPER_VAN, "event": "attach"},
    )
    verdict(
        played.get("connectivity") == "ATTACHED",
        f"sandbox: the camper van attaches ({played.get('connectivity')})",
    )
    try:
        event = await ws.wait_for_event(
            f"{DOMAIN}_network_event",
            lambda data: data.get("iccid") == CAMPER_VAN,
            within=WAIT,
        )
    except TimeoutError:
        event = None
    event_type = event["data"].get("event_type") if event else None
    verdict(event_type == "attach", f"{DOMAIN}_network_event: {event_type}")
    shown = await _state(
        ha, network_id, lambda state: state["attributes"].get("event_type") == "attach"
    )
    verdict(
        shown is not None,
        f"{network_id} = {shown and shown['state']} "
        f"({shown and shown['attributes'].get('event_type')})",
    )
    after = await _state(
        ha,
        records_id,
        lambda state: (
            (count := _count(state)) is not None
            and before is not None
            and count > before
        ),
    )
    verdict(
        after is not None,
        f"{records_id} rose: {before} -> {_count(after)}",
    )
