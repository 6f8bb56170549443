"""What Home Assistant hears of received SMS and delivery reports.

Each message becomes one bus event, for automations that listen to any SIM,
and one dispatcher signal for its SIM's event entity, which device pages and
the automation editor offer. This is the last step of the one-way path
(view -> parse -> SIM check -> inbox -> here): received payloads are decoded
here, after their parts were put together.

Delivery reports reach this module from two sides, pushed by 1NCE and found
by polling, and must come out once: `async_dispatch_delivery_report` is the one
door for both.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final, Literal

from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_send

from .api.forwarder import FINAL_STATUSES, DeliveryStatus
from .api.sms import decode_payload
from .compat import device_by_identifier
from .const import DOMAIN, EVENT_DELIVERY_REPORT, EVENT_SMS_RECEIVED, LOGGER
from .coordinator import OneNceConfigEntry
from .inbox import InboundSms, StoredPart
from .receiver import get_receiver

EVENT_TYPE_RECEIVED: Final = "received"
DELIVERY_EVENT_TYPES: Final = [status.value for status in DeliveryStatus]

type ReportSource = Literal["push", "poll"]


def sms_signal(entry_id: str, iccid: str) -> str:
    """Name the dispatcher signal for SMS received from one SIM of one entry."""
    return f"{DOMAIN}_sms_received_{entry_id}_{iccid}"


def report_signal(entry_id: str, iccid: str) -> str:
    """Name the dispatcher signal for delivery reports of SMS sent to one SIM."""
    return f"{DOMAIN}_delivery_report_{entry_id}_{iccid}"


class ReceiverNotReadyError(HomeAssistantError):
    """The entry is not loaded, so nothing can be recorded for it now."""


def _device_id(hass: HomeAssistant, entry_id: str, iccid: str) -> str | None:
    device = device_by_identifier(dr.async_get(hass), entry_id, (DOMAIN, iccid))
    return device.id if device is not None else None


def _isoformat(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def decode_parts(parts: tuple[StoredPart, ...]) -> str | None:
    """Return the text of the parts, or None when they are binary.

    Parts are joined before decoding, as UCS-2 text may split a character
    across two parts; only parts of mixed coding are decoded one by one.
    """
    if len({part.dcs for part in parts}) == 1:
        return decode_payload("".join(part.payload for part in parts), parts[0].dcs)
    texts = [decode_payload(part.payload, part.dcs) for part in parts]
    if any(text is None for text in texts):
        return None
    return "".join(text for text in texts if text is not None)


@callback
def async_fire_sms_received(
    hass: HomeAssistant, entry: OneNceConfigEntry, message: InboundSms
) -> None:
    """Announce a received SMS (all its parts, or what came of them)."""
    first = message.parts[0]
    data: dict[str, Any] = {
        "device_id": _device_id(hass, entry.entry_id, message.iccid),
        "iccid": message.iccid,
        "sms_id": first.sms_id,
        "text": decode_parts(message.parts),
        "payload": "".join(part.payload for part in message.parts),
        "dcs": first.dcs,
        "source_address": first.source_address,
        "dest_address": first.dest_address,
        "submit_date": first.submit_date,
        "parts": len(message.parts),
        "complete": message.complete,
    }
    hass.bus.async_fire(EVENT_SMS_RECEIVED, data)
    async_dispatcher_send(hass, sms_signal(entry.entry_id, message.iccid), data)


async def async_dispatch_delivery_report(
    hass: HomeAssistant,
    entry: OneNceConfigEntry,
    *,
    iccid: str,
    sms_id: int,
    status: DeliveryStatus,
    status_id: int,
    submit_date: datetime | None,
    final_date: datetime | None,
    source: ReportSource,
) -> bool:
    """Announce what became of an SMS we sent, unless that was announced before.

    Returns True if an event fired. A status already announced for the SMS
    fires nothing, and after a final status (delivered, failed, expired,
    canceled) nothing more fires for it, whether the report was pushed or
    polled; that record is kept on disk for 8 days, across restarts. Raises
    `ReceiverNotReadyError` while the entry is not loaded, and
    `HomeAssistantError` if the record could not be stored (nothing fired).
    """
    receiver = get_receiver(hass, entry.entry_id)
    if receiver is None:
        raise ReceiverNotReadyError(
            translation_domain=DOMAIN, translation_key="receiver_not_ready"
        )
    data: dict[str, Any] = {
        "device_id": _device_id(hass, entry.entry_id, iccid),
        "iccid": iccid,
        "sms_id": sms_id,
        "status": status.value,
        "status_id": status_id,
        "submit_date": _isoformat(submit_date),
        "final_date": _isoformat(final_date),
    }

    @callback
    def fire() -> None:
        hass.bus.async_fire(EVENT_DELIVERY_REPORT, data)
        async_dispatcher_send(hass, report_signal(entry.entry_id, iccid), data)

    try:
        fired = await receiver.inbox.async_claim_report(iccid, sms_id, status, fire)
    except OSError as err:
        raise HomeAssistantError(
            translation_domain=DOMAIN,
            translation_key="inbox_write_failed",
            translation_placeholders={"error": str(err)},
        ) from err
    if not fired:
        LOGGER.debug("Delivery report %s for SMS %s (%s) known", status, sms_id, source)
    if status in FINAL_STATUSES:
        entry.runtime_data.delivery.forget(iccid, str(sms_id))
    return fired
