"""What Home Assistant hears of received SMS and delivery reports: the last step.

The inbox hands each message here once (see its docstring for what "once"
means across a crash), whichever channel brought it. Each becomes one bus
event, for automations that listen to any SIM, and dispatcher signals: one
for its SIM's event entity, which device pages and the automation editor
offer, and, for delivery reports, one for the whole account, which the
delivery tracker follows. Received payloads are decoded here, after their
parts were put together. Nothing here calls back up the chain.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers.dispatcher import async_dispatcher_send

from ..api import DeliveryReport, DeliveryStatus
from ..api.records import NetworkEvent, NetworkEventType
from ..api.sms import decode_parts
from ..compat import device_by_identifier
from ..const import (
    DOMAIN,
    EVENT_DELIVERY_REPORT,
    EVENT_NETWORK_EVENT,
    EVENT_SMS_RECEIVED,
)
from .inbox import InboundSms

EVENT_TYPE_RECEIVED: Final = "received"
DELIVERY_EVENT_TYPES: Final = [status.value for status in DeliveryStatus]
NETWORK_EVENT_TYPES: Final = [kind.value for kind in NetworkEventType]


def sms_signal(entry_id: str, iccid: str) -> str:
    """Name the dispatcher signal for SMS received from one SIM of one entry."""
    return f"{DOMAIN}_sms_received_{entry_id}_{iccid}"


def report_signal(entry_id: str, iccid: str) -> str:
    """Name the dispatcher signal for delivery reports of SMS sent to one SIM."""
    return f"{DOMAIN}_delivery_report_{entry_id}_{iccid}"


def reports_signal(entry_id: str) -> str:
    """Name the signal that carries every announced `DeliveryReport` of an entry."""
    return f"{DOMAIN}_delivery_reports_{entry_id}"


def network_event_signal(entry_id: str, iccid: str) -> str:
    """Name the dispatcher signal (payload: `NetworkEvent`) of one SIM's network events."""
    return f"{DOMAIN}_network_event_{entry_id}_{iccid}"


def network_event_data(event: NetworkEvent) -> dict[str, Any]:
    """Describe a network event as its bus event and entity show it."""
    data: dict[str, Any] = {
        "iccid": event.iccid,
        "event_type": event.event_type.value,
        "type_id": event.type_id,
        "description": event.description,
        "timestamp": event.timestamp.isoformat(),
        "alert": event.alert,
    }
    optional: dict[str, Any] = {
        "operator": event.operator,
        "country": event.country,
        "rat": event.rat,
        "quota_service": event.quota_service.value if event.quota_service else None,
        "quota_left": event.quota_left,
    }
    data.update({key: value for key, value in optional.items() if value is not None})
    return data


def _isoformat(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class Announcer:
    """Fire the events and signals of one entry's received messages."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Announce for the entry whose devices the messages belong to."""
        self._hass = hass
        self._entry_id = entry_id

    def _device_id(self, iccid: str) -> str | None:
        registry = dr.async_get(self._hass)
        device = device_by_identifier(registry, self._entry_id, (DOMAIN, iccid))
        return device.id if device is not None else None

    @callback
    def sms_received(self, message: InboundSms) -> None:
        """Announce a received SMS (all its parts, or what came of them)."""
        first = message.parts[0]
        data: dict[str, Any] = {
            "device_id": self._device_id(message.iccid),
            "iccid": message.iccid,
            "sms_id": first.sms_id,
            "text": decode_parts([(part.payload, part.dcs) for part in message.parts]),
            "payload": "".join(part.payload for part in message.parts),
            "dcs": first.dcs,
            "source_address": first.source_address,
            "dest_address": first.dest_address,
            "submit_date": first.submit_date,
            "parts": len(message.parts),
            "complete": message.complete,
        }
        self._hass.bus.async_fire(EVENT_SMS_RECEIVED, data)
        async_dispatcher_send(
            self._hass, sms_signal(self._entry_id, message.iccid), data
        )

    @callback
    def delivery_report(self, report: DeliveryReport) -> None:
        """Announce what became of an SMS sent to one of the entry's SIMs.

        `sms_id` is the id `send_sms` returned for the SMS, whichever
        platform or channel reported it; `report_id`, the report's own id,
        is there only where it is another (Platform 2.0's pushed reports).
        """
        data: dict[str, Any] = {
            "device_id": self._device_id(report.iccid),
            "iccid": report.iccid,
            "sms_id": report.sms_id,
            "status": report.status.value,
            "status_id": report.status_id,
            "submit_date": _isoformat(report.submit_date),
            "final_date": _isoformat(report.final_date),
        }
        if report.report_id is not None and report.report_id != report.sms_id:
            data["report_id"] = report.report_id
        self._hass.bus.async_fire(EVENT_DELIVERY_REPORT, data)
        async_dispatcher_send(
            self._hass, report_signal(self._entry_id, report.iccid), data
        )
        async_dispatcher_send(self._hass, reports_signal(self._entry_id), report)

    @callback
    def network_event(self, event: NetworkEvent) -> None:
        """Announce a live network event of one of the entry's SIMs."""
        self._hass.bus.async_fire(
            EVENT_NETWORK_EVENT,
            {"device_id": self._device_id(event.iccid), **network_event_data(event)},
        )
        async_dispatcher_send(
            self._hass, network_event_signal(self._entry_id, event.iccid), event
        )
