"""Notify: an SMS to a SIM is a notification, so `notify.send_message` can wake it.

The checks, splitting and error messages are those of the `one_nce.send_sms`
action (`sending.py`); this entity only adapts the notify interface to them.
"""

from __future__ import annotations

from homeassistant.components.notify import NotifyEntity, NotifyEntityDescription
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import OneNceConfigEntry
from .entity import OneNceSimEntity, async_add_sim_entities
from .sending import OutgoingSms, async_send_sms

# Sends are independent POSTs; the client's limiter already paces them.
PARALLEL_UPDATES = 0

SMS = NotifyEntityDescription(key="sms")


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OneNceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add an SMS notifier for every SIM, including SIMs the list shows later."""
    async_add_sim_entities(
        entry, async_add_entities, lambda sim: [OneNceSmsNotify(entry, sim, SMS)]
    )


class OneNceSmsNotify(OneNceSimEntity, NotifyEntity):
    """Send the message as an SMS to this SIM (split when it is long).

    Failures raise the same translated errors as the action; they are never
    only logged, so an automation sees them.
    """

    async def async_send_message(self, message: str, title: str | None = None) -> None:
        """Send `message`; SMS has no title, so a title is not offered."""
        await async_send_sms(self.entry, self.iccid, OutgoingSms(message=message))
