"""Polling of the 1NCE fleet, and the typed config entry that carries it.

The SIM list is the cheap, complete view of the fleet: one request per 100 SIMs
gives every SIM's status and SMS/data quota level. This coordinator keeps it.

Both coordinators are frugal exactly when 1NCE struggles: a failing SIM is
asked again after 1, 2, 4 ... minutes, details wait while the list fails,
details failing across the board are probed one SIM at a time, and a 429
stretches the list interval and thins the detail batches until 1NCE recovers.
Each of these is logged once when it starts and once when it ends, however
many SIMs it concerns; single SIMs are logged at debug level.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial

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
            # Stretch the next poll instead of hammering: at least what 1NCE
            # asked for, and longer while it keeps refusing.
            self.note_rate_limited()
            wait = timedelta(seconds=err.retry_after or 0)
            self.update_interval = max(self._slowed_interval(), wait)
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="rate_limited",
                translation_placeholders={"error": str(err)},
            ) from err
        except OneNceError as err:
            self.update_interval = self._slowed_interval()
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="update_failed",
                translation_placeholders={"error": str(err)},
            ) from err
        self.polls += 1
        if self.slowdown > 1:
            self.slowdown //= 2
            LOGGER.debug("1NCE answers again; slowdown now %dx", self.slowdown)
        self.update_interval = self._slowed_interval()
        return {sim.iccid: sim for sim in sims}

    def _slowed_interval(self) -> timedelta:
        return min(
            self.base_interval * self.slowdown,
            max(self.base_interval, MAX_SLOWED_LIST_INTERVAL),
        )

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
        # State words this client does not know, warned about once each.
        self._unknown_words: set[tuple[str, str]] = set()
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

    def note_fleet_update(self) -> None:
        """Queue SIMs whose list state changed since the last fleet poll."""
        self.schedule.note_list(
            {iccid: _list_state(sim) for iccid, sim in (self.fleet.data or {}).items()},
            list_ok=self.fleet.last_update_success,
            now=dt_util.utcnow(),
        )

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

    async def _fetch(self, iccid: str, now: datetime) -> SimDetails:
        sms_quota, data_quota, connectivity, (last_event, known) = await gather_all(
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
        if not self.schedule.reads_events(iccid):
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
        due = self.schedule.events_due(data)
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
        data = {
            iccid: details
            for iccid, details in (self.data or {}).items()
            if iccid in fleet
        }
        self.schedule.forget_absent(fleet)
        selected = self.schedule.select(
            now,
            list(fleet),
            {iccid: details.fetched_at for iccid, details in data.items()},
            slowdown=self.fleet.slowdown,
            polls=self.fleet.polls,
        )
        results = await asyncio.gather(
            *(self._fetch(iccid, now) for iccid in selected), return_exceptions=True
        )
        fetched: list[str] = []
        not_found: dict[str, BaseException] = {}
        failed: dict[str, BaseException] = {}
        for iccid, result in zip(selected, results, strict=True):
            if isinstance(result, SimDetails):
                data[iccid] = result
                fetched.append(iccid)
                self._note_unknown_words(result)
            elif isinstance(result, OneNceNotFoundError):
                data.pop(iccid, None)
                not_found[iccid] = result
            else:
                failed[iccid] = result
        errors = list(failed.values())
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
            wait = max(wait, await self._fetch_events_due(data))
        self.fleet.note_no_rate_limit()
        self.update_interval = max(DETAIL_TICK, wait)
        return data

    def _note_unknown_words(self, details: SimDetails) -> None:
        """Warn once per state word 1NCE uses that this client does not know.

        Such a state shows as unknown; without a word in the log, a state
        1NCE introduced would look like a fault of the integration.
        """
        for kind, known, text in (
            (
                "connection",
                details.connectivity.status,
                details.connectivity.status_text,
            ),
            ("quota", details.sms_quota.status, details.sms_quota.status_text),
            ("quota", details.data_quota.status, details.data_quota.status_text),
        ):
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
