"""Helpers for the fault tests: a real sandbox next to an in-process Home Assistant.

The sandbox (a stand-in for 1NCE, see sandbox/README.md) runs on 127.0.0.1 in
the test's event loop; the integration talks to it over real sockets with Home
Assistant's own client session, and the sandbox's forwarder pushes to Home
Assistant's real HTTP server. Tests using these helpers ask for
`socket_enabled`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
import json
import os
from pathlib import Path
import signal
import subprocess
import sys
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.one_nce.const import (
    CONF_API_URL,
    DOMAIN,
)
from homeassistant.const import CONF_CLIENT_ID, CONF_CLIENT_SECRET
from sandbox import (
    API_PREFIX,
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    SANDBOX,
    Sandbox,
    SandboxConfig,
    create_app,
)
from sandbox.fleet import SimState
from sandbox.ha_config import HelperComponent, OneNceEntry, write_config

REPO = Path(__file__).resolve().parent.parent
# The sandbox's six example SIMs; the fourth is disabled and cannot send.
SENDING_ICCIDS = (
    "8988228066000000001",
    "8988228066000000002",
    "8988228066000000003",
    "8988228066000000005",
    "8988228066000000006",
)


@dataclass
class RunningSandbox:
    """A started sandbox: its server and in-process state."""

    server: TestServer
    state: Sandbox

    @property
    def api_url(self) -> str:
        """The integration's API URL setting for this sandbox."""
        return str(self.server.make_url(API_PREFIX))

    @property
    def fleet(self) -> dict[str, SimState]:
        """The sandbox's SIMs by ICCID."""
        return self.state.fleet


async def start_sandbox(
    app_hook: Callable[[Any], None] | None = None, **overrides: Any
) -> RunningSandbox:
    """Start a sandbox on 127.0.0.1 with quick forwarder retries.

    `app_hook` sees the aiohttp application before it starts (to add a
    middleware, say).
    """
    quick: dict[str, Any] = {
        "delivery_delay": 0.0,
        "retry_initial": 0.05,
        "retry_max_gap": 0.5,
    }
    app = create_app(SandboxConfig(**(quick | overrides)))
    if app_hook is not None:
        app_hook(app)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return RunningSandbox(server, app[SANDBOX])


def sandbox_entry(running: RunningSandbox, **options: Any) -> MockConfigEntry:
    """A 1NCE entry with the sandbox's credentials and API URL."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="1NCE",
        unique_id=DEFAULT_CLIENT_ID,
        data={
            CONF_CLIENT_ID: DEFAULT_CLIENT_ID,
            CONF_CLIENT_SECRET: DEFAULT_CLIENT_SECRET,
            CONF_API_URL: running.api_url,
        },
        options=options,
    )


async def wait_for(
    predicate: Callable[[], bool], within: float, what: str, step: float = 0.02
) -> None:
    """Wait (real time: real servers talk) until `predicate` holds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"not within {within} s: {what}")
        await asyncio.sleep(step)


def peak_per_second(times: list[float], window: float = 1.0) -> int:
    """Most requests in any window of `window` seconds (sliding, not aligned)."""
    ordered = sorted(times)
    peak = 0
    start = 0
    for end, moment in enumerate(ordered):
        while ordered[start] <= moment - window:
            start += 1
        peak = max(peak, end - start + 1)
    return peak


# --- a real Home Assistant process ------------------------------------------------

PROBE_DOMAIN = "fault_probe"
PROBE_STATUS = f"/api/{PROBE_DOMAIN}/status"
PROBE_RELOAD = f"/api/{PROBE_DOMAIN}/reload"
PROBE_EVENTS_FILE = "sms_events.jsonl"
E2E_SECRET = "e2e-forwarder-secret-0123456789abcdefghijklmnopq"
PROBE_COMPONENT = '''"""Fault probe: write each received SMS event to a file; status and reload views."""

import json
import os

from homeassistant.components.http import KEY_HASS, HomeAssistantView
from homeassistant.core import callback

ENTRY = "one_nce"


class StatusView(HomeAssistantView):
    url = "/api/fault_probe/status"
    name = "api:fault_probe:status"
    requires_auth = False

    async def get(self, request):
        hass = request.app[KEY_HASS]
        entries = hass.config_entries.async_entries(ENTRY)
        return self.json(
            {
                "hass_state": hass.state.value,
                "one_nce": [entry.state.value for entry in entries],
            }
        )


class ReloadView(HomeAssistantView):
    url = "/api/fault_probe/reload"
    name = "api:fault_probe:reload"
    requires_auth = False

    async def post(self, request):
        hass = request.app[KEY_HASS]
        entry = hass.config_entries.async_entries(ENTRY)[0]
        return self.json({"reloaded": await hass.config_entries.async_reload(entry.entry_id)})


async def async_setup(hass, config):
    # One small unbuffered append per event: it survives the process's exit.
    fd = os.open(
        hass.config.path("sms_events.jsonl"), os.O_WRONLY | os.O_APPEND | os.O_CREAT
    )

    @callback
    def record(event):
        keys = ("sms_id", "iccid", "text", "parts", "complete")
        line = json.dumps({key: event.data.get(key) for key in keys}) + "\\n"
        os.write(fd, line.encode())

    hass.bus.async_listen("one_nce_sms_received", record)
    hass.http.register_view(StatusView())
    hass.http.register_view(ReloadView())
    return True
'''


def write_ha_config(config: Path, api_url: str, port: int) -> None:
    """A configuration directory: the integration, the probe, one 1NCE entry."""
    write_config(
        config,
        name="Fault test",
        port=port,
        entry=OneNceEntry(
            entry_id="01JFAULT0ENTRY00000000000",
            title="1NCE",
            client_id=DEFAULT_CLIENT_ID,
            client_secret=DEFAULT_CLIENT_SECRET,
            api_url=api_url,
            forwarder_secret=E2E_SECRET,
        ),
        helper=HelperComponent(
            domain=PROBE_DOMAIN, name="Fault probe", source=PROBE_COMPONENT
        ),
    )


class HomeAssistantProcess:
    """`python -m homeassistant` on a configuration directory, started and stopped."""

    def __init__(self, config: Path, port: int) -> None:
        """Nothing runs until `start`."""
        self.config = config
        self.base = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        """Start Home Assistant (its output goes to a log in the config folder)."""
        self.starts += 1
        with (self.config / f"home-assistant.{self.starts}.log").open("wb") as out:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    *("-m", "homeassistant", "-c", str(self.config), "--skip-pip"),
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                # Not the repository: its `custom_components` would hide the
                # configuration's.
                cwd=self.config,
                start_new_session=True,
            )

    async def wait_ready(self, session: aiohttp.ClientSession, within: float) -> None:
        """Wait until Home Assistant runs with the 1NCE entry loaded."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        last: Any = None
        while loop.time() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"Home Assistant exited: {self.log_tail()}")
            try:
                async with session.get(f"{self.base}{PROBE_STATUS}") as response:
                    last = response.status
                    if response.status == 200:
                        last = await response.json()
                        if last == {"hass_state": "RUNNING", "one_nce": ["loaded"]}:
                            return
            except (aiohttp.ClientError, OSError) as err:
                last = err
            await asyncio.sleep(0.2)
        raise AssertionError(f"Home Assistant not ready: {last!r}; {self.log_tail()}")

    async def stop(self, within: float = 60) -> int:
        """Stop it as a service manager would (SIGTERM); return its exit status."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGTERM)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while (status := self.process.poll()) is None:
            if loop.time() > deadline:
                os.killpg(self.process.pid, signal.SIGKILL)
                raise AssertionError("Home Assistant did not stop in time")
            await asyncio.sleep(0.05)
        return status

    def kill(self) -> None:
        """Make sure nothing is left running."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def log_tail(self, lines: int = 30) -> str:
        """The end of the latest log."""
        log = self.config / f"home-assistant.{self.starts}.log"
        text = log.read_text(errors="replace") if log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def events(self) -> list[dict[str, Any]]:
        """Every SMS event the probe recorded, across restarts."""
        path = self.config / PROBE_EVENTS_FILE
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line]
