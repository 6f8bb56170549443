"""Lenient-but-honest readers for values in 1NCE's JSON.

The live API sends numbers as strings, omits unset keys and sometimes sends `{}`.
These readers accept exactly those variations. Anything else that is present but
malformed raises `OneNceResponseError`: a garbled value must never become a
plausible-looking zero on someone's dashboard.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
import math
from typing import Any

from .exceptions import OneNceResponseError
from .timeutil import parse_api_datetime

JsonObject = Mapping[str, Any]


def as_object(value: object, what: str) -> JsonObject:
    """Return `value` as a JSON object or fail naming what was expected."""
    if not isinstance(value, Mapping):
        raise OneNceResponseError(
            f"{what}: expected an object, got {type(value).__name__}"
        )
    return value


def as_list(value: object, what: str) -> list[Any]:
    """Return `value` as a JSON array or fail naming what was expected."""
    if not isinstance(value, list):
        raise OneNceResponseError(
            f"{what}: expected an array, got {type(value).__name__}"
        )
    return value


def opt_object(data: JsonObject, key: str) -> JsonObject:
    """Return a nested object, treating absent or null as empty."""
    value = data.get(key)
    if value is None:
        return {}
    return as_object(value, key)


def opt_str(data: JsonObject, key: str) -> str | None:
    """Return a string field; numbers are accepted (1NCE sends `imei` as one)."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        raise OneNceResponseError(f"{key}: expected a string, got a boolean")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, str):
        value = value.strip()
        return value or None
    raise OneNceResponseError(f"{key}: expected a string, got {type(value).__name__}")


def req_str(data: JsonObject, key: str) -> str:
    """Return a string field that must be present."""
    value = opt_str(data, key)
    if value is None:
        raise OneNceResponseError(f"{key}: missing")
    return value


def opt_float(data: JsonObject, key: str) -> float | None:
    """Return a number field; numeric strings count, empty strings are absent."""
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise OneNceResponseError(f"{key}: expected a number, got a boolean")
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value)
        except ValueError:
            raise OneNceResponseError(f"{key}: {value!r} is not a number") from None
    else:
        raise OneNceResponseError(
            f"{key}: expected a number, got {type(value).__name__}"
        )
    if not math.isfinite(result):
        raise OneNceResponseError(f"{key}: {value!r} is not a finite number")
    return result


def opt_int(data: JsonObject, key: str) -> int | None:
    """Return an integer field; integral numeric strings and floats count."""
    value = opt_float(data, key)
    if value is None:
        return None
    if not value.is_integer():
        raise OneNceResponseError(f"{key}: {data.get(key)!r} is not an integer")
    return int(value)


def req_int(data: JsonObject, key: str) -> int:
    """Return an integer field that must be present."""
    value = opt_int(data, key)
    if value is None:
        raise OneNceResponseError(f"{key}: missing")
    return value


def opt_bool(data: JsonObject, key: str) -> bool | None:
    """Return a boolean field; "true"/"false" strings are accepted."""
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise OneNceResponseError(f"{key}: expected a boolean, got {value!r}")


def opt_datetime(data: JsonObject, key: str) -> datetime | None:
    """Return a date field as aware UTC; 1NCE omits the zone when it means UTC."""
    try:
        return parse_api_datetime(data.get(key))
    except ValueError as err:
        raise OneNceResponseError(f"{key}: {err}") from None
