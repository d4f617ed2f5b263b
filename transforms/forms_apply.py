"""Apply a Forms mapping to one export's answers: candidate canonical rows, bridge rows and row problems.

Pure and vectorised with pyarrow: the export's tables (the reader's `responses` and `answers`) in, the
form's table and its bridges out, every model column present (validation says what is missing). An answer
the mapping has no code for is an `unknown-label` problem and its cell stays empty, never guessed. Dates
in answers are read by the `parse_date` the caller passes in (the reader's locale rules), so this module
stays free of I/O and of the connectors.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from powerbi_dataset.derive import arrow_field
from powerbi_dataset.schema import Column, Dataset, Table
from transforms.forms_mapping import RESPONSE_KEY_TEMPLATE, FormMapping, QuestionMapping
from transforms.local_time import local_dates
from transforms.masking import MASK
from transforms.problems import UNKNOWN_LABEL, WRONG_TYPE
from transforms.report import Problem

SOURCE_SYSTEM = "forms_legacy"  # codes.SOURCE_SYSTEMS: where a migrated row came from
KEY_HEX_CHARACTERS = 16  # model.KEY_16_HEX
UTC_MICROS = pa.timestamp("us", tz="UTC")
NUMBER_PATTERN = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d{1,3})?$"  # finite decimal numbers only
LONDON = "Europe/London"  # Forms wrote the owner's wall-clock time, taken as London (docs/forms.md)
# A date answer's text -> (the date, or None and the reader's problem code saying why).
ParseDate = Callable[[str], tuple[dt.date | None, str | None]]


@dataclass(frozen=True)
class MappedExport:
    """One export's rows in the canonical model: `tables` by name (the form's table first), and problems.

    `rows` are 0-based rows of the export's tables; problems name them with `Problem.row` the same way.
    """

    tables: dict[str, pa.Table]
    problems: tuple[Problem, ...]
    keys: pa.Array  # each response's migration key, row for row (null where the response ID is missing)
    bridge_rows: dict[str, pa.Array]  # per bridge table: the export row each bridge row came from


def unmapped_questions(form: FormMapping, questions: Sequence[str]) -> list[str]:
    """Questions of the export that the form's mapping neither maps nor ignores, in column order."""
    known = {question.text for question in form.questions}
    return [text for text in questions if text not in known]


def migration_keys(form: str, response_ids: pa.Array) -> pa.Array:
    """`forms:{form}:{response ID}` for each response (null stays null): RESPONSE_KEY_TEMPLATE, vectorised."""
    prefix, _, suffix = RESPONSE_KEY_TEMPLATE.format(form=form, response_id="\x00").partition("\x00")
    return pc.binary_join_element_wise(prefix, response_ids.cast(pa.string()), suffix, "")


def map_export(
    responses: pa.Table,
    answers: pa.Table,
    form: FormMapping,
    dataset: Dataset,
    parse_date: ParseDate,
) -> MappedExport:
    """The export's responses as rows of the form's table (and its bridges), with each row's problems."""
    table = dataset.table(form.table)
    rows = responses.num_rows
    keys = migration_keys(form.form, _array(responses.column("response_id")))
    run = _Run(table, keys, parse_date)
    columns: dict[str, pa.Array] = {table.key[0]: keys}
    for name, value in form.constants:
        columns[name] = pa.array([value] * rows, _storage(table.column(name)))
    if form.completion_time is not None:
        columns[form.completion_time] = _array(responses.column("completion_time_utc"))
        local = form.completion_time.removesuffix("_utc") + "_local_date"
        fed = {question.to for question in form.questions if not question.is_ignored}
        if local != form.completion_time and local in table.column_names and local not in fed:
            # as the list mapping does: a time feeding x_utc also feeds x_local_date when nothing else does
            columns[local] = local_dates(columns[form.completion_time], LONDON)
    if form.respondent is not None:
        email_keys = _array(responses.column("respondent_email_key"))
        columns[form.respondent] = pc.utf8_slice_codeunits(email_keys, 0, KEY_HEX_CHARACTERS)
    bridges: dict[str, list[tuple[pa.Table, pa.Array]]] = {}
    for question in form.questions:
        if question.is_ignored or question.text not in answers.column_names:
            continue
        raw = _array(answers.column(question.text))
        if question.multi and question.bridge is not None:
            home = dataset.table(question.bridge)
            bridges.setdefault(home.name, []).append(run.bridge(home, question, raw, table.key[0]))
        else:
            target = table.column(str(question.to))
            columns[target.name] = run.single(target, question, raw)
    lineage = {
        "source_system": pa.array([SOURCE_SYSTEM] * rows, pa.string()),
        "source_item_id": _array(responses.column("response_id")).cast(pa.string()),
        "source_version": _versions(responses),
    }
    columns.update({name: value for name, value in lineage.items() if name in table.column_names})
    tables = {table.name: assemble(table, columns, rows)}
    bridge_rows: dict[str, pa.Array] = {}
    for name, parts in bridges.items():
        tables[name] = pa.concat_tables([part for part, _rows in parts])
        bridge_rows[name] = pa.concat_arrays([rows_ for _part, rows_ in parts])
    return MappedExport(tables, tuple(run.problems), keys, bridge_rows)


def assemble(table: Table, columns: Mapping[str, pa.Array], rows: int) -> pa.Table:
    """Every model column in model order, storage types, nullable (validation reports what is missing)."""
    fields = [arrow_field(column).with_nullable(True) for column in table.columns]
    arrays = [
        columns[column.name].cast(field_.type) if column.name in columns else pa.nulls(rows, field_.type)
        for column, field_ in zip(table.columns, fields, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata={"table": table.name}))


class _Run:
    """The problems found while mapping one export, named by row and migration key."""

    def __init__(self, table: Table, keys: pa.Array, parse_date: ParseDate) -> None:
        self.table, self.keys, self.parse_date = table, keys, parse_date
        self.problems: list[Problem] = []

    def report(self, table: str, rows: Sequence[int], column: str, code: str, message: str) -> None:
        keys = self.keys.take(pa.array(rows, pa.int64())).to_pylist() if rows else []
        self.problems.extend(
            Problem(table, row, key or "", column, code, message, MASK)
            for row, key in zip(rows, keys, strict=True)
        )

    def single(self, target: Column, question: QuestionMapping, raw: pa.Array) -> pa.Array:
        text = _texts(raw)
        if question.choices:
            return self._coded(target, question, text)
        if target.kind == "DateTime":
            return self._dated(target, text)
        if target.kind in ("Int64", "Double"):
            return self._numbers(target, text)
        return text

    def bridge(
        self, home: Table, question: QuestionMapping, raw: pa.Array, parent_key: str
    ) -> tuple[pa.Table, pa.Array]:
        lists = raw if pa.types.is_list(raw.type) else pc.split_pattern(_texts(raw), ";")
        flat = pc.utf8_trim_whitespace(pc.list_flatten(lists))
        parents = pc.list_parent_indices(lists)
        present = pc.and_(pc.is_valid(flat), pc.not_equal(flat, ""))
        flat, parents = flat.filter(present), parents.filter(present)
        target = home.column(str(question.to))
        labels = [label for label, _code in question.choices]
        position = pc.index_in(flat, value_set=pa.array(labels, pa.string()))
        unknown = pc.is_null(position)
        bad_rows = sorted(set(parents.filter(unknown).to_pylist()))
        self.report(self.table.name, bad_rows, target.name, UNKNOWN_LABEL.code, _unknown_message(question))
        codes = pa.array([code for _label, code in question.choices], _storage(target)).take(position)
        known = pc.invert(unknown)
        sources = parents.filter(known).cast(pa.int64())
        columns = {parent_key: self.keys.take(sources), target.name: codes.filter(known)}
        candidate = assemble(home, columns, len(sources))
        firsts = _first_of_each(sources, position.filter(known))
        return candidate.take(firsts), sources.take(firsts)

    def _coded(self, target: Column, question: QuestionMapping, text: pa.Array) -> pa.Array:
        labels = pa.array([label for label, _code in question.choices], pa.string())
        position = pc.index_in(text, value_set=labels)
        unknown = pc.and_(pc.is_valid(text), pc.is_null(position))
        rows = pc.indices_nonzero(unknown).to_pylist()
        self.report(self.table.name, rows, target.name, UNKNOWN_LABEL.code, _unknown_message(question))
        values = pa.array([code for _label, code in question.choices], _storage(target))
        return values.take(position)

    def _dated(self, target: Column, text: pa.Array) -> pa.Array:
        parsed: dict[str, tuple[dt.date | None, str | None]] = {}
        values: list[dt.datetime | None] = []
        bad: dict[str, list[int]] = {}
        for row, value in enumerate(text.to_pylist()):
            if value is None:
                values.append(None)
                continue
            if value not in parsed:
                parsed[value] = self.parse_date(value)
            day, code = parsed[value]
            values.append(dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC) if day else None)
            if day is None:
                bad.setdefault(code or WRONG_TYPE.code, []).append(row)
        for code, rows in bad.items():
            self.report(self.table.name, rows, target.name, code, f"{target.name}: the answer is not a date")
        return pa.array(values, UTC_MICROS)

    def _numbers(self, target: Column, text: pa.Array) -> pa.Array:
        """Numbers as text (Forms' ratings), vectorised; anything else is `wrong-type` and empty."""
        storage = _storage(target)
        numeric = pc.fill_null(pc.match_substring_regex(text, NUMBER_PATTERN), False)
        values = pc.cast(pc.if_else(numeric, text, pa.scalar(None, pa.string())), pa.float64())
        if pa.types.is_integer(storage):
            whole = pc.fill_null(pc.equal(pc.floor(values), values), False)
            values = pc.if_else(whole, values, pa.scalar(None, pa.float64()))
        wrong = pc.and_(pc.is_valid(text), pc.is_null(values))
        rows = pc.indices_nonzero(wrong).to_pylist()
        self.report(self.table.name, rows, target.name, WRONG_TYPE.code, f"{target.name}: not a number")
        return pc.cast(values, storage)


def _unknown_message(question: QuestionMapping) -> str:
    return f"an answer to '{question.text}' has no code in the mapping: add it to the question's choices"


def _array(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _texts(raw: pa.Array) -> pa.Array:
    """Answers as trimmed text; an empty answer is null."""
    if pa.types.is_list(raw.type):
        raw = pc.binary_join(raw, ";")
    text = pc.utf8_trim_whitespace(raw.cast(pa.string()))
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def _storage(column: Column) -> pa.DataType:
    return arrow_field(column).type


def _versions(responses: pa.Table) -> pa.Array:
    """The response's version: its Last modified time when the export has one, else its Completion time."""
    modified = _array(responses.column("last_modified_time_utc"))
    completed = _array(responses.column("completion_time_utc"))
    chosen = pc.cast(pc.coalesce(modified, completed), pa.timestamp("s"), safe=False)  # UTC, naive
    # Arrow writes a whole-second timestamp as "YYYY-MM-DD HH:MM:SS": strftime's text, at a third of its
    # cost with a time zone (tests/transforms/test_forms_apply.py compares the two)
    iso = pc.replace_substring(pc.cast(chosen, pa.string()), " ", "T", max_replacements=1)
    return pc.binary_join_element_wise(iso, "Z", "")


def _first_of_each(rows: pa.Array, choices: pa.Array) -> pa.Array:
    """Bridge rows to keep: the first of each (response row, chosen option), so a checkbox answer naming one
    option twice still gives one bridge row. By row, not by migration key: a response ID given twice in
    one export is two versions, and dedupe keeps the newest one's options whole. In numpy, not a group-by."""
    if len(rows) == 0:
        return pa.array([], pa.int64())
    width = int(pc.max(choices).as_py()) + 1
    pairs = rows.to_numpy().astype(np.int64) * width + choices.to_numpy().astype(np.int64)
    _, firsts = np.unique(pairs, return_index=True)
    return pa.array(np.sort(firsts))
