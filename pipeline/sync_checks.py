"""Which rows of a list's tables are staged and which are quarantined, page by page and for the rows held
in quarantine since earlier runs.

A row is quarantined for the errors normalisation found in it (an unknown label, an unresolved lookup ...)
and for what validation finds (transforms.validate); a bridge row (event_officers ...) also when its
parent item's row is quarantined, so no staged bridge row points at a row that is not staged.

Quarantined rows are checked again on every run. Normalisation's errors stand until the item changes at
source (the row holds an empty cell where the bad value was: only a new version of the item can fix it,
and a changed item is read again and replaces its quarantined row); validation's are found afresh, so a
row that turns valid without a change (its parent left quarantine, time passed a rule) is staged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from connectors.quarantine import REASONS, Quarantine, Split, split_by_problems
from powerbi_dataset.schema import Dataset, Table
from transforms.masking import MASK
from transforms.problems import ORPHAN_REFERENCE, PROBLEM_TYPES
from transforms.report import Problem
from transforms.validate import validate_dataset

# Normalisation's error codes: the value that caused them is gone from the row, so they stand until the
# item changes at source (docs/sync.md, "Problems and what the sync does with them").
STANDING_CODES = frozenset(
    {
        "wrong-type",
        "unknown-label",
        "unresolved-lookup",
        "unknown-person",
        "not-a-date",
        "ambiguous-local-time",
        "nonexistent-local-time",
    }
)
# validate's max_listed: each row's every problem, to part rows (a report's sample would stage bad rows)
EVERY_PROBLEM = 2**62


@dataclass
class Held:
    """A table's rows for the quarantine, with their problems, and the page each came from: an item read
    again on a later page of the same run (a delta feed may repeat it) keeps only its latest rows."""

    parts: list[tuple[int, Split]] = field(default_factory=list)

    def add(self, split: Split, page: int) -> None:
        if split.invalid.num_rows:  # the valid rows are staged already: not kept (memory)
            self.parts.append(
                (page, Split(split.invalid.schema.empty_table(), split.invalid, split.problems))
            )

    def keys(self, column: str) -> set[object]:
        return {value for _page, split in self.parts for value in split.invalid.column(column).to_pylist()}

    def collect(self, column: str, last_page: Mapping[object, int]) -> tuple[pa.Table | None, list[Problem]]:
        """The rows to quarantine (None: none) and their problems, Problem.row indexing those rows."""
        kept: list[pa.Table] = []
        problems: list[Problem] = []
        offset = 0
        for page, split in self.parts:
            parents = split.invalid.column(column).to_pylist()
            keep = [row for row, parent in enumerate(parents) if last_page.get(parent, page) == page]
            if not keep:
                continue
            position = {row: index + offset for index, row in enumerate(keep)}
            kept.append(split.invalid.take(pa.array(keep, pa.int64())))
            problems.extend(replace(p, row=position[p.row]) for p in split.problems if p.row in position)
            offset += len(keep)
        return (pa.concat_tables(kept) if kept else None), problems


def is_error(problem: Problem) -> bool:
    kind = PROBLEM_TYPES.get(problem.code)
    return problem.row >= 0 and (kind is None or kind.severity == "error")


def split_page(
    tables: Mapping[str, pa.Table],
    main: Table,
    normalise_problems: Sequence[Problem],
    *,
    dataset: Dataset,
    as_of: dt.datetime,
    quarantined_parents: Collection[object] = (),
) -> dict[str, Split]:
    """Each table of a list (its main table and bridges) parted into rows to stage and to quarantine."""
    # An empty table has nothing to check (and validate_dataset fails on one with an exclusivity rule)
    report = validate_dataset(
        {name: rows for name, rows in tables.items() if rows.num_rows}, dataset, as_of=as_of,
        max_listed=EVERY_PROBLEM,
    )  # fmt: skip
    found = [*normalise_problems, *report.problems]
    by_table: dict[str, list[Problem]] = {name: [] for name in tables}
    for problem in found:
        if is_error(problem) and problem.table in by_table:
            by_table[problem.table].append(problem)
    splits = {main.name: split_by_problems(tables[main.name], _unique(by_table[main.name]))}
    bad_parents = set(quarantined_parents) | set(splits[main.name].invalid.column(main.key[0]).to_pylist())
    for name, rows in tables.items():
        if name == main.name:
            continue
        model = dataset.table(name)
        problems = by_table[name] + orphans(rows, model, main, bad_parents)
        splits[name] = split_by_problems(rows, _unique(problems))
    return splits


def orphans(rows: pa.Table, model: Table, main: Table, bad_parents: Collection[object]) -> list[Problem]:
    """An orphan-reference problem for each bridge row whose parent row is quarantined."""
    if not bad_parents or rows.num_rows == 0:
        return []
    parent = model.key[0]
    hit = pc.is_in(rows.column(parent), value_set=pa.array(list(bad_parents), rows.column(parent).type))
    positions = np.flatnonzero(hit.to_numpy(zero_copy_only=False)).tolist()
    if not positions:
        return []
    message = f"its {main.name} row is quarantined, so it is held back with it"
    keys = key_texts(rows.take(pa.array(positions, pa.int64())), model)  # those rows' only
    return [
        Problem(model.name, row, key, parent, ORPHAN_REFERENCE.code, message, "")
        for row, key in zip(positions, keys, strict=True)
    ]


def stored_problems(
    quarantine: Quarantine, table: Table, rows: pa.Table, codes: Collection[str] | None = None
) -> list[Problem]:
    """The problems recorded with quarantined rows (those of `codes`, or all), for `rows` as loaded."""
    if rows.num_rows == 0:
        return []
    parquet, _ = quarantine.paths(table.name)
    stored = pq.read_table(parquet, columns=[*table.key, REASONS])
    reasons: dict[tuple[object, ...], list[dict[str, str]]] = {}
    key_columns = [stored.column(name).to_pylist() for name in table.key]
    for index, reason in enumerate(stored.column(REASONS).to_pylist()):
        reasons[tuple(column[index] for column in key_columns)] = reason or []
    wanted = [rows.column(name).to_pylist() for name in table.key]
    keys: list[str] | None = None
    problems = []
    for row in range(rows.num_rows):
        for reason in reasons.get(tuple(column[row] for column in wanted), []):
            if codes is None or reason["code"] in codes:
                keys = keys if keys is not None else key_texts(rows, table)
                problems.append(
                    Problem(
                        table.name,
                        row,
                        keys[row],
                        reason["column"],
                        reason["code"],
                        reason["message"],
                        reason["value"],
                    )  # fmt: skip
                )
    return problems


def key_texts(rows: pa.Table, table: Table) -> list[str]:
    """Each row's key as validation shows it: values joined with '|', personal parts masked."""
    parts = [
        [MASK] * rows.num_rows
        if table.column(name).personal != "none"
        else [str(v) for v in rows.column(name).to_pylist()]
        for name in table.key
    ]
    return ["|".join(values) for values in zip(*parts, strict=True)] if parts else [""] * rows.num_rows


def _unique(problems: Sequence[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))
