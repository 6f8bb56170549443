"""Setup: how long until a 1,000-SIM account's entities are all available, and memory.

Run it through `scripts/bench` (section `setup`) or as
`python scripts/bench_setup.py` in the test venv. Against the sandbox (see
`bench_api.py` for the harness: Home Assistant in this process, the
integration's client on the sandbox's clock), with every platform:

1. sets the entry up and times it until `async_setup` returns and every
   enabled entity has a state (the SIM list's entities are then available);
2. then plays Home Assistant's one-minute details tick (and the 15-minute list
   poll) until no entity of the entry is unavailable: details arrive 30 SIMs
   a tick for SIMs never fetched, so a large fleet fills in over minutes;
3. prints both times twice: as a user would wait (the sandbox's clock: real
   time plus the waits the rate limiter imposes, which are skipped rather than
   slept) and as this machine's wall time; then the peak memory: the
   process's peak RSS (Home Assistant and the sandbox share the process) and,
   in a second run under tracemalloc, the peak of Python allocations made
   from the start of setup until everything is available.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import Sequence
import resource
import sys
import time
import tracemalloc
from typing import Any

from bench_api import Bench, bench_home, stop_own_timers

from custom_components.one_nce.const import DEFAULT_LIST_INTERVAL
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.helpers import entity_registry as er

MAX_TICKS = 240


def entity_states(bench: Bench) -> tuple[int, int, int, Counter[str]]:
    """Count the entry's enabled entities, those with a state, the unavailable."""
    entries = [
        entity
        for entity in er.async_entries_for_config_entry(
            er.async_get(bench.hass), bench.entry.entry_id
        )
        if entity.disabled_by is None
    ]
    with_state = 0
    unavailable: Counter[str] = Counter()
    for entity in entries:
        state = bench.hass.states.get(entity.entity_id)
        if state is None:
            continue
        with_state += 1
        if state.state == STATE_UNAVAILABLE:
            unavailable[entity.unique_id.rsplit("_", 1)[-1]] += 1
    return len(entries), with_state, sum(unavailable.values()), unavailable


def max_rss_mib() -> float:
    """Return the process's peak resident set size so far, in MiB (Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def run(sims: int, *, trace: bool) -> dict[str, Any]:
    """Set up, then tick until everything is available; return the figures."""
    async with bench_home(sims, setup=False) as bench:
        hass, clock = bench.hass, bench.sandbox.clock
        rss_before = max_rss_mib()
        if trace:
            tracemalloc.start()
        sim_start, wall_start = clock.monotonic(), time.perf_counter()
        assert await hass.config_entries.async_setup(bench.entry.entry_id)
        await hass.async_block_till_done()
        stop_own_timers(bench)
        setup_sim = clock.monotonic() - sim_start
        setup_wall = time.perf_counter() - wall_start
        total, with_state, unavailable, _ = entity_states(bench)
        assert with_state == total, f"{total - with_state} entities have no state"
        after_setup = unavailable

        runtime = bench.entry.runtime_data
        ticks = 0
        while unavailable and ticks < MAX_TICKS:
            ticks += 1
            due = sim_start + ticks * 60
            if (left := due - clock.monotonic()) > 0:
                clock.advance(left)
            if ticks % DEFAULT_LIST_INTERVAL == 0:
                await runtime.fleet.async_refresh()
            await runtime.details.async_refresh()
            await hass.async_block_till_done()
            total, with_state, unavailable, left_over = entity_states(bench)
        all_sim = clock.monotonic() - sim_start
        all_wall = time.perf_counter() - wall_start
        traced_peak = 0
        if trace:
            traced_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        requests = sum(bench.sandbox.requests.values())
        _, _, _, left_over = entity_states(bench)
    return {
        "entities": total,
        "after_setup": after_setup,
        "setup_sim": setup_sim,
        "setup_wall": setup_wall,
        "ticks": ticks,
        "all_sim": all_sim,
        "all_wall": all_wall,
        "left_over": left_over,
        "requests": requests,
        "rss_before": rss_before,
        "rss_peak": max_rss_mib(),
        "traced_peak": traced_peak / 2**20,
    }


async def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print; non-zero exit if some entity never became available."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sims", type=int, default=1000)
    parser.add_argument(
        "--no-tracemalloc", action="store_true", help="skip the tracemalloc run"
    )
    args = parser.parse_args(argv)
    print(f"Setup of a {args.sims}-SIM account against the sandbox, every platform")
    result = await run(args.sims, trace=False)
    print(f"  enabled entities: {result['entities']}")
    print(
        f"  setup returned, every entity has a state: {result['setup_sim']:.1f} s "
        f"as a user waits ({result['setup_wall']:.1f} s wall); "
        f"{result['after_setup']} entities still unavailable (details not yet read)"
    )
    print(
        f"  all entities available: {result['all_sim']:.0f} s as a user waits "
        f"({result['all_sim'] / 60:.1f} min, {result['ticks']} details ticks; "
        f"{result['all_wall']:.1f} s wall)"
    )
    if result["left_over"]:
        print(f"  NEVER available: {dict(result['left_over'])}")
    print(f"  requests to 1NCE until then: {result['requests']}")
    print(
        f"  peak RSS of the process (Home Assistant + sandbox): "
        f"{result['rss_peak']:.0f} MiB ({result['rss_before']:.0f} MiB before setup)"
    )
    if not args.no_tracemalloc:
        traced = await run(args.sims, trace=True)
        print(
            f"  peak Python allocations from setup to all available "
            f"(tracemalloc run): {traced['traced_peak']:.0f} MiB"
        )
    return 1 if result["left_over"] else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
