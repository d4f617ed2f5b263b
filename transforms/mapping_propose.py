"""Propose a list mapping from a site's live lists and columns, each entry with a confidence, for review.

    proposal = propose(lists)                      # lists: LiveList values a connector read
    dump_mapping(proposal.mapping)                 # the file a person reviews (docs/mapping.md)
    proposal.review, proposal.problems             # what needs a person, what check_mapping says

Lists are matched to the model's tables by name (the table's name, description and acronym: "LPTs" is
"Local policing teams") and by how many of the table's required columns their columns can feed; columns
by display and internal name (escapes decoded), type, choice labels against codes, lookups to the list
holding the key, people to officer keys; the built-ins Created, Modified and Created By to the table's
created, modified and created-by columns. A column that matches nothing is proposed as `ignore:` with a
reason, stronger when it looks like free text or personal data. Nothing here guesses silently: an
entry under REVIEW_BELOW is listed for review, and a site it cannot map gives an empty proposal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from powerbi_dataset.model import DATASET
from powerbi_dataset.schema import Dataset, Table
from transforms.list_columns import LiveColumn, LiveList
from transforms.list_mapping import FILLED_BY_SYNC, ColumnMapping, ListMapping, PeopleMapping, SiteMapping
from transforms.list_mapping_check import check_mapping
from transforms.mapping_file import MappingProblem
from transforms.mapping_targets import OFFICER_KEY, OFFICERS_TABLE, find_column
from transforms.normalise_fields import BUILT_IN_FIELDS
from transforms.propose_columns import Candidate, Site, candidates
from transforms.propose_match import table_score, words

__all__ = ["REVIEW_BELOW", "ListProposal", "Proposal", "propose", "propose_mapping"]

REVIEW_BELOW = 0.7  # entries (and list matches) less sure than this are listed for a person to check
MIN_COLUMN = 0.5  # a candidate below this is not proposed as a mapping
MIN_LIST = 0.45  # a list fitting no table at least this well is left out of the proposal
PERSONAL_WORDS = frozenset({"name", "phone", "mobile", "telephone", "tel", "email", "mail", "address", "street",
                            "postcode", "birth", "dob", "surname", "forename", "contact", "nhs", "ni"})  # fmt: skip
FREE_TEXT_WORDS = frozenset({"comment", "note", "detail", "description", "remark", "summary", "raised", "intel",
                             "intelligence", "narrative", "title", "text", "other"})  # fmt: skip


@dataclass(frozen=True)
class ListProposal:
    list_name: str
    table: str
    confidence: float


@dataclass(frozen=True)
class Proposal:
    mapping: SiteMapping  # entries carry `confidence`
    lists: tuple[ListProposal, ...]
    unmatched_lists: tuple[str, ...]  # lists that fit no table: not in the mapping
    review: tuple[str, ...]  # one line per entry or list match under REVIEW_BELOW
    problems: tuple[MappingProblem, ...]  # check_mapping of the proposal against the model


def propose_mapping(lists: Sequence[LiveList], dataset: Dataset = DATASET) -> SiteMapping:
    """The proposed mapping alone (see `propose` for what to review)."""
    return propose(lists, dataset).mapping


def propose(lists: Sequence[LiveList], dataset: Dataset = DATASET) -> Proposal:
    tables = [t for t in dataset.tables if len(t.key) == 1 and t.row_level and t.publish_mode != "control"]
    blind = Site.of(dataset, lists, {})  # first pass: lookups cannot be told apart yet
    fits = sorted(
        ((fit, live, table) for live in lists for table in tables
         if (fit := _propose_list(live, table, blind)[1]) >= MIN_LIST),
        key=lambda entry: -entry[0],
    )  # fmt: skip
    chosen: dict[str, tuple[Table, float]] = {}
    for fit, live, table in fits:
        if live.display_name not in chosen and table.name not in {t.name for t, _ in chosen.values()}:
            chosen[live.display_name] = (table, fit)
    site = Site.of(dataset, lists, {name: table for name, (table, _fit) in chosen.items()})
    mapped: list[ListMapping] = []
    matched: list[ListProposal] = []
    people: PeopleMapping | None = None
    for live in lists:
        if live.display_name not in chosen:
            continue
        table, fit = chosen[live.display_name]
        one, _fit = _propose_list(live, table, site)
        mapped.append(one)
        matched.append(ListProposal(live.display_name, table.name, round(fit, 2)))
        if table.name == OFFICERS_TABLE:
            people = _people(live, one) or people
    mapping = SiteMapping(tuple(mapped), people, source="proposal")
    unmatched = tuple(live.display_name for live in lists if live.display_name not in chosen)
    return Proposal(
        mapping, tuple(matched), unmatched, _review(mapping, matched), tuple(check_mapping(mapping, dataset))
    )


def user_columns(live: LiveList) -> list[LiveColumn]:
    """Columns a person added (not hidden, not read-only, not a system column)."""
    return [c for c in live.columns if not c.hidden and not c.read_only and c.name not in BUILT_IN_FIELDS]


def _propose_list(live: LiveList, table: Table, site: Site) -> tuple[ListMapping, float]:
    """The list's mapping into this table, and how well the list fits the table (0-1)."""
    columns = user_columns(live)
    pool = sorted(
        (candidate for column in columns for candidate in candidates(column, live, table, site)),
        key=lambda candidate: -candidate.score,
    )
    chosen: dict[str, Candidate] = {}
    fed: set[tuple[str, str]] = set()
    for candidate in pool:
        if candidate.score < MIN_COLUMN or candidate.entry.name in chosen or fed & set(candidate.feeds):
            continue
        chosen[candidate.entry.name] = candidate
        fed.update(candidate.feeds)
    _pair_local_dates(table, chosen, fed)
    built_ins = _built_ins(table, fed)
    entries = [chosen[c.name].entry if c.name in chosen else _ignored(c, table) for c in columns]
    mapping = ListMapping(live.display_name, table.name, table.key[0], tuple(entries), **built_ins)
    required = [c.name for c in table.columns if c.required and c.name not in FILLED_BY_SYNC]
    item_keyed = table.column(table.key[0]).kind == "String" and table.name != OFFICERS_TABLE
    covered = [n for n in required if (table.name, n) in fed or (n == table.key[0] and item_keyed)]
    coverage = len(covered) / len(required) if required else 0.0
    fit = 0.35 * table_score((live.display_name, live.name), table) + 0.65 * coverage
    return mapping, fit


def _pair_local_dates(table: Table, chosen: dict[str, Candidate], fed: set[tuple[str, str]]) -> None:
    """A date-time also feeds its local date (`recorded_utc` -> `recorded_local_date`) when nothing else does."""
    for name, candidate in list(chosen.items()):
        entry = candidate.entry
        if entry.type != "dateTime" or len(entry.to) != 1 or not entry.to[0].endswith("_utc"):
            continue
        local = find_column(table, entry.to[0].removesuffix("_utc") + "_local_date")
        if local is not None and local.date_only and (table.name, local.name) not in fed:
            paired = ColumnMapping(entry.name, "dateTime", to=(*entry.to, local.name), display=entry.display,
                                   confidence=entry.confidence)  # fmt: skip
            chosen[name] = Candidate(candidate.score, paired, (*candidate.feeds, (table.name, local.name)))
            fed.add((table.name, local.name))


def _built_ins(table: Table, fed: set[tuple[str, str]]) -> dict[str, str]:
    """Created, Modified, Created By and Modified By to the table's columns of those names."""
    found: dict[str, str] = {}
    for column in table.columns:
        if (table.name, column.name) in fed or column.kind not in ("DateTime", "String"):
            continue
        name = column.name
        if column.kind == "DateTime" and not column.date_only and name.startswith(("created_", "modified_")):
            found.setdefault("created" if name.startswith("created") else "modified", name)
        elif name.startswith(("created_by_", "modified_by_")) and name.endswith(OFFICER_KEY):
            found.setdefault("author" if name.startswith("created") else "editor", name)
    return found


def _ignored(column: LiveColumn, table: Table) -> ColumnMapping:
    found = set(words(column.display_name)) | set(words(column.name))
    if column.type in ("person", "multiperson") and table.name == OFFICERS_TABLE:
        reason, sure = "read only through `people`, to resolve person columns", 0.9
    elif found & PERSONAL_WORDS:
        reason, sure = "looks like personal data (a name or contact detail); never leaves the source", 0.9
    elif column.type == "note" or found & FREE_TEXT_WORDS:
        reason, sure = "looks like free text, which may name people; never leaves the source", 0.85
    elif column.type is None:
        reason, sure = (
            "Graph gives this column no type (hyperlink, location or managed metadata) and nothing matched",
            0.6,
        )
    else:
        reason, sure = "no canonical column matches; map it by hand if it belongs in the model", 0.6
    return ColumnMapping(
        column.name, column.type, display=column.display_name, ignore=reason, confidence=sure
    )


def _people(live: LiveList, one: ListMapping) -> PeopleMapping | None:
    """The officers list names each officer's account (person column) and staff number (its key's source)."""
    staff = next((c.name for c in one.columns if c.to == (OFFICER_KEY,) and c.type == "text"), None)
    account = next((c.name for c in live.columns if c.type == "person" and not c.read_only), None)
    return PeopleMapping(live.display_name, account, staff) if staff and account else None


def _review(mapping: SiteMapping, matched: Sequence[ListProposal]) -> tuple[str, ...]:
    lines = [
        f"list '{one.list_name}' -> table '{one.table}' (confidence {one.confidence:.2f})"
        for one in matched if one.confidence < REVIEW_BELOW
    ]  # fmt: skip
    for one in mapping.lists:
        for column in one.columns:
            if column.confidence is not None and column.confidence < REVIEW_BELOW:
                what = (
                    f"ignore ({column.ignore})"
                    if column.is_ignored
                    else f"{column.type} -> {', '.join(column.to)}"
                )
                lines.append(
                    f"list '{one.display_name}', column '{column.name}': {what} (confidence {column.confidence:.2f})"
                )
    return tuple(lines)
