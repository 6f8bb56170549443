"""Which Data Streamer records were handed on already: kept 9 days, across restarts.

1NCE resends a batch it did not hear 200 for, in any order, and says a
repeated id is a retransmission. The streamer may also replay up to 7 days of
history when a stream is created. So every usage and event record's
(kind, id) is remembered for 9 days, in a journal of its own (the inbox's
group commit: the ids are on disk before 1NCE hears 200), and a record is
handed on only the first time. SMS records are not kept here: the inbox
de-duplicates them by SMS id, whichever channel brought them.

What "once" promises: the ids are stored, then the records handed on. A
crash between the two (a moment) loses that hand-on rather than repeating
it: usage counted twice would be wrong for good, a missed slice is caught up
by polling.

The journal also keeps when each stream kind last delivered, which the
repair issue needs across restarts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Final

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.util import dt as dt_util

from .journal import Journal, Record

# Longer than the 7 days of history a new stream may replay, plus a margin.
RECORD_RETENTION: Final = timedelta(days=9)
PRUNE_INTERVAL: Final = timedelta(hours=1)
# Ids are remembered by the hour they arrived in: one journal line per batch,
# one per hour and kind when the file is compacted.
_BUCKET: Final = 3600

type Key = tuple[str, str]
"""(kind, record id)."""


class RecordStore:
    """The (kind, id) of every record handed on in the last 9 days."""

    def __init__(self, hass: HomeAssistant, path: Path) -> None:
        """Prepare an empty store; `async_load` fills it from the journal."""
        self._hass = hass
        self._journal = Journal(hass, path, self._snapshot)
        self._seen: dict[Key, int] = {}
        self._last: dict[str, float] = {}
        self._unsubscribe: CALLBACK_TYPE | None = None
        self._closed = False

    def __len__(self) -> int:
        """How many ids are remembered."""
        return len(self._seen)

    def last_delivery(self, kind: str) -> datetime | None:
        """When a batch of this stream kind last arrived, across restarts."""
        at = self._last.get(kind)
        return None if at is None else dt_util.utc_from_timestamp(at)

    async def async_load(self) -> None:
        """Read the journal back and start forgetting what is too old."""
        await self._journal.async_replay(self._replay, "the streamer")
        self._prune(dt_util.utcnow())
        self._unsubscribe = async_track_time_interval(
            self._hass, self._prune, PRUNE_INTERVAL, cancel_on_shutdown=True
        )

    async def async_close(self) -> None:
        """Stop pruning and wait for queued writes."""
        self._closed = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await self._journal.async_close()

    async def async_store(self, keys: Iterable[Key], kinds: set[str]) -> set[Key]:
        """Store the keys not seen before; return those, once they are on disk.

        `kinds` are the stream kinds this batch delivered (noted even if
        every record was a repeat: the stream is alive). Raises `OSError` if
        nothing could be stored; then nothing counts as seen.
        """
        if self._closed:
            raise OSError("the streamer's store is closed")
        fresh = list(dict.fromkeys(key for key in keys if key not in self._seen))
        if not fresh and all(kind in self._last for kind in kinds):
            self._note_delivery(kinds, dt_util.utcnow().timestamp())
            return set()
        now = dt_util.utcnow().timestamp()
        bucket = int(now) // _BUCKET * _BUCKET

        @callback
        def commit() -> set[Key]:
            new = {key for key in fresh if key not in self._seen}
            for key in new:
                self._seen[key] = bucket
            self._note_delivery(kinds, now)
            return new

        return await self._journal.write(_line(bucket, fresh, kinds, now), commit)

    def _note_delivery(self, kinds: Iterable[str], at: float) -> None:
        for kind in kinds:
            self._last[kind] = max(at, self._last.get(kind, 0.0))

    def _replay(self, record: Record) -> None:
        bucket = int(record["at"])
        for kind, ids in dict(record.get("ids", {})).items():
            for record_id in ids:
                self._seen.setdefault((str(kind), str(record_id)), bucket)
        for kind, at in dict(record.get("last", {})).items():
            self._note_delivery([str(kind)], float(at))

    def _snapshot(self) -> list[Record]:
        """One line per hour of arrival, and the last deliveries."""
        buckets: dict[int, dict[str, list[str]]] = defaultdict(
            lambda: defaultdict(list)
        )
        for (kind, record_id), bucket in self._seen.items():
            buckets[bucket][kind].append(record_id)
        records: list[Record] = [
            {"at": bucket, "ids": dict(ids)} for bucket, ids in buckets.items()
        ]
        if self._last:
            records.append({"at": 0, "last": dict(self._last)})
        return records

    @callback
    def _prune(self, now: datetime) -> None:
        oldest = (now - RECORD_RETENTION).timestamp()
        self._seen = {key: at for key, at in self._seen.items() if at >= oldest}


def _line(bucket: int, keys: list[Key], kinds: set[str], now: float) -> Record:
    ids: dict[str, list[str]] = defaultdict(list)
    for kind, record_id in keys:
        ids[kind].append(record_id)
    return {"at": bucket, "ids": dict(ids), "last": dict.fromkeys(kinds, now)}
