"""Daily 1NCE usage as long-term statistics in Home Assistant's recorder.

Each SIM, and each account's whole fleet, is a "subject" with three external
statistics: SMS sent (MT), SMS received (MO) and data used. Each day is one row
at the start of that date in Home Assistant's time zone, with the day's count
as `state` and a running `sum`, so a statistics-graph card shows daily bars (on
the date 1NCE reports) or a running total with no helpers. At UTC midnight
instead, every day would show on the day before west of Greenwich.

A re-import must never count a day twice. Sums therefore always continue from
the stored sum of the day BEFORE the first day being written; days already
stored are overwritten with the same (or corrected) values.

From a subject's first day fed by the Data Streamer on (`HourlyFrom`), its days
are written by the hour instead: every hour of the day (up to the current
one), the streamed hours where they fell and any other source's day total in
the day's first hour. Every hour is written whatever changed, so a day whose
source changed never keeps rows of the other source's shape.

Finding a stored row's date, and the row of a given date, needs the time zone
the row was written in. `ZoneRecord` remembers it per subject; rows written in
another zone than Home Assistant's current one are cleared and imported anew
(`usage/`), or a day would be read as its neighbour and counted twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Final, cast

from homeassistant.components.recorder.models import (
    StatisticData,
    StatisticMeanType,
    StatisticMetaData,
)
from homeassistant.components.recorder.statistics import (
    async_add_external_statistics,
    get_last_statistics,
    statistics_during_period,
)
from homeassistant.config_entries import ConfigEntry
from homeassistant.const import UnitOfInformation
from homeassistant.core import HomeAssistant
from homeassistant.helpers.recorder import get_instance
from homeassistant.helpers.storage import Store
from homeassistant.util import dt as dt_util
from homeassistant.util import slugify
from homeassistant.util.unit_conversion import InformationConverter

from .api import UsageDay
from .const import DOMAIN

# SMS counts convert to nothing, so they have no unit class; the unit is a label
# the graph shows ("12 SMS"), the same a counting sensor with unit "SMS" gets.
SMS_UNIT: Final = "SMS"
_ONE_DAY: Final = timedelta(days=1)
ZONE_STORAGE_VERSION: Final = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageKind:
    """One of the three things counted per day, and how it is stored."""

    key: str
    name: str
    unit: str | None
    unit_class: str | None
    value: Callable[[UsageDay], float]


KINDS: Final = (
    UsageKind(
        key="sms_mt",
        name="SMS sent (MT)",
        unit=SMS_UNIT,
        unit_class=None,
        value=lambda day: day.sms_mt,
    ),
    UsageKind(
        key="sms_mo",
        name="SMS received (MO)",
        unit=SMS_UNIT,
        unit_class=None,
        value=lambda day: day.sms_mo,
    ),
    UsageKind(
        key="data",
        name="data used",
        unit=UnitOfInformation.MEGABYTES,
        unit_class=InformationConverter.UNIT_CLASS,
        value=lambda day: day.data_mb,
    ),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Subject:
    """Whose usage a set of statistics records: one SIM, or an account's fleet."""

    name: str
    statistic_ids: Mapping[str, str]  # UsageKind.key -> statistic id

    @property
    def key_id(self) -> str:
        """The statistic whose last stored day stands for the subject's.

        All three are written together, so one lookup tells how far a subject's
        history reaches.
        """
        return self.statistic_ids["sms_mt"]


def sim_subject(iccid: str, label: str | None) -> Subject:
    """Statistics of one SIM; an ICCID belongs to one account, so ids never clash."""
    return Subject(
        name=label or iccid,
        statistic_ids={kind.key: f"{DOMAIN}:{kind.key}_{iccid}" for kind in KINDS},
    )


def fleet_subject(entry: ConfigEntry) -> Subject:
    """Statistics of an account's whole fleet, keyed by the entry's unique id.

    Two accounts in one Home Assistant each get their own fleet statistics.
    """
    slug = slugify(entry.unique_id or "") or slugify(entry.entry_id)
    return Subject(
        name=f"{entry.title} fleet",
        statistic_ids={kind.key: f"{DOMAIN}:{slug}_fleet_{kind.key}" for kind in KINDS},
    )


def statistic_metadata(
    *, statistic_id: str, name: str, unit: str | None, unit_class: str | None
) -> StatisticMetaData:
    """Build metadata with exactly the keys the running Home Assistant expects.

    HA 2025.4 introduced `mean_type` (and deprecated `has_mean`, removed in
    2026.4); HA 2025.11 introduced `unit_class`, which 2026.11 requires but which
    HA 2025.4-2025.10 does not know. So `unit_class` is sent only where the
    recorder's own type declares it.
    """
    metadata: dict[str, Any] = {
        "mean_type": StatisticMeanType.NONE,
        "has_sum": True,
        "name": name,
        "source": DOMAIN,
        "statistic_id": statistic_id,
        "unit_of_measurement": unit,
    }
    known_keys = (
        StatisticMetaData.__required_keys__ | StatisticMetaData.__optional_keys__
    )
    if "unit_class" in known_keys:
        metadata["unit_class"] = unit_class
    return cast(StatisticMetaData, metadata)


@dataclass(frozen=True, slots=True, kw_only=True)
class HourlyFrom:
    """A subject written by the hour from `first` on, with these streamed hours."""

    first: date
    hours: Mapping[datetime, UsageDay]  # UTC hour start -> that hour's usage


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredTail:
    """A statistic's newest stored row: its day and the running sum there."""

    day: date
    total: float


def day_start(day: date) -> datetime:
    """Return when a day's row is stored: its local midnight, as UTC.

    The recorder keeps rows on whole UTC hours. Where local midnight is not
    one (India, Newfoundland, ...), the next whole hour is taken: still on the
    same local date, where an earlier one would fall on the day before.
    """
    start = dt_util.as_utc(dt_util.start_of_local_day(day))
    if start.minute or start.second or start.microsecond:
        start = start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return start


def _row_day(timestamp: float) -> date:
    """Return the date a stored row stands for (the inverse of `day_start`).

    Only right for rows written in the current time zone (`ZoneRecord`).
    """
    return dt_util.as_local(dt_util.utc_from_timestamp(timestamp)).date()


async def async_stored_tails(
    hass: HomeAssistant, statistic_ids: Iterable[str]
) -> dict[str, StoredTail]:
    """Read the newest stored row of each statistic (absent: none stored yet)."""

    def read(ids: list[str]) -> dict[str, StoredTail]:
        tails: dict[str, StoredTail] = {}
        for statistic_id in ids:
            rows = get_last_statistics(hass, 1, statistic_id, False, {"sum"})
            for row in rows.get(statistic_id, [])[:1]:
                tails[statistic_id] = StoredTail(
                    day=_row_day(row["start"]), total=row.get("sum") or 0.0
                )
        return tails

    return await get_instance(hass).async_add_executor_job(read, list(statistic_ids))


async def _async_sums_before(
    hass: HomeAssistant, wanted: Mapping[str, date]
) -> dict[str, float]:
    """Read each statistic's running sum on the day before the given day.

    Rows are written for every day from a subject's first day on, so the row of
    the previous day exists whenever anything before the given day does.
    """

    def read() -> dict[str, float]:
        by_day: dict[date, set[str]] = {}
        for statistic_id, day in wanted.items():
            by_day.setdefault(day, set()).add(statistic_id)
        sums: dict[str, float] = {}
        for day, ids in by_day.items():
            rows = statistics_during_period(
                hass,
                day_start(day - _ONE_DAY),
                day_start(day),
                ids,
                "hour",
                None,
                {"sum"},
            )
            for statistic_id, stats in rows.items():
                sums[statistic_id] = (stats[-1].get("sum") if stats else None) or 0.0
        return sums

    if not wanted:
        return {}
    return await get_instance(hass).async_add_executor_job(read)


async def async_import_usage(
    hass: HomeAssistant,
    imports: Iterable[tuple[Subject, list[UsageDay]]],
    tails: Mapping[str, StoredTail],
    hourly: Mapping[str, HourlyFrom] | None = None,
) -> None:
    """Write each subject's consecutive days, continuing its stored sums.

    `hourly` (by the subject's `key_id`) writes its days from `first` on by
    the hour (see the module doc).

    `tails` are the newest stored rows read before fetching. Where a subject's
    first day comes after its tail (e.g. Home Assistant was off for longer than
    1NCE keeps), the tail's sum is the one to continue; where it overlaps the
    stored rows, the sum of the day before is read; with no rows it starts at 0.
    """
    batch = [(subject, days) for subject, days in imports if days]
    continue_from: dict[str, float] = {}
    look_up: dict[str, date] = {}
    for subject, days in batch:
        for statistic_id in subject.statistic_ids.values():
            tail = tails.get(statistic_id)
            if tail is None:
                continue_from[statistic_id] = 0.0
            elif tail.day < days[0].day:
                continue_from[statistic_id] = tail.total
            else:
                look_up[statistic_id] = days[0].day
    continue_from.update(dict.fromkeys(look_up, 0.0))
    continue_from.update(await _async_sums_before(hass, look_up))

    now = dt_util.utcnow()
    for subject, days in batch:
        by_hour = (hourly or {}).get(subject.key_id)
        for kind in KINDS:
            statistic_id = subject.statistic_ids[kind.key]
            running = continue_from[statistic_id]
            rows: list[StatisticData] = []
            for day in days:
                for start, value in _parts(day, kind, by_hour, now):
                    # Rounded so that megabytes do not drift by float noise.
                    running = round(running + value, 6)
                    rows.append({"start": start, "state": value, "sum": running})
            metadata = statistic_metadata(
                statistic_id=statistic_id,
                name=f"{subject.name} {kind.name}",
                unit=kind.unit,
                unit_class=kind.unit_class,
            )
            async_add_external_statistics(hass, metadata, rows)


def _parts(
    day: UsageDay, kind: UsageKind, by_hour: HourlyFrom | None, now: datetime
) -> list[tuple[datetime, float]]:
    """Split a day into rows: one at its start, or one per hour (see the module doc)."""
    total = kind.value(day)
    start = day_start(day.day)
    if by_hour is None or day.day < by_hour.first:
        return [(start, total)]
    end = min(
        day_start(day.day + _ONE_DAY),
        now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1),
    )
    hours: list[datetime] = []
    hour = start
    while hour < end or not hours:
        hours.append(hour)
        hour += timedelta(hours=1)
    values = [
        kind.value(by_hour.hours[hour]) if hour in by_hour.hours else 0.0
        for hour in hours
    ]
    # What no streamed hour holds (another source's day) goes to the first.
    values[0] = round(values[0] + total - sum(values), 6)
    return list(zip(hours, values, strict=True))


def clear_usage(hass: HomeAssistant, subjects: Iterable[Subject]) -> None:
    """Delete every stored row of the subjects; their next import starts afresh.

    The recorder runs its tasks in order, so imports queued afterwards land
    in the emptied statistics.
    """
    get_instance(hass).async_clear_statistics(
        [
            statistic_id
            for subject in subjects
            for statistic_id in subject.statistic_ids.values()
        ]
    )


type _StoredZones = dict[str, dict[str, str]]


def _zone_store(hass: HomeAssistant, entry_id: str) -> Store[_StoredZones]:
    return Store(hass, ZONE_STORAGE_VERSION, f"{DOMAIN}.{entry_id}.usage_zones")


async def async_remove_zone_record(hass: HomeAssistant, entry_id: str) -> None:
    """Forget a removed account's zones; its statistics stay the user's."""
    await _zone_store(hass, entry_id).async_remove()


class ZoneRecord:
    """The time zone each subject's rows were written in, kept in `.storage`.

    Kept per subject, not per account: a SIM that left before the zone
    changed keeps its history, and is only imported anew if it comes back.
    """

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Read the record lazily, at the first import."""
        self._hass = hass
        self._store = _zone_store(hass, entry_id)
        self._zones: dict[str, str] | None = None

    async def _async_zones(self) -> dict[str, str]:
        if self._zones is None:
            stored = await self._store.async_load()
            self._zones = dict(stored["zones"]) if stored else {}
        return self._zones

    async def async_foreign(
        self, subjects: Iterable[Subject], tails: Mapping[str, StoredTail]
    ) -> list[tuple[Subject, str | None]]:
        """Subjects with rows not written in the current zone, and their zone.

        None for rows written before zones were recorded (then in UTC or an
        unknown zone): they cannot be read safely either.
        """
        zones = await self._async_zones()
        current = self._hass.config.time_zone
        return [
            (subject, zones.get(subject.key_id))
            for subject in subjects
            if subject.key_id in tails and zones.get(subject.key_id) != current
        ]

    async def async_written(self, subjects: Iterable[Subject]) -> None:
        """Note that these subjects' rows were (re)written in the current zone."""
        zones = await self._async_zones()
        current = self._hass.config.time_zone
        changed = False
        for subject in subjects:
            if zones.get(subject.key_id) != current:
                zones[subject.key_id] = current
                changed = True
        if changed:
            await self._store.async_save({"zones": dict(zones)})
