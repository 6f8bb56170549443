"""The sandbox's own time: the wall clock plus whatever a test skipped ahead.

Everything time-driven (delivery, expiry, forwarder retries, token expiry, the
7-day SMS history) reads this clock and waits on it, so `advance()` moves
all of it at once and a benchmark need not sit out a 24-hour retry window.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
import time


class Clock:
    """Monotonic seconds and UTC datetimes, both skippable."""

    def __init__(self) -> None:
        """Start at real time, with nobody waiting."""
        self._offset = 0.0
        self._changed = asyncio.Event()

    def monotonic(self) -> float:
        """Seconds on a clock that only moves forward."""
        return time.monotonic() + self._offset

    def now(self) -> datetime:
        """Tell the time as 1NCE's servers would see it (UTC)."""
        return datetime.now(UTC) + timedelta(seconds=self._offset)

    def advance(self, seconds: float) -> None:
        """Skip ahead; whoever waits on the clock wakes to check."""
        self._offset += max(0.0, seconds)
        self._changed.set()
        self._changed = asyncio.Event()

    async def sleep(self, seconds: float) -> None:
        """Wait `seconds` of sandbox time, cut short by `advance()`."""
        due = self.monotonic() + seconds
        while (left := due - self.monotonic()) > 0:
            changed = self._changed
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), timeout=left)


def api_date(moment: datetime) -> str:
    """`2031-11-26 00:00:00`: how quotas and the forwarder write dates (UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def iso_date(moment: datetime) -> str:
    """`2025-04-01T09:00:00.000Z`: how the SMS endpoints write dates."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def zulu_date(moment: datetime) -> str:
    """`2026-12-07T10:00:00Z`: how Platform 2.0's delivery reports write dates."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
