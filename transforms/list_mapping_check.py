"""Holds a list mapping against the canonical model: tables, keys, columns, codes, bridges, lookups, people.

`check_mapping(mapping, DATASET)` lists every problem (naming the file, list and column) instead of
stopping at the first, so `cetk check` can show them all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from powerbi_dataset.schema import Column, Dataset, Table
from transforms.list_mapping import (
    BUILT_IN_COLUMNS,
    FILLED_BY_SYNC,
    ITEM_KEY_TEMPLATE,
    ColumnMapping,
    ListMapping,
    SiteMapping,
)
from transforms.mapping_file import MappingProblem
from transforms.mapping_targets import (
    bridge_problem,
    find_column,
    find_table,
    iter_code_problems,
    iter_missing,
    officer_key_columns,
    refers_to,
)
from transforms.sharepoint_fields import (
    CHOICE_TYPES,
    LOOKUP_TYPES,
    MULTI_TYPES,
    PERSON_TYPES,
    TARGET_KINDS,
    SharePointType,
)


def check_mapping(mapping: SiteMapping, dataset: Dataset) -> list[MappingProblem]:
    """Every way the mapping disagrees with the canonical model; empty when a sync can rely on it."""
    return _SiteCheck(mapping, dataset).run()


Say = Callable[[str], None]


class _SiteCheck:
    def __init__(self, mapping: SiteMapping, dataset: Dataset) -> None:
        self.mapping, self.dataset = mapping, dataset
        self.officer_keys = officer_key_columns(dataset)
        self.lists = {one.display_name: one for one in mapping.lists}
        self.problems: list[MappingProblem] = []

    def run(self) -> list[MappingProblem]:
        for one in self.mapping.lists:
            self._list(one)
        self._people()
        return self.problems

    def add(self, where: str, entry: str | None, message: str) -> None:
        self.problems.append(MappingProblem(self.mapping.source, where, entry, message))

    def _list(self, one: ListMapping) -> None:
        where = f"list '{one.display_name}'"
        table = find_table(self.dataset, one.table)
        if table is None:
            self.add(where, None, f"table '{one.table}' is not in the model")
            return
        if table.key != (one.key,):
            self.add(
                where, None, f"table '{table.name}' is keyed on {', '.join(table.key)}, not on '{one.key}'"
            )
        fed: dict[str, str] = {}  # canonical column -> the entry that feeds it
        for name, target in one.built_ins.items():
            self._built_in(table, name, target, fed, where)
        for column in one.columns:
            if not column.is_ignored:
                self._column(one, table, column, fed, where)
        for canonical in table.columns:
            if canonical.required and canonical.name not in {*fed, *FILLED_BY_SYNC, one.key}:
                self.add(where, None, f"nothing feeds the required column {table.name}.{canonical.name}")
        key = find_column(table, one.key)
        if one.key not in fed and key is not None and key.kind != "String":
            self.add(
                where, None, f"'{one.key}' is built from the item id ({ITEM_KEY_TEMPLATE}) so must be text"
            )

    def _built_in(self, table: Table, name: str, target: str, fed: dict[str, str], where: str) -> None:
        entry = f"built-in '{BUILT_IN_COLUMNS[name]}'"
        column = find_column(table, target)
        if column is None:
            self.add(where, entry, f"'{target}' is not a column of table '{table.name}'")
            return
        if name in ("author", "editor"):
            self._person_target(table, column, lambda message: self.add(where, entry, message))
        elif column.kind != "DateTime" or column.date_only:
            self.add(where, entry, f"{table.name}.{target} is not a date-time column")
        self._feed(fed, where, entry, target)

    def _column(
        self, one: ListMapping, table: Table, column: ColumnMapping, fed: dict[str, str], where: str
    ) -> None:
        entry = f"column '{column.name}'"

        def say(message: str) -> None:
            self.add(where, entry, message)

        kind = cast(SharePointType, column.type)
        if (kind in MULTI_TYPES) != (column.bridge is not None):
            say(f"a {kind} column {'needs a' if kind in MULTI_TYPES else 'takes no'} bridge table")
            return
        home = table
        if column.bridge is not None:
            problem = bridge_problem(self.dataset, column.bridge, one.key, column.to[0])
            if problem is not None:
                say(problem)
                return
            home = self.dataset.table(column.bridge)
        missing = list(iter_missing(home, (*column.to, *((column.rank,) if column.rank else ()))))
        for message in missing:
            say(message)
        if missing:
            return
        targets = [home.column(name) for name in column.to]
        self._shape(kind, home, targets, column, say)
        if not column.bridge:
            for name in column.to:
                self._feed(fed, where, entry, name)

    def _shape(
        self, kind: SharePointType, home: Table, targets: list[Column], column: ColumnMapping, say: Say
    ) -> None:
        _arity(kind, targets, say)
        for target in targets:
            if target.kind not in TARGET_KINDS[kind]:
                say(f"a {kind} column cannot feed {home.name}.{target.name} ({target.kind})")
        first = targets[0]
        if column.rank is not None and (column.bridge is None or home.column(column.rank).kind != "Int64"):
            say(f"rank '{column.rank}' must be a whole-number column of the bridge table")
        if column.choices and kind not in CHOICE_TYPES:
            say("only choice columns take choices")
        elif kind in CHOICE_TYPES and first.codes and not column.choices:
            say(f"map each choice label to a code of {home.name}.{first.name}")
        for message in iter_code_problems(home, first, (code for _label, code in column.choices)):
            say(message)
        if kind in LOOKUP_TYPES:
            self._lookup(column, home, first, say)
        elif column.lookup_list is not None:
            say("only lookup columns name a lookup_list")
        if kind in PERSON_TYPES:
            self._person_target(home, first, say)
        elif (home.name, first.name) in self.officer_keys and kind != "text":
            say(
                f"{home.name}.{first.name} holds officer keys: feed it from a person column or a staff number"
            )

    def _lookup(self, column: ColumnMapping, home: Table, target: Column, say: Say) -> None:
        other = self.lists.get(column.lookup_list or "")
        if other is None:
            say(f"lookup_list '{column.lookup_list}' is not a list of this mapping")
            return
        other_table = find_table(self.dataset, other.table)
        if other_table is not None and not refers_to(self.dataset, home, target, other_table):
            say(f"{home.name}.{target.name} does not hold the key of '{other_table.name}'")

    def _person_target(self, table: Table, column: Column, say: Say) -> None:
        if (table.name, column.name) not in self.officer_keys:
            say(f"people become officer keys, and {table.name}.{column.name} is not an officer key column")
        elif self.mapping.people is None:
            say("person columns need the `people` section, which says how a person becomes an officer key")

    def _feed(self, fed: dict[str, str], where: str, entry: str, name: str) -> None:
        if name in fed:
            self.add(where, entry, f"'{name}' is already fed by {fed[name]}")
        else:
            fed[name] = entry

    def _people(self) -> None:
        people = self.mapping.people
        if people is None:
            return
        one = self.lists.get(people.list)
        if one is None:
            self.add("people", None, f"list '{people.list}' is not a list of this mapping")
            return
        for name, wanted in ((people.account, PERSON_TYPES), (people.staff_number, frozenset({"text"}))):
            column = next((column for column in one.columns if column.name == name), None)
            if column is None:
                self.add(
                    "people", f"column '{name}'", f"is not a column of list '{people.list}' in this mapping"
                )
            elif column.type is not None and column.type not in wanted:
                self.add(
                    "people",
                    f"column '{name}'",
                    f"is a {column.type} column, not {' or '.join(sorted(wanted))}",
                )


def _arity(kind: SharePointType, targets: list[Column], say: Say) -> None:
    """How many canonical columns a type feeds, and which: location (lat, lon), date-time (+ local date)."""
    count, dated = len(targets), [target.date_only for target in targets]
    if kind == "location":
        categories = [target.data_category for target in targets]
        if count != 2 or any(categories) and categories != ["Latitude", "Longitude"]:
            say("a location feeds two columns: [latitude, longitude]")
    elif kind == "dateTime":
        if count > 2 or dated[0] or (count == 2 and not dated[1]):
            say("a date-time feeds a date-time column, optionally followed by a date-only column")
    elif kind == "dateOnly":
        if count != 1 or not dated[0]:
            say("a date-only column feeds one date-only column")
    elif count != 1:
        say(f"a {kind} column feeds exactly one column")
