"""Deliberate errors in the demo force, each recorded with the exact problems validation must report.

Every injection touches one clean row (or adds one row) so that it triggers exactly the codes it
records, e.g. an end before start never also exceeds the 24-hour span, a negative attendance is only
out-of-range, and a bad officer key that matches no officer records both bad-format and orphan-reference.
Keys in the manifest are the row's primary key values joined with "|".
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from emulator.demo.edits import ACTION_EDITS, CCR_EDITS, EVENT_EDITS, Edit
from emulator.demo.events import Row
from emulator.demo.reference import demo_officer_key
from powerbi_dataset.model import DATASET, KEY_16_HEX

Tables = dict[str, list[Row]]
Found = list[tuple[str, str]]  # (column, code) problems one injection causes in its row


@dataclass(frozen=True, order=True)
class InjectedError:
    table: str
    key: str
    column: str
    code: str


def row_key(table: str, row: Row) -> str:
    return "|".join(str(row[column]) for column in DATASET.table(table).key)


class Injector:
    def __init__(self, rng: random.Random, tables: Tables, as_of: datetime) -> None:
        self.rng = rng
        self.tables = tables
        self.as_of = as_of
        self.used: set[tuple[str, str]] = set()
        self.errors: list[InjectedError] = []

    def run(self, fraction: float) -> list[InjectedError]:
        if fraction <= 0:
            return []
        catalogue: dict[str, list[Callable[[], None]]] = {
            "officers": [self.officer_bad_key, self.officer_unknown_role],
            "events": [self._edit("events", spec) for spec in EVENT_EDITS] + [self.duplicate("events")],
            "event_officers": [self.link_orphan_officer, self.link_orphan_event],
            "event_communities": [self.community_unknown],
            "event_issues": [self.issue_rank, self.issue_unknown_theme, self.issue_exclusive("event_issues")],
            "you_said_we_did": [self._edit("you_said_we_did", spec) for spec in ACTION_EDITS],
            "ccr": [self._edit("ccr", spec) for spec in CCR_EDITS] + [self.duplicate("ccr")],
            "ccr_issues": [self.issue_exclusive("ccr_issues"), self.ccr_issue_orphan],
        }
        for table, kinds in catalogue.items():
            wanted = max(len(kinds), math.ceil(fraction * len(self.tables[table])))
            for index in range(wanted):
                kinds[index % len(kinds)]()
        return sorted(self.errors)

    def _add(self, table: str, row: Row) -> None:
        """Append a row no later injection may touch."""
        self.tables[table].append(row)
        self.used.add((table, row_key(table, row)))

    def _record(self, table: str, key: str, found: Found) -> None:
        self.errors += [InjectedError(table, key, column, code) for column, code in found]

    def _pick(self, table: str, eligible: Callable[[Row], bool]) -> Row | None:
        """A random row not touched before that `eligible` accepts (it may reserve a parent row too)."""
        rows = self.tables[table]
        for _attempt in range(400):
            row = self.rng.choice(rows)
            if (table, row_key(table, row)) not in self.used and eligible(row):
                self.used.add((table, row_key(table, row)))
                return row
        return None

    def _edit(self, table: str, spec: Edit) -> Callable[[], None]:
        edit, eligible = spec

        def inject() -> None:
            row = self._pick(table, lambda row: eligible(self, row))
            if row is not None:
                self._record(table, row_key(table, row), edit(self, row))

        return inject

    def duplicate(self, table: str) -> Callable[[], None]:
        def inject() -> None:
            row = self._pick(table, lambda row: True)
            if row is not None:
                copy = dict(row, source_version="9.0")
                self._add(table, copy)
                key_column = "|".join(DATASET.table(table).key)
                self._record(table, row_key(table, copy), [(key_column, "duplicate-key")])

        return inject

    # officers

    def officer_bad_key(self) -> None:
        key = demo_officer_key(f"X{self.rng.randrange(10**6)}").upper()  # upper-case hex breaks the pattern
        self.tables["officers"].append(
            {"officer_key": key, "role": "PC", "home_lpt_code": None, "active": True}
        )
        self._record("officers", key, [("officer_key", "bad-format")])

    def officer_unknown_role(self) -> None:
        row = self._pick("officers", lambda row: True)
        if row is not None:
            row["role"] = "DCI"
            self._record("officers", row_key("officers", row), [("role", "unknown-code")])

    # bridges

    def _free_event(self, row: Row) -> bool:
        """The row's event is untouched so far; reserve it so counts and rules stay predictable."""
        event_key = ("events", str(row["event_id"]))
        if event_key in self.used:
            return False
        self.used.add(event_key)
        return True

    def link_orphan_officer(self) -> None:
        row = self._pick("event_officers", self._free_event)
        if row is not None:
            row["officer_key"] = demo_officer_key(f"LEFT{self.rng.randrange(10**6)}")
            self._record(
                "event_officers", row_key("event_officers", row), [("officer_key", "orphan-reference")]
            )

    def link_orphan_event(self) -> None:
        source = self.rng.choice(self.tables["events"])
        officer = self.rng.choice(
            [o for o in self.tables["officers"] if re.fullmatch(KEY_16_HEX, str(o["officer_key"]))]
        )
        event_id = f"{str(source['event_id']).rsplit(':', 1)[0]}:{900_000 + len(self.errors)}"
        row: Row = {"event_id": event_id, "officer_key": officer["officer_key"]}
        self._add("event_officers", row)
        self._record("event_officers", row_key("event_officers", row), [("event_id", "orphan-reference")])

    def community_unknown(self) -> None:
        row = self._pick("event_communities", self._free_event)
        if row is not None:
            row["community_code"] = "KIDS"
            self._record(
                "event_communities", row_key("event_communities", row), [("community_code", "unknown-code")]
            )

    def issue_rank(self) -> None:
        row = self._pick("event_issues", self._free_event)
        if row is not None:
            row["rank"] = 6 + self.rng.randrange(3)
            self._record("event_issues", row_key("event_issues", row), [("rank", "out-of-range")])

    def issue_unknown_theme(self) -> None:
        row = self._pick(
            "event_issues", lambda row: row["theme_code"] != "NO_ISSUES" and self._free_event(row)
        )
        if row is not None:
            row["theme_code"] = "LITTER"
            found = [("theme_code", "unknown-code"), ("theme_code", "orphan-reference")]
            self._record("event_issues", row_key("event_issues", row), found)

    def issue_exclusive(self, table: str) -> Callable[[], None]:
        parent, parent_column = ("events", "event_id") if table == "event_issues" else ("ccr", "ccr_id")
        groups: dict[str, int] = {}
        for row in self.tables[table]:
            groups[str(row[parent_column])] = groups.get(str(row[parent_column]), 0) + 1

        def eligible(row: Row) -> bool:
            parent_key = (parent, str(row[parent_column]))
            if row["theme_code"] != "NO_ISSUES" or groups[parent_key[1]] != 1 or parent_key in self.used:
                return False
            self.used.add(parent_key)
            return True

        def inject() -> None:
            row = self._pick(table, eligible)
            if row is not None:
                extra: Row = {parent_column: row[parent_column], "theme_code": "ASB"}
                if table == "event_issues":
                    extra["rank"] = 2
                self._add(table, extra)
                self._record(table, row_key(table, row), [("theme_code", "no-issues-exclusive")])

        return inject

    def ccr_issue_orphan(self) -> None:
        source = self.rng.choice(self.tables["ccr"])
        row: Row = {
            "ccr_id": f"{str(source['ccr_id']).rsplit(':', 1)[0]}:{900_000 + len(self.errors)}",
            "theme_code": "ASB",
        }
        self._add("ccr_issues", row)
        self._record("ccr_issues", row_key("ccr_issues", row), [("ccr_id", "orphan-reference")])
