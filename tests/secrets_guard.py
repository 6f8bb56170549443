"""A pytest plugin: no test may log a credential, a token or a forwarder secret.

Every test runs with the loggers that could carry one at debug level (ours,
Home Assistant's, aiohttp's) and a handler of its own on the root logger, so
that a test's own `caplog.clear()` cannot hide anything. At teardown the
records are searched, message, traceback and stack alike, for:

- credentials and tokens the tests use: module-level `*_SECRET` and
  `*_ACCESS_TOKEN` strings of the test modules, and every `access_token` of
  the JSON fixtures;
- what the test's Home Assistant holds: every 1NCE entry's client secret,
  forwarder secret, Data Streamer password and credential and cloudhook
  address, and the access token its client got;
- every forwarder secret and Data Streamer password minted during the test,
  even for an entry since removed; a password also as the Basic credential
  (base64 of `one_nce:password`) the Portal is given.

The one allowance: Home Assistant's HTTP layer logs the path it serves
(`homeassistant.helpers.http` at debug, `aiohttp.access` at info), and the
forwarder secret is the last segment of our path. That is Home Assistant's
logging, not ours, and it is off unless a user raises those loggers (Home
Assistant sets `aiohttp.access` to warning at start); webhook ids, secrets of
the same kind, are logged the same way. So the forwarder secret is allowed in
those two loggers and nowhere else; credentials and tokens nowhere at all.

Load it with `pytest_plugins = ["tests.secrets_guard"]` in tests/conftest.py
(or `-p tests.secrets_guard`).
"""

from __future__ import annotations

import base64
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
import functools
import json
import logging
from pathlib import Path
import sys
from typing import Any, Final

import pytest

TESTS: Final = Path(__file__).parent
# Loggers raised to debug for every test; their children follow. Home
# Assistant's event bus is left as it is: at debug it logs every event and
# state change, which is our event data and never a secret, and it slows a test
# enough to upset the real-time rate limit tests.
WATCHED_LOGGERS: Final = {
    "custom_components.one_nce": logging.DEBUG,
    "homeassistant": logging.DEBUG,
    "homeassistant.core": logging.INFO,
    "aiohttp": logging.DEBUG,
}
# Home Assistant's own logs of the request path (see the module docstring).
PATH_LOGGERS: Final = frozenset({"aiohttp.access", "homeassistant.helpers.http"})
# Shorter strings would match by accident; no real secret is this short.
MIN_SECRET_LENGTH: Final = 8

DOMAIN: Final = "one_nce"
CONF_CLIENT_SECRET: Final = "client_secret"
CONF_FORWARDER_SECRET: Final = "forwarder_secret"
CONF_CLOUDHOOK_URL: Final = "cloudhook_url"
CONF_STREAMER_PASSWORD: Final = "streamer_password"
STREAMER_USERNAME: Final = "one_nce"


def streamer_secrets(password: str) -> list[Secret]:
    """The Data Streamer's password and the Basic credential made of it."""
    credential = base64.b64encode(f"{STREAMER_USERNAME}:{password}".encode())
    return [
        Secret(password, "Data Streamer password"),
        Secret(credential.decode(), "Data Streamer credential"),
    ]


@dataclass(frozen=True, slots=True)
class Secret:
    """A value that must not be logged, and what it is (for the failure message)."""

    value: str
    kind: str
    path_segment: bool = False
    """A secret that is part of our URL path, which HA's path loggers may log."""


@dataclass(frozen=True, slots=True)
class Leak:
    """A log record that gave a secret away."""

    logger: str
    level: str
    kind: str

    def __str__(self) -> str:
        return f"{self.kind} in a record of {self.logger} at {self.level}"


class _Collector(logging.Handler):
    """Keeps every record it sees, whatever `caplog` does with its own."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _record_text(record: logging.LogRecord) -> str:
    """Everything a log line could show of the record."""
    try:
        message = record.getMessage()
    except Exception:  # a broken record still shows its parts
        message = f"{record.msg!r} {record.args!r}"
    parts = [message]
    if record.exc_info and record.exc_info[0] is not None:
        parts.append(logging.Formatter().formatException(record.exc_info))
    if record.exc_text:
        parts.append(record.exc_text)
    if record.stack_info:
        parts.append(record.stack_info)
    return "\n".join(parts)


def find_leaks(
    records: Iterable[logging.LogRecord], secrets: Iterable[Secret]
) -> list[Leak]:
    """Return every record that shows a secret it may not show."""
    # A value known both as a path segment and otherwise is a path segment.
    merged: dict[str, Secret] = {}
    for secret in secrets:
        if len(secret.value) < MIN_SECRET_LENGTH:
            continue
        known = merged.get(secret.value)
        if known is None or (secret.path_segment and not known.path_segment):
            merged[secret.value] = secret
    wanted = list(merged.values())
    leaks: list[Leak] = []
    for record in records:
        text = _record_text(record)
        for secret in wanted:
            if secret.value not in text:
                continue
            if secret.path_segment and record.name in PATH_LOGGERS:
                continue
            leaks.append(Leak(record.name, record.levelname, secret.kind))
    return leaks


def _access_tokens(data: Any) -> Iterator[str]:
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "access_token" and isinstance(value, str):
                yield value
            else:
                yield from _access_tokens(value)
    elif isinstance(data, list):
        for item in data:
            yield from _access_tokens(item)


@functools.cache
def fixture_secrets() -> tuple[Secret, ...]:
    """Every access token in the JSON fixtures, read once per session."""
    found: list[Secret] = []
    for path in sorted(TESTS.rglob("fixtures/**/*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        found.extend(Secret(token, "access token") for token in _access_tokens(data))
    return tuple(found)


def module_secrets() -> list[Secret]:
    """Credentials the loaded test modules define as constants."""
    found: list[Secret] = []
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "tests" or name.startswith("tests.")):
            continue
        for attribute, value in list(vars(module).items()):
            if (
                isinstance(value, str)
                and attribute.isupper()
                and not attribute.startswith("CONF_")
                and attribute.endswith(("_SECRET", "_ACCESS_TOKEN"))
            ):
                found.append(Secret(value, f"{name}.{attribute}"))
    return found


def hass_secrets(hass: Any) -> list[Secret]:
    """What a test's Home Assistant holds for 1NCE entries."""
    found: list[Secret] = []
    try:
        entries = hass.config_entries.async_entries(DOMAIN)
    except AttributeError:
        return found
    for entry in entries:
        data = entry.data
        if isinstance(value := data.get(CONF_CLIENT_SECRET), str):
            found.append(Secret(value, "client secret of an entry"))
        if isinstance(value := data.get(CONF_FORWARDER_SECRET), str):
            found.append(Secret(value, "forwarder secret", path_segment=True))
        if isinstance(value := data.get(CONF_STREAMER_PASSWORD), str):
            found.extend(streamer_secrets(value))
        if isinstance(value := data.get(CONF_CLOUDHOOK_URL), str):
            found.append(Secret(value.rsplit("/", 1)[-1], "cloudhook address"))
        runtime = getattr(entry, "runtime_data", None)
        token_info = getattr(getattr(runtime, "client", None), "token_info", None)
        if isinstance(token := getattr(token_info, "access_token", None), str):
            found.append(Secret(token, "access token of an entry's client"))
    return found


def _record_minted_secrets(
    monkeypatch: pytest.MonkeyPatch, minted: list[str], passwords: list[str]
) -> None:
    """Note every forwarder secret and streamer password the integration makes."""
    try:
        import custom_components.one_nce as integration  # noqa: PLC0415
        from custom_components.one_nce import config_flow  # noqa: PLC0415
        from custom_components.one_nce.receiving import (  # noqa: PLC0415
            address,
            credential,
        )
    except ImportError:  # not this project's tests
        return
    mint = address.new_secret
    mint_password = credential.new_streamer_password

    def recording_new_secret() -> str:
        secret: str = mint()
        minted.append(secret)
        return secret

    def recording_new_password() -> str:
        password: str = mint_password()
        passwords.append(password)
        return password

    for module in (address, config_flow):
        monkeypatch.setattr(module, "new_secret", recording_new_secret)
    for module in (integration, config_flow):
        monkeypatch.setattr(module, "new_streamer_password", recording_new_password)


@pytest.fixture(autouse=True)
def secrets_guard(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Generator[None]:
    """Fail the test if any record logged during it shows a secret."""
    minted: list[str] = []
    passwords: list[str] = []
    _record_minted_secrets(monkeypatch, minted, passwords)

    collector = _Collector()
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in WATCHED_LOGGERS}
    for name, level in WATCHED_LOGGERS.items():
        logging.getLogger(name).setLevel(level)
    root.addHandler(collector)
    try:
        yield
    finally:
        root.removeHandler(collector)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)

    secrets = [
        *fixture_secrets(),
        *module_secrets(),
        *hass_secrets(request.node.funcargs.get("hass")),
        *(Secret(value, "forwarder secret", path_segment=True) for value in minted),
        *(secret for value in passwords for secret in streamer_secrets(value)),
    ]
    if leaks := find_leaks(collector.records, secrets):
        pytest.fail(
            "Secrets in the log: " + "; ".join(sorted({str(leak) for leak in leaks})),
            pytrace=False,
        )
