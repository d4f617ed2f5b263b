"""The two Arrow tables of a Forms export, built batch by batch from numbered rows, with row problems.

`responses` holds the metadata block (times in UTC, respondents as keyed-HMAC pseudonyms or null);
`answers` one text (or checkbox list) column per question, row for row with `responses`. The
`responses` columns are built by connectors/forms_responses.py; this module builds `answers` and both tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa
import pyarrow.compute as pc

from connectors import forms_problems as codes
from connectors.forms_guard import InputLimits, refuse
from connectors.forms_layout import Layout, Question, read_layout
from connectors.forms_problems import RowProblem
from connectors.forms_responses import RESPONSE_SCHEMA, TIME_FIELDS, ResponseColumns
from connectors.forms_rows import (
    OPTIONS_TYPE,
    Batch,
    empty_as_null,
    iter_batches,
    split_options,
    text_array,
)
from connectors.forms_sources import Cell
from connectors.forms_values import (
    LOCALES,
    Locale,
)
from errors import SourceFormatError

FileFormat = Literal["xlsx", "csv"]
__all__ = [
    "RESPONSE_SCHEMA",
    "TIME_FIELDS",
    "FileFormat",
    "FormsExport",
    "ReadOptions",
    "TableBuilder",
]


@dataclass(frozen=True)
class ReadOptions:
    locale: Locale | None = "en-GB"  # how d/m/y text reads; None: only unambiguous dates (R17)
    pseudonym_key: bytes | None = field(default=None, repr=False)  # HMAC key for Email and Name
    limits: InputLimits = InputLimits()
    detect_multi_select: bool = True
    batch_cells: int = 200_000  # cells held as Python objects at once: 8,000 rows of 25, 1,000 of 200
    # python-calamine holds a whole sheet (~100 bytes a cell); past this many cells, stream instead (R19)
    calamine_max_cells: int = 3_000_000
    # Only these questions' answers are kept (by column name); None keeps all. `questions` still lists
    # every question. A migration reads only what its mapping uses: R19 memory on wide exports.
    keep_questions: frozenset[str] | None = None


@dataclass(frozen=True)
class FormsExport:
    """One export: `responses` (RESPONSE_SCHEMA) and `answers` (a column per question), row for row."""

    source: str
    file_format: FileFormat
    responses: pa.Table
    answers: pa.Table
    questions: tuple[Question, ...]
    ignored_columns: tuple[str, ...]
    problems: tuple[RowProblem, ...]
    notes: tuple[str, ...]

    @property
    def row_count(self) -> int:
        return int(self.responses.num_rows)


class TableBuilder:
    """Turns numbered rows into the two tables, batch by batch, collecting row problems."""

    def __init__(self, source: str, file_format: FileFormat, options: ReadOptions, date1904: bool) -> None:
        self.source, self.file_format, self.options, self.date1904 = source, file_format, options, date1904
        self.problems: list[RowProblem] = []
        self.responses = ResponseColumns(options.locale, options.pseudonym_key, date1904, self.problem)
        self.width = 0

    def build(self, rows: Iterator[tuple[int, list[Cell]]], notes: list[str]) -> FormsExport:
        first = next(rows, None)
        if first is None:
            raise SourceFormatError(f"Forms export {self.source} is empty", hint="export the responses again")
        layout = read_layout(first[1], self.source, self.options.limits)
        self.width = layout.width
        batches = iter_batches(
            rows,
            layout.width,
            max(1, self.options.batch_cells // max(layout.width, 1)),
            self.ragged,
            strict_width=self.file_format == "csv",
        )
        return self.assemble(layout, batches, notes)

    def kept_questions(self, layout: Layout) -> list[Question]:
        wanted = self.options.keep_questions
        return [q for q in layout.questions if wanted is None or q.name in wanted]

    def assemble(self, layout: Layout, batches: Iterable[Batch], notes: list[str]) -> FormsExport:
        """The two tables from column batches under `layout` (self.width set to its width)."""
        response_batches: list[pa.RecordBatch] = []
        # one RecordBatch a batch, not an Array per question: long-lived Python wrappers made inside
        # the loop pin the allocator's arenas between the batch's short-lived cells (R19 memory)
        kept = self.kept_questions(layout)
        answer_schema = pa.schema([(question.name, pa.string()) for question in kept])
        answer_batches: list[pa.RecordBatch] = []
        count = 0
        for batch in batches:
            count += len(batch.numbers)
            if count > self.options.limits.max_rows:
                raise refuse(self.source, f"it has more than {self.options.limits.max_rows:,} responses")
            response_batches.append(self.responses.batch(batch, layout))
            answer_batches.append(
                pa.RecordBatch.from_arrays(
                    [self._answers(batch, question) for question in kept], schema=answer_schema
                )
            )
        if self.responses.locale_mismatch:
            column, row = self.responses.locale_mismatch
            other = [locale for locale in LOCALES if locale != self.options.locale][0]
            raise SourceFormatError(
                f"Forms export {self.source}: {column!r} in row {row} is not an {self.options.locale} date-time "
                f"but reads as {other}",
                hint=f"read the export with locale {other} (its dates are "
                f"{'month' if other == 'en-US' else 'day'}-first)",
            )
        responses = pa.Table.from_batches(response_batches, schema=RESPONSE_SCHEMA)
        text_columns = pa.Table.from_batches(answer_batches, schema=answer_schema).columns
        del answer_batches  # from here each text column is held once, and freed as it is replaced
        finished, columns = self._finish_answers(kept, text_columns)
        by_name = {question.name: question for question in finished}
        questions = tuple(by_name.get(question.name, question) for question in layout.questions)
        if columns:
            answers = pa.Table.from_arrays(columns, names=[question.name for question in finished])
        else:  # a form without questions still has its rows
            answers = pa.table({"_": pa.nulls(responses.num_rows)}).drop_columns(["_"])
        self.problems.sort(key=lambda problem: (problem.row, problem.column))
        return FormsExport(
            source=self.source,
            file_format=self.file_format,
            responses=responses,
            answers=answers,
            questions=questions,
            ignored_columns=layout.ignored_columns,
            problems=tuple(self.problems),
            notes=tuple(notes) + layout.notes,
        )

    def problem(self, row: int, column: str, code: str, message: str) -> None:
        self.problems.append(RowProblem(row, column, code, message))

    def ragged(self, row: int, field_count: int) -> None:
        self.problem(
            row, "", codes.RAGGED_ROW, f"the row has {field_count} fields, the header has {self.width}"
        )

    def _answers(self, batch: Batch, question: Question) -> pa.Array:
        array = empty_as_null(text_array(batch.columns[question.position - 1]))
        limit = self.options.limits.max_text_chars
        too_long = pc.greater(pc.utf8_length(array), limit)
        for position in pc.indices_nonzero(pc.fill_null(too_long, False)).to_pylist():
            self.problem(
                batch.numbers[position],
                question.name,
                codes.TEXT_TOO_LONG,
                f"the answer is {len(array[position].as_py()):,} characters, over the {limit:,} limit; kept whole",
            )
        return array

    def _finish_answers(
        self, questions: Sequence[Question], columns: list[pa.ChunkedArray]
    ) -> tuple[tuple[Question, ...], list[pa.ChunkedArray]]:
        """Checkbox questions become list columns, one at a time, in place in `columns`."""
        finished: list[Question] = []
        for index, question in enumerate(questions):
            if self.options.detect_multi_select and _is_multi_select(columns[index]):
                text = columns[index]
                columns[index] = pa.chunked_array(
                    [split_options(chunk) for chunk in text.chunks], OPTIONS_TYPE
                )
                del text
                question = Question(question.position, question.text, question.name, multi_select=True)
            finished.append(question)
        return tuple(finished), columns


def _is_multi_select(column: pa.ChunkedArray) -> bool:
    present = column.drop_null()
    if len(present) == 0:
        return False
    return bool(pc.all(pc.ends_with(pc.utf8_rtrim_whitespace(present), ";")).as_py())
