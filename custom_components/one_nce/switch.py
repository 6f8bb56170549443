"""Switches: enable or disable a SIM, and lock it to its device's IMEI."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import Sim
from .coordinator import OneNceConfigEntry
from .entity import OneNceSimEntity, async_add_sim_entities

# One change at a time: each is a full rewrite of a SIM record at 1NCE.
PARALLEL_UPDATES = 1


@dataclass(frozen=True, kw_only=True)
class OneNceSimSwitchEntityDescription(SwitchEntityDescription):
    """A switch over one field of the SIM record."""

    value_fn: Callable[[Sim], bool]
    set_fn: Callable[[Sim, bool], Sim]


SWITCHES: tuple[OneNceSimSwitchEntityDescription, ...] = (
    # A disabled SIM has no data and no SMS.
    OneNceSimSwitchEntityDescription(
        key="sim_enabled",
        value_fn=lambda sim: sim.enabled,
        set_fn=lambda sim, on: replace(sim, enabled=on),
    ),
    # Warning: a locked SIM only works in the device whose IMEI 1NCE last saw;
    # moved to another device (a replacement modem, a spare), it stops working
    # until the lock is switched off again. Hence off by default, and in the
    # configuration category rather than among the controls.
    OneNceSimSwitchEntityDescription(
        key="imei_lock",
        entity_category=EntityCategory.CONFIG,
        entity_registry_enabled_default=False,
        value_fn=lambda sim: sim.imei_lock,
        set_fn=lambda sim, on: replace(sim, imei_lock=on),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OneNceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the switches of every SIM, including SIMs the list shows later."""
    async_add_sim_entities(
        entry,
        async_add_entities,
        lambda sim: [
            OneNceSimSwitch(entry, sim, description) for description in SWITCHES
        ],
    )


class OneNceSimSwitch(OneNceSimEntity, SwitchEntity):
    """A field of the SIM record that is on or off."""

    entity_description: OneNceSimSwitchEntityDescription

    @property
    def is_on(self) -> bool:
        """What the SIM list says."""
        return self.entity_description.value_fn(self.sim)

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Switch the field on at 1NCE, keeping the SIM's other fields."""
        await self._async_set(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Switch the field off at 1NCE, keeping the SIM's other fields."""
        await self._async_set(False)

    async def _async_set(self, on: bool) -> None:
        await self.async_write_sim(lambda sim: self.entity_description.set_fn(sim, on))
