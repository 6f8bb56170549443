"""A pushed event on its own: the connection 1NCE's status would show after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from custom_components.one_nce.api import Connectivity, ConnectivityStatus
from custom_components.one_nce.api.records import (
    NetworkEvent,
    NetworkEventType,
    QuotaService,
)
from custom_components.one_nce.polling.network_events import (
    connectivity_after,
    enabled_after,
    event_time,
    quota_services,
    sim_event_of,
)

AT = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
ONLINE = Connectivity(
    status=ConnectivityStatus.ONLINE,
    status_text="ONLINE",
    operator="Telekom",
    operator_country="Germany",
    country="Germany",
    country_iso="de",
    mcc="262",
    radio_access_type="4G",
    ue_ip_address="10.0.0.1",
)
OFFLINE = Connectivity(status=ConnectivityStatus.OFFLINE, status_text="OFFLINE")
UNKNOWN_WORD = Connectivity(status=None, status_text="PARKED")


def event(kind: NetworkEventType, **fields: object) -> NetworkEvent:
    return NetworkEvent(
        record_id=str(fields.pop("record_id", "17254295")),
        iccid="8988228066000000001",
        timestamp=fields.pop("timestamp", AT),  # type: ignore[arg-type]
        event_type=kind,
        type_id=fields.pop("type_id", None),  # type: ignore[arg-type]
        description=fields.pop("description", None),  # type: ignore[arg-type]
        **fields,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("before", "kind", "status"),
    [
        (OFFLINE, NetworkEventType.ATTACH, ConnectivityStatus.ATTACHED),
        (UNKNOWN_WORD, NetworkEventType.LOCATION_UPDATE, ConnectivityStatus.ATTACHED),
        (ONLINE, NetworkEventType.ATTACH, ConnectivityStatus.ONLINE),
        (OFFLINE, NetworkEventType.PDP_CONTEXT_CREATED, ConnectivityStatus.ONLINE),
        (ONLINE, NetworkEventType.PDP_CONTEXT_DELETED, ConnectivityStatus.ATTACHED),
        (ONLINE, NetworkEventType.BLOCKED, ConnectivityStatus.BLOCKED),
    ],
)
def test_each_event_leaves_the_status_1nce_would_show(
    before: Connectivity, kind: NetworkEventType, status: ConnectivityStatus
) -> None:
    after = connectivity_after(before, event(kind))

    assert after is not None
    assert after.status is status
    assert after.status_text == status.value.upper()


@pytest.mark.parametrize(
    "kind",
    [
        NetworkEventType.QUOTA_USED_UP,
        NetworkEventType.SIM_DISABLED,
        NetworkEventType.SIM_ENABLED,
        NetworkEventType.OTHER,
    ],
)
def test_events_that_do_not_touch_the_connection_say_nothing(
    kind: NetworkEventType,
) -> None:
    assert connectivity_after(ONLINE, event(kind)) is None


def test_a_new_session_has_its_own_radio_and_no_old_address() -> None:
    attached = connectivity_after(ONLINE, event(NetworkEventType.PDP_CONTEXT_DELETED))
    assert attached is not None
    assert (attached.radio_access_type, attached.ue_ip_address) == (None, None)

    online = connectivity_after(
        attached, event(NetworkEventType.PDP_CONTEXT_CREATED, rat="NB-IoT")
    )
    assert online is not None
    assert (online.radio_access_type, online.ue_ip_address) == ("NB-IoT", None)
    # A session's update with a radio keeps the session's address.
    updated = connectivity_after(
        ONLINE, event(NetworkEventType.PDP_CONTEXT_CREATED, rat="LTE-M")
    )
    assert updated is not None
    assert (updated.radio_access_type, updated.ue_ip_address) == ("LTE-M", "10.0.0.1")


def test_a_new_network_replaces_the_old_ones_details() -> None:
    after = connectivity_after(
        ONLINE,
        event(NetworkEventType.LOCATION_UPDATE, operator="Orange", country="France"),
    )

    assert after is not None
    assert (after.operator, after.operator_country) == ("Orange", None)
    assert (after.country, after.country_iso, after.mcc) == ("France", None, None)
    same = connectivity_after(
        ONLINE,
        event(NetworkEventType.LOCATION_UPDATE, operator="Telekom", country="Germany"),
    )
    assert same == ONLINE


def test_the_event_reads_as_the_event_log_lists_it() -> None:
    listed = sim_event_of(
        event(
            NetworkEventType.PDP_CONTEXT_CREATED,
            description="Create PDP Context",
            alert=True,
            operator="Vodafone",
            country="Germany",
        )
    )

    assert listed.event_id == 17254295
    assert listed.event_type == "Create PDP Context"
    assert listed.timestamp == AT
    assert listed.alert
    assert (listed.operator, listed.country) == ("Vodafone", "Germany")


@pytest.mark.parametrize(
    ("kind", "type_id", "name"),
    [
        (NetworkEventType.PDP_CONTEXT_DELETED, 5, "Delete PDP Context"),
        (NetworkEventType.SIM_DISABLED, 43, "Endpoint disabled"),
        (NetworkEventType.OTHER, 29, "Event 29"),
        (NetworkEventType.OTHER, None, "Event"),
    ],
)
def test_an_event_sent_with_ids_only_reads_as_1nce_names_its_type(
    kind: NetworkEventType, type_id: int | None, name: str
) -> None:
    listed = sim_event_of(event(kind, type_id=type_id, record_id="not-a-number"))

    assert listed.event_type == name
    assert listed.event_id is None


def test_a_time_without_a_zone_means_utc() -> None:
    naive = event(NetworkEventType.ATTACH, timestamp=AT.replace(tzinfo=None))

    assert event_time(naive) == AT
    assert event_time(event(NetworkEventType.ATTACH)) == AT
    later = AT.astimezone(UTC) + timedelta(hours=1)
    assert event_time(event(NetworkEventType.ATTACH, timestamp=later)) == later


def test_quota_events_name_their_quota_or_both() -> None:
    assert quota_services(
        event(NetworkEventType.QUOTA_USED_UP, quota_service=QuotaService.SMS)
    ) == (QuotaService.SMS,)
    assert quota_services(event(NetworkEventType.QUOTA_THRESHOLD_REACHED)) == (
        QuotaService.SMS,
        QuotaService.DATA,
    )
    assert quota_services(event(NetworkEventType.ATTACH)) == ()


def test_enabling_and_disabling_say_so() -> None:
    assert enabled_after(event(NetworkEventType.SIM_ENABLED)) is True
    assert enabled_after(event(NetworkEventType.SIM_DISABLED)) is False
    assert enabled_after(event(NetworkEventType.BLOCKED)) is None
