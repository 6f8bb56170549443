"""The 1NCE actions: send, cancel and list SMS, list events, order a top-up.

They are registered once for the domain, not per entry, so that automations
referring to them validate even while an account is still loading. Each call
resolves its SIMs to (loaded entry, ICCID) first and only then talks to 1NCE.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from homeassistant.const import ATTR_DEVICE_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers import device_registry as dr
from homeassistant.util import dt as dt_util
from homeassistant.util.json import JsonObjectType, JsonValueType

from .api import (
    OneNceClient,
    OneNceError,
    OneNceInvalidRequestError,
    OneNceNotFoundError,
    SimEvent,
    Sms,
    SmsDirection,
    SmsId,
)
from .api.sms import Encoding, decode_payload, encoding_for_dcs
from .compat import device_belongs_to, device_by_identifier, vol
from .const import DOMAIN, LOGGER
from .coordinator import OneNceConfigEntry
from .sending import (
    SOURCE_ADDRESS_TYPES,
    OutgoingSms,
    SentSms,
    async_prepare_sms,
    async_send_prepared,
    error_text,
)

SERVICE_SEND_SMS: Final = "send_sms"
SERVICE_CANCEL_SMS: Final = "cancel_sms"
SERVICE_LIST_SMS: Final = "list_sms"
SERVICE_TOP_UP: Final = "top_up"
SERVICE_LIST_EVENTS: Final = "list_events"

ATTR_ICCID: Final = "iccid"
ATTR_MESSAGE: Final = "message"
ATTR_SOURCE_ADDRESS: Final = "source_address"
ATTR_SOURCE_ADDRESS_TYPE: Final = "source_address_type"
ATTR_ENCODING: Final = "encoding"
ATTR_UDH: Final = "udh"
ATTR_EXPIRY: Final = "expiry"
# The former name of `expiry` as a date and time; still accepted, no longer shown.
ATTR_EXPIRY_AT: Final = "expiry_at"
ATTR_SMS_ID: Final = "sms_id"
ATTR_LIMIT: Final = "limit"
ATTR_DIRECTION: Final = "direction"
ATTR_CONFIRM: Final = "confirm"

DIRECTION_ALL: Final = "all"
DEFAULT_LIST_LIMIT: Final = 20
# The most an action returns, and the page size it reads 1NCE's lists in.
MAX_LIST_LIMIT: Final = 100
# 1NCE documents no order for a SIM's SMS list, so the newest can be on any
# page: list_sms reads them all, up to this many pages (2,000 SMS; 1NCE keeps
# a week's, so only a SIM texted every five minutes or more comes near; one
# that does gets a warning in the log).
MAX_SMS_PAGES: Final = 20

_TEXT_LIST = vol.All(cv.ensure_list, [cv.string])
# How long 1NCE keeps trying to deliver: a duration ("12:00:00", "12:00",
# {hours: 12}, a number of seconds) or the moment it gives up ("2030-01-01
# 08:00:00", ISO 8601; a date alone is its midnight). Tried in this order, so
# "12:00" is twelve hours, never noon.
_VALIDITY = vol.Any(
    cv.time_period,
    cv.datetime,
    msg=(
        "expected a duration (such as 12:00:00) or a date and time "
        "(such as 2030-01-01 08:00:00)"
    ),
)
_VALIDITY_CONFLICT: Final = "Set either expiry or expiry_at, not both"

_ONE_SIM: Final[dict[vol.Marker, Any]] = {
    vol.Optional(ATTR_DEVICE_ID): cv.string,
    vol.Optional(ATTR_ICCID): cv.string,
}

SEND_SMS_SCHEMA: Final = vol.Schema(
    {
        vol.Optional(ATTR_DEVICE_ID, default=list): _TEXT_LIST,
        vol.Optional(ATTR_ICCID, default=list): _TEXT_LIST,
        vol.Required(ATTR_MESSAGE): cv.string,
        vol.Optional(ATTR_SOURCE_ADDRESS): cv.string,
        vol.Optional(ATTR_SOURCE_ADDRESS_TYPE): vol.In(SOURCE_ADDRESS_TYPES),
        vol.Optional(ATTR_ENCODING, default=Encoding.AUTO.value): vol.Coerce(Encoding),
        vol.Optional(ATTR_UDH): cv.string,
        vol.Exclusive(ATTR_EXPIRY, "expiry", msg=_VALIDITY_CONFLICT): _VALIDITY,
        vol.Exclusive(ATTR_EXPIRY_AT, "expiry", msg=_VALIDITY_CONFLICT): _VALIDITY,
    }
)
CANCEL_SMS_SCHEMA: Final = vol.Schema(
    {
        **_ONE_SIM,
        vol.Required(ATTR_SMS_ID): vol.All(
            cv.string, vol.Match(r"^[0-9A-Za-z-]+$", msg="not an SMS id")
        ),
    }
)
LIST_SMS_SCHEMA: Final = vol.Schema(
    {
        **_ONE_SIM,
        vol.Optional(ATTR_LIMIT, default=DEFAULT_LIST_LIMIT): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=MAX_LIST_LIMIT)
        ),
        vol.Optional(ATTR_DIRECTION, default=DIRECTION_ALL): vol.In(
            [DIRECTION_ALL, *(direction.value for direction in SmsDirection)]
        ),
    }
)
TOP_UP_SCHEMA: Final = vol.Schema({**_ONE_SIM, vol.Required(ATTR_CONFIRM): cv.boolean})
LIST_EVENTS_SCHEMA: Final = vol.Schema(
    {
        **_ONE_SIM,
        vol.Optional(ATTR_LIMIT, default=DEFAULT_LIST_LIMIT): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=MAX_LIST_LIMIT)
        ),
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SimTarget:
    """A SIM an action may talk to: in a loaded account, with its device if any."""

    entry: OneNceConfigEntry
    iccid: str
    device_id: str | None


def _unknown_sim(sim: str) -> ServiceValidationError:
    return ServiceValidationError(
        translation_domain=DOMAIN,
        translation_key="unknown_sim",
        translation_placeholders={"sim": sim},
    )


def _resolve_targets(hass: HomeAssistant, data: dict[str, Any]) -> list[SimTarget]:
    """Turn device ids and ICCIDs into SIMs of loaded accounts, each SIM once.

    A device names its SIM by the identifier (DOMAIN, ICCID); an ICCID may be
    given with or without its Luhn check digit. Anything not found in a loaded
    account's fleet is refused, naming what the user gave.
    """
    entries: list[OneNceConfigEntry] = hass.config_entries.async_loaded_entries(DOMAIN)
    registry = dr.async_get(hass)
    targets: dict[tuple[str, str], SimTarget] = {}

    for device_id in _values(data.get(ATTR_DEVICE_ID)):
        device = registry.async_get(device_id)
        target = None
        if device is not None:
            target = next(
                (
                    SimTarget(entry=entry, iccid=iccid, device_id=device.id)
                    for domain, iccid in device.identifiers
                    if domain == DOMAIN
                    for entry in entries
                    if device_belongs_to(device, entry.entry_id)
                    and iccid in (entry.runtime_data.fleet.data or {})
                ),
                None,
            )
        if target is None:
            name = device and (device.name_by_user or device.name)
            raise _unknown_sim(name or device_id)
        targets.setdefault((target.entry.entry_id, target.iccid), target)

    for value in _values(data.get(ATTR_ICCID)):
        found = next(
            (
                (entry, sim.iccid)
                for entry in entries
                for sim in (entry.runtime_data.fleet.data or {}).values()
                if value in (sim.iccid, sim.iccid_with_luhn)
            ),
            None,
        )
        if found is None:
            raise _unknown_sim(value)
        entry, iccid = found
        device = device_by_identifier(registry, entry.entry_id, (DOMAIN, iccid))
        targets.setdefault(
            (entry.entry_id, iccid),
            SimTarget(
                entry=entry,
                iccid=iccid,
                device_id=device.id if device is not None else None,
            ),
        )
    return list(targets.values())


def _values(value: str | list[str] | None) -> list[str]:
    """Read a one-or-many field, ignoring blanks a UI list may leave."""
    items = value if isinstance(value, list) else [value] if value else []
    return [item.strip() for item in items if item.strip()]


def _resolve_one(hass: HomeAssistant, data: dict[str, Any]) -> SimTarget:
    """Resolve an action that works on exactly one SIM."""
    targets = _resolve_targets(hass, data)
    if len(targets) != 1:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="one_sim_needed"
        )
    return targets[0]


def _expiry(data: dict[str, Any]) -> datetime | None:
    """Turn a validity period or a point in time into an aware datetime.

    A datetime without a zone means Home Assistant's local time, as
    everywhere else in its UI and automations. A duration of zero or less is
    refused in its own words: "00:00:00" is most likely a time of day typed
    into a duration, and "expires at <now>" would not tell the user that.
    """
    value: timedelta | datetime | None = data.get(ATTR_EXPIRY, data.get(ATTR_EXPIRY_AT))
    if isinstance(value, timedelta):
        if value <= timedelta(0):
            raise ServiceValidationError(
                translation_domain=DOMAIN, translation_key="expiry_not_positive"
            )
        return dt_util.utcnow() + value
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt_util.get_default_time_zone())
    return value


async def _async_send_sms(call: ServiceCall) -> ServiceResponse:
    """Send one message to every target, after all of them passed the checks."""
    data = call.data
    targets = _resolve_targets(call.hass, dict(data))
    if not targets:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="no_target"
        )
    type_name: str | None = data.get(ATTR_SOURCE_ADDRESS_TYPE)
    sms = OutgoingSms(
        message=data[ATTR_MESSAGE],
        encoding=data[ATTR_ENCODING],
        udh=data.get(ATTR_UDH) or None,
        source_address=data.get(ATTR_SOURCE_ADDRESS),
        source_address_type=SOURCE_ADDRESS_TYPES[type_name] if type_name else None,
        expires=_expiry(dict(data)),
    )
    prepared = await async_prepare_sms(
        sms, [(target.entry, target.iccid) for target in targets]
    )
    # What went out so far: a later failure names it, since it cannot be undone.
    done: list[SentSms] = []
    messages: list[JsonValueType] = []
    for target, ready in zip(targets, prepared, strict=True):
        sent = await async_send_prepared(ready, sent_before=done)
        done.append(sent)
        messages.append(
            {
                "iccid": target.iccid,
                "device_id": target.device_id,
                # The ids delivery reports carry as `sms_id`: decimal digits, as
                # text (1NCE's ids outgrow a JavaScript number), so that a
                # template can match `trigger.event.data.sms_id in sms_ids`.
                "sms_ids": list(sent.sms_ids),
                "parts": len(sent.sms_ids),
                "encoding": sent.encoding.value,
            }
        )
    return {"messages": messages}


async def _async_cancel_sms(call: ServiceCall) -> None:
    """Withdraw an MT SMS that 1NCE still holds for delivery."""
    target = _resolve_one(call.hass, dict(call.data))
    sms_id: str = call.data[ATTR_SMS_ID]
    try:
        await target.entry.runtime_data.client.async_cancel_sms(target.iccid, sms_id)
    except (OneNceNotFoundError, OneNceInvalidRequestError) as err:
        # 1NCE refuses once the SMS is delivered, expired or otherwise final.
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="sms_not_cancelable",
            translation_placeholders={
                "sms_id": sms_id,
                "sim": target.iccid,
                "error": error_text(err),
            },
        ) from err
    except OneNceError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="cancel_failed",
            translation_placeholders={"sms_id": sms_id, "error": error_text(err)},
        ) from err


def _sms_item(sms: Sms) -> JsonObjectType:
    """Describe one SMS the way the Portal's SMS tab shows it."""
    payload = sms.payload
    dcs = sms.dcs if sms.dcs is not None else 0
    text: str | None
    if payload is None:
        text = None
    elif sms.direction is SmsDirection.MO:
        text = decode_payload(payload, dcs)
    else:
        # 1NCE stores what we sent: text for 7-bit and UCS-2, hex for binary.
        text = None if encoding_for_dcs(dcs) is Encoding.BINARY else payload
    return {
        "id": sms.sms_id,
        "direction": sms.direction.value if sms.direction is not None else None,
        "status": sms.status.value if sms.status is not None else None,
        "status_id": sms.status_id,
        "submit_date": _iso(sms.submit_date),
        "final_date": _iso(sms.final_date),
        "source_address": sms.source_address,
        "dcs": sms.dcs,
        "payload": payload,
        "text": text,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def _ask_1nce[T](target: SimTarget, failed_key: str, request: Awaitable[T]) -> T:
    """Await one request about a SIM; a failure fails the action, translated."""
    try:
        return await request
    except OneNceError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key=failed_key,
            translation_placeholders={"sim": target.iccid, "error": error_text(err)},
        ) from err


async def _async_all_sms(client: OneNceClient, iccid: str) -> list[Sms]:
    """Read every page of the SIM's SMS list, each SMS once.

    Reading stops at a short page, at a page with nothing new (a server that
    ignores `page` would otherwise be asked MAX_SMS_PAGES times for the same
    SMS) or after MAX_SMS_PAGES pages. The last is logged: the answer may
    then lack SMS, and whoever wonders why should find the reason.
    """
    found: dict[SmsId, Sms] = {}
    for page in range(1, MAX_SMS_PAGES + 1):
        items = await client.async_list_sms(iccid, page=page, per_page=MAX_LIST_LIMIT)
        new = {sms.sms_id: sms for sms in items if sms.sms_id not in found}
        found.update(new)
        if len(items) < MAX_LIST_LIMIT or not new:
            break
    else:
        LOGGER.warning(
            "Listing the SMS of %s stopped after %d pages (%d SMS); any further "
            "SMS 1NCE keeps for it were not read",
            iccid,
            MAX_SMS_PAGES,
            len(found),
        )
    return list(found.values())


async def _async_list_sms(call: ServiceCall) -> ServiceResponse:
    """Return the SIM's recent SMS, newest first: the Portal's SMS tab."""
    target = _resolve_one(call.hass, dict(call.data))
    direction: str = call.data[ATTR_DIRECTION]
    items = await _ask_1nce(
        target,
        "list_failed",
        _async_all_sms(target.entry.runtime_data.client, target.iccid),
    )
    if direction != DIRECTION_ALL:
        items = [sms for sms in items if sms.direction == direction]
    epoch = dt_util.utc_from_timestamp(0)
    items.sort(
        key=lambda sms: (sms.submit_date or epoch, int(sms.sms_id)), reverse=True
    )
    return {"sms": [_sms_item(sms) for sms in items[: call.data[ATTR_LIMIT]]]}


def _event_item(event: SimEvent) -> JsonObjectType:
    """Describe one event the way the Portal's SIM page lists it."""
    return {
        "id": event.event_id,
        "timestamp": _iso(event.timestamp),
        "type": event.event_type,
        "description": event.description,
        "severity": event.severity,
        "source": event.source,
        "alert": event.alert,
        "operator": event.operator,
        "country": event.country,
    }


async def _async_list_events(call: ServiceCall) -> ServiceResponse:
    """Return the SIM's recent network events, newest first: the Portal's list."""
    target = _resolve_one(call.hass, dict(call.data))
    limit: int = call.data[ATTR_LIMIT]
    events = await _ask_1nce(
        target,
        "events_failed",
        target.entry.runtime_data.client.async_get_events(
            target.iccid, page_size=limit
        ),
    )
    epoch = dt_util.utc_from_timestamp(0)
    events.sort(key=lambda event: event.timestamp or epoch, reverse=True)
    return {"events": [_event_item(event) for event in events[:limit]]}


async def _async_top_up(call: ServiceCall) -> None:
    """Order a billed top-up, only when the caller confirmed the cost."""
    if not call.data[ATTR_CONFIRM]:
        raise ServiceValidationError(
            translation_domain=DOMAIN, translation_key="top_up_not_confirmed"
        )
    target = _resolve_one(call.hass, dict(call.data))
    runtime = target.entry.runtime_data
    await _ask_1nce(target, "top_up_failed", runtime.client.async_top_up(target.iccid))
    runtime.details.request_soon(target.iccid)


def async_setup_services(hass: HomeAssistant) -> None:
    """Register the actions once for the domain, whether or not an entry loaded."""
    hass.services.async_register(
        DOMAIN,
        SERVICE_SEND_SMS,
        _async_send_sms,
        schema=SEND_SMS_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN, SERVICE_CANCEL_SMS, _async_cancel_sms, schema=CANCEL_SMS_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_LIST_SMS,
        _async_list_sms,
        schema=LIST_SMS_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN, SERVICE_TOP_UP, _async_top_up, schema=TOP_UP_SCHEMA
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_LIST_EVENTS,
        _async_list_events,
        schema=LIST_EVENTS_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
