"""Daily SMS and data usage of the fleet: history in the recorder, this month in memory.

Only 1NCE's v1 API reports usage, one request per SIM for any window within
the last six months. Once a day every SIM's usage is fetched, concurrently
through the client's rate limiter, from the last day already stored (it may
have been partial) up to today, and written as long-term statistics
(`statistics.py`). The first run backfills six months, still one request per
SIM. The current month's days stay in memory for the account's "this month"
sensors.

1NCE's rows are calendar dates. They are stored on those dates in Home
Assistant's time zone, and "this month" is the local month. The newest date
asked for is today's in both UTC and local time, whichever is earlier, so no
row is ever stored for a date that has not begun here.
"""

from __future__ import annotations

import asyncio
import calendar
from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.recorder import get_instance
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from .api import (
    OneNceClient,
    OneNceError,
    OneNceFeatureUnavailableError,
    Sim,
    Usage,
    UsageDay,
)
from .const import DOMAIN, LOGGER
from .statistics import (
    StoredTail,
    Subject,
    async_import_usage,
    async_stored_tails,
    fleet_subject,
    sim_subject,
)

USAGE_INTERVAL: Final = timedelta(days=1)
# 1NCE keeps usage for the last six months.
MONTHS_KEPT: Final = 6

type SimsGetter = Callable[[], Mapping[str, Sim]]


def usage_today() -> date:
    """Return the newest date to ask 1NCE for and to store (see the module doc)."""
    return min(dt_util.now().date(), dt_util.utcnow().date())


def month_start() -> date:
    """Return the first day of the current month in Home Assistant's time zone."""
    return dt_util.now().date().replace(day=1)


def months_back(day: date, months: int) -> date:
    """Go back `months` calendar months to the same day (or that month's end)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last_day))


def consecutive_days(
    days: Iterable[UsageDay], start: date, end: date
) -> list[UsageDay]:
    """Every day from `start` through the last day reported, gaps filled with zero.

    Statistics rows must follow each other day by day so that the day before a
    re-imported window always has a row to continue from. Days after the last
    one 1NCE reported are not invented: they may only not be counted yet.
    """
    by_day = {day.day: day for day in days if start <= day.day <= end}
    if not by_day:
        return []
    count = (max(by_day) - start).days + 1
    return [
        by_day.get(day) or UsageDay(day=day, sms_mt=0, sms_mo=0, data_mb=0.0)
        for day in (start + timedelta(days=offset) for offset in range(count))
    ]


def _fleet_days(
    fetched: Iterable[list[UsageDay]], start: date, end: date
) -> list[UsageDay]:
    totals: dict[date, UsageDay] = {}
    for days in fetched:
        for day in days:
            total = totals.get(day.day)
            totals[day.day] = (
                day
                if total is None
                else UsageDay(
                    day=day.day,
                    sms_mt=total.sms_mt + day.sms_mt,
                    sms_mo=total.sms_mo + day.sms_mo,
                    data_mb=total.data_mb + day.data_mb,
                )
            )
    return consecutive_days(totals.values(), start, end)


@callback
def _keep_polling() -> None:
    """Listen without doing anything, so the daily import runs with no entities."""


class UsageCoordinator(DataUpdateCoordinator[dict[str, list[UsageDay] | None]]):
    """Import the fleet's daily usage once a day; keep this month's days.

    `data` maps each SIM of the last poll to its days of this month, or to None
    while they are not all known (its fetch failed since Home Assistant
    started). A SIM that fails later keeps the days last fetched. When 1NCE no
    longer offers usage (v1 retired) it says so once and stops polling; other
    failures leave the day's poll failed and the next day catches up, since it
    starts from the last day stored.
    """

    config_entry: ConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        client: OneNceClient,
        sims: SimsGetter,
    ) -> None:
        """Follow whichever SIMs `sims` returns (ICCID -> SIM) at each poll."""
        self.client = client
        self._sims = sims
        self.fleet = fleet_subject(entry)
        self.supported = True
        self._month_days: dict[str, dict[date, UsageDay]] = {}
        self._covered_from: dict[str, date] = {}
        super().__init__(
            hass,
            LOGGER,
            config_entry=entry,
            name=f"{DOMAIN} usage",
            update_interval=USAGE_INTERVAL,
        )
        # The import is the point of this coordinator, entities or not. The
        # listener goes with the entry: a refresh still running at unload
        # would otherwise schedule the next one after the shutdown.
        entry.async_on_unload(self.async_add_listener(_keep_polling))

    def month_totals(self) -> tuple[int, int] | None:
        """Count this month's SMS sent (MT) and received (MO) over the fleet, so far.

        None before the first successful poll, once 1NCE offers no usage, and
        while any SIM's month is unknown: a sum that leaves SIMs out would
        drop and rise again, which long-term statistics would record as SMS
        that were never sent. Months are local months.
        """
        if not self.supported or self.data is None:
            return None
        known = [days for days in self.data.values() if days is not None]
        if len(known) < len(self.data):
            return None
        month = month_start()
        days = [day for days in known for day in days if day.day >= month]
        return sum(day.sms_mt for day in days), sum(day.sms_mo for day in days)

    async def _async_update_data(self) -> dict[str, list[UsageDay] | None]:
        if not self.supported:
            return {}
        today = usage_today()
        first = month_start()
        sims = dict(self._sims())
        subjects = {iccid: sim_subject(iccid, sim.label) for iccid, sim in sims.items()}
        for gone in set(self._month_days) - set(sims):
            del self._month_days[gone]
            self._covered_from.pop(gone, None)

        recording = await self._async_recording()
        tails = (
            await async_stored_tails(
                self.hass,
                (
                    statistic_id
                    for subject in (self.fleet, *subjects.values())
                    for statistic_id in subject.statistic_ids.values()
                ),
            )
            if recording
            else {}
        )
        if recording:
            starts, fleet_start = self._windows(subjects, tails, today, first)
        else:
            # Nothing to import into: fetch only what this month's totals need.
            # Just after local midnight on the 1st, east of Greenwich, the
            # month has begun here but not yet in UTC, so it has no day yet.
            fleet_start = min(first, today)
            starts = dict.fromkeys(sims, fleet_start)

        results = await asyncio.gather(
            *(
                self.client.async_get_usage(iccid, starts[iccid], today)
                for iccid in sims
            ),
            return_exceptions=True,
        )
        fetched: dict[str, list[UsageDay]] = {}
        errors: list[OneNceError] = []
        for iccid, result in zip(sims, results, strict=True):
            if isinstance(result, Usage):
                fetched[iccid] = consecutive_days(result.days, starts[iccid], today)
                self._remember(iccid, starts[iccid], fetched[iccid], first)
            elif isinstance(result, OneNceError):
                LOGGER.debug("Usage of SIM %s not fetched: %s", iccid, result)
                errors.append(result)
            else:
                raise result

        if errors and not fetched:
            if all(
                isinstance(error, OneNceFeatureUnavailableError) for error in errors
            ):
                return self._give_up(errors[0])
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="update_failed",
                translation_placeholders={"error": str(errors[0])},
            ) from errors[0]
        if recording and fetched:
            imports: list[tuple[Subject, list[UsageDay]]] = [
                (subjects[iccid], days) for iccid, days in fetched.items()
            ]
            imports.append(
                (self.fleet, _fleet_days(fetched.values(), fleet_start, today))
            )
            await async_import_usage(self.hass, imports, tails)
        return {
            iccid: (
                sorted(self._month_days[iccid].values(), key=lambda day: day.day)
                if self._covered_from.get(iccid, date.max) <= first
                else None
            )
            for iccid in sims
        }

    async def _async_recording(self) -> bool:
        """Whether there is a recorder to import into (it is optional)."""
        if "recorder" not in self.hass.config.components:
            return False
        return await get_instance(self.hass).async_db_ready

    def _windows(
        self,
        subjects: Mapping[str, Subject],
        tails: Mapping[str, StoredTail],
        today: date,
        first: date,
    ) -> tuple[dict[str, date], date]:
        """Choose each SIM's first day to fetch, and the fleet's.

        SIMs with history, and the fleet, restart together from the earliest
        last stored day among them, so the fleet's days are summed from every
        SIM's (a SIM that failed yesterday pulls the fleet back to heal it). A
        SIM without history is backfilled for six months. On the first poll of
        a month in memory, the window also reaches back to the month's start.
        """
        floor = months_back(today, MONTHS_KEPT)
        candidates = [
            tail.day
            for subject in subjects.values()
            if (tail := tails.get(subject.key_id)) is not None
        ]
        fleet_tail = tails.get(self.fleet.key_id)
        candidates.append(fleet_tail.day if fleet_tail is not None else floor)
        if any(self._covered_from.get(iccid, date.max) > first for iccid in subjects):
            candidates.append(first)
        common = min(max(min(candidates), floor), today)
        starts = {
            iccid: common if subject.key_id in tails else floor
            for iccid, subject in subjects.items()
        }
        return starts, common

    def _remember(
        self, iccid: str, start: date, days: list[UsageDay], first: date
    ) -> None:
        """Keep this month's days of a SIM and how far back they are complete."""
        kept = {
            day: usage
            for day, usage in self._month_days.get(iccid, {}).items()
            if day >= first
        }
        kept.update((usage.day, usage) for usage in days if usage.day >= first)
        self._month_days[iccid] = kept
        self._covered_from[iccid] = min(start, self._covered_from.get(iccid, start))

    def _give_up(self, error: OneNceError) -> dict[str, list[UsageDay] | None]:
        """Stop for good: the usage endpoint is gone, asking daily will not help."""
        LOGGER.warning(
            "1NCE no longer offers usage history (its v1 API is retired), so SMS "
            "and data usage is not imported any more: %s",
            error,
        )
        self.supported = False
        self.update_interval = None
        return {}
