"""Dates as 1NCE writes them, and as it wants them back.

1NCE's endpoints disagree about the shape of a date: the SMS forwarder and the
quota endpoints send `2018-08-17 16:31:51` with no zone (meaning UTC), others
send ISO 8601 with `+0000`, `+00:00` or `Z`, usage statistics send a bare day.
Everything is read here into one shape, an aware UTC `datetime`, so that no
caller ever compares a naive date with an aware one or guesses a zone.

The reader is deliberately not `datetime.fromisoformat`: that also accepts week
dates, ordinal dates and compact forms 1NCE never sends, and a value in such a
shape is more likely garbage than a date. Error messages never repeat the value:
some of it arrives from the internet and callers log these messages.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
import re

_DATETIME = re.compile(
    r"""
    (?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})
    (?:
        [T\ ]
        (?P<hour>\d{2}):(?P<minute>\d{2}):(?P<second>\d{2})
        (?:\.(?P<fraction>\d{1,9}))?
        (?:
            (?P<utc>Z)
            | (?P<sign>[+-])(?P<off_hour>\d{2})(?::?(?P<off_minute>\d{2}))?
        )?
    )?
    """,
    re.ASCII | re.IGNORECASE | re.VERBOSE,
)


def parse_api_datetime(value: object) -> datetime | None:
    """Read any of 1NCE's date forms as an aware UTC datetime.

    Absent values (`None`, `""`) are `None` because 1NCE leaves dates empty
    where nothing has happened yet. A date without a zone is UTC, which is
    what 1NCE means by it; a bare day is that day's midnight UTC. Anything
    else raises `ValueError`, and the caller decides whether that is fatal.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected a date string, got {type(value).__name__}")
    text = value.strip()
    if not text:
        return None
    match = _DATETIME.fullmatch(text)
    if match is None:
        raise ValueError("not a recognised date/time format")
    zone = _zone(match)
    fraction = match["fraction"] or ""
    try:
        parsed = datetime(
            int(match["year"]),
            int(match["month"]),
            int(match["day"]),
            int(match["hour"] or 0),
            int(match["minute"] or 0),
            int(match["second"] or 0),
            # Truncated, not rounded: rounding 999999.5 would need a carry.
            int(fraction[:6].ljust(6, "0")),
            tzinfo=zone,
        )
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError("date/time out of range") from None


def _zone(match: re.Match[str]) -> timezone:
    """Return the zone a matched date names; none named means UTC."""
    if match["sign"] is None:
        return UTC
    hours = int(match["off_hour"])
    minutes = int(match["off_minute"] or 0)
    if hours > 23 or minutes > 59:
        raise ValueError("time zone offset out of range")
    offset = timedelta(hours=hours, minutes=minutes)
    return timezone(-offset if match["sign"] == "-" else offset)


def format_api_datetime(dt: datetime) -> str:
    """Write a datetime the way 1NCE's request bodies want it (`expiry_date`).

    The form is RFC 3339 in UTC with milliseconds, as in 1NCE's own examples
    (`2028-03-14T16:10:29.000+00:00`). A naive datetime is refused rather than
    guessed at: an SMS expiry silently shifted by the host's zone would be a
    bug nobody notices until messages expire early.
    """
    if dt.utcoffset() is None:
        raise ValueError("naive datetime: give it a time zone")
    return dt.astimezone(UTC).isoformat(timespec="milliseconds")
