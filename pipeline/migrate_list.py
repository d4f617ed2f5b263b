"""`cetk migrate forms --to list`: migrated responses as new items of the live CCR list, once each.

Each item carries its migration key (`forms:{form}:{response ID}`) in the key column (the list's Title by
default: every list has it, and the demo mapping ignores it). Before writing, the keys already in the list
are read, so a rerun creates nothing and a run killed part-way resumes where it stopped. The list mapping
says how each canonical value is written: a code as its choice label, an LPT code as the LPTs item it
looks up, a date-time in UTC. Person columns are left empty: a pseudonymous officer key cannot be turned
back into an account (by design), and ward terms need a term-store id the Forms never gave.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from config.settings import Settings
from connectors.auth import SignIn, sign_in_config_from_settings
from connectors.graph_batch import BatchResult, GraphBatch
from connectors.graph_lists import GraphLists
from connectors.http import build_session
from errors import ConfigError
from pipeline.migrate_rows import MappedRows, RowIssue
from pipeline.progress import MigrateProgress, OnProgress
from transforms.forms_mapping import RESPONSE_KEY_TEMPLATE
from transforms.list_mapping import ColumnMapping, ListMapping, SiteMapping, load_mapping

KEY_COLUMN = "Title"
KEY_PREFIX = RESPONSE_KEY_TEMPLATE.split("{", 1)[0]  # "forms:": only such values are migration keys
UNWRITABLE_TYPES = frozenset({"person", "multiperson", "term", "multiterm", "location", "hyperlink"})


@dataclass
class ListTarget:
    """The live list and how to write it: Graph reader and batch writer, the mapping, the lookups."""

    lists: GraphLists
    batch: GraphBatch
    site_id: str
    list_id: str
    mapping: ListMapping
    lookup_ids: dict[str, dict[str, str]] = field(default_factory=dict)  # list -> canonical key -> item id
    key_column: str = KEY_COLUMN

    def existing_keys(self) -> frozenset[str]:
        """Migration keys already in the list (read in full: the list view threshold rules out a filter)."""
        keys: set[str] = set()
        for page in self.lists.iter_item_pages(self.site_id, self.list_id, [self.key_column]):
            for item in page.items:
                value = (item.get("fields") or {}).get(self.key_column)
                if isinstance(value, str) and value.startswith(KEY_PREFIX):
                    keys.add(value)
        return frozenset(keys)


@dataclass(frozen=True)
class ListWrite:
    created: int
    failed: tuple[RowIssue, ...]


def connect_list(
    settings: Settings, list_mapping: Path, *, sleep: Callable[[float], None] = time.sleep
) -> ListTarget:
    """Sign in, find the site and the CCR list, and read the lookup lists' keys."""
    host, path = settings.sharepoint_host, settings.sharepoint_site_path
    if not host or not path:
        raise ConfigError(
            "setting 'sharepoint.site_url' is not set", hint="set it in cetk.yaml or CETK_SHAREPOINT_SITE_URL"
        )
    site_mapping = read_list_mapping(list_mapping)
    sign_in = SignIn(sign_in_config_from_settings(settings), sleep=sleep)
    session = build_session(
        sign_in.token_provider("graph"),
        user_agent=settings.user_agent,
        ca_bundle=settings.ca_bundle,
        sleep=sleep,
    )
    lists = GraphLists(session, settings.endpoints.graph)
    site = lists.site_by_path(host, path)
    batch = GraphBatch(session, settings.endpoints.graph, sleep=sleep)
    return open_target(lists, batch, site.id, site_mapping, settings.lists.ccr)


def read_list_mapping(path: Path) -> SiteMapping:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(
            f"cannot read the list mapping {path}: {error.strerror}", hint="check the path"
        ) from error
    return load_mapping(text, str(path))


def open_target(
    lists: GraphLists, batch: GraphBatch, site_id: str, site_mapping: SiteMapping, list_name: str
) -> ListTarget:
    """The target list by display name, with the item ids of every list its mapped lookups point to."""
    mapping = next((one for one in site_mapping.lists if one.display_name == list_name), None)
    if mapping is None:
        raise ConfigError(f"the list mapping does not map the list '{list_name}'", hint="check lists.ccr")
    live = lists.list_by_name(site_id, list_name)
    lookup_ids: dict[str, dict[str, str]] = {}
    for column in mapping.columns:
        if column.lookup_list and not column.is_ignored and column.lookup_list not in lookup_ids:
            lookup_ids[column.lookup_list] = _lookup_ids(lists, site_id, site_mapping, column.lookup_list)
    return ListTarget(lists, batch, site_id, live.id, mapping, lookup_ids)


def _lookup_ids(lists: GraphLists, site_id: str, site_mapping: SiteMapping, name: str) -> dict[str, str]:
    """Canonical key -> item id of a lookup list, from the column its mapping feeds the key from."""
    looked_up = next(one for one in site_mapping.lists if one.display_name == name)
    key_column = next((c for c in looked_up.columns if looked_up.key in c.to and not c.is_ignored), None)
    if key_column is None:  # keyed by item: sp:{list}:{id} keys never come from Forms
        return {}
    live = lists.list_by_name(site_id, name)
    found: dict[str, str] = {}
    for page in lists.iter_item_pages(site_id, live.id, [key_column.name]):
        for item in page.items:
            value = (item.get("fields") or {}).get(key_column.name)
            if value is not None:
                found[str(value)] = str(item["id"])
    return found


def write_items(
    target: ListTarget, rows: MappedRows, present: frozenset[str], on_progress: OnProgress
) -> ListWrite:
    """Create an item for each valid response not yet in the list, 20 to a `$batch`."""
    table = rows.valid.get(target.mapping.table)
    if table is None:
        return ListWrite(0, ())
    records = [record for record in table.to_pylist() if record[target.mapping.key] not in present]
    bridges = _bridge_values(rows.valid, target.mapping)
    items = [item_fields(record, target, bridges) for record in records]
    done = 0

    def on_batch(results: Sequence[BatchResult]) -> None:
        nonlocal done
        done += len(results)
        on_progress(MigrateProgress("write", done, len(items), "list"))

    results = target.batch.create_items(target.site_id, target.list_id, items, on_batch=on_batch)
    failed = tuple(
        RowIssue(
            "",
            0,
            str(records[result.index][target.mapping.key]),
            "",
            f"list-write-{result.status}",
            f"the list refused the item ({result.error_code})",
        )  # fmt: skip
        for result in results
        if not result.created
    )
    return ListWrite(sum(1 for result in results if result.created), failed)


def item_fields(
    record: Mapping[str, Any], target: ListTarget, bridges: Mapping[str, Mapping[str, list[str]]]
) -> dict[str, Any]:
    """The item's `fields` body: its migration key, and each mapped column the response gives a value."""
    key = str(record[target.mapping.key])
    fields: dict[str, Any] = {target.key_column: key}
    for column in target.mapping.columns:
        if column.is_ignored or column.type in UNWRITABLE_TYPES or not column.to:
            continue
        if column.bridge is not None:
            codes = bridges.get(column.bridge, {}).get(key, [])
            if codes:
                labels = _labels(column)
                fields[column.name] = [labels.get(code, code) for code in codes]
                fields[f"{column.name}@odata.type"] = "Collection(Edm.String)"
            continue
        value = record.get(column.to[0])
        if value is None:
            continue
        written = _write_value(column, value, target)
        if written is not None:
            name = f"{column.name}LookupId" if column.type in ("lookup",) else column.name
            fields[name] = written
    return fields


def _write_value(column: ColumnMapping, value: Any, target: ListTarget) -> Any:
    if column.type == "choice":
        return _labels(column).get(str(value), str(value))
    if column.type == "lookup":
        return target.lookup_ids.get(str(column.lookup_list), {}).get(str(value))
    if column.type == "dateTime":
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if column.type == "dateOnly":
        return value.strftime("%Y-%m-%d")
    if column.type in ("boolean", "number", "currency", "text", "note"):
        return value
    return None


def _labels(column: ColumnMapping) -> dict[str, str]:
    """Code -> the first label the mapping gives it (the label the app offers)."""
    labels: dict[str, str] = {}
    for label, code in column.choices:
        labels.setdefault(code, label)
    return labels


def _bridge_values(valid: Mapping[str, pa.Table], mapping: ListMapping) -> dict[str, dict[str, list[str]]]:
    found: dict[str, dict[str, list[str]]] = {}
    for column in mapping.columns:
        if column.bridge is None or column.bridge not in valid or not column.to:
            continue
        table = valid[column.bridge]
        parents = table.column(mapping.key).to_pylist()
        values = table.column(column.to[0]).to_pylist()
        per: dict[str, list[str]] = {}
        for parent, value in zip(parents, values, strict=True):
            per.setdefault(str(parent), []).append(str(value))
        found[column.bridge] = per
    return found
