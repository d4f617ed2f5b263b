"""Candidate mapping entries for one live column against one canonical table (and the table's bridges).

Each candidate is a ColumnMapping with a score (0-1): the name score (transforms.propose_match), the
choice labels found among the target's codes for choice columns, the lookup's target holding the right
key, a staff number for the officers' key. Types decide which targets are possible at all
(transforms.sharepoint_fields.TARGET_KINDS); a column Graph gives no type (hyperlink, location,
managed metadata) is a location when its read-only sub-columns say so, else a term at most at
UNTYPED_CAP, for a person to confirm.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from powerbi_dataset.schema import Column, Dataset, Table
from transforms.list_columns import LiveColumn, LiveList
from transforms.list_mapping import FILLED_BY_SYNC, ColumnMapping
from transforms.mapping_targets import (
    OFFICER_KEY,
    OFFICERS_TABLE,
    find_column,
    officer_key_columns,
    refers_to,
)
from transforms.propose_match import column_score, label_code, name_score, words
from transforms.sharepoint_fields import MULTI_TYPES, TARGET_KINDS, SharePointType

__all__ = ["Candidate", "Target", "candidates", "is_location", "targets_of"]

UNTYPED_CAP = 0.55  # a column without a type facet is never proposed with more confidence than this
UNMATCHED_LABEL_CAP = 0.65  # nor a choice column offering a label that finds no code
STAFF_WORDS = frozenset({"staff", "collar", "warrant", "payroll", "employee", "shoulder", "force"})
NUMBER_WORDS = frozenset({"number", "no", "num", "id", "ref"})
LOCATION_SUFFIX = ": Coordinates"  # display name of a location column's GeoLoc sub-column (emulator, Graph)


@dataclass(frozen=True)
class Target:
    """A canonical column a list column could feed: in the table itself or in one of its bridges."""

    home: Table
    column: Column
    bridge: str | None = None  # the bridge table's name, for multi-valued columns

    @property
    def label(self) -> tuple[str, str]:
        return (self.home.name, self.column.name)


@dataclass(frozen=True)
class Candidate:
    score: float
    entry: ColumnMapping
    feeds: tuple[tuple[str, str], ...]  # (table, column) pairs, each fed at most once per list


def targets_of(table: Table, dataset: Dataset) -> list[Target]:
    """The table's own columns (not lineage) and the value columns of bridges keyed on its key."""
    found = [Target(table, column) for column in table.columns if column.name not in FILLED_BY_SYNC]
    if len(table.key) != 1:
        return found
    for bridge in dataset.tables:
        if len(bridge.key) == 2 and table.key[0] in bridge.key and bridge.name != table.name:
            value = next(name for name in bridge.key if name != table.key[0])
            found.append(Target(bridge, bridge.column(value), bridge.name))
    return found


def is_location(column: LiveColumn, live: LiveList) -> bool:
    """Graph gives a location no type facet, but adds read-only sub-columns named "<display>: ..."."""
    wanted = f"{column.display_name}{LOCATION_SUFFIX}"
    return any(other.read_only and other.display_name == wanted for other in live.columns)


@dataclass(frozen=True)
class Site:
    """What candidates need to know about the whole site: list ids to tables, the officer key columns."""

    dataset: Dataset
    tables_by_list_id: Mapping[str, Table]
    list_names: Mapping[str, str]  # list id -> display name
    officer_keys: frozenset[tuple[str, str]]

    @staticmethod
    def of(dataset: Dataset, lists: Sequence[LiveList], tables: Mapping[str, Table]) -> Site:
        by_id = {one.id: tables[one.display_name] for one in lists if one.display_name in tables}
        return Site(dataset, by_id, {one.id: one.display_name for one in lists}, officer_key_columns(dataset))


def candidates(column: LiveColumn, live: LiveList, table: Table, site: Site) -> list[Candidate]:
    """Every entry this column could become, best first."""
    context = frozenset(words(live.display_name)) | frozenset(words(table.name))
    names = (column.display_name, column.name)
    found: list[Candidate] = []
    location = column.type is None and is_location(column, live)
    for target in targets_of(table, site.dataset):
        for kind in _kinds(column, location, target):
            candidate = _candidate(column, kind, target, names, context, table, site)
            if candidate is not None:
                found.append(candidate)
    if location:
        found.extend(_location(column, table, names, context))
    found.sort(key=lambda candidate: -candidate.score)
    return found


def _kinds(column: LiveColumn, location: bool, target: Target) -> tuple[SharePointType, ...]:
    """The SharePoint types this column may be read as, for this target (single in the table, multi in a bridge)."""
    if location:
        return ()
    bridged = target.bridge is not None
    if column.type is None:
        return ("multiterm",) if bridged else ("term",)
    single, multi = _SINGLE_MULTI.get(column.type, (column.type, None))
    is_multi = column.type in MULTI_TYPES or column.multi is True
    maybe_multi = column.multi is None and column.type == "choice"  # Graph does not say (§2.1)
    if bridged:
        return (multi,) if multi is not None and (is_multi or maybe_multi) else ()
    return () if is_multi else (single,)


_SINGLE_MULTI: dict[SharePointType, tuple[SharePointType, SharePointType | None]] = {
    "choice": ("choice", "multichoice"), "multichoice": ("choice", "multichoice"),
    "lookup": ("lookup", "multilookup"), "multilookup": ("lookup", "multilookup"),
    "person": ("person", "multiperson"), "multiperson": ("person", "multiperson"),
    "term": ("term", "multiterm"), "multiterm": ("term", "multiterm"),
}  # fmt: skip


def _candidate(
    column: LiveColumn,
    kind: SharePointType,
    target: Target,
    names: Sequence[str],
    context: frozenset[str],
    table: Table,
    site: Site,
) -> Candidate | None:
    canonical = target.column
    if not _fits(kind, canonical):
        return None
    officer = target.label in site.officer_keys
    is_person = kind in ("person", "multiperson")
    staff_number = officer and kind == "text" and target.label == (OFFICERS_TABLE, OFFICER_KEY)
    if officer != is_person and not staff_number:
        return None
    if canonical.personal != "none" and not (officer or kind in ("choice", "multichoice")):
        return None  # a citizen key is proposed never: repeat-contact analysis needs an approval first
    description = f"{canonical.description} {target.bridge or ''}"
    score = name_score(names, canonical.name, description, context=context)
    extra: dict[str, object] = {}
    if staff_number:  # the officers' own key: a staff number, pseudonymised at ingest
        if not _is_staff_number(names):
            return None
        score = 0.9
    elif is_person:
        score = max(score, 0.75) if _only_person_target(target, table, site) else score
    elif kind in ("choice", "multichoice"):
        choice_score, choices = _choice_score(column, canonical, score)
        if choice_score is None:
            return None
        score = choice_score
        extra["choices"] = choices
    elif kind in ("lookup", "multilookup"):
        lookup = _lookup(column, target, site)
        if lookup is None:
            return None
        extra["lookup_list"] = lookup
        score = max(score, 0.85)
    if column.type is None:
        score = min(score, UNTYPED_CAP)
    if target.bridge is not None:
        extra["bridge"] = target.bridge
        rank = find_column(target.home, "rank")
        if rank is not None and rank.kind == "Int64" and kind == "multichoice":
            extra["rank"] = rank.name
    entry = ColumnMapping(column.name, kind, to=(canonical.name,), display=column.display_name,
                          confidence=round(score, 2), **extra)  # type: ignore[arg-type]  # fmt: skip
    return Candidate(score, entry, (target.label,))


def _fits(kind: SharePointType, canonical: Column) -> bool:
    """The type can feed the column (TARGET_KINDS; dates to date-only columns, date-times to the rest)."""
    if canonical.kind not in TARGET_KINDS[kind] or canonical.data_category in ("Latitude", "Longitude"):
        return False  # only a location feeds coordinates
    if canonical.kind == "DateTime" and canonical.date_only != (kind == "dateOnly"):
        return False
    return not canonical.codes or kind in ("text", "term", "choice", "multichoice", "lookup", "multilookup")


def _choice_score(
    column: LiveColumn, canonical: Column, name: float
) -> tuple[float | None, tuple[tuple[str, str], ...]]:
    """Choices against the target's codes: the share of labels that find a code weighs most."""
    if not canonical.codes:
        return (name * 0.8 if canonical.kind == "String" else None), ()
    if not column.choices:
        return name * 0.6, ()
    pairs = []
    found = 0.0
    for label in column.choices:
        code, sure = label_code(label, canonical.codes)
        if code is not None:
            pairs.append((label, code))
            found += sure
    share = found / len(column.choices)
    if share == 0:
        return None, ()
    score = 0.65 * share + 0.35 * name
    if len(pairs) < len(
        column.choices
    ):  # items with an unmatched label would be quarantined: a person decides
        score = min(score, UNMATCHED_LABEL_CAP)
    return score, tuple(pairs)


def _lookup(column: LiveColumn, target: Target, site: Site) -> str | None:
    """The lookup list's display name, when the target column holds the key of that list's table."""
    if column.lookup_list_id is None:
        return None
    other = site.tables_by_list_id.get(column.lookup_list_id)
    if other is None or not refers_to(site.dataset, target.home, target.column, other):
        return None
    return site.list_names[column.lookup_list_id]


def _only_person_target(target: Target, table: Table, site: Site) -> bool:
    """The person column's target is the only officer key the table (or the bridge) has for people."""
    homes = [label for label in site.officer_keys if label[0] == target.home.name]
    return len(homes) == 1 or target.home is not table


def _is_staff_number(names: Sequence[str]) -> bool:
    found = {word for name in names for word in words(name)}
    return bool(found & STAFF_WORDS) and bool(found & NUMBER_WORDS or len(found) == 1)


def _location(
    column: LiveColumn, table: Table, names: Sequence[str], context: frozenset[str]
) -> list[Candidate]:
    latitude = [c for c in table.columns if c.data_category == "Latitude"]
    longitude = [c for c in table.columns if c.data_category == "Longitude"]
    if len(latitude) != 1 or len(longitude) != 1:
        return []
    score = max(0.8, column_score(names, latitude[0], context))
    to = (latitude[0].name, longitude[0].name)
    entry = ColumnMapping(
        column.name, "location", to=to, display=column.display_name, confidence=round(score, 2)
    )
    return [Candidate(score, entry, tuple((table.name, name) for name in to))]
