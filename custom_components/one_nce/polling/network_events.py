"""What a pushed network event says about a SIM, without asking 1NCE.

The Data Streamer's event stream tells when a SIM attaches, opens or closes a
data session, is blocked, enabled or disabled. This module turns one such
event into what the SIM's status endpoint would answer after it, and into
the entry its event log would show, so the details coordinator can apply it
without a request. Plain Python, no Home Assistant.

1NCE's status knows four states: ONLINE (a data session is open), ATTACHED
(the network saw the SIM; shown until the visited network reports it
inactive, after a day or two), OFFLINE and BLOCKED. No event says "inactive",
so no event makes a SIM OFFLINE: only a poll does.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Final

from ..api import Connectivity, ConnectivityStatus, SimEvent
from ..api.records import NetworkEvent, NetworkEventType, QuotaService

# Events that show the network sees the SIM: an OFFLINE (or unknown) SIM is
# ATTACHED after them; ONLINE and BLOCKED stay as they are (a location update
# happens during data sessions too, and does not lift a block).
_SEEN: Final = frozenset({NetworkEventType.ATTACH, NetworkEventType.LOCATION_UPDATE})
_KEEPS_ON_SEEN: Final = frozenset(
    {ConnectivityStatus.ONLINE, ConnectivityStatus.ATTACHED, ConnectivityStatus.BLOCKED}
)

QUOTA_EVENTS: Final = frozenset(
    {NetworkEventType.QUOTA_THRESHOLD_REACHED, NetworkEventType.QUOTA_USED_UP}
)

# 1NCE's own names for the event types, for events that came without one
# (Platform 2.0 streams send ids only); the event log shows these words.
_NAMES: Final = {
    NetworkEventType.ATTACH: "Update GPRS location",
    NetworkEventType.LOCATION_UPDATE: "Update location",
    NetworkEventType.PDP_CONTEXT_CREATED: "Create PDP Context",
    NetworkEventType.PDP_CONTEXT_DELETED: "Delete PDP Context",
    NetworkEventType.QUOTA_THRESHOLD_REACHED: "Quota threshold reached",
    NetworkEventType.QUOTA_USED_UP: "Quota used up",
    NetworkEventType.SIM_ENABLED: "Endpoint enabled",
    NetworkEventType.SIM_DISABLED: "Endpoint disabled",
    NetworkEventType.BLOCKED: "Endpoint blocked",
}


def aware(when: datetime) -> datetime:
    """Return a time from 1NCE, in UTC if it came without a zone (as it means)."""
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


def event_time(event: NetworkEvent) -> datetime:
    """When the event happened, comparable with Home Assistant's clock."""
    return aware(event.timestamp)


def connectivity_after(
    current: Connectivity, event: NetworkEvent
) -> Connectivity | None:
    """Return the SIM's connection as 1NCE's status would show it after `event`.

    None for an event that says nothing about the connection (quota, SIM
    enabled or disabled, and every other kind). The network named by the
    event replaces the one known; a session's radio and address go with it.
    """
    kind = event.event_type
    if kind is NetworkEventType.PDP_CONTEXT_CREATED:
        status = ConnectivityStatus.ONLINE
    elif kind is NetworkEventType.PDP_CONTEXT_DELETED:
        status = ConnectivityStatus.ATTACHED
    elif kind is NetworkEventType.BLOCKED:
        status = ConnectivityStatus.BLOCKED
    elif kind in _SEEN:
        status = (
            current.status
            if current.status in _KEEPS_ON_SEEN
            else ConnectivityStatus.ATTACHED
        )
    else:
        return None
    was_online = current.status is ConnectivityStatus.ONLINE
    after = replace(current, status=status, status_text=status.value.upper())
    if status is not ConnectivityStatus.ONLINE:
        # Radio and address belong to a data session, as the status shows them.
        after = replace(after, radio_access_type=None, ue_ip_address=None)
    elif not was_online or event.rat is not None:
        after = replace(
            after,
            radio_access_type=event.rat
            or (current.radio_access_type if was_online else None),
            ue_ip_address=current.ue_ip_address if was_online else None,
        )
    if event.operator is not None and event.operator != current.operator:
        after = replace(after, operator=event.operator, operator_country=None)
    if event.country is not None and event.country != current.country:
        after = replace(after, country=event.country, country_iso=None, mcc=None)
    return after


def sim_event_of(event: NetworkEvent) -> SimEvent:
    """Return the event as the SIM's event log would list it.

    Its type is 1NCE's name for it (the words the log uses), or, for an event
    sent with ids only, the name 1NCE gives that type.
    """
    name = event.description or _NAMES.get(event.event_type)
    if name is None:
        name = f"Event {event.type_id}" if event.type_id is not None else "Event"
    return SimEvent(
        event_id=int(event.record_id) if event.record_id.isdigit() else None,
        timestamp=event.timestamp,
        event_type=name,
        description=event.description,
        severity=None,
        source=None,
        alert=event.alert,
        operator=event.operator,
        country=event.country,
    )


def quota_services(event: NetworkEvent) -> tuple[QuotaService, ...]:
    """Return the quotas a quota event is about (both if it does not say which)."""
    if event.event_type not in QUOTA_EVENTS:
        return ()
    if event.quota_service is not None:
        return (event.quota_service,)
    return (QuotaService.SMS, QuotaService.DATA)


def enabled_after(event: NetworkEvent) -> bool | None:
    """Whether the SIM is enabled after the event; None if it does not say."""
    if event.event_type is NetworkEventType.SIM_ENABLED:
        return True
    if event.event_type is NetworkEventType.SIM_DISABLED:
        return False
    return None
