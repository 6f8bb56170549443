"""Talk to a local Home Assistant the way a person in a browser would.

Used by `develop_run.py`: finish onboarding, log in, add the 1NCE entry through
the config flow, and for `scripts/develop --check`, watch entities and events.
Only Home Assistant's public HTTP and websocket APIs are used, so what works
here works for a person clicking through the UI.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
import itertools
import json
from pathlib import Path
from typing import Any, Final

import aiohttp

USERNAME: Final = "dev"
PASSWORD: Final = "dev-password-1nce"
DOMAIN: Final = "one_nce"
# The Data Streamer credential's user name (const.STREAMER_USERNAME).
STREAMER_USERNAME: Final = "one_nce"
# What Home Assistant's onboarding sets up on its own (core_config step).
ONBOARDING_EXTRAS: Final = frozenset(
    {"google_translate", "met", "radio_browser", "shopping_list"}
)


class HomeAssistantError(Exception):
    """Home Assistant answered something the development setup cannot use."""


class HomeAssistant:
    """A logged-in session against one Home Assistant."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        """Remember where Home Assistant is; `async_login` gets the token."""
        self.session = session
        self.base = base.rstrip("/")
        self.client_id = f"{self.base}/"
        self.token: str | None = None

    async def _json(
        self, method: str, path: str, *, expect: int = 200, **kwargs: Any
    ) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with self.session.request(
            method, f"{self.base}{path}", headers=headers, **kwargs
        ) as response:
            text = await response.text()
            if response.status != expect:
                raise HomeAssistantError(
                    f"{method} {path}: HTTP {response.status}: {text[:500]}"
                )
            return json.loads(text) if text else None

    async def async_wait_until_up(self, deadline: float, alive: Any) -> None:
        """Wait until the HTTP server answers (it starts before integrations)."""
        loop = asyncio.get_running_loop()
        while loop.time() < deadline:
            if not alive():
                raise HomeAssistantError("Home Assistant exited while starting")
            try:
                # 401: the API answers, it just wants a token.
                async with self.session.get(f"{self.base}/api/") as response:
                    if response.status == 401:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(1)
        raise HomeAssistantError("Home Assistant did not start in time")

    async def async_onboard(self) -> bool:
        """Create the documented user and finish every onboarding step.

        Returns False when onboarding was already done (a reused config).
        """
        async with self.session.get(f"{self.base}/api/onboarding") as response:
            if response.status == 404:  # onboarded: its views are gone
                return False
            response.raise_for_status()
            steps = await response.json()
        done = {step["step"] for step in steps if step["done"]}
        if "user" in done:
            return False
        created = await self._json(
            "POST",
            "/api/onboarding/users",
            json={
                "client_id": self.client_id,
                "name": "Developer",
                "username": USERNAME,
                "password": PASSWORD,
                "language": "en",
            },
        )
        await self._exchange_code(created["auth_code"])
        for step in ("core_config", "analytics"):
            if step not in done:
                await self._json("POST", f"/api/onboarding/{step}", json={})
        if "integration" not in done:
            await self._json(
                "POST",
                "/api/onboarding/integration",
                json={"client_id": self.client_id, "redirect_uri": self.client_id},
            )
        return True

    async def async_login(self) -> None:
        """Log in with the documented user through the login flow."""
        flow = await self._json(
            "POST",
            "/auth/login_flow",
            json={
                "client_id": self.client_id,
                "handler": ["homeassistant", None],
                "redirect_uri": self.client_id,
            },
        )
        result = await self._json(
            "POST",
            f"/auth/login_flow/{flow['flow_id']}",
            json={
                "client_id": self.client_id,
                "username": USERNAME,
                "password": PASSWORD,
            },
        )
        if result.get("type") != "create_entry":
            raise HomeAssistantError(f"login refused: {result}")
        await self._exchange_code(result["result"])

    async def _exchange_code(self, code: str) -> None:
        self.token = None
        tokens = await self._json(
            "POST",
            "/auth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": self.client_id,
            },
        )
        self.token = tokens["access_token"]

    async def async_wait_until_running(self, deadline: float) -> None:
        """Wait until startup is complete (the forwarder view answers 503 before)."""
        loop = asyncio.get_running_loop()
        while loop.time() < deadline:
            config = await self._json("GET", "/api/config")
            if config.get("state") == "RUNNING":
                return
            await asyncio.sleep(1)
        raise HomeAssistantError("Home Assistant did not finish starting in time")

    async def async_entries(self) -> list[dict[str, Any]]:
        """List the 1NCE config entries."""
        entries: list[dict[str, Any]] = await self._json(
            "GET", f"/api/config/config_entries/entry?domain={DOMAIN}"
        )
        return entries

    async def async_remove_onboarding_extras(self) -> list[str]:
        """Remove what onboarding adds unasked (weather, radio, TTS, shopping list).

        Their packages are not in the test venv, so they would only sit there
        failing; a development instance for 1NCE needs none of them.
        """
        removed = []
        entries = await self._json("GET", "/api/config/config_entries/entry")
        for entry in entries:
            if entry["domain"] in ONBOARDING_EXTRAS:
                await self.async_remove_entry(entry["entry_id"])
                removed.append(entry["domain"])
        return removed

    async def async_remove_entry(self, entry_id: str) -> None:
        """Remove an entry (one that points at another sandbox)."""
        await self._json("DELETE", f"/api/config/config_entries/entry/{entry_id}")

    async def async_add_entry(
        self, client_id: str, client_secret: str, api_url: str
    ) -> dict[str, Any]:
        """Go through the config flow exactly as the UI does; return its result."""
        form = await self._json(
            "POST",
            "/api/config/config_entries/flow",
            json={"handler": DOMAIN, "show_advanced_options": False},
        )
        if form.get("type") != "form":
            raise HomeAssistantError(f"config flow did not show a form: {form}")
        result: dict[str, Any] = await self._json(
            "POST",
            f"/api/config/config_entries/flow/{form['flow_id']}",
            json={
                "client_id": client_id,
                "client_secret": client_secret,
                "advanced": {"api_url": api_url},
            },
        )
        if result.get("type") != "create_entry":
            raise HomeAssistantError(f"config flow did not create the entry: {result}")
        return result

    async def async_api(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call any of Home Assistant's REST API (`/api/...`); return its JSON."""
        return await self._json(method, path, **kwargs)

    async def async_call(self, domain: str, service: str, data: dict[str, Any]) -> Any:
        """Call an action and return its response."""
        return await self._json(
            "POST",
            f"/api/services/{domain}/{service}?return_response",
            json=data,
        )

    async def async_states(self) -> dict[str, dict[str, Any]]:
        """Every entity's state, by entity id."""
        states = await self._json("GET", "/api/states")
        return {state["entity_id"]: state for state in states}

    @asynccontextmanager
    async def websocket(self) -> AsyncIterator[Websocket]:
        """Open an authenticated websocket connection."""
        url = self.base.replace("http", "ws", 1) + "/api/websocket"
        async with self.session.ws_connect(url) as socket:
            await socket.receive_json()  # auth_required
            await socket.send_json({"type": "auth", "access_token": self.token})
            reply = await socket.receive_json()
            if reply.get("type") != "auth_ok":
                raise HomeAssistantError(f"websocket auth failed: {reply}")
            yield Websocket(socket)


class Websocket:
    """Commands and event subscriptions over one websocket."""

    def __init__(self, socket: aiohttp.ClientWebSocketResponse) -> None:
        """Start reading; commands are numbered from 1, events collected."""
        self._socket = socket
        self._ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._new_event = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        async for message in self._socket:
            if message.type is not aiohttp.WSMsgType.TEXT:
                break
            data = message.json()
            if data.get("type") == "event":
                self.events.append(data["event"])
                self._new_event.set()
            elif (future := self._waiting.pop(data.get("id"), None)) is not None:
                future.set_result(data)

    async def command(self, **message: Any) -> Any:
        """Send one command and return its result."""
        message_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[message_id] = future
        await self._socket.send_json({"id": message_id, **message})
        reply = await asyncio.wait_for(future, 30)
        if not reply.get("success"):
            raise HomeAssistantError(f"{message.get('type')}: {reply.get('error')}")
        return reply.get("result")

    async def wait_for_event(
        self, event_type: str, match: Any, within: float
    ) -> dict[str, Any]:
        """Wait for an event of a type whose data satisfies `match`."""
        async with asyncio.timeout(within):
            while True:
                for event in self.events:
                    if event["event_type"] == event_type and match(event["data"]):
                        return event
                self._new_event.clear()
                await self._new_event.wait()

    async def close(self) -> None:
        """Stop reading."""
        self._reader.cancel()


def _stored_data(config_dir: Path, entry_id: str) -> dict[str, Any]:
    """Read an entry's data as Home Assistant stored it ({} if not (yet) there)."""
    path = config_dir / ".storage" / "core.config_entries"
    if not path.exists():
        return {}
    stored = json.loads(path.read_text(encoding="utf-8"))
    for entry in stored["data"]["entries"]:
        if entry["entry_id"] == entry_id:
            data: dict[str, Any] = entry["data"]
            return data
    return {}


def forwarder_secret(config_dir: Path, entry_id: str) -> str | None:
    """Read an entry's forwarder secret from Home Assistant's storage.

    Only for an entry from an earlier run: a new entry's flow result already
    names its forwarder URL, whose last segment is the secret.
    """
    secret = _stored_data(config_dir, entry_id).get("forwarder_secret")
    return str(secret) if secret else None


def streamer_credential(config_dir: Path, entry_id: str) -> str | None:
    """Read an entry's Data Streamer credential (the Portal's "Basic Auth Header").

    Only for an entry from an earlier run (a new entry's flow result shows
    it): base64 of `one_nce:<password>`, the password kept in the entry's
    data. An entry of a release before the Data Streamer gets its password
    when it first loads, so it may take a moment to appear.
    """
    password = _stored_data(config_dir, entry_id).get("streamer_password")
    if not password:
        return None
    return base64.b64encode(f"{STREAMER_USERNAME}:{password}".encode()).decode()


def stored_api_url(config_dir: Path, entry_id: str) -> str | None:
    """Read the API URL an existing entry uses."""
    url = _stored_data(config_dir, entry_id).get("api_url")
    return str(url) if url else None
