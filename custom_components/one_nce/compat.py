"""The few places where the supported Home Assistant releases differ.

The integration supports Home Assistant 2025.4 up to the newest release, and
everything else in it is written once for all of them. The exceptions are
here, one function per difference, each choosing by what the running release
offers (never by its version number) and naming the release that changed it.
When the oldest supported release has the newer way, a function shrinks to it.

These changes of Home Assistant 2026.x are bridged so far:
- it validates with probatio, voluptuous' API-compatible successor, and its
  signatures ask for probatio's types: schemas are built with `vol` from here;
- it moved BinarySensorDeviceClass to binary_sensor.const, re-exporting it
  from binary_sensor only implicitly (mypy --strict refuses that import);
- it gives every device exactly one config entry, and reports the multi-entry
  device API (the only one 2025.4 has) as deprecated, ending in 2027.8-2027.10;
- an options flow reloads the entry itself (OptionsFlowWithReload, which 2025.4
  lacks), and an entry that a flow reloads must have no update listener:
  reported from 2026.6, refused from 2026.12.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.util import find_spec
from typing import TYPE_CHECKING, Final, cast

from homeassistant import config_entries
from homeassistant.config_entries import ConfigEntry, OptionsFlow
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.device_registry import DeviceInfo

# The validation library of the running Home Assistant: probatio where it is
# installed (Home Assistant 2026.x depends on it), else voluptuous. mypy checks
# one branch per test leg: scripts/test passes --always-true or --always-false
# PROBATIO, whichever the leg's venv has.
PROBATIO: Final = find_spec("probatio") is not None
if PROBATIO:
    import probatio as vol
else:
    import voluptuous as vol

# Each import fails type-checking on one release, hence "unused-ignore".
try:
    from homeassistant.components.binary_sensor.const import (  # type: ignore[import-not-found,unused-ignore]
        BinarySensorDeviceClass,
    )
except ImportError:  # Home Assistant 2025.4
    from homeassistant.components.binary_sensor import (  # type: ignore[attr-defined,no-redef,unused-ignore]
        BinarySensorDeviceClass,
    )

# The base of the options flow: Home Assistant's OptionsFlowWithReload, which
# reloads the entry once the saved options differ, where the release has it;
# else the plain OptionsFlow, and `reload_on_new_options` does the reloading.
# Type-checked as OptionsFlow on every release: it adds no API of its own.
if TYPE_CHECKING:
    OptionsFlowWithReload = OptionsFlow
else:
    OptionsFlowWithReload = getattr(
        config_entries, "OptionsFlowWithReload", OptionsFlow
    )

__all__ = [
    "PROBATIO",
    "BinarySensorDeviceClass",
    "OptionsFlowWithReload",
    "below_device",
    "device_belongs_to",
    "device_by_identifier",
    "reload_on_new_options",
    "remove_device",
    "vol",
]

type _IdentifierLookup = Callable[[tuple[str, str], str], dr.DeviceEntry | None]


def device_by_identifier(
    registry: dr.DeviceRegistry, entry_id: str, identifier: tuple[str, str]
) -> dr.DeviceEntry | None:
    """Return the entry's device with this identifier, if it has one.

    Home Assistant 2026.x looks identifiers up per entry, since they are
    unique only within one; before, `async_get_device` finds the one device
    with the identifier, whichever entries it belongs to.
    """
    lookup: _IdentifierLookup | None = getattr(
        registry, "async_get_device_by_identifier", None
    )
    if lookup is not None:
        return lookup(identifier, entry_id)
    device = registry.async_get_device(identifiers={identifier})
    if device is None or not device_belongs_to(device, entry_id):
        return None
    return device


def device_belongs_to(device: object, entry_id: str) -> bool:
    """Tell whether the device is (one of) the entry's.

    Home Assistant 2026.x names a device's one entry `config_entry_id` (and
    `registry.async_get` may return a child device, typed apart); before,
    `config_entries` holds every entry that shares the device.
    """
    owner: str | None = getattr(device, "config_entry_id", None)
    if owner is not None:
        return owner == entry_id
    entries: set[str] = getattr(device, "config_entries", set())
    return entry_id in entries


def remove_device(registry: dr.DeviceRegistry, device_id: str, entry_id: str) -> None:
    """Remove the entry's device, with its entities.

    Home Assistant 2026.x removes a device outright (it has no other entry);
    before, a device shared with other entries must only leave this entry's
    hands, which removes it once no entry holds it.
    """
    if hasattr(registry, "async_get_device_by_identifier"):
        registry.async_remove_device(device_id)
        return
    registry.async_update_device(device_id, remove_config_entry_id=entry_id)


def below_device(
    registry: dr.DeviceRegistry, entry_id: str, parent: tuple[str, str]
) -> DeviceInfo:
    """Return the device info that hangs a device below the entry's `parent`.

    Home Assistant 2026.x names the parent by its registry id (`via_device_id`;
    the parent must be registered first) and reports `via_device` as
    deprecated; before, `via_device` with the parent's identifier is the way.
    """
    if "via_device_id" not in DeviceInfo.__optional_keys__:
        return cast(DeviceInfo, {"via_device": parent})
    device = device_by_identifier(registry, entry_id, parent)
    return cast(DeviceInfo, {"via_device_id": device.id} if device else {})


def reload_on_new_options(entry: ConfigEntry) -> None:
    """Reload the entry once its options change, where the options flow does not.

    Home Assistant's OptionsFlowWithReload reloads the entry itself, and it
    refuses an update listener beside it; from 2026.6 on it also reports an
    update listener on an entry that a config flow reloads (reauthentication,
    reconfiguration), and 2026.12 refuses that. So where the release has it,
    nothing is registered. Before (2025.4), an update listener reloads on
    changed options only: the flows reload through `async_update_reload_and_abort`
    themselves, which would otherwise reload twice, and what receiving stores in
    the entry's data (forwarder secret, cloudhook) needs no reload.
    """
    if getattr(OptionsFlowWithReload, "automatic_reload", False):
        return
    applied = dict(entry.options)

    async def reload_if_changed(hass: HomeAssistant, changed: ConfigEntry) -> None:
        if dict(changed.options) != applied:
            await hass.config_entries.async_reload(changed.entry_id)

    entry.async_on_unload(entry.add_update_listener(reload_if_changed))
