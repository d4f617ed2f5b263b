"""Row problems the Forms export reader reports: stable codes, declared once, and the problem value.

The codes join the project's problem-code catalogue (transforms/problems.py) when it lands.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

BAD_DATETIME: Final = "forms-bad-datetime"  # neither an Excel date-time nor a date-time in the locale
AMBIGUOUS_DATE: Final = "forms-ambiguous-date"  # 03/04/2023 with no locale configured (R17): not guessed
NONEXISTENT_LOCAL_TIME: Final = "forms-nonexistent-local-time"  # inside the spring-forward BST gap (R15)
AMBIGUOUS_LOCAL_TIME: Final = "forms-ambiguous-local-time"  # inside the autumn BST overlap (R15)
TEXT_TOO_LONG: Final = "forms-text-too-long"  # over 4,000 characters, the Power BI string cap (S9)
MISSING_RESPONSE_ID: Final = "forms-missing-response-id"  # a response row with an empty ID cell
RAGGED_ROW: Final = "forms-ragged-row"  # a row with values beyond the header's columns

ROW_PROBLEM_CODES: Final = (
    BAD_DATETIME,
    AMBIGUOUS_DATE,
    NONEXISTENT_LOCAL_TIME,
    AMBIGUOUS_LOCAL_TIME,
    TEXT_TOO_LONG,
    MISSING_RESPONSE_ID,
    RAGGED_ROW,
)


@dataclass(frozen=True)
class RowProblem:
    """One problem in one row of an export; the message never holds the cell's value."""

    row: int  # the row's number in the file: the header is row 1 (a spreadsheet row, or a CSV record)
    column: str  # the header of the column, '' for the whole row
    code: str
    message: str
