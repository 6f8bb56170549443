"""Quality scale: quality_scale.yaml names every rule, and each `done` holds.

The rule list is hassfest's, which the homeassistant package does not ship,
so it is restated below. The installed Home Assistant still shows which rules
it knows: every core integration graded Platinum must list all of them in its
own quality_scale.yaml (hassfest enforces that), and those files ship. So the
test compares the list with the installed release's on every leg.

Each rule marked `done` has a check here that reads the code, the manifest,
the strings or the README, or sets the integration up and looks at what it
registered; each `exempt` rule has a check that its reason still holds.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
import importlib
import json
from pathlib import Path
import re
from typing import Any

import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol
import yaml

from custom_components.one_nce import PLATFORMS
from custom_components.one_nce.const import DOMAIN
import homeassistant
from homeassistant.const import MAJOR_VERSION, MINOR_VERSION
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from homeassistant.helpers import entity_registry as er
from homeassistant.helpers.entity_platform import async_get_platforms

from .conftest import setup_integration

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "custom_components" / DOMAIN
MANIFEST: dict[str, Any] = json.loads((PACKAGE / "manifest.json").read_text())
STRINGS: dict[str, Any] = json.loads((PACKAGE / "strings.json").read_text())
ICONS: dict[str, Any] = json.loads((PACKAGE / "icons.json").read_text())
README = (ROOT / "README.md").read_text(encoding="utf-8")
QUALITY_SCALE: dict[str, Any] = yaml.safe_load(
    (PACKAGE / "quality_scale.yaml").read_text(encoding="utf-8")
)

# ALL_RULES of script/hassfest/quality_scale.py, home-assistant/core commit
# 008538e8 (2026), the rules Home Assistant 2026.10's Platinum integrations list.
TIERS = ("bronze", "silver", "gold", "platinum")
RULES: dict[str, tuple[str, ...]] = {
    "bronze": (
        "action-setup",
        "appropriate-polling",
        "brands",
        "common-modules",
        "config-flow",
        "config-flow-test-coverage",
        "dependency-transparency",
        "docs-actions",
        "docs-conditions",
        "docs-high-level-description",
        "docs-installation-instructions",
        "docs-removal-instructions",
        "docs-triggers",
        "entity-event-setup",
        "entity-unique-id",
        "has-entity-name",
        "runtime-data",
        "test-before-configure",
        "test-before-setup",
        "unique-config-entry",
    ),
    "silver": (
        "action-exceptions",
        "config-entry-unloading",
        "docs-configuration-parameters",
        "docs-installation-parameters",
        "entity-unavailable",
        "integration-owner",
        "log-when-unavailable",
        "parallel-updates",
        "reauthentication-flow",
        "test-coverage",
    ),
    "gold": (
        "devices",
        "diagnostics",
        "discovery",
        "discovery-update-info",
        "docs-data-update",
        "docs-examples",
        "docs-known-limitations",
        "docs-supported-devices",
        "docs-supported-functions",
        "docs-troubleshooting",
        "docs-use-cases",
        "dynamic-devices",
        "entity-category",
        "entity-device-class",
        "entity-disabled-by-default",
        "entity-translations",
        "exception-translations",
        "icon-translations",
        "reconfiguration-flow",
        "repair-issues",
        "stale-devices",
    ),
    "platinum": ("async-dependency", "inject-websession", "strict-typing"),
}
ALL_RULES = [rule for tier in TIERS for rule in RULES[tier]]
# The release the list above was taken for (the newest test leg's).
RULES_RELEASE = (2026, 10)

# hassfest's SCHEMA for quality_scale.yaml: done/todo, or a mapping with a
# status and a comment, which an exemption must have.
SCHEMA = vol.Schema(
    {
        vol.Required("rules"): vol.Schema(
            {
                vol.Optional(rule): vol.Any(
                    vol.In(["todo", "done"]),
                    vol.Schema(
                        {
                            vol.Required("status"): vol.In(["todo", "done"]),
                            vol.Required("comment"): str,
                        }
                    ),
                    vol.Schema(
                        {vol.Required("status"): "exempt", vol.Required("comment"): str}
                    ),
                )
                for rule in ALL_RULES
            }
        )
    }
)


def _status(rule: str) -> str:
    value = QUALITY_SCALE["rules"][rule]
    return str(value["status"] if isinstance(value, dict) else value)


def _comment(rule: str) -> str:
    value = QUALITY_SCALE["rules"][rule]
    return str(value.get("comment", "")) if isinstance(value, dict) else ""


def _installed_rules() -> set[str]:
    """The rules the installed release knows, from its Platinum integrations."""
    components = Path(homeassistant.__file__).parent / "components"
    rule_sets = []
    for manifest in components.glob("*/manifest.json"):
        if json.loads(manifest.read_text()).get("quality_scale") != "platinum":
            continue
        if (scale := manifest.parent / "quality_scale.yaml").is_file():
            rule_sets.append(set(yaml.safe_load(scale.read_text())["rules"]))
    assert rule_sets, "no Platinum integration in this Home Assistant"
    return set.intersection(*rule_sets)


# --- the file ------------------------------------------------------------------


def test_file_passes_hassfests_schema() -> None:
    SCHEMA(QUALITY_SCALE)


def test_file_names_every_rule_once_in_hassfests_order() -> None:
    assert list(QUALITY_SCALE["rules"]) == ALL_RULES


def test_rule_list_matches_the_installed_home_assistant() -> None:
    """Every rule this release knows is listed; the newest knows exactly these."""
    installed = _installed_rules()
    assert installed - set(ALL_RULES) == set(), "new rules: add them"
    if (MAJOR_VERSION, MINOR_VERSION) >= RULES_RELEASE:
        assert set(ALL_RULES) - installed == set(), "rules gone: drop them"


def test_every_rule_up_to_the_declared_tier_is_done_or_exempt() -> None:
    """What hassfest demands of the tier manifest.json declares."""
    declared = TIERS.index(MANIFEST["quality_scale"])
    for tier in TIERS[: declared + 1]:
        for rule in RULES[tier]:
            assert _status(rule) in {"done", "exempt"}, rule


def test_every_exemption_gives_a_one_line_reason() -> None:
    for rule in ALL_RULES:
        if _status(rule) == "exempt":
            assert _comment(rule).strip(), rule
            assert "\n" not in _comment(rule).strip(), rule


# --- each `done` holds (and each exemption's reason) ---------------------------


def _source(name: str) -> str:
    return (PACKAGE / name).read_text(encoding="utf-8")


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path, ast.parse(path.read_text(encoding="utf-8"))


def _function(module: str, name: str) -> ast.AST:
    tree = ast.parse(_source(module))
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.name == name
        ):
            return node
    raise AssertionError(f"{module} has no {name}")


def _calls(node: ast.AST) -> set[str]:
    """Names of everything `node` calls (`f(...)`, `x.f(...)`)."""
    names = set()
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            func = call.func
            if isinstance(func, ast.Attribute):
                names.add(func.attr)
            elif isinstance(func, ast.Name):
                names.add(func.id)
    return names


def _readme_section(rule: str) -> None:
    """The comment names the README heading that documents the rule."""
    match = re.fullmatch(r"README: (#+ .+)", _comment(rule))
    assert match, f"{rule}: comment should be 'README: <heading>'"
    assert re.search(rf"^{re.escape(match.group(1))}$", README, re.MULTILINE), rule


def _action_setup() -> None:
    assert "async_setup_services" in _calls(_function("__init__.py", "async_setup"))


def _appropriate_polling() -> None:
    const = importlib.import_module(f"custom_components.{DOMAIN}.const")
    assert const.DEFAULT_LIST_INTERVAL >= 5
    assert const.DEFAULT_DETAIL_INTERVAL >= const.DEFAULT_LIST_INTERVAL
    assert const.MIN_LIST_INTERVAL >= 5


def _brands() -> None:
    """Sizes and formats are checked in tests/test_manifest.py."""
    for theme in ("", "dark_"):
        for kind in ("icon", "logo"):
            for scale in ("", "@2x"):
                assert (PACKAGE / "brand" / f"{theme}{kind}{scale}.png").is_file()


def _common_modules() -> None:
    assert "DataUpdateCoordinator" in _source("coordinator.py")
    assert "CoordinatorEntity" in _source("entity.py")


def _config_flow() -> None:
    assert MANIFEST["config_flow"] is True
    assert "config_entry_only_config_schema" in _source("__init__.py")
    for step_id, step in STRINGS["config"]["step"].items():
        assert set(step.get("data", {})) <= set(step.get("data_description", {})), (
            step_id
        )


def _config_flow_test_coverage() -> None:
    tests = (ROOT / "tests" / "test_config_flow.py").read_text(encoding="utf-8")
    steps = re.findall(r"async def async_step_(\w+)", _source("config_flow.py"))
    for step in steps:
        assert step in tests, f"step {step} has no test"


def _dependency_transparency() -> None:
    assert all("==" in pin for pin in MANIFEST["requirements"])
    assert (PACKAGE / "api" / "py.typed").is_file()


_SUBSCRIBE = re.compile(r"async_(dispatcher_connect|track_\w+|listen\w*|add_listener)")


def _called(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _entity_event_setup() -> None:
    """Entities subscribe in async_added_to_hass, handing the undo to async_on_remove.

    So no entity subscribes in its constructor, and no subscription in
    async_added_to_hass is a bare statement whose undo would be dropped.
    """
    for path, tree in _modules():
        for cls in ast.walk(tree):
            if not isinstance(cls, ast.ClassDef):
                continue
            if not any("Entity" in ast.unparse(base) for base in cls.bases):
                continue
            for method in cls.body:
                if not isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                if method.name == "__init__":
                    assert not {c for c in _calls(method) if _SUBSCRIBE.fullmatch(c)}, (
                        f"{path.name}: {cls.name} subscribes in __init__"
                    )
                for stmt in ast.walk(method):
                    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                        assert not _SUBSCRIBE.fullmatch(_called(stmt.value)), (
                            f"{path.name}: {cls.name} drops an unsubscribe"
                        )


def _runtime_data() -> None:
    assert "entry.runtime_data = " in _source("__init__.py")
    assert "type OneNceConfigEntry = ConfigEntry[" in _source("coordinator.py")


def _test_before_configure() -> None:
    """The user step tries the credentials and shows what failed as an error."""
    flow = ast.unparse(_function("config_flow.py", "async_step_user"))
    assert "await " in flow
    assert re.search(r"errors\[['\"]base['\"]\] = ", flow)


def _test_before_setup() -> None:
    # async_setup_entry hands the work to _async_set_up, turning an
    # unforeseen error into one Home Assistant cleans up after.
    assert "_async_set_up" in _calls(_function("__init__.py", "async_setup_entry"))
    setup = _function("__init__.py", "_async_set_up")
    assert "async_config_entry_first_refresh" in _calls(setup)


def _unique_config_entry() -> None:
    flow = _source("config_flow.py")
    assert "async_set_unique_id" in flow
    assert "_abort_if_unique_id_configured" in flow


def _action_exceptions() -> None:
    """Actions raise only Home Assistant's errors, which the UI can show."""
    allowed = {"ServiceValidationError", "HomeAssistantError"}
    for name in ("services.py", "sending.py"):
        for node in ast.walk(ast.parse(_source(name))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                func = node.exc.func
                raised = func.id if isinstance(func, ast.Name) else ast.unparse(func)
                assert raised in allowed or raised.startswith("_"), f"{name}: {raised}"


def _config_entry_unloading() -> None:
    unload = _function("__init__.py", "async_unload_entry")
    assert "async_unload_platforms" in _calls(unload)


def _entity_unavailable() -> None:
    assert "def available(self)" in _source("entity.py")


def _integration_owner() -> None:
    assert MANIFEST["codeowners"]


def _log_when_unavailable() -> None:
    """DataUpdateCoordinator logs once when updates fail and once when back."""
    assert re.search(r"class \w+\(DataUpdateCoordinator\[", _source("coordinator.py"))
    assert "UpdateFailed" in _source("coordinator.py")


def _parallel_updates() -> None:
    for platform in PLATFORMS:
        module = importlib.import_module(f"custom_components.{DOMAIN}.{platform}")
        assert isinstance(getattr(module, "PARALLEL_UPDATES", None), int), platform


def _reauthentication_flow() -> None:
    assert "async def async_step_reauth(" in _source("config_flow.py")
    assert "ConfigEntryAuthFailed" in _source("coordinator.py")


def _test_coverage() -> None:
    gate = re.search(r"--cov-fail-under=(\d+)", (ROOT / "scripts" / "test").read_text())
    assert gate
    assert int(gate.group(1)) >= 95


def _diagnostics() -> None:
    assert "async def async_get_config_entry_diagnostics(" in _source("diagnostics.py")
    assert "async_redact_data" in _source("diagnostics.py")


_DISCOVERY_KEYS = {"bluetooth", "dhcp", "homekit", "mqtt", "ssdp", "usb", "zeroconf"}


def _discovery_exempt() -> None:
    """Nothing to discover: no matcher in the manifest, no discovery step."""
    assert not _DISCOVERY_KEYS & set(MANIFEST)
    steps = re.findall(r"async def async_step_(\w+)", _source("config_flow.py"))
    assert not _DISCOVERY_KEYS & set(steps)


def _no_conditions() -> None:
    assert not {"condition.py", "device_condition.py", "conditions.yaml"} & {
        path.name for path in PACKAGE.iterdir()
    }


def _no_triggers() -> None:
    assert not {"trigger.py", "device_trigger.py", "triggers.yaml"} & {
        path.name for path in PACKAGE.iterdir()
    }


def _dynamic_devices() -> None:
    assert "fleet.async_add_listener" in _source("entity.py")


def _entity_category() -> None:
    assert "EntityCategory.DIAGNOSTIC" in _source("sensor.py")
    assert "EntityCategory.CONFIG" in _source("switch.py")


def _entity_device_class() -> None:
    assert "device_class=SensorDeviceClass." in _source("sensor.py")
    assert "device_class=BinarySensorDeviceClass." in _source("binary_sensor.py")


def _entity_disabled_by_default() -> None:
    assert "entity_registry_enabled_default=False" in _source("sensor.py")


_TRANSLATED_ERRORS = {
    "ConfigEntryAuthFailed",
    "ConfigEntryError",
    "ConfigEntryNotReady",
    "HomeAssistantError",
    "ServiceValidationError",
    "UpdateFailed",
}


def _exception_translations() -> None:
    """Every Home Assistant error raised has a translation in strings.json."""
    translated = set(STRINGS["exceptions"])
    for path, tree in _modules():
        if "api" in path.relative_to(PACKAGE).parts:
            continue  # the client raises its own errors, HA-free
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            func = node.exc.func
            if not (isinstance(func, ast.Name) and func.id in _TRANSLATED_ERRORS):
                continue
            keywords = {k.arg: k.value for k in node.exc.keywords}
            assert "translation_key" in keywords, f"{path.name}:{node.lineno}"
            key = keywords["translation_key"]
            if isinstance(key, ast.Constant):
                assert key.value in translated, f"{path.name}:{node.lineno}"


def _icon_translations() -> None:
    assert set(ICONS["entity"]) <= set(STRINGS["entity"])
    assert "services" in ICONS


def _reconfiguration_flow() -> None:
    assert "async def async_step_reconfigure(" in _source("config_flow.py")


def _repair_issues() -> None:
    keys = re.findall(r"translation_key=(\w+)", _source("receiving/address.py"))
    assert "ir.async_create_issue(" in _source("receiving/address.py")
    assert STRINGS["issues"]
    assert keys


def _stale_devices() -> None:
    assert "async def async_remove_config_entry_device(" in _source("__init__.py")
    assert "sims_that_left" in _source("entity.py")


def _async_dependency() -> None:
    """The client is asyncio: aiohttp, and no blocking HTTP or sleep."""
    for path in (PACKAGE / "api").glob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^import (requests|urllib3|httplib2)", text, re.M), path
        assert "time.sleep(" not in text, path
    assert "import aiohttp" in (PACKAGE / "api" / "client.py").read_text()


def _inject_websession() -> None:
    assert "async_get_clientsession(hass)" in _source("connection.py")
    assert "create_client(" in _source("__init__.py")
    for path, tree in _modules():
        assert "ClientSession" not in {
            ast.unparse(node.func).rsplit(".", 1)[-1]
            for node in ast.walk(tree)
            if isinstance(node, ast.Call)
        }, f"{path.name} makes its own aiohttp session"


def _strict_typing() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert re.search(r"^strict = true$", pyproject, re.M)
    assert '"custom_components/one_nce"' in pyproject
    assert "mypy" in (ROOT / "scripts" / "test").read_text()
    assert (PACKAGE / "api" / "py.typed").is_file()


def _shown_at_runtime() -> None:
    """Checked by test_registered_entities_follow_the_rules below."""


CHECKS: dict[str, Callable[[], None]] = {
    "action-setup": _action_setup,
    "appropriate-polling": _appropriate_polling,
    "brands": _brands,
    "common-modules": _common_modules,
    "config-flow": _config_flow,
    "config-flow-test-coverage": _config_flow_test_coverage,
    "dependency-transparency": _dependency_transparency,
    "docs-conditions": _no_conditions,
    "docs-triggers": _no_triggers,
    "entity-event-setup": _entity_event_setup,
    "entity-unique-id": _shown_at_runtime,
    "has-entity-name": _shown_at_runtime,
    "runtime-data": _runtime_data,
    "test-before-configure": _test_before_configure,
    "test-before-setup": _test_before_setup,
    "unique-config-entry": _unique_config_entry,
    "action-exceptions": _action_exceptions,
    "config-entry-unloading": _config_entry_unloading,
    "entity-unavailable": _entity_unavailable,
    "integration-owner": _integration_owner,
    "log-when-unavailable": _log_when_unavailable,
    "parallel-updates": _parallel_updates,
    "reauthentication-flow": _reauthentication_flow,
    "test-coverage": _test_coverage,
    "devices": _shown_at_runtime,
    "diagnostics": _diagnostics,
    "discovery": _discovery_exempt,
    "discovery-update-info": _discovery_exempt,
    "dynamic-devices": _dynamic_devices,
    "entity-category": _entity_category,
    "entity-device-class": _entity_device_class,
    "entity-disabled-by-default": _entity_disabled_by_default,
    "entity-translations": _shown_at_runtime,
    "exception-translations": _exception_translations,
    "icon-translations": _icon_translations,
    "reconfiguration-flow": _reconfiguration_flow,
    "repair-issues": _repair_issues,
    "stale-devices": _stale_devices,
    "async-dependency": _async_dependency,
    "inject-websession": _inject_websession,
    "strict-typing": _strict_typing,
}


@pytest.mark.parametrize("rule", ALL_RULES)
def test_rule_holds(rule: str) -> None:
    """A `done` rule is true of the code; an exemption's reason is too."""
    if rule.startswith("docs-") and _status(rule) == "done":
        _readme_section(rule)
        return
    assert rule in CHECKS, f"no check for {rule}"
    CHECKS[rule]()


@pytest.mark.usefixtures(
    "entity_registry_enabled_by_default", "mock_details", "no_rate_limit"
)
async def test_registered_entities_follow_the_rules(
    hass: HomeAssistant,
    stable_config_entry: MockConfigEntry,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Every entity the integration creates is named, identified and iconed.

    Shows entity-unique-id (only entities with a unique id enter the
    registry), has-entity-name, entity-translations, icon-translations and
    devices, on whatever the integration sets up.
    """
    await setup_integration(hass, stable_config_entry, PLATFORMS)
    entities = [
        entity
        for platform in async_get_platforms(hass, DOMAIN)
        for entity in platform.entities.values()
    ]
    assert {entity.platform.domain for entity in entities} == set(PLATFORMS)
    for entity in entities:
        domain = entity.platform.domain
        assert entity.unique_id, entity.entity_id
        assert entity.has_entity_name, entity.entity_id
        assert entity.translation_key in STRINGS["entity"][domain], entity.entity_id
        assert entity.translation_key in ICONS["entity"][domain], entity.entity_id
        entry = entity_registry.async_get(entity.entity_id)
        assert entry is not None, entity.entity_id
        assert entry.device_id is not None, entity.entity_id
        assert device_registry.async_get(entry.device_id) is not None
