"""One table's validation, record batch by record batch, in memory that does not grow with the rows:
the header's checks (transforms/table_header.py), every column check and in-batch rule per batch, and for
the checks that need the whole table (duplicate keys, exclusive codes, references, counts) only 128-bit
hashes (transforms/keys.py).

Problems are built only for the rows the collector lists, by transforms/table_problems.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeAlias

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from powerbi_dataset.rules import Condition, CountNotAbove, Exclusive
from powerbi_dataset.schema import Dataset, Relationship, Table
from transforms.checks import check_column
from transforms.coerce import Mask, parse, plain, valid_mask
from transforms.keys import (
    ColumnHashes,
    Counter128,
    HashSet,
    KnownText,
    Rows,
    combine,
    hashes_of,
    repeated_after_first,
    shared_groups,
)
from transforms.masking import (
    Fingerprinter,
    shown_value,
)
from transforms.problems import (
    DUPLICATE_KEY,
    ORPHAN_REFERENCE,
)
from transforms.report import ProblemCollector
from transforms.rules import Finding, can_check, check_rules, condition_mask, rows_of
from transforms.table_header import read_header
from transforms.table_problems import Described, Hashed, Rank, TableProblems

Batch: TypeAlias = pa.RecordBatch | pa.Table
COLUMN_STAGE, KEY_STAGE, RULE_STAGE, COUNT_STAGE, REFERENCE_STAGE = range(5)


class TableSource(Protocol):
    """A table to validate: its header first, then record batches of the columns asked for."""

    @property
    def label(self) -> str: ...  # how messages name it: a file path, or "the input"

    def header(self) -> Sequence[str]: ...

    def batches(self, positions: Sequence[int]) -> Iterable[Batch]: ...  # exactly these columns, in order


@dataclass
class RunContext:
    """What the tables of one validation share."""

    dataset: Dataset
    collector: ProblemCollector
    fingerprinter: Fingerprinter
    as_of: dt.datetime | None
    given: Sequence[str]  # the model tables in the input
    done: dict[str, TableRun] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    child_counts: dict[tuple[str, int], Counter128] = field(default_factory=dict)  # (parent, rule index)
    details: bool = True  # False: each problem's key and value left "" (a caller that needs only rows)


class TableRun:
    def __init__(self, model: Table, index: int, context: RunContext) -> None:
        self.name, self.model, self.index, self.context = model.name, model, index, context
        self.problems = TableProblems(
            model, index, context.dataset, context.collector, context.fingerprinter, details=context.details
        )
        self.readable = False
        self.rows = 0
        self.columns: list[str] = []  # the model columns read: present exactly once in the header
        self.hashes: dict[str, ColumnHashes] = {}  # the columns a cross-batch check needs
        self.feeds: list[tuple[str, Counter128]] = []  # this table as a count rule's child
        self.limits: dict[int, list[npt.NDArray[np.float64]]] = {}  # count rule -> its limits
        self.holds: dict[int, list[Mask]] = {}  # exclusive rule -> rows holding its value
        self.references: list[tuple[int, Relationship, HashSet]] = []
        self.targets: dict[str, HashSet] = {}  # column -> its distinct values, once read
        self.known: dict[str, KnownText] = {}  # a target text column's values and hashes
        self.lookups: dict[str, KnownText] = {}  # a reference's column -> its target's values

    # --- the header --------------------------------------------------------------------------------

    def read(self, source: TableSource) -> None:
        positions = read_header(
            [str(name) for name in source.header()], self.model, source.label, self.problems
        )
        if positions is None:
            return
        self.columns = list(positions)
        self.readable = True
        self._prepare()
        for batch in source.batches(list(positions.values())):
            self._check_batch(batch)
        self._finish()

    # --- what the cross-batch checks keep ------------------------------------------------------------

    def _prepare(self) -> None:
        present, context = set(self.columns), self.context
        keep = set(self.model.key) if all(name in present for name in self.model.key) else set()
        for index, rule in enumerate(self.model.rules):
            if isinstance(rule, CountNotAbove):
                if can_check(rule, present, None):
                    keep.add(rule.key)
                    self.limits[index] = []
            elif not can_check(rule, present, context.as_of):
                context.skipped.append(f"{self.name}:{rule.code}")
            elif isinstance(rule, Exclusive):
                keep.add(rule.group_by)
                self.holds[index] = []
        for (parent, index), counter in context.child_counts.items():
            rule = context.dataset.table(parent).rules[index]
            if isinstance(rule, CountNotAbove) and rule.child_table == self.name and rule.key in present:
                self.feeds.append((rule.key, counter))
        for index, relationship in enumerate(context.dataset.relationships):
            if self._is_target(relationship) and relationship.to_column in present:
                keep.add(relationship.to_column)
            if relationship.from_table == self.name and relationship.from_column in present:
                target = context.done.get(relationship.to_table)
                if target is not None and relationship.to_column in target.targets:
                    self.references.append((index, relationship, target.targets[relationship.to_column]))
                    known = target.known.get(relationship.to_column)
                    if known is not None:
                        self.lookups.setdefault(relationship.from_column, known)
                elif target is None and relationship.to_table in context.given:  # a cycle: read later
                    context.skipped.append(f"{self.name}:{ORPHAN_REFERENCE.code}")
        self.hashes = {name: ColumnHashes() for name in sorted(keep)}
        for relationship in context.dataset.relationships:
            if self._is_target(relationship) and relationship.to_column in self.hashes:
                self.known.setdefault(relationship.to_column, KnownText())

    def _is_target(self, relationship: Relationship) -> bool:
        """Whether a table still to be read refers to this one through `relationship`."""
        source = relationship.from_table
        given, done = self.context.given, self.context.done
        return relationship.to_table == self.name and source in given and source not in done

    # --- one batch --------------------------------------------------------------------------------------

    def _check_batch(self, batch: Batch) -> None:
        offset, self.rows = self.rows, self.rows + batch.num_rows
        raw: dict[str, pa.Array] = {}
        parsed: dict[str, pa.Array] = {}
        missing: dict[str, Mask] = {}
        findings: list[tuple[Rank, Finding]] = []
        for position, name in enumerate(self.columns):
            column = self.model.column(name)
            raw[name] = plain(batch.column(position))
            result = parse(raw[name], column.kind)
            parsed[name] = result.values
            if column.required:
                missing[name] = ~valid_mask(raw[name])
            at = self.model.columns.index(column)
            checks = check_column(column, result, missing.get(name))
            findings += [((COLUMN_STAGE, at, number), finding) for number, finding in enumerate(checks)]
        needed = {*self.hashes, *(name for name, _ in self.feeds)}
        needed |= {relationship.from_column for _, relationship, _ in self.references}
        hashed = {name: hashes_of(parsed[name], self.lookups.get(name)) for name in needed}
        for name, known in list(self.known.items()):  # text only, and only up to KnownText.LIMIT
            if not pa.types.is_string(parsed[name].type) or not known.add(parsed[name], *hashed[name][:2]):
                del self.known[name]
        for name, store in self.hashes.items():
            store.add(*hashed[name])
        for name, counter in self.feeds:
            counter.hashes.add(*hashed[name])
        for number, (index, finding) in enumerate(
            check_rules(self.model, parsed, missing, self.context.as_of)
        ):
            findings.append(((RULE_STAGE, index, number), finding))
        for index, holding in self.holds.items():
            rule = self.model.rules[index]
            assert isinstance(rule, Exclusive)
            holding.append(condition_mask(Condition(rule.column, "eq", rule.value), parsed[rule.column]))
        for index, limits in self.limits.items():
            rule = self.model.rules[index]
            assert isinstance(rule, CountNotAbove)
            limits.append(_floats(parsed[rule.limit_column]))
        for index, relationship, target in self.references:
            first, second, present = hashed[relationship.from_column]
            orphan = present & ~target.contains(first, second)
            message = f"no {relationship.to_table} row has this {relationship.to_column}"
            finding = Finding(ORPHAN_REFERENCE.code, relationship.from_column, message, rows_of(orphan))
            findings.append(((REFERENCE_STAGE, index, 0), finding))
        for rank, finding in findings:
            self._emit(finding, rank, offset, raw, parsed, hashed)

    def _emit(
        self,
        finding: Finding,
        rank: Rank,
        offset: int,
        raw: dict[str, pa.Array],
        parsed: dict[str, pa.Array],
        hashed: dict[str, Hashed],
    ) -> None:
        def describe(chosen: Rows) -> Described:
            column = self.model.column(finding.column)
            texts = self.problems.batch_values(
                column, chosen, raw[column.name], parsed[column.name], finding.code
            )
            return self.problems.keys(hashed, chosen), texts

        self.problems.report(finding, rank, offset, describe)

    # --- once the table is read ------------------------------------------------------------------------

    def _finish(self) -> None:
        key = self.model.key
        if key and all(name in self.hashes for name in key):
            parts = [self.hashes[name].arrays() for name in key]
            first, second = combine([(part[0], part[1]) for part in parts])
            present = np.logical_and.reduce([part[2] for part in parts])
            rows = repeated_after_first(first, second, present)
            finding = Finding(DUPLICATE_KEY.code, key[0], "the primary key repeats an earlier row", rows)
            self.emit_deferred(finding, (KEY_STAGE, 0, 0), None)
        for index, holding in self.holds.items():
            rule = self.model.rules[index]
            assert isinstance(rule, Exclusive)
            if not holding:  # an empty table: no row can hold the value twice
                continue
            rows = shared_groups(np.concatenate(holding), *self.hashes[rule.group_by].arrays())
            shown = shown_value(
                rule.value, self.model.column(rule.column), self.problems.display[rule.column]
            )
            self.emit_deferred(
                Finding(rule.code, rule.column, rule.message, rows), (RULE_STAGE, index, 0), shown
            )
        for relationship in self.context.dataset.relationships:
            column = relationship.to_column
            if self._is_target(relationship) and column in self.hashes and column not in self.targets:
                first, second, present = self.hashes[column].arrays()
                self.targets[column] = HashSet(first[present], second[present])
        kept = {*key, *(rule.key for rule in self.model.rules if isinstance(rule, CountNotAbove))}
        self.hashes = {name: store for name, store in self.hashes.items() if name in kept}

    def emit_deferred(self, finding: Finding, rank: Rank, value: str | None) -> None:
        """Problems found once whole tables are read: keys (and, without `value`, the value) as fingerprints."""

        def describe(chosen: Rows) -> Described:
            keys = self.problems.keys(self._stored_keys(), chosen)
            return keys, [value if value is not None else key.split("|")[0] for key in keys]

        self.problems.report(finding, rank, 0, describe)

    def check_count(self, index: int, counter: Counter128) -> None:
        """A count rule, once its child table is read: rows whose limit is below their linked rows."""
        rule = self.model.rules[index]
        assert isinstance(rule, CountNotAbove)
        counts = counter.counts_for(*self.hashes[rule.key].arrays())
        limits = np.concatenate(self.limits[index]) if self.limits[index] else np.zeros(0)
        rows = rows_of(~np.isnan(limits) & (limits < counts))

        def describe(chosen: Rows) -> Described:
            column = self.model.column(rule.limit_column)
            display = self.problems.display[rule.limit_column]
            texts = [shown_value(_number(limit), column, display) for limit in limits[chosen].tolist()]
            return self.problems.keys(self._stored_keys(), chosen), texts

        finding = Finding(rule.code, rule.limit_column, rule.message, rows)
        self.problems.report(finding, (COUNT_STAGE, index, 0), 0, describe)

    def _stored_keys(self) -> dict[str, Hashed]:
        """The whole table's hashes of each key column kept."""
        return {name: self.hashes[name].arrays() for name in self.model.key if name in self.hashes}


def _number(value: float) -> int | float:
    return int(value) if value.is_integer() else value


def _floats(values: pa.Array) -> npt.NDArray[np.float64]:
    return np.asarray(values.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)
