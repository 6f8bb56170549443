"""Button: reset a SIM's network connection, the first remedy for a stuck device."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity, ButtonEntityDescription
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import OneNceError
from .const import DOMAIN
from .coordinator import OneNceConfigEntry
from .entity import OneNceSimEntity, async_add_sim_entities

# One reset at a time: each makes 1NCE detach a device from the network.
PARALLEL_UPDATES = 1

RESET_CONNECTION = ButtonEntityDescription(
    key="reset_connection",
    entity_category=EntityCategory.CONFIG,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OneNceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the button for every SIM, including SIMs the list shows later."""
    async_add_sim_entities(
        entry,
        async_add_entities,
        lambda sim: [OneNceResetConnectionButton(entry, sim, RESET_CONNECTION)],
    )


class OneNceResetConnectionButton(OneNceSimEntity, ButtonEntity):
    """Make the network drop the SIM's session so the device re-attaches."""

    async def async_press(self) -> None:
        """Queue the reset at 1NCE, then look at the SIM's status soon."""
        try:
            await self.entry.runtime_data.client.async_reset_connection(self.iccid)
        except OneNceError as err:
            raise HomeAssistantError(
                translation_domain=DOMAIN,
                translation_key="reset_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        self.entry.runtime_data.details.request_soon(self.iccid)
