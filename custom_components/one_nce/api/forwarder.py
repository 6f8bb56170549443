"""Read what 1NCE's SMS forwarder pushes: MO SMS (POST) and delivery reports (PATCH).

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
        dest_address=_opt_address(body, "dest_address"),
        submit_date=opt_datetime(body, "submit_date"),
        multi_part=_multi_part(body, sms_id),
    )


@_parser
def parse_delivery_report(body: JsonObject) -> DeliveryReport:
    """Read the body of a forwarder PATCH (the fate of an MT SMS).

    1NCE writes the status text under `status.status`; `status.description`
    (the SMS list's spelling) is read too. The id decides, see
    `delivery_status_from_id`.
    """
    sms_id = req_id(body, "id")
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
    )


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
