"""Validate tables against the canonical model: every problem, with a stable code, never an exception.

Checks run column by column with pyarrow.compute; only failing rows become Problem objects. The rules
come from the model declaration (powerbi_dataset/model.py); figures are in docs/performance.md.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from powerbi_dataset.model import DATASET
from powerbi_dataset.rules import CountNotAbove
from powerbi_dataset.schema import Column, Dataset, Relationship, Table
from transforms.coerce import Mask, Parsed, parse, plain, to_arrow, to_mask
from transforms.problems import (
    BAD_FORMAT,
    DUPLICATE_COLUMN,
    DUPLICATE_KEY,
    MISSING_COLUMN,
    MISSING_VALUE,
    NOT_A_DATE,
    ORPHAN_REFERENCE,
    OUT_OF_RANGE,
    TOO_LONG,
    UNEXPECTED_COLUMN,
    UNKNOWN_CODE,
    UNKNOWN_TABLE,
    WRONG_TYPE,
)
from transforms.report import ELLIPSIS, MASK, Problem, Report, mask_value, value_text
from transforms.rules import Finding, check_rules, rows_of

__all__ = ["Problem", "Report", "validate", "validate_dataset"]

MICROS_PER_DAY = 86_400_000_000
MICROS_PER_SECOND = 1_000_000
MAX_KEY_CHARS = 100  # ids are at most 100 chars (model.text_id); a longer "key" is pasted text, not an id


@dataclass
class _Checked:
    """One table's columns and findings, kept until cross-table checks have run."""

    name: str
    model: Table
    rows: int
    raw: dict[str, pa.Array]  # input columns the model declares, '' read as null
    parsed: dict[str, pa.Array]  # the same, parsed into the column's kind
    table_problems: list[Problem]
    findings: list[Finding] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def validate(
    table: pa.Table | pd.DataFrame, model_table: Table, *, as_of: dt.datetime | None = None
) -> Report:
    """Check one table's columns, key and in-table rules; cross-table rules need validate_dataset."""
    checked = _check_table(model_table.name, table, model_table, as_of)
    return Report(
        tuple(_problems(checked)), {checked.name: checked.rows}, tuple(dict.fromkeys(checked.skipped))
    )


def validate_dataset(
    tables: Mapping[str, pa.Table | pd.DataFrame],
    dataset: Dataset = DATASET,
    *,
    as_of: dt.datetime | None = None,
) -> Report:
    """Check every given table, then officer counts and foreign keys between the given tables."""
    known = {table.name: table for table in dataset.tables}
    checked: dict[str, _Checked] = {}
    unknown: list[Problem] = []
    for name, data in tables.items():
        if name in known:
            checked[name] = _check_table(name, data, known[name], as_of)
        else:
            unknown.append(
                Problem(name, -1, "", "", UNKNOWN_TABLE.code, f"{name!r} is not a table of the model", "")
            )
    for parent in checked.values():
        for rule in parent.model.rules:
            if isinstance(rule, CountNotAbove):
                _check_count(parent, rule, checked.get(rule.child_table))
    for relationship in dataset.relationships:
        _check_reference(relationship, checked)
    problems = list(unknown)
    skipped: list[str] = []
    for one in checked.values():
        problems.extend(_problems(one))
        skipped.extend(one.skipped)
    rows_checked = {name: one.rows for name, one in checked.items()}
    return Report(tuple(problems), rows_checked, tuple(dict.fromkeys(skipped)))


def _check_table(
    name: str, data: pa.Table | pd.DataFrame, model: Table, as_of: dt.datetime | None
) -> _Checked:
    arrow = to_arrow(data)
    declared = set(model.column_names)
    table_problems = [
        Problem(name, -1, "", column.name, MISSING_COLUMN.code, "column is missing from the input", "")
        for column in model.columns
        if column.name not in arrow.column_names
    ]
    table_problems += [
        Problem(name, -1, "", column, UNEXPECTED_COLUMN.code, "column is not in the model", "")
        for column in arrow.column_names
        if column not in declared
    ]
    names = arrow.column_names
    repeated = sorted({column for column in names if names.count(column) > 1})
    table_problems += [
        Problem(name, -1, "", column, DUPLICATE_COLUMN.code, "column appears more than once in the input", "")
        for column in repeated
    ]
    checked = _Checked(name, model, arrow.num_rows, {}, {}, table_problems)
    missing: dict[str, Mask] = {}
    for column in model.columns:
        if column.name not in names or column.name in repeated:  # which copy is meant is unknown
            continue
        raw = plain(arrow.column(column.name))
        parsed = parse(raw, column.kind)
        checked.raw[column.name] = raw
        checked.parsed[column.name] = parsed.values
        if column.required:
            missing[column.name] = to_mask(pc.is_null(raw))
        checked.findings.extend(_check_column(column, parsed, missing.get(column.name)))
    checked.findings.extend(_check_key(model, checked.parsed))
    findings, skipped = check_rules(model, checked.parsed, missing, as_of)
    checked.findings.extend(findings)
    checked.skipped.extend(skipped)
    return checked


def _check_column(column: Column, parsed: Parsed, missing: Mask | None) -> list[Finding]:
    values = parsed.values
    name = column.name
    findings = []
    if parsed.wrong is not None:
        findings.append(
            Finding(WRONG_TYPE.code, name, f"value is not a valid {column.kind}", rows_of(parsed.wrong))
        )
    if missing is not None:
        findings.append(Finding(MISSING_VALUE.code, name, "a required value is missing", rows_of(missing)))
    if column.codes:
        known = pc.is_in(values, value_set=pa.array(sorted(column.code_values), pa.string()))
        unknown = to_mask(pc.and_(pc.is_valid(values), pc.invert(known)))
        message = f"value is not one of the {len(column.codes)} codes of {name}"
        findings.append(Finding(UNKNOWN_CODE.code, name, message, rows_of(unknown)))
    findings.extend(_check_range(column, values))
    if column.kind == "String":
        limit = column.effective_max_length
        lengths = pc.utf8_length(values)
        message = f"text is longer than {limit} chars"
        findings.append(Finding(TOO_LONG.code, name, message, rows_of(to_mask(pc.greater(lengths, limit)))))
        if column.pattern:
            matches = pc.match_substring_regex(values, f"^(?:{column.pattern})$")
            message = f"text does not match the pattern {column.pattern}"
            findings.append(Finding(BAD_FORMAT.code, name, message, rows_of(to_mask(pc.invert(matches)))))
    if column.date_only:
        micros = np.asarray(pc.fill_null(values.cast(pa.int64()), 0).to_numpy(zero_copy_only=False))
        message = "a date-only value has a time of day"
        findings.append(Finding(NOT_A_DATE.code, name, message, rows_of(micros % MICROS_PER_DAY != 0)))
    return findings


def _check_range(column: Column, values: pa.Array) -> list[Finding]:
    if column.kind == "DateTime":
        numbers, scale = values.cast(pa.int64()), MICROS_PER_SECOND
    elif column.kind in ("Int64", "Double", "Decimal"):
        numbers, scale = values, 1
    else:
        return []
    # Bounds are floats; comparing int64 to them would make Arrow refuse integers beyond 2**53 (a year
    # after 2255 in microseconds, or a huge count) instead of reporting them, so compare as floats.
    numbers = numbers.cast(pa.float64(), safe=False)
    findings = []
    for bound, compare, word in (
        (column.minimum, pc.less, "below the minimum"),
        (column.maximum, pc.greater, "above the maximum"),
    ):
        if bound is not None:
            shown = dt.datetime.fromtimestamp(bound, dt.UTC).isoformat() if scale != 1 else f"{bound:g}"
            failed = to_mask(compare(numbers, pa.scalar(bound * scale, pa.float64())))
            findings.append(
                Finding(OUT_OF_RANGE.code, column.name, f"value is {word} {shown}", rows_of(failed))
            )
    return findings


def _check_key(model: Table, parsed: Mapping[str, pa.Array]) -> list[Finding]:
    """Every row after the first with a repeated key; rows with an empty key part are not compared."""
    if not model.key or any(name not in parsed for name in model.key):
        return []
    complete = np.ones(len(parsed[model.key[0]]), dtype=np.bool_)
    for name in model.key:
        complete &= to_mask(pc.is_valid(parsed[name]))
    positions = rows_of(complete)
    group = np.zeros(len(positions), dtype=np.int64)
    for name in model.key:  # group ids in order of first appearance, one key column at a time
        values = parsed[name] if complete.all() else parsed[name].take(positions)
        part = values.dictionary_encode()
        combined = group * len(part.dictionary) + np.asarray(part.indices.to_numpy(), dtype=np.int64)
        if len(model.key) > 1:
            combined = np.asarray(pa.array(combined).dictionary_encode().indices.to_numpy(), dtype=np.int64)
        group = combined
    seen = np.maximum.accumulate(group) if len(group) else group
    is_first = np.ones(len(group), dtype=np.bool_)
    is_first[1:] = seen[1:] != seen[:-1]
    return [
        Finding(
            DUPLICATE_KEY.code, model.key[0], "the primary key repeats an earlier row", positions[~is_first]
        )
    ]


def _check_count(parent: _Checked, rule: CountNotAbove, child: _Checked | None) -> None:
    if (
        child is None
        or rule.key not in child.parsed
        or any(n not in parent.parsed for n in (rule.key, rule.limit_column))
    ):
        parent.skipped.append(f"{parent.name}:{rule.code}")
        return
    counted = pc.value_counts(child.parsed[rule.key].drop_null())
    linked = pc.take(counted.field("counts"), pc.index_in(parent.parsed[rule.key], counted.field("values")))
    failed = to_mask(pc.less(parent.parsed[rule.limit_column], pc.fill_null(linked, 0)))
    parent.findings.append(Finding(rule.code, rule.limit_column, rule.message, rows_of(failed)))


def _check_reference(relationship: Relationship, checked: Mapping[str, _Checked]) -> None:
    source, target = checked.get(relationship.from_table), checked.get(relationship.to_table)
    if source is None or target is None:
        return
    if relationship.from_column not in source.parsed or relationship.to_column not in target.parsed:
        return
    keys = target.parsed[relationship.to_column].drop_null().unique()
    values = source.parsed[relationship.from_column]
    orphan = to_mask(pc.and_(pc.is_valid(values), pc.invert(pc.is_in(values, value_set=keys))))
    message = f"no {relationship.to_table} row has this {relationship.to_column}"
    source.findings.append(Finding(ORPHAN_REFERENCE.code, relationship.from_column, message, rows_of(orphan)))


def _problems(checked: _Checked) -> list[Problem]:
    """The table's problems: table-level first, then by row and check order, values masked."""
    built: list[Problem] = []
    rows: list[np.ndarray] = []
    order: list[np.ndarray] = []
    for position, finding in enumerate(checked.findings):
        if not len(finding.rows):
            continue
        built.extend(_finding_problems(checked, finding))
        rows.append(finding.rows)
        order.append(np.full(len(finding.rows), position))
    if not built:
        return list(checked.table_problems)
    sequence = np.lexsort((np.concatenate(order), np.concatenate(rows)))
    return checked.table_problems + [built[i] for i in sequence]


def _finding_problems(checked: _Checked, finding: Finding) -> list[Problem]:
    column = checked.model.column(finding.column)
    indices = pa.array(finding.rows)
    values = checked.raw[finding.column].take(indices).to_pylist()
    if finding.code == TOO_LONG.code:
        texts = [f"<{len(value)} chars>" for value in values]
    else:
        texts = [mask_value(value, column) for value in values]
    keys = _key_texts(checked, indices)
    name, code, message = checked.name, finding.code, finding.message
    return [
        Problem(name, row, key, column.name, code, message, text)
        for row, key, text in zip(finding.rows.tolist(), keys, texts, strict=True)
    ]


def _key_texts(checked: _Checked, indices: pa.Array) -> list[str]:
    key = checked.model.key
    if not key or any(name not in checked.raw for name in key):
        return [""] * len(indices)
    parts = []
    for name in key:
        personal = checked.model.column(name).personal != "none"
        values = checked.raw[name].take(indices).to_pylist()
        parts.append([MASK if personal and v is not None else _key_part(v) for v in values])
    return ["|".join(row) for row in zip(*parts, strict=True)]


def _key_part(value: object) -> str:
    text = value_text(value)
    return text if len(text) <= MAX_KEY_CHARS else text[: MAX_KEY_CHARS - 1] + ELLIPSIS
