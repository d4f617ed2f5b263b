"""The declaration refuses what Power BI would refuse, and the Arrow schemas follow the declaration."""

from __future__ import annotations

import datetime as dt
import decimal

import pandas as pd
import pyarrow as pa
import pytest

from errors import ModelError
from powerbi_dataset.derive import arrow_schema
from powerbi_dataset.kinds import KIND_TYPES
from powerbi_dataset.model import DATASET, lineage
from powerbi_dataset.schema import KINDS, Column, Dataset, Relationship, Table


def letters(i: int) -> str:
    """A distinct, letters-only table name (so limit tests don't depend on the name pattern)."""
    return "t" + chr(97 + i // 26) + chr(97 + i % 26)


def table(name: str, columns: int = 2, **kwargs: object) -> Table:
    cols = tuple(Column(col(i), "String", f"column {i}", required=i == 0) for i in range(columns))
    return Table(name, f"table {name}", cols, key=(col(0),), **kwargs)


def col(i: int) -> str:
    return "c" + letters(i)[1:]  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["t1", "table 2024", "_loads", "a-b#c@d^e~f", "Événements"])
def test_good_table_name_accepted(name: str) -> None:
    Dataset("d", (table(name),))


def test_the_declared_model_is_valid() -> None:
    assert len(DATASET.published_tables) <= 75
    assert DATASET.table("events").key == ("event_id",)


def test_75_tables_accepted_76th_refused() -> None:
    Dataset("d", tuple(table(letters(i)) for i in range(75)))
    with pytest.raises(ModelError, match="76 published tables, Power BI allows 75"):
        Dataset("d", tuple(table(letters(i)) for i in range(76)))


def test_unpublished_tables_do_not_count_towards_the_limit() -> None:
    Dataset("d", tuple(table(letters(i), published=i < 75) for i in range(76)))


def test_75_columns_accepted_76th_refused() -> None:
    # a versioned table gets load_seq and tombstone from publish: 73 declared + 2 make Power BI's 75
    Dataset("d", (table("wide", 73),))
    with pytest.raises(ModelError, match="74 published columns and 2 publish columns, Power BI allows 75"):
        Dataset("d", (table("wide", 74),))
    Dataset("d", (table("wide", 75, published=False),))  # an unpublished table gets no publish columns


def test_76th_relationship_refused() -> None:
    dim = table("dim")
    # each foreign key also gets a ref column from publish: 36 keys make 1 + 36 + 2 + 36 = 75 columns
    facts = (table("fa", 37), table("fb", 37), table("fc", 5))
    links = tuple(
        Relationship(fact.name, col(i), "dim", col(0)) for fact in facts for i in range(1, len(fact.columns))
    )
    assert len(links) == 76
    Dataset("d", (dim, *facts), links[:75])
    with pytest.raises(ModelError, match="76 relationships, Power BI allows 75"):
        Dataset("d", (dim, *facts), links)


@pytest.mark.parametrize("name", ["bad.name", "a/b", "(x)", "a,b", "", "x" * 101])
def test_bad_table_name_refused(name: str) -> None:
    with pytest.raises(ModelError, match="name does not match Power BI's table name pattern"):
        Dataset("d", (table(name),))


def test_special_category_column_refused_at_row_level() -> None:
    columns = (
        Column("id", "String", "id", required=True),
        Column("religion", "String", "Religion", personal="special-category"),
    )
    with pytest.raises(
        ModelError, match="special-category column 'religion' would be published at row level"
    ):
        Dataset("d", (Table("people", "p", columns, key=("id",)),))
    hidden = (
        columns[0],
        Column("religion", "String", "Religion", personal="special-category", published=False),
    )
    Dataset("d", (Table("people", "p", hidden, key=("id",)),))
    Dataset("d", (Table("agg", "aggregated", columns, key=("id",), row_level=False),))


def test_arrow_schema_nullable_follows_required() -> None:
    schema = arrow_schema(table("t", 2))
    assert schema.field(col(0)).nullable is False
    assert schema.field(col(1)).nullable is True
    assert schema.field(col(0)).type == pa.string()
    assert schema.metadata == {b"table": b"t"}


def test_arrow_types_per_kind() -> None:
    events = arrow_schema(DATASET.table("events"))
    assert events.field("start_utc").type == pa.timestamp("us", tz="UTC")
    assert events.field("total_attendance").type == pa.int64()
    assert events.field("location_lat").type == pa.float64()
    assert events.field("suitable_for_publishing").type == pa.bool_()


def test_published_purpose_drops_unpublished_columns() -> None:
    ccr = DATASET.table("ccr")
    staging = arrow_schema(ccr, "staging")
    published = arrow_schema(ccr, "published")
    assert "ethnicity_2021" in staging.names
    assert "ethnicity_2021" not in published.names
    assert set(staging.names) - set(published.names) == {c.name for c in ccr.columns if not c.published}
    assert staging.field("ethnicity_2021").metadata[b"personal"] == b"special-category"


SOURCE_LINEAGE = ("source_system", "source_item_id", "source_version", "load_id")


def test_every_loaded_table_ends_with_the_lineage_columns() -> None:
    for declared in DATASET.tables:
        if declared.publish_mode == "control":  # _loads is the ledger: load_id is its key, not lineage
            assert declared.name == "_loads"
            continue
        has_source = "source_system" in declared.column_names
        tail = declared.columns[-len(lineage(source=has_source)) :]
        assert tail == lineage(source=has_source), declared.name
        assert declared.column_names.count("load_id") == 1


def test_fact_tables_carry_where_each_row_came_from() -> None:
    assert tuple(column.name for column in lineage(source=True)) == SOURCE_LINEAGE
    assert tuple(column.name for column in lineage()) == ("load_id",)
    facts = {t.name for t in DATASET.tables if t.column_names[-len(SOURCE_LINEAGE) :] == SOURCE_LINEAGE}
    assert facts == {"events", "you_said_we_did", "ccr"}


def test_kind_table_covers_every_kind_and_its_types_agree() -> None:
    samples = {
        "Int64": 7,
        "Double": 1.5,
        "Decimal": decimal.Decimal("1.2500"),
        "Boolean": True,
        "DateTime": dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        "String": "x",
    }
    assert set(KIND_TYPES) == set(KINDS) == set(samples)
    for kind, types in KIND_TYPES.items():
        stored = pa.array([samples[kind], None], types.storage)
        assert isinstance(stored.to_pylist()[0], types.python), kind
        assert stored.cast(types.checked).type == types.checked  # validation's type holds every stored value
        frame = pd.Series([samples[kind], None]).astype(types.pandas)
        assert pa.array(frame, from_pandas=True).cast(types.checked).to_pylist()[1] is None, kind
