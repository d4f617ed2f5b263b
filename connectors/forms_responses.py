"""The `responses` table of a Forms export: its metadata block, batch by batch, with row problems.

Response IDs, the three times converted from London time to UTC (Excel serials, calamine's date-times or
text in the configured locale), and respondents as keyed-HMAC pseudonyms (one HMAC per distinct value)
or null when anonymous. The `answers` table and the assembly of both: connectors/forms_tables.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import pyarrow as pa
import pyarrow.compute as pc

from connectors import forms_problems as codes
from connectors.forms_layout import Layout
from connectors.forms_rows import Batch, trimmed_texts
from connectors.forms_sources import Cell
from connectors.forms_values import (
    LOCALES,
    Locale,
    excel_serial_to_local,
    london_to_utc,
    parse_time_text,
    pseudonymise,
)

ANONYMOUS = "anonymous"  # Forms' Email value when names are not recorded (microsoft-apis.md §4.1)
TIME_FIELDS = ("start_time", "completion_time", "last_modified_time")
RESPONSE_SCHEMA = pa.schema(
    [
        pa.field("row_number", pa.int64(), nullable=False),
        pa.field("response_id", pa.string()),
        pa.field("start_time_utc", pa.timestamp("us", tz="UTC")),
        pa.field("completion_time_utc", pa.timestamp("us", tz="UTC")),
        pa.field("last_modified_time_utc", pa.timestamp("us", tz="UTC")),
        pa.field("is_anonymous", pa.bool_(), nullable=False),
        pa.field("respondent_email_key", pa.string()),
        pa.field("respondent_name_key", pa.string()),
    ]
)

ProblemSink = Callable[[int, str, str, str], None]  # (row, column, code, message)


class ResponseColumns:
    """Builds the `responses` rows of each batch, reporting each row problem through `problem`."""

    def __init__(
        self, locale: Locale | None, pseudonym_key: bytes | None, date1904: bool, problem: ProblemSink
    ) -> None:
        self.locale, self.pseudonym_key, self.date1904 = locale, pseudonym_key, date1904
        self.problem = problem
        self.key_cache: dict[tuple[str, str], str] = {}
        # the first date-time that fails in the locale but reads in the other: (column, row)
        self.locale_mismatch: tuple[str, int] | None = None

    def batch(self, batch: Batch, layout: Layout) -> pa.RecordBatch:
        """The batch's rows of the `responses` table (RESPONSE_SCHEMA)."""
        numbers = batch.numbers
        columns: dict[str, pa.Array] = {"row_number": pa.array(numbers, pa.int64())}
        id_index = layout.metadata["response_id"]
        ids = trimmed_texts(batch.columns[id_index])
        for position in pc.indices_nonzero(pc.is_null(ids)).to_pylist():
            self.problem(
                numbers[position],
                layout.headers[id_index],
                codes.MISSING_RESPONSE_ID,
                "the response has no ID",
            )
        columns["response_id"] = ids
        for time_field in TIME_FIELDS:
            index = layout.metadata.get(time_field)
            if index is None:
                columns[f"{time_field}_utc"] = pa.nulls(
                    len(numbers), RESPONSE_SCHEMA.field(f"{time_field}_utc").type
                )
            else:
                columns[f"{time_field}_utc"] = self._times(
                    numbers, batch.columns[index], layout.headers[index]
                )
        emails, names = (
            trimmed_texts(batch.columns[layout.metadata[part]])
            if part in layout.metadata
            else pa.nulls(len(numbers), pa.string())
            for part in ("email", "name")
        )
        anonymous = _anonymous(emails, names)
        columns["is_anonymous"] = anonymous
        columns["respondent_email_key"] = self._keys(emails, anonymous, "forms-respondent-email")
        columns["respondent_name_key"] = self._keys(names, anonymous, "forms-respondent-name")
        return pa.RecordBatch.from_pydict(columns, schema=RESPONSE_SCHEMA)

    def _times(self, numbers: Sequence[int], cells: Sequence[Cell] | pa.Array, header: str) -> pa.Array:
        if isinstance(cells, pa.Array):  # naive date-times from forms_arrow, every one a real date
            return self._utc(numbers, cells, header)
        if all(type(cell) is dt.datetime and cell.tzinfo is None for cell in cells):  # calamine's cells
            return self._utc(numbers, cells, header)  # all naive datetimes, just checked
        local: list[dt.datetime | None] = []
        for number, cell in zip(numbers, cells, strict=True):
            if type(cell) is dt.datetime and cell.tzinfo is None:  # calamine's date-time cells: most of them
                local.append(cell)
                continue
            value, problem = self._local_time(cell, header, number)
            local.append(value)
            if problem:
                self.problem(number, header, problem, _TIME_MESSAGES[problem])
        return self._utc(numbers, local, header)

    def _utc(
        self, numbers: Sequence[int], local: Sequence[dt.datetime | None] | pa.Array, header: str
    ) -> pa.Array:
        """London local times (naive) to UTC, reporting the times the clocks skipped or repeated."""
        utc, flagged = london_to_utc(local)
        for index, code in flagged.items():
            self.problem(numbers[index], header, code, _TIME_MESSAGES[code])
        return utc

    def _local_time(self, cell: Cell, header: str, number: int) -> tuple[dt.datetime | None, str | None]:
        if cell is None or cell == "":
            return None, None
        if isinstance(cell, dt.datetime):
            return cell.replace(tzinfo=None), None
        if isinstance(cell, dt.date):
            return dt.datetime(cell.year, cell.month, cell.day), None
        if isinstance(cell, bool):
            return None, codes.BAD_DATETIME
        if isinstance(cell, int | float):
            serial = excel_serial_to_local(float(cell), date1904=self.date1904)
            return serial, None if serial else codes.BAD_DATETIME
        if isinstance(cell, str):
            parsed = parse_time_text(cell, self.locale, date1904=self.date1904)
            if parsed.problem == codes.BAD_DATETIME and self.locale and self.locale_mismatch is None:
                other = [locale for locale in LOCALES if locale != self.locale][0]
                if parse_time_text(cell, other).local is not None:
                    self.locale_mismatch = (header, number)
            return parsed.local, parsed.problem
        return None, codes.BAD_DATETIME

    def _keys(self, values: pa.StringArray, anonymous: pa.BooleanArray, purpose: str) -> pa.Array:
        """Each named respondent's pseudonym: one HMAC per distinct value (dictionary-encoded), not per row."""
        key = self.pseudonym_key
        if key is None:
            return pa.nulls(len(values), pa.string())
        named = pc.dictionary_encode(pc.if_else(anonymous, pa.scalar(None, pa.string()), values))
        pseudonyms = []
        for value in named.dictionary.to_pylist():
            cached = self.key_cache.get((purpose, value))
            if cached is None:
                cached = self.key_cache[(purpose, value)] = pseudonymise(value, key, purpose)
            pseudonyms.append(cached)
        return pc.take(pa.array(pseudonyms, pa.string()), named.indices)


def _anonymous(emails: pa.StringArray, names: pa.StringArray) -> pa.BooleanArray:
    """Email `anonymous` (any case: casefolded, per distinct value), or neither an email nor a name."""
    said = [value for value in pc.unique(emails.drop_null()).to_pylist() if value.casefold() == ANONYMOUS]
    by_email = pc.is_in(emails, value_set=pa.array(said, pa.string()))  # a null email is not in it
    return pc.or_(by_email, pc.and_(pc.is_null(emails), pc.is_null(names)))


_TIME_MESSAGES = {
    codes.BAD_DATETIME: "not a date-time in the configured locale, nor an Excel date",
    codes.AMBIGUOUS_DATE: "the date reads as day-first and month-first; set the locale to read it",
    codes.NONEXISTENT_LOCAL_TIME: "the clocks skipped this time (BST started); which instant was meant is unknown",
    codes.AMBIGUOUS_LOCAL_TIME: "this time happened twice (BST ended); which instant was meant is unknown",
}
