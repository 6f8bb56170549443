"""The seeded SIM fleet and its shapes on the wire.

The first six SIMs are one of each situation a dashboard must show: plenty of
SMS, under 20 % left, none left, disabled, offline (where an SMS expires) and
a SIM without label and IMEI (absent keys, as the live API sends them). More
SIMs, for benchmarks, are drawn from a seeded generator and so are the same
on every run.

Each SIM is on Platform 1.0 or 2.0 (`SandboxConfig.platform`). An enabled SIM
that is online uses a little data every simulated minute (`DATA_RATE_KB` and
up, by its place in the fleet), which lowers its data quota; the per-day
record of data and SMS (`usage`) is the sandbox's truth, what v1's usage
statistics report and what tests compare Home Assistant's counts with.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import IntEnum, StrEnum
import random
from typing import Any, Final

from .clock import api_date, iso_date
from .config import PlatformMode

ICCID_PREFIX: Final = "8988228066"
SMS_TOTAL: Final = 250
DATA_TOTAL_MB: Final = 500.0
TOP_UP_SMS: Final = 250
TOP_UP_MB: Final = 500.0
DATA_RATE_KB: Final = 8
"""KB a minute the slowest online SIM uses; the others use up to five times as
much (8 to 40 KB, 11 to 56 MB a day). Multiples of 1/1024 MB add up exactly."""
_QUOTA_LEVELS: Final = {
    0: "More than 20% available",
    1: "Less than 20% available",
    2: "No volume available",
}


class Connectivity(StrEnum):
    """What the status endpoint says about a SIM."""

    ONLINE = "ONLINE"
    ATTACHED = "ATTACHED"
    OFFLINE = "OFFLINE"
    BLOCKED = "BLOCKED"


class SmsStatus(IntEnum):
    """1NCE's SMS status ids."""

    PENDING = 2
    BUFFERED = 3
    DELIVERED = 4
    FAILED = 5
    EXPIRED = 6
    CANCELED = 7


FINAL: Final = frozenset(
    {SmsStatus.DELIVERED, SmsStatus.FAILED, SmsStatus.EXPIRED, SmsStatus.CANCELED}
)


def luhn_digit(digits: str) -> str:
    """Compute the check digit 1NCE appends for `iccid_with_luhn`."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            value -= 9 if value > 9 else 0
        total += value
    return str((10 - total % 10) % 10)


@dataclass(slots=True, kw_only=True)
class SimState:
    """One SIM: its record, volumes, network state and what its SMS will do."""

    iccid: str
    index: int
    label: str | None
    imei: str | int | None
    enabled: bool = True
    imei_lock: bool = False
    connectivity: Connectivity = Connectivity.ONLINE
    sms_volume: float = SMS_TOTAL
    sms_total: float = SMS_TOTAL
    data_volume: float = DATA_TOTAL_MB
    data_total: float = DATA_TOTAL_MB
    mt_outcome: SmsStatus = SmsStatus.DELIVERED
    """Final status of MT SMS sent to this SIM (DELIVERED, FAILED, EXPIRED)."""
    platform: int = 1
    """1 (v1 answers for it, small SMS ids) or 2 (Platform 2.0)."""
    sms_added: float = SMS_TOTAL
    data_added: float = DATA_TOTAL_MB
    """`last_volume_added` of the SMS and data quotas."""
    activated: datetime
    quota_changed: datetime
    expiry: datetime
    usage: dict[date, list[float]] = field(default_factory=dict)
    """Per day: [MT SMS, MO SMS, data MB]."""

    @property
    def imsi(self) -> str:
        """Derive the IMSI from the SIM's place in the fleet."""
        return f"90140510{self.index:07d}"

    @property
    def msisdn(self) -> str:
        """Derive the number MO SMS come from."""
        return f"88228510{self.index:07d}"

    @property
    def effective_outcome(self) -> SmsStatus:
        """What an MT SMS sent now ends as: nothing reaches a disabled or empty SIM."""
        if not self.enabled or self.sms_volume <= 0:
            return SmsStatus.FAILED
        if self.connectivity is Connectivity.OFFLINE:
            return SmsStatus.EXPIRED
        return self.mt_outcome

    def count(self, day: date, *, mt: int = 0, mo: int = 0, mb: float = 0) -> None:
        """Record usage for the v1 statistics."""
        row = self.usage.setdefault(day, [0.0, 0.0, 0.0])
        row[0] += mt
        row[1] += mo
        row[2] += mb

    @property
    def data_rate(self) -> float:
        """MB this SIM uses a minute while it is online."""
        return DATA_RATE_KB * (1 + self.index % 5) / 1024

    def use_data(self, day: date, minutes: int) -> float:
        """Spend `minutes` online on `day`: data leaves the quota, the day counts it.

        Only an enabled, online SIM with data left uses any, and never more
        than is left. Returns the MB used.
        """
        if (
            not self.enabled
            or self.connectivity is not Connectivity.ONLINE
            or self.data_volume <= 0
        ):
            return 0.0
        used = min(self.data_rate * minutes, self.data_volume)
        self.data_volume -= used
        self.count(day, mb=used)
        return used

    def top_up(self, now: datetime) -> None:
        """Credit a top-up at once: both quotas grow by what was bought."""
        self.sms_volume = max(self.sms_volume, 0) + TOP_UP_SMS
        self.data_volume = max(self.data_volume, 0) + TOP_UP_MB
        self.sms_total += TOP_UP_SMS
        self.data_total += TOP_UP_MB
        self.sms_added = TOP_UP_SMS
        self.data_added = TOP_UP_MB
        self.quota_changed = now.replace(microsecond=0)

    def as_api(self) -> dict[str, Any]:
        """Render the SIM as `GET /v2/sims` lists it; unset label/imei are absent."""
        item: dict[str, Any] = {
            "iccid": self.iccid,
            "iccid_with_luhn": self.iccid + luhn_digit(self.iccid),
            "imsi": self.imsi,
            "current_imsi": self.imsi,
            "msisdn": self.msisdn,
            "imei_lock": self.imei_lock,
            "status": "Enabled" if self.enabled else "Disabled",
            "activation_date": self.activated.strftime("%Y-%m-%dT%H:%M:%S.000+0000"),
            "ip_address": f"100.64.{self.index // 250}.{self.index % 250 + 1}",
            # 1NCE's description: the quota set for the SIM (MB, SMS), not
            # what is left of it; that is only in the per-SIM quota.
            "current_quota": round(self.data_total, 6),
            "quota_status": _level(self.data_volume, self.data_total),
            "current_quota_SMS": int(self.sms_total),
            "quota_status_SMS": _level(self.sms_volume, self.sms_total),
        }
        if self.imei is not None:
            item["imei"] = self.imei
        if self.label is not None:
            item["label"] = self.label
        return item

    def quota_api(self, service: str) -> dict[str, Any]:
        """`GET .../quota/sms` or `.../quota/data` in v2's shape."""
        sms = service == "sms"
        volume = self.sms_volume if sms else self.data_volume
        total = self.sms_total if sms else self.data_total
        if volume <= 0:
            status = {"id": 1, "description": "EXHAUSTED"}
        else:
            status = {"id": 0, "description": "ACTIVE"}
        quota: dict[str, Any] = {
            "id": self.index,
            "status": status,
            "volume": int(volume) if sms else round(volume, 6),
            "total_volume": total,
            "accumulated_total_volume": total,
            "last_volume_added": self.sms_added if sms else self.data_added,
            "service": service,
            "threshold_percentage": 20,
            "threshold_volume": total * 0.2,
            "expiry_date": api_date(self.expiry),
            "last_status_change_date": api_date(self.quota_changed),
        }
        if not sms:
            quota["peak_throughput"] = 1_000_000
        return quota

    def status_api(self, now: datetime) -> dict[str, Any]:
        """`GET .../status`: location while attached, a PDP context while online."""
        status: dict[str, Any] = {
            "status": {"description": self.connectivity.value},
            "services": [],
        }
        if self.connectivity in (Connectivity.ONLINE, Connectivity.ATTACHED):
            status["location"] = {
                "iccid": self.iccid,
                "imsi": self.imsi,
                "last_updated": iso_date(now - timedelta(minutes=7 + self.index)),
                "operator": {
                    "id": 2,
                    "name": "Telekom",
                    "mnc": "01",
                    "country": {"id": 74, "name": "Germany", "iso_code": "de"},
                },
                "country": {
                    "country_id": "74",
                    "name": "Germany",
                    "country_code": "49",
                    "mcc": "262",
                    "iso_code": "de",
                    "latitude": 51.165691,
                    "longitude": 10.451526,
                },
            }
            status["services"] = ["GPRS", "SMS"]
        if self.connectivity is Connectivity.ONLINE:
            status["pdp_context"] = {
                "pdp_context_id": str(92400 + self.index),
                "ue_ip_address": self.as_api()["ip_address"],
                "rat_type": {"id": 6, "description": "4G"},
                "apn": "iot.1nce.net",
                "duration": 3600 + self.index,
            }
        return status

    def events_api(self, now: datetime) -> list[dict[str, Any]]:
        """Make up a short, believable event log, newest first."""
        kinds = [
            (1, "Update location", "Location update"),
            (4, "Create PDP Context", "PDP context created"),
            (5, "Delete PDP Context", "PDP context deleted"),
        ]
        events = []
        for number in range(3):
            type_id, type_name, text = kinds[number % len(kinds)]
            events.append(
                {
                    "id": self.index * 100 + number,
                    "timestamp": iso_date(now - timedelta(hours=number * 5 + 1)),
                    "event_type": {"id": type_id, "description": type_name},
                    "event_severity": {"id": 0, "description": "INFO"},
                    "event_source": {"id": 0, "description": "Network"},
                    "description": text,
                    "alert": False,
                    "iccid": self.iccid,
                    "imsi": self.imsi,
                }
            )
        return events


def _level(volume: float, total: float) -> dict[str, Any]:
    """Grade a quota as the list does: over 20 %, under 20 %, none."""
    if volume <= 0:
        level = 2
    elif volume < total * 0.2:
        level = 1
    else:
        level = 0
    return {"id": level, "description": _QUOTA_LEVELS[level]}


# (label, imei, enabled, connectivity, SMS left). MT SMS end DELIVERED, except
# where none are left or the SIM is disabled (FAILED) or offline (EXPIRED).
_EXAMPLES: Final[list[tuple[str | None, str | int | None, bool, Connectivity, int]]] = [
    ("Garden gate", "3526510721968301", True, Connectivity.ONLINE, 231),
    ("Weather station", 861234567890123, True, Connectivity.ATTACHED, 32),
    ("Cellar pump", "3526510721968303", True, Connectivity.ONLINE, 0),
    ("Old tracker", "3526510721968304", False, Connectivity.OFFLINE, 120),
    ("Camper van", "3526510721968305", True, Connectivity.OFFLINE, 180),
    (None, None, True, Connectivity.ONLINE, 250),
]


def seed_fleet(
    count: int, seed: int, now: datetime, platform: PlatformMode
) -> dict[str, SimState]:
    """Build the fleet: the six examples first, then seeded ordinary SIMs."""
    rng = random.Random(seed)
    fleet: dict[str, SimState] = {}
    for index in range(1, count + 1):
        iccid = f"{ICCID_PREFIX}{index:09d}"
        activated = (now - timedelta(days=400 + index)).replace(microsecond=0)
        common: dict[str, Any] = {
            "iccid": iccid,
            "index": index,
            "platform": platform.platform_of(index, count),
            "activated": activated,
            "quota_changed": activated,
            "expiry": activated.replace(hour=0, minute=0, second=0)
            + timedelta(days=3650),
        }
        if index <= len(_EXAMPLES):
            label, imei, enabled, connectivity, sms_left = _EXAMPLES[index - 1]
            sim = SimState(
                label=label,
                imei=imei,
                enabled=enabled,
                connectivity=connectivity,
                sms_volume=sms_left,
                data_volume=round(DATA_TOTAL_MB * (0.9 - 0.1 * index), 6),
                **common,
            )
        else:
            sim = SimState(
                label=f"Sensor {index}" if rng.random() < 0.8 else None,
                imei=f"35265107{rng.randrange(10**8):08d}",
                enabled=rng.random() < 0.95,
                connectivity=rng.choice(
                    [Connectivity.ONLINE] * 3
                    + [Connectivity.ATTACHED, Connectivity.OFFLINE]
                ),
                sms_volume=rng.randrange(0, SMS_TOTAL + 1),
                data_volume=round(rng.uniform(0, DATA_TOTAL_MB), 6),
                **common,
            )
        # A little history, so usage statistics have something to import.
        for days_ago in range(1, 31):
            day = (now - timedelta(days=days_ago)).date()
            sim.count(
                day,
                mt=rng.randrange(0, 3),
                mo=rng.randrange(0, 4),
                mb=round(rng.uniform(0, 2), 3),
            )
        fleet[iccid] = sim
    return fleet
