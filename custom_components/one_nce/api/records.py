"""What 1NCE's Data Streamer pushes, as values: usage and network events.

The Data Streamer POSTs batches of records of three kinds: usage (one per
data-session slice, one per SMS), network events (attach, PDP context, quota,
SIM state) and SMS events (MO SMS and delivery reports, which become the
`MoSms` and `DeliveryReport` of `models.py`, the forwarder's values). This
module holds the first two and the batch; `streamer.py` reads them from the
wire, in both the nested and the flat shape, from Platform 1.0 and 2.0.
Every id is text: 1NCE's are 64-bit numbers, above what a float holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from .models import DeliveryReport, MoSms


class UsageKind(StrEnum):
    """What a usage record counts (1NCE's traffic type 5 and 6)."""

    DATA = "data"
    SMS = "sms"


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageRecord:
    """Traffic of one SIM in one time slice: a data-session slice or one SMS.

    1NCE sends one record per SMS and, for an open data session, one at most
    every 15 minutes with what was used since the last; `end` is when the
    slice ended, the time the usage belongs to.
    """

    record_id: str
    iccid: str
    start: datetime
    end: datetime
    kind: UsageKind
    data_bytes: int = 0
    """Data used, up and down (1NCE sends MiB; converted and rounded here)."""
    sms_mo: int = 0
    """SMS the SIM sent."""
    sms_mt: int = 0
    """SMS the SIM received."""
    operator: str | None = None
    """The visited network's name (Platform 1.0 streams; 2.0 sends ids only)."""
    operator_id: int | None = None
    """1NCE's id of the visited network (both platforms)."""
    country: str | None = None
    rat: str | None = None
    """Radio access of a data slice (Platform 2.0): as `NetworkEvent.rat`."""


class NetworkEventType(StrEnum):
    """The network events a user can act on; every other kind is `OTHER`."""

    ATTACH = "attach"
    LOCATION_UPDATE = "location_update"
    PDP_CONTEXT_CREATED = "pdp_context_created"
    PDP_CONTEXT_DELETED = "pdp_context_deleted"
    QUOTA_THRESHOLD_REACHED = "quota_threshold_reached"
    QUOTA_USED_UP = "quota_used_up"
    SIM_ENABLED = "sim_enabled"
    SIM_DISABLED = "sim_disabled"
    BLOCKED = "blocked"
    OTHER = "other"


class QuotaService(StrEnum):
    """Which quota a quota event is about."""

    DATA = "data"
    SMS = "sms"


@dataclass(frozen=True, slots=True, kw_only=True)
class NetworkEvent:
    """One event of one SIM as the event stream pushed it."""

    record_id: str
    iccid: str
    timestamp: datetime
    event_type: NetworkEventType
    type_id: int | None
    """1NCE's event type id, kept for events of type `OTHER`."""
    description: str | None
    """1NCE's own words: the event type's name, else the event's text."""
    alert: bool = False
    operator: str | None = None
    """The visited network's name (Platform 1.0 streams; 2.0 sends ids only)."""
    country: str | None = None
    rat: str | None = None
    """Radio access: 2G, 3G, 4G, 5G, NB-IoT, LTE-M."""
    quota_service: QuotaService | None = None
    quota_left: float | None = None
    """For quota events: what is left (MB for data, SMS for SMS); may be negative."""
    operator_id: int | None = None
    """1NCE's id of the visited network, where the event names one."""


@dataclass(slots=True, kw_only=True)
class StreamBatch:
    """A POSTed batch, sorted by kind; what could not be read is only counted."""

    usage: list[UsageRecord] = field(default_factory=list)
    events: list[NetworkEvent] = field(default_factory=list)
    mo_sms: list[MoSms] = field(default_factory=list)
    reports: list[DeliveryReport] = field(default_factory=list)
    unreadable: int = 0
    """Records that are not 1NCE's shapes, or miss what they need (no ICCID, no id)."""
    unknown: int = 0
    """Records of a kind this integration does not use (readable, ignored)."""
    unreadable_reasons: dict[str, int] = field(default_factory=dict)
    """Why records were unreadable, counted by reason; a reason names fields only."""
    usage_records: int = 0
    """Records shaped as usage (read or not): the batch came from a usage stream."""
    event_records: int = 0
    """Records shaped as network events (read or not): from an event stream."""
