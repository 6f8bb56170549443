"""Typed views of what the 1NCE API returns.

Each model has a `from_api` constructor that owns every raw key name, so code
outside this package never reads 1NCE's JSON. The parsing rules (lenient for the
live API's quirks, strict for anything else) live in `_parse`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
import math
import re

from ._parse import (
    JsonObject,
    as_list,
    as_object,
    opt_bool,
    opt_datetime,
    opt_float,
    opt_int,
    opt_object,
    opt_str,
    req_id,
    req_int,
    req_str,
)
from .exceptions import OneNceResponseError

type SmsId = str
"""1NCE's id of an SMS: a 64-bit number, always as its decimal digits.

Platform 2.0's ids (`"551734281731175386"`) are above 2^53, which a float or
a JavaScript number cannot hold exactly, so an id is never a number here:
the same digits in the API's answers, in pushed messages, in events and
action responses, and on disk.
"""


class DeliveryStatus(StrEnum):
    """Where an MT SMS is on its way to the SIM, in 1NCE's terms."""

    PENDING = "pending"
    BUFFERED = "buffered"
    DELIVERED = "delivered"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELED = "canceled"


FINAL_STATUSES: frozenset[DeliveryStatus] = frozenset(
    {
        DeliveryStatus.DELIVERED,
        DeliveryStatus.FAILED,
        DeliveryStatus.EXPIRED,
        DeliveryStatus.CANCELED,
    }
)
"""Statuses after which 1NCE stops trying, so nobody needs to poll any more."""

_STATUS_BY_ID: dict[int, DeliveryStatus] = {
    1: DeliveryStatus.PENDING,  # "attempt pending" on related platforms
    2: DeliveryStatus.PENDING,
    3: DeliveryStatus.BUFFERED,
    4: DeliveryStatus.DELIVERED,
    5: DeliveryStatus.FAILED,
    6: DeliveryStatus.EXPIRED,
    7: DeliveryStatus.CANCELED,
}
_STATUS_BY_TEXT: dict[str, DeliveryStatus] = {
    **{status.name: status for status in DeliveryStatus},
    "ATTEMPT_PENDING": DeliveryStatus.PENDING,
    "CANCELLED": DeliveryStatus.CANCELED,
}


def delivery_status_from_id(status_id: int, text: str | None = None) -> DeliveryStatus:
    """Map 1NCE's status id, and failing that its text, to a delivery status.

    The id wins when it is known, because it is the documented contract and
    the text's spelling varies; the text only rescues ids 1NCE may add later.
    Raises `ValueError` when neither is known, so that an unknown status is
    never mistaken for a final (or a pending) one.
    """
    if (status := _STATUS_BY_ID.get(status_id)) is not None:
        return status
    if text is not None:
        key = re.sub(r"[\s-]+", "_", text.strip()).upper()
        if (status := _STATUS_BY_TEXT.get(key)) is not None:
            return status
    raise ValueError(f"unknown status id {status_id}")


class QuotaLevel(StrEnum):
    """How much of a quota is left, as the SIM list reports it."""

    SUFFICIENT = "sufficient"  # more than 20 % left
    LOW = "low"  # less than 20 % left
    EXHAUSTED = "exhausted"  # nothing left


_QUOTA_LEVEL_BY_ID = {
    0: QuotaLevel.SUFFICIENT,
    1: QuotaLevel.LOW,
    2: QuotaLevel.EXHAUSTED,
}


class QuotaStatus(StrEnum):
    """Lifecycle of a quota, as v2's quota endpoints report it."""

    ACTIVE = "active"
    EXHAUSTED = "exhausted"
    EXPIRED = "expired"


class ConnectivityStatus(StrEnum):
    """Whether the network sees the SIM, as the status endpoint reports it."""

    ONLINE = "online"
    ATTACHED = "attached"
    OFFLINE = "offline"
    BLOCKED = "blocked"


class SmsDirection(StrEnum):
    """Mobile terminated (sent to the SIM) or mobile originated (from it)."""

    MT = "mt"
    MO = "mo"


class LimitService(StrEnum):
    """The services an organisation-wide monthly limit can cap (v1 names)."""

    DATA = "data"
    SMS_MT = "smsMT"
    SMS_MO = "smsMO"


# 1NCE has answered a single-SIM GET with "Activated"; treat it as "Enabled".
_ENABLED_STATUSES = frozenset({"enabled", "activated", "active"})
_DISABLED_STATUSES = frozenset({"disabled", "deactivated", "inactive", "suspended"})


def _quota_level(data: JsonObject, key: str) -> QuotaLevel | None:
    status = opt_object(data, key)
    level_id = opt_int(status, "id")
    if level_id is None:
        return None
    try:
        return _QUOTA_LEVEL_BY_ID[level_id]
    except KeyError:
        raise OneNceResponseError(f"{key}.id: unknown level {level_id}") from None


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenInfo:
    """What the token endpoint says about the caller (never the token itself)."""

    expires_in: float
    user_id: str | None
    organisation_id: str | None
    scope: str | None

    @classmethod
    def from_api(cls, data: object) -> TokenInfo:
        """Read the token response; `orgId` only appears in older answers."""
        obj = as_object(data, "token response")
        return cls(
            expires_in=opt_float(obj, "expires_in") or 3600.0,
            user_id=opt_str(obj, "userId") or opt_str(obj, "user_id"),
            organisation_id=opt_str(obj, "orgId"),
            scope=opt_str(obj, "scope"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Sim:
    """One SIM as the list and single-SIM endpoints describe it."""

    iccid: str
    iccid_with_luhn: str | None = None
    imsi: str | None = None
    imsi_2: str | None = None
    current_imsi: str | None = None
    msisdn: str | None = None
    imei: str | None = None
    imei_lock: bool = False
    enabled: bool
    status: str
    activation_date: datetime | None = None
    ip_address: str | None = None
    data_quota_mb: float | None = None
    data_quota_level: QuotaLevel | None = None
    sms_quota: float | None = None
    sms_quota_level: QuotaLevel | None = None
    label: str | None = None

    @classmethod
    def from_api(cls, data: object) -> Sim:
        """Read a SIM; `label` and `imei` are absent when unset, `imei` may be a number."""
        obj = as_object(data, "SIM")
        iccid = req_str(obj, "iccid")
        if not iccid.isdigit():
            raise OneNceResponseError(f"iccid: {iccid!r} is not an ICCID")
        status = req_str(obj, "status")
        lowered = status.lower()
        if lowered in _ENABLED_STATUSES:
            enabled = True
        elif lowered in _DISABLED_STATUSES:
            enabled = False
        else:
            raise OneNceResponseError(f"status: unknown SIM status {status!r}")
        return cls(
            iccid=iccid,
            iccid_with_luhn=opt_str(obj, "iccid_with_luhn"),
            imsi=opt_str(obj, "imsi"),
            imsi_2=opt_str(obj, "imsi_2"),
            current_imsi=opt_str(obj, "current_imsi"),
            msisdn=opt_str(obj, "msisdn"),
            imei=opt_str(obj, "imei"),
            imei_lock=opt_bool(obj, "imei_lock") or False,
            enabled=enabled,
            status=status,
            activation_date=opt_datetime(obj, "activation_date"),
            ip_address=opt_str(obj, "ip_address"),
            data_quota_mb=opt_float(obj, "current_quota"),
            data_quota_level=_quota_level(obj, "quota_status"),
            sms_quota=opt_float(obj, "current_quota_SMS"),
            sms_quota_level=_quota_level(obj, "quota_status_SMS"),
            label=opt_str(obj, "label"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SimPage:
    """One page of the SIM list with the paging facts from its headers."""

    sims: list[Sim]
    page: int
    total_pages: int | None
    total_count: int | None


def _status_text(obj: JsonObject, *fallbacks: str) -> str | None:
    """Read a state as v1 (`status` string) or v2 (`status.description`) words it."""
    raw_status = obj.get("status")
    if isinstance(raw_status, str):
        return raw_status.strip() or None
    text = opt_str(opt_object(obj, "status"), "description")
    for key in fallbacks:
        text = text or opt_str(obj, key)
    return text


def _known[E: StrEnum](kind: type[E], text: str | None) -> E | None:
    """Map 1NCE's word for a state to ours; a word we do not know is None.

    1NCE adds states without notice. A new one must leave that one value
    unknown, not take the SIM's other details (volumes, location) down with
    it; the raw word is kept next to it for whoever wants to show it.
    """
    if text is None:
        return None
    try:
        return kind(text.lower())
    except ValueError:
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Quota:
    """The SMS or data quota of one SIM.

    1NCE sometimes answers `{}`; that yields a quota whose fields are all None
    (`known` is False) rather than an error, because the SIM itself is fine.
    A `status` word this client does not know leaves `status` None and is kept
    in `status_text`.
    """

    volume: float | None = None
    total_volume: float | None = None
    accumulated_total_volume: float | None = None
    last_volume_added: float | None = None
    threshold_percentage: float | None = None
    threshold_volume: float | None = None
    peak_throughput: float | None = None
    status: QuotaStatus | None = None
    status_text: str | None = None
    expiry_date: datetime | None = None
    last_status_change_date: datetime | None = None

    @property
    def known(self) -> bool:
        """Whether 1NCE told us anything about this quota."""
        return self.volume is not None or self.total_volume is not None

    @classmethod
    def from_api(cls, data: object) -> Quota:
        """Read a quota; dates come without a zone and mean UTC."""
        obj = as_object(data, "quota")
        text = _status_text(obj)
        return cls(
            volume=opt_float(obj, "volume"),
            total_volume=opt_float(obj, "total_volume"),
            accumulated_total_volume=opt_float(obj, "accumulated_total_volume"),
            last_volume_added=opt_float(obj, "last_volume_added"),
            threshold_percentage=opt_float(obj, "threshold_percentage"),
            threshold_volume=opt_float(obj, "threshold_volume"),
            peak_throughput=opt_float(obj, "peak_throughput"),
            status=_known(QuotaStatus, text),
            status_text=text,
            expiry_date=opt_datetime(obj, "expiry_date"),
            last_status_change_date=opt_datetime(obj, "last_status_change_date"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Connectivity:
    """Where and how the network last saw a SIM.

    `status` is None for a state word this client does not know (kept in
    `status_text`): the location and radio facts are still worth having.
    """

    status: ConnectivityStatus | None
    status_text: str | None = None
    operator: str | None = None
    operator_country: str | None = None
    country: str | None = None
    country_iso: str | None = None
    mcc: str | None = None
    last_updated: datetime | None = None
    services: tuple[str, ...] = ()
    radio_access_type: str | None = None
    ue_ip_address: str | None = None

    @classmethod
    def from_api(cls, data: object) -> Connectivity:
        """Read the status; v1 puts the state in `status`, v2 in `status.description`.

        A status answer without any state is not a status answer: that raises.
        """
        obj = as_object(data, "connectivity")
        text = _status_text(obj, "description")
        if text is None:
            raise OneNceResponseError("status: missing")
        location = opt_object(obj, "location")
        operator = opt_object(location, "operator")
        country = opt_object(location, "country")
        pdp = opt_object(obj, "pdp_context")
        if not pdp and obj.get("pdp_contexts"):
            pdp = as_object(
                as_list(obj["pdp_contexts"], "pdp_contexts")[0], "pdp_context"
            )
        services = tuple(
            str(item) for item in as_list(obj.get("services") or [], "services")
        )
        return cls(
            status=_known(ConnectivityStatus, text),
            status_text=text,
            operator=opt_str(operator, "name"),
            operator_country=opt_str(opt_object(operator, "country"), "name"),
            country=opt_str(country, "name"),
            country_iso=opt_str(country, "iso_code"),
            mcc=opt_str(country, "mcc"),
            last_updated=opt_datetime(location, "last_updated"),
            services=services,
            radio_access_type=opt_str(opt_object(pdp, "rat_type"), "description"),
            ue_ip_address=opt_str(pdp, "ue_ip_address"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Sms:
    """One MT or MO SMS as the SIM's SMS list and detail endpoints return it."""

    sms_id: SmsId
    direction: SmsDirection | None
    status: DeliveryStatus | None
    status_id: int | None
    payload: str | None = None
    dcs: int | None = None
    udh: str | None = None
    source_address: str | None = None
    submit_date: datetime | None = None
    delivery_date: datetime | None = None
    expiry_date: datetime | None = None
    final_date: datetime | None = None
    retry_count: int | None = None

    @classmethod
    def from_api(cls, data: object) -> Sms:
        """Read an SMS; ids and counters may come as strings."""
        obj = as_object(data, "SMS")
        status_obj = opt_object(obj, "status")
        status_id = opt_int(status_obj, "id")
        status: DeliveryStatus | None = None
        if status_id is not None:
            try:
                status = delivery_status_from_id(
                    status_id, opt_str(status_obj, "description")
                )
            except ValueError as err:
                raise OneNceResponseError(f"status: {err}") from None
        type_id = opt_int(opt_object(obj, "sms_type"), "id")
        direction = {1: SmsDirection.MT, 2: SmsDirection.MO}.get(type_id or 0)
        return cls(
            sms_id=req_id(obj, "id"),
            direction=direction,
            status=status,
            status_id=status_id,
            payload=obj.get("payload") if isinstance(obj.get("payload"), str) else None,
            dcs=opt_int(obj, "dcs"),
            udh=opt_str(obj, "udh"),
            source_address=opt_str(obj, "source_address"),
            submit_date=opt_datetime(obj, "submit_date"),
            delivery_date=opt_datetime(obj, "delivery_date"),
            expiry_date=opt_datetime(obj, "expiry_date"),
            final_date=opt_datetime(obj, "final_date"),
            retry_count=opt_int(obj, "retry_count"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class CreatedSms:
    """The id 1NCE gave an SMS it accepted (v2: body, v1: `Location` header)."""

    sms_id: SmsId


@dataclass(frozen=True, slots=True, kw_only=True)
class MultiPartInfo:
    """Which part of a long SMS this is; parts of one SMS share `identifier`."""

    identifier: str
    part: int
    total: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MoSms:
    """An SMS a SIM sent, as 1NCE pushed it (one part of it, if long).

    `payload` is still encoded as `dcs` says; decoding it is `sms.py`'s job,
    after the parts have been put back together.
    """

    sms_id: SmsId
    iccid: str
    endpoint_id: int | None
    organisation_id: int | None
    payload: str
    dcs: int
    pid: int | None
    source_address: str | None
    dest_address: str | None
    submit_date: datetime | None
    multi_part: MultiPartInfo


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryReport:
    """What became of an SMS we sent: pushed by 1NCE, or read back by polling.

    Whichever way it was learned, a report is this one value, so that the
    same status of the same SMS is recognised as one.
    """

    sms_id: SmsId
    iccid: str
    endpoint_id: int | None
    organisation_id: int | None
    status: DeliveryStatus
    status_id: int
    submit_date: datetime | None
    final_date: datetime | None
    report_id: SmsId | None = None
    """The report's own id, where it is not the SMS's (Platform 2.0 reports)."""

    @classmethod
    def from_sms(cls, iccid: str, sms: Sms) -> DeliveryReport | None:
        """Report what an SMS read from the SIM's list says; None without a status."""
        if sms.status is None or sms.status_id is None:
            return None
        return cls(
            sms_id=sms.sms_id,
            iccid=iccid,
            endpoint_id=None,
            organisation_id=None,
            status=sms.status,
            status_id=sms.status_id,
            submit_date=sms.submit_date,
            final_date=sms.final_date,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class SimEvent:
    """One entry of a SIM's network event log."""

    event_id: int | None
    timestamp: datetime | None
    event_type: str | None
    description: str | None
    severity: str | None
    source: str | None
    alert: bool
    operator: str | None = None
    country: str | None = None

    @classmethod
    def from_api(cls, data: object) -> SimEvent:
        """Read an event; v2 nests type, source and severity as {id, description}.

        v1 names the network in flat `operator` and `country` strings; v2 puts
        it in `detail` (a location update's or PDP context's operator, with
        its country), and other kinds of events have no network at all.
        """
        obj = as_object(data, "event")

        def text(key: str) -> str | None:
            value = obj.get(key)
            if isinstance(value, dict):
                return opt_str(value, "description")
            return opt_str(obj, key)

        detail = obj.get("detail")
        network: JsonObject = detail if isinstance(detail, dict) else {}
        country = obj.get("country")
        return cls(
            event_id=opt_int(obj, "id"),
            timestamp=opt_datetime(obj, "timestamp"),
            event_type=text("event_type"),
            description=opt_str(obj, "description"),
            severity=text("event_severity"),
            source=text("event_source"),
            alert=opt_bool(obj, "alert") or False,
            operator=opt_str(obj, "operator") or opt_str(network, "name"),
            country=(
                opt_str(country, "name")
                if isinstance(country, dict)
                else opt_str(obj, "country")
            )
            or opt_str(opt_object(network, "country"), "name"),
        )


def _req_float(data: JsonObject, key: str) -> float:
    value = opt_float(data, key)
    if value is None:
        raise OneNceResponseError(f"{key}: missing")
    return value


@dataclass(frozen=True, slots=True, kw_only=True)
class UsageDay:
    """SMS and data used by one SIM on one day (v1 usage statistics)."""

    day: date
    sms_mt: int
    sms_mo: int
    data_mb: float

    @property
    def sms_total(self) -> int:
        """All SMS of the day; 1NCE's own `volume` is this sum."""
        return self.sms_mt + self.sms_mo


@dataclass(frozen=True, slots=True, kw_only=True)
class Usage:
    """Daily usage of one SIM, oldest day first, without 1NCE's TOTAL row."""

    days: list[UsageDay] = field(default_factory=list)

    @classmethod
    def from_api(cls, data: object) -> Usage:
        """Read usage; values are strings and the newest day comes first.

        A day without an `sms` or `data` object (absent, null or `{}`) used
        none. One that is there must carry its counts: 1NCE documents
        `volume_tx` and `volume_rx` in every `sms` row and no answer has
        been seen without them, so a row lacking them is malformed and
        raises, rather than turning into a plausible zero on a statistic
        that is imported for good.
        """
        obj = as_object(data, "usage")
        days: list[UsageDay] = []
        for item in as_list(obj.get("stats") or [], "stats"):
            row = as_object(item, "stats item")
            raw_date = req_str(row, "date")
            if raw_date.upper() == "TOTAL":
                continue
            when = opt_datetime(row, "date")
            if when is None:  # pragma: no cover - req_str already rejected empties
                continue
            sms = opt_object(row, "sms")
            data_row = opt_object(row, "data")
            days.append(
                UsageDay(
                    day=when.date(),
                    sms_mt=req_int(sms, "volume_tx") if sms else 0,
                    sms_mo=req_int(sms, "volume_rx") if sms else 0,
                    data_mb=_req_float(data_row, "volume") if data_row else 0.0,
                )
            )
        days.sort(key=lambda usage_day: usage_day.day)
        return cls(days=days)


@dataclass(frozen=True, slots=True, kw_only=True)
class Limit:
    """One organisation-wide monthly limit or one selectable option for it."""

    limit_id: int
    limit: str | None
    unit: str | None

    @property
    def unlimited(self) -> bool:
        """Whether this option lifts the cap instead of setting one.

        1NCE documents no such option; one without a number (absent, empty,
        a word, or negative) can only mean "no limit", never a cap of zero.
        """
        try:
            value = float(self.limit or "")
        except ValueError:
            return True
        return not math.isfinite(value) or value < 0

    @classmethod
    def from_api(cls, data: object) -> Limit:
        """Read a limit; the value is a string such as "10"."""
        obj = as_object(data, "limit")
        return cls(
            limit_id=req_int(obj, "id"),
            limit=opt_str(obj, "limit"),
            unit=opt_str(obj, "unit"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """The organisation's current monthly limits; None where none is set."""

    data: Limit | None
    sms_mt: Limit | None
    sms_mo: Limit | None

    @classmethod
    def from_api(cls, data: object) -> Limits:
        """Read the limits object (`data`, `smsMt`, `smsMo`)."""
        obj = as_object(data, "limits") if data is not None else {}

        def one(key: str) -> Limit | None:
            value = obj.get(key)
            return Limit.from_api(value) if value else None

        return cls(data=one("data"), sms_mt=one("smsMt"), sms_mo=one("smsMo"))
