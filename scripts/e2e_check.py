"""End to end on the newest Home Assistant: the develop check, the blueprints, a clean log.

Run by `scripts/test`'s `e2e` leg, with the venv of requirements_e2e.txt (the
newest Home Assistant the package index serves, and no test package: the
newest pytest-homeassistant-custom-component cannot load under it) and the
Python 3.14 of scripts/py314:

    python scripts/e2e_check.py [--ha-port N] [--sandbox-port N]
                                [--platform 2|1|hybrid ...]

Without ports it asks the system for two free ones, so it runs beside other
Home Assistants and sandboxes on the same machine. It runs everything below
once per 1NCE platform the sandbox plays: Platform 2.0 first, then 1.0
(`--platform`, repeatable, picks others), saying which it runs. For each it

1. starts the develop stack of scripts/develop_run.py in a throw-away config
   (.develop/e2e-platform<P>/): the sandbox, Home Assistant onboarded, the
   1NCE entry added through the config flow against the sandbox, its
   forwarder and its Data Streamer's Usage and Event streams pushing to Home
   Assistant; logs in
   .develop/e2e-platform<P>-hass.log and .develop/e2e-platform<P>-sandbox.log;
2. runs the develop check (what `scripts/develop --check` proves: the devices,
   an SMS volume, an SMS and its delivery report, a two-part MO SMS and its
   one event though Platform 2.0 also streams it, a network event played in
   the sandbox on the SIM's entity and the bus, the streamer's records count
   rising);
3. copies blueprints/automation/one_nce/ into the config, sets up automations
   from the three blueprints over Home Assistant's REST API as the automation
   editor does (Home Assistant validates the inputs), triggers them and checks
   what they did: the cases tests/test_blueprints.py runs in-process, here on a
   real Home Assistant. Their actions fire an `e2e_blueprint_result` event
   with the message they rendered;
4. stops both and scans Home Assistant's log: every WARNING, ERROR or CRITICAL
   record that mentions the integration (`one_nce`, `custom_components.one_nce`
   or its path) fails the leg, and so does any record of a deprecation report
   ("deprecated", "will stop working") that mentions it, at any level and from
   any logger but the integration's own debug output. Allowed, and only this:
   Home Assistant's loader warning "We found a custom integration one_nce which
   has not been tested by Home Assistant ...", which it logs once at every
   start for every custom integration; it says nothing about this one.

It prints the Home Assistant version it ran (installed and as the running
server reports it), each check, the log verdict and the time taken, per
platform, and exits 0 if everything passed on every platform, 1 if not.
"""

from __future__ import annotations

import argparse
import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
import json
from pathlib import Path
import re
import shutil
import socket
import sys
import time
from typing import Any, Final

import aiohttp
from develop_ha import DOMAIN, HomeAssistant, HomeAssistantError, Websocket
import develop_run

ROOT: Final = Path(__file__).resolve().parents[1]
# The platforms the sandbox plays, in the order they run unless told.
PLATFORMS: Final = ("2", "1")
PLATFORM_NAMES: Final = {"2": "Platform 2.0", "1": "Platform 1.0", "hybrid": "hybrid"}
GOOD: Final = {"checks": "passed", "log": "clean"}
BLUEPRINTS: Final = ROOT / "blueprints"
RESULT: Final = "e2e_blueprint_result"
# The sandbox's seeded fleet (sandbox/fleet.py), as in tests/blueprint_common.py.
GARDEN_GATE: Final = "8988228066000000001"  # 231 SMS left, delivers
WEATHER_STATION: Final = "8988228066000000002"  # 32 SMS left
CELLAR_PUMP: Final = "8988228066000000003"  # no SMS left
WAIT: Final = 60.0

# The one line about the integration that Home Assistant logs however well it
# behaves (homeassistant/loader.py, CUSTOM_WARNING), at every start.
ALLOWED: Final = (
    re.compile(
        r"\S+ \S+ WARNING \([^)]*\) \[homeassistant\.loader\] We found a custom integration "
        rf"{DOMAIN} which has not been tested by Home Assistant\. This component "
        r"might cause stability problems, be sure to disable it if you experience "
        r"issues with Home Assistant"
    ),
)
# Home Assistant's log format: "2026-12-07 01:45:29.367+00:00 WARNING
# (SyncWorker_0) [homeassistant.loader] We found ..." (offset and fraction
# optional); lines that do not start so continue the record before them.
RECORD_START: Final = re.compile(
    r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:?\d\d|Z)? "
    r"(DEBUG|INFO|WARNING|ERROR|CRITICAL) \([^)]*\) \[([^\]]+)\] "
)
OURS: Final = re.compile(rf"\b{DOMAIN}\b|custom_components[./]{DOMAIN}")
DEPRECATION: Final = re.compile(r"deprecat|will stop working", re.IGNORECASE)
ANSI: Final = re.compile(r"\x1b\[[0-9;]*m")


def _log(message: str) -> None:
    print(f"e2e: {message}", flush=True)


def free_port() -> int:
    """Ask the system for a TCP port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True)
class Run:
    """Where one platform's run keeps its config and logs."""

    platform: str

    @property
    def name(self) -> str:
        """How the output names the platform."""
        return PLATFORM_NAMES[self.platform]

    @property
    def log_prefix(self) -> str:
        """The stack's logs are .develop/<prefix>hass.log and ...sandbox.log."""
        return f"e2e-platform{self.platform}-"

    @property
    def config_dir(self) -> Path:
        """Home Assistant's throw-away config for this run."""
        return develop_run.DEVELOP / f"e2e-platform{self.platform}"

    @property
    def hass_log(self) -> Path:
        """Home Assistant's log of this run."""
        return develop_run.DEVELOP / f"{self.log_prefix}hass.log"


def prepare_config(config_dir: Path, ha_port: int) -> None:
    """Write the develop config, plus automations from a file and our blueprints."""
    develop_run.prepare_config(config_dir, ha_port, fresh=True)
    with (config_dir / "configuration.yaml").open("a", encoding="utf-8") as config:
        config.write(
            "\n# scripts/e2e_check.py: automations as the automation editor "
            "writes them.\nautomation: !include automations.yaml\n"
        )
    (config_dir / "automations.yaml").write_text("[]\n", encoding="utf-8")
    shutil.copytree(BLUEPRINTS, config_dir / "blueprints", dirs_exist_ok=True)


# --- the blueprints ------------------------------------------------------------


def result_action(automation: str, kind: str, message: str) -> list[dict[str, Any]]:
    """Build an actions input that reports what the blueprint rendered, as an event."""
    return [
        {
            "event": RESULT,
            "event_data": {"automation": automation, "kind": kind, "message": message},
        }
    ]


@dataclass
class Blueprints:
    """Automations from the blueprints on a running stack, and their checks."""

    ha: HomeAssistant
    ws: Websocket
    session: aiohttp.ClientSession
    sandbox: str
    devices: dict[str, str]
    entities: dict[str, str]
    failures: list[str]
    hass_log: Path

    def verdict(self, ok: bool, what: str) -> None:
        """Print one check's outcome and remember failures."""
        print(f"  [{'ok' if ok else 'FAIL'}] {what}", flush=True)
        if not ok:
            self.failures.append(what)

    async def control(self, method: str, path: str, body: Any = None) -> Any:
        """Drive the sandbox over its control API (/_sandbox)."""
        async with self.session.request(
            method, f"{self.sandbox}/_sandbox{path}", json=body
        ) as response:
            response.raise_for_status()
            return await response.json()

    async def use(self, key: str, blueprint: str, inputs: dict[str, Any]) -> None:
        """Save an automation from a blueprint, as the editor does; wait until on."""
        await self.ha.async_api(
            "POST",
            f"/api/config/automation/config/{key}",
            json={
                "alias": f"e2e {key}",
                "description": "",
                "use_blueprint": {"path": f"one_nce/{blueprint}.yaml", "input": inputs},
            },
        )
        entity_id = f"automation.e2e_{key}"
        for _ in range(100):
            states = await self.ha.async_states()
            if states.get(entity_id, {}).get("state") == "on":
                return
            await asyncio.sleep(0.2)
        raise TimeoutError(f"{entity_id} did not turn on; see {self.hass_log.name}")

    async def result(
        self, since: int, automation: str, kind: str | None = None, within: float = WAIT
    ) -> str | None:
        """Return the message of the first result of `automation` after event `since`."""

        def match(event: dict[str, Any]) -> bool:
            data = event["data"]
            return (
                event["event_type"] == RESULT
                and data.get("automation") == automation
                and (kind is None or data.get("kind") == kind)
            )

        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            for event in self.ws.events[since:]:
                if match(event):
                    return str(event["data"]["message"])
            await asyncio.sleep(0.1)
        return None

    def mark(self) -> int:
        """Where the events seen so far end."""
        return len(self.ws.events)

    async def fire(self, event_type: str) -> int:
        """Fire a trigger event over the REST API; return the mark before it."""
        mark = self.mark()
        await self.ha.async_api("POST", f"/api/events/{event_type}", json={})
        return mark

    async def mt_sms(self, iccid: str, payload: str) -> list[dict[str, Any]]:
        """List the SMS the sandbox was asked to send to a SIM with this payload."""
        return [
            sms
            for sms in await self.control("GET", "/sms")
            if sms["iccid"] == iccid
            and sms["payload"] == payload
            and sms["sms_type"]["description"] == "MT"
        ]

    async def refresh_details(self, iccid: str) -> None:
        """Have the SIM's details read now: its Reset connection, then an update.

        Pressing the button asks for the SIM's details at the next tick (up to a
        minute away); updating its volume sensor makes that tick now.
        """
        for action, key in (
            ("button/press", "reset_connection"),
            ("homeassistant/update_entity", "sms_volume"),
        ):
            await self.ha.async_api(
                "POST",
                f"/api/services/{action}",
                json={"entity_id": self.entities[f"{iccid}_{key}"]},
            )

    async def wake(self) -> None:
        """Wake a device by SMS: delivered, failed, timed out, not sent."""
        wake_inputs = {
            "sim": self.devices[GARDEN_GATE],
            "message": "WAKE UP",
            "timeout": {"seconds": WAIT},
            "on_failure": result_action(
                "wake", "failure", "{{ sim_name }}: {{ outcome }}"
            ),
            "on_delivered": result_action(
                "wake", "delivered", "{{ sim_name }}: {{ sms_id }}"
            ),
        }
        await self.use(
            "wake",
            "wake_device_by_sms",
            {
                "wake_trigger": [{"trigger": "event", "event_type": "e2e_wake"}],
                **wake_inputs,
            },
        )
        mark = await self.fire("e2e_wake")
        message = await self.result(mark, "wake")
        sent = await self.mt_sms(GARDEN_GATE, "WAKE UP")
        delivered = bool(sent) and sent[0]["status"]["description"] == "DELIVERED"
        self.verdict(
            delivered and message == f"Garden gate: {sent[0]['id']}",
            f"wake: 'WAKE UP' sent and delivered, delivered actions: {message!r}",
        )

        await self.control("PATCH", f"/sims/{GARDEN_GATE}", {"mt_outcome": "failed"})
        mark = await self.fire("e2e_wake")
        message = await self.result(mark, "wake")
        await self.control("PATCH", f"/sims/{GARDEN_GATE}", {"mt_outcome": "delivered"})
        self.verdict(
            message == "Garden gate: failed",
            f"wake: SMS failed, failure actions: {message!r}",
        )

        # 1NCE holds the delivery report: the wait times out.
        forwarder = (await self.control("GET", "/forwarder"))["url"]
        await self.control("PUT", "/forwarder", {"url": None})
        await self.use(
            "wake_quick",
            "wake_device_by_sms",
            {
                "wake_trigger": [{"trigger": "event", "event_type": "e2e_wake_quick"}],
                **wake_inputs,
                "timeout": {"seconds": 2},
                "on_failure": result_action(
                    "wake_quick", "failure", "{{ sim_name }}: {{ outcome }}"
                ),
                "on_delivered": result_action(
                    "wake_quick", "delivered", "{{ sim_name }}: {{ sms_id }}"
                ),
            },
        )
        mark = await self.fire("e2e_wake_quick")
        message = await self.result(mark, "wake_quick")
        await self.control("PUT", "/forwarder", {"url": forwarder})
        self.verdict(
            message == "Garden gate: timeout",
            f"wake: no delivery report in time, failure actions: {message!r}",
        )

        # No SMS volume left: the action refuses to send.
        await self.use(
            "wake_pump",
            "wake_device_by_sms",
            {
                "wake_trigger": [{"trigger": "event", "event_type": "e2e_wake_pump"}],
                "sim": self.devices[CELLAR_PUMP],
                "on_failure": result_action(
                    "wake_pump", "failure", "{{ sim_name }}: {{ outcome }}"
                ),
            },
        )
        mark = await self.fire("e2e_wake_pump")
        message = await self.result(mark, "wake_pump")
        self.verdict(
            message == "Cellar pump: not_sent"
            and not await self.mt_sms(CELLAR_PUMP, "WAKE"),
            f"wake: no SMS volume left, nothing sent, failure actions: {message!r}",
        )

    async def low_volume(self) -> None:
        """Warn when a SIM's SMS volume runs low: quiet at 30, warns at 29."""
        sensor = self.entities[f"{WEATHER_STATION}_sms_volume"]
        await self.use(
            "low",
            "sms_volume_low",
            {
                "volume_sensors": [sensor],
                "threshold": 30,
                "actions": result_action(
                    "low",
                    "warned",
                    "{{ sim_name }}: {{ volume }} SMS left (below {{ threshold }})",
                ),
            },
        )
        mark = self.mark()
        await self.control("PATCH", f"/sims/{WEATHER_STATION}", {"sms_volume": 30})
        await self.refresh_details(WEATHER_STATION)
        shown = await self.wait_for_state(sensor, lambda state: state == "30.0")
        message = await self.result(mark, "low", within=2)
        self.verdict(
            shown and message is None,
            f"low volume: 30 SMS left (not below 30), no warning: {message!r}",
        )

        mark = self.mark()
        await self.control("PATCH", f"/sims/{WEATHER_STATION}", {"sms_volume": 29})
        await self.refresh_details(WEATHER_STATION)
        message = await self.result(mark, "low")
        self.verdict(
            message == "Weather station: 29 SMS left (below 30)",
            f"low volume: 29 SMS left, warning: {message!r}",
        )

    async def wait_for_state(
        self, entity_id: str, wanted: Callable[[str | None], bool]
    ) -> bool:
        """Wait until the entity's state is as wanted; False after WAIT seconds."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            state = (await self.ha.async_states()).get(entity_id, {}).get("state")
            if wanted(state):
                return True
            await asyncio.sleep(0.5)
        return False

    async def forward(self) -> None:
        """Forward incoming SMS: text and sender exact, chosen SIMs or all."""
        template = "{{ sim_name }} ({{ sms.sender }}): {{ sms.text }}"
        await self.use(
            "forward_gate",
            "forward_incoming_sms",
            {
                "sims": [self.devices[GARDEN_GATE]],
                "actions": result_action("forward_gate", "forwarded", template),
            },
        )
        await self.use(
            "forward_all",
            "forward_incoming_sms",
            {
                "sims": [],
                "actions": result_action("forward_all", "forwarded", template),
            },
        )
        mark = self.mark()
        # Both look like numbers; neither may be changed on the way.
        await self.control(
            "POST",
            "/mo",
            {"iccid": GARDEN_GATE, "text": "1.50", "source_address": "+4915112345678"},
        )
        message = await self.result(mark, "forward_gate")
        self.verdict(
            message == "Garden gate (+4915112345678): 1.50",
            f"forward: from a chosen SIM, exactly: {message!r}",
        )

        mark = self.mark()
        await self.control(
            "POST", "/mo", {"iccid": WEATHER_STATION, "text": "Rain: 4 mm"}
        )
        message = await self.result(mark, "forward_all")
        self.verdict(
            message == "Weather station (882285100000002): Rain: 4 mm",
            f"forward: no SIMs chosen forwards every SIM's SMS: {message!r}",
        )
        await self.ws.wait_for_event(
            "one_nce_sms_received",
            lambda data: data.get("iccid") == WEATHER_STATION,
            within=WAIT,
        )
        other = await self.result(mark, "forward_gate", within=2)
        self.verdict(
            other is None, f"forward: SMS of a SIM not chosen are left: {other!r}"
        )

    async def token_requests(self) -> int:
        """How many tokens the sandbox issued so far (one per client, then cached)."""
        counters = await self.control("GET", "/counters")
        return int(counters["by_endpoint"].get("POST /oauth/token", 0))

    async def reloaded(self, entry_id: str, tokens: int) -> int | None:
        """Wait until the entry is loaded and `tokens` were issued; then the count.

        A reload builds a new client, which asks for a token: the count after
        a short settling tells how many setups there were.
        """
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            entries = {e["entry_id"]: e for e in await self.ha.async_entries()}
            state = entries.get(entry_id, {}).get("state")
            if state == "loaded" and await self.token_requests() >= tokens:
                await asyncio.sleep(2)
                return await self.token_requests()
            await asyncio.sleep(0.2)
        return None

    async def flows(self) -> None:
        """Reconfigure and options on the running entry: each reloads it once.

        Home Assistant 2026.12 refuses a config flow's reload of an entry that
        has an update listener (2026.6 to 2026.11 log it: the log scan fails).
        """
        [entry] = await self.ha.async_entries()
        entry_id = entry["entry_id"]

        before = await self.token_requests()
        form = await self.ha.async_api(
            "POST",
            "/api/config/config_entries/flow",
            json={"handler": DOMAIN, "entry_id": entry_id},
        )
        result = await self.ha.async_api(
            "POST",
            f"/api/config/config_entries/flow/{form['flow_id']}",
            json={
                "client_id": develop_run.CLIENT_ID,
                "client_secret": develop_run.CLIENT_SECRET,
            },
        )
        # One token to prove the credentials, one for the reloaded entry.
        after = await self.reloaded(entry_id, before + 2)
        self.verdict(
            result.get("reason") == "reconfigure_successful" and after == before + 2,
            f"reconfigure: {result.get('reason')}, tokens asked for: "
            f"{None if after is None else after - before} (the check and one setup)",
        )

        before = await self.token_requests()
        form = await self.ha.async_api(
            "POST",
            "/api/config/config_entries/options/flow",
            json={"handler": entry_id},
        )
        result = await self.ha.async_api(
            "POST",
            f"/api/config/config_entries/options/flow/{form['flow_id']}",
            json={
                "list_interval": 20,
                "detail_interval": 60,
                "sms_low_threshold": 20,
                "max_sms_parts": 6,
            },
        )
        after = await self.reloaded(entry_id, before + 1)
        self.verdict(
            result.get("type") == "create_entry" and after == before + 1,
            f"options: {result.get('type')}, tokens asked for: "
            f"{None if after is None else after - before} (one setup)",
        )


def blueprint_check(hass_log: Path) -> develop_run.ExtraCheck:
    """Build the check run after the develop check: blueprints, then flows."""

    async def check(
        ha: HomeAssistant, sandbox: str, session: aiohttp.ClientSession
    ) -> bool:
        return await run_blueprints(ha, sandbox, session, hass_log)

    return check


async def run_blueprints(
    ha: HomeAssistant, sandbox: str, session: aiohttp.ClientSession, hass_log: Path
) -> bool:
    """Set up, trigger and check automations from each blueprint; then the flows."""
    config = await ha.async_api("GET", "/api/config")
    _log(f"Home Assistant {config['version']} is running; now the blueprints")
    async with ha.websocket() as ws:
        registry = await ws.command(type="config/entity_registry/list")
        entities = {
            entry["unique_id"]: entry["entity_id"]
            for entry in registry
            if entry["platform"] == DOMAIN
        }
        devices = {
            ident[1]: device["id"]
            for device in await ws.command(type="config/device_registry/list")
            for ident in device["identifiers"]
            if ident[0] == DOMAIN
        }
        for event_type in (RESULT, "one_nce_sms_received"):
            await ws.command(type="subscribe_events", event_type=event_type)
        checks = Blueprints(ha, ws, session, sandbox, devices, entities, [], hass_log)
        for part in (checks.wake, checks.low_volume, checks.forward, checks.flows):
            try:
                await part()
            except (
                HomeAssistantError,
                TimeoutError,
                aiohttp.ClientError,
                KeyError,
                ValueError,
            ) as err:
                checks.verdict(False, f"{part.__name__}: {type(err).__name__}: {err}")
        await ws.close()
    return not checks.failures


# --- the log -------------------------------------------------------------------


def records(text: str) -> list[tuple[str, str, str]]:
    """Home Assistant's log as (level, logger, text) per record, tracebacks joined."""
    found: list[tuple[str, str, str]] = []
    for line in ANSI.sub("", text).splitlines():
        if match := RECORD_START.match(line):
            found.append((match.group(1), match.group(2), line))
        elif found:
            level, logger, joined = found[-1]
            found[-1] = (level, logger, f"{joined}\n{line}")
        elif line.strip():
            found.append(("OUTPUT", "", line))
    return found


def scan(text: str) -> tuple[list[str], list[str], list[str]]:
    """Split the log: (failing records, allowed records, other warnings).

    A record fails if it mentions the integration and is a warning or worse,
    or (from any logger but ours, at any level) reports a deprecation. Output
    that is no log record (a traceback printed on its own) counts as an error.
    """
    failing: list[str] = []
    allowed: list[str] = []
    others: list[str] = []
    for level, logger, record in records(text):
        severe = level in {"WARNING", "ERROR", "CRITICAL", "OUTPUT"}
        ours = bool(OURS.search(record))
        reported = bool(DEPRECATION.search(record)) and not logger.startswith(
            f"custom_components.{DOMAIN}"
        )
        if not ours or not (severe or reported):
            if severe:
                others.append(record)
            continue
        # Allowed as one whole line: anything joined to it counts against it.
        if any(pattern.fullmatch(record) for pattern in ALLOWED):
            allowed.append(record)
        else:
            failing.append(record)
    return failing, allowed, others


def report_log(hass_log: Path) -> bool:
    """Print the log verdict; True if clean."""
    if not hass_log.exists():
        _log(f"log: {hass_log.relative_to(ROOT)} is missing")
        return False
    failing, allowed, others = scan(
        hass_log.read_text(encoding="utf-8", errors="replace")
    )
    for record in allowed:
        _log(f"log: allowed: {record.splitlines()[0]}")
    for record in failing:
        _log(f"log: FAIL: {record}")
    # Home Assistant's own complaints, mostly about default integrations whose
    # packages this venv lacks (it runs with --skip-pip, as scripts/develop
    # does): counted by logger, not judged.
    by_logger = Counter(
        match.group(2) if (match := RECORD_START.match(record)) else "(output)"
        for record in others
    )
    if by_logger:
        _log(
            f"log: not about {DOMAIN}: "
            + ", ".join(f"{logger} {count}" for logger, count in by_logger.items())
        )
    _log(
        f"log: {len(failing)} warning(s), error(s) or deprecation(s) about {DOMAIN}, "
        f"{len(allowed)} allowed line(s), {len(others)} other warning(s) "
        f"(see {hass_log.relative_to(ROOT)})"
    )
    return not failing and len(allowed) == len(ALLOWED)


def run_platform(
    run: Run, args: argparse.Namespace, deps: Path
) -> dict[str, str] | None:
    """Run the stack on one platform with both checks, then judge its log.

    Returns the verdicts, or None when the ports were taken.
    """
    ha_port = args.ha_port or free_port()
    sandbox_port = args.sandbox_port or free_port()
    _log(
        f"=== {run.name} (sandbox --platform {run.platform}): Home Assistant on "
        f"port {ha_port}, sandbox on port {sandbox_port}"
    )
    for port in (ha_port, sandbox_port):
        if not develop_run.port_free(port):
            _log(f"port {port} on 127.0.0.1 is in use; pick another with --*-port")
            return None
    prepare_config(run.config_dir, ha_port)
    stack = argparse.Namespace(
        check=True,
        serve_for_test=False,
        fresh=True,
        ha_port=ha_port,
        sandbox_port=sandbox_port,
        delivery_delay=2.0,
        platform=run.platform,
    )
    checks_ok = (
        asyncio.run(
            develop_run.run(
                stack,
                deps,
                run.config_dir,
                extra_check=blueprint_check(run.hass_log),
                log_prefix=run.log_prefix,
            )
        )
        == 0
    )
    log_ok = report_log(run.hass_log)
    _log(
        f"{run.name}: checks {'passed' if checks_ok else 'FAILED'}, "
        f"log {'clean' if log_ok else 'FAILED'}"
    )
    return {
        "checks": "passed" if checks_ok else "FAILED",
        "log": "clean" if log_ok else "FAILED",
    }


def main() -> int:
    """Run the stack with both checks on each platform, then judge the logs."""
    started = time.monotonic()
    parser = argparse.ArgumentParser(prog="scripts/e2e_check.py")
    parser.add_argument("--ha-port", type=int, help="default: a free port")
    parser.add_argument("--sandbox-port", type=int, help="default: a free port")
    parser.add_argument(
        "--platform",
        action="append",
        choices=list(PLATFORM_NAMES),
        help="the sandbox's 1NCE platform; repeat for several (default: 2, then 1)",
    )
    args = parser.parse_args()
    runs = [Run(platform) for platform in args.platform or PLATFORMS]
    _log(
        f"homeassistant {version('homeassistant')} on Python "
        f"{sys.version.split()[0]}; platforms: " + ", ".join(run.name for run in runs)
    )
    develop_run.DEVELOP.mkdir(exist_ok=True)
    deps = develop_run.frontend_deps()
    verdicts: dict[str, dict[str, str] | None] = {}
    for run in runs:
        verdicts[run.name] = run_platform(run, args, deps)
    passed = {name: verdict == GOOD for name, verdict in verdicts.items()}
    _log(
        json.dumps(
            {
                "homeassistant": version("homeassistant"),
                "platforms": {
                    name: verdict or "ports in use"
                    for name, verdict in verdicts.items()
                },
                "seconds": round(time.monotonic() - started),
            }
        )
    )
    _log(
        f"end-to-end on Home Assistant {version('homeassistant')}: "
        + ", ".join(
            f"{name} {'passed' if ok else 'FAILED'}" for name, ok in passed.items()
        )
    )
    ok = all(passed.values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
