"""Polling of the 1NCE fleet, and the typed config entry that carries it.

The SIM list is the cheap, complete view of the fleet: one request per 100 SIMs
gives every SIM's status and SMS/data quota level. This coordinator keeps it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
import math
from typing import TYPE_CHECKING

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
from .limits import LimitsCoordinator
from .usage import UsageCoordinator

if TYPE_CHECKING:
    from .delivery import DeliveryTracker


@dataclass(slots=True)
class OneNceRuntimeData:
    """What a loaded entry owns: its client and its coordinators."""

    client: OneNceClient
    fleet: FleetCoordinator
    details: DetailsCoordinator
    usage: UsageCoordinator
    limits: LimitsCoordinator
    delivery: DeliveryTracker


type OneNceConfigEntry = ConfigEntry[OneNceRuntimeData]


class FleetCoordinator(DataUpdateCoordinator[dict[str, Sim]]):
    """Keep the account's SIM list, keyed by ICCID.

    Failures are left to DataUpdateCoordinator, which marks entities
    unavailable, logs once when 1NCE goes away and once when it is back.
    Refused credentials start Home Assistant's reauthentication flow.
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
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} fleet",
            update_interval=self.base_interval,
        )

    async def _async_update_data(self) -> dict[str, Sim]:
        try:
            sims = await self.client.async_get_sims()
        except OneNceAuthenticationError as err:
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="auth_failed"
            ) from err
        except OneNceRateLimitError as err:
            # Stretch the next poll to what 1NCE asked for instead of hammering.
            wait = timedelta(seconds=err.retry_after or 0)
            self.update_interval = max(self.base_interval, wait)
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="rate_limited",
                translation_placeholders={"error": str(err)},
            ) from err
        except OneNceError as err:
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="update_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        self.update_interval = self.base_interval
        return {sim.iccid: sim for sim in sims}


@dataclass(frozen=True, slots=True, kw_only=True)
class SimDetails:
    """What the SIM list lacks: exact volumes, expiry and network state.

    The last network event is only read for SIMs whose "last network event"
    sensor is enabled; `last_event_known` tells whether it was.
    """

    sms_quota: Quota
    data_quota: Quota
    connectivity: Connectivity
    fetched_at: datetime
    last_event: SimEvent | None = None
    last_event_known: bool = False


def _list_state(sim: Sim) -> tuple[object, ...]:
    """Pick the list fields whose change makes fetching the details urgent."""
    return (
        sim.enabled,
        sim.sms_quota_level,
        sim.data_quota_level,
        sim.sms_quota,
        sim.data_quota_mb,
        sim.ip_address,
        sim.imei,
    )


class DetailsCoordinator(DataUpdateCoordinator[dict[str, SimDetails]]):
    """Fetch per-SIM details a slice at a time, on a one-minute tick.

    Each SIM costs three requests (SMS quota, data quota, status), and a fourth
    (its newest event) while its last-event sensor is enabled. Every SIM is
    refreshed once per detail interval, spread evenly over it, so the load is
    3 x N requests per interval at a steady rate and never a burst. A SIM whose
    list state changed (status, quota level, volume) jumps the queue.
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
        self.failed: set[str] = set()
        self._urgent: set[str] = set()
        self._event_watchers: set[str] = set()
        self._events_due: set[str] = set()
        self._list_states: dict[str, tuple[object, ...]] = {}
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} SIM details",
            update_interval=DETAIL_TICK,
        )

    def note_fleet_update(self) -> None:
        """Queue SIMs whose list state changed since the last fleet poll."""
        for iccid, sim in (self.fleet.data or {}).items():
            state = _list_state(sim)
            previous = self._list_states.get(iccid)
            if previous is not None and previous != state:
                self._urgent.add(iccid)
            self._list_states[iccid] = state
        for gone in set(self._list_states) - set(self.fleet.data or {}):
            del self._list_states[gone]
            self._urgent.discard(gone)

    def request_soon(self, iccid: str) -> None:
        """Refresh one SIM's details at the next tick (e.g. after a change)."""
        self._urgent.add(iccid)

    @callback
    def async_watch_events(self, iccid: str) -> CALLBACK_TYPE:
        """Read the SIM's newest event with its details, until unwatched.

        Called by the SIM's last-event sensor when it is added, which happens
        only while it is enabled; its newest event is read alone at the next
        tick rather than waiting up to a whole detail interval.
        """
        self._event_watchers.add(iccid)
        self._events_due.add(iccid)

        @callback
        def unwatch() -> None:
            self._event_watchers.discard(iccid)
            self._events_due.discard(iccid)

        return unwatch

    def available(self, iccid: str) -> bool:
        """Whether this SIM's details are known and its last fetch worked."""
        return (
            self.last_update_success
            and iccid not in self.failed
            and iccid in (self.data or {})
        )

    def _select(self, now: datetime) -> list[str]:
        sims = list(self.fleet.data or {})
        known = self.data or {}
        never = [iccid for iccid in sims if iccid not in known]
        stale = sorted(
            (
                iccid
                for iccid in sims
                if iccid in known
                # Half a tick's slack: ticks come a few milliseconds early or
                # late, and a strict comparison would add a whole tick.
                and now - known[iccid].fetched_at
                >= self.detail_interval - DETAIL_TICK / 2
            ),
            key=lambda iccid: known[iccid].fetched_at,
        )
        urgent = [iccid for iccid in sims if iccid in self._urgent]
        # Enough per tick to cover the fleet once per interval; more while
        # SIMs have never been fetched, so a new setup fills in quickly.
        steady = math.ceil(len(sims) * (DETAIL_TICK / self.detail_interval))
        budget = max(steady, DETAIL_CATCH_UP_BATCH if never else 0)
        selected = list(dict.fromkeys([*urgent, *never, *stale]))
        return selected[: max(budget, len(urgent))]

    async def _fetch(self, iccid: str, now: datetime) -> SimDetails:
        sms_quota, data_quota, connectivity, (last_event, known) = await asyncio.gather(
            self.client.async_get_sms_quota(iccid),
            self.client.async_get_data_quota(iccid),
            self.client.async_get_connectivity(iccid),
            self._fetch_last_event(iccid),
        )
        return SimDetails(
            sms_quota=sms_quota,
            data_quota=data_quota,
            connectivity=connectivity,
            fetched_at=now,
            last_event=last_event,
            last_event_known=known,
        )

    async def _fetch_last_event(self, iccid: str) -> tuple[SimEvent | None, bool]:
        """Read the SIM's newest event if it is watched; say whether it was read.

        A failing event log only leaves the last event unknown: it must not
        cost the SIM its volumes. What stops everything (refused credentials,
        1NCE asking to slow down) still does.
        """
        self._events_due.discard(iccid)
        if iccid not in self._event_watchers:
            return None, False
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

    async def _fetch_events_due(self, data: dict[str, SimDetails]) -> timedelta:
        """Read the newest event of SIMs whose sensor was just enabled.

        Returns how long 1NCE asked us to wait, as `_check_errors` does.
        """
        due = [iccid for iccid in self._events_due if iccid in data]
        results = await asyncio.gather(
            *(self._fetch_last_event(iccid) for iccid in due), return_exceptions=True
        )
        errors: list[BaseException] = []
        for iccid, result in zip(due, results, strict=True):
            if isinstance(result, BaseException):
                errors.append(result)
                continue
            last_event, known = result
            data[iccid] = replace(
                data[iccid], last_event=last_event, last_event_known=known
            )
        return self._check_errors(errors)

    async def _async_update_data(self) -> dict[str, SimDetails]:
        now = dt_util.utcnow()
        fleet = self.fleet.data or {}
        data = {
            iccid: details
            for iccid, details in (self.data or {}).items()
            if iccid in fleet
        }
        self.failed &= set(fleet)
        selected = self._select(now)
        if not selected:
            if wait := await self._fetch_events_due(data):
                self.update_interval = max(DETAIL_TICK, wait)
            return data
        results = await asyncio.gather(
            *(self._fetch(iccid, now) for iccid in selected), return_exceptions=True
        )
        errors: list[BaseException] = []
        for iccid, result in zip(selected, results, strict=True):
            self._urgent.discard(iccid)
            if isinstance(result, SimDetails):
                data[iccid] = result
                self.failed.discard(iccid)
                continue
            if isinstance(result, OneNceNotFoundError):
                # The SIM left the account; the next fleet poll removes it.
                data.pop(iccid, None)
                continue
            self.failed.add(iccid)
            errors.append(result)
        # Per-SIM failures only make that SIM's detail entities unavailable
        # (`failed`); an outage of 1NCE as a whole is the fleet coordinator's
        # to report, once, since it polls the list every cycle.
        wait = max(self._check_errors(errors), await self._fetch_events_due(data))
        self.update_interval = max(DETAIL_TICK, wait)
        if errors:
            LOGGER.debug(
                "Details of %d of %d SIMs could not be fetched: %s",
                len(errors),
                len(selected),
                errors[0],
            )
        return data

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
