"""Validation results as data: a Problem has a stable code, a Report collects them (as in frictionless).

Values in a Problem are shown by the one masking rule (transforms/masking.py) before it is built, so a
report can be logged, written to JSON or shown in the CLI without leaking personal data. A report lists
at most `max_listed` problems (plus the first of each table and code) but counts every problem exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

DEFAULT_MAX_LISTED = 10_000  # ~2 MB of JSON; counts stay exact beyond it

Counts = dict[str, dict[str, int]]
SortKey = tuple[int, ...]


@dataclass(frozen=True)
class Problem:
    table: str
    row: int  # 0-based position in the input table; -1 for a table-level problem
    key: str  # the row's key as fingerprints joined with "|" (transforms/masking.py); '' when absent
    column: str  # '' for a table-level problem
    code: str
    message: str  # never holds a value from the input
    value: str  # as the masking rule shows it: the value, a fingerprint, <N chars> or ***


@dataclass(frozen=True)
class Report:
    problems: tuple[Problem, ...]  # the listed problems; all of them unless problems_not_listed > 0
    rows_checked: dict[str, int] = field(default_factory=dict)
    skipped_rules: tuple[str, ...] = ()  # "table:code" of rules that could not be checked
    problem_counts: Counts | None = None  # exact counts by table and code; None: count the listed ones
    fingerprints: str = ""  # how keys were fingerprinted (masking.Fingerprinter.describe)

    def __post_init__(self) -> None:
        if self.problem_counts is None:
            object.__setattr__(self, "problem_counts", _count(self.problems))

    @property
    def total_problems(self) -> int:
        return sum(sum(by_code.values()) for by_code in self.counts().values())

    @property
    def problems_not_listed(self) -> int:
        return self.total_problems - len(self.problems)

    @property
    def valid(self) -> bool:
        return self.total_problems == 0

    def flatten(self, fields: Sequence[str]) -> list[list[Any]]:
        """One list per listed problem with the named fields, e.g. flatten(["row", "column", "code"])."""
        return [[getattr(problem, name) for name in fields] for problem in self.problems]

    def counts(self) -> Counts:
        """Number of problems by table, then by code: exact, listed or not."""
        assert self.problem_counts is not None
        return {table: dict(by_code) for table, by_code in self.problem_counts.items()}

    def invalid_rows(self, table: str) -> set[int]:
        """Row positions of `table` with at least one listed row-level problem (all of them when every
        problem is listed)."""
        return {problem.row for problem in self.problems if problem.table == table and problem.row >= 0}

    def to_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "rows_checked": dict(self.rows_checked),
            "counts": self.counts(),
            "problems_total": self.total_problems,
            "problems_not_listed": self.problems_not_listed,
            "problems": [asdict(problem) for problem in self.problems],
            "skipped_rules": list(self.skipped_rules),
            "fingerprints": self.fingerprints,
        }

    @staticmethod
    def merge(reports: Iterable[Report]) -> Report:
        """One report from many; rows and counts of the same table are added up."""
        problems: list[Problem] = []
        rows_checked: dict[str, int] = {}
        counts: Counts = {}
        skipped: dict[str, None] = {}
        notes: dict[str, None] = {}
        for report in reports:
            problems.extend(report.problems)
            for table, rows in report.rows_checked.items():
                rows_checked[table] = rows_checked.get(table, 0) + rows
            for table, by_code in report.counts().items():
                for code, count in by_code.items():
                    _add(counts, table, code, count)
            skipped.update(dict.fromkeys(report.skipped_rules))
            if report.fingerprints:
                notes[report.fingerprints] = None
        return Report(tuple(problems), rows_checked, tuple(skipped), counts, "; ".join(notes))


class ProblemCollector:
    """Keeps every count exact and at most `max_listed` problems in memory (plus the first of each table
    and code, so every count has an example); listed problems are sorted by `sort_key` at the end."""

    def __init__(self, max_listed: int = DEFAULT_MAX_LISTED) -> None:
        self.max_listed = max_listed
        self.counts: Counts = {}
        self._listed: list[tuple[SortKey, Problem]] = []
        self._examples: set[tuple[str, str]] = set()

    def wanted(self, table: str, code: str, found: int) -> int:
        """Of `found` new problems of this table and code, how many to build and list."""
        room = max(self.max_listed - len(self._listed), 0)
        if room == 0 and (table, code) not in self._examples:
            return min(found, 1)
        return min(found, room)

    def count(self, table: str, code: str, found: int) -> None:
        if found:
            _add(self.counts, table, code, found)

    def add(self, sort_key: SortKey, problem: Problem) -> None:
        self._listed.append((sort_key, problem))
        self._examples.add((problem.table, problem.code))

    def add_many(
        self, table: str, code: str, sort_keys: Sequence[SortKey], problems: Sequence[Problem]
    ) -> None:
        """Problems of one table and code, each with its sort key."""
        self._listed.extend(zip(sort_keys, problems, strict=True))
        if problems:
            self._examples.add((table, code))

    def report(
        self, rows_checked: dict[str, int], skipped: Iterable[str], fingerprints: str, order: Sequence[str]
    ) -> Report:
        """The report, counts in the order of `order` (the tables as given)."""
        listed = tuple(problem for _key, problem in sorted(self._listed, key=lambda item: item[0]))
        counts = {table: self.counts[table] for table in order if table in self.counts}
        return Report(listed, rows_checked, tuple(dict.fromkeys(skipped)), counts, fingerprints)


def _count(problems: Iterable[Problem]) -> Counts:
    counts: Counts = {}
    for problem in problems:
        _add(counts, problem.table, problem.code, 1)
    return counts


def _add(counts: Counts, table: str, code: str, number: int) -> None:
    by_code = counts.setdefault(table, {})
    by_code[code] = by_code.get(code, 0) + number


def counted(number: int, noun: str) -> str:
    """`1 problem`, `2 problems`: a count with its noun in the right number."""
    return f"{number} {noun}" + ("" if number == 1 else "s")
