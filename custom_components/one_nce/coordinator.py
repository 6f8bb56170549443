"""Polling of the 1NCE fleet, and the typed config entry that carries it.

The SIM list is the cheap, complete view of the fleet: one request per 100 SIMs
gives every SIM's status and SMS/data quota level. This coordinator keeps it.

Both coordinators are frugal exactly when 1NCE struggles: a failing SIM is
asked again after 1, 2, 4 ... minutes, details wait while the list fails,
details failing across the board are probed one SIM at a time, and a 429
stretches the list interval and thins the detail batches until 1NCE recovers.
Each of these is logged once when it starts and once when it ends, however
many SIMs it concerns; single SIMs are logged at debug level.

While 1NCE's Data Streamer delivers, both ask less still: what the streams
push (the connection, network events, traffic) is taken from them, and only
what they do not carry is polled (see `DetailsCoordinator`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import partial
import math
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .api import (
    Connectivity,
    OneNceAuthenticationError,
    OneNceClient,
    OneNceError,
    OneNceNotFoundError,
    OneNceRateLimitError,
    Quota,
    Sim,
    SimEvent,
)
from .api.concurrency import gather_all
from .api.records import NetworkEvent, QuotaService, UsageKind, UsageRecord
from .const import (
    CONF_DETAIL_INTERVAL,
    CONF_LIST_INTERVAL,
    DEFAULT_DETAIL_INTERVAL,
    DEFAULT_LIST_INTERVAL,
    DETAIL_CATCH_UP_BATCH,
    DETAIL_TICK,
    DOMAIN,
    LOGGER,
)
from .delivery import DeliveryTracker
from .limits import LimitsCoordinator
from .polling.details_schedule import DetailSchedule, SimFailure, TickResult
from .polling.network_events import (
    aware,
    connectivity_after,
    enabled_after,
    event_time,
    quota_services,
    sim_event_of,
)
from .polling.quota_reads import BUSY_LONGEST, SETTLE, QuotaKey, QuotaReads
from .receiving.receiver import Receiver
from .usage import UsageCoordinator

# A 429 doubles the list interval and halves the detail batches, up to this
# factor; each successful list poll halves it again, and so do this many
# minutes without a 429 (a list read once a day would keep details thinned
# for a day otherwise).
MAX_SLOWDOWN = 4
SLOWDOWN_RELIEF = timedelta(minutes=15)
# Slowing down never stretches the list interval beyond this, or beyond the
# chosen interval if that is longer: a daily list must not become a four-day
# one, and SIMs appearing or leaving should not wait hours for it.
MAX_SLOWED_LIST_INTERVAL = timedelta(hours=1)
# While both streams of the Data Streamer deliver, the list is read at most
# this often (it still tells SIMs arriving and leaving, and quota levels),
# and each SIM's quotas and status are read this often (the streams tell
# what changes them in between).
STREAMED_LIST_INTERVAL: Final = timedelta(hours=1)
STREAMED_INTERVAL: Final = timedelta(days=1)
# Pushed events kept for a SIM whose details were not read yet.
EARLY_EVENTS_KEPT: Final = 10
_NEVER: Final = datetime.min.replace(tzinfo=UTC)


def _no_streams() -> tuple[bool, bool]:
    return False, False


@dataclass(slots=True)
class OneNceRuntimeData:
    """What a loaded entry owns: its client, its coordinators, its receiving side."""

    client: OneNceClient
    fleet: FleetCoordinator
    details: DetailsCoordinator
    usage: UsageCoordinator
    limits: LimitsCoordinator
    delivery: DeliveryTracker
    receiver: Receiver


type OneNceConfigEntry = ConfigEntry[OneNceRuntimeData]


class FleetCoordinator(DataUpdateCoordinator[dict[str, Sim]]):
    """Keep the account's SIM list, keyed by ICCID.

    Failures are left to DataUpdateCoordinator, which marks entities
    unavailable, logs once when 1NCE goes away and once when it is back.
    Refused credentials start Home Assistant's reauthentication flow.

    1NCE answering 429 even after the client waited as asked means the
    account's rate is spent (often by another system of the same account), so
    polling slows down: `slowdown` doubles the list interval (up to an hour,
    or the chosen interval if longer) and thins the detail batches, up to
    `MAX_SLOWDOWN` times; every successful list poll halves it again, as do
    15 minutes without a 429. A longer Retry-After is honoured as asked.
    """

    config_entry: OneNceConfigEntry

    def __init__(
        self, hass: HomeAssistant, entry: OneNceConfigEntry, client: OneNceClient
    ) -> None:
        """Poll at the interval the user chose in the options."""
        self.client = client
        self.base_interval = timedelta(
            minutes=entry.options.get(CONF_LIST_INTERVAL, DEFAULT_LIST_INTERVAL)
        )
        # 1NCE replaces a SIM's whole record on every change, so changes are
        # made one at a time, each from the list as it stands after the last.
        self.write_lock = asyncio.Lock()
        self.slowdown = 1
        self._slowed_at = dt_util.utcnow()
        # Successful list polls so far: SIMs 1NCE said it does not know wait
        # for the next one to tell whether they left the account.
        self.polls = 0
        # Whether the Data Streamer's (usage, events) streams deliver; set by
        # `DetailsCoordinator.follow_streams`.
        self.streams_active: Callable[[], tuple[bool, bool]] = _no_streams
        # When the last list read was sent, and the SIMs enabled or disabled
        # since, as pushed (ICCID: (when, enabled)).
        self.read_at: datetime | None = None
        self._streamed = False
        self._pushed_enabled: dict[str, tuple[datetime, bool]] = {}
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} fleet",
            update_interval=self.base_interval,
        )

    async def _async_update_data(self) -> dict[str, Sim]:
        started = self.read_at = dt_util.utcnow()
        try:
            sims = await self.client.async_get_sims()
        except OneNceAuthenticationError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="auth_failed"
            ) from err
        except OneNceRateLimitError as err:
            # Stretch the next poll instead of hammering: at least what 1NCE
            # asked for, and longer while it keeps refusing.
            self.note_rate_limited()
            wait = timedelta(seconds=err.retry_after or 0)
            self.update_interval = max(self._next_interval(), wait)
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="rate_limited",
                translation_placeholders={"error": str(err)},
            ) from err
        except OneNceError as err:
            self.update_interval = self._next_interval()
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="update_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        self.polls += 1
        if self.slowdown > 1:
            self.slowdown //= 2
            LOGGER.debug("1NCE answers again; slowdown now %dx", self.slowdown)
        self.update_interval = self._next_interval()
        return self._with_pushed({sim.iccid: sim for sim in sims}, started)

    def streams(self) -> tuple[bool, bool]:
        """Whether the Data Streamer's usage and event streams deliver."""
        usage, events = self.streams_active()
        return bool(usage), bool(events)

    def _interval(self) -> timedelta:
        """Return the chosen interval; at least an hour while both streams deliver."""
        if all(self.streams()):
            return max(self.base_interval, STREAMED_LIST_INTERVAL)
        return self.base_interval

    def _next_interval(self) -> timedelta:
        """Return the time to the next list read; note whether streams stretched it."""
        self._streamed = all(self.streams())
        return self._slowed_interval()

    def _slowed_interval(self) -> timedelta:
        interval = self._interval()
        return min(interval * self.slowdown, max(interval, MAX_SLOWED_LIST_INTERVAL))

    def follow_stream_interval(self, now: datetime) -> None:
        """Read the list now if the streams stretched its interval and stopped.

        Called at each detail tick: when a stream falls silent, the hourly
        list goes back to the chosen interval within a minute, rather than
        after the hour it was scheduled for.
        """
        if not self._streamed or all(self.streams()) or not self.last_update_success:
            return
        if self.read_at is None or now - self.read_at >= self._slowed_interval() - (
            DETAIL_TICK / 2
        ):
            self.config_entry.async_create_background_task(
                self.hass, self.async_request_refresh(), f"{DOMAIN} list read"
            )

    @callback
    def async_apply_enabled(self, iccid: str, enabled: bool, when: datetime) -> None:
        """Show a SIM enabled or disabled as pushed, if newer than the list.

        A list read already on its way when the event came keeps it too.
        """
        sim = (self.data or {}).get(iccid)
        if sim is None or self.read_at is None or when <= self.read_at:
            return
        pushed = self._pushed_enabled.get(iccid)
        if pushed is not None and pushed[0] >= when:
            return
        self._pushed_enabled[iccid] = (when, enabled)
        if sim.enabled != enabled:
            self.data[iccid] = _enabled(sim, enabled)
            self.async_update_listeners()

    def _with_pushed(self, sims: dict[str, Sim], started: datetime) -> dict[str, Sim]:
        """Keep what was pushed after this list read was sent; forget the rest."""
        for iccid, (when, enabled) in list(self._pushed_enabled.items()):
            sim = sims.get(iccid)
            if when <= started or sim is None:
                del self._pushed_enabled[iccid]
            elif sim.enabled != enabled:
                sims[iccid] = _enabled(sim, enabled)
        return sims

    def note_rate_limited(self) -> None:
        """Slow list and details down after a 429, up to `MAX_SLOWDOWN` times.

        Called by the details too: the account's rate is one budget, and most
        of it goes to details.
        """
        self.slowdown = min(self.slowdown * 2, MAX_SLOWDOWN)
        self._slowed_at = dt_util.utcnow()
        LOGGER.debug("1NCE asked to slow down; slowdown now %dx", self.slowdown)

    def note_no_rate_limit(self) -> None:
        """Halve the slowdown once 1NCE has not refused anything for a while.

        Called by the details after each tick that asked 1NCE without a 429,
        so that a list read once a day does not keep them thinned for a day.
        """
        now = dt_util.utcnow()
        if self.slowdown > 1 and now - self._slowed_at >= SLOWDOWN_RELIEF:
            self.slowdown //= 2
            self._slowed_at = now
            LOGGER.debug("No 429 for a while; slowdown now %dx", self.slowdown)


def _enabled(sim: Sim, enabled: bool) -> Sim:
    """Return the SIM as the list would show it enabled or disabled."""
    return replace(sim, enabled=enabled, status="Enabled" if enabled else "Disabled")


class Part(StrEnum):
    """A part of a SIM's details that is read with a request of its own."""

    SMS_QUOTA = "sms_quota"
    DATA_QUOTA = "data_quota"
    CONNECTIVITY = "connectivity"


ALL_PARTS: Final = frozenset(Part)
QUOTA_PART: Final = {
    QuotaService.SMS: Part.SMS_QUOTA,
    QuotaService.DATA: Part.DATA_QUOTA,
}
_USAGE_QUOTA: Final = {
    UsageKind.SMS: QuotaService.SMS,
    UsageKind.DATA: QuotaService.DATA,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class SimDetails:
    """What the SIM list lacks: exact volumes, expiry and network state.

    The last network event is only read for SIMs whose "last network event"
    sensor is enabled; `last_event_known` tells whether it was (or one was
    pushed). Each part remembers the time it reflects (`*_at`, when its
    request was sent, or when the pushed event happened; unset: `fetched_at`),
    so that nothing older ever replaces something newer.
    """

    sms_quota: Quota
    data_quota: Quota
    connectivity: Connectivity
    fetched_at: datetime
    last_event: SimEvent | None = None
    last_event_known: bool = False
    sms_quota_at: datetime | None = None
    data_quota_at: datetime | None = None
    connectivity_at: datetime | None = None
    last_event_at: datetime | None = None

    def part_at(self, part: Part) -> datetime:
        """Return the time this part of the details reflects."""
        at = {
            Part.SMS_QUOTA: self.sms_quota_at,
            Part.DATA_QUOTA: self.data_quota_at,
            Part.CONNECTIVITY: self.connectivity_at,
        }[part]
        return at or self.fetched_at

    def after_event(self, event: NetworkEvent) -> SimDetails:
        """Apply a pushed event: the connection it implies, and the last event.

        Each only if the event is newer than what it already reflects: an
        event that arrives late (out of order, or after a poll that saw its
        effect) changes nothing.
        """
        when = event_time(event)
        details = self
        if when > self.part_at(Part.CONNECTIVITY) and (
            connectivity := connectivity_after(self.connectivity, event)
        ):
            details = replace(details, connectivity=connectivity, connectivity_at=when)
        if when > self.last_event_as_of():
            details = replace(
                details,
                last_event=sim_event_of(event),
                last_event_known=True,
                last_event_at=when,
            )
        return details

    def last_event_as_of(self) -> datetime:
        """Return the time the last event reflects: its read, or its own time."""
        if self.last_event_at is not None:
            return self.last_event_at
        if self.last_event is not None and self.last_event.timestamp is not None:
            return aware(self.last_event.timestamp)
        return _NEVER

    def merged(self, reading: Reading) -> SimDetails:
        """Take in what a read brought, part by part, where it is not older."""
        details, at = self, reading.at
        if reading.sms_quota is not None and at >= self.part_at(Part.SMS_QUOTA):
            details = replace(details, sms_quota=reading.sms_quota, sms_quota_at=at)
        if reading.data_quota is not None and at >= self.part_at(Part.DATA_QUOTA):
            details = replace(details, data_quota=reading.data_quota, data_quota_at=at)
        if reading.connectivity is not None and at >= self.part_at(Part.CONNECTIVITY):
            details = replace(
                details, connectivity=reading.connectivity, connectivity_at=at
            )
        if reading.last_event_known and at >= self.last_event_as_of():
            details = replace(
                details,
                last_event=reading.last_event,
                last_event_known=True,
                last_event_at=at,
            )
        if reading.cycle:
            details = replace(details, fetched_at=reading.at)
        return details


@dataclass(frozen=True, slots=True, kw_only=True)
class Reading:
    """What one read of a SIM brought: some parts, as of when it was sent.

    `cycle` marks the SIM's scheduled read (it restarts its detail interval);
    a single quota read, or an event log read alone, does not.
    """

    at: datetime
    cycle: bool = False
    sms_quota: Quota | None = None
    data_quota: Quota | None = None
    connectivity: Connectivity | None = None
    last_event: SimEvent | None = None
    last_event_known: bool = False

    @property
    def parts_read(self) -> frozenset[Part]:
        """The parts this read brought."""
        values = {
            Part.SMS_QUOTA: self.sms_quota,
            Part.DATA_QUOTA: self.data_quota,
            Part.CONNECTIVITY: self.connectivity,
        }
        return frozenset(part for part, value in values.items() if value is not None)

    def details(self) -> SimDetails | None:
        """Return the SIM's first details, if the read brought every part."""
        if (
            self.sms_quota is None
            or self.data_quota is None
            or self.connectivity is None
        ):
            return None
        return SimDetails(
            sms_quota=self.sms_quota,
            data_quota=self.data_quota,
            connectivity=self.connectivity,
            fetched_at=self.at,
            last_event=self.last_event,
            last_event_known=self.last_event_known,
            # Each part as of this read, so that a later read of one part
            # (which moves `fetched_at`) does not make the others look fresh.
            sms_quota_at=self.at,
            data_quota_at=self.at,
            connectivity_at=self.at,
            last_event_at=self.at if self.last_event_known else None,
        )


def _list_state(sim: Sim) -> tuple[object, ...]:
    """Pick the list fields whose change makes fetching the details urgent.

    Only changes the details would show differently and the list signals
    cheaply: the SIM switched on or off, a quota level crossed, its SMS quota
    changed (`current_quota_SMS` is the quota set, so a top-up), a new
    device. Data volume and IP addresses change on nearly every poll of any
    SIM online; counting them made most of a busy fleet urgent every poll.
    """
    return (
        sim.enabled,
        sim.sms_quota_level,
        sim.sms_quota,
        sim.data_quota_level,
        sim.imei,
    )


class DetailsCoordinator(DataUpdateCoordinator[dict[str, SimDetails]]):
    """Fetch per-SIM details a slice at a time, on a one-minute tick.

    Each SIM costs three requests (SMS quota, data quota, status), and a fourth
    (its newest event) while its last-event sensor is enabled. Every SIM is
    refreshed once per detail interval, spread evenly over it, so the load is
    3 x N requests per interval at a steady rate and never a burst. Which SIMs
    a tick asks for, and how it backs off, probes and logs when 1NCE
    struggles, is `DetailSchedule`'s (polling/details_schedule.py); this
    coordinator fetches what it chooses and tells it how that went. Nothing
    is asked while the list fails: its poll notices when 1NCE is back.

    While 1NCE's Data Streamer delivers (`follow_streams`), what it pushes is
    not polled: pushed events set the connection and the last event at once
    (`async_apply_network_event`), and the event log is not read; quotas are
    read after traffic (`async_note_streamed_usage`) and quota events, and
    otherwise once a day, as is the status while events arrive. When a
    stream falls silent, the polling above resumes by itself.
    """

    config_entry: OneNceConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: OneNceConfigEntry,
        client: OneNceClient,
        fleet: FleetCoordinator,
    ) -> None:
        """Follow the fleet coordinator, which decides which SIMs exist."""
        self.client = client
        self.fleet = fleet
        self.detail_interval = timedelta(
            minutes=entry.options.get(CONF_DETAIL_INTERVAL, DEFAULT_DETAIL_INTERVAL)
        )
        self.schedule = DetailSchedule(
            tick=DETAIL_TICK,
            interval=self.detail_interval,
            catch_up=DETAIL_CATCH_UP_BATCH,
            list_interval=fleet.base_interval,
            logger=LOGGER,
            now=dt_util.utcnow(),
        )
        self.quota_reads = QuotaReads(
            settle=SETTLE, longest=max(self.detail_interval, BUSY_LONGEST)
        )
        # State words this client does not know, warned about once each.
        self._unknown_words: set[tuple[str, str]] = set()
        self._sim_listeners: dict[str, list[CALLBACK_TYPE]] = {}
        # Events of SIMs whose details are not known yet, newest last.
        self._early_events: dict[str, list[NetworkEvent]] = {}
        # SIMs the streams named that the list lacked: each asks for one read.
        self._unlisted: set[str] = set()
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} SIM details",
            update_interval=DETAIL_TICK,
        )

    @property
    def failed(self) -> dict[str, SimFailure]:
        """The SIMs whose details failed, and when each may be asked again."""
        return self.schedule.failed

    def follow_streams(self, streams_active: Callable[[], tuple[bool, bool]]) -> None:
        """Learn from `streams_active` whether (usage, events) streams deliver.

        Each says whether that stream of 1NCE's Data Streamer delivered within
        the last day; it is asked at every tick and list poll.
        """
        self.fleet.streams_active = streams_active

    def note_fleet_update(self) -> None:
        """Queue SIMs whose list state changed since the last fleet poll."""
        fleet = self.fleet.data or {}
        self.schedule.note_list(
            {iccid: _list_state(sim) for iccid, sim in fleet.items()},
            list_ok=self.fleet.last_update_success,
            now=dt_util.utcnow(),
        )
        self._unlisted -= set(fleet)

    def request_soon(self, iccid: str) -> None:
        """Refresh one SIM's details at the next tick (e.g. after a change).

        Asked for by a person or an action, it skips the SIM's back-off once
        (should it fail again, its back-off goes on growing).
        """
        self.schedule.request_soon(iccid, dt_util.utcnow())

    @callback
    def async_watch_events(self, iccid: str) -> CALLBACK_TYPE:
        """Read the SIM's newest event with its details, until unwatched.

        Called by the SIM's last-event sensor when it is added, which happens
        only while it is enabled; its newest event is read alone at the next
        tick rather than waiting up to a whole detail interval.
        """
        self.schedule.watch_events(iccid)
        return partial(self.schedule.unwatch_events, iccid)

    @callback
    def async_add_sim_listener(
        self, iccid: str, update_callback: CALLBACK_TYPE
    ) -> CALLBACK_TYPE:
        """Call `update_callback` when a pushed event changed this SIM's details.

        Pushed events come one SIM at a time, many a minute in a large fleet:
        only the SIM's own entities hear of them, not every entity of the
        fleet as after a tick.
        """
        listeners = self._sim_listeners.setdefault(iccid, [])
        listeners.append(update_callback)

        @callback
        def remove() -> None:
            listeners.remove(update_callback)
            if not listeners:
                self._sim_listeners.pop(iccid, None)

        return remove

    def not_asked(self) -> set[str]:
        """Name the listed SIMs whose details were neither fetched nor failed yet."""
        return set(self.fleet.data or {}) - set(self.data or {}) - set(self.failed)

    def available(self, iccid: str) -> bool:
        """Whether this SIM's details are known and its last fetch worked."""
        return (
            self.last_update_success
            and iccid not in self.failed
            and iccid in (self.data or {})
        )

    # --- what the Data Streamer pushes -------------------------------------------

    @callback
    def async_apply_network_event(self, event: NetworkEvent) -> None:
        """Apply one pushed event of a SIM: no request, unless about a quota.

        The connection and the last event change at once (if the event is
        newer than what they show); the SIM's state in the list follows an
        enable or disable; a quota event has that quota read at once.
        """
        iccid = event.iccid
        self._note_named(iccid)
        if (enabled := enabled_after(event)) is not None:
            self.fleet.async_apply_enabled(iccid, enabled, event_time(event))
        data = self.data or {}
        current = data.get(iccid)
        if current is None:
            # Its first read comes soon, and reads its quotas anyway; what
            # happened after that read was sent is applied to it.
            early = self._early_events.setdefault(iccid, [])
            early.append(event)
            del early[:-EARLY_EVENTS_KEPT]
            return
        updated = current.after_event(event)
        if updated is not current:
            data[iccid] = updated
            for update_callback in list(self._sim_listeners.get(iccid, ())):
                update_callback()
        now = dt_util.utcnow()
        wanted = [
            service
            for service in quota_services(event)
            if event_time(event) > current.part_at(QUOTA_PART[service])
        ]
        for service in wanted:
            self.quota_reads.note_now((iccid, service), now)
        if wanted and self._may_ask_now():
            self.config_entry.async_create_background_task(
                self.hass, self._async_read_quotas_now(), f"{DOMAIN} quota read"
            )

    @callback
    def async_note_streamed_usage(self, records: Iterable[UsageRecord]) -> None:
        """Have the quotas that streamed traffic used read once it settles.

        Traffic older than the quota's last read is in it already; a SIM
        whose details were never read gets its quotas with its first read.
        """
        now = dt_util.utcnow()
        data = self.data or {}
        for record in records:
            self._note_named(record.iccid)
            if (current := data.get(record.iccid)) is None:
                continue
            service = _USAGE_QUOTA[record.kind]
            end = aware(record.end)
            if end > current.part_at(QUOTA_PART[service]):
                self.quota_reads.note_traffic((record.iccid, service), now)

    def _note_named(self, iccid: str) -> None:
        """Read the list once for a SIM a stream names that the list lacks."""
        fleet = self.fleet.data or {}
        if iccid in fleet or iccid in self._unlisted or not fleet:
            return
        self._unlisted.add(iccid)
        LOGGER.debug("The Data Streamer named SIM %s, which is not listed", iccid)
        self.config_entry.async_create_background_task(
            self.hass, self.fleet.async_request_refresh(), f"{DOMAIN} list read"
        )

    def _may_ask_now(self) -> bool:
        return self.fleet.last_update_success and not self.schedule.struggling

    async def _async_read_quotas_now(self) -> None:
        """Read the quotas due now, outside the tick (after a quota event)."""
        now = dt_util.utcnow()
        keys = self.quota_reads.due(now, limit=DETAIL_CATCH_UP_BATCH)
        if not keys:
            return
        errors = await self._read_quotas(keys, now)
        if any(isinstance(error, OneNceRateLimitError) for error in errors):
            self.fleet.note_rate_limited()
        for error in errors:
            LOGGER.debug("A quota could not be read after a quota event: %s", error)
        self.async_update_listeners()

    async def _read_quotas(
        self, keys: list[QuotaKey], now: datetime
    ) -> list[BaseException]:
        """Read single quotas into the SIMs' details; return what failed."""
        results = await asyncio.gather(
            *(self._read_quota(iccid, service) for iccid, service in keys),
            return_exceptions=True,
        )
        errors: list[BaseException] = []
        data = self.data or {}
        for key, result in zip(keys, results, strict=True):
            iccid, service = key
            if isinstance(result, BaseException):
                if isinstance(result, OneNceNotFoundError):
                    self.quota_reads.drop(iccid)
                else:
                    self.quota_reads.failed(key, now)
                    errors.append(result)
                continue
            self.quota_reads.read(key, now)
            if (current := data.get(iccid)) is not None:
                reading = (
                    Reading(at=now, sms_quota=result)
                    if service is QuotaService.SMS
                    else Reading(at=now, data_quota=result)
                )
                data[iccid] = current.merged(reading)
        return errors

    async def _read_quota(self, iccid: str, service: QuotaService) -> Quota:
        if service is QuotaService.SMS:
            return await self.client.async_get_sms_quota(iccid)
        return await self.client.async_get_data_quota(iccid)

    # --- the tick --------------------------------------------------------------------

    def _parts_due(
        self,
        details: SimDetails | None,
        now: datetime,
        streams: tuple[bool, bool],
        *,
        forced: bool,
    ) -> frozenset[Part]:
        """Choose the parts of a SIM to read: those older than their interval.

        While the usage stream delivers, quotas are read once a day (and after
        traffic); while the event stream does, the status too. A SIM read for
        the first time, or asked for, is read whole; one with nothing due
        still has its status read, so that a chosen SIM always asks 1NCE.
        """
        if details is None or forced:
            return ALL_PARTS
        usage, events = streams
        quotas = STREAMED_INTERVAL if usage else self.detail_interval
        status = STREAMED_INTERVAL if events else self.detail_interval
        slack = DETAIL_TICK / 2
        due = frozenset(
            part
            for part, every in (
                (Part.SMS_QUOTA, quotas),
                (Part.DATA_QUOTA, quotas),
                (Part.CONNECTIVITY, status),
            )
            if now - details.part_at(part) >= every - slack
        )
        return due or frozenset({Part.CONNECTIVITY})

    async def _fetch(
        self, iccid: str, now: datetime, parts: frozenset[Part], read_events: bool
    ) -> Reading:
        sms_quota, data_quota, connectivity, (last_event, known) = await gather_all(
            _maybe(self.client.async_get_sms_quota, iccid, Part.SMS_QUOTA in parts),
            _maybe(self.client.async_get_data_quota, iccid, Part.DATA_QUOTA in parts),
            _maybe(
                self.client.async_get_connectivity, iccid, Part.CONNECTIVITY in parts
            ),
            self._fetch_last_event(iccid) if read_events else _not_read(),
        )
        return Reading(
            at=now,
            cycle=True,
            sms_quota=sms_quota,
            data_quota=data_quota,
            connectivity=connectivity,
            last_event=last_event,
            last_event_known=known,
        )

    async def _fetch_last_event(self, iccid: str) -> tuple[SimEvent | None, bool]:
        """Read the SIM's newest event; say whether it was read.

        A failing event log only leaves the last event unknown: it must not
        cost the SIM its volumes. What stops everything (refused credentials,
        1NCE asking to slow down) still does.
        """
        try:
            events = await self.client.async_get_events(iccid, page_size=1)
        except (OneNceAuthenticationError, OneNceRateLimitError):
            raise
        except OneNceError as err:
            LOGGER.debug("Events of SIM %s could not be fetched: %s", iccid, err)
            return None, False
        # Newest first was asked for; should 1NCE ignore the order, the newest
        # of what it sent is still the best answer.
        epoch = dt_util.utc_from_timestamp(0)
        newest = max(events, key=lambda event: event.timestamp or epoch, default=None)
        return newest, True

    async def _fetch_events_due(self, now: datetime, *, pushed: bool) -> timedelta:
        """Read the newest event of SIMs whose sensor was just enabled.

        While events are pushed, only of SIMs for which none was pushed yet:
        one read fills the sensor in, the stream keeps it current. Returns
        how long 1NCE asked us to wait, as `_check_errors` does.
        """
        data = self.data or {}
        due: list[str] = []
        for iccid in self.schedule.events_due(data):
            self.schedule.reads_events(iccid)  # read now, or kept by the stream
            if not (pushed and data[iccid].last_event_known):
                due.append(iccid)
        results = await asyncio.gather(
            *(self._fetch_last_event(iccid) for iccid in due), return_exceptions=True
        )
        errors: list[BaseException] = []
        data = self.data or {}
        for iccid, result in zip(due, results, strict=True):
            if isinstance(result, BaseException):
                errors.append(result)
                continue
            last_event, known = result
            if (current := data.get(iccid)) is not None:
                data[iccid] = current.merged(
                    Reading(at=now, last_event=last_event, last_event_known=known)
                )
        if any(isinstance(error, OneNceRateLimitError) for error in errors):
            self.fleet.note_rate_limited()
        return self._check_errors(errors)

    async def _async_update_data(self) -> dict[str, SimDetails]:
        now = dt_util.utcnow()
        fleet = self.fleet.data or {}
        if not self.fleet.last_update_success or not fleet:
            # 1NCE is down or refusing us, and the list poll already said so
            # once; it also notices when 1NCE is back. Details would only add
            # a batch of doomed requests a minute. A list without any SIM is
            # a glitch (see note_fleet_update): what is known stays. Either
            # way the next tick is a minute away, not a Retry-After long ago.
            self.update_interval = DETAIL_TICK
            return dict(self.data or {})
        streams = self.fleet.streams()
        usage_pushed, events_pushed = streams
        # Everything pushed: each SIM's turn comes once a day (quotas and
        # status); otherwise once per detail interval, reading what is due.
        self.schedule.interval = (
            STREAMED_INTERVAL
            if usage_pushed and events_pushed
            else self.detail_interval
        )
        self.fleet.follow_stream_interval(now)
        self.schedule.forget_absent(fleet)
        self.quota_reads.forget_absent(fleet)
        for gone in set(self._early_events) - set(fleet):
            del self._early_events[gone]
        known = self.data or {}
        selected = self.schedule.select(
            now,
            list(fleet),
            {
                iccid: details.fetched_at
                for iccid, details in known.items()
                if iccid in fleet
            },
            slowdown=self.fleet.slowdown,
            polls=self.fleet.polls,
        )
        fetches = [
            self._fetch(
                iccid,
                now,
                self._parts_due(
                    known.get(iccid),
                    now,
                    streams,
                    forced=iccid in self.schedule.forced,
                ),
                read_events=not events_pushed and self.schedule.reads_events(iccid),
            )
            for iccid in selected
        ]
        quota_keys = (
            []
            if self.schedule.struggling
            else self.quota_reads.due(
                now,
                limit=math.ceil(DETAIL_CATCH_UP_BATCH / self.fleet.slowdown),
                skip=selected,
            )
        )
        results, quota_errors = await asyncio.gather(
            asyncio.gather(*fetches, return_exceptions=True),
            self._read_quotas(quota_keys, now),
        )
        # Pushed events may have changed the details meanwhile: merge into
        # what is known now, not into what was known when the tick began.
        data = {
            iccid: details
            for iccid, details in (self.data or {}).items()
            if iccid in fleet
        }
        fetched: list[str] = []
        not_found: dict[str, BaseException] = {}
        failed: dict[str, BaseException] = {}
        for iccid, result in zip(selected, results, strict=True):
            if isinstance(result, Reading):
                if (merged := self._take_in(data.get(iccid), iccid, result)) is None:
                    continue  # pragma: no cover  # a first read reads every part
                data[iccid] = merged
                fetched.append(iccid)
                self._note_unknown_words(result)
                for service, part in QUOTA_PART.items():
                    if part in result.parts_read:
                        self.quota_reads.read((iccid, service), now, for_traffic=False)
            elif isinstance(result, OneNceNotFoundError):
                data.pop(iccid, None)
                self.quota_reads.drop(iccid)
                not_found[iccid] = result
            else:
                failed[iccid] = result
        self.data = data
        errors = [*failed.values(), *quota_errors]
        if any(isinstance(error, OneNceRateLimitError) for error in errors):
            self.fleet.note_rate_limited()
        # Refused credentials and bugs surface here, before anything is logged.
        wait = self._check_errors(errors)
        self.schedule.record(
            now,
            TickResult(fetched=fetched, not_found=not_found, failed=failed),
            fleet_size=len(fleet),
            polls=self.fleet.polls,
        )
        if not self.schedule.struggling:
            wait = max(wait, await self._fetch_events_due(now, pushed=events_pushed))
        self.fleet.note_no_rate_limit()
        self.update_interval = max(DETAIL_TICK, wait)
        return self.data

    def _take_in(
        self, current: SimDetails | None, iccid: str, reading: Reading
    ) -> SimDetails | None:
        """Merge a read into the SIM's details, with the events that overtook it."""
        if current is not None:
            return current.merged(reading)
        details = reading.details()
        if details is None:
            return None  # pragma: no cover  # a first read reads every part
        for event in self._early_events.pop(iccid, ()):
            details = details.after_event(event)
        return details

    def _note_unknown_words(self, reading: Reading) -> None:
        """Warn once per state word 1NCE uses that this client does not know.

        Such a state shows as unknown; without a word in the log, a state
        1NCE introduced would look like a fault of the integration.
        """
        words: list[tuple[str, StrEnum | None, str | None]] = []
        if (connectivity := reading.connectivity) is not None:
            words.append(("connection", connectivity.status, connectivity.status_text))
        for quota in (reading.sms_quota, reading.data_quota):
            if quota is not None:
                words.append(("quota", quota.status, quota.status_text))
        for kind, known, text in words:
            if known is not None or text is None:
                continue
            if (kind, text.lower()) not in self._unknown_words:
                self._unknown_words.add((kind, text.lower()))
                LOGGER.warning(
                    "1NCE reported an unknown %s status %r; shown as unknown",
                    kind,
                    text,
                )

    def _check_errors(self, errors: list[BaseException]) -> timedelta:
        """Raise what must stop everything; return how long 1NCE asked us to wait.

        Refused credentials start reauthentication and anything that is not a
        1NCE error is a bug that must surface. Other per-SIM failures only make
        that SIM's entities unavailable until its next successful fetch.
        """
        wait = timedelta(0)
        for error in errors:
            if isinstance(error, OneNceAuthenticationError):
                raise ConfigEntryAuthFailed(
                    translation_domain=DOMAIN, translation_key="auth_failed"
                ) from error
            if not isinstance(error, OneNceError):
                raise error
            if isinstance(error, OneNceRateLimitError):
                wait = max(wait, timedelta(seconds=error.retry_after or 0))
        return wait


async def _maybe[T](
    read: Callable[[str], Awaitable[T]], iccid: str, wanted: bool
) -> T | None:
    """Read a part of a SIM's details if wanted."""
    return await read(iccid) if wanted else None


async def _not_read() -> tuple[SimEvent | None, bool]:
    return None, False
