"""Legacy Microsoft Forms exports of community contact records, as three LPTs' forms really differ.

The questions and their answers are the demo's Forms mapping (emulator/demo/forms_mapping.py, the
product's format). Layout per microsoft-apis.md §4.1: `ID`/`Id`, `Start time`, `Completion time`, `Email`, `Name`
(`Last modified time` in the newer export), then one column per question, headed by its wording.
Anonymous responses have Email `anonymous` and no Name; multi-select answers are `;`-joined with a
trailing `;`. Each form is exported twice with overlapping responses, as .xlsx (real Excel date-times,
formula-looking answers stored as text) and as .csv (`m/d/yy H:MM:SS`). File names are generated.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl

from emulator.demo.force import Force, records
from emulator.demo.forms_mapping import DEMO_FORMS_MAPPING, LEGACY_16_PLUS_1
from emulator.demo.text import CONCERNS, PiiPlanter
from powerbi_dataset.model import DEMOGRAPHIC_COLUMNS
from transforms.forms_mapping import FormMapping, QuestionMapping

LONDON = ZoneInfo("Europe/London")
LEGACY_YEARS_BACK = 2  # the Forms era ended when the PowerApp arrived
EXCEL_DATETIME_FORMAT = "m/d/yy h:mm:ss"
FORMULA_LOOKING = ("=1+1", "+SUM(A1)", "-2+3", "@x", '=HYPERLINK("http://example.com")')
ANONYMOUS_FRACTION = 0.4


@dataclass(frozen=True)
class FormVariant:
    """One legacy form: its questions (the mapping's form) and how its exports are laid out."""

    form: FormMapping
    id_header: str  # "ID", or "Id" in older exports
    has_last_modified: bool
    legacy_ethnicity: bool = False  # respondents chose 16+1 answers (LEGACY_16_PLUS_1)

    @property
    def lpt_code(self) -> str:
        return str(dict(self.form.constants)["lpt_code"])

    def question_to(self, column: str) -> str:
        """The wording of the question that feeds a canonical column."""
        return next(question.text for question in self.form.questions if question.to == column)

    @property
    def free_text_question(self) -> str:
        return next(question.text for question in self.form.questions if question.is_ignored)


_STOKE_NORTH, _NEWCASTLE, _MOORLANDS = DEMO_FORMS_MAPPING.forms
VARIANTS = (
    FormVariant(_STOKE_NORTH, "ID", True),
    FormVariant(_NEWCASTLE, "ID", False),
    FormVariant(_MOORLANDS, "Id", False, legacy_ethnicity=True),
)


def write_forms_exports(force: Force, directory: Path, *, responses_per_form: int = 120) -> list[Path]:
    """Write two overlapping exports per legacy form, each as .xlsx and .csv; returns the paths."""
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(f"cetk-demo:{force.seed}:forms")
    pii = PiiPlanter(force.people)
    written: list[Path] = []
    for index, variant in enumerate(VARIANTS, start=1):
        header, rows = _responses(force, variant, rng, pii, responses_per_form)
        cut_first, cut_second = int(len(rows) * 0.6), int(len(rows) * 0.45)
        for part, chunk in ((1, rows[:cut_first]), (2, rows[cut_second:])):
            stem = f"forms_export_{index:02d}_part{part}"
            written.append(_write_xlsx(directory / f"{stem}.xlsx", header, chunk))
            written.append(_write_csv(directory / f"{stem}.csv", header, chunk))
    return written


def _responses(
    force: Force, variant: FormVariant, rng: random.Random, pii: PiiPlanter, limit: int
) -> tuple[list[str], list[list[object]]]:
    ccr = force.tables["ccr"]
    chosen = ccr[(ccr["lpt_code"] == variant.lpt_code) & ccr["contact_setting"].ne("EVENT")].head(limit)
    issues = force.tables["ccr_issues"].groupby("ccr_id")["theme_code"].agg(list).to_dict()
    officers = force.officer_details
    header = [variant.id_header, "Start time", "Completion time", "Email", "Name"]
    header += ["Last modified time"] if variant.has_last_modified else []
    header += [question.text for question in variant.form.questions]
    rows: list[list[object]] = []
    for number, record in enumerate(records(chosen), start=1):
        assert isinstance(record["recorded_utc"], datetime)
        recorded = record["recorded_utc"] - timedelta(days=365 * LEGACY_YEARS_BACK)
        completed = recorded.astimezone(LONDON).replace(tzinfo=None, microsecond=0)
        started = completed - timedelta(minutes=rng.randint(2, 9), seconds=rng.randint(0, 59))
        if rng.random() < ANONYMOUS_FRACTION:
            email, name = "anonymous", ""
        else:
            officer = rng.choice(officers)
            email, name = officer.email, officer.display_name
        row: list[object] = [number, started, completed, email, name]
        if variant.has_last_modified:
            row.append(completed + timedelta(days=rng.randint(0, 3)) if rng.random() < 0.2 else completed)
        themes = issues.get(record["ccr_id"], [])
        for question in variant.form.questions:
            if question.is_ignored:  # the demo forms' only source-only question is the free-text comment
                row.append(_comment(rng, pii, themes))
            else:
                row.append(_answer(variant, question, record, completed, themes))
        rows.append(row)
    return header, rows


def _answer(
    variant: FormVariant,
    question: QuestionMapping,
    record: dict[str, object],
    completed: datetime,
    themes: list[str],
) -> str:
    """What the respondent chose, in the words the form offered for it."""
    words = {value: text for text, value in question.choices}
    column = str(question.to)
    consent = bool(record["diversity_consent"])
    if column == "recorded_local_date":
        return f"{completed.day:02d}/{completed.month:02d}/{completed.year}"
    if question.multi:  # the demo forms' only multi-select question: the issues raised
        return "".join(f"{words.get(code, code)};" for code in themes)
    if column == "diversity_consent":
        return str(words[consent])
    code = record[column]
    if code is None or (column in DEMOGRAPHIC_COLUMNS and not consent):
        return ""
    if column == "ethnicity_2021" and variant.legacy_ethnicity:
        return LEGACY_16_PLUS_1[str(code)]
    return str(words.get(str(code), str(code)))


def _comment(rng: random.Random, pii: PiiPlanter, themes: list[str]) -> str:
    roll = rng.random()
    if roll < 0.06:
        return rng.choice(FORMULA_LOOKING)
    if roll < 0.12:
        return f"Spoke to resident, {pii.phrase()}."
    if roll < 0.5 and themes and themes[0] in CONCERNS:
        return f"Concerned about {CONCERNS[themes[0]]}."
    return ""


def _write_xlsx(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Sheet1"
    sheet.append(header)
    for row_number, row in enumerate(rows, start=2):
        for column_number, value in enumerate(row, start=1):
            cell = sheet.cell(row_number, column_number)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, even for "=1+1" (S4)
            elif isinstance(value, datetime):
                cell.number_format = EXCEL_DATETIME_FORMAT
    workbook.save(path)
    return path


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows([[_csv_cell(value) for value in row] for row in rows])
    return path


def _csv_cell(value: object) -> str:
    if isinstance(value, datetime):
        return f"{value.month}/{value.day}/{value.year % 100:02d} {value.hour}:{value.minute:02d}:{value.second:02d}"
    return str(value)
