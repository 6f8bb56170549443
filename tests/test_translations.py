"""Every error the code raises has its text, in English and German, with its values.

Home Assistant shows a translated error only if the key exists in the loaded
translation; a missing key shows the bare key, and a placeholder the text does
not use (or one it uses that the code never passes) loses information or shows
`{name}` to the user. The keys are read out of the code itself, so a new error
is checked without touching this file.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
import json
from pathlib import Path
import re
from typing import Any

import pytest

from custom_components.one_nce.const import DOMAIN

PACKAGE = Path(__file__).resolve().parent.parent / "custom_components" / DOMAIN
LANGUAGES = {
    "strings.json": PACKAGE / "strings.json",
    "en": PACKAGE / "translations" / "en.json",
    "de": PACKAGE / "translations" / "de.json",
}
PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


@dataclass(frozen=True, slots=True)
class Use:
    """One place that raises a translated error: its key and the values it passes.

    `placeholders` is None where the code builds them in a way this test cannot
    read; test_placeholders_are_passed_as_a_literal_dict refuses that.
    """

    where: str
    key: str
    placeholders: frozenset[str] | None


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _placeholders(text: str) -> frozenset[str]:
    return frozenset(PLACEHOLDER.findall(text))


def _keyword(call: ast.Call, name: str) -> ast.expr | None:
    return next((kw.value for kw in call.keywords if kw.arg == name), None)


def _dict_keys(node: ast.expr | None) -> frozenset[str] | None:
    """The keys of a literal dict of placeholders; None when not a plain literal."""
    if node is None or (isinstance(node, ast.Constant) and node.value is None):
        return frozenset()
    if not isinstance(node, ast.Dict) or any(
        not isinstance(key, ast.Constant) or not isinstance(key.value, str)
        for key in node.keys
    ):
        return None
    return frozenset(key.value for key in node.keys if isinstance(key, ast.Constant))


def _literals(node: ast.expr) -> list[str] | None:
    """The keys a translation_key expression can take: literals and `a if c else b`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        body, orelse = _literals(node.body), _literals(node.orelse)
        if body is not None and orelse is not None:
            return body + orelse
    return None


def _bound_argument(
    call: ast.Call, function: ast.FunctionDef | ast.AsyncFunctionDef, name: str
) -> ast.expr | None:
    """What a call passes for a parameter `name` of `function`, by position or name."""
    params = [arg.arg for arg in (*function.args.posonlyargs, *function.args.args)]
    if name in params and params.index(name) < len(call.args):
        return call.args[params.index(name)]
    return _keyword(call, name)


def _called_name(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _own_calls(scope: ast.AST) -> Iterator[ast.Call]:
    """The calls a module or function makes itself, not those of functions inside it."""
    for child in ast.iter_child_nodes(scope):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(child, ast.Call):
            yield child
        yield from _own_calls(child)


def _uses_in(path: Path) -> Iterator[Use]:
    """Each (key, placeholders) a module raises an exception translation with.

    A call that passes `translation_domain` is an exception's translation
    (entity and issue translations pass no domain). Its key is a literal, a
    choice between literals, or a parameter of the enclosing function, in
    which case every call of that function in the module supplies it.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"))
    scopes: list[ast.AST] = [tree]
    scopes += [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)]
    for scope in scopes:
        for call in _own_calls(scope):
            if _keyword(call, "translation_domain") is None:
                continue
            where = f"{path.name}:{call.lineno}"
            key_node = _keyword(call, "translation_key")
            assert key_node is not None, f"{where}: translation_domain without a key"
            placeholders = _dict_keys(_keyword(call, "translation_placeholders"))
            if (keys := _literals(key_node)) is not None:
                for key in keys:
                    yield Use(where, key, placeholders)
                continue
            # Otherwise the key must be a parameter of the function raising it.
            assert isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef), where
            assert isinstance(key_node, ast.Name), where
            assert key_node.id in [arg.arg for arg in scope.args.args], where
            callers = [caller for caller in calls if _called_name(caller) == scope.name]
            assert callers, f"{where}: {scope.name} is never called"
            for caller in callers:
                bound = _bound_argument(caller, scope, key_node.id)
                assert bound is not None, f"{path.name}:{caller.lineno}: no key"
                keys = _literals(bound)
                assert keys is not None, f"{path.name}:{caller.lineno}: not a literal"
                for key in keys:
                    yield Use(f"{path.name}:{caller.lineno}", key, placeholders)


USES = sorted(
    (use for path in sorted(PACKAGE.rglob("*.py")) for use in _uses_in(path)),
    key=lambda use: (use.key, use.where),
)


def test_the_code_raises_translated_errors_this_test_can_read() -> None:
    """A guard for the guard: the scan finds the errors we know are there."""
    keys = {use.key for use in USES}
    assert {
        "unknown_sim",
        "send_failed",
        "send_failed_partially",
        "traffic_limit_exceeded",
        "udh_message_too_long_gsm7",  # a choice between two literal keys
        "udh_message_too_long_ucs2",
        "invalid_udh",
        "invalid_binary_message",
        "list_failed",  # passed through a helper's parameter
    } <= keys


def test_placeholders_are_passed_as_a_literal_dict() -> None:
    """Every error names its placeholders where it is raised, so they are checked.

    A dict built elsewhere (`err.placeholders`, `{**err.placeholders, ...}`)
    hides from the check below which values reach the text, and a value the
    text needs could go missing unnoticed.
    """
    assert [use.where for use in USES if use.placeholders is None] == []


@pytest.mark.parametrize("language", sorted(LANGUAGES))
@pytest.mark.parametrize("use", USES, ids=lambda use: f"{use.key}@{use.where}")
def test_every_raised_error_has_its_text(use: Use, language: str) -> None:
    """The key exists, and its text uses exactly the placeholders the code passes."""
    exceptions = _json(LANGUAGES[language])["exceptions"]
    assert use.key in exceptions, f"{use.where}: {use.key} missing in {language}"
    text = exceptions[use.key]["message"]
    assert text.strip()
    if use.placeholders is not None:
        assert _placeholders(text) == use.placeholders, use.where


def test_english_and_german_errors_have_the_same_placeholders() -> None:
    english = _json(LANGUAGES["en"])["exceptions"]
    german = _json(LANGUAGES["de"])["exceptions"]
    assert set(german) == set(english)
    assert {
        key: (
            sorted(_placeholders(text["message"])),
            sorted(_placeholders(german[key]["message"])),
        )
        for key, text in english.items()
        if _placeholders(text["message"]) != _placeholders(german[key]["message"])
    } == {}


def _flatten(tree: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _flatten(value, f"{prefix}{key}::")
        else:
            yield f"{prefix}{key}", value


def test_every_string_has_a_german_text_with_the_same_placeholders() -> None:
    """German covers strings.json, placeholder for placeholder.

    A `[%key:...%]` reference in strings.json stands for Home Assistant's
    English text, which en.json holds resolved: its placeholders count.
    """
    strings = dict(_flatten(_json(LANGUAGES["strings.json"])))
    english = dict(_flatten(_json(LANGUAGES["en"])))
    german = dict(_flatten(_json(LANGUAGES["de"])))
    assert sorted(set(strings) - set(german)) == []
    mismatched = {}
    for key, text in strings.items():
        source = english.get(key, text) if "[%key:" in text else text
        if _placeholders(source) != _placeholders(german[key]):
            mismatched[key] = (sorted(_placeholders(source)), german[key])
    assert mismatched == {}


def test_unused_error_texts_are_not_kept() -> None:
    """An error text nothing raises is dead weight for translators; or a typo'd key."""
    assert (
        sorted(
            set(_json(LANGUAGES["strings.json"])["exceptions"])
            - {use.key for use in USES}
        )
        == []
    )
