"""A throw-away Home Assistant configuration directory wired to a sandbox.

The fault tests and the forwarder benchmark start a real `python -m
homeassistant` against a local 1NCE; both need the same directory: the
integration linked in, an empty frontend (the test environments lack its
files), one configured 1NCE entry and, beside it, a small component of their
own that watches from inside. Written as files, so nothing here imports Home
Assistant.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
from pathlib import Path
import socket

REPO = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True, kw_only=True)
class HelperComponent:
    """A custom component written next to the integration, to watch from inside."""

    domain: str
    name: str
    source: str
    dependencies: tuple[str, ...] = ("http",)


@dataclass(frozen=True, slots=True, kw_only=True)
class OneNceEntry:
    """The 1NCE config entry Home Assistant finds already set up."""

    entry_id: str
    title: str
    client_id: str
    client_secret: str
    api_url: str
    forwarder_secret: str
    streamer_password: str | None = None
    """The Data Streamer's password; None leaves it to the entry's migration."""


def write_config(
    config: Path,
    *,
    name: str,
    port: int,
    entry: OneNceEntry,
    helper: HelperComponent,
    repo: Path = REPO,
) -> None:
    """Write the configuration directory Home Assistant is started with.

    `repo` is the checkout whose integration runs, so that a benchmark can
    measure another revision with this one's tools.
    """
    components = config / "custom_components"
    components.mkdir(parents=True)
    (components / "one_nce").symlink_to(repo / "custom_components" / "one_nce")
    folder = components / helper.domain
    folder.mkdir()
    (folder / "__init__.py").write_text(helper.source)
    (folder / "manifest.json").write_text(
        json.dumps(
            {
                "domain": helper.domain,
                "name": helper.name,
                "codeowners": [],
                "dependencies": list(helper.dependencies),
                "documentation": "https://example.com",
                "requirements": [],
                "version": "0.0.1",
            }
        )
    )
    # Home Assistant will not start without its frontend, whose files the test
    # venv lacks: an empty development checkout of it is enough.
    frontend = config / "frontend_repo"
    for static in ("static", "frontend_latest", "frontend_es5"):
        (frontend / "hass_frontend" / static).mkdir(parents=True)
    (config / "configuration.yaml").write_text(
        "homeassistant:\n"
        f"  name: {name}\n"
        "  time_zone: UTC\n"
        "  external_url: https://one-nce.example.com\n"
        "http:\n"
        "  server_host: 127.0.0.1\n"
        f"  server_port: {port}\n"
        "frontend:\n"
        f"  development_repo: {frontend}\n"
        f"{helper.domain}:\n"
        "logger:\n"
        "  default: warning\n"
    )
    storage = config / ".storage"
    storage.mkdir()
    data = {
        "client_id": entry.client_id,
        "client_secret": entry.client_secret,
        "api_url": entry.api_url,
        "forwarder_secret": entry.forwarder_secret,
    }
    if entry.streamer_password is not None:
        # An entry of 1.2 has its Data Streamer credential (1.1 gets one made).
        data["streamer_password"] = entry.streamer_password
    stored = {
        "entry_id": entry.entry_id,
        "version": 1,
        "minor_version": 1 if entry.streamer_password is None else 2,
        "domain": "one_nce",
        "title": entry.title,
        "data": data,
        "options": {},
        "source": "user",
        "unique_id": entry.client_id,
        "disabled_by": None,
        "pref_disable_new_entities": False,
        "pref_disable_polling": False,
    }
    (storage / "core.config_entries").write_text(
        json.dumps(
            {
                "version": 1,
                "minor_version": 1,
                "key": "core.config_entries",
                "data": {"entries": [stored]},
            }
        )
    )
