"""Shared test fixtures: golden files, a clean CETK_* environment, the Power BI swagger."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
SWAGGER_PATH = ROOT.parent / "shared" / "specs" / "powerbi-swagger.json"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/ files from the code")


@pytest.fixture(autouse=True)
def _clean_cetk_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CETK_"):
            monkeypatch.delenv(name)


@pytest.fixture
def golden(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Compare text with tests/golden/<name>; --update-golden rewrites it instead."""
    update = request.config.getoption("--update-golden")

    def check(name: str, text: str) -> None:
        path = GOLDEN_DIR / name
        if update:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        assert path.exists(), f"golden file {path} is missing: run `make golden`"
        assert text == path.read_text(encoding="utf-8"), (
            f"{name} is stale: run `make golden` and review the diff"
        )

    return check


@pytest.fixture(scope="session")
def powerbi_swagger() -> dict[str, Any]:
    """Microsoft's Power BI REST definition, read in place (never copied into the project)."""
    if not SWAGGER_PATH.exists():
        message = f"Power BI swagger not found at {SWAGGER_PATH}; place shared/specs beside the repository"
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (required under CI=true)")
        pytest.skip(message)
    return json.loads(SWAGGER_PATH.read_text(encoding="utf-8"))
