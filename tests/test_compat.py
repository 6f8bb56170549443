"""compat.py: each bridge behaves the same on every supported release.

The tests with Home Assistant's real device registry take the running
release's path (one leg each); those with a stand-in registry take the other
path too, so every line of compat.py runs on both legs.
"""

from __future__ import annotations

from importlib.util import find_spec
from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock, patch

from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.one_nce import compat
from custom_components.one_nce.const import DOMAIN
from homeassistant import config_entries
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr

ACCOUNT = (DOMAIN, "account")
SIM = (DOMAIN, "8988228066000000001")


def _entry(hass: HomeAssistant) -> MockConfigEntry:
    entry = MockConfigEntry(domain=DOMAIN)
    entry.add_to_hass(hass)
    return entry


async def test_a_sim_device_hangs_below_the_account_device(hass: HomeAssistant) -> None:
    """The parent link works whichever way the release wants it given."""
    entry = _entry(hass)
    registry = dr.async_get(hass)
    account = registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={ACCOUNT}
    )
    sim = registry.async_get_or_create(
        config_entry_id=entry.entry_id,
        identifiers={SIM},
        **compat.below_device(registry, entry.entry_id, ACCOUNT),
    )
    assert sim.via_device_id == account.id


async def test_devices_are_found_and_removed_per_entry(hass: HomeAssistant) -> None:
    entry, other = _entry(hass), _entry(hass)
    registry = dr.async_get(hass)
    sim = registry.async_get_or_create(
        config_entry_id=entry.entry_id, identifiers={SIM}
    )

    found = compat.device_by_identifier(registry, entry.entry_id, SIM)
    assert found is not None
    assert found.id == sim.id
    assert compat.device_belongs_to(found, entry.entry_id)
    assert not compat.device_belongs_to(found, other.entry_id)
    assert compat.device_by_identifier(registry, other.entry_id, SIM) is None
    assert compat.device_by_identifier(registry, entry.entry_id, ACCOUNT) is None

    compat.remove_device(registry, sim.id, entry.entry_id)
    assert registry.async_get(sim.id) is None


class _Registry:
    """A device registry of one device, with or without 2026.x's methods."""

    def __init__(self, device: Any, *, per_entry: bool) -> None:
        self.device = device
        self.calls: list[tuple[str, Any]] = []
        if per_entry:
            self.async_get_device_by_identifier = self._by_identifier

    def _by_identifier(self, identifier: tuple[str, str], entry_id: str) -> Any:
        self.calls.append(("by_identifier", (identifier, entry_id)))
        return self.device

    def async_get_device(self, identifiers: set[tuple[str, str]]) -> Any:
        self.calls.append(("get_device", identifiers))
        return self.device

    def async_remove_device(self, device_id: str) -> None:
        self.calls.append(("remove", device_id))

    def async_update_device(self, device_id: str, **changes: Any) -> None:
        self.calls.append(("update", (device_id, changes)))


def test_before_2026_devices_may_be_shared_between_entries() -> None:
    """2025.4: look up by identifier, check membership, leave rather than remove."""
    shared = SimpleNamespace(id="d1", config_entries={"e1", "e2"})
    registry: Any = _Registry(shared, per_entry=False)

    assert compat.device_by_identifier(registry, "e1", SIM) is shared
    assert compat.device_by_identifier(registry, "e3", SIM) is None
    compat.remove_device(registry, "d1", "e1")
    assert registry.calls[-1] == ("update", ("d1", {"remove_config_entry_id": "e1"}))
    assert not compat.device_belongs_to(SimpleNamespace(), "e1")


def test_from_2026_each_device_has_one_entry() -> None:
    """2026.x: look up within the entry, remove outright."""
    own = SimpleNamespace(id="d1", config_entry_id="e1")
    registry: Any = _Registry(own, per_entry=True)

    assert compat.device_by_identifier(registry, "e1", SIM) is own
    assert registry.calls == [("by_identifier", (SIM, "e1"))]
    compat.remove_device(registry, "d1", "e1")
    assert registry.calls[-1] == ("remove", "d1")
    assert compat.device_belongs_to(own, "e1")
    assert not compat.device_belongs_to(own, "e2")


def test_the_parent_is_named_as_the_release_asks() -> None:
    """2025.4 takes the parent's identifier, 2026.x its registry id."""
    parent = SimpleNamespace(id="p1", config_entry_id="e1")
    registry: Any = _Registry(parent, per_entry=True)
    old = SimpleNamespace(__optional_keys__=frozenset({"via_device"}))
    new = SimpleNamespace(__optional_keys__=frozenset({"via_device_id"}))

    with patch.object(compat, "DeviceInfo", old):
        assert compat.below_device(registry, "e1", ACCOUNT) == {"via_device": ACCOUNT}
    with patch.object(compat, "DeviceInfo", new):
        assert compat.below_device(registry, "e1", ACCOUNT) == {"via_device_id": "p1"}
        registry.device = None
        assert compat.below_device(registry, "e1", ACCOUNT) == {}


def test_schemas_use_the_library_home_assistant_validates_with() -> None:
    assert (find_spec("probatio") is not None) == compat.PROBATIO
    schema = compat.vol.Schema({compat.vol.Required("limit"): int})
    assert schema({"limit": 3}) == {"limit": 3}


def test_binary_sensor_device_class_is_home_assistants() -> None:
    assert compat.BinarySensorDeviceClass.PROBLEM == "problem"


async def test_changed_options_reload_the_entry_once_on_any_release(
    hass: HomeAssistant,
) -> None:
    """Whoever reloads (the options flow or a listener), it happens once.

    With OptionsFlowWithReload the entry must have no update listener (Home
    Assistant refuses both, and reports a listener on an entry a flow reloads).
    """
    entry = _entry(hass)
    compat.reload_on_new_options(entry)

    if hasattr(config_entries, "OptionsFlowWithReload"):
        assert compat.OptionsFlowWithReload is config_entries.OptionsFlowWithReload
        assert entry.update_listeners == []
    else:  # Home Assistant 2025.4
        assert compat.OptionsFlowWithReload is config_entries.OptionsFlow
        assert len(entry.update_listeners) == 1


class _ReloadingFlow:
    """An options flow base of a release that reloads by itself."""

    automatic_reload = True


class _PlainFlow:
    """An options flow base of a release that does not."""


async def test_where_the_options_flow_reloads_no_listener_is_added(
    hass: HomeAssistant,
) -> None:
    entry = _entry(hass)
    with patch.object(compat, "OptionsFlowWithReload", _ReloadingFlow):
        compat.reload_on_new_options(entry)

    assert entry.update_listeners == []


async def test_elsewhere_a_listener_reloads_on_new_options_only(
    hass: HomeAssistant,
) -> None:
    """Data stored later (forwarder secret, cloudhook) or by a flow never reloads."""
    entry = _entry(hass)
    with patch.object(compat, "OptionsFlowWithReload", _PlainFlow):
        compat.reload_on_new_options(entry)
    assert len(entry.update_listeners) == 1

    with patch.object(hass.config_entries, "async_reload", AsyncMock()) as reload:
        hass.config_entries.async_update_entry(entry, data={"forwarder_secret": "s"})
        await hass.async_block_till_done()
        assert reload.await_count == 0

        hass.config_entries.async_update_entry(entry, options={"list_interval": 30})
        await hass.async_block_till_done()
        assert [call.args for call in reload.await_args_list] == [(entry.entry_id,)]
