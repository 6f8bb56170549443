"""The client package is publishable as it stands: it imports no Home Assistant.

Everything under custom_components/one_nce/api/ may import the standard
library, aiohttp, and itself through relative imports; nothing else. An
absolute import of the package itself would break once it is renamed on PyPI,
and anything else would be an undeclared dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path
import sys

import pytest

PACKAGE = Path(__file__).parents[2] / "custom_components" / "one_nce" / "api"
ALLOWED = frozenset({"aiohttp"})


def foreign_imports(source: str) -> list[str]:
    """Name every import in `source` that is neither stdlib, aiohttp nor relative."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names = [node.module or ""]
        else:
            continue
        for name in names:
            top = name.partition(".")[0]
            if top == "__future__" or top in ALLOWED:
                continue
            if top not in sys.stdlib_module_names:
                found.append(f"line {node.lineno}: {name}")
    return found


def package_files() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def test_the_package_is_where_this_test_looks() -> None:
    assert {path.name for path in package_files()} >= {"client.py", "models.py"}


@pytest.mark.parametrize("path", package_files(), ids=lambda path: path.name)
def test_module_imports_only_stdlib_aiohttp_and_itself(path: Path) -> None:
    assert foreign_imports(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "source",
    [
        "import homeassistant.core",
        "from homeassistant.util import dt",
        "from custom_components.one_nce.api import models",
        "import multidict",
        "from yarl import URL",
        "def f():\n    import voluptuous",
        "if TYPE_CHECKING:\n    from homeassistant.core import HomeAssistant",
    ],
)
def test_the_scan_catches_foreign_imports_wherever_they_hide(source: str) -> None:
    assert foreign_imports(source) != []


def test_the_scan_lets_stdlib_aiohttp_and_relative_imports_pass() -> None:
    source = (
        "from __future__ import annotations\n"
        "import asyncio\nfrom collections.abc import Mapping\n"
        "import aiohttp\nfrom aiohttp import ClientSession\n"
        "from . import models\nfrom .exceptions import OneNceError\n"
    )
    assert foreign_imports(source) == []
