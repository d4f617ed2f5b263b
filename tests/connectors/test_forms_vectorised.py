"""The reader's vectorised paths give what the per-cell rules give: trimmed text (str.strip's whitespace),
anonymous respondents (casefolded), one pseudonym per distinct respondent; and the cycle collector is
paused only while a file is read, then left as it was."""

from __future__ import annotations

import datetime as dt
import gc

import pyarrow as pa
import pytest

from connectors.forms_export import ReadOptions, collector_paused, parse_export
from connectors.forms_rows import trimmed_text, trimmed_texts
from connectors.forms_sources import Cell
from connectors.forms_values import pseudonymise

KEY = b"k" * 40  # a fake key, long enough for privacy.require_key


def test_arrow_trims_exactly_the_characters_str_strip_does() -> None:
    cells: list[Cell] = [
        f"{chr(code)}x{chr(code)}" for code in range(0x110000) if not 0xD800 <= code < 0xE000
    ]
    assert trimmed_texts(cells).to_pylist() == [trimmed_text(cell) for cell in cells]


@pytest.mark.parametrize(
    "cells",
    [
        ["  a ", "", " ", None, "\u3000b\u2028", "\x1fc\x85", "d\u00a0e", "\u200bzero-width stays\u200b"],
        [1.0, 2.5, None, 3.0, -0.0, 2.0**60],
        [1, "x ", dt.datetime(2024, 3, 1, 9, 30), True, None, 4.0, " "],
    ],
)
def test_trimmed_texts_equals_trimmed_text_cell_by_cell(cells: list[Cell]) -> None:
    assert trimmed_texts(cells).to_pylist() == [trimmed_text(cell) for cell in cells]


def test_respondents_anonymous_by_casefolded_email_or_by_having_neither() -> None:
    header: list[Cell] = ["ID", "Start time", "Completion time", "Email", "Name", "Q1"]
    when = dt.datetime(2024, 3, 1, 9, 30)
    people: list[tuple[Cell, Cell]] = [
        ("anonymous", "x"), ("ANONYMOUſ", None), (" Anonymous ", None), (None, None), ("", ""),
        ("a@force.uk", None), ("A@Force.uk ", "Ann"), (None, "Ann"), ("anonymous1", None),
    ]  # fmt: skip
    rows = [header] + [[n, when, when, email, name, "yes"] for n, (email, name) in enumerate(people, 1)]
    text = "\n".join(",".join("" if cell is None else str(cell) for cell in row) for row in rows)
    export = parse_export(text.encode(), "export.csv", ReadOptions(pseudonym_key=KEY, locale="en-GB"))
    assert export.responses.column("is_anonymous").to_pylist() == [
        True, True, True, True, True, False, False, False, False,
    ]  # fmt: skip
    emails = export.responses.column("respondent_email_key").to_pylist()
    assert emails[5] == emails[6] == pseudonymise("a@force.uk", KEY, "forms-respondent-email")
    assert emails[:5] == [None] * 5 and emails[7] is None
    assert emails[8] == pseudonymise("anonymous1", KEY, "forms-respondent-email")
    names = export.responses.column("respondent_name_key").to_pylist()
    assert names[6] == names[7] == pseudonymise("Ann", KEY, "forms-respondent-name") and names[0] is None


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_while_reading_and_left_as_it_was(enabled: bool) -> None:
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        with pytest.raises(RuntimeError), collector_paused():
            assert not gc.isenabled()
            raise RuntimeError("a read that fails")
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


def test_a_read_leaves_the_collector_on() -> None:
    text = "ID,Start time,Completion time,Email,Name,Q1\n1,3/1/24 9:30,3/1/24 9:31,anonymous,,yes\n"
    assert gc.isenabled()
    export = parse_export(text.encode(), "export.csv", ReadOptions(locale="en-US"))
    assert export.row_count == 1 and gc.isenabled()
    assert isinstance(export.responses, pa.Table)
