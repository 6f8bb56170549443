"""Benchmark the Data Streamer endpoint with 3,000-record batches, in one real HA.

Run it through `scripts/bench` (section `streamer`). It:

1. starts the forwarder bench's stub of 1NCE's API on 127.0.0.1, listing a
   seeded fleet of SIMs (100 by default, the sandbox's `seed_fleet`), so the
   records' ICCIDs are the account's (records of other SIMs are dropped);
2. writes a Home Assistant configuration directory (`sandbox/ha_config.py`)
   whose 1NCE entry carries a known Data Streamer password, and a small
   `bench_streamer` component that reports, from inside, the entry's state,
   its diagnostics' streamer counts, the account device's diagnostic sensors
   `streamer_records` / `streamer_duplicates` and the `one_nce_network_event`
   events fired;
3. starts `python -m homeassistant` on it, waits until the entry is loaded
   with every SIM and 1NCE's API has gone quiet (the start-up backfill);
4. POSTs batches to `/api/one_nce/streamer/<secret>` with the HTTP Basic
   credential, each a mix spread over every SIM: 50 % data usage records,
   20 % SMS usage records, 30 % network events (location update, attach, PDP
   context created and deleted; stamped now, so each one is announced: a bus
   event and the SIM's event entity), in 1NCE's nested form, unique 64-bit ids:
   - warm-up batches (2, not timed);
   - N new batches one after another (concurrency 1; N = 20 by default);
   - N new batches at concurrency C (4 by default);
   - the N sequential batches again: a retransmission, every record a
     duplicate;
5. prints, per phase, records/s (over the phase's wall time), p50/p99 latency
   per request (one batch), the CPU Home Assistant's process and this client
   spent per batch, the machine's load average; and, for
   context, how long an append of 64 KB (about one batch's journal line)
   plus `fdatasync` takes in the same folder;
6. checks exactness: the records and duplicates the endpoint's health counters
   report (diagnostics, and the diagnostic sensors, which write at most every
   5 s) against what was sent. Only a difference there makes the exit status
   non-zero; no figure of speed is judged.

Every answer is 200 only once the batch's record ids are on disk (journal,
`fdatasync`), so the latency includes a sync of this machine's disk. No
recorder and no `default_config` are loaded. The client runs in this process,
on the same machine, so the figures are this machine's, client included.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
import json
import os
from pathlib import Path
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402
from bench_forwarder import (  # noqa: E402
    Run,
    drive,
    running_stub,
    start_home_assistant,
    stop_home_assistant,
)

from sandbox.fleet import SimState, seed_fleet  # noqa: E402
from sandbox.ha_config import (  # noqa: E402
    HelperComponent,
    OneNceEntry,
    free_port,
    write_config,
)
from sandbox.stream_records import (  # noqa: E402
    EventType,
    RecordIds,
    event_record,
    network_detail,
    pdp_detail,
    usage_record,
)

STATS_PATH = "/api/bench_streamer/stats"
STREAMER_USERNAME = "one_nce"  # const.STREAMER_USERNAME
ORGANISATION_ID = 4567
FLEET_SEED = 7
ENTRY_ID = "01JBENCH0STREAMER00000000"

BENCH_COMPONENT = '''"""Bench helper: the 1NCE entry's streamer counts and network events, from inside."""

from homeassistant.components.http import KEY_HASS, HomeAssistantView
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.loader import async_get_integration

DOMAIN = "bench_streamer"
COUNTS = {"network_events": 0}
SENSORS = ("streamer_records", "streamer_duplicates")


class StatsView(HomeAssistantView):
    url = "/api/bench_streamer/stats"
    name = "api:bench_streamer:stats"
    requires_auth = False

    async def get(self, request):
        hass = request.app[KEY_HASS]
        entries = hass.config_entries.async_entries("one_nce")
        answer = {
            **COUNTS,
            "hass_state": hass.state.value,
            "one_nce": [entry.state.value for entry in entries],
        }
        loaded = [e for e in entries if e.state is ConfigEntryState.LOADED]
        if not loaded:
            return self.json(answer)
        entry = loaded[0]
        integration = await async_get_integration(hass, "one_nce")
        platform = await integration.async_get_platform("diagnostics")
        diagnostics = await platform.async_get_config_entry_diagnostics(hass, entry)
        answer["diagnostics"] = diagnostics["streamer"]["requests"]
        answer["remembered_ids"] = diagnostics["streamer"]["remembered_ids"]
        answer["sim_count"] = diagnostics["fleet"]["sim_count"]
        answer["api_requests"] = diagnostics["client"]["requests_sent"]
        registry = er.async_get(hass)
        sensors = {}
        for item in er.async_entries_for_config_entry(registry, entry.entry_id):
            for key in SENSORS:
                if item.unique_id == f"{entry.entry_id}_{key}":
                    state = hass.states.get(item.entity_id)
                    sensors[key] = None if state is None else state.state
        answer["sensors"] = sensors
        return self.json(answer)


async def async_setup(hass: HomeAssistant, config) -> bool:
    @callback
    def count(_event) -> None:
        COUNTS["network_events"] += 1

    hass.bus.async_listen("one_nce_network_event", count)
    hass.http.register_view(StatsView())
    return True
'''

EVENT_TYPES = (
    EventType.LOCATION_UPDATE,
    EventType.ATTACH,
    EventType.PDP_CONTEXT_CREATED,
    EventType.PDP_CONTEXT_DELETED,
)


# --- records ---------------------------------------------------------------------


class Batches:
    """Makes batches of unique records, spread over the fleet's SIMs in turn."""

    def __init__(self, sims: list[SimState], size: int) -> None:
        """Start at the first SIM and the first id."""
        self._sims = sims
        self._size = size
        self._ids = RecordIds(FLEET_SEED)
        self._made = 0
        self.events = 0
        """Network events made so far (each is announced once)."""

    def body(self) -> bytes:
        """Return the next batch, encoded as 1NCE POSTs it."""
        now = datetime.now(UTC)
        records: list[dict[str, Any]] = []
        for number in range(self._size):
            index = self._made + number
            sim = self._sims[index % len(self._sims)]
            record_id = self._ids.next()
            slot = index % 10
            if slot < 7:
                start = now - timedelta(minutes=15)
                sms = slot >= 5
                records.append(
                    usage_record(
                        record_id,
                        sim,
                        ORGANISATION_ID,
                        start=start,
                        end=now if not sms else start + timedelta(seconds=1),
                        sms=sms,
                        tx=1 if sms else 0.013,
                        rx=0 if sms else 0.482,
                    )
                )
                continue
            event_type = EVENT_TYPES[index % len(EVENT_TYPES)]
            session = f"bench-{sim.index}-{index}"
            if event_type in (
                EventType.PDP_CONTEXT_CREATED,
                EventType.PDP_CONTEXT_DELETED,
            ):
                detail = pdp_detail(
                    sim,
                    now,
                    pdp_context_id=index,
                    session_id=session,
                    volume=(0.013, 0.482)
                    if event_type is EventType.PDP_CONTEXT_DELETED
                    else None,
                )
            else:
                detail = network_detail()
            records.append(
                event_record(
                    record_id, sim, ORGANISATION_ID, event_type, now=now, detail=detail
                )
            )
            self.events += 1
        self._made += self._size
        return json.dumps(records).encode()


# --- Home Assistant ---------------------------------------------------------------


async def stats(session: aiohttp.ClientSession, base: str) -> dict[str, Any]:
    """Return what the bench component sees."""
    async with session.get(f"{base}{STATS_PATH}") as response:
        response.raise_for_status()
        data: dict[str, Any] = await response.json()
        return data


async def wait_until_ready(
    session: aiohttp.ClientSession,
    base: str,
    process: subprocess.Popen[bytes],
    sims: int,
) -> dict[str, Any]:
    """Wait until the entry is loaded with every SIM and 1NCE's API is quiet.

    Quiet: no request to the stub for 3 s (the start-up backfill is over), or
    60 s after loading, whichever comes first.
    """
    deadline = time.monotonic() + 300
    last: Any = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Home Assistant exited with {process.returncode}")
        try:
            last = await stats(session, base)
        except (aiohttp.ClientError, OSError) as err:
            last = err
        else:
            if (
                last["hass_state"] == "RUNNING"
                and last["one_nce"] == ["loaded"]
                and last.get("sim_count") == sims
            ):
                break
        await asyncio.sleep(0.5)
    else:
        raise RuntimeError(f"Home Assistant not ready in time; last answer: {last!r}")
    quiet_by = time.monotonic() + 60
    requests, since = last["api_requests"], time.monotonic()
    while time.monotonic() < quiet_by and time.monotonic() - since < 3:
        await asyncio.sleep(0.5)
        last = await stats(session, base)
        if last["api_requests"] != requests:
            requests, since = last["api_requests"], time.monotonic()
    return last


async def settled_counts(
    session: aiohttp.ClientSession, base: str, wait: float = 15
) -> dict[str, Any]:
    """Return the stats once the sensors show what diagnostics count.

    The sensors write their state at most every 5 s; after `wait` s the
    last answer is returned as it is.
    """
    deadline = time.monotonic() + wait
    while True:
        answer = await stats(session, base)
        counts = answer["diagnostics"]
        sensors = answer["sensors"]
        if (
            sensors.get("streamer_records") == str(counts["records"])
            and sensors.get("streamer_duplicates") == str(counts["duplicates"])
        ) or time.monotonic() > deadline:
            return answer
        await asyncio.sleep(0.5)


# --- the run -------------------------------------------------------------------------


def disk_sync(folder: Path, count: int = 20, size: int = 65_536) -> list[float]:
    """Time appends of `size` bytes, each followed by `fdatasync`, in `folder`.

    About one batch's journal line (3,000 ids); context for the latencies.
    """
    path = folder / "fdatasync-probe"
    chunk = b"x" * size
    times: list[float] = []
    try:
        with path.open("ab") as stream:
            for _ in range(count):
                start = time.perf_counter()
                stream.write(chunk)
                stream.flush()
                os.fdatasync(stream.fileno())
                times.append(time.perf_counter() - start)
    finally:
        path.unlink(missing_ok=True)
    return sorted(times)


def print_table(
    runs: list[Run],
    client_cpu: list[float],
    load: tuple[float, float],
    args: argparse.Namespace,
) -> None:
    """Print records/s, p50/p99 per request and CPU per batch of each phase."""
    print()
    print(
        f"Data Streamer endpoint: {args.batches} batches of {args.batch_size} "
        f"records per phase, {args.sims} SIMs, {os.cpu_count()} CPUs, "
        f"load average {load[0]:.1f} before, {load[1]:.1f} after"
    )
    print(
        f"{'':40}{'records/s':>11}{'p50 ms':>10}{'p99 ms':>10}"
        f"{'CPU ms/batch HA':>17}{'client':>8}  statuses"
    )
    for run, client in zip(runs, client_cpu, strict=True):
        records = run.requests * args.batch_size
        rate = records / run.elapsed if run.elapsed else 0.0
        cpu = run.cpu / run.requests * 1000 if run.requests else 0.0
        client_ms = client / run.requests * 1000 if run.requests else 0.0
        print(
            f"{run.name:40}{rate:11.0f}{run.percentile(0.5) * 1000:10.1f}"
            f"{run.percentile(0.99) * 1000:10.1f}{cpu:17.1f}{client_ms:8.1f}"
            f"  {dict(run.statuses)}"
        )
    if args.batches < 100:
        print(f"(p99 of {args.batches} requests is their slowest)")


def check_counts(
    answer: dict[str, Any], expected: dict[str, int], events: int, fired: int
) -> bool:
    """Print what the endpoint counted against what was sent; True if equal."""
    counts = answer["diagnostics"]
    sensors = answer["sensors"]
    print()
    print("Exactness (the endpoint's health counters against what was sent):")
    print(f"{'':24}{'sent':>10}{'diagnostics':>14}{'sensor':>10}")
    ok = True
    for key, sensor_key in (
        ("records", "streamer_records"),
        ("duplicates", "streamer_duplicates"),
        ("requests", None),
        ("foreign", None),
        ("unreadable", None),
        ("rejected", None),
    ):
        sensor = sensors.get(sensor_key, "-") if sensor_key else "-"
        same = counts[key] == expected[key] and (
            sensor_key is None or sensor == str(expected[key])
        )
        ok &= same
        print(
            f"{key:24}{expected[key]:10}{counts[key]:14}{sensor!s:>10}"
            f"  {'ok' if same else 'DIFFERS'}"
        )
    print(
        f"ids remembered: {answer['remembered_ids']} (usage and event records "
        f"sent: {expected['records']})"
    )
    print(f"network events announced: {fired} (events sent: {events})")
    return ok


async def bench(args: argparse.Namespace) -> int:
    """Run the whole benchmark; return the exit status."""
    config = Path(tempfile.mkdtemp(prefix="one_nce_bench_streamer_"))
    port = free_port()
    secret = secrets.token_urlsafe(32)
    password = secrets.token_urlsafe(24)
    base = f"http://127.0.0.1:{port}"
    log = config / "home-assistant.stdout"
    fleet = list(seed_fleet(args.sims, FLEET_SEED, datetime.now(UTC)).values())
    process: subprocess.Popen[bytes] | None = None
    try:
        async with running_stub([sim.as_api() for sim in fleet]) as api_url:
            write_config(
                config,
                name="Bench",
                port=port,
                entry=OneNceEntry(
                    entry_id=ENTRY_ID,
                    title="1NCE bench",
                    client_id="bench-client",
                    client_secret="bench-secret",
                    api_url=api_url,
                    forwarder_secret=secret,
                    streamer_password=password,
                ),
                helper=HelperComponent(
                    domain="bench_streamer",
                    name="Bench streamer",
                    source=BENCH_COMPONENT,
                ),
                repo=args.repo,
            )
            process = start_home_assistant(args.python, config, log, args.profile)
            connector = aiohttp.TCPConnector(limit=max(args.concurrency, 1))
            timeout = aiohttp.ClientTimeout(total=300)
            async with aiohttp.ClientSession(
                connector=connector, timeout=timeout
            ) as session:
                print(f"Home Assistant starting (config {config}) ...", flush=True)
                started = time.monotonic()
                before = await wait_until_ready(session, base, process, args.sims)
                print(
                    f"ready after {time.monotonic() - started:.1f} s, "
                    f"{before['sim_count']} SIMs",
                    flush=True,
                )
                url = f"{base}/api/one_nce/streamer/{secret}"
                headers = {
                    "Authorization": aiohttp.BasicAuth(
                        STREAMER_USERNAME, password
                    ).encode()
                }
                batches = Batches(fleet, args.batch_size)
                warm = [batches.body() for _ in range(args.warmup)]
                sequential_bodies = [batches.body() for _ in range(args.batches)]
                concurrent_bodies = [batches.body() for _ in range(args.batches)]
                sizes = [len(body) for body in sequential_bodies]
                print(
                    f"batch bodies: {min(sizes) / 1e6:.2f} to "
                    f"{max(sizes) / 1e6:.2f} MB",
                    flush=True,
                )
                warm_run = Run("warm-up")
                await drive(session, url, warm, 1, warm_run, headers=headers)
                api_before = (await stats(session, base))["api_requests"]
                runs = [
                    Run("new records, sequential"),
                    Run(f"new records, concurrency {args.concurrency}"),
                    Run("retransmitted (all duplicates), seq."),
                ]
                phases = [
                    (sequential_bodies, 1),
                    (concurrent_bodies, args.concurrency),
                    (sequential_bodies, 1),
                ]
                log_start = log.stat().st_size
                client_cpu: list[float] = []
                load_before = os.getloadavg()[0]
                for run, (bodies, concurrency) in zip(runs, phases, strict=True):
                    client_start = time.process_time()
                    await drive(
                        session,
                        url,
                        bodies,
                        concurrency,
                        run,
                        pid=process.pid,
                        headers=headers,
                    )
                    client_cpu.append(time.process_time() - client_start)
                load = (load_before, os.getloadavg()[0])
                answer = await settled_counts(session, base)
        print_table(runs, client_cpu, load, args)
        syncs = disk_sync(config / ".storage")
        print(
            f"fdatasync of a 64 KB append in the config folder: "
            f"p50 {syncs[len(syncs) // 2] * 1000:.1f} ms, "
            f"max {syncs[-1] * 1000:.1f} ms (context)"
        )
        print(
            "1NCE API requests by the integration while measuring: "
            f"{answer['api_requests'] - api_before}"
        )
        with log.open("rb") as stream:
            stream.seek(log_start)
            measured = stream.read().decode(errors="replace")
        errors = [
            line
            for line in measured.splitlines()
            if " ERROR " in line or "Traceback" in line
        ]
        print(f"error lines in Home Assistant's log while measuring: {len(errors)}")
        for line in errors[:5]:
            print(f"  {line}")
        sent = [warm_run, *runs]
        new_batches = args.warmup + 2 * args.batches
        expected = {
            "records": new_batches * args.batch_size,
            "duplicates": args.batches * args.batch_size,
            "requests": sum(run.requests for run in sent),
            "foreign": 0,
            "unreadable": 0,
            "rejected": 0,
        }
        ok = check_counts(answer, expected, batches.events, answer["network_events"])
        statuses: Counter[int] = sum((run.statuses for run in sent), Counter())
        if not ok:
            print("FAILED: the health counters differ from what was sent")
            return 1
        if set(statuses) != {200}:
            print(f"note: not every batch was answered 200: {dict(statuses)}")
        return 0
    finally:
        if process is not None:
            stop_home_assistant(process)
        if args.keep:
            print(f"kept {config}")
        else:
            shutil.rmtree(config, ignore_errors=True)


def main() -> int:
    """Read the options and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--batches",
        "-n",
        type=int,
        default=20,
        help="batches per phase (sequential, concurrent, retransmitted)",
    )
    parser.add_argument("--batch-size", type=int, default=3000)
    parser.add_argument(
        "--concurrency",
        "-c",
        type=int,
        default=4,
        help="requests in flight in the concurrent phase",
    )
    parser.add_argument("--warmup", type=int, default=2, help="untimed batches first")
    parser.add_argument(
        "--sims", type=int, default=100, help="SIMs the stub lists (at most 100)"
    )
    parser.add_argument(
        "--python", default=sys.executable, help="the Python with Home Assistant"
    )
    parser.add_argument(
        "--repo", type=Path, default=REPO, help="the repository whose integration runs"
    )
    parser.add_argument("--keep", action="store_true", help="keep the config folder")
    parser.add_argument(
        "--profile",
        type=Path,
        help="run Home Assistant under cProfile and write its stats here",
    )
    args = parser.parse_args()
    if not 1 <= args.sims <= 100:
        parser.error("--sims must be 1..100 (one page of the SIM list)")
    if args.batches < 1 or args.batch_size < 1 or args.concurrency < 1:
        parser.error("--batches, --batch-size and --concurrency must be positive")
    return asyncio.run(bench(args))


if __name__ == "__main__":
    sys.exit(main())
