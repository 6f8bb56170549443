"""Tests for reading 1NCE's many date forms and writing the one it wants back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from custom_components.one_nce.api.timeutil import (
    format_api_datetime,
    parse_api_datetime,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        # SMS forwarder and SMS list: no zone, meaning UTC.
        ("2018-08-17 16:31:51", datetime(2018, 8, 17, 16, 31, 51, tzinfo=UTC)),
        # Quota expiry.
        ("2031-11-26 00:00:00", datetime(2031, 11, 26, tzinfo=UTC)),
        # SIM activation date and events: milliseconds and a colon-less offset.
        (
            "2018-08-15T09:53:17.000+0000",
            datetime(2018, 8, 15, 9, 53, 17, tzinfo=UTC),
        ),
        (
            "2018-03-09T07:59:09.000+0000",
            datetime(2018, 3, 9, 7, 59, 9, tzinfo=UTC),
        ),
        # Connectivity status: Zulu time.
        ("2019-09-29T07:33:15.000Z", datetime(2019, 9, 29, 7, 33, 15, tzinfo=UTC)),
        ("2024-08-24T13:13:21Z", datetime(2024, 8, 24, 13, 13, 21, tzinfo=UTC)),
        # 1NCE's own request example for expiry_date.
        (
            "2028-03-14T16:10:29.000+00:00",
            datetime(2028, 3, 14, 16, 10, 29, tzinfo=UTC),
        ),
        # Usage statistics: a bare day is its midnight UTC.
        ("2021-11-14", datetime(2021, 11, 14, tzinfo=UTC)),
    ],
)
def test_every_form_1nce_sends_reads_as_the_same_utc_instant(
    value: str, expected: datetime
) -> None:
    parsed = parse_api_datetime(value)

    assert parsed == expected
    assert parsed is not None
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize("value", [None, "", "   "])
def test_absent_dates_are_none(value: object) -> None:
    assert parse_api_datetime(value) is None


def test_surrounding_whitespace_is_ignored() -> None:
    assert parse_api_datetime(" 2018-08-17 16:31:51\n") == datetime(
        2018, 8, 17, 16, 31, 51, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-08-24T15:13:21+02:00", datetime(2024, 8, 24, 13, 13, 21, tzinfo=UTC)),
        ("2024-08-24T15:13:21+0200", datetime(2024, 8, 24, 13, 13, 21, tzinfo=UTC)),
        ("2024-08-24T08:43:21-04:30", datetime(2024, 8, 24, 13, 13, 21, tzinfo=UTC)),
        ("2024-08-24T15:13:21+02", datetime(2024, 8, 24, 13, 13, 21, tzinfo=UTC)),
        # Crossing midnight backwards into the previous day and month.
        ("2024-09-01T01:00:00+02:00", datetime(2024, 8, 31, 23, 0, tzinfo=UTC)),
    ],
)
def test_other_offsets_are_converted_to_utc(value: str, expected: datetime) -> None:
    parsed = parse_api_datetime(value)

    assert parsed == expected
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("value", "microsecond"),
    [
        ("2024-08-24T13:13:21.5Z", 500000),
        ("2024-08-24T13:13:21.123Z", 123000),
        ("2024-08-24T13:13:21.123456Z", 123456),
        # Nanoseconds are cut, not rounded (rounding up would carry a second).
        ("2024-08-24T13:13:21.999999999Z", 999999),
    ],
)
def test_fractions_of_a_second_are_kept_to_the_microsecond(
    value: str, microsecond: int
) -> None:
    parsed = parse_api_datetime(value)

    assert parsed is not None
    assert parsed.second == 21
    assert parsed.microsecond == microsecond


def test_lowercase_separator_and_zulu_are_accepted() -> None:
    assert parse_api_datetime("2024-08-24t13:13:21z") == datetime(
        2024, 8, 24, 13, 13, 21, tzinfo=UTC
    )


@pytest.mark.parametrize("value", [1534523511, 1534523511.0, True, ["2021-11-14"]])
def test_non_strings_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match=r"^expected a date string, got "):
        parse_api_datetime(value)


@pytest.mark.parametrize(
    "value",
    [
        "yesterday",
        "2018-08-17 16:31",  # no seconds
        "2018-08-17T16:31:51.Z",  # dot without digits
        "17.08.2018 16:31:51",
        "2018-W33-5",  # ISO week date, valid ISO 8601 but not 1NCE's
        "20180817T163151Z",  # compact ISO 8601
        "2018-08-17 16:31:51 UTC",
        "2018-08-17 16:31:51+00:00:00",
        "2018-08-17 16:31:51.0000000001Z",  # more than nanoseconds
        "2018-08-17 16:31:51 +00:00",
        "\uff12\uff10\uff11\uff18-08-17",  # full-width digits
    ],
)
def test_unknown_shapes_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match=r"^not a recognised date/time format$"):
        parse_api_datetime(value)


@pytest.mark.parametrize(
    "value",
    [
        "2018-13-01",
        "2018-02-30 00:00:00",
        "2018-08-17 24:00:00",
        "2018-08-17 23:59:60",  # leap seconds do not fit a datetime
        "0000-01-01",
        # A valid local time whose UTC instant lies before year 1.
        "0001-01-01T00:30:00+01:00",
        "9999-12-31T23:59:59-01:00",
    ],
)
def test_impossible_dates_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match=r"^date/time out of range$"):
        parse_api_datetime(value)


@pytest.mark.parametrize(
    "value", ["2018-08-17T16:31:51+24:00", "2018-08-17T16:31:51+0160"]
)
def test_impossible_offsets_are_refused(value: str) -> None:
    with pytest.raises(ValueError, match=r"^time zone offset out of range$"):
        parse_api_datetime(value)


def test_error_messages_do_not_repeat_the_value() -> None:
    secret = "2018-08-17 my pin is 1234"

    with pytest.raises(ValueError, match="recognised") as err:
        parse_api_datetime(secret)

    assert "1234" not in str(err.value)


def test_format_uses_1nces_example_form() -> None:
    assert (
        format_api_datetime(datetime(2028, 3, 14, 16, 10, 29, tzinfo=UTC))
        == "2028-03-14T16:10:29.000+00:00"
    )


def test_format_converts_other_zones_to_utc() -> None:
    berlin_summer = timezone(timedelta(hours=2))

    assert (
        format_api_datetime(datetime(2028, 3, 14, 18, 10, 29, 250000, berlin_summer))
        == "2028-03-14T16:10:29.250+00:00"
    )


def test_format_cuts_below_milliseconds() -> None:
    assert (
        format_api_datetime(datetime(2028, 3, 14, 16, 10, 29, 999999, tzinfo=UTC))
        == "2028-03-14T16:10:29.999+00:00"
    )


def test_format_pads_early_years_to_four_digits() -> None:
    assert (
        format_api_datetime(datetime(999, 1, 2, 3, 4, 5, tzinfo=UTC))
        == "0999-01-02T03:04:05.000+00:00"
    )


def test_format_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match=r"^naive datetime"):
        format_api_datetime(datetime(2028, 3, 14, 16, 10, 29))


@pytest.mark.parametrize(
    "dt",
    [
        datetime(2028, 3, 14, 16, 10, 29, tzinfo=UTC),
        datetime(2028, 3, 14, 16, 10, 29, 123000, tzinfo=UTC),
        datetime(2024, 2, 29, 23, 59, 59, 999000, tzinfo=timezone(-timedelta(hours=5))),
    ],
)
def test_format_then_parse_gives_the_same_instant(dt: datetime) -> None:
    assert parse_api_datetime(format_api_datetime(dt)) == dt
