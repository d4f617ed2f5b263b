"""Read Forms exports, map them with the Forms mapping, dedupe by migration key, validate and split.

The pure-ish middle of `cetk migrate forms` (pipeline/migrate.py runs it, then writes): every export is
read with the reader's guards, matched to its form, mapped (transforms/forms_apply.py), and all files'
rows are collapsed to one per migration key, the newest version winning (so overlapping exports of one
form, and a .csv beside its .xlsx, give each response once). Survivors are validated against the model;
a row with any error (the reader's, the mapping's or the model's) is quarantined with its bridge rows.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.forms_export import FormsExport, ReadOptions, read_export
from connectors.forms_values import Locale, parse_time_text
from errors import ConfigError
from powerbi_dataset.model import DATASET
from powerbi_dataset.schema import Dataset
from transforms.forms_apply import map_export, unmapped_questions
from transforms.forms_mapping import FormMapping, FormsMapping, forms_for_export
from transforms.problems import PROBLEM_TYPES
from transforms.report import Problem
from transforms.validate import validate

ROW_COLUMN = "__row"  # a row's number across every file of the run, while rows are collapsed
VERSION_COLUMN = "__version"
EVERY_PROBLEM = 2**62  # validate's max_listed: a migration must see every problem, not a report's sample


@dataclass(frozen=True)
class RowIssue:
    """Why one response was quarantined: where it is (file, spreadsheet row) and the rule, never the value."""

    file: str
    row: int  # the row in the file: the header is row 1
    key: str
    column: str
    code: str
    message: str


@dataclass(frozen=True)
class ExportRead:
    file: str
    form: str
    rows: int
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class MappedRows:
    """Every file's responses, collapsed and split: `valid` tables by name, and quarantined rows' issues."""

    files: tuple[ExportRead, ...]
    read: int
    duplicates: int
    quarantined: int
    valid: dict[str, pa.Table]
    issues: tuple[RowIssue, ...]

    @property
    def mapped(self) -> int:
        return int(self.valid["ccr"].num_rows) if "ccr" in self.valid else 0

    def quarantined_by_rule(self) -> dict[str, int]:
        """Quarantined responses per rule: a response counts once per rule it broke."""
        seen = {(issue.file, issue.row, issue.code) for issue in self.issues}
        return dict(sorted(Counter(code for _file, _row, code in seen).items()))


class UnmappedQuestions(ConfigError):
    """Questions an export asks that the mapping neither maps nor ignores: the run stops before writing."""


def parse_answer_date(locale: Locale | None) -> Callable[[str], tuple[dt.date | None, str | None]]:
    """A date answer ("Date of contact") read with the reader's rules for `locale`."""

    def parse(text: str) -> tuple[dt.date | None, str | None]:
        parsed = parse_time_text(text, locale)
        return (parsed.local.date() if parsed.local else None), parsed.problem

    return parse


def read_and_map(
    paths: Sequence[Path],
    mapping: FormsMapping,
    options: ReadOptions,
    csv_options: ReadOptions,
    *,
    dataset: Dataset = DATASET,
    on_file: Callable[[ExportRead, int, int], None] | None = None,
) -> MappedRows:
    """Every export read and mapped; UnmappedQuestions (listing each) when a question has no entry."""
    exports: list[tuple[FormsExport, FormMapping]] = []
    unmapped: list[str] = []
    for number, path in enumerate(paths, start=1):
        chosen = csv_options if path.suffix.lower() == ".csv" else options
        export = read_export(path, replace(chosen, keep_questions=_used_questions(mapping, path.name)))
        form = _form_of(mapping, path.name, export)
        unmapped += [f"{path.name}: '{text}'" for text in unmapped_questions(form, _names(export))]
        if exports and form.table != exports[0][1].table:
            raise ConfigError(
                f"the export {path.name} feeds table '{form.table}', the run's first feeds '{exports[0][1].table}'",
                hint="migrate the exports of each table in a run of their own",
            )
        exports.append((export, form))
        if on_file is not None:
            on_file(ExportRead(path.name, form.form, export.row_count, export.notes), number, len(paths))
    if unmapped:
        raise UnmappedQuestions(
            f"{len(unmapped)} question(s) are not in the Forms mapping {mapping.source}: "
            + "; ".join(unmapped),
            hint="map each one (`to:`) or ignore it with a reason (`ignore:`), as `cetk migrate forms init` proposes",
        )
    return _collapse_and_split(exports, parse_answer_date(options.locale), dataset)


def _used_questions(mapping: FormsMapping, name: str) -> frozenset[str] | None:
    """The questions whose answers the mapping uses, when the file's name picks its form; else all."""
    forms = forms_for_export(mapping, name, ())
    if len(forms) != 1 or not forms[0].files:
        return None
    return frozenset(question.text for question in forms[0].questions if not question.is_ignored)


def _form_of(mapping: FormsMapping, name: str, export: FormsExport) -> FormMapping:
    forms = forms_for_export(mapping, name, _names(export))
    if len(forms) == 1:
        return forms[0]
    if not forms:
        raise ConfigError(
            f"no form in the Forms mapping {mapping.source} matches the export {name}",
            hint="add the file name to a form's `files` patterns, or run `cetk migrate forms init` on it",
        )
    raise ConfigError(
        f"the export {name} matches {len(forms)} forms of {mapping.source}: "
        + ", ".join(form.form for form in forms),
        hint="make the forms' `files` patterns pick one form per file",
    )


def _names(export: FormsExport) -> list[str]:
    return [question.name for question in export.questions]


def _collapse_and_split(
    exports: Sequence[tuple[FormsExport, FormMapping]],
    parse_date: Callable[[str], tuple[dt.date | None, str | None]],
    dataset: Dataset,
) -> MappedRows:
    parents: list[pa.Table] = []
    bridges: dict[str, list[pa.Table]] = {}
    issues: dict[int, list[RowIssue]] = {}  # global row -> its issues
    file_of: list[str] = []  # global row -> its file
    number_of: list[int] = []  # global row -> its spreadsheet row
    offset = 0
    for export, form in exports:
        mapped = map_export(export.responses, export.answers, form, dataset, parse_date)
        numbers = export.responses.column("row_number").to_pylist()
        file_of += [export.source] * len(numbers)
        number_of += numbers
        table = mapped.tables[form.table]
        version = export.responses.column("last_modified_time_utc").combine_chunks()
        version = pc.coalesce(version, export.responses.column("completion_time_utc").combine_chunks())
        rows = pa.array(np.arange(offset, offset + table.num_rows, dtype=np.int64))
        parents.append(table.append_column(ROW_COLUMN, rows).append_column(VERSION_COLUMN, version))
        for name, bridge_rows in mapped.bridge_rows.items():
            origin = pc.add(bridge_rows, offset).cast(pa.int64())
            bridges.setdefault(name, []).append(mapped.tables[name].append_column(ROW_COLUMN, origin))
        by_number = {int(number): index for index, number in enumerate(numbers)}
        keys = mapped.keys.to_pylist()
        ignored = {question.text for question in form.questions if question.is_ignored}
        for found in export.problems:  # the reader's row problems: rows in the file, header = 1
            index = by_number.get(found.row)
            if index is not None and found.column not in ignored:  # an ignored answer is never written
                issue = RowIssue(export.source, found.row, keys[index] or "", found.column, found.code,
                                 found.message)  # fmt: skip
                issues.setdefault(offset + index, []).append(issue)
        for problem in mapped.problems:
            file, number = file_of[offset + problem.row], number_of[offset + problem.row]
            issue = RowIssue(file, number, problem.key, problem.column, problem.code, problem.message)
            issues.setdefault(offset + problem.row, []).append(issue)
        offset += table.num_rows
    if not parents:
        return MappedRows((), 0, 0, 0, {}, ())
    parent_name = exports[0][1].table
    model_parent = dataset.table(parent_name)
    key = model_parent.key[0]
    everything = pa.concat_tables(parents)
    survivors = _newest_per_key(everything, key)
    keyless = pc.is_null(everything.column(key)).combine_chunks()
    chosen = everything.take(survivors)
    read = everything.num_rows
    duplicates = read - len(survivors) - int(pc.sum(keyless).as_py() or 0)
    chosen_rows = chosen.column(ROW_COLUMN).to_pylist()
    candidate = chosen.drop_columns([ROW_COLUMN, VERSION_COLUMN])
    keys = candidate.column(model_parent.key[0]).to_pylist()
    # every problem listed, not a report's sample: each one decides a response's fate
    for problem in _errors(
        validate(candidate, model_parent, max_listed=EVERY_PROBLEM, details=False).problems
    ):
        row = chosen_rows[problem.row]
        issues.setdefault(row, []).append(
            _issue(file_of[row], number_of[row], str(keys[problem.row]), problem)
        )
    row_of_key = {key: row for key, row in zip(keys, chosen_rows, strict=True)}
    survivor_rows = pa.array(chosen_rows, pa.int64())
    bridge_tables = {
        name: _from_rows(pa.concat_tables(parts), survivor_rows) for name, parts in bridges.items()
    }
    for name, bridge in bridge_tables.items():
        for problem in _errors(
            validate(bridge, dataset.table(name), max_listed=EVERY_PROBLEM, details=False).problems
        ):
            parent = bridge.column(0)[problem.row].as_py()
            row = row_of_key[parent]
            issues.setdefault(row, []).append(_issue(file_of[row], number_of[row], str(parent), problem))
    for row in pc.indices_nonzero(keyless).to_pylist():
        if row not in issues:  # a response without an ID always carries the reader's problem; be sure
            issues[row] = [
                RowIssue(
                    file_of[row], number_of[row], "", "ID", "forms-missing-response-id", "no response ID"
                )
            ]
    bad = [index for index, row in enumerate(chosen_rows) if row in issues]
    good_mask = np.ones(len(chosen_rows), dtype=bool)
    good_mask[bad] = False
    valid_parent = candidate.filter(pa.array(good_mask))
    valid_keys = valid_parent.column(model_parent.key[0]).combine_chunks().drop_null()
    valid = {parent_name: valid_parent}
    valid.update({name: _kept(table, valid_keys) for name, table in bridge_tables.items()})
    quarantined_rows = set(chosen_rows[index] for index in bad) | set(pc.indices_nonzero(keyless).to_pylist())
    kept_issues = tuple(issue for row in sorted(quarantined_rows) for issue in issues.get(row, []))
    files = tuple(
        ExportRead(export.source, form.form, export.row_count, export.notes) for export, form in exports
    )
    return MappedRows(files, read, duplicates, len(quarantined_rows), valid, kept_issues)


def _newest_per_key(table: pa.Table, key: str) -> pa.Array:
    """Indices of the row kept per key: the newest version, and of equal versions the later file/row."""
    keyed = table.select([key, VERSION_COLUMN, ROW_COLUMN]).filter(pc.is_valid(table.column(key)))
    order = pc.sort_indices(
        keyed, sort_keys=[(key, "ascending"), (VERSION_COLUMN, "ascending"), (ROW_COLUMN, "ascending")],
    )  # fmt: skip
    ordered = keyed.take(order)
    keys = ordered.column(key).combine_chunks()
    if len(keys) == 0:
        return pa.array([], pa.int64())
    last = np.ones(len(keys), dtype=bool)
    last[:-1] = pc.not_equal(keys.slice(0, len(keys) - 1), keys.slice(1)).to_numpy(zero_copy_only=False)
    rows = ordered.column(ROW_COLUMN).combine_chunks().filter(pa.array(last))
    return pa.array(np.sort(rows.to_numpy()))


def _from_rows(table: pa.Table, rows: pa.Array) -> pa.Table:
    """The bridge rows that came from the surviving responses (not their duplicates in other files)."""
    return table.filter(pc.is_in(table.column(ROW_COLUMN), value_set=rows)).drop_columns([ROW_COLUMN])


def _kept(table: pa.Table, keys: pa.Array) -> pa.Table:
    return table.filter(pc.is_in(table.column(0), value_set=keys))


def _errors(problems: Sequence[Problem]) -> list[Problem]:
    return [p for p in problems if p.code not in PROBLEM_TYPES or PROBLEM_TYPES[p.code].severity == "error"]


def _issue(file: str, number: int, key: str, problem: Problem) -> RowIssue:
    return RowIssue(file, number, key, problem.column, problem.code, problem.message)
