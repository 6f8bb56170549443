"""The actions as described to people: every field and error translated."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from .services_common import (
    INTEGRATION,
)

# --- descriptions and translations ---------------------------------------------


def _fields(service: dict[str, Any]) -> dict[str, Any]:
    """Flatten a services.yaml field list, sections included."""
    fields: dict[str, Any] = {}
    for name, field in (service.get("fields") or {}).items():
        fields.update(field.get("fields", {name: field}))
    return fields


@pytest.mark.parametrize(
    "path",
    ["strings.json", "translations/en.json", "translations/de.json"],
)
def test_every_action_field_and_error_is_translated(path: str) -> None:
    """The UI shows a name and description for each field, and each error reads well."""
    strings = json.loads((INTEGRATION / path).read_text(encoding="utf-8"))
    services = yaml.safe_load((INTEGRATION / "services.yaml").read_text())
    for name, service in services.items():
        translated = strings["services"][name]
        assert translated["name"]
        assert translated["description"]
        for field in _fields(service):
            assert translated["fields"][field]["name"], (name, field)
            assert translated["fields"][field]["description"], (name, field)
    # Which error keys the code uses is tests/test_translations.py's subject.
