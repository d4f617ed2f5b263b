"""What one load posts: the staged tables compared with what is committed, as new versions and tombstones.

Pure and columnar. The unit of change is an *entity*: a versioned row with the rows of its with_parent
tables (an event and its officers, communities and issues). An entity is posted again, as a new version
under the load's id, when its hash differs from the committed one. The hash covers the published values
and the version refs of the rows it names, so a dimension row's new version makes the facts naming it post
again pointing at it (the cascade that keeps every shown fact joined to a shown dimension row).

A key committed before and no longer staged gets a tombstone row. A table restated whole (`full`: the
dataset's contents are unknown, or an uncertain load restated it) posts every key with new refs; a table
emptied first (`reload`: compaction, or the redo of one) posts every key and keeps the refs of unchanged
keys, so nothing that names them has to change. How a posted row is built (published columns, publish
columns, tombstones, row hashes): powerbi_dataset/posted_rows.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from errors import PublishError
from powerbi_dataset.keys import column_key_texts, fingerprint, key_texts
from powerbi_dataset.posted_rows import (
    as_objects,
    published_data,
    row_hashes,
    tombstone_rows,
    with_publish_columns,
)
from powerbi_dataset.schema import LOAD_SEQ_COLUMN, TOMBSTONE_COLUMN, Dataset, Table
from powerbi_dataset.versioning import (
    Reference,
    own_ref_column,
    parent_reference,
    publish_order,
    references,
    version_ref,
)

VERSION_COLUMNS = ("key", "hash", "ref", "tombstone")


@dataclass(frozen=True)
class LoadRequest:
    """The load to plan: its identity and what the publish state asks of it."""

    load_id: str
    load_seq: int
    full: frozenset[str] = frozenset()  # versioned tables restated whole, with new refs
    reload: frozenset[str] = frozenset()  # tables emptied before the load: every row posted, refs kept
    forced: Mapping[str, frozenset[str]] = field(default_factory=dict)  # keys an uncertain load touched


@dataclass(frozen=True)
class TableLoad:
    """The rows one table receives in a load (versions first, then tombstones), with the publish columns."""

    table: str
    rows: pa.Table
    tombstones: int
    versions: pd.DataFrame | None  # key, hash, ref, tombstone per posted key (versioned tables only)


@dataclass(frozen=True)
class LoadChanges:
    request: LoadRequest
    tables: tuple[TableLoad, ...]  # in publish order; tables with nothing to post are left out
    skipped: tuple[str, ...]  # published tables with no staged file: left as they are

    @property
    def rows(self) -> int:
        return sum(item.rows.num_rows for item in self.tables)


def empty_versions() -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "hash": pd.Series([], dtype="uint64"),
            "ref": pd.Series([], dtype="string"),
        }
    )
    frame.index = pd.Index([], dtype="string", name="key")
    return frame


def plan_load(
    dataset: Dataset,
    staged: Mapping[str, pa.Table],
    committed: Mapping[str, pd.DataFrame],
    request: LoadRequest,
) -> LoadChanges:
    """The load's rows per table. `committed[table]`: index key, columns hash (uint64) and ref."""
    refs: dict[str, pd.Series] = {}
    loads: list[TableLoad] = []
    skipped: list[str] = []
    for table in publish_order(dataset):
        if table.publish_mode != "versioned":
            continue
        baseline = committed.get(table.name, empty_versions())
        children = dataset.children(table.name)
        if table.name not in staged:
            refs[table.name] = baseline["ref"]
            skipped += [table.name, *(child.name for child in children)]
            continue
        missing = [child.name for child in children if child.name not in staged]
        if missing:
            raise PublishError(
                f"{table.name} is staged but {', '.join(missing)} is not; their rows are published together",
                hint="run the sync again so every table of the list is staged",
            )
        entity = _Entity(dataset, table, staged, refs, request)
        loads += entity.plan(baseline)
        refs[table.name] = entity.current_refs
    return LoadChanges(request, tuple(load for load in loads if load.rows.num_rows), tuple(skipped))


class _Entity:
    """One versioned table and its with_parent tables, compared and turned into rows to post."""

    def __init__(
        self,
        dataset: Dataset,
        table: Table,
        staged: Mapping[str, pa.Table],
        refs: Mapping[str, pd.Series],
        request: LoadRequest,
    ) -> None:
        self.dataset, self.table, self.staged, self.refs, self.request = dataset, table, staged, refs, request
        self.data = published_data(table, staged[table.name])
        self.keys = key_texts(table, self.data)
        _refuse_bad_keys(table, self.keys)
        self.ref_values = {
            ref.column: self._resolve(table, self.data, ref) for ref in references(table, dataset)
        }
        self.current_refs = pd.Series([], dtype="string")

    def _resolve(self, table: Table, data: pa.Table, ref: Reference) -> pd.Series:
        """The ref of the version each row's foreign key names, as it stands after this load's earlier tables."""
        target = self.dataset.table(ref.relationship.to_table)
        texts = column_key_texts(target.column(target.key[0]), data.column(ref.relationship.from_column))
        if target.name == self.table.name:  # a with_parent row names its parent's version in this load
            known = self.current_refs
        else:
            known = self.refs.get(target.name, pd.Series([], dtype="string"))
        return pd.Series(texts.map(known), dtype="string")

    def plan(self, baseline: pd.DataFrame) -> list[TableLoad]:
        name, request = self.table.name, self.request
        hashes = self._entity_hashes()
        keys = hashes.index
        at = baseline.index.get_indexer(keys)  # -1: not committed before
        known = at >= 0
        committed_hash = baseline["hash"].to_numpy(dtype="uint64")
        committed_ref = as_objects(baseline["ref"])
        same = (
            known & (committed_hash[np.where(known, at, 0)] == hashes.to_numpy()) if len(baseline) else known
        )
        forced = keys.isin(request.forced.get(name, frozenset()))
        whole = name in request.full or name in request.reload
        post = np.ones(len(keys), dtype=bool) if whole else ~same | forced
        gone = [] if whole else sorted((set(baseline.index) | set(request.forced.get(name, ()))) - set(keys))
        key_list = keys.to_numpy(dtype=object).tolist()
        refs = np.array([version_ref(request.load_id, key) for key in key_list], dtype=object)
        kept = np.zeros(len(keys), dtype=bool)
        if name in request.reload and name not in request.full:  # compaction: unchanged keys keep their refs
            kept = same & ~forced
            refs[kept] = committed_ref[at[kept]]
        previous = committed_ref[np.where(known, at, 0)] if len(baseline) else np.full(len(keys), None)
        current = np.where(post, refs, previous)
        self.current_refs = pd.Series(current, index=keys, dtype="string")
        positions = np.flatnonzero(post)
        own = own_ref_column(self.table, self.dataset)
        rows = self._rows(positions, refs[positions], own)
        versions = pd.DataFrame(
            {
                "key": np.array(key_list, dtype=object)[positions].tolist() + gone,
                "hash": np.concatenate([hashes.to_numpy()[positions], np.zeros(len(gone), dtype="uint64")]),
                "ref": refs[positions].tolist() + [version_ref(request.load_id, key) for key in gone],
                "tombstone": [False] * len(positions) + [True] * len(gone),
            }
        )
        table_rows = (
            pa.concat_tables(
                [
                    rows,
                    tombstone_rows(
                        self.table,
                        self.dataset,
                        gone,
                        own,
                        list(self.ref_values),
                        self.request.load_id,
                        self.request.load_seq,
                    ),
                ]
            )
            if gone
            else rows
        )
        loads = [TableLoad(name, table_rows, len(gone), versions)]
        # with_parent rows go with every new version; a version whose ref was kept keeps its stored children
        changed_keys = set(keys[post & ~kept])
        for child in self.dataset.children(name):
            loads.append(self._child_rows(child, changed_keys))
        return loads

    def _entity_hashes(self) -> pd.Series:
        """Per key: a hash of the row, the refs it holds and its with_parent rows (order-independent)."""
        parts = {"row": row_hashes(self.table, self.data, self.ref_values)}
        for child in self.dataset.children(self.table.name):
            data, link, owners = self._child_data(child)
            values = {
                ref.column: self._resolve(child, data, ref)
                for ref in references(child, self.dataset)
                if ref != link
            }
            hashes = pd.Series(row_hashes(child, data, values).to_numpy(), index=owners)
            grouped = hashes.groupby(level=0)
            sums, counts = grouped.sum(), grouped.size()
            parts[f"{child.name}:sum"] = pd.Series(
                sums.reindex(self.keys, fill_value=0).to_numpy(dtype="uint64")
            )
            parts[f"{child.name}:count"] = pd.Series(
                counts.reindex(self.keys, fill_value=0).to_numpy(dtype="uint64")
            )
        combined = pd.util.hash_pandas_object(pd.DataFrame(parts), index=False)
        return pd.Series(combined.to_numpy(), index=pd.Index(self.keys, name="key"))

    def _rows(self, positions: np.ndarray, refs: np.ndarray, own: str | None) -> pa.Table:
        data = self.data.take(pa.array(positions, pa.int64()))
        extra: dict[str, pa.Array] = {
            LOAD_SEQ_COLUMN: pa.array([self.request.load_seq] * len(positions), pa.int64()),
            TOMBSTONE_COLUMN: pa.array([False] * len(positions), pa.bool_()),
        }
        if own is not None:
            extra[own] = pa.array(refs, pa.string())
        for column, values in self.ref_values.items():
            extra[column] = pa.array(as_objects(values.iloc[positions]), pa.string())
        return with_publish_columns(self.table, self.dataset, data, extra, self.request.load_id)

    def _child_data(self, child: Table) -> tuple[pa.Table, Reference, pd.Series]:
        """A with_parent table's published rows, the reference to its parent, and each row's parent key."""
        data = published_data(child, self.staged[child.name])
        link = parent_reference(child, self.dataset)
        assert link is not None
        owners = column_key_texts(
            child.column(link.relationship.from_column), data.column(link.relationship.from_column)
        )
        return data, link, owners

    def _child_rows(self, child: Table, changed_keys: set[str]) -> TableLoad:
        data, _, owners = self._child_data(child)
        every = child.name in self.request.reload or child.name in self.request.full
        keep = np.ones(data.num_rows, dtype=bool) if every else owners.isin(changed_keys).to_numpy()
        positions = np.flatnonzero(keep)
        data = data.take(pa.array(positions, pa.int64()))
        extra: dict[str, pa.Array] = {
            LOAD_SEQ_COLUMN: pa.array([self.request.load_seq] * len(positions), pa.int64())
        }
        for ref in references(child, self.dataset):
            values = self._resolve(child, data, ref)
            extra[ref.column] = pa.array(as_objects(values), pa.string())
        return TableLoad(
            child.name, with_publish_columns(child, self.dataset, data, extra, self.request.load_id), 0, None
        )


def _refuse_bad_keys(table: Table, keys: pd.Series) -> None:
    if keys.isna().any():
        raise PublishError(
            f"staged {table.name} has {int(keys.isna().sum())} row(s) with an empty key",
            hint="staged tables hold validated rows only: run the sync again",
        )
    repeated = keys[keys.duplicated()]
    if len(repeated):
        raise PublishError(
            f"staged {table.name} repeats {len(repeated)} key(s), e.g. key fingerprint {fingerprint(str(repeated.iloc[0]))}",
            hint="staged tables hold one row per key: run the sync again",
        )
