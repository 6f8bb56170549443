"""Tests for reading what the Data Streamer pushes: usage, network events, SMS events.

The fixtures are 1NCE's v200 examples (nested) and the same records in the
flat shape of the Platform 2.0 migration pages, which carries ids only.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

import pytest

from custom_components.one_nce.api import (
    DeliveryStatus,
    NetworkEvent,
    NetworkEventType,
    QuotaService,
    StreamBatch,
    StreamerPayloadError,
    UsageKind,
    UsageRecord,
    parse_stream_batch,
)
from custom_components.one_nce.api.forwarder import (
    parse_delivery_report,
    parse_mo_sms,
)

from .conftest import read_api_fixture

ICCID = "8988228066605682521"
START = datetime(2024, 12, 15, 6, 24, 47, tzinfo=UTC)
END = datetime(2024, 12, 15, 6, 25, 10, tzinfo=UTC)
ABOVE_2_53 = 2**53 + 1  # the first integer a float cannot hold

_DELETE = object()


def changed(base: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    """Return a copy of `base` with the dotted `path` set to `value` (or deleted)."""
    data = copy.deepcopy(base)
    *parents, last = path.split(".")
    target = data
    for key in parents:
        target = target.setdefault(key, {})
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return data


def nested_data(**volume: object) -> dict[str, Any]:
    """A data usage record of the nested shape."""
    return {
        "id": 819948096,
        "start_timestamp": "2024-12-15T06:24:47.000Z",
        "end_timestamp": "2024-12-15T06:25:10.000Z",
        "traffic_type": {"id": 5, "description": "Data"},
        "volume": volume or {"total": 1, "rx": 0.75, "tx": 0.25},
        "sim": {"id": 10000299, "iccid": ICCID},
    }


def flat_data(**volume: object) -> dict[str, Any]:
    """The same record in the flat shape."""
    return {
        "id": "819948096",
        "start_timestamp": "2024-12-15T06:24:47.000Z",
        "end_timestamp": "2024-12-15T06:25:10.000Z",
        "traffic_type_id": 5,
        "sim_iccid": ICCID,
        **(
            {f"volume_{key}": value for key, value in volume.items()}
            or {"volume_total": 1, "volume_rx": 0.75, "volume_tx": 0.25}
        ),
    }


def nested_sms(tx: object = 1, rx: object = 0) -> dict[str, Any]:
    return {
        "id": 8884551,
        "start_timestamp": "2024-12-15T06:27:26Z",
        "end_timestamp": "2024-12-15T06:27:27Z",
        "traffic_type": {"id": 6, "description": "SMS"},
        "volume": {"total": 1, "rx": rx, "tx": tx},
        "endpoint": {"id": 100001494, "name": ICCID},
    }


def flat_sms(tx: object = 1, rx: object = 0) -> dict[str, Any]:
    return {
        "id": 8884551,
        "start_timestamp": "2024-12-15T06:27:26Z",
        "end_timestamp": "2024-12-15T06:27:27Z",
        "traffic_type_id": "6",
        "volume_total": 1,
        "volume_rx": rx,
        "volume_tx": tx,
        "endpoint_name": ICCID,
    }


def nested_event(type_id: object = 3, name: str | None = None) -> dict[str, Any]:
    event_type: dict[str, Any] = {"id": type_id}
    if name is not None:
        event_type["description"] = name
    return {
        "id": 12345679,
        "timestamp": "2024-12-13T12:48:24.000Z",
        "event_type": event_type,
        "alert": False,
        "description": "New PDP Context successfully activated",
        "sim": {"id": 10005527, "iccid": ICCID},
    }


def flat_event(type_id: object = 3) -> dict[str, Any]:
    return {
        "id": "12345679",
        "timestamp": "2024-12-13T12:48:24.000Z",
        "event_type_id": type_id,
        "alert": False,
        "description": "New PDP Context successfully activated",
        "endpoint_name": ICCID,
    }


# Platform 1.0 forwarder shapes (the Data Streamer's SMS events are the same).
MO_SMS: dict[str, Any] = {
    "id": 6202,
    "payload": "message text",
    "submit_date": "2024-12-16 07:01:00",
    "dest_address": "12345",
    "source_address": "882285100000123",
    "dcs": 0,
    "pid": 0,
    "endpoint": {"id": 8765432, "name": ICCID},
    "organisation": {"id": 4567},
}
REPORT: dict[str, Any] = {
    "id": 2819195,
    "submit_date": "2024-12-15T16:55:20Z",
    "final_date": "2024-12-15T16:55:31Z",
    "organisation": {"id": 4567},
    "endpoint": {"id": 8765432, "name": ICCID},
    "status": {"id": 4, "status": "DELIVERED"},
}


def only_usage(record: object) -> UsageRecord:
    batch = parse_stream_batch([record])
    assert (batch.unreadable, batch.unknown) == (0, 0), batch.unreadable_reasons
    assert len(batch.usage) == 1
    return batch.usage[0]


def only_event(record: object) -> NetworkEvent:
    batch = parse_stream_batch([record])
    assert (batch.unreadable, batch.unknown) == (0, 0), batch.unreadable_reasons
    assert len(batch.events) == 1
    return batch.events[0]


def counts(batch: StreamBatch) -> tuple[int, int, int, int, int, int]:
    """(usage, events, MO SMS, reports, unreadable, unknown)."""
    return (
        len(batch.usage),
        len(batch.events),
        len(batch.mo_sms),
        len(batch.reports),
        batch.unreadable,
        batch.unknown,
    )


def unreadable_reason(record: object) -> str:
    """The one reason a single record was counted unreadable."""
    batch = parse_stream_batch([record])
    assert counts(batch) == (0, 0, 0, 0, 1, 0)
    (reason,) = batch.unreadable_reasons
    return reason


# --- the documented examples ---------------------------------------------------


def test_v200_usage_example_reads_data_and_sms() -> None:
    batch = parse_stream_batch(read_api_fixture("streamer_usage_v200.json"))

    assert batch.usage == [
        UsageRecord(
            record_id="819948096",
            iccid=ICCID,
            start=START,
            end=END,
            kind=UsageKind.DATA,
            data_bytes=round(1.0049019 * 1_048_576),
            operator="Bite GSM",
            operator_id=78,
            country="Latvia",
            rat="4G",
        ),
        UsageRecord(
            record_id="8884551",
            iccid="8988228530100000216",
            start=datetime(2024, 12, 15, 6, 27, 26, tzinfo=UTC),
            end=datetime(2024, 12, 15, 6, 27, 27, tzinfo=UTC),
            kind=UsageKind.SMS,
            sms_mo=1,
            sms_mt=0,
            operator="LMT",
            operator_id=77,
            country="Latvia",
        ),
    ]
    assert counts(batch)[2:] == (0, 0, 0, 0)


def test_flat_usage_reads_as_the_nested_but_without_names() -> None:
    nested = parse_stream_batch(read_api_fixture("streamer_usage_v200.json")).usage
    flat = parse_stream_batch(read_api_fixture("streamer_usage_flat.json")).usage

    assert [
        UsageRecord(**{**_fields(rec), "operator": None, "country": None})
        for rec in nested
    ] == flat


def _fields(record: object) -> dict[str, Any]:
    return {name: getattr(record, name) for name in record.__slots__}  # type: ignore[attr-defined]


def test_v200_event_examples_read_quota_and_pdp_context() -> None:
    batch = parse_stream_batch(read_api_fixture("streamer_events_v200.json"))

    assert batch.events == [
        NetworkEvent(
            record_id="17254295",
            iccid="8988228066680001098",
            timestamp=datetime(2025, 10, 6, 3, 22, 7, 622000, tzinfo=UTC),
            event_type=NetworkEventType.QUOTA_USED_UP,
            type_id=19,
            description="Quota used up",
            alert=True,
            quota_service=QuotaService.DATA,
            quota_left=-0.6077737808227539,
        ),
        NetworkEvent(
            record_id="12345679",
            iccid="8988228066680001098",
            timestamp=datetime(2024, 12, 13, 12, 48, 24, tzinfo=UTC),
            event_type=NetworkEventType.PDP_CONTEXT_CREATED,
            type_id=3,
            description="Create PDP Context",
            operator="Vodafone",
            operator_id=3,
            country="Germany",
            rat="4G",
        ),
    ]


def test_flat_events_read_as_the_nested_with_the_event_text_for_a_name() -> None:
    nested = parse_stream_batch(read_api_fixture("streamer_events_v200.json")).events
    flat = parse_stream_batch(read_api_fixture("streamer_events_flat.json")).events

    assert flat == [
        NetworkEvent(
            **{
                **_fields(rec),
                "operator": None,
                "country": None,
                "description": text,
            }
        )
        for rec, text in zip(
            nested,
            [
                "Quota volume is completely used up and data access denied for endpoint.",
                "New PDP Context successfully activated with SGSN CP=10.0.0.1",
            ],
            strict=True,
        )
    ]


# --- the body --------------------------------------------------------------------


@pytest.mark.parametrize("body", ["[{}]", 3000, 1.5, None, True, b"[]"], ids=type)
def test_a_body_that_is_no_array_or_object_is_refused(body: object) -> None:
    with pytest.raises(StreamerPayloadError) as err:
        parse_stream_batch(body)

    assert err.value.reason == "body is not a JSON array or object"
    assert isinstance(err.value, ValueError)


def test_a_single_object_is_a_batch_of_one() -> None:
    assert parse_stream_batch(nested_data()) == parse_stream_batch([nested_data()])
    assert len(parse_stream_batch(nested_data()).usage) == 1


def test_read_only_mappings_read_as_dicts_do() -> None:
    record = nested_data()
    frozen = MappingProxyType(
        {
            **record,
            "sim": MappingProxyType(record["sim"]),
            "volume": MappingProxyType(record["volume"]),
        }
    )

    assert parse_stream_batch([frozen]) == parse_stream_batch([record])
    assert parse_stream_batch(frozen) == parse_stream_batch(record)


def test_an_empty_array_is_an_empty_batch() -> None:
    assert parse_stream_batch([]) == StreamBatch()


def test_each_kind_in_one_batch_goes_to_its_own_list() -> None:
    batch = parse_stream_batch(
        [nested_data(), flat_sms(), nested_event(), flat_event(), MO_SMS, REPORT]
    )

    assert counts(batch) == (2, 2, 1, 1, 0, 0)


def test_3000_records_are_all_read_and_keep_their_ids() -> None:
    records: list[dict[str, Any]] = []
    for n in range(1000):
        records.append(changed(nested_data(), "id", ABOVE_2_53 + 3 * n))
        records.append(changed(flat_sms(), "id", str(ABOVE_2_53 + 3 * n + 1)))
        records.append(changed(nested_event(n % 130), "id", ABOVE_2_53 + 3 * n + 2))

    batch = parse_stream_batch(records)

    assert counts(batch) == (2000, 1000, 0, 0, 0, 0)
    ids = {rec.record_id for rec in batch.usage} | {ev.record_id for ev in batch.events}
    assert ids == {str(ABOVE_2_53 + n) for n in range(3000)}


# --- usage ----------------------------------------------------------------------


@pytest.mark.parametrize("build", [nested_data, flat_data], ids=["nested", "flat"])
@pytest.mark.parametrize(
    ("volume", "expected"),
    [
        ({"total": 1, "rx": 0.75, "tx": 0.25}, 1_048_576),
        ({"total": "0.5", "rx": "0.5", "tx": "0"}, 524_288),
        ({"total": 0.0009765625}, 1024),  # 1 KiB: Platform 2.0's rounding step
        ({"total": 0.000001}, 1),  # DECIMAL(14,6)'s step, rounded to a byte
        ({"total": 0}, 0),
        ({"tx": 0.25, "rx": 0.5}, 786_432),  # no total: up plus down
        ({"rx": 2}, 2_097_152),
        ({"total": 1000.5}, 1_049_100_288),
    ],
)
def test_data_volume_is_mib_converted_to_bytes(
    build: Any, volume: dict[str, object], expected: int
) -> None:
    record = only_usage(build(**volume))

    assert record.kind is UsageKind.DATA
    assert record.data_bytes == expected
    assert (record.sms_mo, record.sms_mt) == (0, 0)


@pytest.mark.parametrize("build", [nested_sms, flat_sms], ids=["nested", "flat"])
@pytest.mark.parametrize(
    ("tx", "rx", "mo", "mt"),
    [
        (1, 0, 1, 0),  # tx: sent by the SIM (MO), as the Data Streamer docs say
        (0, 1, 0, 1),
        ("1.000000", "0.000000", 1, 0),  # DECIMAL(14,6) as text
        (2, 3, 2, 3),
        (None, 1, 0, 1),
    ],
)
def test_sms_usage_counts_tx_as_sent_and_rx_as_received(
    build: Any, tx: object, rx: object, mo: int, mt: int
) -> None:
    record = only_usage(build(tx=tx, rx=rx))

    assert record.kind is UsageKind.SMS
    assert (record.sms_mo, record.sms_mt, record.data_bytes) == (mo, mt, 0)


@pytest.mark.parametrize(
    ("traffic_type", "kind"),
    [
        ({"id": 5, "description": "Data"}, UsageKind.DATA),
        ({"id": "6", "description": "SMS"}, UsageKind.SMS),
        ({"description": "Data"}, UsageKind.DATA),  # Platform 1.0: a name alone
        ({"description": " sms "}, UsageKind.SMS),
        ({"name": "SMS"}, UsageKind.SMS),  # the docs' table calls it `name`
    ],
)
def test_traffic_type_is_read_by_id_or_by_name(
    traffic_type: dict[str, object], kind: UsageKind
) -> None:
    record = changed(nested_sms(), "traffic_type", traffic_type)

    assert only_usage(record).kind is kind


@pytest.mark.parametrize(
    "record",
    [
        changed(nested_data(), "traffic_type", {"id": 7, "description": "Voice"}),
        changed(nested_data(), "traffic_type", {"description": "Voice"}),
        changed(flat_data(), "traffic_type_id", 1),
    ],
    ids=["nested-id", "nested-name", "flat-id"],
)
def test_traffic_other_than_data_and_sms_is_unknown(record: dict[str, Any]) -> None:
    assert counts(parse_stream_batch([record])) == (0, 0, 0, 0, 0, 1)


def test_a_record_with_start_and_end_but_no_traffic_type_is_unreadable() -> None:
    record = changed(nested_data(), "traffic_type", _DELETE)

    assert unreadable_reason(record) == "traffic_type missing"


def test_end_falls_back_to_start() -> None:
    record = only_usage(changed(flat_sms(), "end_timestamp", None))

    assert record.end == record.start == datetime(2024, 12, 15, 6, 27, 26, tzinfo=UTC)


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (changed(nested_data(), "volume", {}), "volume missing"),
        (changed(nested_data(), "volume", _DELETE), "volume missing"),
        (changed(nested_data(), "volume.total", -1), "volume.total is negative"),
        (
            changed(nested_data(), "volume.total", "lots"),
            "volume.total is not a number",
        ),
        (changed(nested_data(), "volume", "1.5"), "volume is not an object"),
        (
            changed(flat_data(), "volume_total", True),
            "volume_total is a boolean, not a number",
        ),
        (nested_sms(tx=0.5), "volume.tx is not a whole number of SMS"),
        (nested_sms(tx=None, rx=None), "volume.tx and volume.rx missing"),
        (changed(nested_data(), "start_timestamp", _DELETE), "start_timestamp missing"),
        (
            changed(nested_data(), "end_timestamp", "2024-12-15T06:24:46Z"),
            "end_timestamp before start_timestamp",
        ),
        (changed(nested_data(), "sim", _DELETE), "sim.iccid missing"),
        (changed(nested_data(), "operator", "Bite"), "operator is not an object"),
        (
            changed(nested_data(), "operator", {"name": 78}),
            "operator.name is not a string",
        ),
        (changed(nested_data(), "traffic_type", 5), "traffic_type is not an object"),
        (
            changed(nested_data(), "traffic_type.id", "data"),
            "traffic_type.id is not an integer",
        ),
    ],
)
def test_usage_records_missing_what_they_need_are_unreadable(
    record: dict[str, Any], reason: str
) -> None:
    assert unreadable_reason(record) == reason


@pytest.mark.parametrize(
    ("operator", "expected"),
    [
        (
            {"id": 78, "name": "Bite GSM", "country": {"id": 110, "name": "Latvia"}},
            (78, "Bite GSM", "Latvia"),
        ),
        ({"id": 78, "country": {"id": 110}}, (78, None, None)),  # Platform 2.0
        ({"id": 78, "name": "Bite GSM", "country": None}, (78, "Bite GSM", None)),
        (None, (None, None, None)),
    ],
)
def test_usage_names_the_visited_network_where_1nce_does(
    operator: object, expected: tuple[object, ...]
) -> None:
    record = only_usage(changed(nested_data(), "operator", operator))

    assert (record.operator_id, record.operator, record.country) == expected


def test_flat_usage_names_the_network_where_1nce_does() -> None:
    data = flat_data()
    data.update(
        operator_id="78", operator_name="Bite GSM", operator_country_name="Latvia"
    )

    record = only_usage(data)

    assert (record.operator_id, record.operator, record.country) == (
        78,
        "Bite GSM",
        "Latvia",
    )


# --- ids, ICCIDs and timestamps -----------------------------------------------


RECORD_BUILDERS = {
    "data-nested": nested_data,
    "data-flat": flat_data,
    "sms-nested": nested_sms,
    "event-nested": nested_event,
    "event-flat": flat_event,
    "mo-sms": lambda: copy.deepcopy(MO_SMS),
    "report": lambda: copy.deepcopy(REPORT),
}


def read_ids(batch: StreamBatch) -> list[str]:
    return [
        *(rec.record_id for rec in batch.usage),
        *(ev.record_id for ev in batch.events),
        *(sms.sms_id for sms in batch.mo_sms),
        *(report.sms_id for report in batch.reports),
    ]


@pytest.mark.parametrize("kind", list(RECORD_BUILDERS))
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (ABOVE_2_53, "9007199254740993"),
        ("9007199254740993", "9007199254740993"),
        ("551734281731175386", "551734281731175386"),
        (2**63 - 1, "9223372036854775807"),
        (" 42 ", "42"),
        (0, "0"),
    ],
)
def test_ids_are_kept_exactly_as_digits(kind: str, raw: object, expected: str) -> None:
    batch = parse_stream_batch([changed(RECORD_BUILDERS[kind](), "id", raw)])

    assert read_ids(batch) == [expected]


@pytest.mark.parametrize("kind", list(RECORD_BUILDERS))
@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (819948096.0, "id is a float, which cannot hold a 64-bit id"),
        (float(ABOVE_2_53), "id is a float, which cannot hold a 64-bit id"),
        (-1, "id is negative"),
        ("-1", "id is not a string of digits"),
        ("12a", "id is not a string of digits"),
        ("1e5", "id is not a string of digits"),
        ("\u0661\u0662", "id is not a string of digits"),  # Arabic-Indic digits
        ("9" * 21, "id is not a string of digits"),
        (2**64, "id is out of range"),
        (True, "id is not an integer"),
        ([1], "id is not an integer"),
        ("  ", "id missing"),
        (None, "id missing"),
        (_DELETE, "id missing"),
    ],
)
def test_records_without_a_usable_id_are_unreadable(
    kind: str, raw: object, reason: str
) -> None:
    assert unreadable_reason(changed(RECORD_BUILDERS[kind](), "id", raw)) == reason


@pytest.mark.parametrize(
    ("path", "iccid"),
    [
        ("sim.iccid", "898822806660568252"),  # 18 digits
        ("sim.iccid", ICCID),  # 19
        ("sim.iccid", "89882280666056825210"),  # 20
        ("sim.iccid", "8988228066605682521012"),  # 22
        ("sim.iccid", f" {ICCID}\n"),
        ("sim_iccid", ICCID),
        ("endpoint.name", ICCID),
        ("endpoint_name", ICCID),
    ],
)
def test_the_iccid_is_read_from_the_sim_or_the_endpoint(path: str, iccid: str) -> None:
    record = changed(changed(nested_data(), "sim", _DELETE), path, iccid)

    assert only_usage(record).iccid == iccid.strip()


@pytest.mark.parametrize("blank", ["", "  ", None])
def test_a_blank_sim_iccid_falls_back_to_the_endpoint_name(blank: object) -> None:
    record = changed(nested_data(), "sim.iccid", blank)
    record["endpoint"] = {"id": 100000519, "name": ICCID}

    assert only_usage(record).iccid == ICCID


@pytest.mark.parametrize("blank", ["", "  ", None])
def test_a_record_whose_sim_and_endpoint_are_blank_is_unreadable(
    blank: object,
) -> None:
    record = changed(nested_data(), "sim.iccid", blank)
    record["endpoint"] = {"id": 100000519, "name": blank}

    assert unreadable_reason(record) == "sim.iccid missing"


def test_the_sims_iccid_wins_over_the_endpoint_name() -> None:
    record = changed(nested_data(), "endpoint", {"name": "8988228066605682599"})

    assert only_usage(record).iccid == ICCID


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        ("sim.iccid", int(ICCID), "sim.iccid is not a string"),
        ("sim.iccid", "89882280666056825", "sim.iccid is not an ICCID"),  # 17
        ("sim.iccid", "89882280666056825210123", "sim.iccid is not an ICCID"),  # 23
        ("sim.iccid", "8988228066605682521F", "sim.iccid is not an ICCID"),
        ("sim_iccid", 8.988228066605682e18, "sim.iccid is not a string"),
        ("endpoint.name", "greenhouse sensor", "endpoint.name is not an ICCID"),
        ("endpoint_name", int(ICCID), "endpoint.name is not a string"),
        ("sim", "8988228066605682521", "sim is not an object"),
    ],
)
def test_a_malformed_iccid_makes_the_record_unreadable(
    path: str, value: object, reason: str
) -> None:
    record = changed(changed(nested_data(), "sim", _DELETE), path, value)

    assert unreadable_reason(record) == reason


TIMESTAMP_FORMS = [
    "2024-12-15T06:24:47.000Z",
    "2024-12-15T06:24:47Z",
    "2024-12-15T06:24:47.000000z",
    "2024-12-15T07:24:47+01:00",
    "2024-12-15T07:24:47.000+0100",
    "2024-12-15T01:24:47-05:00",
    "2024-12-15 06:24:47",  # UTC, as the MO SMS example writes it
    "2024-12-15T06:24:47",
]


@pytest.mark.parametrize("text", TIMESTAMP_FORMS)
def test_usage_reads_every_timestamp_form_as_utc(text: str) -> None:
    record = only_usage(changed(nested_data(), "start_timestamp", text))

    assert record.start == START


@pytest.mark.parametrize("text", TIMESTAMP_FORMS)
def test_events_read_every_timestamp_form_as_utc(text: str) -> None:
    event = only_event(changed(flat_event(), "timestamp", text))

    assert event.timestamp == START


def test_milliseconds_are_kept() -> None:
    event = only_event(changed(nested_event(), "timestamp", "2024-12-15T06:24:47.622Z"))

    assert event.timestamp == START + timedelta(milliseconds=622)


@pytest.mark.parametrize(
    ("key", "value", "reason"),
    [
        (
            "start_timestamp",
            "yesterday",
            "start_timestamp: not a recognised date/time format",
        ),
        (
            "start_timestamp",
            "2024-13-01T00:00:00Z",
            "start_timestamp: date/time out of range",
        ),
        (
            "start_timestamp",
            1734243887,
            "start_timestamp: expected a date string, got int",
        ),
        (
            "end_timestamp",
            "2024-12-15T06:24:47+25:00",
            "end_timestamp: time zone offset out of range",
        ),
    ],
)
def test_bad_timestamps_make_the_record_unreadable(
    key: str, value: object, reason: str
) -> None:
    assert unreadable_reason(changed(nested_data(), key, value)) == reason


def test_an_event_without_a_timestamp_is_unreadable() -> None:
    assert unreadable_reason(changed(flat_event(), "timestamp", "")) == (
        "timestamp missing"
    )


# --- network events -------------------------------------------------------------

EVENT_IDS = [
    (1, NetworkEventType.LOCATION_UPDATE, None),
    (2, NetworkEventType.ATTACH, None),
    (3, NetworkEventType.PDP_CONTEXT_CREATED, None),
    (5, NetworkEventType.PDP_CONTEXT_DELETED, None),
    (8, NetworkEventType.SIM_ENABLED, None),
    (9, NetworkEventType.SIM_DISABLED, None),
    (11, NetworkEventType.BLOCKED, None),
    (18, NetworkEventType.QUOTA_THRESHOLD_REACHED, QuotaService.DATA),
    (19, NetworkEventType.QUOTA_USED_UP, QuotaService.DATA),
    (20, NetworkEventType.QUOTA_THRESHOLD_REACHED, QuotaService.SMS),
    (21, NetworkEventType.QUOTA_USED_UP, QuotaService.SMS),
    (100, NetworkEventType.QUOTA_USED_UP, QuotaService.DATA),
    (101, NetworkEventType.QUOTA_THRESHOLD_REACHED, QuotaService.DATA),
    (102, NetworkEventType.QUOTA_USED_UP, QuotaService.SMS),
    (103, NetworkEventType.QUOTA_THRESHOLD_REACHED, QuotaService.SMS),
    # Documented, but nothing a user acts on here: OTHER, with the id kept.
    (0, NetworkEventType.OTHER, None),
    (4, NetworkEventType.OTHER, None),
    (15, NetworkEventType.OTHER, None),
    (16, NetworkEventType.OTHER, None),
    (42, NetworkEventType.OTHER, None),
    (43, NetworkEventType.OTHER, None),
    (56, NetworkEventType.OTHER, None),
    (60, NetworkEventType.OTHER, None),
    (61, NetworkEventType.OTHER, None),
    (121, NetworkEventType.OTHER, None),
    (999, NetworkEventType.OTHER, None),  # not documented at all
]


@pytest.mark.parametrize("build", [nested_event, flat_event], ids=["nested", "flat"])
@pytest.mark.parametrize(("type_id", "event_type", "service"), EVENT_IDS)
def test_platform_2_event_types_are_mapped_by_id(
    build: Any,
    type_id: int,
    event_type: NetworkEventType,
    service: QuotaService | None,
) -> None:
    event = only_event(build(type_id))

    assert event.event_type is event_type
    assert event.type_id == type_id
    assert event.quota_service is service
    # Platform 2.0 sends no name: the event's own text describes it.
    assert event.description == "New PDP Context successfully activated"


def test_an_event_type_id_as_a_string_is_read() -> None:
    event = only_event(flat_event("19"))

    assert (event.event_type, event.type_id) == (NetworkEventType.QUOTA_USED_UP, 19)


@pytest.mark.parametrize(
    ("name", "event_type", "service"),
    [
        ("Update location", NetworkEventType.LOCATION_UPDATE, None),
        ("Update GPRS location", NetworkEventType.ATTACH, None),
        ("Create PDP Context", NetworkEventType.PDP_CONTEXT_CREATED, None),
        ("Delete PDP Context", NetworkEventType.PDP_CONTEXT_DELETED, None),
        ("SIM activation", NetworkEventType.SIM_ENABLED, None),
        ("SIM suspension", NetworkEventType.SIM_DISABLED, None),
        ("Endpoint blocked", NetworkEventType.BLOCKED, None),
        (
            "Quota threshold reached",
            NetworkEventType.QUOTA_THRESHOLD_REACHED,
            QuotaService.DATA,
        ),
        ("Quota used up", NetworkEventType.QUOTA_USED_UP, QuotaService.DATA),
        (
            "SMS quota threshold reached",
            NetworkEventType.QUOTA_THRESHOLD_REACHED,
            QuotaService.SMS,
        ),
        ("SMS Quota Used Up", NetworkEventType.QUOTA_USED_UP, QuotaService.SMS),
        (
            "Regional-pool data quota used up",
            NetworkEventType.QUOTA_USED_UP,
            QuotaService.DATA,
        ),
        (
            "Regional pool SMS quota threshold reached",
            NetworkEventType.QUOTA_THRESHOLD_REACHED,
            QuotaService.SMS,
        ),
        ("  create  pdp   context ", NetworkEventType.PDP_CONTEXT_CREATED, None),
        ("Update PDP Context", NetworkEventType.OTHER, None),
        ("Purge GPRS location", NetworkEventType.OTHER, None),
    ],
)
def test_platform_1_event_types_are_mapped_by_name(
    name: str, event_type: NetworkEventType, service: QuotaService | None
) -> None:
    record = nested_event(name=name)
    del record["event_type"]["id"]

    event = only_event(record)

    assert (event.event_type, event.quota_service) == (event_type, service)
    assert event.type_id is None
    assert event.description == name.strip()


def test_flat_event_type_name_is_read() -> None:
    record = changed(flat_event(), "event_type_id", _DELETE)
    record["event_type_description"] = "SIM suspension"

    event = only_event(record)

    assert (event.event_type, event.description) == (
        NetworkEventType.SIM_DISABLED,
        "SIM suspension",
    )


def test_a_documented_id_decides_over_the_name() -> None:
    # 4 is Update PDP Context in 1NCE's table, whatever the text says.
    event = only_event(nested_event(4, "Delete PDP Context"))

    assert (event.event_type, event.type_id) == (NetworkEventType.OTHER, 4)
    assert event.description == "Delete PDP Context"


def test_the_name_decides_for_an_id_1nce_has_not_documented() -> None:
    event = only_event(nested_event(777, "Create PDP Context"))

    assert (event.event_type, event.type_id) == (
        NetworkEventType.PDP_CONTEXT_CREATED,
        777,
    )


def test_an_unknown_event_keeps_its_id_and_name() -> None:
    event = only_event(nested_event(29, "OpenVPN disconnect"))

    assert (event.event_type, event.type_id, event.description) == (
        NetworkEventType.OTHER,
        29,
        "OpenVPN disconnect",
    )


@pytest.mark.parametrize(
    ("alert", "expected"), [(True, True), ("true", True), (False, False), (None, False)]
)
def test_the_alert_flag_is_read(alert: object, expected: bool) -> None:
    assert only_event(changed(nested_event(), "alert", alert)).alert is expected


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("detail.quota", {"volume": -0.6077737808227539, "service": "data"}),
        ("detail.quota", {"volume": "-0.607773780822753900", "service": "data"}),
        ("detail_quota_volume", -0.6077737808227539),
    ],
)
def test_a_quota_event_says_how_much_is_left_even_below_zero(
    path: str, value: object
) -> None:
    event = only_event(changed(nested_event(19), path, value))

    assert event.quota_left == pytest.approx(-0.6077737808227539)
    assert event.quota_service is QuotaService.DATA


def test_a_v1_quota_event_with_the_volume_as_text_is_read() -> None:
    record = nested_event(name="SMS quota threshold reached")
    del record["event_type"]["id"]
    record["detail"] = {
        "quota": {
            "threshold_volume": 10,
            "volume": "0.015085",
            "threshold_percentage": 20,
        }
    }

    event = only_event(record)

    assert (event.event_type, event.quota_service, event.quota_left) == (
        NetworkEventType.QUOTA_THRESHOLD_REACHED,
        QuotaService.SMS,
        0.015085,
    )


@pytest.mark.parametrize(
    ("record", "service"),
    [
        (
            changed(nested_event(60), "detail.quota", {"volume": 0, "service": "SMS"}),
            QuotaService.SMS,
        ),
        (changed(flat_event(61), "detail_quota_service", "sms"), QuotaService.SMS),
        (
            changed(nested_event(57), "detail.quota", {"volume": 3, "service": "data"}),
            QuotaService.DATA,
        ),
        (
            changed(
                nested_event(57), "detail.quota", {"volume": 3, "service": "voice"}
            ),
            None,
        ),
    ],
)
def test_the_quota_service_is_read_from_the_quota_where_the_type_does_not_say(
    record: dict[str, Any], service: QuotaService | None
) -> None:
    event = only_event(record)

    assert event.event_type is NetworkEventType.OTHER
    assert event.quota_service is service


def test_the_type_decides_the_quota_service_over_the_quota_itself() -> None:
    record = changed(nested_event(21), "detail.quota", {"volume": 0, "service": "data"})

    assert only_event(record).quota_service is QuotaService.SMS


def test_events_that_are_no_quota_event_have_no_quota() -> None:
    event = only_event(nested_event(3))

    assert (event.quota_service, event.quota_left) == (None, None)


@pytest.mark.parametrize(
    ("detail", "flat", "expected"),
    [
        (  # Platform 1.0 network event: the network and its country by name
            {"id": 3, "name": "Vodafone", "country": {"id": 74, "name": "Germany"}},
            {},
            (None, "Vodafone", "Germany"),
        ),
        (  # Platform 2.0 PDP event: ids only
            {"id": 3, "country": {"id": 74}, "pdp_context": {"operator_id": 3}},
            {},
            (3, None, None),
        ),
        ({"quota": {"volume": 1}}, {}, (None, None, None)),
        (None, {}, (None, None, None)),
        (
            None,
            {"detail_name": "Vodafone", "detail_country_name": "Germany"},
            (None, "Vodafone", "Germany"),
        ),
        (None, {"detail_pdp_context_operator_id": "3"}, (3, None, None)),
        (
            None,
            {"operator": {"id": 78, "name": "LMT", "country": {"name": "Latvia"}}},
            (78, "LMT", "Latvia"),
        ),
    ],
)
def test_events_name_the_visited_network_where_1nce_does(
    detail: dict[str, Any] | None, flat: dict[str, Any], expected: tuple[object, ...]
) -> None:
    record = {**nested_event(1), "detail": detail, **flat}

    event = only_event(record)

    assert (event.operator_id, event.operator, event.country) == expected


@pytest.mark.parametrize(
    ("rat", "expected"),
    [
        (1, "3G"),
        (2, "2G"),
        (5, "3G"),  # HSPA+
        (6, "4G"),
        (8, "NB-IoT"),
        (9, "LTE-M"),
        (10, "5G"),
        ("6", "4G"),
        (6.0, "4G"),
        ("LTE", "4G"),
        ("E-UTRAN", "4G"),
        ("NB-IoT", "NB-IoT"),
        ("NB_IOT", "NB-IoT"),
        ("LTE-M", "LTE-M"),
        ("CAT-M1", "LTE-M"),
        ("HSPA+", "3G"),
        ("GSM", "2G"),
        (3, None),  # WLAN: no radio of a SIM
        ("carrier pigeon", None),
        (True, None),
        ([6], None),
        (None, None),
    ],
)
def test_radio_access_is_mapped_by_id_or_name_in_every_shape(
    rat: object, expected: str | None
) -> None:
    nested_ev = changed(nested_event(3), "detail.pdp_context.rat_type", rat)
    flat_ev = changed(flat_event(3), "detail_pdp_context_rat_type", rat)
    nested_usage = changed(nested_data(), "detail.pdp_context.rat_type", rat)
    flat_usage = changed(flat_data(), "rat_type", rat)

    assert only_event(nested_ev).rat == expected
    assert only_event(flat_ev).rat == expected
    assert only_usage(nested_usage).rat == expected
    assert only_usage(flat_usage).rat == expected


def test_sms_usage_has_no_radio_access() -> None:
    record = changed(nested_sms(), "detail.pdp_context.rat_type", 6)

    assert only_usage(record).rat is None


@pytest.mark.parametrize(
    "record",
    [
        changed(nested_event(12), "sim", _DELETE),  # organisation blocked
        {**changed(nested_event(0), "sim", None), "endpoint": None},
        changed(flat_event(13), "endpoint_name", _DELETE),
    ],
)
def test_an_event_about_no_sim_is_unknown(record: dict[str, Any]) -> None:
    assert counts(parse_stream_batch([record])) == (0, 0, 0, 0, 0, 1)


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (changed(nested_event(), "sim", {"id": 10005527}), "sim.iccid missing"),
        (
            changed(changed(nested_event(), "sim", _DELETE), "endpoint.id", 7),
            "sim.iccid missing",
        ),
        (
            changed(nested_event(), "event_type", "Create PDP Context"),
            "event_type is not an object",
        ),
        (
            changed(nested_event(), "event_type.id", "three"),
            "event_type.id is not an integer",
        ),
        (
            changed(nested_event(), "event_type.description", 3),
            "event_type.description is not a string",
        ),
        (changed(nested_event(), "alert", "maybe"), "alert is not a boolean"),
        (
            changed(nested_event(19), "detail.quota.volume", "none"),
            "detail.quota.volume is not a number",
        ),
        (changed(nested_event(), "detail", ["x"]), "detail is not an object"),
        (
            changed(nested_event(), "description", {"text": "x"}),
            "description is not a string",
        ),
    ],
)
def test_malformed_events_are_unreadable(record: dict[str, Any], reason: str) -> None:
    assert unreadable_reason(record) == reason


def test_long_texts_are_cut_to_what_a_state_can_show() -> None:
    event = only_event(changed(nested_event(), "description", "x" * 10_000))

    assert event.description == "x" * 255


# --- SMS events -------------------------------------------------------------------


def test_an_mo_sms_is_read_as_the_forwarder_reads_it() -> None:
    batch = parse_stream_batch([MO_SMS])

    assert batch.mo_sms == [parse_mo_sms(MO_SMS)]
    assert batch.mo_sms[0].payload == "message text"
    assert counts(batch) == (0, 0, 1, 0, 0, 0)


def test_a_delivery_report_is_read_as_the_forwarder_reads_it() -> None:
    batch = parse_stream_batch([REPORT])

    assert batch.reports == [parse_delivery_report(REPORT)]
    assert batch.reports[0].status is DeliveryStatus.DELIVERED
    assert counts(batch) == (0, 0, 0, 1, 0, 0)


@pytest.mark.parametrize(
    "record",
    [
        changed(REPORT, "detail", {"sms": {"id": "551734281731175386"}}),
        changed(
            changed(REPORT, "final_date", _DELETE),
            "detail",
            {"sms": {"id": "551734281731175386"}},
        ),
    ],
    ids=["with-final-date", "without-final-date"],
)
def test_a_platform_2_report_naming_its_sms_is_a_report(record: dict[str, Any]) -> None:
    batch = parse_stream_batch([record])

    assert counts(batch) == (0, 0, 0, 1, 0, 0)
    assert batch.reports[0].iccid == ICCID


FLAT_MO_SMS: dict[str, Any] = {
    "id": 6202,
    "payload": "message text",
    "submit_date": "2024-12-16 07:01:00",
    "dest_address": "12345",
    "source_address": "882285100000123",
    "dcs": 0,
    "pid": 0,
    "endpoint_id": 8765432,
    "endpoint_name": ICCID,
    "organisation_id": 4567,
}
FLAT_REPORT: dict[str, Any] = {
    "id": 2819195,
    "submit_date": "2024-12-15T16:55:20Z",
    "final_date": "2024-12-15T16:55:31Z",
    "organisation_id": 4567,
    "endpoint_id": 8765432,
    "endpoint_name": ICCID,
    "status_id": 4,
    "status_status": "DELIVERED",
}


def test_a_flat_mo_sms_reads_as_the_nested_one() -> None:
    batch = parse_stream_batch([FLAT_MO_SMS])

    assert counts(batch) == (0, 0, 1, 0, 0, 0), batch.unreadable_reasons
    assert batch.mo_sms == [parse_mo_sms(MO_SMS)]


def test_flat_parts_of_a_long_sms_keep_their_numbering() -> None:
    part = {
        **FLAT_MO_SMS,
        "multi_part_info_partno": 2,
        "multi_part_info_total": 3,
        "multi_part_info_identifier": 7000,
    }

    (sms,) = parse_stream_batch([part]).mo_sms

    assert (sms.multi_part.part, sms.multi_part.total) == (2, 3)
    assert sms.multi_part.identifier == "7000"


@pytest.mark.parametrize(
    "status", [{"status_status": "DELIVERED"}, {"status_description": "DELIVERED"}, {}]
)
def test_a_flat_delivery_report_reads_as_the_nested_one(
    status: dict[str, Any],
) -> None:
    record = {
        key: value for key, value in FLAT_REPORT.items() if key != "status_status"
    }
    batch = parse_stream_batch([{**record, **status}])

    assert counts(batch) == (0, 0, 0, 1, 0, 0), batch.unreadable_reasons
    assert batch.reports == [parse_delivery_report(REPORT)]


def test_a_flat_platform_2_report_names_its_sms() -> None:
    record = {**FLAT_REPORT, "detail_sms_id": "551734281731175386"}
    del record["final_date"]

    (report,) = parse_stream_batch([record]).reports

    assert report.sms_id == "551734281731175386"
    assert report.report_id == "2819195"
    assert report.status is DeliveryStatus.DELIVERED


def test_records_are_counted_by_the_stream_their_shape_belongs_to() -> None:
    """Usage and event records count, read or not; SMS records count for neither."""
    batch = parse_stream_batch(
        [
            nested_data(),
            changed(flat_data(), "start_timestamp", "soon"),
            changed(flat_data(), "traffic_type_id", 7),
            changed(nested_event(), "timestamp", "soon"),
            MO_SMS,
            REPORT,
            {"id": 1},
        ]
    )

    assert (batch.usage_records, batch.event_records) == (3, 1)


def test_a_status_without_final_date_or_sms_is_no_report() -> None:
    record = changed(REPORT, "final_date", _DELETE)

    assert unreadable_reason(record) == "record is of no known kind"


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (changed(REPORT, "status", {"id": 99}), "status.id 99 unknown"),
        (changed(REPORT, "endpoint", _DELETE), "endpoint.name missing"),
        (changed(MO_SMS, "payload", 5), "payload is not a string"),
        (changed(MO_SMS, "endpoint.name", "my modem"), "endpoint.name is not an ICCID"),
    ],
)
def test_sms_events_the_forwarder_refuses_are_unreadable(
    record: dict[str, Any], reason: str
) -> None:
    assert unreadable_reason(record) == reason


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (nested_data(total=1e308, rx=1, tx=0), "volume.total is implausibly large"),
        (nested_data(total=1, rx=1e308, tx=0), "volume.rx is implausibly large"),
        (flat_data(total="1e7"), "volume_total is implausibly large"),
        (nested_data(total=10**400), "volume.total is not a finite number"),
        (nested_sms(tx=10**5), "volume.tx is implausibly large"),
    ],
    ids=["total", "rx", "flat", "huge-int", "sms"],
)
def test_an_implausible_volume_makes_the_record_unreadable(
    record: dict[str, Any], reason: str
) -> None:
    """More than a terabyte of data, or 10,000 SMS, in one record is no volume."""
    assert unreadable_reason(record) == reason


def test_the_largest_plausible_volumes_are_read() -> None:
    assert only_usage(nested_data(total=10**6)).data_bytes == 10**6 * 1_048_576
    assert only_usage(nested_sms(tx=10**4)).sms_mo == 10**4


def test_a_record_that_fails_in_an_unforeseen_way_costs_only_itself(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The last guard: any error reading one record counts it unreadable."""
    from custom_components.one_nce.api import streamer  # noqa: PLC0415

    real = streamer._usage

    def brittle(record: Any) -> UsageRecord:
        if record["id"] == 1:
            raise ArithmeticError("a bug")
        return real(record)

    monkeypatch.setattr(streamer, "_usage", brittle)
    batch = parse_stream_batch([{**nested_data(), "id": 1}, nested_data()])

    assert counts(batch) == (1, 0, 0, 0, 1, 0)
    assert batch.unreadable_reasons == {"record could not be read": 1}


# --- counting what cannot be used ---------------------------------------------------


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (42, "record is not an object"),
        ("[]", "record is not an object"),
        (None, "record is not an object"),
        ([nested_data()], "record is not an object"),
        ({}, "record is of no known kind"),
        ({"id": 1, "payload": "hi"}, "record is of no known kind"),
        (
            {"id": 1, "start_timestamp": "2024-12-15T06:24:47Z"},
            "record is of no known kind",
        ),
    ],
)
def test_what_is_no_record_of_1nce_is_unreadable(record: object, reason: str) -> None:
    assert unreadable_reason(record) == reason


def test_bad_records_are_counted_and_never_fail_the_batch() -> None:
    records: list[object] = [
        nested_data(),
        "garbage",
        changed(nested_data(), "id", 1.5),
        changed(flat_data(), "traffic_type_id", 7),
        nested_event(19),
        changed(nested_event(12), "sim", _DELETE),
        changed(flat_event(), "timestamp", "soon"),
        changed(flat_event(), "timestamp", "later"),
        MO_SMS,
        changed(REPORT, "status", {"id": 99}),
    ]

    batch = parse_stream_batch(records)

    assert counts(batch) == (1, 1, 1, 0, 5, 2)
    assert batch.unreadable_reasons == {
        "record is not an object": 1,
        "id is a float, which cannot hold a 64-bit id": 1,
        "timestamp: not a recognised date/time format": 2,
        "status.id 99 unknown": 1,
    }


SECRET = "s3cret-VALUE-4711"
SECRET_DIGITS = "88224455667799"


@pytest.mark.parametrize(
    "record",
    [
        changed(nested_data(), "id", SECRET),
        changed(nested_data(), "id", float(SECRET_DIGITS)),
        changed(nested_data(), "id", -int(SECRET_DIGITS)),
        changed(nested_data(), "id", int(SECRET_DIGITS) * 10**10),
        changed(nested_data(), "sim.iccid", SECRET),
        changed(nested_data(), "sim.iccid", int(SECRET_DIGITS)),
        changed(nested_data(), "sim", SECRET),
        changed(nested_data(), "start_timestamp", SECRET),
        changed(
            nested_data(), "end_timestamp", f"{SECRET_DIGITS[:4]}-01-01T00:00:00+99:00"
        ),
        changed(nested_data(), "traffic_type.id", SECRET),
        changed(nested_data(), "volume.total", SECRET),
        changed(nested_data(), "volume.total", -int(SECRET_DIGITS)),
        changed(nested_sms(), "volume.tx", float(SECRET_DIGITS) + 0.5),
        changed(nested_data(), "operator.name", int(SECRET_DIGITS)),
        changed(nested_event(), "event_type.id", SECRET),
        changed(nested_event(), "event_type.description", int(SECRET_DIGITS)),
        changed(nested_event(), "alert", SECRET),
        changed(changed(nested_event(), "sim", _DELETE), "endpoint.name", SECRET),
        changed(nested_event(19), "detail.quota.volume", SECRET),
        changed(MO_SMS, "endpoint.name", SECRET),
        changed(MO_SMS, "id", SECRET),
        changed(REPORT, "status", SECRET),
        changed(REPORT, "submit_date", SECRET),
        SECRET,
        {"id": SECRET, "note": SECRET},
    ],
)
def test_reasons_never_repeat_a_value_from_the_body(record: object) -> None:
    batch = parse_stream_batch([record])

    assert batch.unreadable == 1
    for reason in batch.unreadable_reasons:
        assert SECRET not in reason
        assert SECRET_DIGITS[:6] not in reason


ODD_VALUES: list[object] = [
    None,
    "",
    "x",
    -1,
    1.5,
    True,
    [],
    {},
    {"id": 1},
    2**70,
    "9" * 30,
    float("nan"),
    float("inf"),
    1e308,
    -1e308,
    10**400,
    "1e308",
]


def _paths(data: dict[str, Any], prefix: str = "") -> list[str]:
    paths: list[str] = []
    for key, value in data.items():
        path = f"{prefix}{key}"
        paths.append(path)
        if isinstance(value, dict):
            paths.extend(_paths(value, f"{path}."))
    return paths


FUZZ_BASES: dict[str, dict[str, Any]] = {
    "usage-v200": read_api_fixture("streamer_usage_v200.json")[0],
    "sms-usage-v200": read_api_fixture("streamer_usage_v200.json")[1],
    "usage-flat": read_api_fixture("streamer_usage_flat.json")[0],
    "event-quota": read_api_fixture("streamer_events_v200.json")[0],
    "event-pdp": read_api_fixture("streamer_events_v200.json")[1],
    "event-flat": read_api_fixture("streamer_events_flat.json")[1],
    "mo-sms": MO_SMS,
    "report": REPORT,
}


@pytest.mark.parametrize("base", list(FUZZ_BASES))
def test_any_odd_value_anywhere_costs_at_most_its_own_record(base: str) -> None:
    record = FUZZ_BASES[base]
    for path in _paths(record):
        for value in ODD_VALUES:
            batch = parse_stream_batch([changed(record, path, value), record])

            # The odd record is read, counted unreadable or unknown, exactly
            # once; the good record beside it is read all the same.
            assert sum(counts(batch)) == 2, (path, value)
            assert sum(counts(batch)[:4]) >= 1, (path, value)
