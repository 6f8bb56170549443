"""Reading 1NCE's JSON: every recorded quirk is accepted, garbage is refused.

The shapes come from tests/api/fixtures/, written after the live API's answers
(numbers as strings, `imei` as a number, absent keys, `{}` quotas, dates
without a zone). A malformed value must raise OneNceResponseError, never turn
into a plausible zero.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
import math
from typing import Any

import pytest

from custom_components.one_nce.api import (
    Connectivity,
    ConnectivityStatus,
    DeliveryReport,
    DeliveryStatus,
    Limit,
    Limits,
    OneNceResponseError,
    Quota,
    QuotaLevel,
    QuotaStatus,
    Sim,
    SimEvent,
    Sms,
    SmsDirection,
    TokenInfo,
    Usage,
)
from custom_components.one_nce.api._parse import (
    as_list,
    as_object,
    opt_bool,
    opt_datetime,
    opt_float,
    opt_int,
    opt_object,
    opt_str,
    req_int,
    req_str,
)

Loader = Callable[[str], Any]


# --- _parse readers ----------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(250, 250.0), ("250", 250.0), (" 12.5 ", 12.5), ("-0.25", -0.25), (0, 0.0)],
)
def test_numbers_may_arrive_as_strings(raw: object, expected: float) -> None:
    assert opt_float({"volume": raw}, "volume") == expected


@pytest.mark.parametrize("raw", [None, "", "   "])
def test_absent_or_blank_number_is_none_not_zero(raw: object) -> None:
    assert opt_float({"volume": raw}, "volume") is None
    assert opt_float({}, "volume") is None


@pytest.mark.parametrize("raw", [True, False])
def test_booleans_are_refused_as_numbers(raw: bool) -> None:
    with pytest.raises(OneNceResponseError, match="boolean"):
        opt_float({"volume": raw}, "volume")


@pytest.mark.parametrize("raw", ["NaN", "nan", "inf", "-Infinity", math.nan, math.inf])
def test_nan_and_infinity_are_refused(raw: object) -> None:
    with pytest.raises(OneNceResponseError, match="finite"):
        opt_float({"volume": raw}, "volume")


@pytest.mark.parametrize("raw", ["twelve", "12 SMS", [12], {"v": 12}])
def test_non_numeric_values_are_refused(raw: object) -> None:
    with pytest.raises(OneNceResponseError, match="volume"):
        opt_float({"volume": raw}, "volume")


def test_integers_accept_integral_strings_and_floats() -> None:
    assert opt_int({"id": "4"}, "id") == 4
    assert opt_int({"id": 4.0}, "id") == 4
    assert opt_int({}, "id") is None


def test_fractional_value_is_refused_as_integer() -> None:
    with pytest.raises(OneNceResponseError, match="not an integer"):
        opt_int({"id": "4.5"}, "id")


def test_required_values_missing_are_refused() -> None:
    with pytest.raises(OneNceResponseError, match="id missing"):
        req_int({}, "id")
    with pytest.raises(OneNceResponseError, match="iccid missing"):
        req_str({"iccid": "  "}, "iccid")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(861234567890123, "861234567890123"), (8.61234567890123e14, "861234567890123")],
)
def test_identifiers_sent_as_numbers_read_as_strings(
    raw: object, expected: str
) -> None:
    assert opt_str({"imei": raw}, "imei") == expected


@pytest.mark.parametrize("raw", [True, 1.5, ["x"], {"a": 1}])
def test_non_string_identifiers_are_refused(raw: object) -> None:
    with pytest.raises(OneNceResponseError, match="imei"):
        opt_str({"imei": raw}, "imei")


def test_blank_string_is_absent() -> None:
    assert opt_str({"label": "  "}, "label") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(True, True), ("false", False), (" TRUE ", True), (None, None)],
)
def test_booleans_may_arrive_as_strings(raw: object, expected: bool | None) -> None:
    assert opt_bool({"imei_lock": raw}, "imei_lock") is expected


@pytest.mark.parametrize("raw", [1, "yes", "0"])
def test_other_boolean_spellings_are_refused(raw: object) -> None:
    with pytest.raises(OneNceResponseError, match="imei_lock"):
        opt_bool({"imei_lock": raw}, "imei_lock")


def test_objects_and_arrays_are_checked() -> None:
    assert as_object({"a": 1}, "x") == {"a": 1}
    assert as_list([1], "x") == [1]
    assert opt_object({"status": None}, "status") == {}
    with pytest.raises(OneNceResponseError, match="SIM is not an object"):
        as_object([], "SIM")
    with pytest.raises(OneNceResponseError, match="SIM list is not an array"):
        as_list({}, "SIM list")
    with pytest.raises(OneNceResponseError, match="status is not an object"):
        opt_object({"status": "x"}, "status")


def test_unreadable_date_is_refused() -> None:
    with pytest.raises(OneNceResponseError, match="expiry_date"):
        opt_datetime({"expiry_date": "next tuesday"}, "expiry_date")


# --- token -------------------------------------------------------------------


def test_token_info_reads_who_we_are_without_the_token(
    load_api_fixture: Loader,
) -> None:
    info = TokenInfo.from_api(load_api_fixture("token.json"))
    assert info == TokenInfo(
        expires_in=3600.0, user_id="api-user-17", organisation_id=None, scope="all"
    )
    assert "eyJ" not in repr(info)


def test_token_info_accepts_older_and_spec_spellings() -> None:
    info = TokenInfo.from_api({"user_id": "u1", "orgId": 4567})
    assert (info.user_id, info.organisation_id, info.expires_in) == (
        "u1",
        "4567",
        3600.0,
    )


# --- SIMs --------------------------------------------------------------------


def test_sim_reads_a_complete_record(load_api_fixture: Loader) -> None:
    sim = Sim.from_api(load_api_fixture("sims_page_quirks.json")[0])
    assert sim == Sim(
        iccid="8988228066000000101",
        iccid_with_luhn="89882280660000001017",
        imsi="901405100000101",
        imsi_2="901405100000901",
        current_imsi="901405100000101",
        msisdn="882285100000101",
        imei="3526510721968301",
        imei_lock=True,
        enabled=True,
        status="Enabled",
        activation_date=datetime(2024, 3, 9, 7, 59, 9, tzinfo=UTC),
        ip_address="100.100.100.101",
        data_quota_mb=500.0,
        data_quota_level=QuotaLevel.SUFFICIENT,
        sms_quota=250.0,
        sms_quota_level=QuotaLevel.SUFFICIENT,
        label="Boiler room",
    )


def test_sim_reads_numbers_sent_as_strings(load_api_fixture: Loader) -> None:
    sim = Sim.from_api(load_api_fixture("sims_page_quirks.json")[1])
    assert sim.data_quota_mb == 12.5
    assert sim.sms_quota == 37.0
    assert sim.data_quota_level is QuotaLevel.LOW
    assert sim.sms_quota_level is QuotaLevel.LOW


def test_sim_reads_imei_sent_as_number(load_api_fixture: Loader) -> None:
    sim = Sim.from_api(load_api_fixture("sims_page_quirks.json")[1])
    assert sim.imei == "861234567890123"


def test_sim_without_label_and_imei_has_none(load_api_fixture: Loader) -> None:
    sim = Sim.from_api(load_api_fixture("sims_page_quirks.json")[2])
    assert (sim.label, sim.imei) == (None, None)
    assert sim.enabled is False
    assert sim.sms_quota == 0.0
    assert sim.sms_quota_level is QuotaLevel.EXHAUSTED


def test_sim_with_status_activated_counts_as_enabled(load_api_fixture: Loader) -> None:
    sim = Sim.from_api(load_api_fixture("sim_activated.json"))
    assert sim.enabled is True
    assert sim.status == "Activated"


def test_sim_with_non_numeric_sms_quota_is_refused(load_api_fixture: Loader) -> None:
    raw = load_api_fixture("sims_page_quirks.json")[0] | {"current_quota_SMS": "n/a"}
    with pytest.raises(OneNceResponseError, match="current_quota_SMS"):
        Sim.from_api(raw)


@pytest.mark.parametrize("raw", [None, "8988228066000000101", ["x"], 42])
def test_sim_that_is_not_an_object_is_refused(raw: object) -> None:
    with pytest.raises(OneNceResponseError, match="SIM is not an object"):
        Sim.from_api(raw)


@pytest.mark.parametrize("status", ["Blocked", "", "Pending-Activation"])
def test_sim_with_unknown_status_is_refused(
    load_api_fixture: Loader, status: str
) -> None:
    raw = load_api_fixture("sims_page_quirks.json")[0] | {"status": status}
    with pytest.raises(OneNceResponseError, match="status"):
        Sim.from_api(raw)


def test_sim_with_malformed_iccid_is_refused(load_api_fixture: Loader) -> None:
    raw = load_api_fixture("sims_page_quirks.json")[0] | {"iccid": "89882280/../x"}
    with pytest.raises(OneNceResponseError, match="iccid"):
        Sim.from_api(raw)


def test_sim_with_unknown_quota_level_is_refused(load_api_fixture: Loader) -> None:
    raw = load_api_fixture("sims_page_quirks.json")[0] | {"quota_status_SMS": {"id": 7}}
    with pytest.raises(OneNceResponseError, match="quota_status_SMS"):
        Sim.from_api(raw)


# --- quotas ------------------------------------------------------------------


def test_sms_quota_reads_v2_fields_and_zoneless_dates(load_api_fixture: Loader) -> None:
    quota = Quota.from_api(load_api_fixture("quota_sms_v2.json"))
    assert quota == Quota(
        volume=42.0,
        total_volume=50.0,
        accumulated_total_volume=300.0,
        last_volume_added=50.0,
        threshold_percentage=20.0,
        threshold_volume=10.0,
        status=QuotaStatus.ACTIVE,
        status_text="ACTIVE",
        expiry_date=datetime(2031, 11, 26, tzinfo=UTC),
        last_status_change_date=datetime(2024, 11, 26, 8, 15, 30, tzinfo=UTC),
    )
    assert quota.known is True


def test_data_quota_keeps_negative_volume_and_throughput(
    load_api_fixture: Loader,
) -> None:
    quota = Quota.from_api(load_api_fixture("quota_data_v1.json"))
    assert quota.volume == -0.25
    assert quota.total_volume == 500.0
    assert quota.peak_throughput == 1_000_000.0
    assert quota.status is None
    assert quota.expiry_date == datetime(2031, 11, 26, tzinfo=UTC)


def test_empty_quota_object_is_unknown_not_zero(load_api_fixture: Loader) -> None:
    quota = Quota.from_api(load_api_fixture("quota_empty.json"))
    assert quota.known is False
    assert quota.volume is None
    assert quota == Quota()


def test_quota_that_is_not_an_object_is_refused() -> None:
    """No body at all is the client's to read as "not found", never "unknown"."""
    with pytest.raises(OneNceResponseError, match="quota is not an object"):
        Quota.from_api(None)


def test_quota_status_may_be_a_plain_string() -> None:
    assert Quota.from_api({"status": "EXHAUSTED"}).status is QuotaStatus.EXHAUSTED


@pytest.mark.parametrize(
    "status", [{"id": 9, "description": "FROZEN"}, "SUSPENDED_BY_OPERATOR"]
)
def test_quota_with_a_new_status_keeps_its_volume(status: object) -> None:
    quota = Quota.from_api({"volume": "12", "total_volume": 50, "status": status})
    assert (quota.volume, quota.total_volume) == (12.0, 50.0)
    assert quota.status is None
    assert quota.status_text in ("FROZEN", "SUSPENDED_BY_OPERATOR")


@pytest.mark.parametrize("status", [7, ["ACTIVE"], {"description": ["ACTIVE"]}])
def test_quota_with_a_status_of_the_wrong_shape_is_refused(status: object) -> None:
    with pytest.raises(OneNceResponseError, match=r"status|description"):
        Quota.from_api({"volume": 1, "status": status})


def test_quota_with_non_numeric_volume_is_refused() -> None:
    with pytest.raises(OneNceResponseError, match="volume"):
        Quota.from_api({"volume": "plenty"})


# --- connectivity ------------------------------------------------------------


def test_v2_status_reads_rat_and_ip_from_pdp_contexts(load_api_fixture: Loader) -> None:
    connectivity = Connectivity.from_api(load_api_fixture("status_v2.json"))
    assert connectivity == Connectivity(
        status=ConnectivityStatus.ONLINE,
        status_text="ONLINE",
        operator="Telekom Deutschland",
        operator_country="Germany",
        country="Germany",
        country_iso="de",
        mcc="262",
        last_updated=datetime(2024, 11, 25, 9, 59, 5, tzinfo=UTC),
        services=("GPRS", "SMS"),
        radio_access_type="4G",
        ue_ip_address="10.199.5.223",
    )


def test_v1_status_reads_plain_status_and_pdp_context(load_api_fixture: Loader) -> None:
    connectivity = Connectivity.from_api(load_api_fixture("status_v1.json"))
    assert connectivity.status is ConnectivityStatus.ATTACHED
    assert connectivity.radio_access_type == "NB-IoT"
    assert connectivity.ue_ip_address == "10.199.5.224"


def test_status_without_data_session_has_no_rat() -> None:
    connectivity = Connectivity.from_api({"description": "OFFLINE", "pdp_contexts": []})
    assert connectivity.status is ConnectivityStatus.OFFLINE
    assert connectivity.radio_access_type is None


@pytest.mark.parametrize(
    "body", [{}, {"status": ""}, {"status": {"id": 1}}, {"location": {}}]
)
def test_status_answer_without_any_state_is_refused(body: dict[str, Any]) -> None:
    with pytest.raises(OneNceResponseError, match="status: missing"):
        Connectivity.from_api(body)


@pytest.mark.parametrize(
    "body",
    [
        {"status": {"description": "DREAMING"}},
        {"status": "ROAMING_RESTRICTED"},
        {"description": "DETACHED"},
    ],
)
def test_status_with_a_new_state_keeps_the_location(
    load_api_fixture: Loader, body: dict[str, Any]
) -> None:
    raw = load_api_fixture("status_v2.json")
    del raw["status"]
    connectivity = Connectivity.from_api(raw | body)
    assert connectivity.status is None
    assert connectivity.status_text in ("DREAMING", "ROAMING_RESTRICTED", "DETACHED")
    assert (connectivity.operator, connectivity.radio_access_type) == (
        "Telekom Deutschland",
        "4G",
    )


def test_status_word_is_read_in_any_case() -> None:
    assert Connectivity.from_api({"status": "Online"}).status is (
        ConnectivityStatus.ONLINE
    )


@pytest.mark.parametrize("status", [3, ["ONLINE"]])
def test_status_of_the_wrong_shape_is_refused(status: object) -> None:
    with pytest.raises(OneNceResponseError, match="status"):
        Connectivity.from_api({"status": status})


# --- SMS ---------------------------------------------------------------------


def test_v2_sms_list_reads_mt_and_mo(load_api_fixture: Loader) -> None:
    mt, mo = (Sms.from_api(item) for item in load_api_fixture("sms_list_v2.json"))
    assert (mt.sms_id, mt.direction, mt.status) == (
        "6026",
        SmsDirection.MT,
        DeliveryStatus.DELIVERED,
    )
    assert mt.delivery_date == datetime(2024, 11, 25, 7, 33, 17, tzinfo=UTC)
    assert mt.udh is None
    assert (mo.sms_id, mo.direction, mo.dcs, mo.payload) == (
        "6202",
        SmsDirection.MO,
        0,
        "temp=21.5",
    )
    assert mo.submit_date == datetime(2024, 11, 25, 7, 34, 2, tzinfo=UTC)


def test_v1_sms_reads_pending_binary_part(load_api_fixture: Loader) -> None:
    sms = Sms.from_api(load_api_fixture("sms_v1.json"))
    assert sms.status is DeliveryStatus.BUFFERED
    assert sms.status_id == 3
    assert (sms.dcs, sms.udh, sms.payload, sms.retry_count) == (
        8,
        "050003CC0201",
        "00480069",
        1,
    )
    assert sms.delivery_date is None
    assert sms.source_address == "1234567890"


def test_sms_with_unknown_status_is_refused() -> None:
    with pytest.raises(OneNceResponseError, match="status"):
        Sms.from_api({"id": 1, "status": {"id": 99, "description": "LOST"}})


def test_sms_without_id_is_refused() -> None:
    with pytest.raises(OneNceResponseError, match="id"):
        Sms.from_api({"payload": "hello"})


# --- events ------------------------------------------------------------------


def test_v2_events_read_nested_descriptions(load_api_fixture: Loader) -> None:
    first, second = (SimEvent.from_api(e) for e in load_api_fixture("events_v2.json"))
    assert first == SimEvent(
        event_id=30211,
        timestamp=datetime(2024, 11, 25, 12, 7, 9, tzinfo=UTC),
        event_type="Delete PDP Context",
        description="PDP Context deleted.",
        severity="INFO",
        source="Network",
        alert=False,
    )
    assert (second.event_id, second.alert, second.severity) == (30198, True, "WARN")


def test_v1_events_read_flat_strings(load_api_fixture: Loader) -> None:
    event = SimEvent.from_api(load_api_fixture("events_v1.json")["events"][0])
    assert event.event_type == "Status of SIM changed from 'Issued' to 'Activated'"
    assert (event.severity, event.alert, event.event_id) == ("Info", False, None)


def test_v1_events_name_the_network_in_flat_strings() -> None:
    event = SimEvent.from_api(
        {
            "timestamp": "2018-05-07T14:08:05.000+0000",
            "event_type": "Update location",
            "operator": "T-Mobile",
            "country": "Germany",
            "alert": False,
        }
    )
    assert (event.operator, event.country) == ("T-Mobile", "Germany")


def test_v2_events_name_the_network_in_their_detail() -> None:
    event = SimEvent.from_api(
        {
            "id": 1,
            "event_type": {"id": 1, "description": "Update location"},
            "detail": {
                "id": 2,
                "name": "Telekom",
                "country": {"id": 74, "name": "Germany", "iso_code": "de"},
                "mnc": [{"id": 1, "mnc": "01"}],
            },
        }
    )
    assert (event.operator, event.country) == ("Telekom", "Germany")


def test_events_without_a_network_have_none(load_api_fixture: Loader) -> None:
    event = SimEvent.from_api(load_api_fixture("events_v2.json")[0])
    assert (event.operator, event.country) == (None, None)


# --- v1 usage and limits -----------------------------------------------------


def test_usage_is_oldest_first_without_total_row(load_api_fixture: Loader) -> None:
    usage = Usage.from_api(load_api_fixture("usage_v1.json"))
    assert [day.day for day in usage.days] == [
        date(2021, 11, 14),
        date(2021, 11, 15),
        date(2021, 11, 16),
    ]


def test_usage_splits_mt_and_mo_sms(load_api_fixture: Loader) -> None:
    newest = Usage.from_api(load_api_fixture("usage_v1.json")).days[-1]
    assert (newest.sms_mt, newest.sms_mo, newest.sms_total) == (2, 1, 3)
    assert newest.data_mb == 1.25


def test_usage_with_garbled_count_is_refused(load_api_fixture: Loader) -> None:
    raw = load_api_fixture("usage_v1.json")
    raw["stats"][0]["sms"]["volume_tx"] = "two"
    with pytest.raises(OneNceResponseError, match="volume_tx"):
        Usage.from_api(raw)


@pytest.mark.parametrize("empty", [None, {}])
def test_usage_day_without_sms_or_data_used_none(empty: object) -> None:
    raw: dict[str, Any] = {"date": "2021-11-14"}
    if empty is not None:
        raw |= {"sms": empty, "data": empty}
    (day,) = Usage.from_api({"stats": [raw]}).days
    assert (day.sms_mt, day.sms_mo, day.data_mb) == (0, 0, 0.0)


@pytest.mark.parametrize("missing", ["volume_tx", "volume_rx"])
def test_usage_sms_row_without_its_direction_is_refused(
    load_api_fixture: Loader, missing: str
) -> None:
    """1NCE documents both counts; a guessed 0 would be imported for good."""
    raw = load_api_fixture("usage_v1.json")
    del raw["stats"][0]["sms"][missing]
    with pytest.raises(OneNceResponseError, match=f"{missing} missing"):
        Usage.from_api(raw)


def test_usage_data_row_without_volume_is_refused(load_api_fixture: Loader) -> None:
    raw = load_api_fixture("usage_v1.json")
    del raw["stats"][0]["data"]["volume"]
    with pytest.raises(OneNceResponseError, match="volume: missing"):
        Usage.from_api(raw)


def test_usage_without_stats_is_empty() -> None:
    assert Usage.from_api({}).days == []


def test_limits_read_set_and_unset_limits(load_api_fixture: Loader) -> None:
    limits = Limits.from_api(load_api_fixture("limits_v1.json"))
    assert limits == Limits(
        data=Limit(limit_id=3, limit="1024", unit="MB"),
        sms_mt=Limit(limit_id=2, limit="10", unit="SMS"),
        sms_mo=None,
    )


def test_limits_absent_means_none_set() -> None:
    assert Limits.from_api(None) == Limits(data=None, sms_mt=None, sms_mo=None)


@pytest.mark.parametrize(
    ("value", "unlimited"),
    [
        ("10", False),
        ("0", False),
        ("1024.5", False),
        (None, True),
        ("", True),
        ("unlimited", True),
        ("-1", True),
        ("inf", True),
    ],
)
def test_a_limit_without_a_number_lifts_the_limit(
    value: str | None, unlimited: bool
) -> None:
    assert Limit(limit_id=1, limit=value, unit="SMS").unlimited is unlimited


def test_an_sms_without_a_status_makes_no_delivery_report() -> None:
    sms = Sms.from_api({"id": "6026", "sms_type": {"id": 1}})

    assert DeliveryReport.from_sms("8988228066000000001", sms) is None
