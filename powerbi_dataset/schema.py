"""Types for declaring the canonical dataset once: columns, tables, rules, relationships, measures.

Everything else is derived from a `Dataset` value: the Arrow schemas and the Power BI push definition
(derive.py, with the kind table in kinds.py), the data dictionary (dictionary.py) and the validation
(transforms/validate.py reads the same objects; the cross-field rule types are in rules.py). The
declaration checks the service limits itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal, get_args

from errors import ModelError
from powerbi_dataset.rules import CountNotAbove, Rule

Kind = Literal["Int64", "Double", "Boolean", "DateTime", "String", "Decimal"]
KINDS: tuple[Kind, ...] = get_args(Kind)
PersonalDataClass = Literal["none", "personal", "special-category"]
# How publish writes a table (docs/publishing.md): "versioned" rows are posted as new versions of their key
# in a load and shown through the latest committed load; "with_parent" rows (bridges) are posted with
# their parent's version and shown with it; "control" is the commit ledger `_loads` itself.
PublishMode = Literal["versioned", "with_parent", "control"]

# Power BI push limits, learn.microsoft.com/power-bi/developer/embedded/push-datasets-limitations
MAX_TABLES = 75
MAX_COLUMNS_PER_TABLE = 75
MAX_RELATIONSHIPS = 75
MAX_STRING_CHARS = 4_000
# Table/relationship name pattern from the swagger's definitions.Table.name (ECMA \u10000 written out).
TABLE_NAME_PATTERN = re.compile(
    r"^[\x09\x0a\x0d\x20\x23\x2d\x30-\x39\x40-\x5a\x5e-\x5f\x61-\x7a\x7e-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]{1,100}$"
)
COLUMN_NAME_PATTERN = re.compile(r"^[\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]+$")


@dataclass(frozen=True)
class Code:
    """One allowed value of an enumerated column: a stable code and its display label."""

    code: str
    label: str


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    description: str
    required: bool = False
    codes: tuple[Code, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    pattern: str | None = None  # a regular expression the whole text value must match
    personal: PersonalDataClass = "none"
    published: bool = True  # False keeps the column out of every Power BI table
    date_only: bool = False  # a DateTime that holds a calendar date (midnight, no time of day)
    is_multi: bool = False  # declared for bridge-table sources; the column itself is single-valued
    format_string: str | None = None
    data_category: str | None = None
    summarize_by: str | None = None

    @property
    def code_values(self) -> frozenset[str]:
        return frozenset(code.code for code in self.codes)

    @property
    def safe_to_show(self) -> bool:
        """Whether a valid value of this column says nothing about a person: a code, a patterned public code
        (ONS), a date, a number or a flag, in a column not marked personal. Free text and ids are never
        safe; transforms/masking.py still checks each value's shape before showing it."""
        if self.personal != "none":
            return False
        if self.kind == "String":
            return bool(self.codes) or self.pattern is not None
        return True

    @property
    def effective_max_length(self) -> int | None:
        """Declared maximum, never above the Power BI string cap."""
        if self.kind != "String":
            return None
        return min(self.max_length or MAX_STRING_CHARS, MAX_STRING_CHARS)


@dataclass(frozen=True)
class Relationship:
    """A many-to-one link: from_table.from_column (foreign key) -> to_table.to_column (key)."""

    from_table: str
    from_column: str
    to_table: str
    to_column: str
    cross_filtering: Literal["OneDirection", "BothDirections", "Automatic"] = "OneDirection"

    @property
    def name(self) -> str:
        return f"{self.from_table}-{self.from_column}-{self.to_table}"


@dataclass(frozen=True)
class Measure:
    name: str
    table: str
    expression: str
    description: str
    format_string: str | None = None


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    rules: tuple[Rule, ...] = ()
    row_level: bool = True  # False for pre-aggregated tables published under disclosure control
    published: bool = True
    publish_mode: PublishMode = "versioned"
    parent: str | None = None  # with_parent: the versioned table whose versions carry this table's rows

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"table {self.name!r} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)

    @property
    def published_columns(self) -> tuple[Column, ...]:
        return tuple(column for column in self.columns if column.published)


@dataclass(frozen=True)
class Dataset:
    name: str
    tables: tuple[Table, ...]
    relationships: tuple[Relationship, ...] = ()
    measures: tuple[Measure, ...] = ()
    _by_name: dict[str, Table] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {table.name: table for table in self.tables})
        for problem in iter_declaration_problems(self):
            raise ModelError(f"model {self.name!r}: {problem}")

    def table(self, name: str) -> Table:
        try:
            return self._by_name[name]
        except KeyError:
            raise ModelError(
                f"no table {name!r} in the model", hint=f"tables are: {', '.join(self._by_name)}"
            ) from None

    @property
    def published_tables(self) -> tuple[Table, ...]:
        return tuple(table for table in self.tables if table.published)

    def relationships_from(self, table: str) -> tuple[Relationship, ...]:
        """The relationships whose many side is `table`, in declaration order."""
        return tuple(item for item in self.relationships if item.from_table == table)

    def is_referenced(self, table: str) -> bool:
        """Whether `table` is the one side of a relationship (so its key needs a version ref)."""
        return any(item.to_table == table for item in self.relationships)

    def children(self, table: str) -> tuple[Table, ...]:
        """The with_parent tables whose rows travel with `table`'s versions."""
        return tuple(item for item in self.tables if item.parent == table)


def iter_declaration_problems(dataset: Dataset) -> Iterator[str]:
    """Every way the declaration breaks a service limit or its own consistency."""
    if len(dataset.published_tables) > MAX_TABLES:
        yield f"{len(dataset.published_tables)} published tables, Power BI allows {MAX_TABLES}"
    if len(dataset.relationships) > MAX_RELATIONSHIPS:
        yield f"{len(dataset.relationships)} relationships, Power BI allows {MAX_RELATIONSHIPS}"
    names = [table.name for table in dataset.tables]
    if len(set(names)) != len(names):
        yield "table names repeat"
    for table in dataset.tables:
        yield from _iter_table_problems(table, dataset)
    for relationship in dataset.relationships:
        yield from _iter_relationship_problems(relationship, dataset)
    for measure in dataset.measures:
        if measure.table not in dataset._by_name or not dataset._by_name[measure.table].published:
            yield f"measure {measure.name!r} sits on {measure.table!r}, which is not a published table"
    yield from _iter_publish_mode_problems(dataset)


def _iter_table_problems(table: Table, dataset: Dataset) -> Iterator[str]:
    where = f"table {table.name!r}"
    if not TABLE_NAME_PATTERN.match(table.name):
        yield f"{where}: name does not match Power BI's table name pattern (1-100 chars, no . , / ( ) etc.)"
    if len(table.published_columns) > MAX_COLUMNS_PER_TABLE:
        yield f"{where}: {len(table.published_columns)} published columns, Power BI allows {MAX_COLUMNS_PER_TABLE}"
    column_names = table.column_names
    if len(set(column_names)) != len(column_names):
        yield f"{where}: column names repeat"
    for column in table.columns:
        yield from _iter_column_problems(column, where)
        if table.published and table.row_level and column.published and column.personal == "special-category":
            yield (
                f"{where}: special-category column {column.name!r} would be published at row level; "
                "set published=False and publish it only through an aggregated table"
            )
    for key in table.key:
        if key not in column_names:
            yield f"{where}: key column {key!r} is not declared"
    for rule in table.rules:
        for name in rule.inputs:
            if name not in column_names:
                yield f"{where}: rule {rule.code!r} names unknown column {name!r}"
        if isinstance(rule, CountNotAbove) and rule.child_table not in dataset._by_name:
            yield f"{where}: rule {rule.code!r} names unknown table {rule.child_table!r}"


def _iter_column_problems(column: Column, where: str) -> Iterator[str]:
    if column.kind not in KINDS:
        yield f"{where}: column {column.name!r} has unknown kind {column.kind!r}"
    if not COLUMN_NAME_PATTERN.match(column.name):
        yield f"{where}: column {column.name!r} does not match Power BI's column name pattern"
    if column.codes and column.kind != "String":
        yield f"{where}: column {column.name!r} declares codes but is not a String"
    if column.max_length is not None and column.max_length > MAX_STRING_CHARS:
        yield f"{where}: column {column.name!r} max_length {column.max_length} exceeds {MAX_STRING_CHARS}"
    if column.date_only and column.kind != "DateTime":
        yield f"{where}: column {column.name!r} is date_only but not a DateTime"
    if not column.description.strip():
        yield f"{where}: column {column.name!r} has no description"


def _iter_relationship_problems(relationship: Relationship, dataset: Dataset) -> Iterator[str]:
    if not TABLE_NAME_PATTERN.match(relationship.name):
        yield f"relationship {relationship.name!r}: name does not match Power BI's pattern"
    for table_name, column_name in (
        (relationship.from_table, relationship.from_column),
        (relationship.to_table, relationship.to_column),
    ):
        table = dataset._by_name.get(table_name)
        if table is None or not table.published:
            yield f"relationship {relationship.name!r}: {table_name!r} is not a published table"
        elif column_name not in table.column_names or not table.column(column_name).published:
            yield f"relationship {relationship.name!r}: {table_name}.{column_name} is not a published column"
    to_table = dataset._by_name.get(relationship.to_table)
    if to_table is not None and to_table.key != (relationship.to_column,):
        yield f"relationship {relationship.name!r}: {relationship.to_column!r} is not the key of {to_table.name!r}"


# Columns publish adds to a table (powerbi_dataset/versioning.py renders them): the load's sequence number,
# the tombstone flag of a versioned table, and one ref column per relationship end the table takes part in.
LOAD_SEQ_COLUMN = "load_seq"
TOMBSTONE_COLUMN = "tombstone"
REF_SUFFIX = "_ref"


def publish_column_names(table: Table, dataset: Dataset) -> tuple[str, ...]:
    """Names of the columns publish adds to `table` (after its published columns), in order."""
    if table.publish_mode == "control":
        return ()
    names = [LOAD_SEQ_COLUMN]
    if table.publish_mode == "versioned":
        names.append(TOMBSTONE_COLUMN)
        if dataset.is_referenced(table.name) and len(table.key) == 1:
            names.append(table.key[0] + REF_SUFFIX)
    names += [item.from_column + REF_SUFFIX for item in dataset.relationships_from(table.name)]
    return tuple(names)


def _iter_publish_mode_problems(dataset: Dataset) -> Iterator[str]:
    """The publish modes hold together: versions can be routed and relationships joined on version refs."""
    controls = [table.name for table in dataset.published_tables if table.publish_mode == "control"]
    if len(controls) > 1:
        yield f"more than one control table: {', '.join(controls)}"
    for table in dataset.published_tables:
        where = f"table {table.name!r}"
        added = publish_column_names(table, dataset)
        clashes = sorted(set(added) & set(table.column_names))
        if clashes or len(set(added)) != len(added):
            yield f"{where}: publish adds columns that clash with declared ones: {', '.join(clashes or added)}"
        if len(table.published_columns) + len(added) > MAX_COLUMNS_PER_TABLE:
            yield (
                f"{where}: {len(table.published_columns)} published columns and {len(added)} publish columns, "
                f"Power BI allows {MAX_COLUMNS_PER_TABLE}"
            )
        yield from _iter_parent_problems(table, dataset, where)
        if table.publish_mode == "control" and (
            dataset.relationships_from(table.name) or dataset.is_referenced(table.name)
        ):
            yield f"{where}: the control table takes part in no relationship"
    for relationship in dataset.relationships:
        to_table = dataset._by_name.get(relationship.to_table)
        if to_table is not None and to_table.publish_mode != "versioned":
            yield (
                f"relationship {relationship.name!r}: its one side {to_table.name!r} must be versioned, "
                "so that its key can be made unique across loads"
            )


def _iter_parent_problems(table: Table, dataset: Dataset, where: str) -> Iterator[str]:
    if table.publish_mode != "with_parent":
        if table.parent is not None:
            yield f"{where}: only a with_parent table names a parent"
        return
    parent = dataset._by_name.get(table.parent or "")
    if parent is None or not parent.published or parent.publish_mode != "versioned":
        yield f"{where}: with_parent needs a parent that is a published versioned table"
        return
    links = [item for item in dataset.relationships_from(table.name) if item.to_table == parent.name]
    if len(links) != 1:
        yield f"{where}: needs exactly one relationship to its parent {parent.name!r}"
    elif table.key[:1] != (links[0].from_column,):
        yield f"{where}: its key must start with {links[0].from_column!r}, the column that names its parent"
