"""The Data Streamer's usage records of each SIM, by hour, and the days they own.

A SIM's stream owns its days from the day after its first record (that day
was already being counted by another source, which keeps it) for as long as
it keeps delivering: once no record came for a day, its days end with the
day of its last record and the other sources take over from the next day.
When it delivers again, it owns anew from the day after that record's day.
So every day of a SIM has exactly one source, and nothing is counted twice.

Records are kept per UTC hour (their `end`, the time the usage belongs to),
so statistics can show the hours of the stream's days. Data comes in bytes
and is kept in MB (MiB, as 1NCE counts).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Final

from homeassistant.util import dt as dt_util

from ..api import UsageDay
from ..api.records import UsageRecord

# A stream that delivered within this long is the SIM's source.
STREAM_FRESH: Final = timedelta(days=1)
_MIB: Final = 1024 * 1024


def local_day(when: datetime) -> date:
    """Return the local date (Home Assistant's zone) a moment falls on."""
    return dt_util.as_local(when).date()


def _hour(when: datetime) -> datetime:
    return dt_util.as_utc(when).replace(minute=0, second=0, microsecond=0)


def add_usage(one: UsageDay, other: UsageDay) -> UsageDay:
    """Sum two days' (or hours') usage; the first one's date is kept."""
    return UsageDay(
        day=one.day,
        sms_mt=one.sms_mt + other.sms_mt,
        sms_mo=one.sms_mo + other.sms_mo,
        data_mb=round(one.data_mb + other.data_mb, 6),
    )


@dataclass(slots=True)
class _SimStream:
    """One SIM's stream: the spans of days it owns, when it last delivered."""

    spans: list[list[date]] = field(default_factory=list)  # [first, last]
    last_at: datetime | None = None
    hours: dict[datetime, UsageDay] = field(default_factory=dict)


class StreamBook:
    """Every SIM's streamed usage; read from and written into the ledger's Store."""

    def __init__(self) -> None:
        """Start empty; `load` fills it from what was stored."""
        self._sims: dict[str, _SimStream] = {}

    def active(self, iccid: str, now: datetime) -> bool:
        """Whether the stream delivered for this SIM within the last day."""
        sim = self._sims.get(iccid)
        return (
            sim is not None
            and sim.last_at is not None
            and now - sim.last_at <= STREAM_FRESH
        )

    def add(
        self, records: Iterable[UsageRecord], now: datetime
    ) -> dict[str, set[date]]:
        """Count new records; return the days changed, per SIM.

        A record of a day the stream does not own (the first record's day,
        or one before) is left to the source that owns that day.
        """
        changed: dict[str, set[date]] = {}
        records = list(records)
        # Records come in no set order: a (re)starting stream's first day is
        # its batch's earliest.
        earliest: dict[str, date] = {}
        for record in records:
            day = local_day(record.end)
            earliest[record.iccid] = min(day, earliest.get(record.iccid, day))
        for record in records:
            day = local_day(record.end)
            sim = self._sims.setdefault(record.iccid, _SimStream())
            if not self.active(record.iccid, now):
                # (Re)starting: it owns from the day after its first record's.
                first = earliest[record.iccid]
                sim.spans.append([first + timedelta(days=1), first])
            sim.last_at = now
            span = sim.spans[-1]
            span[1] = max(span[1], day)
            if not self.owns(record.iccid, day, now):
                continue
            usage = UsageDay(
                day=day,
                sms_mt=record.sms_mt,
                sms_mo=record.sms_mo,
                data_mb=round(record.data_bytes / _MIB, 6),
            )
            hour = _hour(record.end)
            known = sim.hours.get(hour)
            sim.hours[hour] = usage if known is None else add_usage(known, usage)
            changed.setdefault(record.iccid, set()).add(day)
        return changed

    def owns(self, iccid: str, day: date, now: datetime) -> bool:
        """Whether the stream is the source of this SIM's day."""
        sim = self._sims.get(iccid)
        if sim is None:
            return False
        active = self.active(iccid, now)
        for number, (first, last) in enumerate(sim.spans):
            end = last
            if number == len(sim.spans) - 1 and active:
                end = max(last, local_day(now))
            if first <= day <= end:
                return True
        return False

    def known(self, iccid: str) -> bool:
        """Whether the stream ever delivered for this SIM (and it is kept)."""
        return iccid in self._sims

    def first_day(self, iccid: str) -> date | None:
        """Return the first day the stream owns(ed) of this SIM, if any."""
        sim = self._sims.get(iccid)
        return sim.spans[0][0] if sim is not None and sim.spans else None

    def owned_hours(self, iccid: str, now: datetime) -> dict[datetime, UsageDay]:
        """Return the SIM's streamed hours on the days the stream owns."""
        sim = self._sims.get(iccid)
        if sim is None:
            return {}
        return {
            hour: usage
            for hour, usage in sim.hours.items()
            if self.owns(iccid, usage.day, now)
        }

    def day(self, iccid: str, day: date) -> UsageDay:
        """Return the SIM's streamed usage of one local day (zero if none)."""
        total = UsageDay(day=day, sms_mt=0, sms_mo=0, data_mb=0.0)
        for usage in self.hours_of(iccid, day).values():
            total = add_usage(total, usage)
        return total

    def hours_of(self, iccid: str, day: date) -> dict[datetime, UsageDay]:
        """Return the SIM's streamed usage of one local day, by UTC hour."""
        sim = self._sims.get(iccid)
        if sim is None:
            return {}
        return {hour: usage for hour, usage in sim.hours.items() if usage.day == day}

    def prune(self, oldest: date) -> None:
        """Forget hours and spans that ended before `oldest`."""
        for sim in self._sims.values():
            sim.hours = {
                hour: usage for hour, usage in sim.hours.items() if usage.day >= oldest
            }
            sim.spans = [span for span in sim.spans[:-1] if span[1] >= oldest] + (
                sim.spans[-1:]
            )

    def dump(self) -> dict[str, Any]:
        """Write as JSON-ready values."""
        return {
            iccid: {
                "spans": [
                    [first.isoformat(), last.isoformat()] for first, last in sim.spans
                ],
                "last_at": sim.last_at.isoformat() if sim.last_at else None,
                "hours": {
                    hour.isoformat(): [
                        usage.day.isoformat(),
                        usage.sms_mt,
                        usage.sms_mo,
                        usage.data_mb,
                    ]
                    for hour, usage in sim.hours.items()
                },
            }
            for iccid, sim in self._sims.items()
        }

    def load(self, stored: dict[str, Any]) -> None:
        """Read what `dump` wrote."""
        for iccid, sim in stored.items():
            last_at = dt_util.parse_datetime(sim["last_at"]) if sim["last_at"] else None
            self._sims[iccid] = _SimStream(
                spans=[
                    [date.fromisoformat(first), date.fromisoformat(last)]
                    for first, last in sim["spans"]
                ],
                last_at=last_at,
                hours={
                    datetime.fromisoformat(hour): UsageDay(
                        day=date.fromisoformat(day), sms_mt=mt, sms_mo=mo, data_mb=mb
                    )
                    for hour, (day, mt, mo, mb) in sim["hours"].items()
                },
            )
