"""transforms stays pure: no network, service, emulator or clock imports; only the taxonomy loader reads a file."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

TRANSFORMS = Path(__file__).resolve().parents[2] / "transforms"
FORBIDDEN = ("requests", "msal", "urllib", "http", "socket", "connectors", "emulator", "time", "office365")
THEME_MODULES = ("scrub.py", "scrub_lexicon.py", "themes.py", "theme_summary.py", "theme_taxonomy.py")


def imported(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", sorted(TRANSFORMS.rglob("*.py")), ids=lambda path: path.name)
def test_no_transform_imports_io_services_or_the_clock(path: Path) -> None:
    assert not imported(ast.parse(path.read_text(encoding="utf-8"))) & set(FORBIDDEN)


@pytest.mark.parametrize("name", THEME_MODULES)
def test_only_load_taxonomy_reads_a_file(name: str) -> None:
    tree = ast.parse((TRANSFORMS / name).read_text(encoding="utf-8"))
    readers = {
        function.name
        for function in ast.walk(tree)
        if isinstance(function, ast.FunctionDef)
        for call in ast.walk(function)
        if isinstance(call, ast.Call)
        and (
            (isinstance(call.func, ast.Name) and call.func.id == "open")
            or (
                isinstance(call.func, ast.Attribute) and call.func.attr in {"read_text", "read_bytes", "open"}
            )
        )
    }
    assert readers <= {"load_taxonomy"}
    if name == "theme_taxonomy.py":
        assert readers == {"load_taxonomy"}
