"""Read what 1NCE's SMS forwarder pushes: MO SMS (POST) and delivery reports (PATCH).

The forwarder URL is public and unauthenticated, so whatever arrives is
untrusted: this module is the one place that turns it into typed values, and
it refuses anything it cannot read with a `ForwarderPayloadError` whose
`reason` is short, specific and safe to log. A reason never repeats the
message text or any other value from the body, only field names, types and
the small integers that were out of range.

It is lenient exactly where 1NCE is: numbers arrive as JSON numbers or as
numeric strings (the 2019 documentation shows every value as a string),
surrounding whitespace in a numeric string is tolerated, keys may be added
(`smsforwarderId`) or left out, and an unset optional field is `None`. It is
strict where a wrong guess would cost something: the SMS id (used to
de-duplicate 1NCE's retries), the ICCID (used to route the message), the
organisation id (used to reject other accounts' reports), the multi-part
numbering (used to reassemble long messages) and the dates.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
import math
import re
from typing import Any

from .timeutil import parse_api_datetime

_Object = Mapping[str, Any]

# Integers as strings: ASCII digits only (`int()` would also take "6_202" and
# Arabic-Indic digits), an optional minus so that "-1" is reported as out of
# range rather than as garbage, and a length cap so that a megabyte of digits
# is refused before `int()` spends time on it.
_INTEGER = re.compile(r"-?\d{1,20}", re.ASCII)
_ICCID = re.compile(r"\d{18,22}", re.ASCII)
_MAX_INT = 2**63 - 1
# The concatenation header that numbers the parts has one octet for each.
MAX_PARTS = 255
# Addresses are at most 20 characters and identifiers are SMS ids; anything much
# longer is not 1NCE's and should not become a key or an event attribute.
_MAX_TEXT = 64


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


class ForwarderPayloadError(ValueError):
    """A pushed body that cannot be read; `reason` says why in a few words.

    The reason goes back to 1NCE in the error response and into the debug
    log, so it names fields, never their contents.
    """

    reason: str

    def __init__(self, reason: str) -> None:
        """Keep the reason apart from the message so callers need not parse it."""
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True, kw_only=True)
class MultiPartInfo:
    """Which part of a long SMS this is; parts of one SMS share `identifier`."""

    identifier: str
    part: int
    total: int


@dataclass(frozen=True, slots=True, kw_only=True)
class MoSms:
    """An SMS a SIM sent, as the forwarder pushed it (one part of it, if long).

    `payload` is still encoded as `dcs` says; decoding it is `sms.py`'s job,
    after the parts have been put back together.
    """

    sms_id: int
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
    """What became of an SMS we sent, as the forwarder pushed it."""

    sms_id: int
    iccid: str
    endpoint_id: int | None
    organisation_id: int | None
    status: DeliveryStatus
    status_id: int
    submit_date: datetime | None
    final_date: datetime | None


def parse_mo_sms(data: object) -> MoSms:
    """Read the body of a forwarder POST (a mobile-originated SMS).

    Without `multi_part_info` the SMS is a single part identified by its own
    id. A multi-part SMS (`total` > 1) must name its `identifier`, or its
    parts could never be put together again.
    """
    body = _body(data)
    sms_id = _req_int(body, "id", "id")
    payload = body.get("payload")
    if payload is None:
        raise ForwarderPayloadError("payload missing")
    if not isinstance(payload, str):
        raise ForwarderPayloadError("payload is not a string")
    endpoint_id, iccid = _endpoint(body)
    dcs = _opt_int(body, "dcs", "dcs")
    pid = _opt_int(body, "pid", "pid")
    for field, value in (("dcs", dcs), ("pid", pid)):
        if value is not None and value > 255:
            raise ForwarderPayloadError(f"{field} {value} > 255")
    return MoSms(
        sms_id=sms_id,
        iccid=iccid,
        endpoint_id=endpoint_id,
        organisation_id=_organisation_id(body),
        payload=payload,
        dcs=dcs or 0,
        pid=pid,
        source_address=_opt_address(body, "source_address"),
        dest_address=_opt_address(body, "dest_address"),
        submit_date=_opt_date(body, "submit_date"),
        multi_part=_multi_part(body, sms_id),
    )


def parse_delivery_report(data: object) -> DeliveryReport:
    """Read the body of a forwarder PATCH (the fate of an MT SMS).

    1NCE writes the status text under `status.status`; `status.description`
    (the SMS list's spelling) is read too. The id decides, see
    `delivery_status_from_id`.
    """
    body = _body(data)
    sms_id = _req_int(body, "id", "id")
    endpoint_id, iccid = _endpoint(body)
    status_obj = _opt_object(body, "status")
    if status_obj is None:
        raise ForwarderPayloadError("status missing")
    status_id = _req_int(status_obj, "id", "status.id")
    text = status_obj.get("status")
    field = "status.status"
    if text is None:
        text = status_obj.get("description")
        field = "status.description"
    if text is not None and not isinstance(text, str):
        raise ForwarderPayloadError(f"{field} is not a string")
    try:
        status = delivery_status_from_id(status_id, text)
    except ValueError:
        raise ForwarderPayloadError(f"status.id {status_id} unknown") from None
    return DeliveryReport(
        sms_id=sms_id,
        iccid=iccid,
        endpoint_id=endpoint_id,
        organisation_id=_organisation_id(body),
        status=status,
        status_id=status_id,
        submit_date=_opt_date(body, "submit_date"),
        final_date=_opt_date(body, "final_date"),
    )


def _body(data: object) -> _Object:
    """Return the decoded body as an object, or refuse it."""
    if not isinstance(data, Mapping):
        raise ForwarderPayloadError("body is not a JSON object")
    return data


def _opt_object(data: _Object, key: str) -> _Object | None:
    """Return a nested object; absent or null is `None`."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise ForwarderPayloadError(f"{key} is not an object")
    return value


def _opt_int(data: _Object, key: str, field: str) -> int | None:
    """Return a non-negative integer; absent, null or blank is `None`.

    Booleans are refused although Python counts them as integers: `true` is
    not an SMS id. Floats are accepted only when integral, as some JSON
    encoders write `6202.0`.
    """
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        raise ForwarderPayloadError(f"{field} is not an integer")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not (math.isfinite(value) and value.is_integer()):
            raise ForwarderPayloadError(f"{field} is not an integer")
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if not _INTEGER.fullmatch(text):
            raise ForwarderPayloadError(f"{field} is not an integer")
        number = int(text)
    else:
        raise ForwarderPayloadError(f"{field} is not an integer")
    if number < 0:
        raise ForwarderPayloadError(f"{field} {number} < 0")
    if number > _MAX_INT:
        raise ForwarderPayloadError(f"{field} is out of range")
    return number


def _req_int(data: _Object, key: str, field: str) -> int:
    """Return a non-negative integer that must be present."""
    value = _opt_int(data, key, field)
    if value is None:
        raise ForwarderPayloadError(f"{field} missing")
    return value


def _endpoint(body: _Object) -> tuple[int | None, str]:
    """Return the SIM's endpoint id and ICCID; the ICCID is required.

    The ICCID decides which SIM, and so which device, the message belongs
    to, so it must be a plain string of 18 to 22 digits. A JSON number is
    refused: it is not what 1NCE sends, and a 20-digit number can lose
    digits on its way through a JSON encoder.
    """
    endpoint = _opt_object(body, "endpoint")
    if endpoint is None:
        raise ForwarderPayloadError("endpoint.name missing")
    endpoint_id = _opt_int(endpoint, "id", "endpoint.id")
    name = endpoint.get("name")
    if name is None:
        raise ForwarderPayloadError("endpoint.name missing")
    if not isinstance(name, str):
        raise ForwarderPayloadError("endpoint.name is not a string")
    iccid = name.strip()
    if not iccid:
        raise ForwarderPayloadError("endpoint.name missing")
    if not _ICCID.fullmatch(iccid):
        raise ForwarderPayloadError("endpoint.name is not an ICCID")
    return endpoint_id, iccid


def _organisation_id(body: _Object) -> int | None:
    """Return the sending organisation's id, `None` if 1NCE left it out."""
    organisation = _opt_object(body, "organisation")
    if organisation is None:
        return None
    return _opt_int(organisation, "id", "organisation.id")


def _opt_text(data: _Object, key: str, field: str) -> str | None:
    """Return a string that 1NCE may also send as a number; blank is `None`."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        raise ForwarderPayloadError(f"{field} is not a string or number")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return str(int(value))
    if not isinstance(value, str):
        raise ForwarderPayloadError(f"{field} is not a string or number")
    text = value.strip()
    if len(text) > _MAX_TEXT:
        raise ForwarderPayloadError(f"{field} longer than {_MAX_TEXT} characters")
    return text or None


def _opt_address(body: _Object, key: str) -> str | None:
    """Return a phone number or short code, which 1NCE may send as a number."""
    return _opt_text(body, key, key)


def _opt_date(body: _Object, key: str) -> datetime | None:
    """Return a date as aware UTC, naming the field when it cannot be read."""
    try:
        return parse_api_datetime(body.get(key))
    except ValueError as err:
        raise ForwarderPayloadError(f"{key}: {err}") from None


def _multi_part(body: _Object, sms_id: int) -> MultiPartInfo:
    """Return the part numbering; a missing one means a single-part SMS."""
    info = _opt_object(body, "multi_part_info")
    if info is None:
        return MultiPartInfo(identifier=str(sms_id), part=1, total=1)
    part = _req_int(info, "partno", "multi_part_info.partno")
    total = _req_int(info, "total", "multi_part_info.total")
    if part < 1:
        raise ForwarderPayloadError(f"multi_part_info.partno {part} < 1")
    if total < 1:
        raise ForwarderPayloadError(f"multi_part_info.total {total} < 1")
    if total > MAX_PARTS:
        raise ForwarderPayloadError(f"multi_part_info.total {total} > {MAX_PARTS}")
    if part > total:
        raise ForwarderPayloadError(f"multi_part_info.partno {part} > total {total}")
    identifier = _opt_text(info, "identifier", "multi_part_info.identifier")
    if identifier is None:
        if total > 1:
            raise ForwarderPayloadError("multi_part_info.identifier missing")
        identifier = str(sms_id)
    return MultiPartInfo(identifier=identifier, part=part, total=total)
