"""Base entities, devices and the bookkeeping that follows the fleet.

Every SIM is a device under one service device for the account. The SIM list
decides which SIMs exist: a SIM that appears gets its entities without a
reload, and a SIM that leaves loses its device (and with it its entities).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.dispatcher import (
    async_dispatcher_connect,
    async_dispatcher_send,
)
from homeassistant.helpers.entity import Entity, EntityDescription
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .api import OneNceError, QuotaLevel, Sim
from .compat import below_device, remove_device
from .const import (
    CONF_SMS_LOW_THRESHOLD,
    DEFAULT_SMS_LOW_THRESHOLD,
    DOMAIN,
    MANUFACTURER,
)
from .coordinator import (
    DetailsCoordinator,
    FleetCoordinator,
    OneNceConfigEntry,
    SimDetails,
)
from .sms_volume import sms_level

PORTAL_URL = "https://portal.1nce.com"
# What the account device stands for: Home Assistant's link to 1NCE's API.
ACCOUNT_MODEL = "Management API"


@dataclass(frozen=True, slots=True, kw_only=True)
class SimView:
    """One SIM as its entities see it: the list entry, and details when known."""

    sim: Sim
    details: SimDetails | None
    sms_level: QuotaLevel | None


def sim_view(entry: OneNceConfigEntry, sim: Sim) -> SimView:
    """Combine what the two coordinators know about a SIM.

    Details of a SIM whose last fetch failed are left out, so that a stale
    exact volume never outvotes the list's fresh level.
    """
    details = entry.runtime_data.details
    known = details.data.get(sim.iccid) if details.available(sim.iccid) else None
    threshold = entry.options.get(CONF_SMS_LOW_THRESHOLD, DEFAULT_SMS_LOW_THRESHOLD)
    return SimView(sim=sim, details=known, sms_level=sms_level(sim, known, threshold))


def sim_device_name(sim: Sim) -> str:
    """Name a SIM's device as the 1NCE Portal shows it: label, else ICCID."""
    return sim.label or sim.iccid


def account_device_info(entry: OneNceConfigEntry) -> DeviceInfo:
    """Describe the account, the device every SIM hangs off.

    Its name is translated into Home Assistant's language when the device is
    registered; entity ids made then keep that name ("1nce_account_...").
    """
    return DeviceInfo(
        identifiers={(DOMAIN, entry.entry_id)},
        translation_key="account",
        entry_type=DeviceEntryType.SERVICE,
        manufacturer=MANUFACTURER,
        model=ACCOUNT_MODEL,
        configuration_url=PORTAL_URL,
    )


def device_iccid(entry: OneNceConfigEntry, device: dr.DeviceEntry) -> str | None:
    """Return the ICCID a device stands for; None for the account device."""
    for domain, identifier in device.identifiers:
        if domain == DOMAIN and identifier != entry.entry_id:
            return identifier
    return None


def sims_that_left(known: Iterable[str], fleet: Mapping[str, Sim]) -> set[str]:
    """Return the SIMs of `known` that the current list no longer has.

    A list without any SIM removes nothing: an account losing every SIM at
    once is far likelier a glitch of 1NCE's than real, and removing devices
    throws away the user's names and settings for their entities.
    """
    if not fleet:
        return set()
    return {iccid for iccid in known if iccid not in fleet}


def _sim_removed_signal(entry: OneNceConfigEntry) -> str:
    return f"{DOMAIN}_{entry.entry_id}_sim_device_removed"


@callback
def async_forget_sim(hass: HomeAssistant, entry: OneNceConfigEntry, iccid: str) -> None:
    """Tell the platforms a SIM's device (and entities) is being removed."""
    async_dispatcher_send(hass, _sim_removed_signal(entry), iccid)


@callback
def async_add_sim_entities(
    entry: OneNceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    entities_for: Callable[[Sim], Iterable[Entity]],
) -> None:
    """Add each SIM's entities now, and those of SIMs the list shows later."""
    fleet = entry.runtime_data.fleet
    # SIM devices point at the account device, so it must exist before them;
    # platforms are set up concurrently, so each makes sure of it.
    dr.async_get(fleet.hass).async_get_or_create(
        config_entry_id=entry.entry_id, **account_device_info(entry)
    )
    added: set[str] = set()

    @callback
    def forget(iccid: str) -> None:
        # Entities go with their device; a SIM whose device went (it left, or
        # the user deleted it) gets new ones should the list show it again.
        added.discard(iccid)

    entry.async_on_unload(
        async_dispatcher_connect(fleet.hass, _sim_removed_signal(entry), forget)
    )

    @callback
    def add_new_sims() -> None:
        new = [sim for iccid, sim in fleet.data.items() if iccid not in added]
        added.update(sim.iccid for sim in new)
        if new:
            async_add_entities(entity for sim in new for entity in entities_for(sim))

    add_new_sims()
    entry.async_on_unload(fleet.async_add_listener(add_new_sims))


@callback
def async_sync_devices(hass: HomeAssistant, entry: OneNceConfigEntry) -> None:
    """Keep SIM devices in step with the list, at setup and on every poll.

    A SIM that left the account loses its device (its entities go with it);
    a SIM relabelled in the Portal gets its device renamed.
    """
    registry = dr.async_get(hass)
    fleet = entry.runtime_data.fleet

    @callback
    def sync() -> None:
        if not fleet.last_update_success:
            return
        devices = {
            iccid: device
            for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
            if (iccid := device_iccid(entry, device)) is not None
        }
        for iccid in sims_that_left(devices, fleet.data):
            async_forget_sim(hass, entry, iccid)
            remove_device(registry, devices[iccid].id, entry.entry_id)
        for iccid, device in devices.items():
            if (sim := fleet.data.get(iccid)) and device.name != sim_device_name(sim):
                registry.async_update_device(device.id, name=sim_device_name(sim))

    sync()
    entry.async_on_unload(fleet.async_add_listener(sync))


def _translation_key(description: EntityDescription) -> str:
    return description.translation_key or description.key


class OneNceAccountEntity(CoordinatorEntity[FleetCoordinator]):
    """An entity of the whole account, summing up its SIMs."""

    _attr_has_entity_name = True

    def __init__(
        self, entry: OneNceConfigEntry, description: EntityDescription
    ) -> None:
        """Attach to the account device; details feed the sums, so follow them."""
        super().__init__(entry.runtime_data.fleet)
        self.entry = entry
        self.entity_description = description
        self._attr_translation_key = _translation_key(description)
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        self._attr_device_info = account_device_info(entry)

    async def async_added_to_hass(self) -> None:
        """Also update when details arrive, which change volumes and levels."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.entry.runtime_data.details.async_add_listener(
                self._handle_coordinator_update
            )
        )

    @property
    def views(self) -> list[SimView]:
        """Every SIM of the account as its own entities see it."""
        return [sim_view(self.entry, sim) for sim in self.coordinator.data.values()]


def _sim_device_info(sim: Sim, entry: OneNceConfigEntry) -> DeviceInfo:
    return DeviceInfo(
        identifiers={(DOMAIN, sim.iccid)},
        name=sim_device_name(sim),
        manufacturer=MANUFACTURER,
        model="IoT SIM",
        serial_number=sim.iccid,
        **below_device(
            dr.async_get(entry.runtime_data.fleet.hass),
            entry.entry_id,
            (DOMAIN, entry.entry_id),
        ),
    )


class OneNceSimEntity(CoordinatorEntity[FleetCoordinator]):
    """An entity of one SIM that lives on the SIM list.

    Set `_follows_details` where the value also depends on the SIM's details
    (the SMS level), so the entity updates when they arrive.
    """

    _attr_has_entity_name = True
    _follows_details = False

    def __init__(
        self, entry: OneNceConfigEntry, sim: Sim, description: EntityDescription
    ) -> None:
        """Attach to the SIM's device, named after its label."""
        super().__init__(entry.runtime_data.fleet)
        self.entry = entry
        self.iccid = sim.iccid
        self._sim = sim
        self.entity_description = description
        self._attr_translation_key = _translation_key(description)
        self._attr_unique_id = f"{sim.iccid}_{description.key}"
        self._attr_device_info = _sim_device_info(sim, entry)

    async def async_added_to_hass(self) -> None:
        """Listen to the details as well where the value depends on them."""
        await super().async_added_to_hass()
        if self._follows_details:
            self.async_on_remove(
                self.entry.runtime_data.details.async_add_listener(
                    self._handle_coordinator_update
                )
            )

    @callback
    def _handle_coordinator_update(self) -> None:
        """Keep the last known SIM entry; a SIM that left makes us unavailable."""
        self._sim = self.coordinator.data.get(self.iccid, self._sim)
        super()._handle_coordinator_update()

    @property
    def available(self) -> bool:
        """Available while the list loads and still has this SIM."""
        return super().available and self.iccid in self.coordinator.data

    @property
    def sim(self) -> Sim:
        """The SIM's latest list entry."""
        return self._sim

    @property
    def view(self) -> SimView:
        """The SIM with its details, when known, and its SMS level."""
        return sim_view(self.entry, self._sim)

    async def async_write_sim(self, change: Callable[[Sim], Sim]) -> None:
        """Send a change of this SIM to 1NCE, keeping every field it leaves alone.

        1NCE replaces the whole record, so the request carries the status,
        label and IMEI lock the list shows, with `change` applied. Changes
        wait for each other and the list is read again after each, so that
        two quick changes (a new label, then disabling) never undo each other.
        """
        fleet = self.coordinator
        async with fleet.write_lock:
            wanted = change(fleet.data.get(self.iccid, self._sim))
            try:
                await self.entry.runtime_data.client.async_update_sim(
                    self.iccid,
                    enabled=wanted.enabled,
                    label=wanted.label,
                    imei_lock=wanted.imei_lock,
                )
            except OneNceError as err:
                raise HomeAssistantError(
                    translation_domain=DOMAIN,
                    translation_key="sim_update_failed",
                    translation_placeholders={"error": str(err)},
                ) from err
            await fleet.async_refresh()


class OneNceSimDetailEntity(CoordinatorEntity[DetailsCoordinator]):
    """An entity of one SIM whose value comes from its per-SIM details."""

    _attr_has_entity_name = True

    def __init__(
        self, entry: OneNceConfigEntry, sim: Sim, description: EntityDescription
    ) -> None:
        """Attach to the SIM's device, named after its label."""
        super().__init__(entry.runtime_data.details)
        self.entry = entry
        self.iccid = sim.iccid
        self.entity_description = description
        self._attr_translation_key = _translation_key(description)
        self._attr_unique_id = f"{sim.iccid}_{description.key}"
        self._attr_device_info = _sim_device_info(sim, entry)

    async def async_added_to_hass(self) -> None:
        """Also follow the list: it says whether the SIM still exists."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.entry.runtime_data.fleet.async_add_listener(
                self._handle_coordinator_update
            )
        )

    @property
    def available(self) -> bool:
        """Available while the list has the SIM and its details are current."""
        fleet = self.entry.runtime_data.fleet
        return (
            fleet.last_update_success
            and self.iccid in fleet.data
            and self.coordinator.available(self.iccid)
        )

    @property
    def details(self) -> SimDetails:
        """The SIM's latest details; read them only while the entity is available."""
        return self.coordinator.data[self.iccid]
