"""The records 1NCE's Data Streamer pushes, built from what the sandbox simulates.

One record is built once, in Platform 1.0's nested form with every name
(`event_type.description`, `operator.name`, ...), and then rendered for a
stream: Platform 2.0 drops the names and keeps the ids, the flat shape joins
nested keys with `_` as 1NCE's migration pages write them (`event_type_id`,
`sim_iccid`, `volume_total`, `detail_pdp_context_rat_type`). Ids are 64-bit
integers above 2^53, so a receiver that reads them as floats is caught.
"""

from __future__ import annotations

from datetime import datetime
from enum import IntEnum
import itertools
from typing import Any, Final

from .clock import iso_date
from .fleet import SimState

FIRST_ID: Final = 1 << 62
"""Record ids count up from here: exact only as 64-bit integers, not as floats."""
ORGANISATION_NAME: Final = "90004567"
OPERATOR: Final = {
    "id": 2,
    "name": "Telekom",
    "mnc": "01",
    "country": {"id": 74, "mcc": "262", "name": "Germany"},
}
TARIFF: Final = {"id": 369, "name": "1NCE IoT", "ratezone": {"id": 4, "name": "RZ1"}}
NETWORK: Final = {
    "id": 2,
    "name": "Telekom",
    "country": {
        "id": 74,
        "name": "Germany",
        "country_code": "49",
        "mcc": "262",
        "iso_code": "de",
    },
    "mnc": [{"id": 2, "mnc": "01"}],
    "tapcode": [{"id": 2, "tapcode": "DEUD1"}],
}
RAT_LTE: Final = 6
MIB_PER_KB: Final = 1 / 1024


class EventType(IntEnum):
    """The event type ids the sandbox emits (datastreamer.md's table)."""

    LOCATION_UPDATE = 1
    ATTACH = 2
    """`Update GPRS location`: the SIM attached for data (packet switched)."""
    PDP_CONTEXT_CREATED = 3
    PDP_CONTEXT_DELETED = 5
    SIM_ACTIVATION = 8
    SIM_SUSPENSION = 9
    QUOTA_THRESHOLD_REACHED = 18
    QUOTA_USED_UP = 19
    SMS_QUOTA_THRESHOLD_REACHED = 20
    SMS_QUOTA_USED_UP = 21


_EVENTS: Final[dict[EventType, tuple[str, int, int, bool, str]]] = {
    # id: (description, severity, source, alert, text)
    EventType.LOCATION_UPDATE: (
        "Update location",
        0,
        0,
        False,
        "Location successfully updated.",
    ),
    EventType.ATTACH: (
        "Update GPRS location",
        0,
        0,
        False,
        "GPRS location successfully updated.",
    ),
    EventType.PDP_CONTEXT_CREATED: (
        "Create PDP Context",
        0,
        0,
        False,
        "New PDP Context successfully activated.",
    ),
    EventType.PDP_CONTEXT_DELETED: (
        "Delete PDP Context",
        0,
        0,
        False,
        "PDP Context deleted.",
    ),
    EventType.SIM_ACTIVATION: ("SIM activation", 0, 2, False, "SIM enabled."),
    EventType.SIM_SUSPENSION: ("SIM suspension", 1, 2, True, "SIM disabled."),
    EventType.QUOTA_THRESHOLD_REACHED: (
        "Quota threshold reached",
        1,
        1,
        False,
        "Quota volume threshold reached for endpoint.",
    ),
    EventType.QUOTA_USED_UP: (
        "Quota used up",
        1,
        1,
        True,
        "Quota volume is completely used up and data access denied for endpoint.",
    ),
    EventType.SMS_QUOTA_THRESHOLD_REACHED: (
        "SMS quota threshold reached",
        1,
        1,
        False,
        "SMS quota threshold reached for endpoint.",
    ),
    EventType.SMS_QUOTA_USED_UP: (
        "SMS quota used up",
        1,
        1,
        True,
        "SMS quota is completely used up for endpoint.",
    ),
}
_SEVERITIES: Final = {0: "INFO", 1: "WARN"}
_SOURCES: Final = {0: "Network", 1: "Policy Control", 2: "API"}

# Platform 2.0 carries ids only: these keys lose `description`, these `name`.
_DESCRIBED: Final = frozenset(
    {"event_type", "event_severity", "event_source", "traffic_type"}
)
_NAMED: Final = frozenset(
    {"organisation", "operator", "country", "tariff", "ratezone", "detail"}
)


class RecordIds:
    """Unique ids across usage, events and SMS events, as 1NCE's are."""

    def __init__(self, seed: int) -> None:
        """Start above 2^53, a little apart per seed."""
        self._ids = itertools.count(FIRST_ID + seed * 1_000_000)

    def next(self) -> int:
        """Allocate the next id."""
        return next(self._ids)


def endpoint_id(sim: SimState) -> int:
    """Give the endpoint id the forwarder's bodies use for this SIM, too."""
    return 8765000 + sim.index


def _common(sim: SimState, organisation_id: int) -> dict[str, Any]:
    return {
        "organisation": {"id": organisation_id, "name": ORGANISATION_NAME},
        "endpoint": {
            "id": endpoint_id(sim),
            "name": sim.iccid,
            "ip_address": f"100.64.{sim.index // 250}.{sim.index % 250 + 1}",
            "imei": str(sim.imei) if sim.imei is not None else None,
        },
        "sim": {"id": 10000000 + sim.index, "iccid": sim.iccid, "msisdn": sim.msisdn},
    }


def usage_record(  # one record has this many parts
    record_id: int,
    sim: SimState,
    organisation_id: int,
    *,
    start: datetime,
    end: datetime,
    sms: bool,
    tx: float,
    rx: float,
    session_id: str | None = None,
    platform: int = 1,
) -> dict[str, Any]:
    """Build a usage record: data in MiB (traffic type 5) or one SMS (6, tx = MO)."""
    if sms:
        volume: dict[str, Any] = {"total": int(tx + rx), "tx": int(tx), "rx": int(rx)}
    else:
        volume = {
            "total": round(tx + rx, 6),
            "tx": round(tx, 6),
            "rx": round(rx, 6),
        }
    record: dict[str, Any] = {
        "id": record_id,
        "start_timestamp": iso_date(start),
        "end_timestamp": iso_date(end),
        "imsi": sim.imsi,
        "imsi_id": 100000000 + sim.index,
        "traffic_type": {"id": 6, "description": "SMS"}
        if sms
        else {"id": 5, "description": "Data"},
        "volume": volume,
        "operator": OPERATOR,
        "tariff": TARIFF,
        **_common(sim, organisation_id),
    }
    if platform == 1:
        record["cost"] = volume["total"]
        record["currency"] = {"id": 1, "symbol": "€", "code": "EUR"}
    else:
        record["quota_id"] = sim.index
        if not sms:
            record["detail"] = {
                "pdp_context": {"rat_type": RAT_LTE, "ipcan_session_id": session_id}
            }
    return record


def event_record(
    record_id: int,
    sim: SimState,
    organisation_id: int,
    event_type: EventType,
    *,
    now: datetime,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Build a network, PDP, SIM or quota event of one SIM."""
    description, severity, source, alert, text = _EVENTS[event_type]
    return {
        "id": record_id,
        "timestamp": iso_date(now),
        "event_type": {"id": int(event_type), "description": description},
        "event_severity": {"id": severity, "description": _SEVERITIES[severity]},
        "event_source": {"id": source, "description": _SOURCES[source]},
        "alert": alert,
        "description": text,
        "imsi": {"id": 100000000 + sim.index, "imsi": sim.imsi},
        **_common(sim, organisation_id),
        "detail": detail,
    }


def network_detail() -> dict[str, Any]:
    """`detail` of a location update or attach: the visited network."""
    return dict(NETWORK)


def pdp_detail(
    sim: SimState,
    now: datetime,
    *,
    pdp_context_id: int,
    session_id: str,
    volume: tuple[float, float] | None = None,
) -> dict[str, Any]:
    """`detail` of a PDP context event; a deletion carries the session's volume."""
    detail: dict[str, Any] = {
        "id": NETWORK["id"],
        "name": NETWORK["name"],
        "country": NETWORK["country"],
        "pdp_context": {
            "pdp_context_id": pdp_context_id,
            "tunnel_created": now.strftime("%Y-%m-%dT%H:%M:%S"),
            "gtp_version": 2,
            "ue_ip_address": _common(sim, 0)["endpoint"]["ip_address"],
            "apn": "iot.1nce.net",
            "rat_type": RAT_LTE,
            "mcc": "262",
            "mnc": "01",
            "ipcan_session_id": session_id,
        },
    }
    if volume is not None:
        tx, rx = volume
        detail["volume"] = {
            "total": round(tx + rx, 6),
            "tx": round(tx, 6),
            "rx": round(rx, 6),
        }
    return detail


def quota_detail(sim: SimState, service: str) -> dict[str, Any]:
    """`detail` of a quota event: what is left (may be 0 or less) and the threshold."""
    sms = service == "sms"
    volume = sim.sms_volume if sms else sim.data_volume
    total = sim.sms_total if sms else sim.data_total
    return {
        "quota": {
            "id": sim.index,
            "volume": int(volume) if sms else round(volume, 6),
            "total_volume": total,
            "service": service,
            "threshold": {"volume": total * 0.2, "percentage": 20},
            "threshold_percentage": 20,
            "threshold_volume": total * 0.2,
            "expiry_date": iso_date(sim.expiry),
            "status": {"id": 1, "description": "ACTIVE"}
            if volume > 0
            else {"id": 0, "description": "EXHAUSTED"},
        }
    }


def sms_mo_record(  # the MO event's fields
    record_id: int,
    sim: SimState,
    organisation_id: int,
    *,
    payload: str,
    dcs: int,
    source_address: str,
    submit: datetime,
    part: tuple[int, int, int] | None,
) -> dict[str, Any]:
    """Platform 2.0's MO SMS event: `dest_address`, a space-separated date."""
    record: dict[str, Any] = {
        "id": record_id,
        "submit_date": submit.strftime("%Y-%m-%d %H:%M:%S"),
        "dest_address": "12345",
        "source_address": source_address,
        "payload": payload,
        "dcs": dcs,
        "pid": 0,
        "endpoint": {"id": endpoint_id(sim), "name": sim.iccid},
        "organisation": {"id": organisation_id},
    }
    if part is not None and part[1] > 1:
        number, total, identifier = part
        record["multi_part_info"] = {
            "partno": number,
            "total": total,
            "identifier": identifier,
        }
    return record


def sms_report_record(  # the delivery report's fields
    record_id: int,
    sim: SimState,
    organisation_id: int,
    *,
    sms_id: int | str,
    status_id: int,
    status: str,
    submit: datetime,
    final: datetime,
) -> dict[str, Any]:
    """Platform 2.0's MT delivery report: its own id, the SMS's in `detail.sms.id`."""
    return {
        "id": record_id,
        "submit_date": _iso_z(submit),
        "final_date": _iso_z(final),
        "organisation": {"id": organisation_id},
        "endpoint": {"id": endpoint_id(sim), "name": sim.iccid},
        "status": {"status": status, "id": status_id},
        "detail": {"sms": {"id": str(sms_id)}},
    }


def _iso_z(moment: datetime) -> str:
    return iso_date(moment)[:-5] + "Z"


def without_names(value: Any, key: str | None = None) -> Any:
    """Platform 2.0's form: the same record with ids only, no names."""
    if isinstance(value, dict):
        drop = "description" if key in _DESCRIBED else "name" if key in _NAMED else None
        return {
            name: without_names(item, name)
            for name, item in value.items()
            if name != drop
        }
    if isinstance(value, list):
        return [without_names(item) for item in value]
    return value


def flat(record: dict[str, Any]) -> dict[str, Any]:
    """Flatten: `event_type.id` -> `event_type_id`; lists stay lists."""
    out: dict[str, Any] = {}

    def walk(value: dict[str, Any], prefix: str, parent: str | None) -> None:
        for key, item in value.items():
            # `imsi.imsi` is `imsi`, as the migration pages name it.
            name = prefix[:-1] if key == parent else f"{prefix}{key}"
            if isinstance(item, dict):
                walk(item, f"{name}_", key)
            else:
                out[name] = item

    walk(record, "", None)
    return out


def render(record: dict[str, Any], *, platform: int, shape: str) -> dict[str, Any]:
    """Write a record as one stream sends it."""
    shaped: dict[str, Any] = without_names(record) if platform == 2 else record
    return flat(shaped) if shape == "flat" else shaped
