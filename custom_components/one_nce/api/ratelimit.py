"""A sliding-window limiter shared by every call a client makes to `/sims`.

1NCE allows 10 requests per second per customer on `/sims` and answers 429 beyond
that. One limiter per account, in front of every request, is the only way to keep
concurrent callers (pollers, actions, delivery trackers) under that line together.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable

from .exceptions import OneNceRateLimitError

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]


def loop_clock() -> float:
    """Return the running event loop's time: the clock `asyncio.sleep` waits on.

    Measuring with the same clock the waits use keeps the two consistent, also
    where a host application (or its tests) drives the loop's time.
    """
    return asyncio.get_running_loop().time()


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
        self._admitted: deque[float] = deque()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait until one more request fits the window and any pause is over.

        Raises OneNceRateLimitError instead when the pause has longer to run
        than `max_pause`; the request must then not be sent at all.
        """
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
                while self._admitted and self._admitted[0] <= now - self.period:
                    self._admitted.popleft()
                if len(self._admitted) < self.rate:
                    self._admitted.append(now)
                    return
                await self._sleep(self._admitted[0] + self.period - now)

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
