"""The one doubling back-off: 1, 2, 4 ... times a first wait, up to a longest one.

Details of a failing SIM (minutes up to the detail interval), usage of a
failing SIM (hours up to a day), the delivery status of an SMS not yet
final (minutes up to an hour) and the probes of failing details all wait
this way: asking less the longer something fails, never less than the cap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

# 2**30 times any first wait is beyond every cap; it keeps the product small.
_MAX_DOUBLINGS = 30


@dataclass(frozen=True, slots=True)
class Backoff:
    """Waits of `first`, twice that, four times that ..., never above `longest`."""

    first: timedelta
    longest: timedelta

    def delay(self, attempt: int) -> timedelta:
        """Return the wait after the `attempt`-th failure in a row (1 for the first)."""
        doublings = min(max(attempt, 1) - 1, _MAX_DOUBLINGS)
        return min(self.first * (1 << doublings), self.longest)

    def after(self, wait: timedelta) -> timedelta:
        """Return the wait that follows `wait`: twice it, within the bounds."""
        return max(self.first, min(wait * 2, self.longest))
