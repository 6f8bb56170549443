"""Send one message to SIMs: the path shared by the send_sms action and notify.

Everything is checked against what the coordinators already hold, so a message
costs exactly one request per part: no SIM is fetched again just to learn
whether it can receive. The one exception is a SIM the cache says has no SMS
volume left, whose quota is read once more before refusing, since a top-up in
the Portal reaches the cache only at the next detail tick. Checking and
sending are separate steps so that a caller with many targets can check every
one of them before the first SMS leaves.
"""

from __future__ import annotations

from asyncio import sleep
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
import secrets
from typing import Final

from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.util import dt as dt_util

from .api import (
    CreatedSms,
    OneNceError,
    OneNceRateLimitError,
    Quota,
    QuotaLevel,
    QuotaStatus,
    Sim,
    SmsId,
)
from .api.client import MAX_SHARED_PAUSE
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
from .const import CONF_MAX_SMS_PARTS, DEFAULT_MAX_SMS_PARTS, DOMAIN, LOGGER
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
    sim: Sim
    sms: OutgoingSms
    parts: tuple[SmsPart, ...]

    @property
    def iccid(self) -> str:
        """The SIM the parts go to."""
        return self.sim.iccid

    @property
    def name(self) -> str:
        """The SIM as messages about it name it."""
        return describe_sim(self.sim)

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
    sms_ids: tuple[SmsId, ...]
    encoding: Encoding


def describe_sim(sim: Sim) -> str:
    """Name a SIM the way its owner knows it, and unambiguously."""
    return f"{sim.label} ({sim.iccid})" if sim.label else sim.iccid


def error_text(err: Exception) -> str:
    """Give an error's words without a closing full stop, for an {error} placeholder.

    Templates end the sentence after {error} themselves; an error that brings
    its own full stop would read "acted on it.. 1NCE had ...".
    """
    return str(err).strip().rstrip(".").rstrip()


def _receiving_sim(entry: OneNceConfigEntry, iccid: str) -> Sim:
    """Return the SIM if 1NCE knows it and it is enabled; refuse it otherwise."""
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
    return sim


def _prepare(entry: OneNceConfigEntry, iccid: str, sms: OutgoingSms) -> PreparedSms:
    """Check everything that needs no request to 1NCE, then split.

    Raises ServiceValidationError with a translation for every mistake a user
    can fix: an unknown or disabled SIM, an expiry in the past, a message that
    is empty, too long for the entry's part cap (or, with its own header, for
    one SMS), not hex where hex is needed, or not encodable in the alphabet the
    user forced.
    """
    sim = _receiving_sim(entry, iccid)
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
    return PreparedSms(entry=entry, sim=sim, sms=sms, parts=tuple(parts))


async def async_prepare_sms(
    sms: OutgoingSms, targets: Iterable[tuple[OneNceConfigEntry, str]]
) -> list[PreparedSms]:
    """Check and split the message for every (entry, ICCID) before any SMS leaves.

    What needs no request is checked for all targets first, so a mistake in
    one costs no request at all; only then is the SMS volume judged, which
    may ask 1NCE once per SIM the cache says has none left. Any refusal
    raises, and then nothing has been sent to anyone.
    """
    prepared = [_prepare(entry, iccid, sms) for entry, iccid in targets]
    for item in prepared:
        await _async_check_volume(item)
    return prepared


async def _async_check_volume(prepared: PreparedSms) -> None:
    """Refuse a SIM without SMS volume, after asking 1NCE once whether that holds.

    The judgement is the quota state sensor's: nothing left, an overdrawn or
    an expired quota. The cache it judges lags a top-up in the Portal by up
    to a detail interval, and refusing a SIM the user has just topped up
    would send them looking for a fault that is not there; so the refusal
    path, and only it, re-reads the SIM's SMS quota. A SIM that has volume
    again is sent to, and its details are refreshed at the next tick.
    """
    runtime = prepared.entry.runtime_data
    details = (runtime.details.data or {}).get(prepared.iccid)
    if sms_level(prepared.sim, details, threshold=0) is not QuotaLevel.EXHAUSTED:
        return
    try:
        quota = await runtime.client.async_get_sms_quota(prepared.iccid)
    except OneNceError as err:
        # Nothing newer to go by: the cached judgement stands.
        LOGGER.debug("Could not re-read the SMS quota of %s: %s", prepared.iccid, err)
    else:
        if not _exhausted(prepared.sim, quota):
            runtime.details.request_soon(prepared.iccid)
            return
    raise ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="sms_volume_exhausted",
        translation_placeholders={"sim": prepared.name},
    )


def _exhausted(sim: Sim, quota: Quota) -> bool:
    """Judge a quota just read as `sms_level` judges a cached one.

    A quota 1NCE says nothing about (`{}`) adds nothing: the list's level,
    which made the cache say "none left", stands.
    """
    if quota.status is QuotaStatus.EXPIRED:
        return True
    if quota.volume is not None:
        return quota.volume <= 0
    return sim.sms_quota_level is QuotaLevel.EXHAUSTED


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
        translation_placeholders={"error": error_text(err)},
    )


def _too_long_for_header(err: TooLongForHeaderError) -> ServiceValidationError:
    """Say how much fits next to the caller's header, in the unit that counts.

    Each alphabet has its own text: each language names the alphabet its own
    way, and what counts twice differs (GSM's extension characters, UCS-2's
    characters outside the basic plane, such as emoji).
    """
    if err.encoding is Encoding.BINARY:
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="udh_payload_too_long",
            translation_placeholders={
                "header": str(err.header_bytes),
                "room": str(err.room),
                "needed": str(err.needed),
            },
        )
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key=(
            "udh_message_too_long_gsm7"
            if err.encoding is Encoding.GSM7
            else "udh_message_too_long_ucs2"
        ),
        translation_placeholders={
            "header": str(err.header_bytes),
            "room": str(err.room),
            "needed": str(err.needed),
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
    on their way, are deducted from the volume and are followed for delivery.
    """
    runtime = prepared.entry.runtime_data
    sms_ids: list[SmsId] = []
    try:
        for part in prepared.parts:
            created = await _async_submit(prepared, part, continues=bool(sms_ids))
            sms_ids.append(created.sms_id)
    except OneNceError as err:
        raise _send_failed(
            prepared, [*sent_before, _sent(prepared, sms_ids)], err
        ) from err
    finally:
        if sms_ids:
            # The SMS volume changed; have it re-read at the next detail tick.
            runtime.details.request_soon(prepared.iccid)
            runtime.delivery.follow(prepared.iccid, sms_ids, prepared.sms.expires)
    return _sent(prepared, sms_ids)


async def _async_submit(
    prepared: PreparedSms, part: SmsPart, *, continues: bool
) -> CreatedSms:
    """POST one part; a part that continues a message sits out a long pause once.

    Any caller's 429 can pause the shared rate limiter for up to
    MAX_SHARED_PAUSE, and while it does the client refuses at once. Before
    the first part that costs nothing: the user is told 1NCE asked to pause.
    Between parts it would leave the device with half a message it can never
    complete, so the part waits the pause out and is tried once more. A
    rate-limited POST certainly did not reach 1NCE, so no SMS is doubled.
    """
    sms = prepared.sms
    submit = partial(
        prepared.entry.runtime_data.client.async_send_sms,
        prepared.iccid,
        part.payload,
        dcs=part.dcs,
        udh=part.udh,
        source_address=sms.source_address,
        source_address_type=sms.source_address_type,
        expiry_date=sms.expires,
    )
    try:
        return await submit()
    except OneNceRateLimitError as err:
        if not continues:
            raise
        wait = min(err.retry_after or 0.0, MAX_SHARED_PAUSE)
    LOGGER.warning(
        "1NCE asked to pause for %.0f s in the middle of a %d-part SMS to %s; "
        "waiting, so that the device gets the whole message",
        wait,
        len(prepared.parts),
        prepared.name,
    )
    await sleep(wait)
    return await submit()


async def async_send_sms(
    entry: OneNceConfigEntry, iccid: str, sms: OutgoingSms
) -> SentSms:
    """Check, split and send one message to one SIM."""
    (prepared,) = await async_prepare_sms(sms, [(entry, iccid)])
    return await async_send_prepared(prepared)


def _sent(prepared: PreparedSms, sms_ids: Sequence[SmsId]) -> SentSms:
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
    """Pick the failure's message: traffic limit or not, anything sent or not.

    The partial texts name no counts of their own: `sent` lists every SMS that
    went out, the failing SIM's parts included, which reads right whether that
    SIM got some parts or none.
    """
    error = error_text(err)
    traffic_limit = _TRAFFIC_LIMIT_MARKER in error.lower()
    accepted = describe_sent(sent)
    if traffic_limit and accepted:
        return ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="traffic_limit_exceeded_partially",
            translation_placeholders={
                "sim": prepared.name,
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
                "error": error,
                "sent": accepted,
            },
        )
    return HomeAssistantError(
        translation_domain=DOMAIN,
        translation_key="send_failed",
        translation_placeholders={"sim": prepared.name, "error": error},
    )
