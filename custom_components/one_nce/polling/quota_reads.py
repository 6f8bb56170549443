"""Which SIM quotas to read because the Data Streamer reported traffic or a quota event.

While the usage stream delivers, a SIM's quotas are not polled on a schedule:
traffic is what changes them. Each SMS or data record of a SIM makes its SMS
or data quota due for one read, some time after the traffic settles (15
minutes after the last record, so a burst of SMS costs one read) but never
later than a longest wait after the first (a data session reporting every 15
minutes would otherwise push the read out for as long as it lasts), and
never sooner than that longest wait after the quota's previous read: 6 hours,
or the detail interval if longer, so that a SIM busy all day costs at most 4
reads of each quota, however its records are spaced. A quota event
(threshold reached, used up) makes the quota due at once, so what matters is
never late. Plain Python, no Home Assistant.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from ..api.records import QuotaService

# A read this long after the last traffic of a SIM catches the whole burst.
SETTLE: Final = timedelta(minutes=15)
# A SIM with traffic all day has its quota read at least this often.
BUSY_LONGEST: Final = timedelta(hours=6)

type QuotaKey = tuple[str, QuotaService]


@dataclass(slots=True)
class _Pending:
    """A quota waiting to be read: since when, and the latest traffic noted."""

    first: datetime
    last: datetime
    at_once: bool = False


class QuotaReads:
    """Pending single-quota reads: coalesced per SIM and quota, oldest first."""

    def __init__(self, *, settle: timedelta, longest: timedelta) -> None:
        """Read `settle` after the last traffic, at most `longest` after the first."""
        self.settle = settle
        self.longest = max(longest, settle)
        self._pending: dict[QuotaKey, _Pending] = {}
        self._asking: set[QuotaKey] = set()
        self._last_read: dict[QuotaKey, datetime] = {}

    def __contains__(self, key: QuotaKey) -> bool:
        """Whether the quota waits to be read (or is being read)."""
        return key in self._pending

    def note_traffic(self, key: QuotaKey, now: datetime) -> None:
        """Traffic of this quota arrived now: read it once it settles."""
        pending = self._pending.get(key)
        if pending is None:
            self._pending[key] = _Pending(first=now, last=now)
        else:
            pending.last = max(pending.last, now)

    def note_now(self, key: QuotaKey, now: datetime) -> None:
        """Read the quota at once: it changed (a quota event)."""
        self.note_traffic(key, now)
        self._pending[key].at_once = True

    def due_at(self, key: QuotaKey) -> datetime | None:
        """When the quota is to be read; None if it is not waiting."""
        pending = self._pending.get(key)
        if pending is None:
            return None
        if pending.at_once:
            return pending.last
        when = min(pending.first + self.longest, pending.last + self.settle)
        if (last_read := self._last_read.get(key)) is not None:
            when = max(when, last_read + self.longest)
        return when

    def due(
        self, now: datetime, *, limit: int, skip: Collection[str] = ()
    ) -> list[QuotaKey]:
        """Take up to `limit` quotas due by `now`, longest waiting first.

        They count as being read until `read` or `failed` says how that went;
        SIMs in `skip` (read in full anyway) are left for `read` to settle.
        """
        due = sorted(
            (when, key)
            for key in self._pending
            if key not in self._asking
            and key[0] not in skip
            and (when := self.due_at(key)) is not None
            and when <= now
        )
        taken = [key for _, key in due[: max(limit, 0)]]
        self._asking.update(taken)
        return taken

    def read(self, key: QuotaKey, as_of: datetime, *, for_traffic: bool = True) -> None:
        """Settle the quota, read by a request sent at `as_of`.

        What arrived before that is in the answer; traffic noted while the
        request was on its way may not be, and keeps the quota waiting. A
        read made for traffic spaces the next one (`longest`); a scheduled
        read of the SIM's details does not, so the first SMS after it is
        still seen within `settle`.
        """
        self._asking.discard(key)
        if for_traffic:
            self._last_read[key] = max(as_of, self._last_read.get(key, as_of))
        pending = self._pending.get(key)
        if pending is not None and pending.last <= as_of:
            del self._pending[key]

    def failed(self, key: QuotaKey, now: datetime) -> None:
        """Try a failed read again once traffic would have settled."""
        self._asking.discard(key)
        if key in self._pending:
            self._pending[key] = _Pending(first=now, last=now)

    def drop(self, iccid: str) -> None:
        """Forget the SIM's waiting quotas (it left, or 1NCE does not know it)."""
        for key in [key for key in self._pending if key[0] == iccid]:
            del self._pending[key]
            self._asking.discard(key)
        for key in [key for key in self._last_read if key[0] == iccid]:
            del self._last_read[key]

    def forget_absent(self, fleet: Collection[str]) -> None:
        """Forget the quotas of SIMs the list no longer has."""
        known = {key[0] for key in self._pending} | {key[0] for key in self._last_read}
        for iccid in known - set(fleet):
            self.drop(iccid)
