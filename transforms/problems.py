"""Every problem code validation reports, declared once: code, title, description, severity.

The checks of columns and tables are declared here; the model's cross-field rules join from the model
(powerbi_dataset/model.py), so their codes are never typed twice. docs/problem-codes.md is generated
from this catalogue (`make problem-codes`), and a test checks that every code emitted is declared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from errors import ModelError
from powerbi_dataset.model import DATASET
from powerbi_dataset.rules import Rule
from powerbi_dataset.schema import Dataset

Severity = Literal["error", "warning"]
Scope = Literal["table", "value", "rule"]

GENERATED_NOTE = (
    "Generated from `transforms/problems.py` (checks) and `powerbi_dataset/model.py` (rules). "
    "Do not edit by hand: run `make problem-codes`."
)


@dataclass(frozen=True)
class ProblemType:
    code: str  # stable: reports, quarantine files and dashboards key on it
    title: str
    description: str
    scope: Scope  # table: the input as a whole (row -1); value: one cell; rule: a cross-field rule
    severity: Severity = "error"  # every error makes the report invalid (exit 1)


MISSING_COLUMN = ProblemType(
    "missing-column", "Missing column", "A column the model declares is not in the input.", "table"
)
UNEXPECTED_COLUMN = ProblemType(
    "unexpected-column", "Unexpected column", "The input has a column the model does not declare.", "table"
)
DUPLICATE_COLUMN = ProblemType(
    "duplicate-column",
    "Duplicate column",
    "The input has two columns of the same name; neither is checked, as which one is meant is unknown.",
    "table",
)
HEADER_LOOKS_LIKE_DATA = ProblemType(
    "header-looks-like-data",
    "Header looks like data",
    "The first row holds values (emails, numbers, dates, free text) or no column of the model, so it is "
    "not read as column names and the table is not checked; its cells are never shown.",
    "table",
)
UNKNOWN_TABLE = ProblemType(
    "unknown-table", "Unknown table", "The input names a table the model does not declare.", "table"
)
WRONG_TYPE = ProblemType(
    "wrong-type",
    "Wrong type",
    "The value cannot be read as the column's kind (whole number, number, true/false, ISO 8601 date-time).",
    "value",
)
MISSING_VALUE = ProblemType(
    "missing-value", "Missing value", "A required column is empty (whitespace-only counts as empty).", "value"
)
UNKNOWN_CODE = ProblemType(
    "unknown-code", "Unknown code", "The value is not one of the codes the column allows.", "value"
)
OUT_OF_RANGE = ProblemType(
    "out-of-range", "Out of range", "The value is below the column's minimum or above its maximum.", "value"
)
TOO_LONG = ProblemType(
    "too-long",
    "Too long",
    "The text is longer than the column allows (at most 4,000 characters, Power BI's limit).",
    "value",
)
BAD_FORMAT = ProblemType(
    "bad-format",
    "Bad format",
    "The text does not match the column's pattern (e.g. an ONS code or a pseudonym).",
    "value",
)
NOT_A_DATE = ProblemType(
    "not-a-date", "Not a date", "A date-only column holds a time of day other than midnight.", "value"
)
DUPLICATE_KEY = ProblemType(
    "duplicate-key",
    "Duplicate key",
    "The row repeats the primary key of an earlier row (rows with an empty key part are not compared).",
    "value",
)
ORPHAN_REFERENCE = ProblemType(
    "orphan-reference",
    "Orphan reference",
    "The value refers to a row the related table does not have (checked when both tables are given).",
    "value",
)

# Normalising list items (transforms/normalise.py): a value the mapping or the sync's context cannot
# turn into a canonical value is left empty and its row reported (errors: the row goes to quarantine);
# warnings say what minimisation removed or what the mapping does not read, and keep the row.
UNKNOWN_LABEL = ProblemType(
    "unknown-label",
    "Unknown choice label",
    "A choice label the list mapping does not map to a code: add it to the column's `choices` in the "
    "mapping, or correct the item. The value is left empty, never guessed.",
    "value",
)
UNRESOLVED_LOOKUP = ProblemType(
    "unresolved-lookup",
    "Unresolved lookup",
    "A lookup points to an item of the lookup list that the sync does not hold (deleted, or not yet read).",
    "value",
)
UNKNOWN_PERSON = ProblemType(
    "unknown-person",
    "Unknown person",
    "A person column (or Created By) names an account the people list does not link to a staff number, "
    "so no officer key can be made.",
    "value",
)
AMBIGUOUS_LOCAL_TIME = ProblemType(
    "ambiguous-local-time",
    "Ambiguous local time",
    "A date-time without a time zone falls in the hour the clocks show twice (last Sunday of October); "
    "it is left empty rather than guessed.",
    "value",
)
NONEXISTENT_LOCAL_TIME = ProblemType(
    "nonexistent-local-time",
    "Non-existent local time",
    "A date-time without a time zone falls in the hour the clocks skip (last Sunday of March); "
    "it is left empty rather than shifted.",
    "value",
)
REMOVED_WITHOUT_CONSENT = ProblemType(
    "removed-without-consent",
    "Demographics removed without consent",
    "Demographic answers were recorded without diversity consent; they were removed before anything "
    "was written. The row is kept.",
    "value",
    "warning",
)
PERSONAL_DETAIL_REMOVED = ProblemType(
    "personal-detail-removed",
    "Personal detail removed",
    "Free text held what looks like a personal detail (name, phone, email, postcode, vehicle, address); "
    "it was replaced by a [KIND] placeholder before anything was written. The row is kept.",
    "value",
    "warning",
)
UNMAPPED_FIELD = ProblemType(
    "unmapped-field",
    "Unmapped field",
    "Items carry a column the list mapping neither maps nor ignores; its values were not read. "
    "Map it, or add it with `ignore:` and the reason.",
    "table",
    "warning",
)
NORMALISE_CHECKS: tuple[ProblemType, ...] = (
    UNKNOWN_LABEL,
    UNRESOLVED_LOOKUP,
    UNKNOWN_PERSON,
    AMBIGUOUS_LOCAL_TIME,
    NONEXISTENT_LOCAL_TIME,
    REMOVED_WITHOUT_CONSENT,
    PERSONAL_DETAIL_REMOVED,
    UNMAPPED_FIELD,
)

CHECKS: tuple[ProblemType, ...] = (
    UNKNOWN_TABLE,
    HEADER_LOOKS_LIKE_DATA,
    MISSING_COLUMN,
    UNEXPECTED_COLUMN,
    DUPLICATE_COLUMN,
    WRONG_TYPE,
    MISSING_VALUE,
    UNKNOWN_CODE,
    OUT_OF_RANGE,
    TOO_LONG,
    BAD_FORMAT,
    NOT_A_DATE,
    DUPLICATE_KEY,
    ORPHAN_REFERENCE,
    *NORMALISE_CHECKS,
)


def problem_catalogue(dataset: Dataset = DATASET) -> dict[str, ProblemType]:
    """The checks, then one entry per rule code of the model (a code several rules share describes them all)."""
    catalogue = {problem.code: problem for problem in CHECKS}
    rules: dict[str, list[tuple[str, Rule]]] = {}
    for table in dataset.tables:
        for rule in table.rules:
            if rule.code in catalogue:
                raise ModelError(f"rule code {rule.code!r} of table {table.name!r} is already a check's code")
            rules.setdefault(rule.code, []).append((table.name, rule))
    for code, uses in rules.items():
        description = " ".join(f"{table}: {rule.message} ({rule.describe()})." for table, rule in uses)
        catalogue[code] = ProblemType(code, code.replace("-", " ").capitalize(), description, "rule")
    return catalogue


PROBLEM_TYPES: Mapping[str, ProblemType] = problem_catalogue()


def problem_codes_markdown(catalogue: Mapping[str, ProblemType] = PROBLEM_TYPES) -> str:
    """docs/problem-codes.md: every code validation can report, checks first, then the model's rules."""
    lines = ["# Problem codes", "", GENERATED_NOTE, ""]
    lines += [
        "Validation reports each problem with one of these stable codes (`cetk validate --json` lists them",
        "per row). A `table` problem concerns the input as a whole and has row -1; the others name a row.",
        "",
        "| Code | Title | Applies to | Severity | Description |",
        "|---|---|---|---|---|",
    ]
    for problem in catalogue.values():
        description = problem.description.replace("|", "\\|")
        lines.append(
            f"| `{problem.code}` | {problem.title} | {problem.scope} | {problem.severity} | {description} |"
        )
    return "\n".join(lines) + "\n"
