"""Read what 1NCE pushes about SMS: MO SMS (POST) and delivery reports (PATCH).

The same bodies arrive from the SMS forwarder (Platform 1.0) and as the SMS
records of Platform 2.0's Data Streamer; `parse_sms_record` tells the two
kinds apart by shape where no HTTP method does. Platform 2.0 changes three
things, all read here: a delivery report has an `id` of its own and names
the SMS it reports on in `detail.sms.id` (the id `POST .../sms` returned), its
dates are ISO 8601 with `Z`, and an MO SMS may name its recipient
`destination_address` instead of `dest_address`.

The forwarder URL is public and unauthenticated, so whatever arrives is
untrusted: this module turns it into the models of `models.py` and refuses
anything it cannot read with a `ForwarderPayloadError` whose `reason` is
short, specific and safe to log. A reason never repeats the message text or
any other value from the body, only field names, types and the small
integers that were out of range (the readers of `_parse` word it so).

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

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
import re
from typing import Final

from ._parse import (
    JsonObject,
    find_object,
    opt_datetime,
    opt_int,
    opt_str,
    req_id,
    req_int,
)
from .exceptions import OneNceResponseError
from .models import (
    DeliveryReport,
    MoSms,
    MultiPartInfo,
    SmsId,
    delivery_status_from_id,
)

_ICCID = re.compile(r"\d{18,22}", re.ASCII)
# The concatenation header that numbers the parts has one octet for each.
MAX_PARTS: Final = 255
# Addresses are at most 20 characters and identifiers are SMS ids; anything much
# longer is not 1NCE's and should not become a key or an event attribute.
_MAX_TEXT: Final = 64
# dcs and pid are one octet each.
_MAX_OCTET: Final = 255
# SMS ids are 64-bit numbers; Platform 2.0's are 18 digits, above 2^53.
_MAX_ID: Final = 2**63 - 1
_ID_DIGITS: Final = re.compile(r"\d{1,20}", re.ASCII)
# 1NCE's two names for the number an MO SMS was sent to, the documented first.
_DEST_KEYS: Final = ("destination_address", "dest_address")


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


@contextmanager
def _refusing() -> Iterator[None]:
    """Turn a reader's complaint into the refusal of the whole body."""
    try:
        yield
    except OneNceResponseError as err:
        raise ForwarderPayloadError(str(err)) from None


def _parser[T](parse: Callable[[JsonObject], T]) -> Callable[[object], T]:
    def parse_body(data: object) -> T:
        if not isinstance(data, Mapping):
            raise ForwarderPayloadError("body is not a JSON object")
        with _refusing():
            return parse(data)

    parse_body.__doc__ = parse.__doc__
    return parse_body


@_parser
def parse_mo_sms(body: JsonObject) -> MoSms:
    """Read the body of a forwarder POST (a mobile-originated SMS).

    Without `multi_part_info` the SMS is a single part identified by its own
    id. A multi-part SMS (`total` > 1) must name its `identifier`, or its
    parts could never be put together again.
    """
    sms_id = req_id(body, "id")
    payload = body.get("payload")
    if payload is None:
        raise ForwarderPayloadError("payload missing")
    if not isinstance(payload, str):
        raise ForwarderPayloadError("payload is not a string")
    endpoint_id, iccid = _endpoint(body)
    dcs = opt_int(body, "dcs", minimum=0, maximum=_MAX_OCTET)
    return MoSms(
        sms_id=sms_id,
        iccid=iccid,
        endpoint_id=endpoint_id,
        organisation_id=_organisation_id(body),
        payload=payload,
        dcs=dcs or 0,
        pid=opt_int(body, "pid", minimum=0, maximum=_MAX_OCTET),
        source_address=_opt_address(body, "source_address"),
        dest_address=_dest_address(body),
        submit_date=opt_datetime(body, "submit_date"),
        multi_part=_multi_part(body, sms_id),
    )


@_parser
def parse_delivery_report(body: JsonObject) -> DeliveryReport:
    """Read the body of a forwarder PATCH (the fate of an MT SMS).

    The SMS reported on is `detail.sms.id` where the report names it
    (Platform 2.0, whose report has an `id` of its own, kept as
    `report_id`), else the report's `id` (Platform 1.0). 1NCE writes the
    status text under `status.status`; `status.description` (the SMS list's
    spelling) is read too. The id decides, see `delivery_status_from_id`.
    """
    sms_id, report_id = _report_ids(body)
    endpoint_id, iccid = _endpoint(body)
    status_obj = find_object(body, "status")
    if status_obj is None:
        raise ForwarderPayloadError("status missing")
    status_id = req_int(status_obj, "id", "status.id", minimum=0)
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
        submit_date=opt_datetime(body, "submit_date"),
        final_date=opt_datetime(body, "final_date"),
        report_id=report_id,
    )


def parse_sms_record(record: object) -> MoSms | DeliveryReport:
    """Read one pushed SMS record, telling an MO SMS from a report by its shape.

    For channels without an HTTP method to tell them apart, such as the
    Data Streamer, whose SMS events carry the forwarder's bodies. A record
    with a `status` and a `final_date` or a `detail.sms` is a delivery
    report; one with a `payload` is an MO SMS; anything else is refused.
    """
    if not isinstance(record, Mapping):
        raise ForwarderPayloadError("body is not a JSON object")
    detail = record.get("detail")
    names_sms = isinstance(detail, Mapping) and "sms" in detail
    if "status" in record and ("final_date" in record or names_sms):
        return parse_delivery_report(record)
    if "payload" in record:
        return parse_mo_sms(record)
    raise ForwarderPayloadError("neither an MO SMS nor a delivery report")


def _report_ids(body: JsonObject) -> tuple[SmsId, SmsId | None]:
    """Return the id of the SMS reported on and the report's own, if different.

    `detail.sms.id` must be digits, in a string or a JSON integer: a float
    has lost digits of an 18-digit id already, and a wrong id would be
    matched with somebody else's SMS. Without it, the report's `id` names
    the SMS, as on Platform 1.0.
    """
    detail = find_object(body, "detail")
    sms = find_object(detail, "sms", "detail.sms") if detail is not None else None
    value = sms.get("id") if sms is not None else None
    if value is None:
        return req_id(body, "id"), None
    sms_id = _sms_id(value, "detail.sms.id")
    own = opt_int(body, "id", minimum=0)
    report_id = None if own is None or str(own) == sms_id else str(own)
    return sms_id, report_id


def _sms_id(value: object, field: str) -> SmsId:
    """Read a 64-bit id given as a string of digits or as a JSON integer."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ForwarderPayloadError(f"{field} is not a string of digits")
    text = value.strip() if isinstance(value, str) else str(value)
    if not _ID_DIGITS.fullmatch(text):
        raise ForwarderPayloadError(f"{field} is not a string of digits")
    number = int(text)
    if number > _MAX_ID:
        raise ForwarderPayloadError(f"{field} is out of range")
    return str(number)


def _endpoint(body: JsonObject) -> tuple[int | None, str]:
    """Return the SIM's endpoint id and ICCID; the ICCID is required.

    The ICCID decides which SIM, and so which device, the message belongs
    to, so it must be a plain string of 18 to 22 digits. A JSON number is
    refused: it is not what 1NCE sends, and a 20-digit number can lose
    digits on its way through a JSON encoder.
    """
    endpoint = find_object(body, "endpoint")
    if endpoint is None:
        raise ForwarderPayloadError("endpoint.name missing")
    endpoint_id = opt_int(endpoint, "id", "endpoint.id", minimum=0)
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


def _organisation_id(body: JsonObject) -> int | None:
    """Return the sending organisation's id, `None` if 1NCE left it out."""
    organisation = find_object(body, "organisation")
    if organisation is None:
        return None
    return opt_int(organisation, "id", "organisation.id", minimum=0)


def _opt_address(body: JsonObject, key: str) -> str | None:
    """Return a phone number or short code, which 1NCE may send as a number."""
    return opt_str(body, key, max_length=_MAX_TEXT)


def _dest_address(body: JsonObject) -> str | None:
    """Return the number the SMS was sent to, under whichever name 1NCE used."""
    for key in _DEST_KEYS:
        if (address := _opt_address(body, key)) is not None:
            return address
    return None


def _multi_part(body: JsonObject, sms_id: str) -> MultiPartInfo:
    """Return the part numbering; a missing one means a single-part SMS."""
    info = find_object(body, "multi_part_info")
    if info is None:
        return MultiPartInfo(identifier=sms_id, part=1, total=1)
    part = req_int(info, "partno", "multi_part_info.partno", minimum=0)
    total = req_int(info, "total", "multi_part_info.total", minimum=0)
    if part < 1:
        raise ForwarderPayloadError(f"multi_part_info.partno {part} < 1")
    if total < 1:
        raise ForwarderPayloadError(f"multi_part_info.total {total} < 1")
    if total > MAX_PARTS:
        raise ForwarderPayloadError(f"multi_part_info.total {total} > {MAX_PARTS}")
    if part > total:
        raise ForwarderPayloadError(f"multi_part_info.partno {part} > total {total}")
    identifier = opt_str(
        info, "identifier", "multi_part_info.identifier", max_length=_MAX_TEXT
    )
    if identifier is None:
        if total > 1:
            raise ForwarderPayloadError("multi_part_info.identifier missing")
        identifier = sms_id
    return MultiPartInfo(identifier=identifier, part=part, total=total)
