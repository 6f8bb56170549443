"""What one loaded entry needs to receive pushed messages, opened and closed with it.

The forwarder's view and webhooks are registered once for the whole domain
and outlive every entry; at request time they find the entry's receiver in
its runtime data, there only while it is loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from pathlib import Path

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryNotReady
from homeassistant.helpers.storage import STORAGE_DIR
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator

from ..api import OneNceClient, Sim
from ..const import DOMAIN
from .announce import Announcer
from .health import ForwarderHealth
from .inbox import Inbox
from .membership import SimMembership
from .records import RecordStore
from .streamer import Streamer


@dataclass(slots=True, kw_only=True)
class Receiver:
    """One loaded account's inbox, SIM check and request counts."""

    inbox: Inbox
    membership: SimMembership
    health: ForwarderHealth
    streamer: Streamer

    async def async_close(self) -> None:
        """Stop taking messages in; what is stored stays for the next load."""
        await self.streamer.records.async_close()
        await self.inbox.async_close()


def inbox_path(hass: HomeAssistant, entry_id: str) -> Path:
    """Where an entry's inbox journal lives (in `.storage`, beside HA's own)."""
    return Path(hass.config.path(STORAGE_DIR, f"{DOMAIN}.{entry_id}.inbox"))


def records_path(hass: HomeAssistant, entry_id: str) -> Path:
    """Where an entry's Data Streamer record ids live."""
    return Path(hass.config.path(STORAGE_DIR, f"{DOMAIN}.{entry_id}.streamer"))


async def async_open_receiver(
    hass: HomeAssistant,
    entry: ConfigEntry,
    fleet: DataUpdateCoordinator[dict[str, Sim]],
    client: OneNceClient,
) -> Receiver:
    """Load the entry's inbox and make it ready to take messages in.

    If a step fails, what was opened is closed again (timers, files), and
    a file that cannot be read (`OSError`) leaves the entry retrying.
    """
    announcer = Announcer(hass, entry.entry_id)
    inbox = Inbox(
        hass,
        inbox_path(hass, entry.entry_id),
        on_message=announcer.sms_received,
        on_report=announcer.delivery_report,
    )
    membership = SimMembership(hass, entry, fleet, client)
    receiver = Receiver(
        inbox=inbox,
        membership=membership,
        health=ForwarderHealth(),
        streamer=Streamer(
            hass,
            records=RecordStore(hass, records_path(hass, entry.entry_id)),
            inbox=inbox,
            membership=membership,
            announcer=announcer,
        ),
    )
    try:
        await inbox.async_load()
        await receiver.streamer.records.async_load()
    except Exception as err:
        await receiver.async_close()
        if isinstance(err, OSError):
            raise ConfigEntryNotReady(
                translation_domain=DOMAIN,
                translation_key="receiver_not_opened",
                translation_placeholders={"error": str(err)},
            ) from err
        raise
    return receiver


async def async_remove_inbox(hass: HomeAssistant, entry_id: str) -> None:
    """Delete a removed entry's stored messages and record ids (and half-written copies)."""
    for path in (inbox_path(hass, entry_id), records_path(hass, entry_id)):
        for leftover in (path, path.with_name(f"{path.name}.new")):
            await hass.async_add_executor_job(partial(leftover.unlink, missing_ok=True))
