"""A sliding-window limiter shared by every call a client makes to `/sims`.

1NCE allows 10 requests per second per customer on `/sims` and answers 429 beyond
that. One limiter per account, in front of every request, is the only way to keep
concurrent callers (pollers, actions, delivery trackers) under that line together.

1NCE counts a request when it arrives, and the network may hold one back and
then deliver it together with later ones. So a request sent through `slot()`
keeps its place in the window from when it leaves until `period` after its
answer came back: an answer never comes back before its request arrived, so
however requests are bunched on their way, no `period` at 1NCE's end holds
more than `rate` of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
import math

from .exceptions import OneNceRateLimitError

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


def loop_clock() -> float:
    """Return the running event loop's time: the clock `asyncio.sleep` waits on.

    Measuring with the same clock the waits use keeps the two consistent, also
    where a host application (or its tests) drives the loop's time.
    """
    return asyncio.get_running_loop().time()


@dataclass(slots=True)
class _Admission:
    """A place in the window, counted from `at` (infinite while in flight)."""

    at: float


class RateLimiter:
    """Admit at most `rate` acquisitions in any window of `period` seconds.

    A sliding window rather than a token bucket: a bucket lets a full burst
    through at the edge of two windows, which is exactly what 1NCE counts.
    Waiters are served in arrival order because they queue on one lock.
    """

    def __init__(
        self,
        rate: int = 10,
        period: float = 1.0,
        *,
        clock: Clock = loop_clock,
        sleep: Sleep = asyncio.sleep,
        max_pause: float | None = None,
    ) -> None:
        """Inject clock and sleep so tests can run time without waiting.

        `max_pause` is the longest pause a caller sits out; while a pause has
        longer to run, `acquire` raises OneNceRateLimitError at once, so that
        nobody hangs for minutes behind a long Retry-After. None waits out any
        pause.
        """
        if rate < 1 or period <= 0:
            raise ValueError("rate must be >= 1 and period > 0")
        self.rate = rate
        self.period = period
        self.max_pause = max_pause
        self._clock = clock
        self._sleep = sleep
        self._admitted: list[_Admission] = []
        self._paused_until = 0.0
        self._lock = asyncio.Lock()
        self._released = asyncio.Event()

    async def acquire(self) -> None:
        """Wait until one more request fits the window and any pause is over.

        The request counts from now on. Raises OneNceRateLimitError instead
        when the pause has longer to run than `max_pause`; the request must
        then not be sent at all.
        """
        await self._admit(in_flight=False)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold a place in the window while a request is on its way, and after.

        The place is taken as `acquire` takes it, stays taken while the
        request is in flight, and is counted from when it ends (answer,
        error or cancellation): see the module doc.
        """
        admission = await self._admit(in_flight=True)
        try:
            yield
        finally:
            admission.at = self._clock()
            self._released.set()

    async def _admit(self, *, in_flight: bool) -> _Admission:
        async with self._lock:
            while True:
                now = self._clock()
                if self._paused_until > now:
                    remaining = self._paused_until - now
                    if self.max_pause is not None and remaining > self.max_pause:
                        raise OneNceRateLimitError(
                            "1NCE asked every caller to pause, "
                            f"for {remaining:.0f} s more",
                            retry_after=remaining,
                        )
                    await self._sleep(remaining)
                    continue
                self._admitted = [
                    admission
                    for admission in self._admitted
                    if admission.at > now - self.period
                ]
                if len(self._admitted) < self.rate:
                    admission = _Admission(math.inf if in_flight else now)
                    self._admitted.append(admission)
                    return admission
                counted = [a.at for a in self._admitted if a.at != math.inf]
                if counted:
                    await self._sleep(min(counted) + self.period - now)
                else:
                    # Every place is in flight: the first answer frees one.
                    self._released.clear()
                    await self._released.wait()

    def pause(self, seconds: float) -> None:
        """Hold every caller back, e.g. for a 429's Retry-After.

        Pausing the shared limiter, not just the caller that saw the 429, is
        what stops the others from hammering 1NCE meanwhile.
        """
        self._paused_until = max(self._paused_until, self._clock() + seconds)

    @property
    def paused_for(self) -> float:
        """Seconds until a pause ends (0 when not paused)."""
        return max(0.0, self._paused_until - self._clock())
