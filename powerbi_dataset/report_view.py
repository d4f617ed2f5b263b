"""What a report sees: the routing rule of powerbi_dataset/routing.py applied in Python to stored rows.

Pure: give it every row a push dataset holds (as the service stores them: column name -> JSON value), get
back the canonical tables a report built on the declared measures sees. Tests run it on the emulator's
rows and compare with the source; `relationship_problems` checks that the relationships the dataset
declares are valid over all stored rows, whatever loads they came from.

The rule, exactly as the DAX says it:
1. committed loads: the `load_seq` of every `_loads` row;
2. per versioned table T, the baseline: the greatest committed `load_seq` whose `full_tables` lists T (0 if none);
3. per key of T, the latest version: the greatest committed `load_seq` >= baseline among its rows; every row
   with that key and that `load_seq` is shown unless it is a tombstone (so a duplicate would show twice);
4. a with_parent row is shown when its parent ref is the ref of a shown parent row.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa

from powerbi_dataset.derive import arrow_schema
from powerbi_dataset.kinds import KIND_TYPES
from powerbi_dataset.routing import FULL_TABLES_COLUMN, control_table, listed
from powerbi_dataset.schema import LOAD_SEQ_COLUMN, TOMBSTONE_COLUMN, Dataset, Table
from powerbi_dataset.versioning import own_ref_column, parent_reference, references

StoredRows = Mapping[str, Sequence[Mapping[str, Any]]]  # table name -> rows as the service holds them


def committed_loads(stored: StoredRows, dataset: Dataset) -> dict[int, Mapping[str, Any]]:
    """load_seq -> its `_loads` row: the loads a report treats as committed."""
    return {int(row[LOAD_SEQ_COLUMN]): row for row in stored.get(control_table(dataset).name, ())}


def shown_rows(stored: StoredRows, dataset: Dataset) -> dict[str, list[Mapping[str, Any]]]:
    """Every published row table's shown rows, as stored (publish columns included)."""
    loads = committed_loads(stored, dataset)
    shown: dict[str, list[Mapping[str, Any]]] = {}
    for table in dataset.published_tables:
        rows = stored.get(table.name, ())
        if table.publish_mode == "versioned":
            shown[table.name] = _latest_versions(table, rows, loads)
        elif table.publish_mode == "with_parent":
            parent = dataset.table(table.parent or "")
            link = parent_reference(table, dataset)
            parent_ref = own_ref_column(parent, dataset)
            assert link is not None and parent_ref is not None  # the declaration guarantees both
            refs = {row.get(parent_ref) for row in shown[parent.name]} - {None}
            shown[table.name] = [row for row in rows if row.get(link.column) in refs]
    return shown


def _latest_versions(
    table: Table, rows: Sequence[Mapping[str, Any]], loads: Mapping[int, Mapping[str, Any]]
) -> list[Mapping[str, Any]]:
    needle = listed([table.name])
    baseline = max(
        (seq for seq, row in loads.items() if needle in (row.get(FULL_TABLES_COLUMN) or "")), default=0
    )
    latest: dict[tuple[Any, ...], int] = {}
    for row in rows:
        seq = row.get(LOAD_SEQ_COLUMN)
        if seq is None or seq not in loads or seq < baseline:
            continue
        key = tuple(row.get(name) for name in table.key)
        latest[key] = max(latest.get(key, seq), seq)
    return [
        row
        for row in rows
        if row.get(LOAD_SEQ_COLUMN) is not None
        and latest.get(tuple(row.get(name) for name in table.key)) == row.get(LOAD_SEQ_COLUMN)
        and not row.get(TOMBSTONE_COLUMN)  # BLANK() = FALSE() in DAX: a missing flag is no tombstone
    ]


def report_view(stored: StoredRows, dataset: Dataset) -> dict[str, pa.Table]:
    """The canonical tables a report sees: each shown row's published columns, typed as staged."""
    return {name: _canonical(dataset.table(name), rows) for name, rows in shown_rows(stored, dataset).items()}


def _canonical(table: Table, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    schema = arrow_schema(table, "published")
    columns = {}
    for column in table.published_columns:
        values = [_value(column.kind, row.get(column.name)) for row in rows]
        columns[column.name] = pa.array(values, KIND_TYPES[column.kind].storage)
    return pa.table(columns, schema=schema)


def _value(kind: str, value: Any) -> Any:
    """A JSON value as the staged type holds it: ISO strings to UTC datetimes, numbers to Decimal."""
    if value is None:
        return None
    if kind == "DateTime":
        text = str(value)
        moment = dt.datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
        return moment.astimezone(dt.UTC)
    if kind == "Decimal":
        return decimal.Decimal(str(value))
    return value


def relationship_problems(stored: StoredRows, dataset: Dataset) -> list[str]:
    """Why the declared relationships would not hold: a one-side ref repeated (or empty) among ALL stored
    rows, or a shown row whose ref names no shown row, or names another key than its foreign key column."""
    problems: list[str] = []
    shown = shown_rows(stored, dataset)
    for table in dataset.published_tables:
        own = own_ref_column(table, dataset)
        if own is None:
            continue
        counts = Counter(row.get(own) for row in stored.get(table.name, ()))
        repeated = sorted(str(ref) for ref, count in counts.items() if count > 1 or ref is None)
        if repeated:
            problems.append(f"{table.name}.{own}: {len(repeated)} value(s) not unique, e.g. {repeated[0]!r}")
    for table in dataset.published_tables:
        for ref in references(table, dataset):
            target = dataset.table(ref.relationship.to_table)
            known = {row.get(ref.to_column) for row in shown.get(target.name, ())}
            for row in shown.get(table.name, ()):
                problem = _reference_problem(row, ref.column, ref.relationship.from_column, known)
                if problem:
                    problems.append(f"{table.name}.{ref.column} -> {target.name}: {problem}")
    return problems


def _reference_problem(row: Mapping[str, Any], ref_column: str, key_column: str, known: set[Any]) -> str:
    ref, key = row.get(ref_column), row.get(key_column)
    if key is None:
        return "" if ref is None else f"ref {ref!r} without a key"
    if ref not in known:
        return f"ref {ref!r} is not a shown row"
    if str(ref).split(":", 1)[-1] != str(key):
        return f"ref {ref!r} names another key than {key!r}"
    return ""
