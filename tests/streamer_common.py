"""Helpers for the Data Streamer's tests: records as 1NCE streams them, and a push."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.one_nce.const import (
    CONF_FORWARDER_SECRET,
    CONF_STREAMER_PASSWORD,
    STREAMER_PATH,
)
from homeassistant.util import dt as dt_util

from .conftest import load_json

NETWORK_EVENT = "event.garden_gate_network_event"


def streamer_path(entry: MockConfigEntry) -> str:
    """The path the entry's Data Streams are told to call."""
    return STREAMER_PATH.format(secret=entry.data[CONF_FORWARDER_SECRET])


def credential(entry: MockConfigEntry) -> str:
    """The Basic Auth Header the user pastes into the Portal."""
    return base64.b64encode(
        f"one_nce:{entry.data[CONF_STREAMER_PASSWORD]}".encode()
    ).decode()


def _iso(moment: datetime) -> str:
    return moment.astimezone(dt_util.UTC).isoformat().replace("+00:00", "Z")


def data_usage(record_id: int, mib: float = 1.5, **changes: Any) -> dict[str, Any]:
    """A data usage slice of the garden gate's SIM."""
    body: dict[str, Any] = load_json("streamer_usage_data.json")
    body.update(id=record_id, volume={"total": mib, "rx": mib * 2 / 3, "tx": mib / 3})
    body.update(changes)
    return body


def sms_usage(record_id: int, **changes: Any) -> dict[str, Any]:
    """The usage record of one SMS the garden gate sent."""
    body: dict[str, Any] = load_json("streamer_usage_sms.json")
    body.update(id=record_id, **changes)
    return body


def pdp_event(
    record_id: int, at: datetime | None = None, **changes: Any
) -> dict[str, Any]:
    """A 'Create PDP Context' event of the garden gate, now unless `at`."""
    body: dict[str, Any] = load_json("streamer_event_pdp.json")
    body.update(id=record_id, timestamp=_iso(at or dt_util.utcnow()), **changes)
    return body


def quota_event(record_id: int, at: datetime | None = None) -> dict[str, Any]:
    """A 'Quota used up' event of the garden gate."""
    body: dict[str, Any] = load_json("streamer_event_quota.json")
    body.update(id=record_id, timestamp=_iso(at or dt_util.utcnow()))
    return body


def an_hour_ago(minutes: int = 61) -> datetime:
    """A moment `minutes` ago (history once it is over an hour)."""
    return dt_util.utcnow() - timedelta(minutes=minutes)


async def stream(
    client: TestClient,
    entry: MockConfigEntry,
    records: Any,
    *,
    authorization: str | None = "basic",
) -> ClientResponse:
    """POST a batch as the Data Streamer does ("basic": with the Basic prefix)."""
    headers: dict[str, str] = {}
    if authorization == "basic":
        headers["Authorization"] = f"Basic {credential(entry)}"
    elif authorization == "bare":
        headers["Authorization"] = credential(entry)
    elif authorization is not None:
        headers["Authorization"] = authorization
    return await client.post(
        streamer_path(entry), json=records, headers=headers, allow_redirects=False
    )
