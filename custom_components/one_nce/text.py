"""Text: a SIM's label, the name the 1NCE Portal shows for it.

The label also names the SIM's device; a new label renames the device at the
list read right after the change, and a name the user gave the device in Home
Assistant stays in front of it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from homeassistant.components.text import TextEntity, TextEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import OneNceConfigEntry
from .entity import OneNceSimEntity, async_add_sim_entities

# One change at a time: each is a full rewrite of a SIM record at 1NCE.
PARALLEL_UPDATES = 1

# 1NCE documents no maximum; this is the most a Home Assistant state holds. A
# label 1NCE finds too long is refused with its own message.
LABEL_MAX_LENGTH: Final = 255

LABEL = TextEntityDescription(
    key="label",
    entity_category=EntityCategory.CONFIG,
    native_min=0,
    native_max=LABEL_MAX_LENGTH,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OneNceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the label of every SIM, including SIMs the list shows later."""
    async_add_sim_entities(
        entry, async_add_entities, lambda sim: [OneNceSimLabel(entry, sim, LABEL)]
    )


class OneNceSimLabel(OneNceSimEntity, TextEntity):
    """The SIM's label; empty while it has none."""

    @property
    def native_value(self) -> str:
        """The label as the SIM list shows it."""
        return self.sim.label or ""

    async def async_set_value(self, value: str) -> None:
        """Relabel the SIM at 1NCE, keeping its status and IMEI lock."""
        label = value.strip()
        if label == self.native_value:
            return
        await self.async_write_sim(lambda sim: replace(sim, label=label))
