"""The columns publish adds to each table, derived from its publish mode and the relationships (never per table).

A push dataset has no upsert, so a changed row is posted again as a new *version* (docs/publishing.md):

- every published row carries `load_seq`, the sequence number of the load that posted it (and `load_id`,
  the model's lineage column, the same load's id);
- a `versioned` table's rows carry `tombstone`: true on the row that says "this key was deleted at source";
- a table on the one side of a relationship carries `{key}_ref` = "{load_id}:{key}", unique among all the
  rows it ever holds, because each load posts a key at most once; relationships join on it;
- a table on the many side carries `{column}_ref` for each relationship it starts: the ref of the version
  of the row it names (a bridge row: its parent's version in the same load; a fact: the dimension's
  current version).

So relationships stay valid however many loads' rows coexist, and the routing (powerbi_dataset/routing.py)
picks which versions a report sees.
"""

from __future__ import annotations

from dataclasses import dataclass

from powerbi_dataset.schema import (
    LOAD_SEQ_COLUMN,
    REF_SUFFIX,
    TOMBSTONE_COLUMN,
    Column,
    Dataset,
    Relationship,
    Table,
    publish_column_names,
)

KEY_SEPARATOR = "\x1f"  # between the parts of a composite key (unit separator: never in a code or id)


@dataclass(frozen=True)
class Reference:
    """One relationship a table starts: its ref column holds the ref of the row `relationship` names."""

    relationship: Relationship
    column: str  # the many side's ref column, e.g. created_by_officer_key_ref
    to_column: str  # the one side's ref column, e.g. officer_key_ref


def version_ref(load_id: str, key: str) -> str:
    """The ref of one version of a row: unique across loads, as a load posts each key at most once."""
    return f"{load_id}:{key}"


def own_ref_column(table: Table, dataset: Dataset) -> str | None:
    """`{key}_ref` when the table is the one side of a relationship, else None."""
    if table.publish_mode == "versioned" and dataset.is_referenced(table.name) and len(table.key) == 1:
        return table.key[0] + REF_SUFFIX
    return None


def references(table: Table, dataset: Dataset) -> tuple[Reference, ...]:
    return tuple(
        Reference(item, item.from_column + REF_SUFFIX, item.to_column + REF_SUFFIX)
        for item in dataset.relationships_from(table.name)
    )


def parent_reference(table: Table, dataset: Dataset) -> Reference | None:
    """A with_parent table's reference to its parent (its version travels with the parent's)."""
    return next(
        (ref for ref in references(table, dataset) if ref.relationship.to_table == table.parent), None
    )


def publish_columns(table: Table, dataset: Dataset) -> tuple[Column, ...]:
    """The columns publish adds after the table's published columns, as declarations (hidden in reports)."""
    described = {
        LOAD_SEQ_COLUMN: Column(
            LOAD_SEQ_COLUMN, "Int64", "Sequence number of the load that posted the row (set by publish)"
        ),
        TOMBSTONE_COLUMN: Column(
            TOMBSTONE_COLUMN,
            "Boolean",
            "True on the row that records the key's deletion at source as of its load (set by publish)",
        ),
    }
    own = own_ref_column(table, dataset)
    if own is not None:
        described[own] = Column(
            own,
            "String",
            "Version of the row, {load_id}:{key}; the one side of relationships (set by publish)",
        )
    for ref in references(table, dataset):
        target = ref.relationship
        described[ref.column] = Column(
            ref.column,
            "String",
            f"Version ref of the {target.to_table} row {target.from_column} names; joins "
            f"{target.to_table}.{ref.to_column} (set by publish)",
        )
    return tuple(described[name] for name in publish_column_names(table, dataset))


def publish_order(dataset: Dataset) -> tuple[Table, ...]:
    """Published row tables, each after the tables it or its with_parent tables reference: a row's refs
    need the refs of the rows it names. A with_parent table follows its parent."""
    tables = [table for table in dataset.published_tables if table.publish_mode != "control"]

    def needs(table: Table) -> set[str]:
        family = (table, *dataset.children(table.name))
        named = {ref.relationship.to_table for item in family for ref in references(item, dataset)}
        return named - {table.name} | ({table.parent} if table.parent else set())

    done: list[Table] = []
    names: set[str] = set()
    while len(done) < len(tables):
        ready = [table for table in tables if table.name not in names and needs(table) <= names]
        if not ready:
            raise ValueError("the relationships form a cycle; publish cannot order the tables")
        done += ready
        names.update(table.name for table in ready)
    return tuple(done)
