"""Tests for reading the SMS forwarder's pushes: MO SMS and delivery reports."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
import json
from typing import Any

import pytest

from custom_components.one_nce.api import (
    FINAL_STATUSES,
    DeliveryReport,
    DeliveryStatus,
    MoSms,
    MultiPartInfo,
)
from custom_components.one_nce.api.forwarder import (
    ForwarderPayloadError,
    parse_delivery_report,
    parse_mo_sms,
    parse_sms_record,
)
from custom_components.one_nce.api.models import delivery_status_from_id

# The seed documentation redacts the ICCID as "8988280666000000xxx"; the tests
# use the same 19 characters with digits in place of the x.
ICCID = "8988280666000000123"

# Section 4.2.2 of 1NCE's 2019 SMS documentation, verbatim but for the ICCID.
SEED_MO: dict[str, Any] = {
    "multi_part_info": {"partno": 1, "total": 1, "identifier": "6202"},
    "payload": "message text",
    "submit_date": "2018-08-17 16:31:51",
    "dest_address": "12345",
    "organisation": {"id": "4567"},
    "pid": "0",
    "id": "6202",
    "endpoint": {"id": "8765432", "name": ICCID},
    "source_address": "882285100000xxx",
    "dcs": "0",
}

# Section 4.1.2 of the same document, verbatim but for the ICCID.
SEED_REPORT: dict[str, Any] = {
    "status": {"status": "DELIVERED", "id": "4"},
    "endpoint": {"id": "8765432", "name": ICCID},
    "submit_date": "2018-08-17 16:46:48",
    "organisation": {"id": "4321"},
    "final_date": "2018-08-17 16:46:52",
    "id": "6206",
}

# The shapes in ../1nce-api/README.md, with JSON numbers, as the view decodes them.
README_MO = (
    '{"id":6202,"payload":"message text","submit_date":"2018-08-17 16:31:51",'
    '"dest_address":"12345","source_address":"882285100000xxx","dcs":0,"pid":0,'
    f'"endpoint":{{"id":8765432,"name":"{ICCID}"}},"organisation":{{"id":4567}},'
    '"multi_part_info":{"partno":1,"total":1,"identifier":6202}}'
)
README_REPORT = (
    '{"id":2819195,"submit_date":"2024-08-24T13:13:21.000+0000",'
    '"final_date":"2024-08-24T13:13:25.000+0000","organisation":{"id":4567},'
    f'"endpoint":{{"id":8765432,"name":"{ICCID}"}},'
    '"status":{"id":4,"status":"DELIVERED"}}'
)

_DELETE = object()


def changed(base: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    """Return a copy of `base` with the dotted `path` set to `value` (or deleted)."""
    data = copy.deepcopy(base)
    *parents, last = path.split(".")
    target = data
    for key in parents:
        target = target[key]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return data


def mo_reason(data: object) -> str:
    with pytest.raises(ForwarderPayloadError) as err:
        parse_mo_sms(data)
    return err.value.reason


def report_reason(data: object) -> str:
    with pytest.raises(ForwarderPayloadError) as err:
        parse_delivery_report(data)
    return err.value.reason


# --- MO SMS: what 1NCE sends ------------------------------------------------


def test_seed_mo_sms_with_every_number_as_a_string_is_read() -> None:
    assert parse_mo_sms(SEED_MO) == MoSms(
        sms_id="6202",
        iccid=ICCID,
        endpoint_id=8765432,
        organisation_id=4567,
        payload="message text",
        dcs=0,
        pid=0,
        source_address="882285100000xxx",
        dest_address="12345",
        submit_date=datetime(2018, 8, 17, 16, 31, 51, tzinfo=UTC),
        multi_part=MultiPartInfo(identifier="6202", part=1, total=1),
    )


def test_readme_mo_sms_with_json_numbers_reads_the_same() -> None:
    assert parse_mo_sms(json.loads(README_MO)) == parse_mo_sms(SEED_MO)


def test_mo_sms_with_multi_part_numbers_as_strings_is_read() -> None:
    data = changed(
        SEED_MO, "multi_part_info", {"partno": "2", "total": "3", "identifier": "6202"}
    )

    assert parse_mo_sms(data).multi_part == MultiPartInfo(
        identifier="6202", part=2, total=3
    )


def test_extra_keys_from_1nce_are_ignored() -> None:
    data = changed(SEED_MO, "smsforwarderId", "a1b2c3")
    data["endpoint"]["ip_address"] = "10.0.0.1"
    data["multi_part_info"]["ref"] = 17

    assert parse_mo_sms(data) == parse_mo_sms(SEED_MO)


def test_numeric_strings_with_surrounding_whitespace_are_accepted() -> None:
    data = changed(SEED_MO, "id", " 6202 ")
    data["organisation"]["id"] = "\t4567\n"

    sms = parse_mo_sms(data)

    assert sms.sms_id == "6202"
    assert sms.organisation_id == 4567


def test_integral_floats_are_accepted_as_integers() -> None:
    sms = parse_mo_sms(changed(SEED_MO, "id", 6202.0))

    assert sms.sms_id == "6202"
    assert sms.sms_id == parse_mo_sms(changed(SEED_MO, "id", 6202)).sms_id


def test_addresses_sent_as_numbers_become_strings() -> None:
    data = changed(SEED_MO, "source_address", 882285100000123)
    data["dest_address"] = 12345

    sms = parse_mo_sms(data)

    assert sms.source_address == "882285100000123"
    assert sms.dest_address == "12345"


def test_minimal_mo_sms_fills_documented_defaults() -> None:
    sms = parse_mo_sms({"id": 77, "payload": "hi", "endpoint": {"name": ICCID}})

    assert sms == MoSms(
        sms_id="77",
        iccid=ICCID,
        endpoint_id=None,
        organisation_id=None,
        payload="hi",
        dcs=0,
        pid=None,
        source_address=None,
        dest_address=None,
        submit_date=None,
        multi_part=MultiPartInfo(identifier="77", part=1, total=1),
    )


@pytest.mark.parametrize("key", ["pid", "dcs", "submit_date", "source_address"])
def test_null_and_blank_optional_fields_count_as_absent(key: str) -> None:
    assert parse_mo_sms(changed(SEED_MO, key, None)) == parse_mo_sms(
        changed(SEED_MO, key, " ")
    )


def test_blank_addresses_are_none() -> None:
    assert parse_mo_sms(changed(SEED_MO, "dest_address", "  ")).dest_address is None


def test_an_empty_sms_is_legal() -> None:
    assert parse_mo_sms(changed(SEED_MO, "payload", "")).payload == ""


def test_payload_is_passed_on_untouched() -> None:
    assert parse_mo_sms(changed(SEED_MO, "payload", "  two  spaces \n")).payload == (
        "  two  spaces \n"
    )


def test_binary_and_ucs2_dcs_are_kept() -> None:
    assert parse_mo_sms(changed(SEED_MO, "dcs", "4")).dcs == 4
    assert parse_mo_sms(changed(SEED_MO, "dcs", 8)).dcs == 8


def test_iccid_whitespace_is_stripped() -> None:
    data = changed(SEED_MO, "endpoint.name", f"  {ICCID}\n")

    assert parse_mo_sms(data).iccid == ICCID


@pytest.mark.parametrize("iccid", ["8" * 18, "89882806660000001234", "8" * 22])
def test_iccids_of_18_to_22_digits_are_accepted(iccid: str) -> None:
    assert parse_mo_sms(changed(SEED_MO, "endpoint.name", iccid)).iccid == iccid


@pytest.mark.parametrize(
    ("organisation", "expected"),
    [({"id": 4567}, 4567), ({"id": "4567"}, 4567), ({}, None), (None, None)],
)
def test_organisation_id_is_read_from_number_or_string(
    organisation: object, expected: int | None
) -> None:
    data = changed(SEED_MO, "organisation", organisation)

    assert parse_mo_sms(data).organisation_id == expected


def test_missing_organisation_gives_none() -> None:
    assert (
        parse_mo_sms(changed(SEED_MO, "organisation", _DELETE)).organisation_id is None
    )


# --- MO SMS: multi-part ------------------------------------------------------


def test_missing_multi_part_info_means_a_single_part_named_by_the_sms_id() -> None:
    sms = parse_mo_sms(changed(SEED_MO, "multi_part_info", _DELETE))

    assert sms.multi_part == MultiPartInfo(identifier="6202", part=1, total=1)


def test_null_multi_part_info_means_a_single_part() -> None:
    sms = parse_mo_sms(changed(SEED_MO, "multi_part_info", None))

    assert sms.multi_part == MultiPartInfo(identifier="6202", part=1, total=1)


def test_single_part_without_identifier_uses_the_sms_id() -> None:
    data = changed(SEED_MO, "multi_part_info", {"partno": 1, "total": 1})

    assert parse_mo_sms(data).multi_part.identifier == "6202"


@pytest.mark.parametrize("identifier", [6199, "6199", " 6199 ", 6199.0])
def test_parts_of_one_sms_share_an_identifier_however_it_is_written(
    identifier: object,
) -> None:
    data = changed(
        SEED_MO,
        "multi_part_info",
        {"partno": 2, "total": 3, "identifier": identifier},
    )

    assert parse_mo_sms(data).multi_part == MultiPartInfo(
        identifier="6199", part=2, total=3
    )


def test_last_part_of_the_longest_concatenation_is_accepted() -> None:
    data = changed(
        SEED_MO, "multi_part_info", {"partno": 255, "total": 255, "identifier": "x1"}
    )

    assert parse_mo_sms(data).multi_part == MultiPartInfo(
        identifier="x1", part=255, total=255
    )


@pytest.mark.parametrize(
    ("info", "reason"),
    [
        ({"total": 2, "identifier": "1"}, "multi_part_info.partno missing"),
        ({"partno": 1, "identifier": "1"}, "multi_part_info.total missing"),
        ({"partno": 0, "total": 2, "identifier": "1"}, "multi_part_info.partno 0 < 1"),
        ({"partno": 1, "total": 0, "identifier": "1"}, "multi_part_info.total 0 < 1"),
        (
            {"partno": 1, "total": 256, "identifier": "1"},
            "multi_part_info.total 256 > 255",
        ),
        (
            {"partno": 3, "total": 2, "identifier": "1"},
            "multi_part_info.partno 3 > total 2",
        ),
        (
            {"partno": "-1", "total": 2, "identifier": "1"},
            "multi_part_info.partno -1 < 0",
        ),
        (
            {"partno": True, "total": 2, "identifier": "1"},
            "multi_part_info.partno is not an integer",
        ),
        ({"partno": 1, "total": 2}, "multi_part_info.identifier missing"),
        (
            {"partno": 1, "total": 2, "identifier": " "},
            "multi_part_info.identifier missing",
        ),
        (
            {"partno": 1, "total": 2, "identifier": True},
            "multi_part_info.identifier is not a string or number",
        ),
        (
            {"partno": 1, "total": 2, "identifier": 1.5},
            "multi_part_info.identifier is not a string or number",
        ),
        (
            {"partno": 1, "total": 2, "identifier": "9" * 65},
            "multi_part_info.identifier longer than 64 characters",
        ),
    ],
)
def test_broken_part_numbering_is_refused(info: dict[str, Any], reason: str) -> None:
    assert mo_reason(changed(SEED_MO, "multi_part_info", info)) == reason


def test_multi_part_info_that_is_not_an_object_is_refused() -> None:
    data = changed(SEED_MO, "multi_part_info", "1/1")

    assert mo_reason(data) == "multi_part_info is not an object"


# --- MO SMS: what is refused --------------------------------------------------


@pytest.mark.parametrize("data", [None, [], "text", 6202, [SEED_MO]])
def test_a_body_that_is_not_an_object_is_refused(data: object) -> None:
    assert mo_reason(data) == "body is not a JSON object"


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        ("id", _DELETE, "id missing"),
        ("id", None, "id missing"),
        ("id", "", "id missing"),
        ("id", True, "id is not an integer"),
        ("id", False, "id is not an integer"),
        ("id", "62a", "id is not an integer"),
        ("id", "6_202", "id is not an integer"),
        # Arabic-Indic digits, which int() would take.
        ("id", "\u0666\u0662\u0660\u0662", "id is not an integer"),
        ("id", "1e3", "id is not an integer"),
        ("id", 6202.5, "id is not an integer"),
        ("id", float("nan"), "id is not an integer"),
        ("id", float("inf"), "id is not an integer"),
        ("id", [6202], "id is not an integer"),
        ("id", "1" * 21, "id is not an integer"),
        ("id", 2**63, "id is out of range"),
        ("id", -1, "id -1 < 0"),
        ("payload", _DELETE, "payload missing"),
        ("payload", None, "payload missing"),
        ("payload", 123, "payload is not a string"),
        ("payload", ["message text"], "payload is not a string"),
        ("endpoint", _DELETE, "endpoint.name missing"),
        ("endpoint", None, "endpoint.name missing"),
        ("endpoint", ICCID, "endpoint is not an object"),
        ("endpoint.name", _DELETE, "endpoint.name missing"),
        ("endpoint.name", None, "endpoint.name missing"),
        ("endpoint.name", "   ", "endpoint.name missing"),
        ("endpoint.name", int(ICCID), "endpoint.name is not a string"),
        ("endpoint.name", "8988280666000000xxx", "endpoint.name is not an ICCID"),
        ("endpoint.name", "8" * 17, "endpoint.name is not an ICCID"),
        ("endpoint.name", "8" * 23, "endpoint.name is not an ICCID"),
        ("endpoint.name", "8988 2806 6600 0000 123", "endpoint.name is not an ICCID"),
        # Full-width digits.
        ("endpoint.name", "\uff18" * 19, "endpoint.name is not an ICCID"),
        ("endpoint.id", "abc", "endpoint.id is not an integer"),
        ("organisation", "4567", "organisation is not an object"),
        ("organisation.id", True, "organisation.id is not an integer"),
        ("organisation.id", "45x", "organisation.id is not an integer"),
        ("organisation.id", {"id": 4567}, "organisation.id is not an integer"),
        ("dcs", "abc", "dcs is not an integer"),
        ("dcs", 256, "dcs 256 > 255"),
        ("dcs", "-1", "dcs -1 < 0"),
        ("pid", 300, "pid 300 > 255"),
        ("source_address", True, "source_address is not a string or number"),
        ("source_address", "1" * 65, "source_address longer than 64 characters"),
        ("dest_address", {}, "dest_address is not a string or number"),
        ("submit_date", "yesterday", "submit_date: not a recognised date/time format"),
        (
            "submit_date",
            1534523511,
            "submit_date: expected a date string, got int",
        ),
        ("submit_date", "2018-02-30 00:00:00", "submit_date: date/time out of range"),
    ],
)
def test_broken_mo_sms_is_refused_with_a_specific_reason(
    path: str, value: object, reason: str
) -> None:
    assert mo_reason(changed(SEED_MO, path, value)) == reason


def test_reason_never_repeats_the_message_text() -> None:
    data = changed(SEED_MO, "payload", "PIN 4711 for the gate")
    data["dcs"] = "PIN 4711"

    reason = mo_reason(data)

    assert "4711" not in reason
    assert reason == "dcs is not an integer"


def test_payload_error_is_a_value_error_whose_message_is_the_reason() -> None:
    err = ForwarderPayloadError("id missing")

    assert isinstance(err, ValueError)
    assert str(err) == err.reason == "id missing"


# --- Delivery reports ----------------------------------------------------------


def test_seed_delivery_report_with_every_number_as_a_string_is_read() -> None:
    assert parse_delivery_report(SEED_REPORT) == DeliveryReport(
        sms_id="6206",
        iccid=ICCID,
        endpoint_id=8765432,
        organisation_id=4321,
        status=DeliveryStatus.DELIVERED,
        status_id=4,
        submit_date=datetime(2018, 8, 17, 16, 46, 48, tzinfo=UTC),
        final_date=datetime(2018, 8, 17, 16, 46, 52, tzinfo=UTC),
    )


def test_readme_delivery_report_with_json_numbers_is_read() -> None:
    assert parse_delivery_report(json.loads(README_REPORT)) == DeliveryReport(
        sms_id="2819195",
        iccid=ICCID,
        endpoint_id=8765432,
        organisation_id=4567,
        status=DeliveryStatus.DELIVERED,
        status_id=4,
        submit_date=datetime(2024, 8, 24, 13, 13, 21, tzinfo=UTC),
        final_date=datetime(2024, 8, 24, 13, 13, 25, tzinfo=UTC),
    )


def test_minimal_delivery_report_leaves_optional_fields_none() -> None:
    report = parse_delivery_report(
        {"id": 9, "endpoint": {"name": ICCID}, "status": {"id": 3}}
    )

    assert report == DeliveryReport(
        sms_id="9",
        iccid=ICCID,
        endpoint_id=None,
        organisation_id=None,
        status=DeliveryStatus.BUFFERED,
        status_id=3,
        submit_date=None,
        final_date=None,
    )


def test_delivery_report_extra_keys_are_ignored() -> None:
    data = changed(SEED_REPORT, "smsforwarderId", 12)
    data["status"]["reason"] = "whatever"

    assert parse_delivery_report(data) == parse_delivery_report(SEED_REPORT)


def test_delivery_report_status_text_may_be_under_description() -> None:
    data = changed(SEED_REPORT, "status", {"id": "99", "description": "FAILED"})

    report = parse_delivery_report(data)

    assert report.status is DeliveryStatus.FAILED
    assert report.status_id == 99


def test_delivery_report_status_key_wins_over_description() -> None:
    data = changed(
        SEED_REPORT,
        "status",
        {"id": 99, "status": "EXPIRED", "description": "FAILED"},
    )

    assert parse_delivery_report(data).status is DeliveryStatus.EXPIRED


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        ("id", _DELETE, "id missing"),
        ("id", True, "id is not an integer"),
        ("endpoint.name", _DELETE, "endpoint.name missing"),
        ("organisation.id", "other", "organisation.id is not an integer"),
        ("status", _DELETE, "status missing"),
        ("status", None, "status missing"),
        ("status", "DELIVERED", "status is not an object"),
        ("status", {}, "status.id missing"),
        ("status", {"status": "DELIVERED"}, "status.id missing"),
        ("status.id", "four", "status.id is not an integer"),
        ("status.id", True, "status.id is not an integer"),
        ("status", {"id": 9, "status": "WHATEVER"}, "status.id 9 unknown"),
        ("status", {"id": 0}, "status.id 0 unknown"),
        ("status.status", 4, "status.status is not a string"),
        (
            "status",
            {"id": 4, "description": ["DELIVERED"]},
            "status.description is not a string",
        ),
        ("submit_date", "17/08/2018", "submit_date: not a recognised date/time format"),
        ("final_date", "soon", "final_date: not a recognised date/time format"),
    ],
)
def test_broken_delivery_report_is_refused_with_a_specific_reason(
    path: str, value: object, reason: str
) -> None:
    assert report_reason(changed(SEED_REPORT, path, value)) == reason


def test_delivery_report_body_must_be_an_object() -> None:
    assert report_reason([SEED_REPORT]) == "body is not a JSON object"


# --- Platform 2.0: the report names the SMS, ISO dates, destination_address -----

# An 18-digit SMS id above 2^53, as 1NCE's Data Streamer documentation shows it:
# a float would turn it into ...384 or so, and match the wrong SMS.
P2_SMS_ID = "551734281731175386"

# The Platform 2.0 delivery report of the Data Streamer's SMS records.
P2_REPORT: dict[str, Any] = {
    "id": 775120394,
    "submit_date": "2024-12-15T16:55:31Z",
    "final_date": "2024-12-15T16:55:36.250Z",
    "organisation": {"id": 4567},
    "endpoint": {"id": 8765432, "name": ICCID},
    "status": {"status": "DELIVERED", "id": 4},
    "detail": {"sms": {"id": P2_SMS_ID}},
}

# A Platform 2.0 MO SMS with the documentation table's field name.
P2_MO: dict[str, Any] = {
    "id": "551734281731175999",
    "payload": "Gate opened",
    "submit_date": "2024-12-16 07:01:00",
    "destination_address": "12345",
    "source_address": "882285100000123",
    "dcs": 0,
    "pid": 0,
    "endpoint": {"id": 8765432, "name": ICCID},
    "organisation": {"id": 4567},
}


def test_platform_2_report_names_the_sms_and_keeps_its_own_id_apart() -> None:
    assert parse_delivery_report(P2_REPORT) == DeliveryReport(
        sms_id=P2_SMS_ID,
        iccid=ICCID,
        endpoint_id=8765432,
        organisation_id=4567,
        status=DeliveryStatus.DELIVERED,
        status_id=4,
        submit_date=datetime(2024, 12, 15, 16, 55, 31, tzinfo=UTC),
        final_date=datetime(2024, 12, 15, 16, 55, 36, 250000, tzinfo=UTC),
        report_id="775120394",
    )


def test_platform_2_sms_id_stays_exact_through_json() -> None:
    report = parse_delivery_report(json.loads(json.dumps(P2_REPORT)))

    assert report.sms_id == P2_SMS_ID
    assert int(report.sms_id) > 2**53


def test_platform_2_sms_id_as_a_json_integer_is_the_same_id() -> None:
    data = changed(P2_REPORT, "detail.sms.id", int(P2_SMS_ID))

    assert parse_delivery_report(data) == parse_delivery_report(P2_REPORT)


def test_platform_1_report_without_detail_is_named_by_its_id() -> None:
    report = parse_delivery_report(SEED_REPORT)

    assert (report.sms_id, report.report_id) == ("6206", None)


def test_a_report_whose_own_id_is_the_sms_id_has_no_report_id() -> None:
    data = changed(P2_REPORT, "id", P2_SMS_ID)

    assert parse_delivery_report(data).report_id is None


def test_a_report_naming_its_sms_needs_no_id_of_its_own() -> None:
    data = changed(P2_REPORT, "id", _DELETE)

    report = parse_delivery_report(data)

    assert (report.sms_id, report.report_id) == (P2_SMS_ID, None)


@pytest.mark.parametrize("detail", [None, {}, {"sms": None}, {"sms": {}}])
def test_a_detail_without_an_sms_id_falls_back_to_the_id(detail: object) -> None:
    data = changed(P2_REPORT, "detail", detail)

    assert parse_delivery_report(data).sms_id == "775120394"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (5.517342817311754e17, "detail.sms.id is not a string of digits"),
        ("55173428173117538x", "detail.sms.id is not a string of digits"),
        ("-551734281731175386", "detail.sms.id is not a string of digits"),
        (-5, "detail.sms.id is not a string of digits"),
        ("", "detail.sms.id is not a string of digits"),
        ("5517 3428", "detail.sms.id is not a string of digits"),
        ("\u0665\u0665", "detail.sms.id is not a string of digits"),
        ("9" * 21, "detail.sms.id is not a string of digits"),
        ("9" * 20, "detail.sms.id is out of range"),
        (True, "detail.sms.id is not a string of digits"),
        ([P2_SMS_ID], "detail.sms.id is not a string of digits"),
        ({"value": P2_SMS_ID}, "detail.sms.id is not a string of digits"),
    ],
)
def test_a_bad_sms_id_in_detail_is_refused_without_echoing_it(
    value: object, reason: str
) -> None:
    assert report_reason(changed(P2_REPORT, "detail.sms.id", value)) == reason


def test_the_reason_never_repeats_a_refused_sms_id() -> None:
    bad = "551734281731175386; DROP"

    refusal = report_reason(changed(P2_REPORT, "detail.sms.id", bad))

    assert "551734281731175386" not in refusal
    assert "DROP" not in refusal


@pytest.mark.parametrize(
    ("path", "value", "reason"),
    [
        ("detail", "sms", "detail is not an object"),
        ("detail.sms", [P2_SMS_ID], "detail.sms is not an object"),
        ("id", "report-1", "id is not an integer"),
    ],
)
def test_a_broken_platform_2_report_is_refused_with_a_specific_reason(
    path: str, value: object, reason: str
) -> None:
    assert report_reason(changed(P2_REPORT, path, value)) == reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2018-08-17 16:46:48", datetime(2018, 8, 17, 16, 46, 48, tzinfo=UTC)),
        ("2024-12-15T16:55:31Z", datetime(2024, 12, 15, 16, 55, 31, tzinfo=UTC)),
        (
            "2024-12-15T16:55:31.123Z",
            datetime(2024, 12, 15, 16, 55, 31, 123000, tzinfo=UTC),
        ),
        (
            "2024-12-15 16:55:31.5",
            datetime(2024, 12, 15, 16, 55, 31, 500000, tzinfo=UTC),
        ),
    ],
)
def test_report_dates_are_read_in_either_form(text: str, expected: datetime) -> None:
    data = changed(P2_REPORT, "submit_date", text)
    data["final_date"] = text

    report = parse_delivery_report(data)

    assert report.submit_date == report.final_date == expected


def test_mo_sms_dates_are_read_in_either_form() -> None:
    spaced = parse_mo_sms(P2_MO)
    iso = parse_mo_sms(changed(P2_MO, "submit_date", "2024-12-16T07:01:00Z"))

    assert (
        spaced.submit_date
        == iso.submit_date
        == datetime(2024, 12, 16, 7, 1, tzinfo=UTC)
    )


def test_platform_2_mo_sms_reads_destination_address() -> None:
    assert parse_mo_sms(P2_MO) == MoSms(
        sms_id="551734281731175999",
        iccid=ICCID,
        endpoint_id=8765432,
        organisation_id=4567,
        payload="Gate opened",
        dcs=0,
        pid=0,
        source_address="882285100000123",
        dest_address="12345",
        submit_date=datetime(2024, 12, 16, 7, 1, tzinfo=UTC),
        multi_part=MultiPartInfo(identifier="551734281731175999", part=1, total=1),
    )


@pytest.mark.parametrize(
    ("addresses", "expected"),
    [
        ({"destination_address": "111", "dest_address": "222"}, "111"),
        ({"destination_address": None, "dest_address": "222"}, "222"),
        ({"destination_address": " ", "dest_address": "222"}, "222"),
        ({"dest_address": "222"}, "222"),
        ({"destination_address": 111}, "111"),
        ({}, None),
    ],
)
def test_the_first_destination_name_present_wins(
    addresses: dict[str, Any], expected: str | None
) -> None:
    data = changed(P2_MO, "destination_address", _DELETE)
    data.update(addresses)

    assert parse_mo_sms(data).dest_address == expected


def test_a_malformed_destination_address_is_refused() -> None:
    data = changed(P2_MO, "destination_address", ["12345"])

    assert mo_reason(data) == "destination_address is not a string or number"


# --- One pushed SMS record, classified by its shape ---------------------------------


@pytest.mark.parametrize(
    "record",
    [P2_REPORT, SEED_REPORT, changed(P2_REPORT, "final_date", _DELETE)],
    ids=["platform_2", "platform_1", "detail_only"],
)
def test_a_record_with_status_and_final_date_or_detail_is_a_report(
    record: dict[str, Any],
) -> None:
    assert parse_sms_record(record) == parse_delivery_report(record)


@pytest.mark.parametrize("record", [P2_MO, SEED_MO], ids=["platform_2", "platform_1"])
def test_a_record_with_a_payload_is_an_mo_sms(record: dict[str, Any]) -> None:
    assert parse_sms_record(record) == parse_mo_sms(record)


def test_a_broken_record_of_a_known_kind_is_refused_as_that_kind() -> None:
    with pytest.raises(ForwarderPayloadError) as err:
        parse_sms_record(changed(P2_REPORT, "detail.sms.id", "x"))

    assert err.value.reason == "detail.sms.id is not a string of digits"


@pytest.mark.parametrize(
    "record",
    [
        {"id": 1, "endpoint": {"name": ICCID}},
        {"id": 1, "status": {"id": 4}, "endpoint": {"name": ICCID}},
        changed(SEED_REPORT, "final_date", _DELETE),
        {"id": 1, "detail": {"sms": {"id": P2_SMS_ID}}},
    ],
)
def test_a_record_of_neither_shape_is_refused(record: dict[str, Any]) -> None:
    with pytest.raises(ForwarderPayloadError) as err:
        parse_sms_record(record)

    assert err.value.reason == "neither an MO SMS nor a delivery report"


@pytest.mark.parametrize("record", [[P2_REPORT], "report", None, 4])
def test_a_record_that_is_not_an_object_is_refused(record: object) -> None:
    with pytest.raises(ForwarderPayloadError) as err:
        parse_sms_record(record)

    assert err.value.reason == "body is not a JSON object"


# --- Status mapping -------------------------------------------------------------


@pytest.mark.parametrize(
    ("status_id", "expected"),
    [
        (1, DeliveryStatus.PENDING),
        (2, DeliveryStatus.PENDING),
        (3, DeliveryStatus.BUFFERED),
        (4, DeliveryStatus.DELIVERED),
        (5, DeliveryStatus.FAILED),
        (6, DeliveryStatus.EXPIRED),
        (7, DeliveryStatus.CANCELED),
    ],
)
def test_every_status_id_maps_to_its_status(
    status_id: int, expected: DeliveryStatus
) -> None:
    assert delivery_status_from_id(status_id) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PENDING", DeliveryStatus.PENDING),
        ("attempt pending", DeliveryStatus.PENDING),
        ("ATTEMPT_PENDING", DeliveryStatus.PENDING),
        ("buffered", DeliveryStatus.BUFFERED),
        ("Delivered", DeliveryStatus.DELIVERED),
        (" DELIVERED ", DeliveryStatus.DELIVERED),
        ("FAILED", DeliveryStatus.FAILED),
        ("EXPIRED", DeliveryStatus.EXPIRED),
        ("CANCELED", DeliveryStatus.CANCELED),
        ("CANCELLED", DeliveryStatus.CANCELED),
        ("cancelled", DeliveryStatus.CANCELED),
    ],
)
def test_unknown_ids_fall_back_to_the_status_text(
    text: str, expected: DeliveryStatus
) -> None:
    assert delivery_status_from_id(42, text) is expected


def test_a_known_id_wins_over_contradicting_text() -> None:
    assert delivery_status_from_id(4, "FAILED") is DeliveryStatus.DELIVERED


@pytest.mark.parametrize("text", [None, "", "ENROUTE", "DELIVERED!"])
def test_unknown_id_and_text_are_an_error(text: str | None) -> None:
    with pytest.raises(ValueError, match=r"^unknown status id 42$"):
        delivery_status_from_id(42, text)


def test_only_delivered_failed_expired_and_canceled_are_final() -> None:
    assert {status for status in DeliveryStatus if status in FINAL_STATUSES} == {
        DeliveryStatus.DELIVERED,
        DeliveryStatus.FAILED,
        DeliveryStatus.EXPIRED,
        DeliveryStatus.CANCELED,
    }


def test_statuses_serialise_as_their_lowercase_names() -> None:
    assert json.dumps({"status": DeliveryStatus.CANCELED}) == '{"status": "canceled"}'
    assert f"{DeliveryStatus.DELIVERED}" == "delivered"
