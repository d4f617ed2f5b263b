"""Compare validation reports with the demo force's manifest of deliberately injected errors."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from powerbi_dataset.model import DATASET
from transforms.report import Report

ProblemId = tuple[str, str, str, str]  # table, key, column, code


def masked_key(table: str, key: str) -> str:
    """The manifest's key as the validator shows it: personal key parts (officer keys) masked."""
    model = DATASET.table(table)
    parts = zip(model.key, key.split("|"), strict=True)
    return "|".join("***" if model.column(name).personal != "none" else part for name, part in parts)


def expected(rows: Iterable[tuple[str, str, str, str]]) -> Counter[ProblemId]:
    return Counter((table, masked_key(table, key), column, code) for table, key, column, code in rows)


def reported(report: Report) -> Counter[ProblemId]:
    return Counter((p.table, p.key, p.column, p.code) for p in report.problems)
