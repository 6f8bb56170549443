"""Binary sensor: a SIM is running low on SMS volume.

It is the entity to automate on (notify before a SIM goes silent), so it uses
the user's threshold from the options rather than 1NCE's fixed 20 %.
"""

from __future__ import annotations

from homeassistant.components.binary_sensor import (
    BinarySensorEntity,
    BinarySensorEntityDescription,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .api import QuotaLevel
from .compat import BinarySensorDeviceClass
from .coordinator import OneNceConfigEntry
from .entity import OneNceSimEntity, async_add_sim_entities

# Read-only: the coordinators fetch, entities only read what they hold.
PARALLEL_UPDATES = 0

SMS_VOLUME_LOW = BinarySensorEntityDescription(
    key="sms_volume_low",
    device_class=BinarySensorDeviceClass.PROBLEM,
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OneNceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the sensor for every SIM, including SIMs the list shows later."""
    async_add_sim_entities(
        entry,
        async_add_entities,
        lambda sim: [OneNceSmsVolumeLowSensor(entry, sim, SMS_VOLUME_LOW)],
    )


class OneNceSmsVolumeLowSensor(OneNceSimEntity, BinarySensorEntity):
    """On when the SIM's SMS volume is below the threshold or used up."""

    _follows_details = True

    @property
    def is_on(self) -> bool | None:
        """Judge the volume as the quota state sensor and account counts do."""
        level = self.view.sms_level
        if level is None:
            return None
        return level is not QuotaLevel.SUFFICIENT
