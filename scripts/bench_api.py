"""API economy: what one simulated day of polling costs at 1NCE, per fleet size.

Run it through `scripts/bench` (section `api`) or as `python scripts/bench_api.py`
in the test venv. For each fleet size it:

1. starts the sandbox (a stand-in for 1NCE) on 127.0.0.1 and a Home Assistant
   in this process (the test harness of pytest-homeassistant-custom-component,
   in a temporary config directory), and sets the 1NCE entry up against the
   sandbox with the default options (SIM list every 15 min, details every
   60 min);
2. puts the integration's client on the sandbox's clock: every wait of its rate
   limiter or retry backoff skips the sandbox's time ahead instead of sleeping,
   so a day takes minutes and the sandbox's own 10/s limiter judges the rate on
   the same timeline;
3. zeroes the sandbox's request counters, then plays 24 hours minute by minute:
   the details tick every minute, the SIM list every 15 minutes, the usage
   import once (it is daily), each by calling the coordinator's refresh as
   Home Assistant's timer would (their own timers are switched off);
4. prints requests by endpoint, the peak in any one-second window (sliding,
   as 1NCE counts; it must stay <= 10), the sandbox's own 429s, and the ratio
   to the naive approach: every SIM's three detail requests every list cycle.

Setup's own requests (first list, first details, the six-month usage
backfill) are not part of the day; `bench_setup.py` covers setup.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
import math
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
from custom_components.one_nce.api import OneNceClient, RateLimiter  # noqa: E402
from custom_components.one_nce.const import (  # noqa: E402
    CONF_API_URL,
    DEFAULT_LIST_INTERVAL,
    DOMAIN,
)
from homeassistant import loader  # noqa: E402
from homeassistant.const import (  # noqa: E402
    CONF_CLIENT_ID,
    CONF_CLIENT_SECRET,
    Platform,
)
from homeassistant.core import HomeAssistant  # noqa: E402
from homeassistant.helpers import frame  # noqa: E402
from homeassistant.util import dt as dt_util  # noqa: E402
from sandbox import (  # noqa: E402
    API_PREFIX,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    SANDBOX,
    Sandbox,
    SandboxConfig,
    create_app,
)

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
) -> AsyncIterator[Bench]:
    """Start a sandbox and a Home Assistant; set the entry up (unless told not to).

    With `simulated_time`, the client's clock is the sandbox's and its waits
    skip that clock ahead, and Home Assistant's `utcnow` follows it too.
    `limiter_period` replaces the limiter's 1 s window (to try a margin).
    """
    arrivals: list[float] = []
    app = create_app(SandboxConfig(sims=sims, delivery_delay=0.0))
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

    def simulated_client(*args: Any, **kwargs: Any) -> OneNceClient:
        if limiter_period is not None:
            kwargs["rate_limiter"] = RateLimiter(
                RATE_LIMIT, limiter_period, clock=sandbox.clock.monotonic, sleep=skip
            )
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


async def play_day(bench: Bench, list_interval: int = DEFAULT_LIST_INTERVAL) -> int:
    """Play 24 hours minute by minute; return the list cycles played."""
    runtime = bench.entry.runtime_data
    clock = bench.sandbox.clock
    cycles = 0
    day_start = clock.monotonic()
    # Setup fetched everything at minute 0; the day is minutes 1 to 1440.
    for minute in range(1, 24 * 60 + 1):
        # Whatever the limiter skipped counts towards this minute.
        due = day_start + minute * 60
        if (left := due - clock.monotonic()) > 0:
            clock.advance(left)
        if minute % list_interval == 0:
            await runtime.fleet.async_refresh()
            cycles += 1
        await runtime.details.async_refresh()
    await runtime.usage.async_refresh()
    await bench.hass.async_block_till_done()
    return cycles


async def measure(sims: int, limiter_period: float | None = None) -> dict[str, Any]:
    """One fleet size: set up, reset the counters, play a day, read them."""
    started = time.perf_counter()
    async with bench_home(sims, platforms=[], limiter_period=limiter_period) as bench:
        stop_own_timers(bench)
        bench.reset()
        cycles = await play_day(bench)
        by_endpoint, by_status = bench.counters()
        details = bench.entry.runtime_data.details
        fetched = len(details.data or {})
        peak = peak_per_second(bench.arrivals)
    total = sum(by_endpoint.values())
    naive = sims * DETAIL_ENDPOINTS * cycles
    return {
        "sims": sims,
        "cycles": cycles,
        "by_endpoint": by_endpoint,
        "by_status": by_status,
        "total": total,
        "peak": peak,
        "naive": naive,
        "ratio": naive / total if total else math.inf,
        "fetched": fetched,
        "wall": time.perf_counter() - started,
    }


def report(result: dict[str, Any]) -> None:
    """Print one fleet size's figures."""
    sims, total = result["sims"], result["total"]
    print(
        f"\n{sims} SIMs, one simulated day ({result['cycles']} list cycles, "
        f"{result['wall']:.1f} s wall)"
    )
    for endpoint, count in sorted(
        result["by_endpoint"].items(), key=lambda item: -item[1]
    ):
        print(f"  {count:>8}  {endpoint}")
    print(f"  {total:>8}  total ({total / sims:.1f} per SIM per day)")
    statuses = ", ".join(f"{k}: {v}" for k, v in sorted(result["by_status"].items()))
    print(f"  answers by status: {statuses}")
    verdict = "ok" if result["peak"] <= RATE_LIMIT else "OVER 1NCE's LIMIT"
    print(
        f"  peak requests in any 1 s: {result['peak']} (limit {RATE_LIMIT}: {verdict})"
    )
    print(f"  429 from the sandbox's own limiter: {result['by_status'].get('429', 0)}")
    print(
        f"  naive (every SIM's {DETAIL_ENDPOINTS} detail requests every list "
        f"cycle): {result['naive']}; ratio naive/actual {result['ratio']:.1f}x"
    )
    print(f"  SIMs with details at the end of the day: {result['fetched']} of {sims}")


async def main(argv: Sequence[str] | None = None) -> int:
    """Measure each fleet size given; non-zero exit if the rate was exceeded."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sims",
        default="10,100,1000",
        help="comma-separated fleet sizes (default: 10,100,1000)",
    )
    parser.add_argument(
        "--limiter-period",
        type=float,
        help="try the client's limiter with this window instead of 1.0 s",
    )
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sims.split(",") if size.strip()]
    print("API economy: one simulated day of polling, default options")
    if args.limiter_period is not None:
        print(f"(limiter window {args.limiter_period} s instead of 1.0 s)")
    failed = False
    for sims in sizes:
        result = await measure(sims, args.limiter_period)
        report(result)
        failed |= result["peak"] > RATE_LIMIT or result["by_status"].get("429", 0) > 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
