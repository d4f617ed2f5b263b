"""Legacy Microsoft Forms exports of community contact records, as three LPTs' forms really differ.

Layout per microsoft-apis.md §4.1: `ID`/`Id`, `Start time`, `Completion time`, `Email`, `Name`
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
from emulator.demo.text import CONCERNS, PiiPlanter
from powerbi_dataset import codes as c

LONDON = ZoneInfo("Europe/London")
LEGACY_YEARS_BACK = 2  # the Forms era ended when the PowerApp arrived
EXCEL_DATETIME_FORMAT = "m/d/yy h:mm:ss"
FORMULA_LOOKING = ("=1+1", "+SUM(A1)", "-2+3", "@x", '=HYPERLINK("http://example.com")')
ANONYMOUS_FRACTION = 0.4
# Census 2021 code -> the older 16+1 answer a legacy form offered (O1 Chinese became A4 in 18+1).
LEGACY_16_PLUS_1 = {
    "W_BRITISH": "White - British (W1)", "W_IRISH": "White - Irish (W2)", "W_GYPSY_TRAVELLER": "Any other White background (W9)",
    "W_ROMA": "Any other White background (W9)", "W_OTHER": "Any other White background (W9)",
    "M_WHITE_BLACK_CARIBBEAN": "White and Black Caribbean (M1)", "M_WHITE_BLACK_AFRICAN": "White and Black African (M2)",
    "M_WHITE_ASIAN": "White and Asian (M3)", "M_OTHER": "Any other mixed background (M9)",
    "A_INDIAN": "Indian (A1)", "A_PAKISTANI": "Pakistani (A2)", "A_BANGLADESHI": "Bangladeshi (A3)",
    "A_CHINESE": "Chinese (O1)", "A_OTHER": "Any other Asian background (A9)", "B_CARIBBEAN": "Caribbean (B1)",
    "B_AFRICAN": "African (B2)", "B_OTHER": "Any other Black background (B9)", "O_ARAB": "Any other ethnic group (O9)",
    "O_OTHER": "Any other ethnic group (O9)", "PNS": "Not stated (NS)",
}  # fmt: skip


@dataclass(frozen=True)
class FormVariant:
    lpt_code: str
    id_header: str  # "ID", or "Id" in older exports
    has_last_modified: bool
    questions: dict[str, str]  # canonical field -> question wording in this form
    legacy_ethnicity: bool = False


VARIANTS = (
    FormVariant("STOKE_N", "ID", True, {
        "date": "Date of contact", "setting": "Where did the contact take place?",
        "issues": "What issues did the person raise?", "comments": "Any other comments",
        "consent": "Did the person consent to the diversity questions?", "age_band": "Age band",
        "ethnicity": "Ethnicity", "religion": "Religion",
    }),
    FormVariant("NEWCASTLE", "ID", False, {
        "date": "Date of contact", "setting": "Setting", "issues": "Issues raised", "comments": "Notes",
        "consent": "Diversity consent given", "age_band": "Age", "ethnicity": "Ethnic group", "religion": "Faith",
    }),
    FormVariant("MOORLANDS", "Id", False, {
        "date": "Date of contact", "setting": "Type of contact", "issues": "Concerns", "comments": "Comments",
        "consent": "Consent to equality questions?", "age_band": "Age range",
        "ethnicity": "Ethnicity (self-defined)", "religion": "Religion or belief",
    }, legacy_ethnicity=True),
)  # fmt: skip

LABELS = {
    name: {code.code: code.label for code in codes}
    for name, codes in (
        ("setting", c.CONTACT_SETTINGS), ("issues", c.THEMES), ("age_band", c.AGE_BANDS),
        ("ethnicity", c.ETHNICITY_CODES), ("religion", c.RELIGIONS),
    )
}  # fmt: skip


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
    keys = list(variant.questions)
    header += [variant.questions[key] for key in keys]
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
        consent = bool(record["diversity_consent"])
        answers = {
            "date": f"{completed.day:02d}/{completed.month:02d}/{completed.year}",
            "setting": LABELS["setting"][str(record["contact_setting"])],
            "issues": "".join(f"{LABELS['issues'].get(t, t)};" for t in issues.get(record["ccr_id"], [])),
            "comments": _comment(rng, pii, issues.get(record["ccr_id"], [])),
            "consent": "Yes" if consent else "No",
            "age_band": _label("age_band", record["age_band"]) if consent else "",
            "ethnicity": _ethnicity(variant, record["ethnicity_2021"]) if consent else "",
            "religion": _label("religion", record["religion"]) if consent else "",
        }
        rows.append(row + [answers[key] for key in keys])
    return header, rows


def _label(question: str, code: object) -> str:
    return "" if code is None else LABELS[question].get(str(code), str(code))


def _ethnicity(variant: FormVariant, code: object) -> str:
    if code is None:
        return ""
    return LEGACY_16_PLUS_1[str(code)] if variant.legacy_ethnicity else _label("ethnicity", code)


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
