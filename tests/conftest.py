"""Shared test fixtures: golden files, a clean CETK_* environment, isolated logging, the Power BI swagger."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.prerequisites import SWAGGER_PATH, missing

if TYPE_CHECKING:
    from tests.demo_staging import DemoReport

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", help="rewrite tests/golden/ files from the code")


@pytest.hookimpl(optionalhook=True, tryfirst=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadgroup` (`make unit`) spreads tests as tests/scheduling.py says; other modes as xdist does."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from tests.scheduling import SharedFixtureScheduling  # imported here: xdist is needed only with -n

    return SharedFixtureScheduling(config, log)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow modules first (tests/scheduling.py), so no long test is the last one a worker starts."""
    from tests.scheduling import module_of, slow_first

    items.sort(key=lambda item: slow_first(module_of(item.nodeid)))


@pytest.fixture(autouse=True)
def _clean_cetk_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("CETK_"):
            monkeypatch.delenv(name)


@pytest.fixture(autouse=True)
def _isolated_logging() -> Iterator[None]:
    """No test leaves logging changed for the next (so none passes on another's redaction): the root
    handlers and level, the record factory, and every logger's filters are put back after each test."""
    root = logging.getLogger()
    handlers, level, factory = list(root.handlers), root.level, logging.getLogRecordFactory()
    filters = {name: list(item.filters) for name, item in _loggers()}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.setLogRecordFactory(factory)
    for name, item in _loggers():
        item.filters[:] = filters.get(name, [])


def _loggers() -> list[tuple[str, logging.Logger]]:
    known = list(logging.Logger.manager.loggerDict.items())
    return [("", logging.getLogger()), *((n, x) for n, x in known if isinstance(x, logging.Logger))]


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
    if not SWAGGER_PATH.is_file():
        missing(
            f"Power BI swagger not found at {SWAGGER_PATH}; place shared/specs beside the repository "
            "or name its directory in SHARED_SPECS_DIR"
        )
    return json.loads(SWAGGER_PATH.read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def demo_report(tmp_path_factory: pytest.TempPathFactory) -> DemoReport:
    """The report written from a staged sync of the demo force (tests/demo_staging.py), built once."""
    from tests.demo_staging import build_demo_report  # imported here: it loads the emulator and matplotlib

    return build_demo_report(tmp_path_factory.mktemp("demo-report"))
