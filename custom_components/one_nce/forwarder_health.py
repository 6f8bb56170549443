"""How the SMS forwarder has been doing: counts and the time of its last request.

A forwarder that stopped calling looks exactly like a quiet fleet, so the
account device shows when 1NCE last called and how its requests went. The
counts start at zero whenever the entry loads (they are `total_increasing`,
which long-term statistics expect to reset).

Under load the forwarder answers thousands of requests a second; the sensors
write their state at most every few seconds rather than once per request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import EntityCategory
from homeassistant.core import CALLBACK_TYPE, HassJob, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .coordinator import OneNceConfigEntry
from .entity import account_device_info

WRITE_INTERVAL: Final = timedelta(seconds=5)


class Outcome(StrEnum):
    """How the forwarder's request was answered."""

    RECEIVED = "received"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(slots=True)
class ForwarderHealth:
    """Counts of the forwarder's requests since the entry loaded."""

    received: int = 0
    duplicates: int = 0
    rejected: int = 0
    last_request: datetime | None = None
    _listeners: list[Callable[[], None]] = field(default_factory=list)

    @callback
    def record(self, outcome: Outcome) -> None:
        """Count one answered request."""
        self.last_request = dt_util.utcnow()
        if outcome is Outcome.RECEIVED:
            self.received += 1
        elif outcome is Outcome.DUPLICATE:
            self.duplicates += 1
        else:
            self.rejected += 1
        for listener in self._listeners:
            listener()

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call `listener` after every request, until the returned callback."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def as_dict(self) -> dict[str, Any]:
        """Return the counts for diagnostics."""
        return {
            "received": self.received,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "last_request": self.last_request.isoformat()
            if self.last_request
            else None,
        }


@dataclass(frozen=True, kw_only=True)
class ForwarderHealthSensorEntityDescription(SensorEntityDescription):
    """A sensor read from the forwarder's health."""

    value_fn: Callable[[ForwarderHealth], StateType | datetime]


HEALTH_SENSORS: tuple[ForwarderHealthSensorEntityDescription, ...] = (
    ForwarderHealthSensorEntityDescription(
        key="forwarder_last_request",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda health: health.last_request,
    ),
    ForwarderHealthSensorEntityDescription(
        key="forwarder_received",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda health: health.received,
    ),
    ForwarderHealthSensorEntityDescription(
        key="forwarder_duplicates",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda health: health.duplicates,
    ),
    ForwarderHealthSensorEntityDescription(
        key="forwarder_rejected",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda health: health.rejected,
    ),
)


class ForwarderHealthSensor(SensorEntity):
    """A count or time of the forwarder's requests, on the account device."""

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description: ForwarderHealthSensorEntityDescription

    def __init__(
        self,
        entry: OneNceConfigEntry,
        health: ForwarderHealth,
        description: ForwarderHealthSensorEntityDescription,
    ) -> None:
        """Attach to the account device."""
        self.entity_description = description
        self._health = health
        self._attr_translation_key = description.key
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        self._attr_device_info = account_device_info(entry)
        self._last_write = 0.0
        self._cancel_write: CALLBACK_TYPE | None = None

    @property
    def native_value(self) -> StateType | datetime:
        """Read the value from the counts."""
        return self.entity_description.value_fn(self._health)

    async def async_added_to_hass(self) -> None:
        """Follow the counts."""
        await super().async_added_to_hass()
        self.async_on_remove(self._health.async_add_listener(self._health_changed))
        self.async_on_remove(self._cancel_pending_write)

    @callback
    def _health_changed(self) -> None:
        """Write now if the last write is old enough, else once it is."""
        if self._cancel_write is not None:
            return
        wait = self._last_write + WRITE_INTERVAL.total_seconds() - self.hass.loop.time()
        if wait <= 0:
            self._write()
            return
        self._cancel_write = async_call_later(
            self.hass, wait, HassJob(self._write_later, cancel_on_shutdown=True)
        )

    @callback
    def _write_later(self, _now: datetime) -> None:
        self._cancel_write = None
        self._write()

    @callback
    def _write(self) -> None:
        self._last_write = self.hass.loop.time()
        self.async_write_ha_state()

    @callback
    def _cancel_pending_write(self) -> None:
        if self._cancel_write is not None:
            self._cancel_write()
            self._cancel_write = None
