"""Read what 1NCE's Data Streamer pushes: batches of usage, events and SMS events.

The Data Streamer POSTs a JSON array of up to 3,000 records (to be safe, a
single object is read as a batch of one). Each record is sorted by its keys:

- usage: `traffic_type` / `traffic_type_id`, or start and end timestamps;
- network event: `event_type` / `event_type_id` / `event_type_description`;
- delivery report of an MT SMS: `status` (flat: `status_id`) with
  `final_date` or `detail.sms.id` (flat: `detail_sms_id`);
- MO SMS: `payload` with `source_address`.

1NCE documents two shapes: nested objects (`sim{iccid}`, `volume{total}`,
`event_type{id,description}`), as in every example, and flat keys
(`sim_iccid`, `volume_total`, `event_type_id`), as the Platform 2.0 migration
pages write them. Both are read, a nested value first. Platform 1.0 streams
carry names, Platform 2.0 streams only ids, so event types and radio access
are mapped by id and by name.

One record never fails the batch: a record that cannot be read (not an
object, no id, no ICCID, a bad date...) is counted in `unreadable`, with its
reason; a readable one of a kind this integration does not use (a traffic
type other than data and SMS, an event about no SIM) in `unknown`. Only a
body that is neither an array nor an object is refused, with a
`StreamerPayloadError`. No reason ever repeats a value from the body: the
body comes from the internet, and reasons are logged.

SMS events are read by the forwarder's parsers, so an SMS is the same value
whichever channel brought it; a flat SMS record's keys are first moved under
the objects those parsers read.
"""

from __future__ import annotations

from collections.abc import Mapping
import math
import re
from typing import Any, Final

from ._parse import JsonObject, opt_bool, opt_datetime, opt_float, opt_int
from .exceptions import OneNceResponseError
from .forwarder import ForwarderPayloadError, parse_delivery_report, parse_mo_sms
from .records import (
    NetworkEvent,
    NetworkEventType,
    QuotaService,
    StreamBatch,
    UsageKind,
    UsageRecord,
)

MIB: Final = 1_048_576
"""Bytes in the MB of 1NCE's data volumes (binary, per the v200 docs)."""
# What one record can plausibly hold: a terabyte of data, 10,000 SMS. More is
# no volume of a SIM's slice but a broken value (1e308 would overflow).
MAX_DATA_MIB: Final = 10**6
MAX_SMS: Final = 10**4

_ICCID = re.compile(r"\d{18,22}", re.ASCII)
_MAX_ID: Final = 2**64 - 1
_MAX_INT: Final = 2**63 - 1
_MAX_ID_DIGITS: Final = 20
# Free text from the body (event names, operators) is cut to what a Home
# Assistant state or attribute can sensibly show.
_MAX_TEXT: Final = 255

_TRAFFIC_DATA: Final = 5
_TRAFFIC_SMS: Final = 6
_TRAFFIC_BY_ID: Final = {_TRAFFIC_DATA: UsageKind.DATA, _TRAFFIC_SMS: UsageKind.SMS}
_TRAFFIC_BY_NAME: Final = {"data": UsageKind.DATA, "sms": UsageKind.SMS}

_T = NetworkEventType
_DATA = QuotaService.DATA
_SMS = QuotaService.SMS
_QUOTA_SERVICE: Final = {"data": _DATA, "sms": _SMS}

# Every event type id of datastreamer.md's table (v1 and v200), with what it
# means here. An id that is listed decides, even where its meaning is OTHER;
# only an id missing from the table lets the description text decide.
# 1 "Update location" is the circuit-switched registration (VLR); 2 "Update
# GPRS location" is the SGSN's registration of a packet attach, the moment a
# SIM can use data on a network: that is what ATTACH means here.
_EVENT_BY_ID: Final[dict[int, tuple[NetworkEventType, QuotaService | None]]] = {
    0: (_T.OTHER, None),  # Generic
    1: (_T.LOCATION_UPDATE, None),
    2: (_T.ATTACH, None),
    3: (_T.PDP_CONTEXT_CREATED, None),
    4: (_T.OTHER, None),  # Update PDP Context
    5: (_T.PDP_CONTEXT_DELETED, None),
    6: (_T.OTHER, None),  # User authentication failed
    7: (_T.OTHER, None),  # Application authentication failed
    8: (_T.SIM_ENABLED, None),  # SIM activation
    9: (_T.SIM_DISABLED, None),  # SIM suspension
    10: (_T.OTHER, None),  # SIM deletion
    11: (_T.BLOCKED, None),  # Endpoint blocked
    12: (_T.OTHER, None),  # Organisation blocked
    13: (_T.OTHER, None),  # Support access
    14: (_T.OTHER, None),  # MFA
    15: (_T.OTHER, None),  # Purge location
    16: (_T.OTHER, None),  # Purge GPRS location
    17: (_T.OTHER, None),  # Self-signup
    18: (_T.QUOTA_THRESHOLD_REACHED, _DATA),
    19: (_T.QUOTA_USED_UP, _DATA),
    20: (_T.QUOTA_THRESHOLD_REACHED, _SMS),
    21: (_T.QUOTA_USED_UP, _SMS),
    29: (_T.OTHER, None),  # OpenVPN disconnect
    30: (_T.OTHER, None),  # OpenVPN authentication
    42: (_T.OTHER, None),  # Endpoint enabled
    43: (_T.OTHER, None),  # Endpoint disabled
    50: (_T.OTHER, None),  # SIM released
    51: (_T.OTHER, None),  # SIM assigned
    52: (_T.OTHER, None),  # Data quota enabled
    53: (_T.OTHER, None),  # Data quota disabled
    54: (_T.OTHER, None),  # SMS quota enabled
    55: (_T.OTHER, None),  # SMS quota disabled
    56: (_T.OTHER, None),  # Data quota assigned
    57: (_T.OTHER, None),  # Data quota deleted
    58: (_T.OTHER, None),  # SMS quota assigned
    59: (_T.OTHER, None),  # SMS quota deleted
    60: (_T.OTHER, None),  # Data quota expired
    61: (_T.OTHER, None),  # SMS quota expired
    100: (_T.QUOTA_USED_UP, _DATA),  # regional pool
    101: (_T.QUOTA_THRESHOLD_REACHED, _DATA),  # regional pool
    102: (_T.QUOTA_USED_UP, _SMS),  # regional pool
    103: (_T.QUOTA_THRESHOLD_REACHED, _SMS),  # regional pool
    121: (_T.OTHER, None),  # Endpoint deleted
}

# 1NCE's names of the event types this integration uses, as Platform 1.0
# streams write them (compared casefolded, spaces and hyphens collapsed).
_EVENT_BY_NAME: Final[dict[str, tuple[NetworkEventType, QuotaService | None]]] = {
    "update location": (_T.LOCATION_UPDATE, None),
    "update gprs location": (_T.ATTACH, None),
    "create pdp context": (_T.PDP_CONTEXT_CREATED, None),
    "delete pdp context": (_T.PDP_CONTEXT_DELETED, None),
    "sim activation": (_T.SIM_ENABLED, None),
    "sim suspension": (_T.SIM_DISABLED, None),
    "endpoint blocked": (_T.BLOCKED, None),
    "quota threshold reached": (_T.QUOTA_THRESHOLD_REACHED, _DATA),
    "data quota threshold reached": (_T.QUOTA_THRESHOLD_REACHED, _DATA),
    "quota used up": (_T.QUOTA_USED_UP, _DATA),
    "data quota used up": (_T.QUOTA_USED_UP, _DATA),
    "sms quota threshold reached": (_T.QUOTA_THRESHOLD_REACHED, _SMS),
    "sms quota used up": (_T.QUOTA_USED_UP, _SMS),
    "regional pool data quota threshold reached": (_T.QUOTA_THRESHOLD_REACHED, _DATA),
    "regional pool data quota used up": (_T.QUOTA_USED_UP, _DATA),
    "regional pool sms quota threshold reached": (_T.QUOTA_THRESHOLD_REACHED, _SMS),
    "regional pool sms quota used up": (_T.QUOTA_USED_UP, _SMS),
}

# Radio access by 1NCE's `rat_type` (3GPP's RAT-Type codes): 5 is HSPA+, a 3G
# radio, and 10 is 3GPP's NR. Most LTE-M sessions report 6.
_RAT_BY_ID: Final = {
    1: "3G",
    2: "2G",
    5: "3G",
    6: "4G",
    8: "NB-IoT",
    9: "LTE-M",
    10: "5G",
}
_RAT_BY_NAME: Final = {
    "2g": "2G",
    "gsm": "2G",
    "gprs": "2G",
    "edge": "2G",
    "geran": "2G",
    "3g": "3G",
    "umts": "3G",
    "utran": "3G",
    "wcdma": "3G",
    "hspa": "3G",
    "hspa+": "3G",
    "4g": "4G",
    "lte": "4G",
    "eutran": "4G",
    "5g": "5G",
    "nr": "5G",
    "nbiot": "NB-IoT",
    "nb iot": "NB-IoT",
    "eutran nb iot": "NB-IoT",
    "ltem": "LTE-M",
    "lte m": "LTE-M",
    "lte m1": "LTE-M",
    "catm": "LTE-M",
    "cat m": "LTE-M",
    "cat m1": "LTE-M",
}


class StreamerPayloadError(ValueError):
    """A pushed body that is no batch at all; `reason` says why in a few words.

    Like `ForwarderPayloadError`, the reason names what was wrong, never a
    value from the body.
    """

    reason: str

    def __init__(self, reason: str) -> None:
        """Keep the reason apart from the message so callers need not parse it."""
        super().__init__(reason)
        self.reason = reason


_UNFORESEEN: Final = "record could not be read"


class _UnreadableError(Exception):
    """This record cannot be read; the reason names fields, not values."""


class _UnknownKindError(Exception):
    """This record is readable but of a kind this integration does not use."""


def parse_stream_batch(body: object) -> StreamBatch:
    """Sort a Data Streamer body into usage, events, MO SMS and delivery reports.

    `body` is the decoded JSON: an array of records, or one record. Records
    that cannot be read, or are not used, are only counted.
    """
    if isinstance(body, list):
        records: list[Any] = body
    elif isinstance(body, Mapping):
        records = [body]
    else:
        raise StreamerPayloadError("body is not a JSON array or object")
    batch = StreamBatch()
    reasons = batch.unreadable_reasons
    for record in records:
        try:
            _read_record(record, batch)
        except _UnknownKindError:
            batch.unknown += 1
        except (_UnreadableError, OneNceResponseError, ForwarderPayloadError) as err:
            reason = err.reason if isinstance(err, ForwarderPayloadError) else str(err)
            batch.unreadable += 1
            reasons[reason] = reasons.get(reason, 0) + 1
        except Exception:  # a value nobody foresaw costs its record only
            batch.unreadable += 1
            reasons[_UNFORESEEN] = reasons.get(_UNFORESEEN, 0) + 1
    return batch


def _read_record(record: object, batch: StreamBatch) -> None:
    """Read one record into the batch, or raise why it is not there."""
    if type(record) is not dict and not isinstance(record, Mapping):
        raise _UnreadableError("record is not an object")
    if (
        "event_type" in record
        or "event_type_id" in record
        or "event_type_description" in record
    ):
        batch.event_records += 1
        batch.events.append(_event(record))
    elif "traffic_type" in record or "traffic_type_id" in record:
        batch.usage_records += 1
        batch.usage.append(_usage(record))
    elif ("status" in record or "status_id" in record) and (
        "final_date" in record
        or _get(record, "detail", "sms", "id") is not None
        or record.get("detail_sms_id") is not None
    ):
        _record_id(record)
        batch.reports.append(parse_delivery_report(_nested_sms(record)))
    elif "payload" in record and "source_address" in record:
        _record_id(record)
        batch.mo_sms.append(parse_mo_sms(_nested_sms(record)))
    elif "start_timestamp" in record and "end_timestamp" in record:
        batch.usage_records += 1
        batch.usage.append(_usage(record))
    else:
        raise _UnreadableError("record is of no known kind")


# Flat keys of an SMS record and where the forwarder's parsers read them.
_FLAT_SMS: Final = (
    ("endpoint", (("endpoint_id", "id"), ("endpoint_name", "name"))),
    ("organisation", (("organisation_id", "id"),)),
    (
        "status",
        (
            ("status_id", "id"),
            ("status_status", "status"),
            ("status_description", "description"),
        ),
    ),
    (
        "multi_part_info",
        (
            ("multi_part_info_partno", "partno"),
            ("multi_part_info_total", "total"),
            ("multi_part_info_identifier", "identifier"),
        ),
    ),
)


def _nested_sms(record: JsonObject) -> JsonObject:
    """Return an SMS record in the nested shape the forwarder's parsers read.

    The flat keys of the Platform 2.0 migration pages (`endpoint_name`,
    `status_id`, `detail_sms_id`, ...) are moved under their objects; where
    the record has the object already, it wins, as elsewhere.
    """
    if not any(key.startswith(_FLAT_PREFIXES) for key in record):
        return record
    nested = dict(record)
    for name, pairs in _FLAT_SMS:
        if record.get(name) is not None:
            continue
        values = {
            inner: record[flat] for flat, inner in pairs if record.get(flat) is not None
        }
        if values:
            nested[name] = values
    sms_id = record.get("detail_sms_id")
    detail = record.get("detail")
    if (
        sms_id is not None
        and (detail is None or isinstance(detail, Mapping))
        and _get(record, "detail", "sms", "id") is None
    ):
        nested["detail"] = {**(detail or {}), "sms": {"id": sms_id}}
    return nested


_FLAT_PREFIXES: Final = (
    "endpoint_",
    "organisation_",
    "status_",
    "multi_part_info_",
    "detail_sms_",
)


# --- usage -------------------------------------------------------------------


def _usage(record: JsonObject) -> UsageRecord:
    """Read a usage record: one data-session slice, or one SMS."""
    record_id = _record_id(record)
    kind = _traffic_kind(record)
    iccid = _iccid(record)
    if iccid is None:
        raise _UnreadableError("sim.iccid missing")
    start = opt_datetime(record, "start_timestamp")
    if start is None:
        raise _UnreadableError("start_timestamp missing")
    end = opt_datetime(record, "end_timestamp") or start
    if end < start:
        raise _UnreadableError("end_timestamp before start_timestamp")
    total, tx, rx = _volumes(
        record, MAX_DATA_MIB if kind is UsageKind.DATA else MAX_SMS
    )
    operator_id, operator, country = _operator(record)
    data_bytes = sms_mo = sms_mt = 0
    rat = None
    if kind is UsageKind.DATA:
        if total is None:
            if tx is None and rx is None:
                raise _UnreadableError("volume missing")
            total = (tx or 0.0) + (rx or 0.0)
        data_bytes = round(total * MIB)
        rat = _rat(record)
    else:
        # The Data Streamer's docs say tx = MO (sent by the SIM), rx = MT;
        # 1NCE's v1 usage API (SmsUsage) says the opposite. Streamed records
        # follow the Data Streamer's docs.
        if tx is None and rx is None:
            raise _UnreadableError("volume.tx and volume.rx missing")
        sms_mo = _count(tx, "volume.tx")
        sms_mt = _count(rx, "volume.rx")
    return UsageRecord(
        record_id=record_id,
        iccid=iccid,
        start=start,
        end=end,
        kind=kind,
        data_bytes=data_bytes,
        sms_mo=sms_mo,
        sms_mt=sms_mt,
        operator=operator,
        operator_id=operator_id,
        country=country,
        rat=rat,
    )


def _traffic_kind(record: JsonObject) -> UsageKind:
    """Return data or SMS; another traffic type is readable but unknown."""
    nested = _obj(record, "traffic_type")
    if nested is not None:
        type_id = _int(nested, "id", "traffic_type.id")
        name = nested.get("description") or nested.get("name")
    else:
        type_id = _int(record, "traffic_type_id")
        name = record.get("traffic_type_description") or record.get("traffic_type_name")
    if type_id is not None:
        kind = _TRAFFIC_BY_ID.get(type_id)
        if kind is None:
            raise _UnknownKindError
        return kind
    if isinstance(name, str):
        kind = _TRAFFIC_BY_NAME.get(name.strip().casefold())
        if kind is None:
            raise _UnknownKindError
        return kind
    raise _UnreadableError("traffic_type missing")


def _volumes(record: JsonObject, maximum: float) -> tuple[float | None, ...]:
    """Return `volume.total`, `.tx` and `.rx` (MiB or counts).

    A negative value is unreadable, and so is one above `maximum`, more
    than one record can hold.
    """
    nested = _obj(record, "volume")
    if nested is not None:
        keys: tuple[tuple[JsonObject, str, str], ...] = (
            (nested, "total", "volume.total"),
            (nested, "tx", "volume.tx"),
            (nested, "rx", "volume.rx"),
        )
    else:
        keys = (
            (record, "volume_total", "volume_total"),
            (record, "volume_tx", "volume_tx"),
            (record, "volume_rx", "volume_rx"),
        )
    volumes: list[float | None] = []
    for data, key, field in keys:
        value = _float(data, key, field)
        if value is not None and value < 0:
            raise _UnreadableError(f"{field} is negative")
        if value is not None and value > maximum:
            raise _UnreadableError(f"{field} is implausibly large")
        volumes.append(value)
    return tuple(volumes)


def _count(value: float | None, field: str) -> int:
    """Return a number of SMS; 1NCE writes them as decimals (`1.000000`)."""
    if value is None:
        return 0
    if not value.is_integer():
        raise _UnreadableError(f"{field} is not a whole number of SMS")
    return int(value)


# --- network events ----------------------------------------------------------


def _event(record: JsonObject) -> NetworkEvent:
    """Read a network event; one about no SIM at all is unknown."""
    record_id = _record_id(record)
    iccid = _iccid(record)
    if iccid is None:
        if _has_sim(record):
            raise _UnreadableError("sim.iccid missing")
        raise _UnknownKindError
    timestamp = opt_datetime(record, "timestamp")
    if timestamp is None:
        raise _UnreadableError("timestamp missing")
    nested_type = _obj(record, "event_type")
    if nested_type is not None:
        type_id = _int(nested_type, "id", "event_type.id")
        type_name = _text(nested_type.get("description"), "event_type.description")
    else:
        type_id = _int(record, "event_type_id")
        type_name = _text(
            record.get("event_type_description"), "event_type_description"
        )
    event_type, service = _event_type(type_id, type_name)
    detail = _obj(record, "detail")
    quota = _obj(detail, "quota") if detail is not None else None
    if quota is not None:
        quota_left = _float(quota, "volume", "detail.quota.volume")
        quota_service_text = quota.get("service")
    else:
        quota_left = _float(record, "detail_quota_volume")
        quota_service_text = record.get("detail_quota_service")
    if service is None and isinstance(quota_service_text, str):
        service = _QUOTA_SERVICE.get(quota_service_text.strip().casefold())
    operator_id, operator, country = _event_network(record, detail)
    return NetworkEvent(
        record_id=record_id,
        iccid=iccid,
        timestamp=timestamp,
        event_type=event_type,
        type_id=type_id,
        description=type_name or _text(record.get("description"), "description"),
        alert=opt_bool(record, "alert") or False,
        operator=operator,
        country=country,
        rat=_rat(record),
        quota_service=service,
        quota_left=quota_left,
        operator_id=operator_id,
    )


def _event_type(
    type_id: int | None, name: str | None
) -> tuple[NetworkEventType, QuotaService | None]:
    """Map an event type by id, else by 1NCE's name for it, else OTHER."""
    if type_id is not None:
        known = _EVENT_BY_ID.get(type_id)
        if known is not None:
            return known
    if name is not None:
        key = " ".join(name.casefold().replace("-", " ").split())
        known = _EVENT_BY_NAME.get(key)
        if known is not None:
            return known
    return NetworkEventType.OTHER, None


def _event_network(
    record: JsonObject, detail: JsonObject | None
) -> tuple[int | None, str | None, str | None]:
    """Return the visited network's id, name and country, where the event has them.

    A usage-shaped `operator{id,name,country{name}}` (flat: `operator_*`) is
    read first; network and PDP context events name the network in
    `detail{name,country{name}}` (flat: `detail_name`, `detail_country_name`)
    and its id in the PDP context.
    """
    operator_id, name, country = _operator(record)
    if detail is not None:
        pdp = _obj(detail, "pdp_context")
        detail_country = _obj(detail, "country")
        if operator_id is None and pdp is not None:
            operator_id = _int(pdp, "operator_id", "detail.pdp_context.operator_id")
        name = name or _text(detail.get("name"), "detail.name")
        if country is None and detail_country is not None:
            country = _text(detail_country.get("name"), "detail.country.name")
    else:
        if operator_id is None:
            operator_id = _int(record, "detail_pdp_context_operator_id")
        name = name or _text(record.get("detail_name"), "detail_name")
        country = country or _text(
            record.get("detail_country_name"), "detail_country_name"
        )
    return operator_id, name, country


# --- shared readers ----------------------------------------------------------


def _record_id(record: JsonObject) -> str:
    """Return a record's id as its decimal digits: exact, never through a float.

    1NCE's ids are 64-bit and Platform 2.0 sends some as strings; above 2^53
    a float would change them, so a float is refused even when integral.
    """
    value = record.get("id")
    if value is None:
        raise _UnreadableError("id missing")
    if isinstance(value, bool):
        raise _UnreadableError("id is not an integer")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise _UnreadableError("id missing")
        if not (text.isascii() and text.isdigit()) or len(text) > _MAX_ID_DIGITS:
            raise _UnreadableError("id is not a string of digits")
        number = int(text)
    elif isinstance(value, float):
        raise _UnreadableError("id is a float, which cannot hold a 64-bit id")
    else:
        raise _UnreadableError("id is not an integer")
    if number < 0:
        raise _UnreadableError("id is negative")
    if number > _MAX_ID:
        raise _UnreadableError("id is out of range")
    return str(number)


def _iccid(record: JsonObject) -> str | None:
    """Return the SIM's ICCID: `sim.iccid`, else the endpoint's name.

    It must be a string of 18 to 22 digits. A JSON number is refused: a
    20-digit number can lose digits on its way through a JSON encoder. An
    endpoint name that is no ICCID (a name the user gave) is no ICCID.
    """
    sim = _obj(record, "sim")
    value = sim.get("iccid") if sim is not None else record.get("sim_iccid")
    if not _blank(value):
        return _checked_iccid(value, "sim.iccid")
    endpoint = _obj(record, "endpoint")
    name = endpoint.get("name") if endpoint is not None else record.get("endpoint_name")
    if _blank(name):
        return None
    return _checked_iccid(name, "endpoint.name")


def _blank(value: object) -> bool:
    """Whether a value is absent: missing, null or only white space."""
    return value is None or (isinstance(value, str) and not value.strip())


def _checked_iccid(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise _UnreadableError(f"{field} is not a string")
    text = value.strip()
    if not _ICCID.fullmatch(text):
        raise _UnreadableError(f"{field} is not an ICCID")
    return text


def _has_sim(record: JsonObject) -> bool:
    """Whether a record names a SIM or endpoint at all (an ICCID or not)."""
    return any(
        record.get(key) is not None
        for key in ("sim", "endpoint", "sim_iccid", "endpoint_name")
    )


def _rat(record: JsonObject) -> str | None:
    """Return the radio access of a PDP context, by 1NCE's id or by name."""
    detail = _obj(record, "detail")
    pdp = _obj(detail, "pdp_context") if detail is not None else None
    if pdp is not None:
        value = pdp.get("rat_type")
    else:
        value = record.get("detail_pdp_context_rat_type")
    if value is None:
        value = record.get("rat_type")
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return _RAT_BY_ID.get(value)
    if isinstance(value, str):
        text = value.strip()
        if text.isascii() and text.isdigit() and len(text) < 4:
            return _RAT_BY_ID.get(int(text))
        key = " ".join(text.casefold().replace("-", " ").replace("_", " ").split())
        return _RAT_BY_NAME.get(key) or _RAT_BY_NAME.get(key.replace(" ", ""))
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return _RAT_BY_ID.get(int(value))
    return None


# The readers below take the common case (what `json.loads` makes: a dict,
# an int, a float) first and leave every other case to `_parse`'s readers;
# a batch of 3,000 records calls them some 50,000 times.


def _int(data: JsonObject, key: str, field: str | None = None) -> int | None:
    """`opt_int`, with a plain JSON integer read at once."""
    value = data.get(key)
    if value is None:
        return None
    if type(value) is int and abs(value) <= _MAX_INT:
        return value
    return opt_int(data, key, field)


def _float(data: JsonObject, key: str, field: str | None = None) -> float | None:
    """`opt_float`, with a plain JSON number read at once."""
    value = data.get(key)
    if value is None:
        return None
    if type(value) is float and math.isfinite(value):
        return value
    if type(value) is int:
        try:
            return float(value)
        except OverflowError:
            raise _UnreadableError(f"{field or key} is not a finite number") from None
    return opt_float(data, key, field)


def _obj(data: JsonObject, key: str) -> JsonObject | None:
    """Return a nested object; absent or null is None."""
    value = data.get(key)
    if value is None or type(value) is dict:
        return value
    if not isinstance(value, Mapping):
        raise _UnreadableError(f"{key} is not an object")
    return value


def _get(data: JsonObject, *path: str) -> object:
    """Return the value at a nested path, None where any step is not an object."""
    value: object = data
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _operator(record: JsonObject) -> tuple[int | None, str | None, str | None]:
    """Return `operator{id,name,country{name}}` (flat: `operator_*`) as values."""
    operator = _obj(record, "operator")
    if operator is None:
        return (
            _int(record, "operator_id"),
            _text(record.get("operator_name"), "operator_name"),
            _text(record.get("operator_country_name"), "operator_country_name"),
        )
    country = _obj(operator, "country")
    return (
        _int(operator, "id", "operator.id"),
        _text(operator.get("name"), "operator.name"),
        None
        if country is None
        else _text(country.get("name"), "operator.country.name"),
    )


def _text(value: object, field: str) -> str | None:
    """Return free text from the body, stripped and cut to a sensible length."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise _UnreadableError(f"{field} is not a string")
    text = value.strip()[:_MAX_TEXT]
    return text or None
