"""What a loaded entry needs to receive pushed messages, and where to find it.

The forwarder view and webhook are registered once for the whole domain and
outlive every entry, so they look up the entry's receiver here at request
time: present only while the entry is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass

from homeassistant.core import HomeAssistant
from homeassistant.util.hass_dict import HassKey

from .const import DOMAIN
from .forwarder_health import ForwarderHealth
from .inbox import Inbox
from .membership import SimMembership


@dataclass(slots=True, kw_only=True)
class Receiver:
    """One loaded account's inbox, SIM check and request counts."""

    inbox: Inbox
    membership: SimMembership
    health: ForwarderHealth


DATA_RECEIVERS: HassKey[dict[str, Receiver]] = HassKey(f"{DOMAIN}_receivers")


def get_receiver(hass: HomeAssistant, entry_id: str) -> Receiver | None:
    """Return the entry's receiver while it is loaded."""
    return hass.data.get(DATA_RECEIVERS, {}).get(entry_id)
