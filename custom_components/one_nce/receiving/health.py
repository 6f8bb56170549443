"""How pushes to Home Assistant have been doing: counts and the last request's time.

A forwarder that stopped calling looks exactly like a quiet fleet, so the
account device shows when 1NCE last called and how its requests went (the
sensors live in `sensor.py`; this module only counts). The counts start at
zero whenever the entry loads.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from homeassistant.core import CALLBACK_TYPE, callback
from homeassistant.util import dt as dt_util


class Outcome(StrEnum):
    """How a pushed request was answered."""

    RECEIVED = "received"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"


@dataclass(slots=True, kw_only=True)
class PushHealth:
    """What every push endpoint's counts share: the sensors that follow them."""

    _listeners: list[Callable[[], None]] = field(default_factory=list)

    @callback
    def changed(self) -> None:
        """Tell the sensors."""
        for listener in self._listeners:
            listener()

    @callback
    def async_add_listener(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call `listener` after every request, until the returned callback."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)


@dataclass(slots=True)
class ForwarderHealth(PushHealth):
    """Counts of the forwarder's requests since the entry loaded."""

    received: int = 0
    duplicates: int = 0
    rejected: int = 0
    last_request: datetime | None = None

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
        self.changed()

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
