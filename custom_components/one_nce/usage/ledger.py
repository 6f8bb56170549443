"""Usage of SIMs without v1 usage, counted from the SMS list and the data quota.

Platform 2.0 SIMs answer no v1 usage. For them ("fallback SIMs") the days are
counted here, per SIM and local day, and kept in a `Store` so that a restart
neither loses nor repeats anything:

- SMS (source A): v2's SMS list, which 1NCE keeps for 7 days. Each SMS is
  counted once, by its id; the ids counted are kept 9 days, longer than the
  list shows them. An MO SMS counts on the day it was submitted. An MT SMS
  counts once it is DELIVERED, on the day it was delivered (its final date),
  as 1NCE bills it; one still pending is counted at a later read, one that
  failed or expired never.
- Data (source B): the drop of the data quota's `volume` (MB left) between two
  readings of the SIM's details, on the day of the later reading. A top-up (a
  rise of `total_volume`, a new `last_volume_added`, or `volume` rising) adds
  what it brought before the drop is taken, and is never counted as negative
  use. A new, smaller quota counts nothing that time.

The last quota reading of every SIM is kept too, fallback or not, so a SIM
that switches counts from its next reading on. The Data Streamer's records
(`stream.py`) live in the same Store.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any, Final

from homeassistant.core import HomeAssistant
from homeassistant.helpers.storage import Store

from ..api import DeliveryStatus, Quota, Sms, SmsDirection, UsageDay
from ..const import DOMAIN
from .stream import StreamBook, add_usage, local_day

STORAGE_VERSION: Final = 1
# SMS ids counted are kept this long: longer than the 7 days 1NCE lists them.
IDS_KEPT: Final = timedelta(days=9)
# Days are kept this long: this month, and a window to import again.
DAYS_KEPT: Final = timedelta(days=62)
# How far back 1NCE's SMS list reaches.
SMS_LIST_REACH: Final = timedelta(days=7)
_SAVE_DELAY: Final = 10.0

type _Reading = tuple[float, float | None, float | None]


def ledger_store(hass: HomeAssistant, entry_id: str) -> Store[dict[str, Any]]:
    """Return the Store of an account's counted usage."""
    return Store(hass, STORAGE_VERSION, f"{DOMAIN}.{entry_id}.usage_ledger")


async def async_remove_ledger(hass: HomeAssistant, entry_id: str) -> None:
    """Forget a removed account's counted usage (its statistics stay)."""
    await ledger_store(hass, entry_id).async_remove()


def _sms_day(sms: Sms) -> date | None:
    """Return the day an SMS counts on, or None while it does not count (yet)."""
    if sms.direction is SmsDirection.MO:
        when = sms.submit_date or sms.final_date
    elif sms.direction is SmsDirection.MT and sms.status is DeliveryStatus.DELIVERED:
        when = sms.final_date or sms.delivery_date or sms.submit_date
    else:
        return None
    return local_day(when) if when is not None else None


def _drop(before: _Reading, after: _Reading) -> float:
    """Return the data used between two quota readings; a top-up is never negative use."""
    volume, total, added = before
    new_volume, new_total, new_added = after
    brought = 0.0
    if total is not None and new_total is not None and new_total != total:
        if new_total < total:
            return 0.0  # a new, smaller quota: nothing to compare
        brought = new_total - total
    elif new_added is not None and new_added != added:
        brought = new_added
    return max(round(volume + brought - new_volume, 6), 0.0)


class UsageLedger:
    """The fallback SIMs' counted days, the ids counted, the streamed records."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Read nothing yet: `async_load` does."""
        self._store = ledger_store(hass, entry_id)
        self.stream = StreamBook()
        self.fallback: dict[str, date] = {}  # ICCID -> first day counted
        self._ids: dict[str, date] = {}  # "<iccid>/<sms id>" -> day counted
        self._days: dict[str, dict[date, UsageDay]] = {}
        self._quota: dict[str, _Reading] = {}
        self._quota_at: dict[str, datetime] = {}

    async def async_load(self) -> None:
        """Read what an earlier run counted."""
        stored = await self._store.async_load()
        if not stored:
            return
        self.fallback = {
            iccid: date.fromisoformat(day) for iccid, day in stored["fallback"].items()
        }
        self._ids = {
            f"{iccid}/{sms_id}": date.fromisoformat(day)
            for iccid, days in stored["ids"].items()
            for day, sms_ids in days.items()
            for sms_id in sms_ids
        }
        self._days = {
            iccid: {
                date.fromisoformat(day): UsageDay(
                    day=date.fromisoformat(day), sms_mt=mt, sms_mo=mo, data_mb=mb
                )
                for day, (mt, mo, mb) in days.items()
            }
            for iccid, days in stored["days"].items()
        }
        self._quota = {
            iccid: (volume, total, added)
            for iccid, (volume, total, added) in stored["quota"].items()
        }
        self.stream.load(stored["stream"])

    def _dump(self) -> dict[str, Any]:
        # Ids grouped by SIM and day: a busy fleet's week stays small.
        ids: dict[str, dict[str, list[str]]] = {}
        for key, day in self._ids.items():
            iccid, sms_id = key.split("/", 1)
            ids.setdefault(iccid, {}).setdefault(day.isoformat(), []).append(sms_id)
        return {
            "fallback": {
                iccid: day.isoformat() for iccid, day in self.fallback.items()
            },
            "ids": ids,
            "days": {
                iccid: {
                    day.isoformat(): [usage.sms_mt, usage.sms_mo, usage.data_mb]
                    for day, usage in days.items()
                }
                for iccid, days in self._days.items()
            },
            "quota": {iccid: list(reading) for iccid, reading in self._quota.items()},
            "stream": self.stream.dump(),
        }

    def save_soon(self) -> None:
        """Write to `.storage` a few seconds from now (and at shutdown)."""
        self._store.async_delay_save(self._dump, _SAVE_DELAY)

    async def async_save(self) -> None:
        """Write to `.storage` now (the entry unloads)."""
        await self._store.async_save(self._dump())

    def switch(self, iccid: str, origin: date, earlier: Iterable[UsageDay]) -> None:
        """Count this SIM here from `origin` on; keep what v1 told of earlier days.

        `earlier` are the days v1 reported this month (the month totals need
        them after a restart, when v1 no longer answers for the SIM).
        """
        self.fallback[iccid] = origin
        self._days[iccid] = {day.day: day for day in earlier if day.day < origin}
        self.save_soon()

    def count_sms(self, iccid: str, messages: Iterable[Sms], today: date) -> set[date]:
        """Count the SMS not counted yet; return the days that changed."""
        origin = self.fallback.get(iccid, today)
        counted: set[date] = set()
        days = self._days.setdefault(iccid, {})
        for sms in messages:
            key = f"{iccid}/{sms.sms_id}"
            day = _sms_day(sms)
            if key in self._ids or day is None or day < origin:
                continue
            self._ids[key] = day
            mt = sms.direction is SmsDirection.MT
            one = UsageDay(day=day, sms_mt=int(mt), sms_mo=int(not mt), data_mb=0.0)
            days[day] = add_usage(days[day], one) if day in days else one
            counted.add(day)
        self._prune(today)
        self.save_soon()
        return counted

    def note_quota(self, iccid: str, quota: Quota, at: datetime) -> bool:
        """Take a data quota reading; count the drop for a fallback SIM.

        Returns whether this reading was new. The same reading handed over
        again (the details coordinator updates for other SIMs) counts nothing.
        """
        if quota.volume is None or self._quota_at.get(iccid) == at:
            return False
        self._quota_at[iccid] = at
        reading: _Reading = (quota.volume, quota.total_volume, quota.last_volume_added)
        before = self._quota.get(iccid)
        self._quota[iccid] = reading
        if before is not None and iccid in self.fallback:
            used = _drop(before, reading)
            day = local_day(at)
            if used and day >= self.fallback[iccid]:
                days = self._days.setdefault(iccid, {})
                one = UsageDay(day=day, sms_mt=0, sms_mo=0, data_mb=used)
                days[day] = add_usage(days[day], one) if day in days else one
        self.save_soon()
        return True

    def days(self, iccid: str) -> list[UsageDay]:
        """Return the SIM's counted days, oldest first."""
        return sorted(self._days.get(iccid, {}).values(), key=lambda usage: usage.day)

    def first_day(self, iccid: str, today: date) -> date:
        """Return the first day this ledger can tell for a fallback SIM.

        That is the day it started counting, or the first day v1 had told of
        before the switch.
        """
        first = min([self.fallback[iccid], *self._days.get(iccid, {})])
        return max(first, today - DAYS_KEPT)

    def _prune(self, today: date) -> None:
        oldest = today - DAYS_KEPT
        self._ids = {
            key: day for key, day in self._ids.items() if day >= today - IDS_KEPT
        }
        for iccid, days in self._days.items():
            self._days[iccid] = {
                day: usage for day, usage in days.items() if day >= oldest
            }
        self.stream.prune(oldest)
