"""A table's header checked against its model: which model columns can be read, and where they are.

The header's problems (missing, unexpected or repeated columns, a first row of values) are told to the
table's TableProblems; a column present more than once is not read, as which copy is meant is unknown.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from powerbi_dataset.schema import Table
from transforms.masking import header_looks_like_data, shown_name
from transforms.problems import DUPLICATE_COLUMN, HEADER_LOOKS_LIKE_DATA, MISSING_COLUMN, UNEXPECTED_COLUMN
from transforms.table_problems import TableProblems

__all__ = ["read_header"]


def read_header(
    header: Sequence[str], model: Table, label: str, problems: TableProblems
) -> dict[str, int] | None:
    """Model column -> its position in the header, for each model column there exactly once (in the
    model's order); None when the first row does not look like a header (nothing can be read)."""
    known = frozenset(model.column_names)
    if header_looks_like_data(header, known):
        message = f"the first row of {label} does not look like a header (values, not column names)"
        problems.table_problem(HEADER_LOOKS_LIKE_DATA.code, "", message)
        return None
    seen = Counter(header)  # one pass: a 20,000-column header is checked in linear time
    first_at: dict[str, int] = {}
    for position, name in enumerate(header):
        first_at.setdefault(name, position)
    for column in model.columns:
        if column.name not in seen:
            problems.table_problem(MISSING_COLUMN.code, column.name, "column is missing from the input")
    for name, position in first_at.items():
        if name not in known:
            problems.table_problem(
                UNEXPECTED_COLUMN.code, shown_name(name, position, known), "column is not in the model"
            )
    for name, position in first_at.items():
        if seen[name] > 1:  # which copy is meant is unknown, so neither is checked
            message = "column appears more than once in the input"
            problems.table_problem(DUPLICATE_COLUMN.code, shown_name(name, position, known), message)
    return {column.name: first_at[column.name] for column in model.columns if seen.get(column.name) == 1}
