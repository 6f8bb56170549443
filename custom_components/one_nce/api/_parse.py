"""Lenient-but-honest readers for values in 1NCE's JSON, answered or pushed.

1NCE sends numbers as JSON numbers or as numeric strings, leaves unset keys
out and sometimes sends `{}`; these readers accept exactly those variations.
Anything else that is present but malformed raises `OneNceResponseError`: a
garbled value must never become a plausible-looking zero on someone's
dashboard.

The same readers serve the API's answers (`models.py`) and what 1NCE pushes
(`forwarder.py`), whose bodies come from the internet: so a message names the
field and what is wrong with it, and never repeats the value itself (only
the small integers that were out of range). A pushed body's parser passes the
message on as its refusal's reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
import math
import re
from typing import Any

from .exceptions import OneNceResponseError
from .timeutil import parse_api_datetime

JsonObject = Mapping[str, Any]

# Integers as strings: ASCII digits only (`int()` would also take "6_202" and
# Arabic-Indic digits), an optional minus so that "-1" is reported as out of
# range rather than as garbage, and a length cap so that a megabyte of digits
# is refused before `int()` spends time on it.
_INTEGER = re.compile(r"-?\d{1,20}", re.ASCII)
_MAX_INT = 2**63 - 1


def _malformed(field: str, problem: str) -> OneNceResponseError:
    return OneNceResponseError(f"{field} {problem}")


def as_object(value: object, what: str) -> JsonObject:
    """Return `value` as a JSON object or fail naming what was expected."""
    if not isinstance(value, Mapping):
        raise _malformed(what, "is not an object")
    return value


def as_list(value: object, what: str) -> list[Any]:
    """Return `value` as a JSON array or fail naming what was expected."""
    if not isinstance(value, list):
        raise _malformed(what, "is not an array")
    return value


def find_object(
    data: JsonObject, key: str, field: str | None = None
) -> JsonObject | None:
    """Return a nested object; absent or null is None (not the same as `{}`)."""
    value = data.get(key)
    if value is None:
        return None
    return as_object(value, field or key)


def opt_object(data: JsonObject, key: str, field: str | None = None) -> JsonObject:
    """Return a nested object, treating absent or null as empty."""
    return find_object(data, key, field) or {}


def opt_str(
    data: JsonObject,
    key: str,
    field: str | None = None,
    *,
    max_length: int | None = None,
) -> str | None:
    """Return a string field, stripped; blank is None.

    Integral numbers are accepted as their digits: 1NCE sends `imei` and
    addresses as numbers at times. `max_length` refuses longer text, where a
    value from the internet would otherwise become a key or an attribute.
    """
    field = field or key
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        raise _malformed(field, "is not a string or number")
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        text = str(int(value))
    elif isinstance(value, str):
        text = value.strip()
    else:
        raise _malformed(field, "is not a string or number")
    if max_length is not None and len(text) > max_length:
        raise _malformed(field, f"longer than {max_length} characters")
    return text or None


def req_str(data: JsonObject, key: str, field: str | None = None) -> str:
    """Return a string field that must be present."""
    value = opt_str(data, key, field)
    if value is None:
        raise _malformed(field or key, "missing")
    return value


def opt_float(data: JsonObject, key: str, field: str | None = None) -> float | None:
    """Return a number field; numeric strings count, empty strings are absent."""
    field = field or key
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise _malformed(field, "is a boolean, not a number")
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value)
        except ValueError:
            raise _malformed(field, "is not a number") from None
    else:
        raise _malformed(field, "is not a number")
    if not math.isfinite(result):
        raise _malformed(field, "is not a finite number")
    return result


def opt_int(
    data: JsonObject,
    key: str,
    field: str | None = None,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int | None:
    """Return an integer field; absent, null or blank is None.

    Numeric strings count when they are plain ASCII digits, and floats when
    they are integral (some JSON encoders write `6202.0`). Booleans are
    refused although Python counts them as integers: `true` is no count and
    no id. The range is checked against `minimum` and `maximum` (and
    64 bits, what 1NCE's ids are).
    """
    field = field or key
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        raise _malformed(field, "is not an integer")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float):
        if not (math.isfinite(value) and value.is_integer()):
            raise _malformed(field, "is not an integer")
        number = int(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if not _INTEGER.fullmatch(text):
            raise _malformed(field, "is not an integer")
        number = int(text)
    else:
        raise _malformed(field, "is not an integer")
    if minimum is not None and number < minimum:
        raise _malformed(field, f"{number} < {minimum}")
    if maximum is not None and number > maximum:
        raise _malformed(field, f"{number} > {maximum}")
    if abs(number) > _MAX_INT:
        raise _malformed(field, "is out of range")
    return number


def req_int(
    data: JsonObject,
    key: str,
    field: str | None = None,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """Return an integer field that must be present."""
    value = opt_int(data, key, field, minimum=minimum, maximum=maximum)
    if value is None:
        raise _malformed(field or key, "missing")
    return value


def req_id(data: JsonObject, key: str, field: str | None = None) -> str:
    """Return a 64-bit id (of an SMS, say) as its decimal digits.

    1NCE's ids outgrow what a JavaScript number (or a float) holds exactly,
    and Platform 2.0 sends them as strings; their digits are the one form
    that stays exact everywhere. `6202`, `"6202"` and `6202.0` are one id.
    """
    return str(req_int(data, key, field, minimum=0))


def opt_bool(data: JsonObject, key: str, field: str | None = None) -> bool | None:
    """Return a boolean field; "true"/"false" strings are accepted."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise _malformed(field or key, "is not a boolean")


def opt_datetime(
    data: JsonObject, key: str, field: str | None = None
) -> datetime | None:
    """Return a date field as aware UTC; 1NCE omits the zone when it means UTC."""
    try:
        return parse_api_datetime(data.get(key))
    except ValueError as err:
        raise OneNceResponseError(f"{field or key}: {err}") from None
