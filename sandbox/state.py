"""Everything one sandbox knows: fleet, tokens, SMS, counters, faults.

Kept apart from the routes so that the API (`app.py`) and the control API
(`control.py`) read and change one object, and a reset is one call.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass
from datetime import date, datetime, timedelta
import random
import secrets
from typing import Any, Final

from aiohttp import web

from .activity import Activity
from .clock import Clock
from .config import (
    OWNER_CLIENT_ID,
    OWNER_CLIENT_SECRET,
    Faults,
    PlatformMode,
    SandboxConfig,
)
from .fleet import SimState, seed_fleet
from .gateway import Forwarder, Gateway
from .streams import Streamer


@dataclass(frozen=True, slots=True)
class Token:
    """A bearer token: whose, until when, and whether the API honours it."""

    client_id: str
    expires_at: float
    api_access: bool


class SlidingWindow:
    """At most `limit` requests per `window` seconds per key, like 1NCE's gateway."""

    def __init__(self, clock: Clock, window: float) -> None:
        """Track nothing yet."""
        self._clock = clock
        self._window = window
        self._seen: dict[str, deque[float]] = {}

    def check(self, key: str, limit: int) -> float:
        """Admit (0.0) or say how many seconds until a request would be admitted.

        Refused requests are not counted, so a client that honours
        Retry-After gets in as soon as it was told.
        """
        if limit <= 0:
            return 0.0
        now = self._clock.monotonic()
        seen = self._seen.setdefault(key, deque())
        while seen and seen[0] <= now - self._window:
            seen.popleft()
        if len(seen) >= limit:
            return seen[0] + self._window - now
        seen.append(now)
        return 0.0

    def clear(self) -> None:
        """Forget every request (a sandbox reset)."""
        self._seen.clear()


class Sandbox:
    """The state behind one running sandbox."""

    def __init__(self, config: SandboxConfig) -> None:
        """Seed the fleet; the forwarder starts with the application."""
        self.config = config
        self.clock = Clock()
        self.fleet: dict[str, SimState] = self._seed()
        self.tokens: dict[str, Token] = {}
        self.requests: Counter[str] = Counter()
        self.statuses: Counter[str] = Counter()
        self.rng = random.Random(config.seed)
        self.api_limit = SlidingWindow(self.clock, 1.0)
        self.oauth_limit = SlidingWindow(self.clock, 60.0)
        self.forwarder = Forwarder(config, self.clock)
        self.gateway = Gateway(config, self.clock, lambda: self.fleet, self.forwarder)
        self.limits = {"data": 3, "smsMt": 13, "smsMo": 23}
        self.gateway.mt_limit = LIMIT_OPTIONS["smsMt"][self.limits["smsMt"]]
        self._orders = 1000
        self.streamer = Streamer(self.clock)
        self.activity = Activity(config, self.clock, lambda: self.fleet, self.streamer)
        self.gateway.observers.append(self.activity.on_sms)

    def _seed(self) -> dict[str, SimState]:
        """Seed a fresh fleet, whose data use is simulated from now on."""
        now = self.clock.now()
        self.started = now
        self.usage_from = now
        return seed_fleet(self.config.sims, self.config.seed, now, self.config.platform)

    def settle_usage(self) -> None:
        """Let every online SIM use its data for each whole minute gone by.

        Called before any request is answered, so that whatever is read (a
        quota, the v1 statistics, the truth on the control API) includes the
        time that passed, skipped ahead or not. Minutes are booked to the day
        (UTC) they start on.
        """
        start = self.usage_from
        minutes = int((self.clock.now() - start).total_seconds() // 60)
        if minutes <= 0:
            return
        self.usage_from = start + timedelta(minutes=minutes)
        while minutes > 0:
            midnight = datetime.combine(
                start.date() + timedelta(days=1), datetime.min.time(), start.tzinfo
            )
            today = min(minutes, -int((start - midnight).total_seconds() // 60))
            for sim in self.fleet.values():
                before = sim.data_volume
                if used := sim.use_data(start.date(), today):
                    # What the streams report is what was used, every MB of it.
                    self.activity.on_data(sim, used, before)
            minutes -= today
            start += timedelta(minutes=today)

    def usage_truth(self, sim: SimState, since: date | None = None) -> dict[str, Any]:
        """Tell what a SIM really used, day by day (oldest first), and in all.

        Days before `started` are the seeded history; from then on every MB
        and SMS is counted as it happens.
        """
        days = []
        total = {"data_mb": 0.0, "sms_mt": 0, "sms_mo": 0}
        for day in sorted(sim.usage):
            if since is not None and day < since:
                continue
            mt, mo, mb = sim.usage[day]
            row = {"data_mb": mb, "sms_mt": int(mt), "sms_mo": int(mo)}
            days.append({"date": day.isoformat(), **row})
            for key, value in row.items():
                total[key] += value
        return {
            "iccid": sim.iccid,
            "platform": sim.platform,
            "started": self.started.isoformat(),
            "data_volume": sim.data_volume,
            "sms_volume": sim.sms_volume,
            "days": days,
            "total": total,
        }

    def v1_gone(self, path: str) -> bool:
        """Whether a v1 path answers 404 because Platform 2.0 has no v1.

        A SIM's v1 calls fail once the SIM is on Platform 2.0; the account's
        own (limits) only for a pure Platform 2.0 account: a hybrid one still
        has Platform 1.0 SIMs.
        """
        parts = path.strip("/").split("/")  # v1, sims, {iccid|limits|...}, ...
        if len(parts) >= 3 and parts[1] == "sims" and parts[2].isdigit():
            sim = self.fleet.get(parts[2])
            return sim is not None and sim.platform == 2
        return self.config.platform is PlatformMode.TWO

    @property
    def faults(self) -> Faults:
        """Return the faults in force (in the config, so the gateway sees them)."""
        return self.config.faults

    def issue_token(self, client_id: str, secret: str) -> tuple[str, Token] | None:
        """Issue a token for good credentials; older ones stay valid, as at 1NCE."""
        if self.faults.revoked:
            return None
        if (client_id, secret) == (self.config.client_id, self.config.client_secret):
            api_access = True
        elif (client_id, secret) == (OWNER_CLIENT_ID, OWNER_CLIENT_SECRET):
            api_access = False
        else:
            return None
        value = secrets.token_urlsafe(24)
        token = Token(
            client_id,
            self.clock.monotonic() + self.faults.token_lifetime,
            api_access,
        )
        self.tokens[value] = token
        return value, token

    def valid_token(self, value: str) -> Token | None:
        """Look up the token behind a bearer string, if it is still good."""
        token = self.tokens.get(value)
        if token is None or self.faults.revoked:
            return None
        if self.clock.monotonic() >= token.expires_at:
            del self.tokens[value]
            return None
        return token

    def next_order(self) -> int:
        """Allocate the next top-up order number."""
        self._orders += 1
        return self._orders

    def reset_counters(self) -> None:
        """Start counting requests from zero."""
        self.requests.clear()
        self.statuses.clear()

    async def reset(self, sims: int | None = None) -> None:
        """Back to a freshly started sandbox; the forwarder URL is kept."""
        if sims is not None:
            self.config.sims = sims
        await self.gateway.clear()
        await self.forwarder.clear()
        await self.streamer.clear()
        self.activity.clear()
        self.fleet = self._seed()
        self.tokens.clear()
        self.reset_counters()
        self.api_limit.clear()
        self.oauth_limit.clear()
        self.config.faults = Faults()
        self.limits = {"data": 3, "smsMt": 13, "smsMo": 23}
        self.gateway.mt_limit = LIMIT_OPTIONS["smsMt"][self.limits["smsMt"]]
        self.rng = random.Random(self.config.seed)


# v1's organisation limit options: id -> monthly limit.
LIMIT_OPTIONS: dict[str, dict[int, int]] = {
    "data": {1: 100, 2: 500, 3: 1024, 4: 10240},
    "smsMt": {11: 100, 12: 500, 13: 1000, 14: 10000},
    "smsMo": {21: 100, 22: 500, 23: 1000, 24: 10000},
}
LIMIT_UNITS = {"data": "MB", "smsMt": "SMS", "smsMo": "SMS"}


SANDBOX: Final = web.AppKey("sandbox", Sandbox)
