"""What hassfest and the HACS action check, checked here before a release.

hassfest (Home Assistant's `script/hassfest`, run on custom integrations by
the `home-assistant/actions/hassfest` action) and the HACS action validate
files that no test of behaviour reads: manifest.json, hacs.json, the strings
and their translations, services.yaml and icons.json. Neither ships with the
homeassistant package, so their rules are restated here, each with where it
comes from; everything else is derived from the integration's own files, so
a new entity, action or field is checked without touching this file.
"""

from __future__ import annotations

from collections.abc import Iterator
import json
from pathlib import Path
import re
import struct
from typing import Any
import zlib

import pytest
import yaml

from custom_components.one_nce.const import DOMAIN
import homeassistant
from homeassistant.const import MAJOR_VERSION, MINOR_VERSION

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "custom_components" / DOMAIN
CORE = Path(homeassistant.__file__).parent


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


MANIFEST: dict[str, Any] = _json(PACKAGE / "manifest.json")
HACS: dict[str, Any] = _json(ROOT / "hacs.json")
STRINGS: dict[str, Any] = _json(PACKAGE / "strings.json")
ICONS: dict[str, Any] = _json(PACKAGE / "icons.json")
SERVICES: dict[str, Any] = yaml.safe_load(
    (PACKAGE / "services.yaml").read_text(encoding="utf-8")
)
TRANSLATIONS = sorted((PACKAGE / "translations").glob("*.json"))

# hassfest's CUSTOM_INTEGRATION_MANIFEST_SCHEMA (script/hassfest/manifest.py,
# home-assistant/core 2026.10): its keys, all others rejected.
MANIFEST_KEYS = {
    "after_dependencies",
    "bluetooth",
    "codeowners",
    "config_flow",
    "dependencies",
    "dhcp",
    "disabled",
    "documentation",
    "domain",
    "homekit",
    "import_executor",
    "integration_type",
    "iot_class",
    "issue_tracker",
    "loggers",
    "mqtt",
    "name",
    "preview_features",
    "quality_scale",
    "requirements",
    "single_config_entry",
    "ssdp",
    "usb",
    "version",
    "zeroconf",
}
# hassfest requires these of every integration, plus `version` of custom ones
# (validate_version); HACS requires these and `issue_tracker`
# (INTEGRATION_MANIFEST_JSON_SCHEMA in hacs/utils/validate.py).
MANIFEST_REQUIRED = {
    "codeowners",
    "documentation",
    "domain",
    "issue_tracker",
    "name",
    "version",
}
IOT_CLASSES = {
    "assumed_state",
    "calculated",
    "cloud_polling",
    "cloud_push",
    "local_polling",
    "local_push",
}
INTEGRATION_TYPES = {
    "device",
    "entity",
    "hardware",
    "helper",
    "hub",
    "service",
    "system",
}
QUALITY_SCALES = {
    "bronze",
    "silver",
    "gold",
    "platinum",
    "custom",
    "no_score",
    "internal",
    "legacy",
}
# HACS_MANIFEST_JSON_SCHEMA (hacs/integration, custom_components/hacs/utils/
# validate.py): `name` required, these optional, anything else an error.
HACS_KEYS = {
    "content_in_root",
    "country",
    "filename",
    "hacs",
    "hide_default_branch",
    "homeassistant",
    "name",
    "persistent_directory",
    "render_readme",
    "zip_release",
}
# What the strings reference: `[%key:common::...%]` or `[%key:component::...%]`
# (script/translations/develop.py, substitute_translation_references).
REFERENCE = re.compile(r"\[%key:([a-z0-9_]+(?:::(?:[a-z0-9-_])+)+)%\]")
PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
ICON = re.compile(r"^mdi:[a-z0-9]+(?:-[a-z0-9]+)*$")
# The release the newest test leg runs (requirements_test.txt).
NEWEST_TESTED = (2026, 10)


# --- manifest.json and hacs.json ---------------------------------------------


def test_manifest_has_only_keys_hassfest_accepts() -> None:
    assert set(MANIFEST) - MANIFEST_KEYS == set()


def test_manifest_has_every_key_hassfest_and_hacs_require() -> None:
    assert MANIFEST_REQUIRED - set(MANIFEST) == set()


def test_manifest_keys_are_in_hassfest_order() -> None:
    """Domain, name, then alphabetical (hassfest's sort_manifest)."""
    keys = list(MANIFEST)
    assert keys == ["domain", "name", *sorted(keys[2:])]


def test_manifest_values_are_what_hassfest_accepts() -> None:
    assert MANIFEST["domain"] == PACKAGE.name
    assert MANIFEST["iot_class"] in IOT_CLASSES
    assert MANIFEST.get("integration_type", "hub") in INTEGRATION_TYPES
    assert MANIFEST.get("quality_scale", "custom") in QUALITY_SCALES
    assert MANIFEST["codeowners"]
    assert all(owner.startswith("@") for owner in MANIFEST["codeowners"])
    # custom_documentation_url: https, and not a page of home-assistant.io.
    for key in ("documentation", "issue_tracker"):
        assert MANIFEST[key].startswith("https://")
        assert not MANIFEST[key].startswith("https://www.home-assistant.io")
    # verify_version accepts CalVer, SemVer, SimpleVer, BuildVer and PEP 440.
    assert re.fullmatch(r"\d+(\.\d+)*([-.+]?[0-9A-Za-z.]+)?", MANIFEST["version"])
    for key in ("requirements", "dependencies", "after_dependencies", "loggers"):
        assert all(isinstance(item, str) for item in MANIFEST.get(key, []))
    assert all("==" in pin for pin in MANIFEST.get("requirements", []))


def test_manifest_dependencies_exist_in_home_assistant() -> None:
    """Each dependency names an integration Home Assistant ships."""
    for domain in (*MANIFEST["dependencies"], *MANIFEST["after_dependencies"]):
        assert (CORE / "components" / domain / "manifest.json").is_file(), domain


def test_hacs_json_has_only_keys_hacs_accepts() -> None:
    assert "name" in HACS
    assert set(HACS) - HACS_KEYS == set()
    assert list(HACS) == ["name", *sorted(set(HACS) - {"name"})]


def test_hacs_minimum_home_assistant_is_the_oldest_tested() -> None:
    """hacs.json promises what the oldest test leg (2025.4.x) shows."""
    assert re.fullmatch(r"\d{4}\.\d{1,2}\.\d+", HACS["homeassistant"])
    assert HACS["homeassistant"].rsplit(".", 1)[0] == "2025.4"
    assert HACS["name"] == MANIFEST["name"]


# HACS_MANIFEST_JSON_SCHEMA's value types for the keys we use.
HACS_TYPES: dict[str, type | tuple[type, ...]] = {
    "content_in_root": bool,
    "country": (str, list),
    "filename": str,
    "hacs": str,
    "hide_default_branch": bool,
    "homeassistant": str,
    "name": str,
    "persistent_directory": str,
    "render_readme": bool,
    "zip_release": bool,
}


def test_hacs_json_values_have_the_types_hacs_accepts() -> None:
    assert set(HACS_TYPES) == HACS_KEYS
    for key, value in HACS.items():
        assert isinstance(value, HACS_TYPES[key]), key
    assert HACS["name"].strip()


# The licence: the HACS action fails a repository whose licence GitHub cannot
# read as an OSI-approved SPDX licence. GitHub (licensee) recognises MIT by its
# text, so it is the MIT text word for word below a copyright line.
MIT_TERMS = """
Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies of
the Software, and to permit persons to whom the Software is furnished to do so,
subject to the following conditions:
The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.
THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS
FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR
COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER
IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN
CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""


def test_licence_is_the_mit_licence_word_for_word() -> None:
    title, blank, copyright_line, terms = (
        (ROOT / "LICENSE").read_text(encoding="utf-8").split("\n", 3)
    )
    assert (title, blank) == ("MIT License", "")
    assert re.fullmatch(r"Copyright \(c\) \d{4} \S.*", copyright_line)
    assert terms.split() == MIT_TERMS.split()


def test_readme_names_the_licence() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "[MIT licence](LICENSE)" in readme


def test_python_client_package_is_typed() -> None:
    """The client is a package of its own: PEP 561's marker says it is typed."""
    assert (PACKAGE / "api" / "py.typed").is_file()


# --- brand -------------------------------------------------------------------


# Home Assistant 2026.3+ serves these from a custom integration's `brand/`
# folder (developers.home-assistant.io, "Custom integrations can now ship their
# own brand images", 2026-02-24); the sizes are those of Home Assistant's brands
# repository: icons square at 256 and 512, logos landscape with the shortest
# side 128 to 256 (@2x: 256 to 512). `dark_` variants are for dark themes.
BRAND_IMAGES = {
    f"{theme}{kind}{scale}.png": (kind, 2 if scale else 1)
    for theme in ("", "dark_")
    for kind in ("icon", "logo")
    for scale in ("", "@2x")
}


def _png(name: str) -> tuple[dict[str, int], bytes]:
    """The header fields and the joined image data of one brand image."""
    data = (PACKAGE / "brand" / name).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", name
    chunks: dict[bytes, bytes] = {}
    offset = 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        chunks[kind] = chunks.get(kind, b"") + body
        offset += 12 + length
    assert next(iter(chunks)) == b"IHDR"
    width, height, depth, colour, _, _, interlace = struct.unpack(
        ">IIBBBBB", chunks[b"IHDR"]
    )
    header = {
        "width": width,
        "height": height,
        "depth": depth,
        "colour": colour,
        "interlace": interlace,
    }
    return header, zlib.decompress(chunks[b"IDAT"])


def test_brand_folder_holds_exactly_the_images_home_assistant_looks_for() -> None:
    assert sorted(path.name for path in (PACKAGE / "brand").iterdir()) == sorted(
        BRAND_IMAGES
    )


@pytest.mark.parametrize("name", sorted(BRAND_IMAGES))
def test_brand_image_has_the_size_and_format_home_assistant_asks(name: str) -> None:
    kind, scale = BRAND_IMAGES[name]
    header, pixels = _png(name)
    width, height = header["width"], header["height"]
    if kind == "icon":
        assert (width, height) == (256 * scale, 256 * scale)
    else:
        assert width >= height, "logos are landscape"
        assert 128 * scale <= height <= 256 * scale
    # 8-bit RGBA, not interlaced.
    assert (header["depth"], header["colour"], header["interlace"]) == (8, 6, 0)
    assert len(pixels) == height * (1 + 4 * width)
    # A transparent background: the top left pixel (whatever the row's filter,
    # the first pixel of the first row is stored as is) is fully transparent.
    assert pixels[4] == 0


@pytest.mark.parametrize("kind", ["icon", "logo"])
def test_dark_brand_images_match_the_light_ones_in_size(kind: str) -> None:
    for scale in ("", "@2x"):
        light, _ = _png(f"{kind}{scale}.png")
        dark, _ = _png(f"dark_{kind}{scale}.png")
        assert (dark["width"], dark["height"]) == (light["width"], light["height"])


# --- strings and translations ------------------------------------------------


def _flatten(tree: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}::")
        else:
            yield f"{prefix}{key}", value


def _referenced_strings() -> dict[str, str]:
    """What `[%key:...%]` may point at: Home Assistant's common strings, ours."""
    common = _json(CORE / "strings.json")
    flat = dict(_flatten(common))
    flat.update(_flatten(STRINGS, f"component::{DOMAIN}::"))
    return flat


def _resolve(value: str, strings: dict[str, str], seen: tuple[str, ...] = ()) -> str:
    """Substitute references the way script/translations/develop.py does."""

    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        assert key not in seen, f"reference loop through {key}"
        if key.startswith("component::") and key not in strings:
            other = key.split("::")[1]
            path = CORE / "components" / other / "translations" / "en.json"
            strings.update(_flatten(_json(path), f"component::{other}::"))
        assert key in strings, f"unknown reference {key}"
        return _resolve(strings[key], strings, (*seen, key))

    return REFERENCE.sub(substitute, value)


def test_english_translation_is_strings_json_resolved() -> None:
    """translations/en.json is what Home Assistant's script makes of strings.json.

    Home Assistant loads the translations only, never strings.json, so an
    edit of strings.json that misses en.json never reaches the user. Home
    Assistant's common texts change between releases ("Re-configuration" became
    "Reconfiguration" by 2026.10): en.json follows the newest tested release,
    and older ones only show that each reference still exists.
    """
    strings = _referenced_strings()
    english = dict(_flatten(_json(PACKAGE / "translations" / "en.json")))
    newest = (MAJOR_VERSION, MINOR_VERSION) >= NEWEST_TESTED
    expected = {}
    for key, value in _flatten(STRINGS):
        resolved = _resolve(value, strings)
        if newest or "[%key:common::" not in value:
            expected[key] = resolved
        else:
            expected[key] = english.get(key)
    assert english == expected


@pytest.mark.parametrize("path", TRANSLATIONS, ids=lambda path: path.stem)
def test_each_translation_has_the_english_keys_and_placeholders(path: Path) -> None:
    """A translation covers every English text and keeps its {placeholders}."""
    english = dict(_flatten(_json(PACKAGE / "translations" / "en.json")))
    other = dict(_flatten(_json(path)))
    assert set(other) == set(english)
    assert {
        key: sorted(PLACEHOLDER.findall(text))
        for key, text in other.items()
        if sorted(PLACEHOLDER.findall(text))
        != sorted(PLACEHOLDER.findall(english[key]))
    } == {}
    assert all(text.strip() for text in other.values())


def test_strings_have_no_empty_texts() -> None:
    assert [key for key, text in _flatten(STRINGS) if not str(text).strip()] == []


# --- actions -------------------------------------------------------------------


def _fields(spec: dict[str, Any] | None) -> Iterator[tuple[str | None, str, Any]]:
    """Every field of an action as (section or None, name, spec)."""
    for name, field in ((spec or {}).get("fields") or {}).items():
        if isinstance(field, dict) and "fields" in field:
            for inner, inner_spec in field["fields"].items():
                yield name, inner, inner_spec
        else:
            yield None, name, field


@pytest.mark.parametrize("action", sorted(SERVICES))
def test_action_and_its_fields_have_names_and_descriptions(action: str) -> None:
    """hassfest's services check: every action, field and section is translated."""
    strings = STRINGS["services"][action]
    assert strings["name"].strip()
    assert strings["description"].strip()
    for section, field, _ in _fields(SERVICES[action]):
        assert strings["fields"][field]["name"].strip(), field
        assert strings["fields"][field]["description"].strip(), field
        if section is not None:
            assert strings["sections"][section]["name"].strip(), section
    described = {field for _, field, _ in _fields(SERVICES[action])}
    assert set(strings.get("fields", {})) == described


def test_strings_describe_no_action_that_does_not_exist() -> None:
    assert set(STRINGS.get("services", {})) == set(SERVICES)


def test_selector_options_are_translated() -> None:
    """Select selectors with a translation_key name each option in strings.json."""
    for action, spec in SERVICES.items():
        for _, field, field_spec in _fields(spec):
            select = (field_spec.get("selector") or {}).get("select") or {}
            if key := select.get("translation_key"):
                options = {
                    option if isinstance(option, str) else option["value"]
                    for option in select["options"]
                }
                translated = set(STRINGS["selector"][key]["options"])
                assert options <= translated, f"{action}.{field}"


# --- icons ---------------------------------------------------------------------


def test_every_action_has_an_icon() -> None:
    assert set(ICONS["services"]) == set(SERVICES)
    for action, icon in ICONS["services"].items():
        assert ICON.match(icon["service"]), action
        sections = {section for section, _, _ in _fields(SERVICES[action]) if section}
        assert set(icon.get("sections", {})) <= sections


def test_every_entity_with_a_translation_key_has_an_icon() -> None:
    """icons.json names an icon for each entity translation key and nothing else."""
    translated = {
        (platform, key)
        for platform, entities in STRINGS.get("entity", {}).items()
        for key in entities
    }
    with_icon = {
        (platform, key)
        for platform, entities in ICONS.get("entity", {}).items()
        for key in entities
    }
    assert translated - with_icon == set(), "entities without an icon"
    assert with_icon - translated == set(), "icons of entities that do not exist"


def test_icons_are_material_design_icon_names() -> None:
    for key, icon in _flatten(ICONS):
        assert ICON.match(icon), f"{key}: {icon}"


def test_entity_state_icons_name_translated_states() -> None:
    """A state icon belongs to a state the entity has (as strings.json names it)."""
    for platform, entities in ICONS.get("entity", {}).items():
        for key, icons in entities.items():
            assert "default" in icons, f"{platform}.{key}"
            states = set(icons.get("state", {}))
            translated = set(STRINGS["entity"][platform][key].get("state", {}))
            if platform in {"sensor", "select"} and translated:
                assert states <= translated, f"{platform}.{key}"
