"""Event entities: each SIM's incoming SMS and the delivery of SMS sent to it.

The bus events (`one_nce_sms_received`, `one_nce_delivery_report`) serve
automations about any SIM; these entities put the same messages on the SIM's
device page, where the automation editor offers them as triggers. They carry
the event's data as attributes, except the device id they belong to anyway.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from homeassistant.components.event import EventEntity, EventEntityDescription
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util

from .api import Sim
from .api.records import NetworkEvent
from .coordinator import OneNceConfigEntry
from .entity import OneNceSimEntity, async_add_sim_entities
from .receiving.announce import (
    DELIVERY_EVENT_TYPES,
    EVENT_TYPE_RECEIVED,
    NETWORK_EVENT_TYPES,
    network_event_data,
    network_event_signal,
    report_signal,
    sms_signal,
)

# Nothing to fetch: entities only pass on what the dispatcher brings.
PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class OneNceEventEntityDescription(EventEntityDescription):
    """An event entity fed by one dispatcher signal per SIM."""

    signal_fn: Callable[[str, str], str]
    """(entry id, ICCID) -> signal."""
    event_type_fn: Callable[[Mapping[str, Any]], str]


EVENTS: tuple[OneNceEventEntityDescription, ...] = (
    OneNceEventEntityDescription(
        key="incoming_sms",
        event_types=[EVENT_TYPE_RECEIVED],
        signal_fn=sms_signal,
        event_type_fn=lambda _data: EVENT_TYPE_RECEIVED,
    ),
    OneNceEventEntityDescription(
        key="sms_delivery",
        event_types=DELIVERY_EVENT_TYPES,
        signal_fn=report_signal,
        event_type_fn=lambda data: str(data["status"]),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OneNceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add every SIM's event entities, and those of SIMs the list shows later."""

    def entities_for(sim: Sim) -> list[EventEntity]:
        return [
            *(OneNceSimEvent(entry, sim, description) for description in EVENTS),
            OneNceNetworkEvent(entry, sim, NETWORK_EVENT),
        ]

    async_add_sim_entities(entry, async_add_entities, entities_for)


class OneNceSimEvent(OneNceSimEntity, EventEntity):
    """A SIM's SMS or delivery events."""

    entity_description: OneNceEventEntityDescription

    @property
    def available(self) -> bool:
        """Available while the SIM is on the last list 1NCE gave.

        Pushed messages do not depend on polling, so a failed poll of the
        SIM list does not make these entities unavailable.
        """
        return self.iccid in (self.coordinator.data or {})

    async def async_added_to_hass(self) -> None:
        """Listen to this SIM's messages."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                self.entity_description.signal_fn(self.entry.entry_id, self.iccid),
                self._handle_message,
            )
        )

    @callback
    def _handle_message(self, data: Mapping[str, Any]) -> None:
        self._trigger_event(
            self.entity_description.event_type_fn(data),
            {key: value for key, value in data.items() if key != "device_id"},
        )
        self.async_write_ha_state()


NETWORK_EVENT = EventEntityDescription(
    key="network_event", event_types=NETWORK_EVENT_TYPES
)
# What a network event's entity shows besides its type (the rest is in the
# bus event `one_nce_network_event`).
_NETWORK_ATTRIBUTES = (
    "timestamp",
    "description",
    "operator",
    "country",
    "rat",
    "alert",
)


class OneNceNetworkEvent(OneNceSimEntity, EventEntity):
    """A SIM's live network events, as the Data Streamer pushes them.

    1NCE's batches come in any order: the entity shows the newest event it
    heard of (by the event's own time, `timestamp`) and ignores one older
    than that. The bus event fires for each new event all the same.
    """

    _shown_at: datetime | None = None

    @property
    def available(self) -> bool:
        """Available while the SIM is on the last list 1NCE gave."""
        return self.iccid in (self.coordinator.data or {})

    async def async_added_to_hass(self) -> None:
        """Listen to this SIM's network events, after the one shown before."""
        await super().async_added_to_hass()
        if (last := await self.async_get_last_state()) is not None:
            shown = last.attributes.get("timestamp")
            if isinstance(shown, str):
                self._shown_at = dt_util.parse_datetime(shown)
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                network_event_signal(self.entry.entry_id, self.iccid),
                self._handle_event,
            )
        )

    @callback
    def _handle_event(self, event: NetworkEvent) -> None:
        if self._shown_at is not None and event.timestamp < self._shown_at:
            return
        self._shown_at = event.timestamp
        data = network_event_data(event)
        self._trigger_event(
            event.event_type.value,
            {key: data[key] for key in _NETWORK_ATTRIBUTES if key in data},
        )
        self.async_write_ha_state()
