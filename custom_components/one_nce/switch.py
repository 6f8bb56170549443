"""Switch: enable or disable a SIM (a disabled SIM has no data and no SMS)."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity, SwitchEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import OneNceError
from .const import DOMAIN
from .coordinator import OneNceConfigEntry
from .entity import OneNceSimEntity, async_add_sim_entities

# One change at a time: each is a full rewrite of a SIM record at 1NCE.
PARALLEL_UPDATES = 1

SIM_ENABLED = SwitchEntityDescription(key="sim_enabled")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OneNceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the switch for every SIM, including SIMs the list shows later."""
    async_add_sim_entities(
        entry,
        async_add_entities,
        lambda sim: [OneNceSimEnabledSwitch(entry, sim, SIM_ENABLED)],
    )


class OneNceSimEnabledSwitch(OneNceSimEntity, SwitchEntity):
    """Whether the SIM may use the network."""

    @property
    def is_on(self) -> bool:
        """On while 1NCE lists the SIM as enabled."""
        return self.sim.enabled

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Enable the SIM."""
        await self._async_set_enabled(True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Disable the SIM."""
        await self._async_set_enabled(False)

    async def _async_set_enabled(self, enabled: bool) -> None:
        """Send the change, keeping label and IMEI lock, then reread the list.

        1NCE replaces the whole record, so whatever we leave out is lost.
        """
        sim = self.sim
        try:
            await self.entry.runtime_data.client.async_update_sim(
                sim.iccid, enabled=enabled, label=sim.label, imei_lock=sim.imei_lock
            )
        except OneNceError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="sim_update_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        await self.coordinator.async_request_refresh()
