"""Send one message to one SIM: the path shared by the send_sms action and notify.

Everything is checked against what the coordinators already hold, so a message
costs exactly one request per part and nothing else: no SIM is fetched again
just to learn whether it can receive. Checking and sending are separate steps
so that a caller with many targets can check every one of them before the
first SMS leaves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
import secrets
from typing import Final

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util

from .api import OneNceError, QuotaLevel, Sim
from .api.sms import (
    EmptyMessageError,
    Encoding,
    InvalidHexError,
    MessageTooLongError,
    NotEncodableError,
    SmsEncodingError,
    SmsPart,
    TooLongForHeaderError,
    encoding_for_dcs,
    split_message,
)
from .const import CONF_MAX_SMS_PARTS, DEFAULT_MAX_SMS_PARTS, DOMAIN
from .coordinator import OneNceConfigEntry
from .sms_volume import sms_level

# 1NCE's ids for the kind of sender address shown on the device.
SOURCE_ADDRESS_TYPES: Final = {
    "international": 145,
    "national": 161,
    "alphanumeric": 208,
}
# How 1NCE words a refusal because the organisation's monthly limit is used up
# ("Traffic limit of X SMS per month exceeded"), whatever HTTP status it uses.
_TRAFFIC_LIMIT_MARKER: Final = "traffic limit"
_REFERENCE_COUNT: Final = 256
# How the alphabets are named in messages: technical names, the same in every
# language, so they need no translation.
_ALPHABET_NAMES: Final = {Encoding.GSM7: "GSM 7-bit", Encoding.UCS2: "UCS-2"}


@dataclass(frozen=True, slots=True, kw_only=True)
class OutgoingSms:
    """What to send, the same for every SIM it goes to.

    `message` is text, or the payload as hex for `Encoding.BINARY`; `udh` is a
    caller's own header (hex, with its length byte), which forbids splitting.
    """

    message: str
    encoding: Encoding = Encoding.AUTO
    udh: str | None = None
    source_address: str | None = None
    source_address_type: int | None = None
    expires: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PreparedSms:
    """A message checked for one SIM and cut into the POSTs it takes."""

    entry: OneNceConfigEntry
    iccid: str
    name: str
    sms: OutgoingSms
    parts: tuple[SmsPart, ...]

    @property
    def encoding(self) -> Encoding:
        """The alphabet actually chosen: never AUTO."""
        return encoding_for_dcs(self.parts[0].dcs)


@dataclass(frozen=True, slots=True, kw_only=True)
class SentSms:
    """What 1NCE accepted: one id per part, for matching delivery reports.

    `name` is the SIM as its owner knows it, for messages about SMS that
    already went out when a later one failed.
    """

    iccid: str
    name: str
    sms_ids: tuple[str, ...]
    encoding: Encoding


def describe_sim(sim: Sim) -> str:
    """Name a SIM the way its owner knows it, and unambiguously."""
    return f"{sim.label} ({sim.iccid})" if sim.label else sim.iccid


def check_sim_can_receive(entry: OneNceConfigEntry, iccid: str) -> Sim:
    """Refuse a SIM that 1NCE would refuse, or that would never get the SMS.

    The exact SMS volume wins when its details are known; without them the
    SIM list's level stands in. A SIM that is merely low may still send.
    """
    sim = (entry.runtime_data.fleet.data or {}).get(iccid)
    if sim is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_sim",
            translation_placeholders={"sim": iccid},
        )
    if not sim.enabled:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="sim_disabled",
            translation_placeholders={"sim": describe_sim(sim)},
        )
    details = (entry.runtime_data.details.data or {}).get(iccid)
    # The same judgement as the SIM's quota state sensor: nothing left, an
    # overdrawn or an expired quota. The threshold only tells low from plenty.
    if sms_level(sim, details, threshold=0) is QuotaLevel.EXHAUSTED:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="sms_volume_exhausted",
            translation_placeholders={"sim": describe_sim(sim)},
        )
    return sim


def prepare_sms(entry: OneNceConfigEntry, iccid: str, sms: OutgoingSms) -> PreparedSms:
    """Check everything that can be checked without 1NCE, then split.

    Raises ServiceValidationError with a translation for every mistake a user
    can fix: an unusable SIM, an expiry in the past, a message that is empty,
    too long for the entry's part cap (or, with its own header, for one SMS),
    not hex where hex is needed, or not encodable in the alphabet the user
    forced.
    """
    sim = check_sim_can_receive(entry, iccid)
    if sms.expires is not None and sms.expires <= dt_util.utcnow():
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="expiry_in_past",
            translation_placeholders={
                "expiry": dt_util.as_local(sms.expires).isoformat(timespec="seconds")
            },
        )
    max_parts = int(entry.options.get(CONF_MAX_SMS_PARTS, DEFAULT_MAX_SMS_PARTS))
    try:
        parts = split_message(
            sms.message,
            encoding=sms.encoding,
            udh=sms.udh,
            # Random, so that two messages in flight to one SIM do not share
            # a reference and get their parts mixed up by the handset.
            reference=secrets.randbelow(_REFERENCE_COUNT),
            max_parts=max_parts,
        )
    except SmsEncodingError as err:
        raise _refusal(err) from err
    return PreparedSms(
        entry=entry,
        iccid=iccid,
        name=describe_sim(sim),
        sms=sms,
        parts=tuple(parts),
    )


def _refusal(err: SmsEncodingError) -> ServiceValidationError:
    """Say in the user's words what is wrong with the message.

    Each field and case has its own text, so that no internal field name
    reaches the user and no advice is given that cannot help (raising the
    part cap does nothing for a message with its own header).
    """
    if isinstance(err, InvalidHexError):
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=(
                "invalid_udh" if err.field == "udh" else "invalid_binary_message"
            ),
        )
    if isinstance(err, TooLongForHeaderError):
        return _too_long_for_header(err)
    if isinstance(err, MessageTooLongError):
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="too_many_parts",
            translation_placeholders={
                "parts_needed": str(err.parts_needed),
                "max_parts": str(err.max_parts),
            },
        )
    if isinstance(err, NotEncodableError):
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="not_gsm7",
            translation_placeholders={"characters": err.placeholders["characters"]},
        )
    if isinstance(err, EmptyMessageError):
        return ServiceValidationError(
            translation_domain=DOMAIN, translation_key="empty_message"
        )
    # A refusal the codec learned after this module: its English text at least.
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="message_not_sendable",
        translation_placeholders={"error": str(err)},
    )


def _too_long_for_header(err: TooLongForHeaderError) -> ServiceValidationError:
    """Say how much fits next to the caller's header, in the unit that counts."""
    if err.encoding is Encoding.BINARY:
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="udh_payload_too_long",
            translation_placeholders=err.placeholders,
        )
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="udh_message_too_long",
        translation_placeholders={
            **err.placeholders,
            "alphabet": _ALPHABET_NAMES[err.encoding],
        },
    )


async def async_send_prepared(
    prepared: PreparedSms, *, sent_before: Sequence[SentSms] = ()
) -> SentSms:
    """Submit each part in order; one request per part, no re-fetching.

    A traffic-limit refusal is the user's to fix (raise the limit in the
    Portal), so it is a validation error with 1NCE's own words. Any failure
    after something went out (an earlier part, or the SMS to the SIMs in
    `sent_before`) names every SMS 1NCE accepted, with its id: those SMS are
    on their way, count against the volume and are followed for delivery.
    """
    runtime = prepared.entry.runtime_data
    sms = prepared.sms
    sms_ids: list[str] = []
    try:
        for part in prepared.parts:
            created = await runtime.client.async_send_sms(
                prepared.iccid,
                part.payload,
                dcs=part.dcs,
                udh=part.udh,
                source_address=sms.source_address,
                source_address_type=sms.source_address_type,
                expiry_date=sms.expires,
            )
            sms_ids.append(created.sms_id)
    except OneNceError as err:
        raise _send_failed(
            prepared, [*sent_before, _sent(prepared, sms_ids)], err
        ) from err
    finally:
        if sms_ids:
            # The SMS volume changed; have it re-read at the next detail tick.
            runtime.details.request_soon(prepared.iccid)
            runtime.delivery.follow(prepared.iccid, sms_ids, sms.expires)
    return _sent(prepared, sms_ids)


async def async_send_sms(
    entry: OneNceConfigEntry, iccid: str, sms: OutgoingSms
) -> SentSms:
    """Check, split and send one message to one SIM."""
    return await async_send_prepared(prepare_sms(entry, iccid, sms))


def _sent(prepared: PreparedSms, sms_ids: Sequence[str]) -> SentSms:
    return SentSms(
        iccid=prepared.iccid,
        name=prepared.name,
        sms_ids=tuple(sms_ids),
        encoding=prepared.encoding,
    )


def describe_sent(sent: Sequence[SentSms]) -> str:
    """List the SMS 1NCE accepted as "SIM: id, id; SIM: id" (no words to translate)."""
    return "; ".join(
        f"{item.name}: {', '.join(item.sms_ids)}" for item in sent if item.sms_ids
    )


def _send_failed(
    prepared: PreparedSms, sent: Sequence[SentSms], err: OneNceError
) -> HomeAssistantError:
    """Pick the failure's message: traffic limit or not, anything sent or not."""
    error = str(err)
    traffic_limit = _TRAFFIC_LIMIT_MARKER in error.lower()
    accepted = describe_sent(sent)
    sent_parts = str(len(sent[-1].sms_ids))
    total = str(len(prepared.parts))
    if traffic_limit and accepted:
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="traffic_limit_exceeded_partially",
            translation_placeholders={
                "sim": prepared.name,
                "sent_parts": sent_parts,
                "total": total,
                "error": error,
                "sent": accepted,
            },
        )
    if traffic_limit:
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="traffic_limit_exceeded",
            translation_placeholders={"sim": prepared.name, "error": error},
        )
    if accepted:
        return HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="send_failed_partially",
            translation_placeholders={
                "sim": prepared.name,
                "sent_parts": sent_parts,
                "total": total,
                "error": error,
                "sent": accepted,
            },
        )
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="send_failed",
        translation_placeholders={"sim": prepared.name, "error": error},
    )
