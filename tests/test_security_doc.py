"""docs/security.md names the tests that hold each promise: every `tests/...py::test_name` it names exists."""

from __future__ import annotations

import ast
import re

from tests.prerequisites import ROOT

DOC = ROOT / "docs" / "security.md"
NAMED = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def test_the_doc_names_tests() -> None:
    assert len(NAMED.findall(DOC.read_text(encoding="utf-8"))) > 40


def test_every_test_the_doc_names_exists() -> None:
    missing = []
    for path, name in sorted(set(NAMED.findall(DOC.read_text(encoding="utf-8")))):
        source = ROOT / path
        defined = (
            {
                node.name
                for node in ast.walk(ast.parse(source.read_text(encoding="utf-8")))
                if isinstance(node, ast.FunctionDef)
            }
            if source.is_file()
            else set()
        )
        if name not in defined:
            missing.append(f"{path}::{name}")
    assert missing == []
