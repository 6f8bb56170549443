"""Start the sandbox and Home Assistant, wire them together, and (optionally) prove it.

Run by `scripts/develop` with the project's venv Python; see that script for
usage; besides its options, `--serve-for-test` starts both as `--check` does
but adds no 1NCE entry (the browser adds it through the setup dialog), then
prints "ready for tests" and serves until SIGTERM (for scripts/browser_test).
Home Assistant gets ONE_NCE_DEFAULT_API_URL, so the setup dialog offers the
sandbox's API URL. The sandbox plays a Platform 2.0 account unless
`--platform 1` (or `hybrid`) says otherwise.
The README's dashboard (dashboards/one_nce.yaml) is served at /one-nce.
Everything lives under `.develop/` in the repository:

    .develop/deps/frontend-<version>/   Home Assistant's frontend, installed with
                                        pip --target so the test venv is untouched
    .develop/config/                    Home Assistant's config (kept between runs)
    .develop/check/                     a throw-away config for --check (and
                                        --serve-for-test)
    .develop/*.log                      the sandbox's and Home Assistant's output
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
import importlib.util
import json
import os
from pathlib import Path
import shutil
import signal
import socket
import subprocess
import sys
from typing import Any, Final

import aiohttp
from develop_ha import (
    DOMAIN,
    PASSWORD,
    USERNAME,
    HomeAssistant,
    HomeAssistantError,
    Websocket,
    forwarder_secret,
    stored_api_url,
    streamer_credential,
)
from develop_streamer import (
    CAMPER_VAN,
    USAGE_INTERVAL,
    both_channels_done,
    check_streamer,
    connect_streams,
    event_stream,
)

ROOT: Final = Path(__file__).resolve().parents[1]
DEVELOP: Final = ROOT / ".develop"
CLIENT_ID: Final = "sandbox-client"
CLIENT_SECRET: Final = "sandbox-secret"
GARDEN_GATE: Final = "8988228066000000001"
DASHBOARD: Final = ROOT / "dashboards" / "one_nce.yaml"
READY: Final = "ready for tests"
# The values of `python -m sandbox --platform` (the sandbox runs as a child).
PLATFORMS: Final = ("2", "1", "hybrid")
DEFAULT_PLATFORM: Final = "2"
PLATFORM_NOTES: Final = {
    "2": "v1 answers 404, 18-digit SMS ids, reports name detail.sms.id",
    "1": "v1 usage and limits, small SMS ids, the old push shapes",
    "hybrid": "SIMs 1-3 on Platform 1.0, 4-6 on 2.0",
}
# Read by the integration's setup form (config_flow.py) for its default API URL.
DEFAULT_API_URL_ENV: Final = "ONE_NCE_DEFAULT_API_URL"
START_TIMEOUT: Final = 300.0
CONFIGURATION: Final = """\
# Written by scripts/develop on every run; edit scripts/develop_run.py instead.
# Not default_config: that pulls in Bluetooth, USB, DHCP, cloud and more, whose
# packages the test venv lacks and which a 1NCE sandbox has no use for.
homeassistant:
  name: 1NCE development
  unit_system: metric
  time_zone: UTC
  country: DE
  currency: EUR
  latitude: 52.52
  longitude: 13.40
  elevation: 34
  internal_url: "http://127.0.0.1:{ha_port}"

http:
  server_host: 127.0.0.1
  server_port: {ha_port}

frontend:
config:
history:
logbook:
recorder:
  purge_keep_days: 7

# The README's dashboard, served from the repository at /one-nce.
lovelace:
  dashboards:
    one-nce:
      mode: yaml
      filename: {dashboard}
      title: 1NCE
      icon: mdi:sim
      show_in_sidebar: true

logger:
  default: warning
  logs:
    custom_components.one_nce: debug
    homeassistant.setup: info
"""


def _log(message: str) -> None:
    print(f"develop: {message}", flush=True)


def frontend_deps() -> Path:
    """Install the frontend Home Assistant pins, beside (not into) the venv.

    The pin comes from the installed Home Assistant's own frontend manifest,
    so it always matches whichever Home Assistant scripts/setup chose.
    """
    # find_spec, not import: importing the frontend would need the frontend.
    spec = importlib.util.find_spec("homeassistant.components.frontend")
    if spec is None or spec.origin is None:
        raise SystemExit("develop: Home Assistant is not installed in this venv")
    manifest = json.loads(
        (Path(spec.origin).parent / "manifest.json").read_text("utf-8")
    )
    requirement = next(
        req
        for req in manifest["requirements"]
        if req.startswith("home-assistant-frontend==")
    )
    target = DEVELOP / "deps" / f"frontend-{requirement.split('==')[1]}"
    if (target / ".complete").exists():
        return target
    _log(f"installing {requirement} into {target.relative_to(ROOT)} (about 90 MB)")
    shutil.rmtree(target, ignore_errors=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-deps",
            "--target",
            str(target),
            requirement,
        ],
        check=True,
    )
    (target / ".complete").touch()
    return target


def prepare_config(config_dir: Path, ha_port: int, *, fresh: bool) -> None:
    """Write configuration.yaml and link the integration in."""
    if fresh:
        shutil.rmtree(config_dir, ignore_errors=True)
    (config_dir / "custom_components").mkdir(parents=True, exist_ok=True)
    link = config_dir / "custom_components" / DOMAIN
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(ROOT / "custom_components" / DOMAIN, target_is_directory=True)
    (config_dir / "configuration.yaml").write_text(
        CONFIGURATION.format(ha_port=ha_port, dashboard=json.dumps(str(DASHBOARD))),
        encoding="utf-8",
    )


def port_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:port."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


class Processes:
    """The child processes, stopped together however the run ends."""

    def __init__(self, log_prefix: str = "") -> None:
        """Nothing started yet; logs go to .develop/<log_prefix><name>.log."""
        self.children: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.log_prefix = log_prefix

    def start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        """Start one child in its own process group, output to its log."""
        log = (DEVELOP / f"{self.log_prefix}{name}.log").open("wb")
        child = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.children.append((name, child))

    def alive(self, name: str) -> bool:
        """Whether the named child is still running."""
        return any(n == name and c.poll() is None for n, c in self.children)

    def stop(self) -> None:
        """SIGTERM each child (Home Assistant saves state), SIGKILL stragglers."""
        for _, child in reversed(self.children):
            if child.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGTERM)
        for name, child in reversed(self.children):
            try:
                child.wait(timeout=60)
            except subprocess.TimeoutExpired:
                _log(f"{name} did not stop; killing it")
                with suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)
                child.wait()


async def wait_for_sandbox(session: aiohttp.ClientSession, base: str) -> None:
    """Wait until the sandbox's control API answers."""
    for _ in range(100):
        with suppress(aiohttp.ClientError):
            async with session.get(f"{base}/_sandbox") as response:
                if response.status == 200:
                    return
        await asyncio.sleep(0.2)
    raise HomeAssistantError("the sandbox did not start; see its log in .develop/")


@dataclass(frozen=True)
class Wiring:
    """What 1NCE is told about an entry: the forwarder's secret, the streamer's credential."""

    secret: str
    credential: str
    new: bool


async def _stored(read: Callable[[], str | None], what: str) -> str:
    """Wait for a value Home Assistant writes to its storage within a few seconds."""
    for _ in range(30):
        if value := read():
            return value
        await asyncio.sleep(0.5)
    raise HomeAssistantError(f"could not learn the entry's {what}")


async def wire_up(ha: HomeAssistant, config_dir: Path, api_url: str) -> Wiring:
    """Make sure one 1NCE entry uses this sandbox; return what 1NCE needs of it.

    A new entry's flow result shows the forwarder URL and the Data Streamer's
    Basic Auth Header (what the user copies into 1NCE's Portal); an entry of
    an earlier run has them in Home Assistant's storage.
    """
    for entry in await ha.async_entries():
        entry_id = entry["entry_id"]
        if stored_api_url(config_dir, entry_id) == api_url and (
            secret := forwarder_secret(config_dir, entry_id)
        ):
            credential = await _stored(
                lambda: streamer_credential(config_dir, entry_id),  # noqa: B023
                "Data Streamer credential",
            )
            return Wiring(secret, credential, new=False)
        _log(f"removing entry {entry['title']!r}: it uses another API URL")
        await ha.async_remove_entry(entry_id)
    result = await ha.async_add_entry(CLIENT_ID, CLIENT_SECRET, api_url)
    entry_id = result["result"]["entry_id"]
    shown = result.get("description_placeholders") or {}
    secret = str(shown.get("forwarder_url", "")).rstrip("/").rsplit("/", 1)[-1]
    credential = str(shown.get("streamer_credential", ""))
    # Else from the stored entry: HA writes it within a second or two.
    if not secret:
        secret = await _stored(
            lambda: forwarder_secret(config_dir, entry_id), "forwarder secret"
        )
    if not credential:
        credential = await _stored(
            lambda: streamer_credential(config_dir, entry_id),
            "Data Streamer credential",
        )
    return Wiring(secret, credential, new=True)


async def check(
    ha: HomeAssistant, sandbox: str, session: aiohttp.ClientSession
) -> bool:
    """Prove the loop end to end, as a person would see it; True if it all works."""
    failures: list[str] = []

    def verdict(ok: bool, what: str) -> None:
        print(f"  [{'ok' if ok else 'FAIL'}] {what}", flush=True)
        if not ok:
            failures.append(what)

    async with ha.websocket() as ws:
        registry = await ws.command(type="config/entity_registry/list")
        ours = {
            entry["unique_id"]: entry["entity_id"]
            for entry in registry
            if entry["platform"] == DOMAIN
        }
        devices = await ws.command(type="config/device_registry/list")
        sims = [
            device
            for device in devices
            if any(ident[0] == DOMAIN for ident in device["identifiers"])
        ]
        verdict(len(sims) >= 6, f"{len(sims)} 1NCE devices (6 SIMs and the account)")
        states = await ha.async_states()
        volume_id = ours.get(f"{GARDEN_GATE}_sms_volume")
        volume = states.get(volume_id or "", {}).get("state")
        verdict(_number(volume) == 231, f"{volume_id} = {volume} (sandbox seeds 231)")
        for event_type in ("one_nce_delivery_report", "one_nce_sms_received"):
            await ws.command(type="subscribe_events", event_type=event_type)

        sent = await ha.async_call(
            DOMAIN,
            "send_sms",
            {"iccid": GARDEN_GATE, "message": "Hello from scripts/develop --check"},
        )
        verdict(True, f"send_sms answered {json.dumps(sent)}")
        report = await _event(
            ws,
            "one_nce_delivery_report",
            lambda data: data.get("iccid") == GARDEN_GATE,
        )
        status = report["data"]["status"] if report else None
        verdict(status == "delivered", f"delivery report event: {status}")

        text = "Pump started. " * 14  # 196 characters: two parts, one message
        # Platform 2.0 streams each part as an SMS event besides the forwarder's push.
        streams_it = await _platform_of(session, sandbox, GARDEN_GATE) == 2
        acknowledged = (await event_stream(session, sandbox))["records_acknowledged"]
        async with session.post(
            f"{sandbox}/_sandbox/mo", json={"iccid": GARDEN_GATE, "text": text}
        ) as response:
            injected = await response.json()
        verdict(
            response.status == 201, f"MO SMS injected: {injected.get('parts')} parts"
        )
        received = await _event(
            ws,
            "one_nce_sms_received",
            lambda data: data.get("text") == text,
        )
        verdict(received is not None, "one_nce_sms_received event with the whole text")
        done = await both_channels_done(
            session,
            sandbox,
            acknowledged_before=acknowledged,
            streamed=int(injected.get("parts", 0)) if streams_it else 0,
        )
        fired = sum(
            event["event_type"] == "one_nce_sms_received"
            and event["data"].get("text") == text
            for event in ws.events
        )
        verdict(
            done and fired == 1,
            "the MO SMS, pushed by the forwarder"
            + (" and streamed as SMS events" if streams_it else "")
            + f", fired one_nce_sms_received {fired} time(s)",
        )
        await asyncio.sleep(1)
        states = await ha.async_states()
        event_id = ours.get(f"{GARDEN_GATE}_incoming_sms", "")
        event_state = states.get(event_id, {}).get("state")
        verdict(
            event_state not in (None, "unknown", "unavailable"),
            f"{event_id} = {event_state}",
        )
        await check_streamer(ha, sandbox, session, ws, ours, verdict=verdict)
        await ws.close()
    return not failures


async def _platform_of(
    session: aiohttp.ClientSession, sandbox: str, iccid: str
) -> int | None:
    """Ask the sandbox which platform (1 or 2) a SIM is on."""
    async with session.get(f"{sandbox}/_sandbox") as response:
        response.raise_for_status()
        summary = await response.json()
    return next(
        (sim["platform"] for sim in summary["sims"] if sim["iccid"] == iccid), None
    )


async def serve(processes: Processes) -> int:
    """Run until Ctrl-C or SIGTERM; 1 if the sandbox or Home Assistant ends first."""
    while all(processes.alive(name) for name in ("sandbox", "hass")):  # noqa: ASYNC110
        await asyncio.sleep(1)
    _log("a process ended on its own; see .develop/*.log")
    return 1


def _number(state: str | None) -> float | None:
    try:
        return float(state) if state is not None else None
    except ValueError:
        return None


async def _event(ws: Websocket, event_type: str, match: Any) -> dict[str, Any] | None:
    try:
        return await ws.wait_for_event(event_type, match, within=60)
    except TimeoutError:
        return None


# A further check for --check, run against the same stack (scripts/e2e_check.py).
type ExtraCheck = Callable[[HomeAssistant, str, aiohttp.ClientSession], Awaitable[bool]]


async def run(
    args: argparse.Namespace,
    deps: Path,
    config_dir: Path,
    *,
    extra_check: ExtraCheck | None = None,
    log_prefix: str = "",
) -> int:
    """Start both, wire them up, then check or wait for Ctrl-C."""
    processes = Processes(log_prefix)
    sandbox = f"http://127.0.0.1:{args.sandbox_port}"
    ha_base = f"http://127.0.0.1:{args.ha_port}"
    api_url = f"{sandbox}/management-api"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(deps), str(ROOT)]),
        # What the setup form offers as the API URL: the sandbox, so that a
        # person (or scripts/browser_check.py) adding 1NCE types no URL.
        DEFAULT_API_URL_ENV: api_url,
    }
    loop = asyncio.get_running_loop()
    main_task = asyncio.current_task()
    assert main_task is not None
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, main_task.cancel)
    try:
        async with aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=60)
        ) as session:
            processes.start(
                "sandbox",
                [
                    sys.executable,
                    "-m",
                    "sandbox",
                    "serve",
                    "--port",
                    str(args.sandbox_port),
                    "--delivery-delay",
                    str(args.delivery_delay),
                    "--platform",
                    str(args.platform),
                ],
                env,
            )
            await wait_for_sandbox(session, sandbox)
            _log(
                f"sandbox (Platform {args.platform}) up on {sandbox} "
                f"(log: .develop/{log_prefix}sandbox.log)"
            )
            processes.start(
                "hass",
                [
                    sys.executable,
                    "-m",
                    "homeassistant",
                    "--config",
                    str(config_dir),
                    "--skip-pip",
                ],
                env,
            )
            _log(
                f"starting Home Assistant on {ha_base} (log: .develop/{log_prefix}hass.log)"
            )
            ha = HomeAssistant(session, ha_base)
            deadline = loop.time() + START_TIMEOUT
            await ha.async_wait_until_up(deadline, lambda: processes.alive("hass"))
            if await ha.async_onboard():
                _log(f"onboarding done: user {USERNAME!r}, password {PASSWORD!r}")
            await ha.async_login()
            await ha.async_wait_until_running(deadline)
            if args.serve_for_test:
                # The browser adds the entry through the setup dialog itself.
                if removed := await ha.async_remove_onboarding_extras():
                    _log(f"removed what onboarding added: {', '.join(removed)}")
                _log(f"{READY}: {ha_base} and {sandbox}")
                return await serve(processes)
            wiring = await wire_up(ha, config_dir, api_url)
            _log(("added" if wiring.new else "kept") + f" the 1NCE entry for {api_url}")
            if removed := await ha.async_remove_onboarding_extras():
                _log(f"removed what onboarding added: {', '.join(removed)}")
            forwarder = f"{ha_base}/api/one_nce/forwarder/{wiring.secret}"
            async with session.put(
                f"{sandbox}/_sandbox/forwarder", json={"url": forwarder}
            ) as response:
                response.raise_for_status()
            _log("sandbox's SMS forwarder now pushes to Home Assistant")
            await connect_streams(
                session, sandbox, ha_base, wiring.secret, wiring.credential
            )
            _log(
                "sandbox's Data Streamer: a Usage and an Event stream to Home "
                f"Assistant, data use sliced every {USAGE_INTERVAL} s"
            )
            if args.check:
                ok = await check(ha, sandbox, session)
                if extra_check is not None:
                    ok = await extra_check(ha, sandbox, session) and ok
                _log("check passed" if ok else "check FAILED")
                return 0 if ok else 1
            _print_guide(ha_base, sandbox, args.delivery_delay, args.platform)
            return await serve(processes)
    except asyncio.CancelledError:  # Ctrl-C or SIGTERM
        return 0 if not args.check else 130
    except (HomeAssistantError, aiohttp.ClientError, TimeoutError) as err:
        _log(f"failed: {err}")
        _log(f"see .develop/{log_prefix}hass.log and .develop/{log_prefix}sandbox.log")
        return 1
    finally:
        _log("stopping the sandbox and Home Assistant")
        processes.stop()


def _print_guide(ha_base: str, sandbox: str, delay: float, platform: str) -> None:
    sandbox_cli = f"cd {ROOT} && {Path(sys.executable).relative_to(ROOT, walk_up=True)} -m sandbox --sandbox {sandbox}"
    print(
        f"""
  Home Assistant  {ha_base}   (user {USERNAME!r}, password {PASSWORD!r})
  1NCE dashboard  {ha_base}/one-nce   (dashboards/one_nce.yaml, see README)
  1NCE sandbox    {sandbox}/management-api   control: {sandbox}/_sandbox
                  Platform {platform} account ({PLATFORM_NOTES.get(platform, "")})

  See the SIMs:   Settings > Devices & services > 1NCE (6 SIMs: plenty of SMS,
                  under 20 %, none left, disabled, offline, unlabelled)
  Send an SMS:    Developer tools > Actions > "1NCE: Send SMS" (or a SIM's notify
                  entity). About {delay:g} s later the delivery report arrives: the
                  SIM's "SMS delivery" event entity changes; Developer tools >
                  Events can listen to one_nce_delivery_report.
  Receive an SMS: {sandbox_cli} send-mo {GARDEN_GATE} "Hello"
                  (the SIM's "Incoming SMS" event entity; event one_nce_sms_received)
  Network events: {sandbox_cli} inject attach {CAMPER_VAN}
                  (the offline camper van attaches: its "Network event" entity;
                  event one_nce_network_event; also detach, quota-used-up, ...)
  Data Streamer:  {sandbox_cli} streams
                  (a Usage and an Event stream to Home Assistant, as in 1NCE's
                  Portal; data use sliced every {USAGE_INTERVAL} s; the account's
                  "Streamer records received" counts what arrives)
  Misbehave:      {sandbox_cli} faults error_rate=0.3 latency=1
  The truth:      curl {sandbox}/_sandbox/usage/{GARDEN_GATE}
                  (what the SIM really used per day: data MB, MT and MO SMS)

  Ctrl-C stops both. Logs: .develop/hass.log, .develop/sandbox.log
""",
        flush=True,
    )


def main() -> int:
    """Parse arguments, prepare the files, run."""
    parser = argparse.ArgumentParser(prog="scripts/develop")
    parser.add_argument(
        "--check", action="store_true", help="headless end-to-end check, then stop"
    )
    parser.add_argument(
        "--serve-for-test",
        action="store_true",
        help=f"like --check, but add no 1NCE entry, print '{READY}' and run until SIGTERM",
    )
    parser.add_argument("--fresh", action="store_true", help="start from a new config")
    parser.add_argument("--ha-port", type=int)
    parser.add_argument("--sandbox-port", type=int)
    parser.add_argument("--delivery-delay", type=float, default=2.0)
    parser.add_argument(
        "--platform",
        choices=PLATFORMS,
        default=DEFAULT_PLATFORM,
        help="the sandbox's 1NCE platform: 2 (default), 1 (v1 and the old "
        "shapes) or hybrid (first half of the SIMs 1.0, the rest 2.0)",
    )
    args = parser.parse_args()
    # --check runs beside a developer's instance: its own ports, its own config.
    throwaway = args.check or args.serve_for_test
    args.ha_port = args.ha_port or (18123 if throwaway else 8123)
    args.sandbox_port = args.sandbox_port or (18765 if throwaway else 8765)
    for port in (args.ha_port, args.sandbox_port):
        if not port_free(port):
            _log(f"port {port} on 127.0.0.1 is in use; pick another with --*-port")
            return 1
    DEVELOP.mkdir(exist_ok=True)
    config_dir = DEVELOP / ("check" if throwaway else "config")
    deps = frontend_deps()
    prepare_config(config_dir, args.ha_port, fresh=args.fresh or throwaway)
    return asyncio.run(run(args, deps, config_dir))


if __name__ == "__main__":
    sys.exit(main())
