"""A page of Graph-shaped list items to the list's canonical table and bridge tables, minimised.

    context = NormaliseContext(list_id, key, lookup_keys={"LPTs": {"1": "STOKE_N"}}, staff_numbers={"7": "4711"})
    page = normalise_page(items, site_mapping.list_mapping("Engagement Events"), context)
    page.tables["events"], page.tables["event_officers"], page.deleted_item_ids, page.problems

Pure: items in (as the connectors yield them, shapes in transforms/sharepoint_fields.py), Arrow tables
out with the model's column names and storage types (powerbi_dataset.kinds), every model column
present (null where nothing feeds it; `load_id` is stamped by publish). Only mapped, non-ignored
columns are read; annotation keys (`@odata.etag`, `<Col>@odata.type`) are never columns. Problems are
catalogue codes with masked values (docs/sync.md says which quarantine a row and which only count).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from powerbi_dataset.derive import arrow_field
from powerbi_dataset.model import DATASET
from powerbi_dataset.schema import Dataset, Table
from transforms.list_mapping import BUILT_IN_COLUMNS, ListMapping, PeopleMapping
from transforms.local_time import parse_instants
from transforms.minimise import consented, scrub_free_text
from transforms.normalise_fields import item_keys, selected_columns, unmapped_names
from transforms.normalise_log import ProblemLog
from transforms.normalise_plan import ColumnPlan, ListPlan, plan_list
from transforms.normalise_values import Consent, Lookups, read_column, resolve
from transforms.page_read import (
    BUILT_IN_SOURCES,
    ArrowItems,
    PageRead,
    arrow_staff_numbers,
    field_key,
    read_arrow,
    read_dicts,
    wanted_fields,
)
from transforms.privacy import normalise_staff_number, officer_keys, require_key
from transforms.problems import (
    PERSONAL_DETAIL_REMOVED,
    UNKNOWN_PERSON,
    UNMAPPED_FIELD,
    WRONG_TYPE,
)
from transforms.report import Report
from transforms.sharepoint_fields import FIELD_SHAPES

__all__ = [
    "SOURCE_SYSTEM",
    "NormaliseContext",
    "NormalisedPage",
    "normalise_page",
    "people_staff_numbers",
    "selected_columns",
]

SOURCE_SYSTEM = "sp_list"  # powerbi_dataset.codes.SOURCE_SYSTEMS
VERSION_SOURCES = ("eTag", "@odata.etag")  # item properties; then `fields`' own @odata.etag


@dataclass(frozen=True)
class NormaliseContext:
    list_id: str
    key: bytes  # pseudonymisation key (HMAC)
    lookup_keys: Mapping[str, Mapping[str, str]]  # lookup list display name -> {item id -> canonical key}
    staff_numbers: Mapping[str, str]  # person lookup id (user id) -> staff number (from `people`)
    timezone: str = "Europe/London"

    @cached_property
    def lookups(self) -> Lookups:
        """The context with every known person's officer key made once (a keyed HMAC per officer)."""
        key = require_key(self.key)
        people = [
            (str(user), staff) for user, staff in self.staff_numbers.items() if normalise_staff_number(staff)
        ]
        pseudonyms = officer_keys(pa.array([staff for _user, staff in people], pa.string()), key).to_pylist()
        by_user = {user: pseudonym for (user, _staff), pseudonym in zip(people, pseudonyms, strict=True)}
        return Lookups(key, self.timezone, self.lookup_keys, by_user)


@dataclass(frozen=True)
class NormalisedPage:
    tables: dict[str, pa.Table]  # the list's canonical table + its bridge tables
    deleted_item_ids: tuple[str, ...]
    problems: Report
    item_keys: Mapping[str, str] = field(default_factory=dict)  # item id -> canonical key (lookups into it)


def normalise_page(
    page_items: Sequence[Mapping[str, Any]] | ArrowItems,
    mapping: ListMapping,
    context: NormaliseContext,
    *,
    dataset: Dataset = DATASET,
) -> NormalisedPage:
    """Normalise one page of items of the list `mapping` describes (see the module docstring); the
    items as dicts, or as pages decoded into Arrow (transforms.page_read: read alike, or as dicts)."""
    plan = plan_list(mapping, dataset)
    table = plan.table
    wanted = wanted_fields(mapping, (*plan.columns, *plan.bridges))
    properties = [BUILT_IN_SOURCES[n][0] for n in ("created", "modified") if n in mapping.built_ins]
    properties += VERSION_SOURCES if "source_version" in table.column_names else ()
    page = read_arrow(page_items, wanted, properties) if isinstance(page_items, ArrowItems) else None
    if page is None:
        items = page_items.as_dicts() if isinstance(page_items, ArrowItems) else page_items
        page = read_dicts(items, mapping.display_name, wanted, properties)
    ids, reads = page.ids, page.reads
    lookups = context.lookups
    log = ProblemLog(dataset)
    columns: dict[str, pa.Array] = {}
    gated = {name for gate in plan.gates for name in gate.columns}
    ordered = sorted(plan.columns, key=lambda one: one.targets[0].name in gated)  # consent read first
    for one in ordered:
        consent = _consent(plan, one, columns, len(ids)) if one.treatment == "gated" else None
        arrays = read_column(one, reads[field_key(one)], _raw(page, one), lookups, table.name, log, consent)
        for target, array in zip(one.targets, arrays, strict=True):
            columns[target.name] = array
    _built_ins(plan, page, lookups, log, columns)
    keys = columns.get(mapping.key)
    if plan.key_column is None or keys is None:
        keys = item_keys(context.list_id, ids)
        columns[mapping.key] = keys
    _lineage(table, page, columns)
    bridges = [
        (one, read_column(one, reads[field_key(one)], _raw(page, one), lookups, table.name, log)[0])
        for one in plan.bridges
    ]
    _scrub(plan, columns, log)  # after every value problem is known: one scrubber call for the page
    tables = {table.name: _assemble(table, columns, len(ids))}
    for one, lists in bridges:
        bridge = _bridge(one, mapping.key, keys, lists)
        tables[one.home.name] = (
            pa.concat_tables([tables[one.home.name], bridge]) if one.home.name in tables else bridge
        )
    for name in unmapped_names(page.field_keys(), mapping):
        message = (
            f"items carry the column '{name}', which the mapping neither maps nor ignores; it was not read"
        )
        log.add(table.name, name, UNMAPPED_FIELD, message, np.array([-1], dtype=np.int64))
    personal = table.column(mapping.key).personal != "none"
    problems = log.report(
        {table.name: (keys, personal)}, ids, {name: t.num_rows for name, t in tables.items()}
    )
    by_item = dict(zip(ids, keys.to_pylist(), strict=True))
    if keys.null_count:
        by_item = {i: k for i, k in by_item.items() if k is not None}
    return NormalisedPage(tables, page.deleted, problems, by_item)


def people_staff_numbers(
    items: Sequence[Mapping[str, Any]] | ArrowItems, people: PeopleMapping
) -> dict[str, str]:
    """Person lookup id -> staff number, from the items of the people list (NormaliseContext.staff_numbers).

    Held in memory only, to make officer keys; staff numbers are never written.
    """
    account = FIELD_SHAPES["person"].field_key(people.account)
    if isinstance(items, ArrowItems):
        found_arrow = arrow_staff_numbers(items, account, people.staff_number)
        if found_arrow is not None:
            return found_arrow
        items = items.as_dicts()
    found: dict[str, str] = {}
    for item in items:
        values = item.get("fields") or {}
        user, staff = values.get(account), values.get(people.staff_number)
        if user is not None and isinstance(staff, str) and staff.strip():
            found[str(user)] = staff
    return found


def _raw(page: PageRead, one: ColumnPlan) -> Callable[[], list[Any]]:
    key = field_key(one)
    return lambda: page.raw(key)


def _consent(plan: ListPlan, one: ColumnPlan, columns: Mapping[str, pa.Array], rows: int) -> Consent:
    gate = next(gate for gate in plan.gates if one.targets[0].name in gate.columns)
    message = f"an answer recorded without {gate.consent} was removed (rule {gate.rule})"
    return Consent(consented(columns.get(gate.consent), rows), message)


def _built_ins(
    plan: ListPlan, page: PageRead, lookups: Lookups, log: ProblemLog, columns: dict[str, pa.Array]
) -> None:
    table = plan.table.name
    reads = page.reads
    for name, target in plan.mapping.built_ins.items():
        sources = BUILT_IN_SOURCES[name]
        label = BUILT_IN_COLUMNS[name]
        if name in ("author", "editor"):
            read = reads[sources[0]]
            log.add(table, target, WRONG_TYPE, f"{label} is not a user id", read.wrong)
            keys, missing = resolve(read.values, lookups.people)
            message = f"{label} has no staff number in the people list"
            log.add(table, target, UNKNOWN_PERSON, message, missing, read.values, secret=True)
            columns[target] = keys
            continue
        item_key_name, field_key = sources
        read_text = page.texts((item_key_name,), field_key)
        instants = parse_instants(read_text.values, lookups.timezone)
        message = f"{label} is not an ISO 8601 date-time"
        log.add(table, target, WRONG_TYPE, message, instants.wrong | read_text.wrong, read_text.values)
        columns[target] = instants.values


def _lineage(table: Table, page: PageRead, columns: dict[str, pa.Array]) -> None:
    names = set(table.column_names)
    ids = page.ids
    if "source_system" in names:
        columns["source_system"] = pa.repeat(pa.scalar(SOURCE_SYSTEM, pa.string()), len(ids))
    if "source_item_id" in names:
        columns["source_item_id"] = pa.array(ids, pa.string())
    if "source_version" in names:
        columns["source_version"] = page.texts(VERSION_SOURCES, "@odata.etag").values


def _scrub(plan: ListPlan, columns: dict[str, pa.Array], log: ProblemLog) -> None:
    """Free text scrubbed; the texts problems will show go through the same scrubber call (its cost is
    mostly per call), so the report finds them remembered."""
    names = [one.targets[0].name for one in plan.columns if one.treatment == "scrub"]
    message = "personal details in the text were replaced by placeholders"
    shown = pa.array(log.texts_to_show(), pa.string())
    scrubbed_columns = scrub_free_text([*(columns[name] for name in names), shown])[:-1]
    for name, (scrubbed, changed) in zip(names, scrubbed_columns, strict=True):
        columns[name] = scrubbed
        log.add(plan.table.name, name, PERSONAL_DETAIL_REMOVED, message, changed)


def _assemble(table: Table, columns: Mapping[str, pa.Array], rows: int) -> pa.Table:
    """Every model column in model order, storage types, nullable (validation reports what is missing)."""
    fields = [arrow_field(column).with_nullable(True) for column in table.columns]
    arrays = [
        columns[column.name].cast(field_.type) if column.name in columns else pa.nulls(rows, field_.type)
        for column, field_ in zip(table.columns, fields, strict=True)
    ]
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata={"table": table.name}))


def _bridge(one: ColumnPlan, parent_key: str, keys: pa.Array, lists: pa.Array) -> pa.Table:
    """One row per (item, value); empty values (flagged on the item) are left out; rank from position."""
    flat = pc.list_flatten(lists)
    parents = pc.list_parent_indices(lists)
    offsets = np.asarray(lists.offsets.to_numpy(zero_copy_only=False), dtype=np.int64)
    starts = offsets[np.asarray(parents.to_numpy(zero_copy_only=False), dtype=np.int64)] - offsets[0]
    positions = pa.array(np.arange(len(flat), dtype=np.int64) - starts + 1)
    present = pc.is_valid(flat)
    columns = {parent_key: keys.take(parents).filter(present), one.targets[0].name: flat.filter(present)}
    if one.rank is not None:
        columns[one.rank.name] = positions.filter(present)
    return _assemble(one.home, columns, len(columns[parent_key]))
