"""Which stored rows a report sees: the routing rule, declared once, rendered as DAX for every measure.

The rule (docs/publishing.md, "What a report sees"), for a `versioned` table T:

1. A load is committed when `_loads` holds its row (posted only after every chunk was acknowledged).
2. T's baseline is the latest committed load that restates T whole (T in its `full_tables`); versions
   from loads before it are not shown.
3. For each key, the version shown is the one from the latest committed load at or after the baseline;
   if that version is a tombstone, the key is not shown.

A `with_parent` table's row is shown when the parent version it names (its parent ref) is shown: the
measure filters the parent, and the relationship carries the filter to the bridge.

`powerbi_dataset/report_view.py` applies exactly this rule in Python to the rows the service holds; here it
is written in DAX: each declared measure is wrapped as CALCULATE(expression, route filters) so that no
declared measure ever counts a superseded, deleted or uncommitted row.
"""

from __future__ import annotations

from dataclasses import dataclass

from errors import ModelError
from powerbi_dataset.schema import LOAD_SEQ_COLUMN, TOMBSTONE_COLUMN, Dataset, Measure, Table

FULL_TABLES_COLUMN = "full_tables"
LIST_DELIMITER = "|"


@dataclass(frozen=True)
class Route:
    """How reports see one versioned table: by key, through the latest committed load."""

    table: str
    key: tuple[str, ...]
    control: str  # the commit ledger table (`_loads`)


def control_table(dataset: Dataset) -> Table:
    """The commit ledger (`_loads`); a model without one cannot be published or routed."""
    for table in dataset.published_tables:
        if table.publish_mode == "control":
            return table
    raise ModelError(
        f"model {dataset.name!r} has no control table, so loads cannot be committed or routed",
        hint="declare the `_loads` table (publish_mode control) as powerbi_dataset/model.py does",
    )


def route_of(table: Table, dataset: Dataset) -> Route | None:
    """The route a table's rows are seen through: its own (versioned), its parent's (with_parent), none (control)."""
    if table.publish_mode == "control":
        return None
    if table.publish_mode == "with_parent":
        return route_of(dataset.table(table.parent or ""), dataset)
    return Route(table.name, table.key, control_table(dataset).name)


def listed(names: list[str] | tuple[str, ...]) -> str:
    """Table names as `_loads` holds them: |a|b| (empty for none), so a search for |a| matches exactly."""
    return LIST_DELIMITER + LIST_DELIMITER.join(names) + LIST_DELIMITER if names else ""


def _column(table: str, column: str) -> str:
    return f"'{table}'[{column}]"


def dax_route_variables(route: Route) -> str:
    """DAX VARs computing `__latest`: per key, the load_seq of the version a report sees (tombstones included).

    ALL(...) ignores the report's filters, so the latest version is chosen among all stored rows, never
    among the rows a slicer happens to leave (a CCR moved from LPT A to B is not counted under A).
    """
    loads = route.control
    seq = _column(route.table, LOAD_SEQ_COLUMN)
    keys = ", ".join(_column(route.table, name) for name in route.key)
    needle = f'"{listed([route.table])}"'
    return (
        f"VAR __fullFrom = COALESCE(MAXX(FILTER(ALL('{loads}'), "
        f"CONTAINSSTRING('{loads}'[{FULL_TABLES_COLUMN}], {needle})), '{loads}'[{LOAD_SEQ_COLUMN}]), 0)\n"
        f"VAR __committed = CALCULATETABLE(VALUES('{loads}'[{LOAD_SEQ_COLUMN}]), ALL('{loads}'), "
        f"'{loads}'[{LOAD_SEQ_COLUMN}] >= __fullFrom)\n"
        f"VAR __latest = GROUPBY(FILTER(ALL({keys}, {seq}), {seq} IN __committed), {keys}, "
        f'"@seq", MAXX(CURRENTGROUP(), {seq}))\n'
    )


def dax_route_filters(route: Route) -> str:
    """CALCULATE filter arguments keeping the shown versions (KEEPFILTERS: the report's filters still apply)."""
    keys = ", ".join(_column(route.table, name) for name in route.key)
    seq = _column(route.table, LOAD_SEQ_COLUMN)
    tombstone = _column(route.table, TOMBSTONE_COLUMN)
    return f"KEEPFILTERS(TREATAS(__latest, {keys}, {seq})), KEEPFILTERS({tombstone} = FALSE())"


def routed_expression(measure: Measure, dataset: Dataset) -> str:
    """The measure as published: its expression evaluated over the rows a report sees, and no others."""
    route = route_of(dataset.table(measure.table), dataset)
    if route is None:
        return measure.expression
    return (
        f"{dax_route_variables(route)}RETURN\n    CALCULATE({measure.expression}, {dax_route_filters(route)})"
    )
