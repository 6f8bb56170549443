"""The actions as described to people: every field and error translated."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml

from custom_components.one_nce.const import DOMAIN
from homeassistant.core import HomeAssistant
from homeassistant.helpers.service import async_get_all_descriptions
from homeassistant.helpers.translation import async_get_translations
from homeassistant.setup import async_setup_component

from .services_common import INTEGRATION

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


@pytest.mark.parametrize("language", ["en", "de"])
async def test_validity_help_is_short_and_names_the_default(
    hass: HomeAssistant, language: str
) -> None:
    """The form's Validity help fits in a line or two and leaves YAML to README."""
    texts = await async_get_translations(hass, language, "services", [DOMAIN])
    help_text = texts[f"component.{DOMAIN}.services.send_sms.fields.expiry.description"]

    assert "24" in help_text
    assert "YAML" not in help_text
    assert len(help_text) <= 120


async def test_send_sms_form_starts_with_automatic_encoding(
    hass: HomeAssistant,
) -> None:
    """The action form pre-fills Encoding with "auto", shown as Automatic."""
    assert await async_setup_component(hass, DOMAIN, {})
    descriptions = await async_get_all_descriptions(hass)
    advanced = descriptions[DOMAIN]["send_sms"]["fields"]["advanced"]["fields"]
    encoding = advanced["encoding"]

    assert encoding["default"] == "auto"
    assert encoding["selector"]["select"]["options"][0] == "auto"
    texts = await async_get_translations(hass, "en", "selector", [DOMAIN])
    assert texts[f"component.{DOMAIN}.selector.sms_encoding.options.auto"] == (
        "Automatic"
    )
