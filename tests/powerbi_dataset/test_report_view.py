"""The routing rule on hand-made stored rows (report_view.py), and the same rule as the DAX that renders it."""

from __future__ import annotations

from typing import Any

from powerbi_dataset.derive import powerbi_definition
from powerbi_dataset.model import DATASET, LOADS
from powerbi_dataset.report_view import relationship_problems, report_view, shown_rows
from powerbi_dataset.routing import dax_route_filters, dax_route_variables, route_of, routed_expression
from powerbi_dataset.schema import Column, Dataset, Measure, Relationship, Table

SHOPS = Table(
    "shops",
    "Shops",
    (Column("shop_id", "String", "Key", required=True), Column("name", "String", "Name")),
    key=("shop_id",),
)
FACTS = Table(
    "facts",
    "Facts",
    (Column("fact_id", "String", "Key", required=True), Column("shop_id", "String", "Shop")),
    key=("fact_id",),
)
LINES = Table(
    "lines",
    "Lines of a fact",
    (Column("fact_id", "String", "Fact", required=True), Column("item", "String", "Item", required=True)),
    key=("fact_id", "item"),
    publish_mode="with_parent",
    parent="facts",
)
MODEL = Dataset(
    "Small",
    (SHOPS, FACTS, LINES, LOADS),
    (
        Relationship("facts", "shop_id", "shops", "shop_id"),
        Relationship("lines", "fact_id", "facts", "fact_id"),
    ),
    (
        Measure("Facts", "facts", "COUNTROWS(facts)", "Rows"),
        Measure("Lines", "lines", "COUNTROWS(lines)", "Rows"),
    ),
)


def load(seq: int, full: str = "") -> dict[str, Any]:
    return {"load_id": f"L{seq}", "load_seq": seq, "full_tables": full, "rows_posted": 1}


def shop(seq: int, key: str, name: str = "x", *, tombstone: bool = False) -> dict[str, Any]:
    return {
        "shop_id": key,
        "name": name,
        "load_seq": seq,
        "tombstone": tombstone,
        "shop_id_ref": f"L{seq}:{key}",
    }


def fact(seq: int, key: str, shop_ref: str | None = None, *, tombstone: bool = False) -> dict[str, Any]:
    shop_id = shop_ref.split(":", 1)[1] if shop_ref else None
    return {
        "fact_id": key,
        "shop_id": shop_id,
        "load_seq": seq,
        "tombstone": tombstone,
        "fact_id_ref": f"L{seq}:{key}",
        "shop_id_ref": shop_ref,
    }


def line(seq: int, fact_key: str, item: str) -> dict[str, Any]:
    return {"fact_id": fact_key, "item": item, "load_seq": seq, "fact_id_ref": f"L{seq}:{fact_key}"}


def keys(rows: list[Any], *columns: str) -> list[tuple[Any, ...]]:
    return sorted(tuple(row[column] for column in columns) for row in rows)


def test_uncommitted_superseded_and_deleted_versions_are_not_seen() -> None:
    stored = {
        "_loads": [load(1), load(2)],  # load 3 never committed
        "shops": [shop(1, "s1"), shop(2, "s1", "renamed"), shop(3, "s1", "orphan"), shop(1, "s2")],
        "facts": [
            fact(1, "f1", "L1:s1"),
            fact(2, "f1", "L2:s1"),
            fact(1, "f2", "L1:s2"),
            fact(2, "f2", tombstone=True),
        ],
        "lines": [
            line(1, "f1", "a"),
            line(2, "f1", "a"),
            line(2, "f1", "b"),
            line(1, "f2", "a"),
            line(3, "f1", "c"),
        ],
    }

    shown = shown_rows(stored, MODEL)

    assert keys(shown["shops"], "shop_id", "name") == [("s1", "renamed"), ("s2", "x")]
    assert keys(shown["facts"], "fact_id", "load_seq") == [("f1", 2)]  # f2 deleted at load 2
    assert keys(shown["lines"], "fact_id", "item") == [("f1", "a"), ("f1", "b")]  # with f1's version 2 only
    assert relationship_problems(stored, MODEL) == []


def test_a_full_load_hides_every_earlier_version_even_of_keys_it_does_not_post() -> None:
    stored = {
        "_loads": [load(1), load(2, "|facts|"), load(3)],
        "shops": [shop(1, "s1")],
        "facts": [
            fact(1, "f1", "L1:s1"),
            fact(1, "gone", "L1:s1"),
            fact(2, "f1", "L1:s1"),
            fact(3, "f3", "L1:s1"),
        ],
        "lines": [],
    }

    assert keys(shown_rows(stored, MODEL)["facts"], "fact_id", "load_seq") == [("f1", 2), ("f3", 3)]


def test_a_duplicate_version_is_seen_twice_so_a_check_against_the_source_catches_it() -> None:
    stored = {"_loads": [load(1)], "shops": [shop(1, "s1"), shop(1, "s1")], "facts": [], "lines": []}

    assert len(shown_rows(stored, MODEL)["shops"]) == 2
    assert relationship_problems(stored, MODEL) == ["shops.shop_id_ref: 1 value(s) not unique, e.g. 'L1:s1'"]


def test_relationship_problems_name_a_ref_to_a_row_not_seen_and_a_ref_to_another_key() -> None:
    stored = {
        "_loads": [load(1), load(2)],
        "shops": [shop(1, "s1"), shop(2, "s1", "new")],
        "facts": [fact(1, "f1", "L1:s1"), {**fact(1, "f2", "L2:s1"), "shop_id": "s9"}],
        "lines": [],
    }

    assert relationship_problems(stored, MODEL) == [
        "facts.shop_id_ref -> shops: ref 'L1:s1' is not a shown row",
        "facts.shop_id_ref -> shops: ref 'L2:s1' names another key than 's9'",
    ]


def test_the_view_gives_canonical_typed_tables() -> None:
    stored = {
        "_loads": [load(1)],
        "shops": [shop(1, "s1", "One")],
        "facts": [fact(1, "f1", "L1:s1")],
        "lines": [],
    }

    view = report_view(stored, MODEL)

    assert view["shops"].to_pylist() == [{"shop_id": "s1", "name": "One"}]
    assert view["facts"].schema.names == ["fact_id", "shop_id"]


def test_the_dax_routes_by_the_same_rule() -> None:
    route = route_of(FACTS, MODEL)
    assert route is not None and route_of(LINES, MODEL) == route  # a with_parent table goes with its parent
    variables, filters = dax_route_variables(route), dax_route_filters(route)
    # 1. committed: every _loads row; 2. the baseline: the latest committed load restating the table
    assert (
        "CALCULATETABLE(VALUES('_loads'[load_seq]), ALL('_loads'), '_loads'[load_seq] >= __fullFrom)"
        in variables
    )
    assert (
        "MAXX(FILTER(ALL('_loads'), CONTAINSSTRING('_loads'[full_tables], \"|facts|\")), '_loads'[load_seq])"
        in variables
    )
    # 3. per key, the latest committed version, chosen over all stored rows (ALL), then not a tombstone
    assert (
        "GROUPBY(FILTER(ALL('facts'[fact_id], 'facts'[load_seq]), 'facts'[load_seq] IN __committed)"
        in variables
    )
    assert "\"@seq\", MAXX(CURRENTGROUP(), 'facts'[load_seq])" in variables
    assert filters == (
        "KEEPFILTERS(TREATAS(__latest, 'facts'[fact_id], 'facts'[load_seq])), "
        "KEEPFILTERS('facts'[tombstone] = FALSE())"
    )
    lines = routed_expression(MODEL.measures[1], MODEL)
    assert lines.endswith(f"CALCULATE(COUNTROWS(lines), {filters})")  # 4. a bridge row through its parent


def test_every_published_measure_of_the_model_is_routed() -> None:
    definition = powerbi_definition(DATASET)
    measures = [measure for table in definition["tables"] for measure in table.get("measures", [])]
    assert len(measures) == len(DATASET.measures)
    for measure in measures:
        assert "__latest" in measure["expression"] and "KEEPFILTERS(TREATAS(__latest" in measure["expression"]
