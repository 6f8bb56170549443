"""Read what 1NCE's Data Streamer POSTs: a batch of usage, event and SMS records.

PLACEHOLDER: the endpoint branch carries only this minimal reader of the
nested Platform 1.0 shapes; the full parser (flat and nested, Platform 1.0
and 2.0) replaces this module at merge, with the same signature:
`parse_stream_batch(body) -> StreamBatch`, raising `StreamerPayloadError`
for a body that is neither an array nor an object. A record it cannot read
is counted in `unreadable`, never raised.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from .forwarder import ForwarderPayloadError, parse_delivery_report, parse_mo_sms
from .records import (
    NetworkEvent,
    NetworkEventType,
    QuotaService,
    StreamBatch,
    UsageKind,
    UsageRecord,
)

_MIB: Final = 1024 * 1024
_EVENT_TYPES: Final = {
    1: NetworkEventType.LOCATION_UPDATE,
    2: NetworkEventType.LOCATION_UPDATE,
    3: NetworkEventType.PDP_CONTEXT_CREATED,
    5: NetworkEventType.PDP_CONTEXT_DELETED,
    8: NetworkEventType.SIM_ENABLED,
    9: NetworkEventType.SIM_DISABLED,
    11: NetworkEventType.BLOCKED,
    18: NetworkEventType.QUOTA_THRESHOLD_REACHED,
    19: NetworkEventType.QUOTA_USED_UP,
    20: NetworkEventType.QUOTA_THRESHOLD_REACHED,
    21: NetworkEventType.QUOTA_USED_UP,
}
_SMS_QUOTA_TYPES: Final = frozenset({20, 21})


class StreamerPayloadError(ValueError):
    """A body that is not a batch at all; `reason` is safe to log."""

    reason: str

    def __init__(self, reason: str) -> None:
        """Keep the reason apart from the message."""
        super().__init__(reason)
        self.reason = reason


def _id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("id")
    text = str(value).strip()
    if not text.isdigit():
        raise ValueError("id")
    return str(int(text))


def _time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("time")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _obj(record: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = record.get(key)
    return value if isinstance(value, Mapping) else {}


def _iccid(record: Mapping[str, Any]) -> str:
    iccid = _obj(record, "sim").get("iccid") or _obj(record, "endpoint").get("name")
    if not isinstance(iccid, str) or not iccid.isdigit():
        raise ValueError("iccid")
    return iccid


def _usage(record: Mapping[str, Any]) -> UsageRecord | None:
    type_id = _obj(record, "traffic_type").get("id")
    volume = _obj(record, "volume")
    record_id = _id(record["id"])
    iccid = _iccid(record)
    start = _time(record["start_timestamp"])
    end = _time(record["end_timestamp"])
    if type_id == 5:
        return UsageRecord(
            record_id=record_id,
            iccid=iccid,
            start=start,
            end=end,
            kind=UsageKind.DATA,
            data_bytes=round(float(volume.get("total", 0)) * _MIB),
        )
    if type_id == 6:
        return UsageRecord(
            record_id=record_id,
            iccid=iccid,
            start=start,
            end=end,
            kind=UsageKind.SMS,
            sms_mo=int(volume.get("tx", 0)),
            sms_mt=int(volume.get("rx", 0)),
        )
    return None


def _event(record: Mapping[str, Any]) -> NetworkEvent:
    event_type = _obj(record, "event_type")
    type_id = event_type.get("id")
    type_id = type_id if isinstance(type_id, int) else None
    detail = _obj(record, "detail")
    quota = _obj(detail, "quota")
    country = _obj(detail, "country").get("name")
    operator = detail.get("name")
    quota_left = quota.get("volume")
    description = event_type.get("description") or record.get("description")
    return NetworkEvent(
        record_id=_id(record["id"]),
        iccid=_iccid(record),
        timestamp=_time(record["timestamp"]),
        event_type=_EVENT_TYPES.get(type_id or -1, NetworkEventType.OTHER),
        type_id=type_id,
        description=description if isinstance(description, str) else None,
        alert=record.get("alert") is True,
        operator=operator if isinstance(operator, str) else None,
        country=country if isinstance(country, str) else None,
        quota_service=(
            (QuotaService.SMS if type_id in _SMS_QUOTA_TYPES else QuotaService.DATA)
            if quota
            else None
        ),
        quota_left=float(quota_left) if isinstance(quota_left, int | float) else None,
    )


def _read(record: object, batch: StreamBatch) -> None:
    if not isinstance(record, Mapping):
        batch.unreadable += 1
        return
    try:
        if "traffic_type" in record:
            usage = _usage(record)
            if usage is None:
                batch.unknown += 1
            else:
                batch.usage.append(usage)
        elif "event_type" in record:
            batch.events.append(_event(record))
        elif "final_date" in record and "status" in record:
            batch.reports.append(parse_delivery_report(record))
        elif "payload" in record and "source_address" in record:
            batch.mo_sms.append(parse_mo_sms(record))
        else:
            batch.unknown += 1
    except (ForwarderPayloadError, KeyError, TypeError, ValueError):
        batch.unreadable += 1


def parse_stream_batch(body: object) -> StreamBatch:
    """Sort a POSTed body's records by kind; count what cannot be read."""
    if isinstance(body, Mapping):
        body = [body]
    if not isinstance(body, list):
        raise StreamerPayloadError("body is neither an array nor an object")
    batch = StreamBatch()
    for record in body:
        _read(record, batch)
    return batch
