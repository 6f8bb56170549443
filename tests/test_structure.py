"""The integration's shape: no import cycles, and a receiving side free of entities.

Read from the source with `ast`, every import counts: at module level, inside
functions, and under `if TYPE_CHECKING:` (a type-only cycle is still a cycle a
reader has to untangle).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from custom_components.one_nce import PLATFORMS

PACKAGE = Path(__file__).parents[1] / "custom_components" / "one_nce"
ROOT = "custom_components.one_nce"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((ROOT, *parts))


MODULES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _is_package(module: str) -> bool:
    return MODULES[module].name == "__init__.py"


def _resolve(importer: str, level: int, name: str | None) -> str:
    """The absolute name of `from <level dots><name> import ...` in `importer`."""
    base = importer.split(".")
    if not _is_package(importer):
        base = base[:-1]
    if level > 1:
        base = base[: -(level - 1)]
    return ".".join([*base, *([name] if name else [])])


def _imports(module: str) -> Iterator[str]:
    """Every module of the integration that `module` imports, anywhere in it."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            source = (
                _resolve(module, node.level, node.module)
                if node.level
                else node.module or ""
            )
            # `from .pkg import mod` imports a module, `from .mod import x` a name.
            targets = [source] + [f"{source}.{alias.name}" for alias in node.names]
        else:
            continue
        yield from (target for target in targets if target in MODULES)


GRAPH = {module: set(_imports(module)) - {module} for module in MODULES}


def _cycles() -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in GRAPH[node]:
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for module in sorted(GRAPH):
        if module not in index:
            visit(module)
    return groups


def test_the_scan_sees_the_imports_it_is_about() -> None:
    """The checks below would pass vacuously if the scan found no edges."""
    assert f"{ROOT}.receiving.inbox" in GRAPH[f"{ROOT}.receiving.receiver"]
    assert f"{ROOT}.coordinator" in GRAPH[f"{ROOT}.receiving.view"]
    assert f"{ROOT}.receiving.announce" in GRAPH[f"{ROOT}.delivery"]


def test_no_import_cycle_runtime_or_type_only() -> None:
    assert _cycles() == []


def test_a_cycle_is_found_when_there_is_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cycle search itself: a back edge from the inbox to the view is one."""
    monkeypatch.setitem(
        GRAPH,
        f"{ROOT}.receiving.inbox",
        GRAPH[f"{ROOT}.receiving.inbox"] | {f"{ROOT}.receiving.view"},
    )
    assert _cycles()


@pytest.mark.parametrize(
    "module", sorted(name for name in MODULES if name.startswith(f"{ROOT}.receiving"))
)
def test_the_receiving_side_imports_no_platform_or_entity_module(module: str) -> None:
    entity_layer = {f"{ROOT}.{platform.value}" for platform in PLATFORMS} | {
        f"{ROOT}.entity"
    }
    assert GRAPH[module] & entity_layer == set()


@pytest.mark.parametrize(
    "module", sorted(name for name in MODULES if name.startswith(f"{ROOT}.polling"))
)
def test_the_polling_decisions_import_nothing_of_home_assistant(module: str) -> None:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    } | {
        node.module or ""
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and not node.level
    }
    assert not {name for name in imported if name.startswith("homeassistant")}
