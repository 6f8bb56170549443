"""Benchmark the forwarder against Home Assistant's built-in webhook, in one real HA.

Run it through `scripts/bench` (section `forwarder`). It:

1. starts a stub of 1NCE's API on 127.0.0.1 (token, a one-SIM list, empty
   quotas), enough for the integration to load;
2. writes a Home Assistant configuration directory in a temporary folder:
   `custom_components/one_nce` linked to this repository's, a config entry in
   `.storage/core.config_entries` that points at the stub, and a small
   `bench_webhook` integration that registers a built-in webhook with a no-op
   handler, counts `one_nce_sms_received` events on the bus and reports its
   counts at `/api/bench_webhook/stats`;
3. starts `python -m homeassistant` on that folder, waits until it runs and
   the entry is loaded, and warms both addresses up;
4. sends N single-part MO SMS (unique ids) to the forwarder and N identical
   bodies to the webhook, over HTTP at a fixed concurrency, interleaved in
   blocks (ABBA order) so that both see the same machine;
5. prints requests/s, p50/p99 latency and the events fired for each, and the
   ratio of the throughputs (forwarder / webhook).

What is compared: the forwarder reads, checks, stores (journal `fdatasync`)
and announces each message before it answers; the webhook handler does
nothing. No recorder and no `default_config` are loaded, so neither side pays
for history. The client runs in this process, on the same machine, so the
figures are this machine's, client included.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Mapping, Sequence
import contextlib
from dataclasses import dataclass, field
import json
import os
from pathlib import Path
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402

from sandbox.ha_config import (  # noqa: E402
    HelperComponent,
    OneNceEntry,
    free_port,
    write_config,
)

ICCID = "8988228066000000001"
WEBHOOK_ID = "bench_noop"
EVENT_WEBHOOK_ID = "bench_event"
STATS_PATH = "/api/bench_webhook/stats"
TARGET_RATIO = 0.8

BENCH_COMPONENT = '''"""Bench helper: a built-in webhook with a no-op handler, and event counts."""

from homeassistant.components import webhook
from homeassistant.components.http import KEY_HASS, HomeAssistantView
from homeassistant.core import HomeAssistant, callback

DOMAIN = "bench_webhook"
COUNTS = {"webhook_calls": 0, "sms_events": 0}


async def _noop(hass, webhook_id, request):
    COUNTS["webhook_calls"] += 1


async def _event(hass, webhook_id, request):
    hass.bus.async_fire("bench_webhook_sms", await request.json())


class StatsView(HomeAssistantView):
    url = "/api/bench_webhook/stats"
    name = "api:bench_webhook:stats"
    requires_auth = False

    async def get(self, request):
        hass = request.app[KEY_HASS]
        entries = hass.config_entries.async_entries("one_nce")
        return self.json(
            {
                **COUNTS,
                "hass_state": hass.state.value,
                "one_nce": [entry.state.value for entry in entries],
            }
        )


async def async_setup(hass: HomeAssistant, config) -> bool:
    webhook.async_register(
        hass, DOMAIN, "Bench no-op", "bench_noop", _noop, allowed_methods=["POST"]
    )
    webhook.async_register(
        hass, DOMAIN, "Bench event", "bench_event", _event, allowed_methods=["POST"]
    )

    @callback
    def count(_event) -> None:
        COUNTS["sms_events"] += 1

    hass.bus.async_listen("one_nce_sms_received", count)
    hass.http.register_view(StatsView())
    return True
'''


@dataclass
class Run:
    """What one address answered over all its blocks."""

    name: str
    elapsed: float = 0.0
    cpu: float = 0.0
    """CPU seconds Home Assistant's process spent (all threads, user + system)."""
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)

    @property
    def requests(self) -> int:
        """Return how many requests were answered."""
        return len(self.latencies)

    @property
    def rate(self) -> float:
        """Return the requests per second over the blocks' wall time."""
        return self.requests / self.elapsed if self.elapsed else 0.0

    def percentile(self, fraction: float) -> float:
        """Return the latency below which `fraction` of the requests stayed."""
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def process_cpu(pid: int | None) -> float:
    """Return the CPU seconds a process has used so far (Linux; 0 elsewhere)."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime and stime, fields 14 and 15 of proc(5), counted after the name.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the stub of 1NCE ----------------------------------------------------------


def stub_app(sims: Sequence[dict[str, Any]] | None = None) -> web.Application:
    """Just enough of 1NCE's API for the entry to load; everything else 404.

    `sims` is the SIM list as `GET /v2/sims` answers it (one page, at most
    100); by default one SIM, `ICCID`.
    """
    sim = {
        "iccid": ICCID,
        "imsi": "901405100000001",
        "msisdn": "882285100000001",
        "status": "Enabled",
        "activation_date": "2024-03-09T07:59:09.000+0000",
        "ip_address": "100.100.100.1",
        "current_quota": 500,
        "quota_status": {"id": 0, "description": "More than 20% available"},
        "current_quota_SMS": 250,
        "quota_status_SMS": {"id": 0, "description": "More than 20% available"},
        "label": "Bench SIM",
    }

    async def token(_request: web.Request) -> web.Response:
        return web.json_response(
            {
                "status_code": 200,
                "access_token": secrets.token_urlsafe(16),
                "token_type": "bearer",
                "expires_in": 3600,
                "userId": "bench",
                "scope": "all",
            }
        )

    listed = list(sims) if sims is not None else [sim]

    async def sim_list(_request: web.Request) -> web.Response:
        return web.json_response(
            listed, headers={"X-Total-Pages": "1", "X-Total-Count": str(len(listed))}
        )

    async def empty_object(_request: web.Request) -> web.Response:
        return web.json_response({})

    async def empty_list(_request: web.Request) -> web.Response:
        return web.json_response([], headers={"X-Total-Pages": "1"})

    async def status(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ONLINE", "services": []})

    async def usage(_request: web.Request) -> web.Response:
        return web.json_response({"stats": []})

    app = web.Application()
    app.router.add_post("/oauth/token", token)
    app.router.add_get("/v2/sims", sim_list)
    app.router.add_get("/v2/sims/{iccid}/quota/{kind}", empty_object)
    app.router.add_get("/v2/sims/{iccid}/status", status)
    app.router.add_get("/v2/sims/{iccid}/sms", empty_list)
    app.router.add_get("/v2/sims/{iccid}/events", empty_list)
    app.router.add_get("/v1/sims/{iccid}/usage", usage)
    app.router.add_get("/v1/sims/limits", empty_object)
    return app


@contextlib.asynccontextmanager
async def running_stub(
    sims: Sequence[dict[str, Any]] | None = None,
) -> AsyncIterator[str]:
    """Serve the stub (listing `sims`, see `stub_app`) on a free port; yield its URL."""
    runner = web.AppRunner(stub_app(sims), access_log=None)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


# --- Home Assistant ---------------------------------------------------------------


def write_bench_config(
    config: Path, repo: Path, api_url: str, port: int, secret: str
) -> None:
    """Write the configuration directory Home Assistant is started with."""
    write_config(
        config,
        name="Bench",
        port=port,
        entry=OneNceEntry(
            entry_id="01JBENCH0ENTRY00000000000",
            title="1NCE bench",
            client_id="bench-client",
            client_secret="bench-secret",
            api_url=api_url,
            forwarder_secret=secret,
        ),
        helper=HelperComponent(
            domain="bench_webhook",
            name="Bench webhook",
            source=BENCH_COMPONENT,
            dependencies=("http", "webhook"),
        ),
        repo=repo,
    )


def start_home_assistant(
    python: str, config: Path, log: Path, profile: Path | None = None
) -> subprocess.Popen[bytes]:
    """Start `python -m homeassistant` on `config`, its output to `log`.

    With `profile`, under cProfile, its stats written there at the end. The
    process leads a session of its own: `stop_home_assistant` ends it all.
    """
    with log.open("wb") as out:
        return subprocess.Popen(
            [
                python,
                *(["-m", "cProfile", "-o", str(profile)] * bool(profile)),
                "-m",
                "homeassistant",
                "-c",
                str(config),
                "--skip-pip",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            # Not the repository: its `custom_components` package would hide
            # the configuration's.
            cwd=config,
            start_new_session=True,
        )


def stop_home_assistant(process: subprocess.Popen[bytes]) -> None:
    """End Home Assistant started by `start_home_assistant`, if still running."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


async def wait_until_ready(
    session: aiohttp.ClientSession, base: str, process: subprocess.Popen[bytes]
) -> dict[str, Any]:
    """Wait until Home Assistant runs and the 1NCE entry is loaded."""
    deadline = time.monotonic() + 300
    last: Any = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"Home Assistant exited with {process.returncode}")
        try:
            async with session.get(f"{base}{STATS_PATH}") as response:
                last = response.status
                if response.status == 200:
                    last = await response.json()
                    if last["hass_state"] == "RUNNING" and last["one_nce"] == [
                        "loaded"
                    ]:
                        return last
        except (aiohttp.ClientError, OSError) as err:
            last = err
        await asyncio.sleep(0.5)
    raise RuntimeError(f"Home Assistant not ready in time; last answer: {last!r}")


async def stats(session: aiohttp.ClientSession, base: str) -> dict[str, Any]:
    """Return the bench component's counts."""
    async with session.get(f"{base}{STATS_PATH}") as response:
        data: dict[str, Any] = await response.json()
        return data


# --- load ------------------------------------------------------------------------------


def mo_body(sms_id: int) -> bytes:
    """Return a single-part MO SMS as 1NCE posts it, with its own id."""
    return json.dumps(
        {
            "id": sms_id,
            "payload": "Gate opened",
            "submit_date": "2018-08-17 16:31:51",
            "dest_address": "12345",
            "source_address": "882285100000001",
            "dcs": 0,
            "pid": 0,
            "endpoint": {"id": 8765432, "name": ICCID},
            "organisation": {"id": 4567},
            "multi_part_info": {"partno": 1, "total": 1, "identifier": sms_id},
        }
    ).encode()


async def drive(
    session: aiohttp.ClientSession,
    url: str,
    bodies: Sequence[bytes],
    concurrency: int,
    run: Run,
    *,
    pid: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> None:
    """Send `bodies` with `concurrency` requests in flight; add to `run`.

    With `pid`, the CPU time that process used meanwhile is added too;
    `headers` are sent besides the JSON content type.
    """
    pending = iter(bodies)
    headers = {"Content-Type": "application/json", **(headers or {})}

    async def worker() -> None:
        for body in pending:
            start = time.perf_counter()
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
            run.latencies.append(time.perf_counter() - start)
            run.statuses[response.status] += 1

    cpu = process_cpu(pid)
    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    run.elapsed += time.perf_counter() - start
    run.cpu += process_cpu(pid) - cpu


def blocks(bodies: list[bytes], count: int) -> list[list[bytes]]:
    """Split `bodies` into `count` blocks of (nearly) equal size."""
    size = -(-len(bodies) // count)
    return [bodies[i : i + size] for i in range(0, len(bodies), size)]


def print_results(runs: list[Run], fired: int, args: argparse.Namespace) -> float:
    """Print the table; return the throughput ratio forwarder / no-op webhook."""
    print()
    print(
        f"Forwarder vs built-in webhook: N={args.requests} each, "
        f"concurrency {args.concurrency}, {args.blocks} interleaved blocks, "
        f"{os.cpu_count()} CPUs"
    )
    print(
        f"{'':34}{'requests/s':>12}{'p50 ms':>10}{'p99 ms':>10}"
        f"{'HA CPU ms/req':>15}  statuses"
    )
    for run in runs:
        print(
            f"{run.name:34}{run.rate:12.0f}{run.percentile(0.5) * 1000:10.2f}"
            f"{run.percentile(0.99) * 1000:10.2f}"
            f"{run.cpu / run.requests * 1000:15.3f}  {dict(run.statuses)}"
        )
    ours, builtin = runs[0], runs[1]
    ratio = ours.rate / builtin.rate if builtin.rate else 0.0
    print(f"events fired by the forwarder: {fired} (expected {ours.requests})")
    verdict = "meets" if ratio >= TARGET_RATIO else "BELOW"
    print(
        f"throughput ratio forwarder / no-op webhook: {ratio:.2f} "
        f"({verdict} {TARGET_RATIO})"
    )
    if builtin.cpu and ours.cpu:
        print(
            f"Home Assistant CPU per request, no-op webhook / forwarder: "
            f"{builtin.cpu / builtin.requests / (ours.cpu / ours.requests):.2f} "
            "(the throughput ratio on an otherwise idle core)"
        )
    if len(runs) > 2 and runs[2].rate:
        print(
            f"throughput ratio forwarder / JSON+event webhook: "
            f"{ours.rate / runs[2].rate:.2f} (context, no target)"
        )
    return ratio


async def bench(args: argparse.Namespace) -> int:
    """Run the whole benchmark; return the exit status."""
    config = Path(tempfile.mkdtemp(prefix="one_nce_bench_"))
    port = free_port()
    secret = secrets.token_urlsafe(32)
    base = f"http://127.0.0.1:{port}"
    log = config / "home-assistant.stdout"
    process: subprocess.Popen[bytes] | None = None
    try:
        async with running_stub() as api_url:
            write_bench_config(config, args.repo, api_url, port, secret)
            process = start_home_assistant(args.python, config, log, args.profile)
            connector = aiohttp.TCPConnector(limit=args.concurrency)
            async with aiohttp.ClientSession(connector=connector) as session:
                print(f"Home Assistant starting (config {config}) ...", flush=True)
                started = time.monotonic()
                await wait_until_ready(session, base, process)
                print(f"ready after {time.monotonic() - started:.1f} s", flush=True)
                forwarder_url = f"{base}/api/one_nce/forwarder/{secret}"
                webhook_url = f"{base}/api/webhook/{WEBHOOK_ID}"
                runs = [
                    Run("one_nce forwarder"),
                    Run("built-in webhook, no-op handler"),
                ]
                urls = [forwarder_url, webhook_url]
                if args.event_webhook:
                    runs.append(Run("built-in webhook, JSON + bus event"))
                    urls.append(f"{base}/api/webhook/{EVENT_WEBHOOK_ID}")
                warm = [mo_body(900_000_000 + n) for n in range(args.warmup)]
                for url in urls:
                    await drive(session, url, warm, args.concurrency, Run("warm"))
                before = await stats(session, base)
                bodies = [mo_body(n) for n in range(1, args.requests + 1)]
                log_start = log.stat().st_size
                # Every block sends to each address in turn; the order rotates
                # and reverses, so that no address always goes first or last.
                for number, block in enumerate(blocks(bodies, args.blocks)):
                    order = list(zip(urls, runs, strict=True))
                    shift = number % len(order)
                    order = order[shift:] + order[:shift]
                    if number % 2:
                        order.reverse()
                    for url, run in order:
                        await drive(
                            session, url, block, args.concurrency, run, pid=process.pid
                        )

                after = await stats(session, base)
        fired = after["sms_events"] - before["sms_events"]
        calls = after["webhook_calls"] - before["webhook_calls"]
        ours, builtin = runs[0], runs[1]
        ratio = print_results(runs, fired, args)
        print(f"no-op handler calls: {calls} (expected {builtin.requests})")
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
        ok = (
            fired == ours.requests
            and calls == builtin.requests
            and all(run.statuses == Counter({200: args.requests}) for run in runs)
        )
        if not ok:
            print("FAILED: not every request was answered 200 and announced once")
            return 1
        return 0 if ratio >= TARGET_RATIO or not args.strict else 1
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
    parser.add_argument("--requests", "-n", type=int, default=5000)
    parser.add_argument("--concurrency", "-c", type=int, default=32)
    parser.add_argument("--blocks", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=300)
    parser.add_argument(
        "--python", default=sys.executable, help="the Python with Home Assistant"
    )
    parser.add_argument(
        "--repo", type=Path, default=REPO, help="the repository whose integration runs"
    )
    parser.add_argument(
        "--event-webhook",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also time a webhook whose handler reads the JSON and fires an event",
    )
    parser.add_argument("--keep", action="store_true", help="keep the config folder")
    parser.add_argument(
        "--profile",
        type=Path,
        help="run Home Assistant under cProfile and write its stats here",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit 1 when the ratio is below target"
    )
    args = parser.parse_args()
    return asyncio.run(bench(args))


if __name__ == "__main__":
    sys.exit(main())
