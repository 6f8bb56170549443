"""Sensors: each SIM's volumes, quota states and network, and account totals.

Values that the SIM list carries stay available as long as the list loads;
exact volumes, expiry dates and the network state come from the per-SIM
details and are unavailable while a SIM's details are unknown or failing.
Account totals are a true total or unknown, never a sum over some SIMs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Final

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import (
    MAX_LENGTH_STATE_STATE,
    EntityCategory,
    Platform,
    UnitOfInformation,
)
from homeassistant.core import CALLBACK_TYPE, HassJob, HomeAssistant, callback
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.typing import StateType
from homeassistant.util import dt as dt_util

from .api import ConnectivityStatus, QuotaLevel, QuotaStatus, Sim
from .const import DOMAIN
from .coordinator import OneNceConfigEntry, SimDetails
from .entity import (
    OneNceAccountEntity,
    OneNceSimDetailEntity,
    OneNceSimEntity,
    SimView,
    account_device_info,
    async_add_sim_entities,
    async_sync_devices,
)
from .receiving.health import ForwarderHealth
from .receiving.streamer import StreamerHealth
from .usage import month_start

# Read-only: the coordinators fetch, entities only read what they hold.
PARALLEL_UPDATES = 0

# No device class counts text messages. A unit still matters: long-term
# statistics and graphs group by it, and "SMS" reads the same in every language.
UNIT_SMS = "SMS"

QUOTA_LEVELS = [level.value for level in QuotaLevel]


@dataclass(frozen=True, kw_only=True)
class OneNceSimSensorEntityDescription(SensorEntityDescription):
    """A SIM sensor read from the SIM list (and the SMS level)."""

    value_fn: Callable[[SimView], StateType | datetime]
    uses_details: bool = False


@dataclass(frozen=True, kw_only=True)
class OneNceDetailSensorEntityDescription(SensorEntityDescription):
    """A SIM sensor read from the SIM's details.

    `pushed`: the Data Streamer's events change it between ticks.
    """

    value_fn: Callable[[SimDetails], StateType | datetime]
    pushed: bool = False


@dataclass(frozen=True, kw_only=True)
class OneNceAccountSensorEntityDescription(SensorEntityDescription):
    """An account sensor summing up all SIMs."""

    value_fn: Callable[[Sequence[SimView]], StateType]


def _enum_value(member: StrEnum | None) -> str | None:
    return member.value if member is not None else None


def _count(level: QuotaLevel) -> Callable[[Sequence[SimView]], int]:
    return lambda views: sum(view.sms_level is level for view in views)


def last_known_sms_volumes(
    known: Mapping[str, float], sims: Iterable[str], details: Mapping[str, SimDetails]
) -> dict[str, float]:
    """Each listed SIM's SMS volume left as its details last told it.

    A SIM whose details fail, or whose quota 1NCE answers as `{}` after a
    known one, keeps its last volume, so one flaky SIM neither blanks nor
    skews the account's total. An overdrawn SIM counts as empty, not as a
    debt, and so does an expired quota: what is left on it cannot be spent.
    """
    volumes: dict[str, float] = {}
    for iccid in sims:
        fetched = details.get(iccid)
        quota = fetched.sms_quota if fetched is not None else None
        if quota is not None and quota.status is QuotaStatus.EXPIRED:
            volumes[iccid] = 0.0
        elif quota is not None and quota.volume is not None:
            volumes[iccid] = max(0.0, quota.volume)
        elif iccid in known:
            volumes[iccid] = known[iccid]
    return volumes


def account_sms_left(
    sims: Mapping[str, Sim], known: Mapping[str, float], not_asked: Iterable[str]
) -> float | None:
    """Add up every listed SIM's SMS left; None until each SIM's details were asked.

    Only the details say how much is left: the list's `current_quota_SMS` is
    the quota set for the SIM (1NCE's description: "Current SMS Quota", 250 on
    a new SIM), not what remains. So the total waits for the first round of
    details after a start (`not_asked`), then counts every SIM whose volume
    is known; a SIM the list shows with none left counts as empty. A SIM that
    has no known volume after being asked (its details fail, or 1NCE answers
    its quota as `{}`) is left out and counted in `sims_not_counted`, so one
    such SIM cannot blank the total for good.
    """
    if any(iccid in sims for iccid in not_asked):
        return None
    counted = [
        iccid
        for iccid, sim in sims.items()
        if iccid in known or sim.sms_quota_level is QuotaLevel.EXHAUSTED
    ]
    if len(counted) < len(sims) and not any(iccid in known for iccid in counted):
        # Not one volume known: a 0 here would read as "all used up" (unless
        # the list says just that of every SIM).
        return None
    return sum(known.get(iccid, 0.0) for iccid in counted)


def sims_without_sms_volume(sims: Mapping[str, Sim], known: Mapping[str, float]) -> int:
    """How many listed SIMs the account's SMS total leaves out."""
    return sum(
        iccid not in known and sim.sms_quota_level is not QuotaLevel.EXHAUSTED
        for iccid, sim in sims.items()
    )


SIM_SENSORS: tuple[OneNceSimSensorEntityDescription, ...] = (
    OneNceSimSensorEntityDescription(
        key="sms_quota_state",
        device_class=SensorDeviceClass.ENUM,
        options=QUOTA_LEVELS,
        uses_details=True,
        value_fn=lambda view: _enum_value(view.sms_level),
    ),
    OneNceSimSensorEntityDescription(
        key="data_quota_state",
        device_class=SensorDeviceClass.ENUM,
        options=QUOTA_LEVELS,
        value_fn=lambda view: _enum_value(view.sim.data_quota_level),
    ),
    # The device's serial number already shows it.
    OneNceSimSensorEntityDescription(
        key="iccid",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda view: view.sim.iccid,
    ),
    OneNceSimSensorEntityDescription(
        key="msisdn",
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda view: view.sim.msisdn,
    ),
    OneNceSimSensorEntityDescription(
        key="imsi",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda view: view.sim.imsi,
    ),
    OneNceSimSensorEntityDescription(
        key="imei",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda view: view.sim.imei,
    ),
    OneNceSimSensorEntityDescription(
        key="ip_address",
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda view: view.sim.ip_address,
    ),
    OneNceSimSensorEntityDescription(
        key="activation_date",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda view: view.sim.activation_date,
    ),
)

DETAIL_SENSORS: tuple[OneNceDetailSensorEntityDescription, ...] = (
    OneNceDetailSensorEntityDescription(
        key="sms_volume",
        native_unit_of_measurement=UNIT_SMS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        value_fn=lambda details: details.sms_quota.volume,
    ),
    OneNceDetailSensorEntityDescription(
        key="sms_volume_total",
        native_unit_of_measurement=UNIT_SMS,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        entity_registry_enabled_default=False,
        value_fn=lambda details: details.sms_quota.total_volume,
    ),
    OneNceDetailSensorEntityDescription(
        key="sms_quota_expiry",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda details: details.sms_quota.expiry_date,
    ),
    OneNceDetailSensorEntityDescription(
        key="data_volume",
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.MEGABYTES,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=1,
        value_fn=lambda details: details.data_quota.volume,
    ),
    OneNceDetailSensorEntityDescription(
        key="data_volume_total",
        device_class=SensorDeviceClass.DATA_SIZE,
        native_unit_of_measurement=UnitOfInformation.MEGABYTES,
        state_class=SensorStateClass.MEASUREMENT,
        suggested_display_precision=0,
        entity_registry_enabled_default=False,
        value_fn=lambda details: details.data_quota.total_volume,
    ),
    OneNceDetailSensorEntityDescription(
        key="data_quota_expiry",
        device_class=SensorDeviceClass.TIMESTAMP,
        value_fn=lambda details: details.data_quota.expiry_date,
    ),
    OneNceDetailSensorEntityDescription(
        key="connection_status",
        pushed=True,
        device_class=SensorDeviceClass.ENUM,
        options=[status.value for status in ConnectivityStatus],
        # A state word 1NCE has not documented reads as unknown.
        value_fn=lambda details: _enum_value(details.connectivity.status),
    ),
    OneNceDetailSensorEntityDescription(
        key="network_operator",
        pushed=True,
        value_fn=lambda details: details.connectivity.operator,
    ),
    OneNceDetailSensorEntityDescription(
        key="country",
        pushed=True,
        value_fn=lambda details: details.connectivity.country,
    ),
    # Plain text, not an enum: 1NCE names more technologies than it documents,
    # and an unknown one must not break the entity. Only set during a data
    # session, so it is mostly unknown and off by default.
    OneNceDetailSensorEntityDescription(
        key="radio_access_type",
        pushed=True,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda details: details.connectivity.radio_access_type,
    ),
)

# Off by default: only while it is enabled are the SIM's events read, one more
# request per SIM and detail interval.
LAST_EVENT = SensorEntityDescription(
    key="last_event",
    entity_category=EntityCategory.DIAGNOSTIC,
    entity_registry_enabled_default=False,
)

ACCOUNT_SENSORS: tuple[OneNceAccountSensorEntityDescription, ...] = (
    OneNceAccountSensorEntityDescription(
        key="sims",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=len,
    ),
    OneNceAccountSensorEntityDescription(
        key="sims_sms_sufficient",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_count(QuotaLevel.SUFFICIENT),
    ),
    OneNceAccountSensorEntityDescription(
        key="sims_sms_low",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_count(QuotaLevel.LOW),
    ),
    OneNceAccountSensorEntityDescription(
        key="sims_sms_exhausted",
        state_class=SensorStateClass.MEASUREMENT,
        value_fn=_count(QuotaLevel.EXHAUSTED),
    ),
)

ACCOUNT_SMS_VOLUME = SensorEntityDescription(
    key="account_sms_volume",
    native_unit_of_measurement=UNIT_SMS,
    state_class=SensorStateClass.MEASUREMENT,
    suggested_display_precision=0,
)


@dataclass(frozen=True, kw_only=True)
class OneNceUsageSensorEntityDescription(SensorEntityDescription):
    """An account sensor read from this month's usage (sent, received)."""

    value_fn: Callable[[tuple[int, int]], int]


# Counts restart at 0 on the 1st of the (local) month, which `last_reset` says.
# TOTAL, not TOTAL_INCREASING: a total that drops within the month (a SIM left
# the account) is then a negative change, where TOTAL_INCREASING would read a
# new cycle and count the whole month again in long-term statistics.
USAGE_SENSORS: Final[tuple[OneNceUsageSensorEntityDescription, ...]] = (
    OneNceUsageSensorEntityDescription(
        key="sms_sent_this_month",
        native_unit_of_measurement=UNIT_SMS,
        state_class=SensorStateClass.TOTAL,
        value_fn=lambda totals: totals[0],
    ),
    OneNceUsageSensorEntityDescription(
        key="sms_received_this_month",
        native_unit_of_measurement=UNIT_SMS,
        state_class=SensorStateClass.TOTAL,
        value_fn=lambda totals: totals[1],
    ),
)


@dataclass(frozen=True, kw_only=True)
class ForwarderHealthSensorEntityDescription(SensorEntityDescription):
    """An account sensor read from the counts of pushed requests."""

    value_fn: Callable[[Any], StateType | datetime]
    """Reads a `ForwarderHealth` or a `StreamerHealth`."""


HEALTH_SENSORS: tuple[ForwarderHealthSensorEntityDescription, ...] = (
    ForwarderHealthSensorEntityDescription(
        key="forwarder_last_request",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda health: health.last_request,
    ),
    ForwarderHealthSensorEntityDescription(
        key="forwarder_received",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda health: health.received,
    ),
    ForwarderHealthSensorEntityDescription(
        key="forwarder_duplicates",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda health: health.duplicates,
    ),
    ForwarderHealthSensorEntityDescription(
        key="forwarder_rejected",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda health: health.rejected,
    ),
)
STREAMER_HEALTH_SENSORS: tuple[ForwarderHealthSensorEntityDescription, ...] = (
    ForwarderHealthSensorEntityDescription(
        key="streamer_last_request",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda health: health.last_request,
    ),
    ForwarderHealthSensorEntityDescription(
        key="streamer_records",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda health: health.records,
    ),
    ForwarderHealthSensorEntityDescription(
        key="streamer_duplicates",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda health: health.duplicates,
    ),
    ForwarderHealthSensorEntityDescription(
        key="streamer_rejected",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda health: health.rejected,
    ),
    ForwarderHealthSensorEntityDescription(
        key="streamer_unreadable",
        state_class=SensorStateClass.TOTAL_INCREASING,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda health: health.unreadable,
    ),
)
# Under load the forwarder answers thousands of requests a second; its sensors
# write their state at most this often rather than once per request.
HEALTH_WRITE_INTERVAL: Final = timedelta(seconds=5)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OneNceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the account's sensors, and every SIM's as the list shows it."""
    # The sensor platform owns the account device, so it keeps the devices in
    # step with the list (one listener for the whole entry).
    async_sync_devices(hass, entry)
    async_add_entities(
        [
            *(
                OneNceAccountSensor(entry, description)
                for description in ACCOUNT_SENSORS
            ),
            OneNceAccountSmsVolumeSensor(entry, ACCOUNT_SMS_VOLUME),
        ]
    )
    _async_follow_usage(hass, entry, async_add_entities)
    async_add_entities(
        ForwarderHealthSensor(entry, entry.runtime_data.receiver.health, description)
        for description in HEALTH_SENSORS
    )
    async_add_entities(
        ForwarderHealthSensor(
            entry, entry.runtime_data.receiver.streamer.health, description
        )
        for description in STREAMER_HEALTH_SENSORS
    )

    def entities_for(sim: Sim) -> list[SensorEntity]:
        return [
            *(OneNceSimSensor(entry, sim, description) for description in SIM_SENSORS),
            *(
                OneNceDetailSensor(entry, sim, description)
                for description in DETAIL_SENSORS
            ),
            OneNceLastEventSensor(entry, sim, LAST_EVENT),
        ]

    async_add_sim_entities(entry, async_add_entities, entities_for)


@callback
def _async_follow_usage(
    hass: HomeAssistant,
    entry: OneNceConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the month sensors once usage was read; remove them if no source is left.

    Usage is read after setup, in the background. A SIM without v1 usage is
    counted from its SMS list and quota instead; only when neither answers
    (`usage.supported` is False) could the sensors never show anything: they
    are then not created, and those left in the registry by an earlier run
    are removed. The log says why, once (`usage/coordinator.py`).
    """
    usage = entry.runtime_data.usage
    added = False

    @callback
    def follow() -> None:
        nonlocal added
        if not usage.supported:
            registry = er.async_get(hass)
            for description in USAGE_SENSORS:
                unique_id = f"{entry.entry_id}_{description.key}"
                if entity_id := registry.async_get_entity_id(
                    Platform.SENSOR, DOMAIN, unique_id
                ):
                    registry.async_remove(entity_id)
            return
        if added or usage.data is None:
            return
        added = True
        async_add_entities(
            OneNceUsageSensor(entry, description) for description in USAGE_SENSORS
        )

    follow()
    entry.async_on_unload(usage.async_add_listener(follow))


class OneNceSimSensor(OneNceSimEntity, SensorEntity):
    """A SIM sensor read from the SIM list."""

    entity_description: OneNceSimSensorEntityDescription

    def __init__(
        self,
        entry: OneNceConfigEntry,
        sim: Sim,
        description: OneNceSimSensorEntityDescription,
    ) -> None:
        """Follow the details too where the value depends on them."""
        super().__init__(entry, sim, description)
        self._follows_details = description.uses_details

    @property
    def native_value(self) -> StateType | datetime:
        """Read the value from the SIM (and its details where used)."""
        return self.entity_description.value_fn(self.view)


class OneNceDetailSensor(OneNceSimDetailEntity, SensorEntity):
    """A SIM sensor read from the SIM's details."""

    entity_description: OneNceDetailSensorEntityDescription

    async def async_added_to_hass(self) -> None:
        """Also update when a pushed event changes the SIM's connection."""
        await super().async_added_to_hass()
        if self.entity_description.pushed:
            self.async_on_remove(
                self.coordinator.async_add_sim_listener(
                    self.iccid, self._handle_coordinator_update
                )
            )

    @property
    def native_value(self) -> StateType | datetime:
        """Read the value from the SIM's details."""
        return self.entity_description.value_fn(self.details)


class OneNceLastEventSensor(OneNceSimDetailEntity, SensorEntity):
    """The SIM's newest network event: its type, with when and where it was.

    Free text, not an enum: 1NCE names more kinds of events than it documents.
    """

    async def async_added_to_hass(self) -> None:
        """Have the SIM's events read from now on, and no longer once removed.

        A disabled entity is never added, so it costs no requests. Events the
        Data Streamer pushes show at once.
        """
        await super().async_added_to_hass()
        self.async_on_remove(self.coordinator.async_watch_events(self.iccid))
        self.async_on_remove(
            self.coordinator.async_add_sim_listener(
                self.iccid, self._handle_coordinator_update
            )
        )

    @property
    def available(self) -> bool:
        """Available once the SIM's event log has been read."""
        return super().available and self.details.last_event_known

    @property
    def native_value(self) -> str | None:
        """The event's type; unknown for a SIM without any event."""
        event = self.details.last_event
        if event is None or event.event_type is None:
            return None
        return event.event_type[:MAX_LENGTH_STATE_STATE]

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """When the event happened, and the network it happened on."""
        event = self.details.last_event
        return {
            "time": event.timestamp if event else None,
            "operator": event.operator if event else None,
            "country": event.country if event else None,
        }


class OneNceAccountSensor(OneNceAccountEntity, SensorEntity):
    """An account-wide count or sum."""

    entity_description: OneNceAccountSensorEntityDescription

    @property
    def native_value(self) -> StateType:
        """Sum up the account's SIMs."""
        return self.entity_description.value_fn(self.views)


class OneNceAccountSmsVolumeSensor(OneNceAccountEntity, SensorEntity):
    """The SMS volume left over all SIMs: a true total, or unknown.

    Each SIM counts with the exact volume its details last told, so a SIM
    whose details fail for a while neither blanks nor skews the total.
    `sims_not_counted` names how many SIMs have no known volume at all.
    """

    def __init__(
        self, entry: OneNceConfigEntry, description: SensorEntityDescription
    ) -> None:
        """Start without any SIM's exact volume known."""
        super().__init__(entry, description)
        self._volumes: dict[str, float] = {}

    def _remember(self) -> None:
        self._volumes = last_known_sms_volumes(
            self._volumes,
            self.coordinator.data,
            self.entry.runtime_data.details.data or {},
        )

    async def async_added_to_hass(self) -> None:
        """Take in the volumes known before the entity was added."""
        await super().async_added_to_hass()
        self._remember()

    @callback
    def _handle_coordinator_update(self) -> None:
        """Keep each SIM's volume as the list and the details change."""
        self._remember()
        super()._handle_coordinator_update()

    @property
    def native_value(self) -> float | None:
        """Sum every listed SIM's known volume, once each SIM was asked."""
        return account_sms_left(
            self.coordinator.data,
            self._volumes,
            self.entry.runtime_data.details.not_asked(),
        )

    @property
    def extra_state_attributes(self) -> dict[str, int]:
        """How many SIMs the total leaves out, so a low sum can be explained."""
        return {
            "sims_not_counted": sims_without_sms_volume(
                self.coordinator.data, self._volumes
            )
        }


class OneNceUsageSensor(OneNceAccountEntity, SensorEntity):
    """This month's SMS of the whole fleet, from each SIM's usage source.

    Each SIM's source is v1's usage, its SMS list or the Data Streamer
    (`usage/`). Created once usage was first read. Unknown while any SIM's month is not
    known (e.g. its first fetch after a restart failed), rather than a sum
    that drops and rises again; a SIM that keeps failing is left out, and
    `sims_not_counted` says how many are.
    """

    entity_description: OneNceUsageSensorEntityDescription

    async def async_added_to_hass(self) -> None:
        """Update after each daily usage import too."""
        await super().async_added_to_hass()
        self.async_on_remove(
            self.entry.runtime_data.usage.async_add_listener(
                self._handle_coordinator_update
            )
        )

    @property
    def available(self) -> bool:
        """Available while 1NCE offers usage; it does not depend on the list."""
        usage = self.entry.runtime_data.usage
        return usage.supported and usage.data is not None

    @property
    def last_reset(self) -> datetime:
        """The start of this month, local time, where the counts restart."""
        return dt_util.start_of_local_day(month_start())

    @property
    def extra_state_attributes(self) -> Mapping[str, Any]:
        """How many SIMs the count leaves out, as their usage keeps failing."""
        return {"sims_not_counted": len(self.entry.runtime_data.usage.not_counted())}

    @property
    def native_value(self) -> int | None:
        """Sum the fleet's SMS of this month."""
        totals = self.entry.runtime_data.usage.month_totals()
        return None if totals is None else self.entity_description.value_fn(totals)


class ForwarderHealthSensor(SensorEntity):
    """A count or time of the forwarder's requests, on the account device.

    The counts start at zero whenever the entry loads; they are
    `total_increasing`, which long-term statistics expect to reset.
    """

    _attr_has_entity_name = True
    _attr_should_poll = False
    entity_description: ForwarderHealthSensorEntityDescription

    def __init__(
        self,
        entry: OneNceConfigEntry,
        health: ForwarderHealth | StreamerHealth,
        description: ForwarderHealthSensorEntityDescription,
    ) -> None:
        """Attach to the account device."""
        self.entity_description = description
        self._health = health
        self._attr_translation_key = description.key
        self._attr_unique_id = f"{entry.entry_id}_{description.key}"
        self._attr_device_info = account_device_info(entry)
        self._last_write = 0.0
        self._cancel_write: CALLBACK_TYPE | None = None

    @property
    def native_value(self) -> StateType | datetime:
        """Read the value from the counts."""
        return self.entity_description.value_fn(self._health)

    async def async_added_to_hass(self) -> None:
        """Follow the counts."""
        await super().async_added_to_hass()
        self.async_on_remove(self._health.async_add_listener(self._health_changed))
        self.async_on_remove(self._cancel_pending_write)

    @callback
    def _health_changed(self) -> None:
        """Write now if the last write is old enough, else once it is."""
        if self._cancel_write is not None:
            return
        wait = (
            self._last_write
            + HEALTH_WRITE_INTERVAL.total_seconds()
            - self.hass.loop.time()
        )
        if wait <= 0:
            self._write()
            return
        self._cancel_write = async_call_later(
            self.hass, wait, HassJob(self._write_later, cancel_on_shutdown=True)
        )

    @callback
    def _write_later(self, _now: datetime) -> None:
        self._cancel_write = None
        self._write()

    @callback
    def _write(self) -> None:
        self._last_write = self.hass.loop.time()
        self.async_write_ha_state()

    @callback
    def _cancel_pending_write(self) -> None:
        if self._cancel_write is not None:
            self._cancel_write()
            self._cancel_write = None
