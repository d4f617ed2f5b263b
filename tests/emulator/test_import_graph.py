"""No import cycles in the emulator, between its modules or between its rooms, and rooms lean one way.

Read from the source with `ast`, so an import inside a function or under TYPE_CHECKING counts: a cycle
hidden that way is still a cycle in the design. Importing `emulator.graph.items` imports the package
`emulator.graph` first, so a module depends on the packages above it and above what it imports.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "emulator"
# Which rooms each room may import; the entry points (emulator.build, .testing, .serve) may import any.
ROOM_DEPENDENCIES: dict[str, frozenset[str]] = {
    "core": frozenset(),
    "lists": frozenset({"core"}),
    "login": frozenset({"core"}),
    "powerbi": frozenset({"core"}),
    "faults": frozenset({"core"}),
    "graph": frozenset({"core", "lists"}),
    "sharepoint": frozenset({"core", "lists"}),
    "demo": frozenset({"core", "lists"}),
}

Graph = dict[str, set[str]]


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_names(tree: ast.AST, module: str, is_package: bool) -> Iterable[str]:
    """Every dotted name an import statement may refer to (`from a import b` may mean module a.b)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = module.split(".") if is_package else module.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            yield base
            yield from (f"{base}.{alias.name}" for alias in node.names)


def import_graph(root: Path, package: str = PACKAGE) -> Graph:
    """Module -> the package's modules it imports (the most specific one each import names)."""
    files = {module_name(path, root): path for path in sorted((root / package).rglob("*.py"))}
    graph: Graph = {}
    for module, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        targets = {name for name in imported_names(tree, module, path.name == "__init__.py") if name in files}
        graph[module] = {package for name in (module, *targets) for package in _with_parents(name)} - {module}
    return graph


def _with_parents(module: str) -> set[str]:
    """The module and the packages Python imports before it."""
    parts = module.split(".")
    return {".".join(parts[:depth]) for depth in range(1, len(parts) + 1)}


def cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one node (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
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
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def room(module: str) -> str:
    """`emulator.graph.items` -> `graph`; entry points and the package itself are their own rooms."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def room_graph(graph: Graph) -> Graph:
    rooms: Graph = {}
    for module, targets in graph.items():
        edges = rooms.setdefault(room(module), set())
        edges.update(room(target) for target in targets if room(target) != room(module))
    return rooms


def test_no_cycle_among_emulator_modules() -> None:
    graph = import_graph(ROOT)
    assert "emulator.graph.service" in graph and "emulator.core.app" in graph["emulator.graph.batch"]
    assert cycles(graph) == []


def test_no_cycle_among_emulator_rooms() -> None:
    rooms = room_graph(import_graph(ROOT))
    assert set(ROOM_DEPENDENCIES) <= set(rooms)
    assert cycles(rooms) == []


def test_rooms_import_only_the_rooms_below_them() -> None:
    rooms = room_graph(import_graph(ROOT))
    entry_points = {"build", "testing", "serve", PACKAGE}
    assert set(rooms) - set(ROOM_DEPENDENCIES) == entry_points, "a new room needs a line in ROOM_DEPENDENCIES"
    wrong = {name: sorted(rooms[name] - allowed - {PACKAGE}) for name, allowed in ROOM_DEPENDENCIES.items()}
    assert {name: found for name, found in wrong.items() if found} == {}


def test_the_reader_sees_every_kind_of_import(tmp_path: Path) -> None:
    """Plain, from, relative, function-local and TYPE_CHECKING imports all make edges."""
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("import pkg.b\n")
    (package / "b.py").write_text("def f():\n    from .sub import c\n")
    (package / "sub" / "c.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .. import a\n"
    )
    graph = import_graph(tmp_path, "pkg")
    assert graph["pkg.a"] == {"pkg", "pkg.b"}
    assert graph["pkg.b"] == {"pkg", "pkg.sub", "pkg.sub.c"}
    assert graph["pkg.sub.c"] == {"pkg", "pkg.sub", "pkg.a"}
    assert cycles(graph) == [["pkg.a", "pkg.b", "pkg.sub.c"]]
