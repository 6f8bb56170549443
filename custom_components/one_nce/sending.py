"""Send one message to one SIM: the path shared by the send_sms action and notify.

Everything is checked against what the coordinators already hold, so a message
costs exactly one request per part and nothing else: no SIM is fetched again
just to learn whether it can receive. Checking and sending are separate steps
so that a caller with many targets can check every one of them before the
first SMS leaves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
import secrets
from typing import Final

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util

from .api import OneNceError, OneNceInvalidRequestError, QuotaLevel, Sim
from .api.sms import (
    Encoding,
    SmsEncodingError,
    SmsPart,
    encoding_for_dcs,
    split_message,
)
from .const import CONF_MAX_SMS_PARTS, DEFAULT_MAX_SMS_PARTS, DOMAIN
from .coordinator import OneNceConfigEntry

# 1NCE's ids for the kind of sender address shown on the device.
SOURCE_ADDRESS_TYPES: Final = {
    "international": 145,
    "national": 161,
    "alphanumeric": 208,
}
# How 1NCE words a refusal because the organisation's monthly limit is used up.
_TRAFFIC_LIMIT_MARKER: Final = "traffic limit"
_REFERENCE_COUNT: Final = 256


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
    sms: OutgoingSms
    parts: tuple[SmsPart, ...]

    @property
    def encoding(self) -> Encoding:
        """The alphabet actually chosen: never AUTO."""
        return encoding_for_dcs(self.parts[0].dcs)


@dataclass(frozen=True, slots=True, kw_only=True)
class SentSms:
    """What 1NCE accepted: one id per part, for matching delivery reports."""

    iccid: str
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
    volume = details.sms_quota.volume if details is not None else None
    if (volume is not None and volume <= 0) or (
        volume is None and sim.sms_quota_level is QuotaLevel.EXHAUSTED
    ):
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
    too long for the entry's part cap, not hex where hex is needed, or not
    encodable in the alphabet the user forced.
    """
    check_sim_can_receive(entry, iccid)
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
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key=err.code,
            translation_placeholders=err.placeholders,
        ) from err
    return PreparedSms(entry=entry, iccid=iccid, sms=sms, parts=tuple(parts))


async def async_send_prepared(prepared: PreparedSms) -> SentSms:
    """Submit each part in order; one request per part, no re-fetching.

    A traffic-limit refusal is the user's to fix (raise the limit in the
    Portal), so it is a validation error with 1NCE's own words; any other
    failure says how many parts had already gone out.
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
    except OneNceInvalidRequestError as err:
        if _TRAFFIC_LIMIT_MARKER in err.message.lower():
            raise ServiceValidationError(
                translation_domain=DOMAIN,
                translation_key="traffic_limit_exceeded",
                translation_placeholders={"sim": prepared.iccid, "error": err.message},
            ) from err
        raise _send_failed(prepared, len(sms_ids), err) from err
    except OneNceError as err:
        raise _send_failed(prepared, len(sms_ids), err) from err
    finally:
        if sms_ids:
            # The SMS volume changed; have it re-read at the next detail tick.
            runtime.details.request_soon(prepared.iccid)
            runtime.delivery.follow(prepared.iccid, sms_ids, sms.expires)
    return SentSms(
        iccid=prepared.iccid, sms_ids=tuple(sms_ids), encoding=prepared.encoding
    )


async def async_send_sms(
    entry: OneNceConfigEntry, iccid: str, sms: OutgoingSms
) -> SentSms:
    """Check, split and send one message to one SIM."""
    return await async_send_prepared(prepare_sms(entry, iccid, sms))


def _send_failed(
    prepared: PreparedSms, sent: int, err: OneNceError
) -> HomeAssistantError:
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="send_failed",
        translation_placeholders={
            "sim": prepared.iccid,
            "sent": str(sent),
            "total": str(len(prepared.parts)),
            "error": str(err),
        },
    )
