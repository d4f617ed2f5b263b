"""How `make unit` spreads the suite over pytest-xdist workers (`-n auto --dist loadgroup`).

Tests go one by one to whichever worker is free, as with `--dist load`, except:

- every test of a module that declares a module- or class-scoped fixture goes to one worker, and so do the
  modules that share an expensive session fixture (SESSION_GROUPS): the fixture is built once, not once on
  each worker that happens to run one of its tests;
- the work goes out biggest unit first (xdist's loadscope reorder), and among single tests the modules
  known to be slow (SLOW_FIRST) first: a long test started last keeps the run waiting on one worker.

Why a scheduler of our own: xdist 3.8's loadgroup marks its groups by rewriting `item._nodeid`, which
pytest 9 no longer reads, so `xdist_group` marks silently group nothing. The order changes nothing a test
can see: each test still builds its own fixtures, and module fixtures are built per module as before.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

from xdist.scheduler import LoadScopeScheduling

# Modules whose tests share one session fixture (tests/conftest.py): one worker runs them all.
SESSION_GROUPS = {
    "tests/test_pipeline_report.py": "demo_report",
    "tests/test_report_browser.py": "demo_report",
}
# Modules with tests of 10 s and more (`pytest --durations`, docs/performance.md), sent out first.
SLOW_FIRST = (
    "tests/test_demo_pipeline.py",
    "tests/powerbi_dataset/test_publish_reliability.py",
    "tests/test_cli_publish.py",
    "tests/powerbi_dataset/test_crash.py",
    "tests/test_pipeline_publish_published.py",
    "tests/test_validate_properties.py",
    "tests/test_validate_inputs.py",
    "tests/test_cli_process.py",
    "tests/test_pipeline_sync_publish.py",
)
SHARED_SCOPE = re.compile(r"@pytest\.fixture\([^)]*scope=\"(module|class)\"")


def module_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def slow_first(module: str) -> int:
    """Sort key: the slow modules in SLOW_FIRST's order, then every other module in collection order."""
    return SLOW_FIRST.index(module) if module in SLOW_FIRST else len(SLOW_FIRST)


@cache
def shares_a_fixture(path: Path) -> bool:
    try:
        return SHARED_SCOPE.search(path.read_text(encoding="utf-8")) is not None
    except OSError:
        return False


class SharedFixtureScheduling(LoadScopeScheduling):  # type: ignore[misc]
    """loadscope whose units are a session group, a module with a shared fixture, or else one test."""

    def __init__(self, config: Any, log: Any = None) -> None:
        super().__init__(config, log)
        self.root = Path(config.rootpath)

    def _split_scope(self, nodeid: str) -> str:
        module = module_of(nodeid)
        if module in SESSION_GROUPS:
            return SESSION_GROUPS[module]
        if shares_a_fixture(self.root / module):
            return module
        return nodeid
