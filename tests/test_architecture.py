"""Imports point one way: cli -> pipeline -> powerbi_dataset / transforms / connectors -> config -> errors.

Read from the source with `ast` (every import counts: inside functions and under TYPE_CHECKING too).
`transforms` stays pure; the product never imports the emulator except `cetk emulator serve` in cli.py;
and no module takes part in an import cycle, the emulator's included.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("pipeline", "connectors", "transforms", "powerbi_dataset", "config", "emulator")
MODULES = ("cli", "errors")
# Highest first; a component may import its own layer or a lower one, never a higher one.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("cli",),
    ("pipeline",),
    ("powerbi_dataset", "transforms", "connectors"),
    ("config",),
    ("errors",),
)
PRODUCT = tuple(component for layer in LAYERS for component in layer)
NOT_IN_TRANSFORMS = ("requests", "urllib3", "msal", "office365", "connectors", "emulator")
EMULATOR_ENTRY = ("cli", "emulator.serve")  # the one product import of the emulator: `cetk emulator serve`


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def source_files() -> dict[str, Path]:
    files = {name: ROOT / f"{name}.py" for name in MODULES}
    for package in PACKAGES:
        files.update({module_name(path): path for path in sorted((ROOT / package).rglob("*.py"))})
    return files


def imported_names(name: str, path: Path) -> Iterator[str]:
    """Every module `name` imports; `from package import module` names the module."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                submodule = f"{base}.{alias.name}"
                yield submodule if submodule in source_files() else base


@cache
def import_graph() -> dict[str, frozenset[str]]:
    """Module -> the modules it imports (third-party ones included, by their dotted name)."""
    return {name: frozenset(imported_names(name, path)) for name, path in source_files().items()}


def component(module: str) -> str:
    return module.split(".")[0]


def layer_of(name: str) -> int:
    return next(index for index, layer in enumerate(LAYERS) if name in layer)


def forbidden_imports(is_forbidden: Callable[[str, str], bool]) -> list[str]:
    """Every `importer imports target` for which is_forbidden(importer, target) holds."""
    return sorted(
        f"{importer} imports {target}"
        for importer, imported in import_graph().items()
        for target in imported
        if is_forbidden(importer, target)
    )


def test_the_graph_is_read() -> None:
    graph = import_graph()
    assert "pipeline" in graph["cli"]
    assert "transforms.validate" in graph["pipeline.validation"]
    assert "powerbi_dataset.codes" in graph["powerbi_dataset.model"]  # from package import module
    assert "emulator.serve" in graph["cli"]  # imported inside the command function


def points_up(importer: str, target: str) -> bool:
    both = component(importer) in PRODUCT and component(target) in PRODUCT
    return both and layer_of(component(target)) < layer_of(component(importer))


def test_imports_point_down_the_layers() -> None:
    assert forbidden_imports(points_up) == []


def test_transforms_stay_pure() -> None:
    assert (
        forbidden_imports(lambda i, t: component(i) == "transforms" and component(t) in NOT_IN_TRANSFORMS)
        == []
    )


def test_the_product_imports_the_emulator_only_to_serve_it() -> None:
    def reaches_in(importer: str, target: str) -> bool:
        outside = component(importer) != "emulator" and component(target) == "emulator"
        return outside and (importer, target) != EMULATOR_ENTRY

    assert forbidden_imports(reaches_in) == []


def test_the_emulator_never_imports_the_orchestration() -> None:
    assert (
        forbidden_imports(lambda i, t: component(i) == "emulator" and component(t) in ("cli", "pipeline"))
        == []
    )


def strongly_connected(graph: dict[str, frozenset[str]]) -> list[set[str]]:
    """Tarjan's algorithm: the import cycles (groups of two or more modules, or one importing itself)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[set[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in graph:
                continue
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                group.add(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph[node]:
                cycles.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


@pytest.mark.parametrize(
    "name",
    [*MODULES, *PACKAGES],
)
def test_no_import_cycles(name: str) -> None:
    cycles = [sorted(group) for group in strongly_connected(import_graph()) if name in map(component, group)]
    assert cycles == []


def test_components_form_no_cycle() -> None:
    """transforms -> powerbi_dataset and powerbi_dataset -> transforms would be a cycle of packages."""
    graph: dict[str, set[str]] = {}
    for importer, imported in import_graph().items():
        for target in imported:
            if component(target) in (*PRODUCT, "emulator") and component(target) != component(importer):
                graph.setdefault(component(importer), set()).add(component(target))
    frozen = {name: frozenset(targets) for name, targets in graph.items()}
    assert strongly_connected(frozen) == []


def test_cycle_detection_finds_a_cycle() -> None:
    graph = {"a": frozenset({"b"}), "b": frozenset({"c"}), "c": frozenset({"a"}), "d": frozenset({"d"})}
    assert sorted(sorted(group) for group in strongly_connected(graph)) == [["a", "b", "c"], ["d"]]


# What a command carries: the CLI (and so a scheduled sync) must not load the report's plotting stack ----

PLOTTING_PACKAGES = ("matplotlib", "wordcloud", "PIL")


def test_the_cli_does_not_import_the_plotting_libraries_until_a_report_draws() -> None:
    probe = (
        "import sys, cli\n"
        f"print(','.join(name for name in {PLOTTING_PACKAGES!r} if name in sys.modules))\n"
        "from pipeline.report_charts import bar_chart\n"
        "import pandas\n"
        "bar_chart(pandas.Series([1], index=['a']), 't')\n"
        "print('matplotlib' in sys.modules)\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, timeout=120, check=True
    )

    loaded_at_start, loaded_after_drawing = shown.stdout.splitlines()
    assert loaded_at_start == ""  # about 30 MB of a sync's peak memory (docs/performance.md)
    assert loaded_after_drawing == "True"  # the probe does reach the lazy import
