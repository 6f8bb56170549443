"""Daily SMS and data usage of the fleet: history in the recorder, this month in memory.

1NCE's v1 API reports usage, one request per SIM for any window within the
last six months. A SIM it answers no usage for (a Platform 2.0 SIM, or every
SIM once v1 is retired) is counted from its SMS list and data quota instead
(`ledger.py`), and the Data Streamer's records, when they come, are the
preferred source of the days they own (`stream.py`). Each SIM's days come
from one source each, into the same statistics and month totals.

Once a day every SIM's usage is fetched, concurrently through the client's
rate limiter, from the last day already stored (it may have been partial) up
to today, and written as long-term statistics (`statistics.py`). The first run backfills six months, still one request per
SIM. The current month's days stay in memory for the account's "this month"
sensors.

A SIM whose usage fails is asked again, alone, after an hour, then two, four
... hours, at least daily; the fleet's days are then summed again with it. When
a SIM keeps failing, the log says so once and this month's totals count the
other SIMs: a total that waits for a broken SIM would stay unknown for good.

1NCE's rows are calendar dates. They are stored on those dates in Home
Assistant's time zone, and "this month" is the local month. The newest date
asked for is today's in both UTC and local time, whichever is earlier, so no
row is ever stored for a date that has not begun here. Rows stored in another
zone (Home Assistant's was changed) are cleared and imported again, once.
"""

from __future__ import annotations

import asyncio
import calendar
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Final

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import async_call_later
from homeassistant.helpers.recorder import get_instance
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed
from homeassistant.util import dt as dt_util

from ..api import (
    OneNceClient,
    OneNceError,
    OneNceFeatureUnavailableError,
    Quota,
    Sim,
    UsageDay,
)
from ..api.records import UsageRecord
from ..const import CONF_LIST_INTERVAL, DEFAULT_LIST_INTERVAL, DOMAIN, LOGGER
from ..polling.backoff import Backoff
from ..statistics import (
    HourlyFrom,
    StoredTail,
    Subject,
    ZoneRecord,
    async_import_usage,
    async_stored_tails,
    clear_usage,
    fleet_subject,
    sim_subject,
)
from .ledger import SMS_LIST_REACH, UsageLedger
from .stream import add_usage

USAGE_INTERVAL: Final = timedelta(days=1)
# A SIM whose usage failed is asked again after this, then twice as long each
# time, at most daily.
FIRST_RETRY: Final = timedelta(hours=1)
# The wait after a SIM's n-th failure in a row: 1 h, 2 h, 4 h ... a day.
RETRY_DELAYS: Final = Backoff(FIRST_RETRY, USAGE_INTERVAL)
# Failures in a row after which a SIM is reported, and this month's totals
# stop waiting for it.
FAILURES_REPORTED: Final = 3
# Timers fire a little early or late: a poll this close to the daily one is it.
_SLACK: Final = timedelta(minutes=1)
# SIMs named in one log line; more are counted.
_NAMED: Final = 5
# 1NCE keeps usage for the last six months.
MONTHS_KEPT: Final = 6
# Streamed records reach the recorder this long after a batch, batched.
STREAM_IMPORT_DELAY: Final = timedelta(minutes=1)
# Days before the month kept in memory, to sum the fleet's streamed days.
_DAYS_BEFORE_MONTH: Final = timedelta(days=7)

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


def _named(iccids: list[str]) -> str:
    """Name a few SIMs in a log line; a fleet-wide outage must not fill the log."""
    named = ", ".join(iccids[:_NAMED])
    if len(iccids) > _NAMED:
        named += f" and {len(iccids) - _NAMED} more"
    return named


@callback
def _keep_polling() -> None:
    """Listen without doing anything, so the daily import runs with no entities."""


@dataclass(frozen=True, slots=True, kw_only=True)
class _Failing:
    """A SIM whose usage failed: how often in a row, and when to ask again."""

    count: int
    retry_at: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class _Pending:
    """What the last daily poll left undone, for the retries to finish.

    A retried SIM is fetched for the same days the poll asked for, and the
    fleet's days of that window are summed again from the SIMs fetched by
    then (`fleet_days`) and the retried one, so the fleet heals within hours
    instead of at the next day's poll.
    """

    sims: tuple[str, ...]  # every SIM of the poll, for this month's totals
    starts: Mapping[str, date]  # failed SIM -> first day to fetch
    subjects: Mapping[str, Subject]  # failed SIM -> its statistics
    end: date
    fleet_start: date
    fleet_days: list[UsageDay]
    recording: bool
    time_zone: str


class UsageCoordinator(DataUpdateCoordinator[dict[str, list[UsageDay] | None]]):
    """Import the fleet's daily usage once a day; keep this month's days.

    `data` maps each SIM of the last poll to its days of this month, or to None
    while they are not all known (its fetch failed since Home Assistant
    started). A SIM that fails later keeps the days last fetched. Failed SIMs
    are retried alone, sooner than daily (see the module doc). When no source
    answers for any SIM (v1's usage and the SMS list both gone) it says so
    once and stops polling.

    `async_add_streamed` takes the Data Streamer's usage records: this
    month's totals follow at once, the recorder a minute later.
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
        self._failing: dict[str, _Failing] = {}
        self._pending: _Pending | None = None
        self._next_daily: datetime | None = None
        self._empty_list_seen = False
        self._zones = ZoneRecord(hass, entry.entry_id)
        self.ledger = UsageLedger(hass, entry.entry_id)
        self._loaded = False
        self._switched: list[str] = []
        self._streamed: dict[str, date] = {}  # SIM -> first day to import
        self._cancel_stream_import: Callable[[], None] | None = None
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

    async def async_load(self) -> None:
        """Read what the fallback sources and the stream counted before."""
        if not self._loaded:
            self._loaded = True
            await self.ledger.async_load()

    async def async_shutdown(self) -> None:
        """Stop polling; write what was counted now rather than in a few seconds.

        Streamed records whose import was still waiting are in the Store and
        reach the recorder with the next poll after a restart.
        """
        await super().async_shutdown()
        if self._cancel_stream_import is not None:
            self._cancel_stream_import()
            self._cancel_stream_import = None
        if self._loaded:
            await self.ledger.async_save()

    @callback
    def note_quotas(self, readings: Mapping[str, tuple[Quota, datetime]]) -> None:
        """Take each SIM's data quota as the details coordinator read it."""
        for iccid, (quota, at) in readings.items():
            if self._loaded:
                self.ledger.note_quota(iccid, quota, at)

    async def async_add_streamed(self, records: list[UsageRecord]) -> None:
        """Count a batch of the Data Streamer's new usage records.

        The records are new (the receiver removed repeats). This month's
        totals change at once; the recorder gets the days a minute later,
        one import for every batch of that minute.
        """
        await self.async_load()
        changed = self.ledger.stream.add(records, dt_util.utcnow())
        if not changed:
            return
        self.ledger.save_soon()
        keep_from = month_start() - _DAYS_BEFORE_MONTH
        for iccid, days in changed.items():
            kept = self._month_days.get(iccid)
            if kept is not None:
                for day in days:
                    if day >= keep_from:
                        kept[day] = self.ledger.stream.day(iccid, day)
            first = min(days)
            self._streamed[iccid] = min(first, self._streamed.get(iccid, first))
        known: dict[str, list[UsageDay] | None] | None = self.data
        if known is not None:
            self.data = self._month_data(known)
            self.async_update_listeners()
        if self._cancel_stream_import is None:
            self._cancel_stream_import = async_call_later(
                self.hass, STREAM_IMPORT_DELAY, self._async_import_streamed
            )

    async def _async_import_streamed(self, _now: datetime) -> None:
        """Write the streamed days, and the fleet's, to the recorder."""
        self._cancel_stream_import = None
        streamed, self._streamed = self._streamed, {}
        sims: Mapping[str, Sim] = self._sims()
        if not await self._async_recording():
            return
        keep_from = month_start() - _DAYS_BEFORE_MONTH
        today = usage_today()
        subjects = {
            iccid: sim_subject(iccid, sims[iccid].label)
            for iccid in streamed
            if iccid in sims and iccid in self._month_days
        }
        if not subjects:
            return
        if await self._zones.async_foreign(
            (self.fleet, *subjects.values()),
            await async_stored_tails(
                self.hass,
                (subject.key_id for subject in (self.fleet, *subjects.values())),
            ),
        ):
            # Home Assistant's zone changed: the daily poll clears and
            # imports these anew first (streamed days included).
            return
        start = max(min(streamed[iccid] for iccid in subjects), keep_from)
        imports = [
            (iccid, consecutive_days(self._month_days[iccid].values(), start, today))
            for iccid in subjects
        ]
        fleet_days = _fleet_days(
            [
                list(days.values())
                for iccid, days in self._month_days.items()
                if iccid in sims
            ],
            start,
            today,
        )
        tails = await async_stored_tails(
            self.hass,
            (
                statistic_id
                for subject in (self.fleet, *subjects.values())
                for statistic_id in subject.statistic_ids.values()
            ),
        )
        await self._async_import(
            [(iccid, subjects[iccid], days) for iccid, days in imports],
            fleet_days,
            tails,
            sims,
        )

    def month_totals(self) -> tuple[int, int] | None:
        """Count this month's SMS sent (MT) and received (MO) over the fleet, so far.

        None before the first successful poll, once 1NCE offers no usage, and
        while any SIM's month is unknown: a sum that leaves SIMs out would
        drop and rise again, which long-term statistics would record as SMS
        that were never sent. A SIM that keeps failing is not waited for
        (`not_counted`): its SMS are added when it is back, a late rise but
        never a drop. Months are local months.
        """
        if not self.supported or self.data is None:
            return None
        if any(
            days is None and not self._given_up(iccid)
            for iccid, days in self.data.items()
        ):
            return None
        month = month_start()
        days = [
            day
            for days in self.data.values()
            if days is not None
            for day in days
            if day.day >= month
        ]
        return sum(day.sms_mt for day in days), sum(day.sms_mo for day in days)

    def not_counted(self) -> list[str]:
        """Name the SIMs the totals leave out: month unknown, failing for long."""
        # None before the first successful poll, whatever the base class says.
        data: dict[str, list[UsageDay] | None] | None = self.data
        if data is None:
            return []
        return [
            iccid
            for iccid, days in data.items()
            if days is None and self._given_up(iccid)
        ]

    def _given_up(self, iccid: str) -> bool:
        failing = self._failing.get(iccid)
        return failing is not None and failing.count >= FAILURES_REPORTED

    async def _async_update_data(self) -> dict[str, list[UsageDay] | None]:
        if not self.supported:
            return {}
        await self.async_load()
        now = dt_util.utcnow()
        pending = self._pending
        try:
            if (
                pending is not None
                and self._next_daily is not None
                and now + _SLACK < self._next_daily
                # Rows of another zone must first be cleared by the daily poll.
                and pending.time_zone == self.hass.config.time_zone
            ):
                return await self._async_retry(pending, now)
            return await self._async_daily(now)
        except Exception:
            # Whatever failed (the recorder, an import), the daily poll is
            # tomorrow's and the retries keep their own pauses: an interval
            # left from an hourly retry must not make the daily poll hourly.
            self.update_interval = self._next_interval(now)
            raise

    async def _async_daily(self, now: datetime) -> dict[str, list[UsageDay] | None]:
        """Fetch every SIM from its last stored day (or six months back)."""
        sims = dict(self._sims())
        if not sims and self.data and not self._empty_list_seen:
            # The list answering `[]` once is more likely a glitch than the
            # whole fleet gone: taking it at its word would drop this month's
            # totals to 0 until tomorrow. An empty list is believed when it is
            # still empty after the list was polled again (twice, to be sure,
            # and not before an hour).
            LOGGER.debug("The SIM list is empty; usage is kept and asked again soon")
            self._empty_list_seen = True
            list_interval = timedelta(
                minutes=self.config_entry.options.get(
                    CONF_LIST_INTERVAL, DEFAULT_LIST_INTERVAL
                )
            )
            self.update_interval = max(FIRST_RETRY, 2 * list_interval)
            return self.data
        self._empty_list_seen = False
        self._next_daily = now + USAGE_INTERVAL
        self._pending = None
        today = usage_today()
        first = month_start()
        subjects = {iccid: sim_subject(iccid, sim.label) for iccid, sim in sims.items()}
        for gone in set(self._month_days) - set(sims):
            del self._month_days[gone]
            self._covered_from.pop(gone, None)
        for gone in set(self._failing) - set(sims):
            del self._failing[gone]

        recording = await self._async_recording()
        tails: dict[str, StoredTail] = {}
        if recording:
            tails = await async_stored_tails(
                self.hass,
                (
                    statistic_id
                    for subject in (self.fleet, *subjects.values())
                    for statistic_id in subject.statistic_ids.values()
                ),
            )
            tails = await self._async_clear_other_zones(subjects, tails)
            starts, fleet_start = self._windows(subjects, tails, today, first)
        else:
            # Nothing to import into: fetch only what this month's totals need.
            # Just after local midnight on the 1st, east of Greenwich, the
            # month has begun here but not yet in UTC, so it has no day yet.
            fleet_start = min(first, today)
            starts = dict.fromkeys(sims, fleet_start)

        fetched, errors = await self._async_fetch(starts, today, now)
        earliest = min(
            [fleet_start, *(days[0].day for days in fetched.values() if days)]
        )
        if month_start() - _DAYS_BEFORE_MONTH <= earliest < fleet_start:
            # A SIM's window reaches back further (`_async_days`): the fleet's
            # days from there are summed from every SIM's days in memory.
            fleet_start = earliest
            fleet_days = _fleet_days(
                [list(self._month_days.get(iccid, {}).values()) for iccid in sims],
                fleet_start,
                today,
            )
        else:
            fleet_days = _fleet_days(fetched.values(), fleet_start, today)
        if recording and fetched:
            await self._async_import(
                [(iccid, subjects[iccid], days) for iccid, days in fetched.items()],
                fleet_days,
                tails,
                sims,
            )
        failed = [iccid for iccid in sims if iccid not in fetched]
        if failed:
            self._pending = _Pending(
                sims=tuple(sims),
                starts={iccid: starts[iccid] for iccid in failed},
                subjects={iccid: subjects[iccid] for iccid in failed},
                end=today,
                fleet_start=fleet_start,
                fleet_days=fleet_days,
                recording=recording,
                time_zone=self.hass.config.time_zone,
            )
        self.update_interval = self._next_interval(now)
        if errors and not fetched:
            return self._fail(errors)
        return self._month_data(sims)

    async def _async_retry(
        self, pending: _Pending, now: datetime
    ) -> dict[str, list[UsageDay] | None]:
        """Ask again for the failed SIMs whose pause is over, one request each."""
        listed = self._sims()
        starts = {
            iccid: start
            for iccid, start in pending.starts.items()
            # An empty list is no reason to drop anyone (see `_async_daily`).
            if not listed or iccid in listed
        }
        if not starts:
            # Every failed SIM has left the account: nothing to finish.
            self._pending = None
            return await self._async_daily(now)
        # A refresh asked for by hand, before any pause is over, asks them all.
        due = {
            iccid: start
            for iccid, start in starts.items()
            if self._retry_at(iccid) <= now + _SLACK
        } or starts
        fetched, errors = await self._async_fetch(due, pending.end, now)
        fleet_days = _fleet_days(
            [pending.fleet_days, *fetched.values()], pending.fleet_start, pending.end
        )
        if fetched and pending.recording and await self._async_recording():
            imports = [
                (iccid, pending.subjects[iccid], days)
                for iccid, days in fetched.items()
            ]
            tails = await async_stored_tails(
                self.hass,
                (
                    statistic_id
                    for subject in (self.fleet, *(subject for _, subject, _ in imports))
                    for statistic_id in subject.statistic_ids.values()
                ),
            )
            await self._async_import(imports, fleet_days, tails, pending.sims)
        remaining = {
            iccid: start for iccid, start in starts.items() if iccid not in fetched
        }
        self._pending = (
            replace(pending, starts=remaining, fleet_days=fleet_days)
            if remaining
            else None
        )
        self.update_interval = self._next_interval(now)
        known: dict[str, list[UsageDay] | None] | None = self.data
        if known is None and not fetched:
            # Nothing fetched yet since the daily poll failed as a whole.
            return self._fail(errors)
        return self._month_data(pending.sims)

    async def _async_fetch(
        self, starts: Mapping[str, date], end: date, now: datetime
    ) -> tuple[dict[str, list[UsageDay]], list[OneNceError]]:
        """Fetch each SIM's days from its start; note failures and recoveries."""
        first = month_start()
        results = await asyncio.gather(
            *(self._async_days(iccid, start, end) for iccid, start in starts.items()),
            return_exceptions=True,
        )
        fetched: dict[str, list[UsageDay]] = {}
        errors: list[OneNceError] = []
        reported: dict[str, OneNceError] = {}
        recovered: list[str] = []
        for (iccid, start), result in zip(starts.items(), results, strict=True):
            if isinstance(result, list):
                fetched[iccid] = result
                self._remember(iccid, start, fetched[iccid], first)
                if self._given_up(iccid):
                    recovered.append(iccid)
                self._failing.pop(iccid, None)
            elif isinstance(result, OneNceError):
                LOGGER.debug("Usage of SIM %s not fetched: %s", iccid, result)
                errors.append(result)
                count = self._failing[iccid].count + 1 if iccid in self._failing else 1
                self._failing[iccid] = _Failing(
                    count=count, retry_at=now + RETRY_DELAYS.delay(count)
                )
                if count == FAILURES_REPORTED:
                    reported[iccid] = result
            else:
                raise result
        if reported:
            LOGGER.warning(
                "Usage of SIM %s failed %d times in a row (%s); it is asked "
                "again after longer pauses, at least daily. Meanwhile this "
                "month's SMS totals count what is known of the other SIMs",
                _named(list(reported)),
                FAILURES_REPORTED,
                next(iter(reported.values())),
            )
        if recovered:
            LOGGER.info(
                "Usage of SIM %s is fetched again; this month's SMS totals count it",
                _named(recovered),
            )
        if self._switched:
            LOGGER.info(
                "1NCE reports no usage for SIM %s (a Platform 2.0 SIM, or API v1 "
                "retired): its SMS are counted from its SMS list from now on and "
                "its data from its data quota. The first count reaches back only "
                "%d days, as far as 1NCE lists SMS; earlier days have no usage "
                "from this source",
                _named(self._switched),
                SMS_LIST_REACH.days,
            )
            self._switched = []
        return fetched, errors

    async def _async_days(self, iccid: str, start: date, end: date) -> list[UsageDay]:
        """Fetch a SIM's days from its source: v1, else its SMS list and quota."""
        if iccid not in self.ledger.fallback:
            try:
                usage = await self.client.async_get_usage(iccid, start, end)
            except OneNceFeatureUnavailableError as err:
                LOGGER.debug("No v1 usage for SIM %s: %s", iccid, err)
                # Days before `start` are stored already (v1's, or none).
                origin = max(start, usage_today() - SMS_LIST_REACH)
                earlier = self._month_days.get(iccid, {}).values()
                self.ledger.switch(iccid, origin, earlier)
                self._switched.append(iccid)
            else:
                return self._overlay(
                    iccid, consecutive_days(usage.days, start, end), start, end
                )
        # Read even while the stream delivers: the days before it owns any
        # (its first record's day, the week before) are the list's to count.
        messages = await self.client.async_list_all_sms(iccid)
        changed = self.ledger.count_sms(iccid, messages, usage_today())
        # An SMS can be counted on a day already stored: an MT delivered
        # before the Data Streamer's import wrote a later day.
        start = min([start, *changed])
        first = max(start, self.ledger.first_day(iccid, usage_today()))
        counted = {day.day: day for day in self.ledger.days(iccid)}
        days = [
            counted.get(day) or UsageDay(day=day, sms_mt=0, sms_mo=0, data_mb=0.0)
            for day in (
                first + timedelta(days=offset)
                for offset in range(max((end - first).days + 1, 0))
            )
        ]
        return self._overlay(iccid, days, first, end)

    def _overlay(
        self, iccid: str, days: list[UsageDay], start: date, end: date
    ) -> list[UsageDay]:
        """Put the stream's days in place of the source's, where it owns them."""
        stream = self.ledger.stream
        if not stream.known(iccid):
            return days
        now = dt_util.utcnow()
        by_day = {day.day: day for day in days}
        for offset in range((end - start).days + 1):
            day = start + timedelta(days=offset)
            if stream.owns(iccid, day, now):
                by_day[day] = stream.day(iccid, day)
        return consecutive_days(by_day.values(), start, end)

    async def _async_import(
        self,
        sims: list[tuple[str, Subject, list[UsageDay]]],
        fleet_days: list[UsageDay],
        tails: Mapping[str, StoredTail],
        every_sim: Iterable[str],
    ) -> None:
        """Write the SIMs' and the fleet's days; note the zone they are in.

        From a streamed SIM's first streamed day on, its days are written by
        the hour (and the fleet's, with every streamed SIM's hours): see
        `statistics.async_import_usage`.
        """
        stream = self.ledger.stream
        hourly: dict[str, HourlyFrom] = {}
        fleet_hours: dict[datetime, UsageDay] = {}
        fleet_from: date | None = None
        now = dt_util.utcnow()
        for iccid in every_sim:
            first = stream.first_day(iccid)
            if first is None:
                continue
            fleet_from = first if fleet_from is None else min(fleet_from, first)
            for hour, usage in stream.owned_hours(iccid, now).items():
                known = fleet_hours.get(hour)
                fleet_hours[hour] = usage if known is None else add_usage(known, usage)
        for iccid, subject, _days in sims:
            first = stream.first_day(iccid)
            if first is not None:
                hourly[subject.key_id] = HourlyFrom(
                    first=first, hours=stream.owned_hours(iccid, now)
                )
        if fleet_from is not None:
            hourly[self.fleet.key_id] = HourlyFrom(first=fleet_from, hours=fleet_hours)
        imports = [(subject, days) for _iccid, subject, days in sims]
        imports.append((self.fleet, fleet_days))
        await async_import_usage(self.hass, imports, tails, hourly)
        await self._zones.async_written(subject for subject, days in imports if days)

    async def _async_clear_other_zones(
        self, subjects: Mapping[str, Subject], tails: dict[str, StoredTail]
    ) -> dict[str, StoredTail]:
        """Clear statistics stored for another time zone; return the tails left.

        A row's date is read in the current zone: rows stored at another
        zone's midnight read as the day before or after, and continuing their
        sums would count a day twice or once too few. Cleared, the subjects
        are backfilled like new ones, one request per SIM as always.
        """
        other = await self._zones.async_foreign((self.fleet, *subjects.values()), tails)
        if not other:
            return tails
        sims = sum(subject.key_id != self.fleet.key_id for subject, _zone in other)
        LOGGER.info(
            "Usage statistics of %d SIM(s)%s were stored for the time zone %s, but "
            "Home Assistant's is now %s: they are cleared and imported again from "
            "1NCE's last six months, since their days would otherwise be read as "
            "the day before or after and counted twice or not at all",
            sims,
            " and of the fleet" if len(other) > sims else "",
            ", ".join(sorted({zone or "unknown" for _subject, zone in other})),
            self.hass.config.time_zone,
        )
        clear_usage(self.hass, (subject for subject, _zone in other))
        cleared = {
            statistic_id
            for subject, _zone in other
            for statistic_id in subject.statistic_ids.values()
        }
        return {
            statistic_id: tail
            for statistic_id, tail in tails.items()
            if statistic_id not in cleared
        }

    def _retry_at(self, iccid: str) -> datetime:
        failing = self._failing.get(iccid)
        return failing.retry_at if failing is not None else dt_util.utcnow()

    def _next_interval(self, now: datetime) -> timedelta:
        """Wait until the next retry falls due, or the daily poll."""
        due = [self._next_daily or now + USAGE_INTERVAL]
        if self._pending is not None:
            due.extend(self._retry_at(iccid) for iccid in self._pending.starts)
        return max(min(due) - now, _SLACK)

    def _month_data(self, sims: Iterable[str]) -> dict[str, list[UsageDay] | None]:
        """Each SIM's days of this month, or None while they are not all known."""
        first = month_start()
        return {
            iccid: (
                sorted(
                    (
                        day
                        for day in self._month_days[iccid].values()
                        if day.day >= first
                    ),
                    key=lambda day: day.day,
                )
                if self._covered_from.get(iccid, date.max) <= first
                else None
            )
            for iccid in sims
        }

    def _fail(self, errors: list[OneNceError]) -> dict[str, list[UsageDay] | None]:
        """Every SIM failed: 1NCE retired usage, or the poll failed as a whole."""
        if all(isinstance(error, OneNceFeatureUnavailableError) for error in errors):
            return self._give_up(errors[0])
        raise UpdateFailed(
            translation_domain=DOMAIN,
            translation_key="update_failed",
            translation_placeholders={"error": str(errors[0])},
        ) from errors[0]

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
        """Keep this month's days of a SIM and how far back they are complete.

        A week before the month is kept too, to sum the fleet's streamed days.
        """
        keep_from = first - _DAYS_BEFORE_MONTH
        kept = {
            day: usage
            for day, usage in self._month_days.get(iccid, {}).items()
            if day >= keep_from
        }
        kept.update((usage.day, usage) for usage in days if usage.day >= keep_from)
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
        self._pending = None
        self._failing.clear()
        return {}
