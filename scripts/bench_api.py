"""API economy: what a simulated day of polling costs at 1NCE, per fleet size.

Run it through `scripts/bench` (section `api`) or as `python scripts/bench_api.py`
in the test venv (`--sims 10,100,1000 --platform 1|2|both --streamer
off|on|both`, the defaults). For each fleet size, platform and streamer mode it:

1. starts the sandbox (a stand-in for 1NCE) on 127.0.0.1, on Platform 1.0 or
   2.0 (where v1, so usage statistics and limits, answers 404), and a Home
   Assistant in this process (the test harness of
   pytest-homeassistant-custom-component, in a temporary config directory),
   and sets the 1NCE entry up against the sandbox with the default options
   (SIM list every 15 min, details every 60 min);
2. puts the integration's client and the account's shared rate limiter on the
   sandbox's clock: every wait skips the sandbox's time ahead instead of
   sleeping, so a day takes seconds and the sandbox's own 10/s limiter judges
   the rate on the same timeline;
3. adds a usage and an event stream to the sandbox as "local" streams (no
   HTTP: each batch goes to a coroutine). Streamer on: each simulated minute
   their queued records are drained and handed to the integration as its
   Data Streamer view does once a request is authenticated
   (`parse_stream_batch`, then the entry's `receiver.streamer.async_receive`).
   Streamer off: the same streams are drained into nothing, so the fleet's
   simulation (the streams' data slices) is the same in both modes;
4. zeroes the sandbox's counters, then plays days minute by minute: the
   fleet uses data (`Sandbox.settle_usage`), plays `TRAFFIC` (a few SMS each
   way and a data session closed and reopened per SIM and day, the same in
   every mode), and each coordinator of the entry (list, details, usage, and
   any other with listeners) is refreshed when its `update_interval` since
   its last refresh is up, as Home Assistant's timer would (their own timers
   are switched off), so whatever the integration asks, and how often, is
   counted, whichever platform and whatever it polls;
5. prints per day: requests by endpoint, total and per SIM, the peak in any
   one-second window (sliding, as 1NCE counts; it must stay <= 10), the
   sandbox's own 429s, and the ratio without/with the streamer. With the
   streamer on it plays two days: the first, in which the streams start to
   count as delivering (from their first batch; polling yields from then on),
   and the second, the steady state. A Markdown table of every run ends it.

Setup's own requests (first list, first details, the six-month usage
backfill) are not part of the days; `bench_setup.py` covers setup.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from datetime import datetime, timedelta
from pathlib import Path
import sys
import tempfile
import time
from typing import Any
from unittest.mock import patch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

# The project's package before Home Assistant's loader looks for one.
import custom_components  # noqa: E402, F401  # isort: skip
from aiohttp import web  # noqa: E402
from aiohttp.resolver import ThreadedResolver  # noqa: E402
from aiohttp.test_utils import TestServer  # noqa: E402
from pytest_homeassistant_custom_component.common import (  # noqa: E402
    MockConfigEntry,
    async_test_home_assistant,
)

from custom_components.one_nce import PLATFORMS  # noqa: E402
from custom_components.one_nce.api import (  # noqa: E402
    OneNceClient,
    RateLimiter,
    new_rate_limiter,
)
from custom_components.one_nce.api.client import MAX_RETRY_AFTER  # noqa: E402
from custom_components.one_nce.api.records import StreamBatch  # noqa: E402
from custom_components.one_nce.api.streamer import (  # noqa: E402
    StreamerPayloadError,
    parse_stream_batch,
)
from custom_components.one_nce.const import (  # noqa: E402
    CONF_API_URL,
    DOMAIN,
)
from custom_components.one_nce.receiving import (  # noqa: E402
    streamer as receiving_streamer,
)
from custom_components.one_nce.receiving.streamer import (  # noqa: E402
    SimListUnavailableError,
    StreamKind,
)
from homeassistant import loader  # noqa: E402
from homeassistant.const import (  # noqa: E402
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    Platform,
)
from homeassistant.core import HomeAssistant  # noqa: E402
from homeassistant.helpers import frame  # noqa: E402
from homeassistant.helpers.update_coordinator import (  # noqa: E402
    DataUpdateCoordinator,
)
from homeassistant.util import dt as dt_util  # noqa: E402
from homeassistant.util.json import json_loads  # noqa: E402
from sandbox import (  # noqa: E402
    API_PREFIX,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    SANDBOX,
    PlatformMode,
    Sandbox,
    SandboxConfig,
    create_app,
)
from sandbox.fleet import Connectivity  # noqa: E402
from sandbox.gateway import GatewayError  # noqa: E402
from sandbox.streams import Shape, StreamType  # noqa: E402

DETAIL_ENDPOINTS = 3  # SMS quota, data quota, status
RATE_LIMIT = 10
TOKEN_PATH = f"{API_PREFIX}/oauth/token"
Handler = Callable[[web.Request], Any]


@dataclass
class Bench:
    """A Home Assistant with the 1NCE entry set up against a sandbox."""

    hass: HomeAssistant
    sandbox: Sandbox
    entry: MockConfigEntry
    arrivals: list[float] = field(default_factory=list)
    """Sandbox-clock times of the requests that count against the 10/s."""

    def counters(self) -> tuple[Counter[str], Counter[str]]:
        """Return the requests by endpoint and by status, as the sandbox counted."""
        return Counter(self.sandbox.requests), Counter(self.sandbox.statuses)

    def reset(self) -> None:
        """Count from zero."""
        self.sandbox.reset_counters()
        self.arrivals.clear()


def peak_per_second(times: Sequence[float], window: float = 1.0) -> int:
    """Most requests in any window of `window` seconds (sliding, not aligned)."""
    ordered = sorted(times)
    peak = start = 0
    for end, moment in enumerate(ordered):
        while ordered[start] <= moment - window:
            start += 1
        peak = max(peak, end - start + 1)
    return peak


def _recorder(bench_arrivals: list[float], sandbox: Callable[[], Sandbox]) -> Any:
    @web.middleware
    async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if path.startswith(API_PREFIX) and path != TOKEN_PATH:
            bench_arrivals.append(sandbox().clock.monotonic())
        response: web.StreamResponse = await handler(request)
        return response

    return record


@asynccontextmanager
async def bench_home(
    sims: int,
    *,
    platforms: list[Platform] | None = None,
    simulated_time: bool = True,
    setup: bool = True,
    limiter_period: float | None = None,
    platform: PlatformMode = PlatformMode.ONE,
) -> AsyncIterator[Bench]:
    """Start a sandbox and a Home Assistant; set the entry up (unless told not to).

    With `simulated_time`, the client's clock is the sandbox's and its waits
    skip that clock ahead, and Home Assistant's `utcnow` follows it too.
    `limiter_period` replaces the limiter's 1 s window (to try a margin).
    `platform` is the sandbox's (Platform 1.0 unless told).
    """
    arrivals: list[float] = []
    app = create_app(SandboxConfig(sims=sims, delivery_delay=0.0, platform=platform))
    sandbox = app[SANDBOX]
    app.middlewares.insert(0, _recorder(arrivals, lambda: sandbox))
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    start_mono = sandbox.clock.monotonic()
    start_utc = dt_util.utcnow()

    in_flight = 0
    idle = asyncio.Event()
    idle.set()

    async def skip(seconds: float) -> None:
        """Sleep on the sandbox's clock: let requests in flight land, then skip.

        A real sleep lets the requests sent before it reach 1NCE; skipping
        at once would make them arrive after the skip, in the next second.
        """
        started = sandbox.clock.monotonic()
        await idle.wait()
        if (left := seconds - (sandbox.clock.monotonic() - started)) > 0:
            sandbox.clock.advance(left)
        await asyncio.sleep(0)

    shared: list[RateLimiter] = []

    def simulated_client(*args: Any, **kwargs: Any) -> OneNceClient:
        # The account's one limiter (connection.py shares one per account),
        # but on the sandbox's clock: the integration's own waits real time.
        if not shared:
            shared.append(
                new_rate_limiter(clock=sandbox.clock.monotonic, sleep=skip)
                if limiter_period is None
                else RateLimiter(
                    RATE_LIMIT,
                    limiter_period,
                    clock=sandbox.clock.monotonic,
                    sleep=skip,
                    max_pause=MAX_RETRY_AFTER,
                )
            )
        kwargs["rate_limiter"] = shared[0]
        client = OneNceClient(
            *args, clock=sandbox.clock.monotonic, sleep=skip, **kwargs
        )
        exchange = client._exchange

        async def counted(*call_args: Any, **call_kwargs: Any) -> Any:
            nonlocal in_flight
            in_flight += 1
            idle.clear()
            try:
                return await exchange(*call_args, **call_kwargs)
            finally:
                in_flight -= 1
                if not in_flight:
                    idle.set()

        client._exchange = counted  # type: ignore[method-assign]
        return client

    def simulated_utcnow() -> datetime:
        return start_utc + timedelta(seconds=sandbox.clock.monotonic() - start_mono)

    client_factory = simulated_client if simulated_time else OneNceClient
    with tempfile.TemporaryDirectory(prefix="one_nce_bench_") as config_dir:
        async with async_test_home_assistant(config_dir=config_dir) as hass:
            hass.data.pop(loader.DATA_CUSTOM_COMPONENTS, None)
            frame.async_setup(hass)
            entry = MockConfigEntry(
                domain=DOMAIN,
                title="1NCE",
                unique_id=DEFAULT_CLIENT_ID,
                data={
                    CONF_CLIENT_ID: DEFAULT_CLIENT_ID,
                    CONF_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
                    CONF_API_URL: str(server.make_url(API_PREFIX)),
                },
            )
            entry.add_to_hass(hass)
            bench = Bench(hass, sandbox, entry, arrivals)
            with (
                patch(
                    "custom_components.one_nce.connection.OneNceClient", client_factory
                ),
                patch(
                    "custom_components.one_nce.PLATFORMS",
                    PLATFORMS if platforms is None else platforms,
                ),
                # As Home Assistant's tests do: no mDNS resolver for 127.0.0.1.
                patch(
                    "homeassistant.helpers.aiohttp_client._async_make_resolver",
                    return_value=ThreadedResolver(),
                ),
                patch.object(
                    dt_util,
                    "utcnow",
                    simulated_utcnow if simulated_time else dt_util.utcnow,
                ),
            ):
                try:
                    if setup:
                        assert await hass.config_entries.async_setup(entry.entry_id)
                        await hass.async_block_till_done(wait_background_tasks=True)
                    yield bench
                finally:
                    await hass.config_entries.async_unload(entry.entry_id)
                    await hass.async_block_till_done()
    await server.close()


def stop_own_timers(bench: Bench) -> None:
    """Switch off the coordinators' timers: the bench calls their refreshes."""
    runtime = bench.entry.runtime_data
    for coordinator in (runtime.fleet, runtime.details, runtime.usage):
        coordinator._unschedule_refresh()
        coordinator._schedule_refresh = lambda: None


MINUTES_PER_DAY = 24 * 60
# The traffic each SIM plays a day, the same with and without the streamer:
# (what, minute of the day for SIM i). Spread so that no minute carries more
# than a few SIMs' worth of it in a 1,000-SIM fleet.
TRAFFIC: tuple[tuple[str, Callable[[int], int]], ...] = (
    ("mo", lambda i: (300 + 7 * i) % MINUTES_PER_DAY),
    ("mt", lambda i: (480 + 11 * i) % MINUTES_PER_DAY),
    ("detach", lambda i: (600 + 13 * i) % MINUTES_PER_DAY),
    ("mo", lambda i: (1020 + 7 * i) % MINUTES_PER_DAY),
    ("mt", lambda i: (1200 + 11 * i) % MINUTES_PER_DAY),
)
PDP_GAP = 10
"""Minutes a SIM stays detached before it opens a PDP context again."""
TRAFFIC_TEXT = (
    "traffic per SIM and day: 2 MO SMS (injected at the sandbox's gateway), "
    "2 MT SMS (sent through the sandbox's gateway, not the integration, so no "
    "send or delivery-report requests), 1 data session closed and reopened "
    f"{PDP_GAP} min later (online SIMs); data use every minute "
    "(Sandbox.settle_usage) and the streams' 15-min slices (Activity, "
    "usage_interval 900 s); identical with and without the streamer"
)


def _driven(bench: Bench) -> list[DataUpdateCoordinator[Any]]:
    """Return the coordinators to tick, in order: list, details, usage, others.

    Others (a coordinator added later) only while something listens, as Home
    Assistant's own timer would.
    """
    runtime = bench.entry.runtime_data
    first: list[DataUpdateCoordinator[Any]] = [
        runtime.fleet,
        runtime.details,
        runtime.usage,
    ]
    values = [getattr(runtime, item.name) for item in dataclass_fields(runtime)]
    others = [
        value
        for value in values
        if isinstance(value, DataUpdateCoordinator)
        and value not in first
        and value._listeners
    ]
    return [*first, *others]


def _decode_batch(body: str) -> StreamBatch:
    """Decode and read a batch as the view does; a bad one raises as there."""
    try:
        decoded = json_loads(body)
    except ValueError:
        raise StreamerPayloadError("body is not JSON") from None
    return parse_stream_batch(decoded)


# What the view answers 503 for (a closed streamer only where it exists).
_NOT_STORED: tuple[type[Exception], ...] = (
    SimListUnavailableError,
    OSError,
    *(
        [closed]
        if (closed := getattr(receiving_streamer, "StreamerClosedError", None))
        else []
    ),
)


@dataclass
class Streams:
    """The sandbox's usage and event streams, drained into the integration."""

    bench: Bench
    to_home_assistant: bool
    ids: list[int] = field(default_factory=list)
    batches: int = 0
    records: int = 0
    refused: Counter[int] = field(default_factory=Counter)

    def add(self) -> None:
        """Add a local usage and event stream (a sink when not to Home Assistant)."""
        streamer = self.bench.sandbox.streamer
        # Batches go out when the bench drains them, once a simulated minute.
        streamer.settings.update({"flush_interval": 10**9, "retry_initial": 10**9})
        for kind in (StreamType.USAGE, StreamType.EVENT):
            stream = streamer.add(
                kind, "local:bench", "dXNlcjpwYXNz", Shape.NESTED, deliver=self._deliver
            )
            self.ids.append(stream.stream_id)

    async def _deliver(self, body: str) -> int:
        """Do what the Data Streamer view does once the request is authenticated.

        Decode and read the batch (in an executor thread, as the view does
        since it moved off the loop), store and hand it on; answer as it does.
        """
        self.batches += 1
        if not self.to_home_assistant:
            return 200
        hass = self.bench.hass
        receiver = self.bench.entry.runtime_data.receiver.streamer
        try:
            batch = await hass.async_add_executor_job(_decode_batch, body)
        except StreamerPayloadError:
            self.refused[400] += 1
            receiver.health.record_rejected()
            return 400
        try:
            await receiver.async_receive(batch)
        except _NOT_STORED:
            self.refused[503] += 1
            receiver.health.record_rejected()
            return 503
        self.records += len(batch.usage) + len(batch.events)
        self.records += len(batch.mo_sms) + len(batch.reports)
        return 200

    async def drain(self) -> None:
        """Send every queued record now, a batch at a time."""
        streamer = self.bench.sandbox.streamer
        for stream_id in self.ids:
            destination = streamer.destinations[stream_id]
            while destination.queue or destination.in_flight:
                state = await streamer.send_once(stream_id)
                if state["remote_status"] != 200:
                    break


@dataclass
class Traffic:
    """What the fleet does besides polling, played minute by minute."""

    bench: Bench
    plan: dict[int, list[tuple[str, str]]] = field(default_factory=dict)
    played: Counter[str] = field(default_factory=Counter)
    detached: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        """Plan the day: SIM i's events at fixed minutes, the same every day.

        The organisation's monthly MT limit (1,000 SMS by default) is lifted:
        in a large fleet it would refuse the second day's MT SMS, and the
        days would not compare.
        """
        self.bench.sandbox.gateway.mt_limit = None
        for index, iccid in enumerate(self.bench.sandbox.fleet):
            for what, minute_of in TRAFFIC:
                minute = minute_of(index)
                self.plan.setdefault(minute, []).append((what, iccid))
                if what == "detach":
                    self.plan.setdefault(
                        (minute + PDP_GAP) % MINUTES_PER_DAY, []
                    ).append(("pdp-create", iccid))

    def play(self, minute: int) -> None:
        """Play what is planned for this minute of the day."""
        sandbox = self.bench.sandbox
        for what, iccid in self.plan.get(minute % MINUTES_PER_DAY, ()):
            sim = sandbox.fleet[iccid]
            try:
                if what == "mo":
                    sandbox.gateway.inject_mo(iccid, f"Meter {minute}: ok")
                elif what == "mt":
                    sandbox.gateway.send_mt(iccid, {"payload": f"Ping {minute}"})
                elif what == "detach":
                    if not sim.enabled or sim.connectivity is not Connectivity.ONLINE:
                        self.played["detach skipped"] += 1
                        continue
                    sandbox.activity.inject(iccid, "detach")
                    self.detached.add(iccid)
                elif iccid in self.detached:
                    self.detached.discard(iccid)
                    sandbox.activity.inject(iccid, "pdp-create")
                else:
                    continue
            except GatewayError:
                self.played[f"{what} refused"] += 1
                continue
            self.played[what] += 1


@dataclass
class DayFigures:
    """What one simulated day cost."""

    by_endpoint: Counter[str]
    by_status: Counter[str]
    peak: int
    list_reads: int
    streams_from: dict[str, int | None]
    """Minute of the day from which each stream kind counted as delivering."""
    using_data: int
    """SIMs using data at the end of the day (enabled, online, data left)."""


async def play_days(
    bench: Bench,
    days: int,
    streams: Streams,
    traffic: Traffic,
    progress: Callable[[str], None],
    *,
    streams_first: bool = False,
) -> list[DayFigures]:
    """Play `days` days minute by minute; return each day's figures.

    Each minute the streams are drained after the coordinators' ticks, or
    before them with `streams_first` (a slice arriving just before the tick
    that would have read the quota it settles).
    """
    runtime = bench.entry.runtime_data
    sandbox = bench.sandbox
    clock = sandbox.clock
    coordinators = _driven(bench)
    last: dict[int, float] = {}
    for coordinator in coordinators:
        coordinator._unschedule_refresh()
        coordinator._schedule_refresh = lambda: None  # type: ignore[method-assign]
        refresh = coordinator._async_refresh

        async def stamped(
            *args: Any, _refresh: Any = refresh, _key: int = id(coordinator), **kw: Any
        ) -> None:
            last[_key] = clock.monotonic()
            await _refresh(*args, **kw)

        coordinator._async_refresh = stamped  # type: ignore[method-assign]
        last[id(coordinator)] = clock.monotonic()  # setup read each at minute 0
    list_reads = 0
    fleet_refresh = runtime.fleet._async_update_data

    async def counted_list() -> Any:
        nonlocal list_reads
        list_reads += 1
        return await fleet_refresh()

    runtime.fleet._async_update_data = counted_list  # type: ignore[method-assign]
    figures: list[DayFigures] = []
    day_start = clock.monotonic()
    kinds = (StreamKind.USAGE, StreamKind.EVENTS)
    for day in range(days):
        bench.reset()
        list_reads = 0
        streams_from: dict[str, int | None] = {kind.value: None for kind in kinds}
        for minute in range(1, MINUTES_PER_DAY + 1):
            due = day_start + (day * MINUTES_PER_DAY + minute) * 60
            if (left := due - clock.monotonic()) > 0:
                clock.advance(left)
            # Let the sandbox's own timers due by now run first (the streams'
            # data slices every 15 min): they wake on the advance, a few
            # turns of the loop later.
            for _ in range(20):
                await asyncio.sleep(0)
            sandbox.settle_usage()
            traffic.play(minute)
            if streams_first:
                await streams.drain()
            now = clock.monotonic()
            for coordinator in coordinators:
                interval = coordinator.update_interval
                if interval is None:
                    continue
                # Timers fire a little late rather than early: half a tick slack.
                if now - last[id(coordinator)] >= interval.total_seconds() - 30:
                    await coordinator.async_refresh()
            await streams.drain()
            await bench.hass.async_block_till_done()
            for kind in kinds:
                if streams_from[kind.value] is None and (
                    runtime.receiver.streamer.delivering(kind)
                ):
                    streams_from[kind.value] = minute
            if minute % 360 == 0:
                progress(f"day {day + 1} {minute // 60:>2} h")
        by_endpoint, by_status = bench.counters()
        figures.append(
            DayFigures(
                by_endpoint,
                by_status,
                peak_per_second(bench.arrivals),
                list_reads,
                streams_from,
                sum(
                    sim.enabled
                    and sim.connectivity is Connectivity.ONLINE
                    and sim.data_volume > 0
                    for sim in sandbox.fleet.values()
                ),
            )
        )
    return figures


async def measure(
    sims: int,
    platform: PlatformMode,
    streamer: bool,
    days: int,
    limiter_period: float | None = None,
    *,
    streams_first: bool = False,
) -> dict[str, Any]:
    """One run: set up, add the streams, play the days, read the counters."""
    started = time.perf_counter()
    label = f"platform {platform.value}, streamer {'on' if streamer else 'off'}"

    def progress(text: str) -> None:
        wall = time.perf_counter() - started
        print(f"  .. {sims} SIMs, {label}: {text} ({wall:.0f} s)", flush=True)

    async with bench_home(
        sims, platforms=[], limiter_period=limiter_period, platform=platform
    ) as bench:
        stop_own_timers(bench)
        streams = Streams(bench, to_home_assistant=streamer)
        streams.add()
        traffic = Traffic(bench)
        figures = await play_days(
            bench, days, streams, traffic, progress, streams_first=streams_first
        )
        details = bench.entry.runtime_data.details
        fetched = len(details.data or {})
    return {
        "sims": sims,
        "platform": platform.value,
        "streamer": streamer,
        "days": figures,
        "played": traffic.played,
        "stream_batches": streams.batches,
        "stream_records": streams.records,
        "refused": streams.refused,
        "fetched": fetched,
        "wall": time.perf_counter() - started,
    }


def report(result: dict[str, Any], baseline: dict[str, Any] | None) -> None:
    """Print one run's figures, day by day."""
    sims = result["sims"]
    mode = "on" if result["streamer"] else "off"
    print(
        f"\n{sims} SIMs, Platform {result['platform']}.0, streamer {mode} "
        f"({result['wall']:.0f} s wall)"
    )
    played = ", ".join(f"{k} {v}" for k, v in sorted(result["played"].items()))
    print(f"  traffic played ({len(result['days'])} day(s)): {played}")
    if result["streamer"]:
        print(
            f"  streams: {result['stream_batches']} batches, "
            f"{result['stream_records']} records handed to the integration"
            + (f", refused {dict(result['refused'])}" if result["refused"] else "")
        )
    for number, day in enumerate(result["days"], start=1):
        name = (
            ("first streamed day" if number == 1 else "steady state")
            if result["streamer"]
            else f"day {number}"
        )
        print(
            f"  -- {name} (list read {day.list_reads} times; "
            f"{day.using_data} SIMs using data at its end)"
        )
        if result["streamer"]:
            since = ", ".join(
                f"{kind} from minute {minute}" if minute is not None else f"{kind} no"
                for kind, minute in day.streams_from.items()
            )
            print(f"     streams delivering: {since}")
        for endpoint, count in sorted(day.by_endpoint.items(), key=lambda i: -i[1]):
            print(f"  {count:>8}  {endpoint}")
        total = sum(day.by_endpoint.values())
        print(f"  {total:>8}  total ({total / sims:.1f} per SIM per day)")
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(day.by_status.items()))
        print(f"  answers by status: {statuses}")
        verdict = "ok" if day.peak <= RATE_LIMIT else "OVER 1NCE's LIMIT"
        print(f"  peak requests in any 1 s: {day.peak} (limit {RATE_LIMIT}: {verdict})")
        print(f"  429 from the sandbox's own limiter: {day.by_status.get('429', 0)}")
        if baseline is not None and total:
            base = sum(baseline["days"][-1].by_endpoint.values())
            print(f"  without/with streamer: {base}/{total} = {base / total:.2f}x")
    print(f"  SIMs with details at the end: {result['fetched']} of {sims}")


def summary_table(results: list[dict[str, Any]]) -> None:
    """Print the README table: requests per SIM per day for each run."""
    print(
        "\n| SIMs | Platform | Streamer | Requests/day | per SIM/day | peak/s | 429 | ratio off/on |"
    )
    print("|---:|:---:|:---:|---:|---:|---:|---:|---:|")
    offs = {
        (r["sims"], r["platform"]): sum(r["days"][-1].by_endpoint.values())
        for r in results
        if not r["streamer"]
    }
    for result in results:
        for number, day in enumerate(result["days"], start=1):
            total = sum(day.by_endpoint.values())
            mode = "off"
            if result["streamer"]:
                mode = "on, 1st day" if number == 1 else "on, steady"
            off = offs.get((result["sims"], result["platform"]))
            ratio = (
                f"{off / total:.2f}x" if result["streamer"] and off and total else ""
            )
            print(
                f"| {result['sims']} | {result['platform']}.0 | {mode} | {total} "
                f"| {total / result['sims']:.1f} | {day.peak} "
                f"| {day.by_status.get('429', 0)} | {ratio} |"
            )


def _choices(value: str, both: list[str]) -> list[str]:
    return both if value == "both" else [value]


async def main(argv: Sequence[str] | None = None) -> int:
    """Measure each run asked for; non-zero exit if the rate was exceeded."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sims",
        default="10,100,1000",
        help="comma-separated fleet sizes (default: 10,100,1000)",
    )
    parser.add_argument(
        "--platform", choices=["1", "2", "both"], default="both", help="(default both)"
    )
    parser.add_argument(
        "--streamer",
        choices=["off", "on", "both"],
        default="both",
        help="(default both)",
    )
    parser.add_argument(
        "--streams-first",
        action="store_true",
        help="each minute, hand the streams' records over before the polling "
        "ticks instead of after them",
    )
    parser.add_argument(
        "--limiter-period",
        type=float,
        help="try the client's limiter with this window instead of its own (1.25 s)",
    )
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sims.split(",") if size.strip()]
    print("API economy: simulated days of polling, default options")
    print(f"({TRAFFIC_TEXT})")
    print(
        "streamer off: one day; on: the first day with streams (they count as "
        "delivering from their first batch) and the day after (steady state)"
    )
    if args.streams_first:
        print("(streams handed over before the polling ticks of each minute)")
    if args.limiter_period is not None:
        print(f"(limiter window {args.limiter_period} s instead of the client's)")
    failed = False
    results: list[dict[str, Any]] = []
    for sims in sizes:
        for platform in _choices(args.platform, ["1", "2"]):
            baseline = None
            for mode in _choices(args.streamer, ["off", "on"]):
                on = mode == "on"
                result = await measure(
                    sims,
                    PlatformMode(platform),
                    on,
                    2 if on else 1,
                    args.limiter_period,
                )
                report(result, baseline)
                if not on:
                    baseline = result
                results.append(result)
                failed |= any(
                    day.peak > RATE_LIMIT or day.by_status.get("429", 0) > 0
                    for day in result["days"]
                )
    summary_table(results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
