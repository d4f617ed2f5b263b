"""The data dictionary is generated from the model, and the committed copy is never stale."""

from __future__ import annotations

from pathlib import Path

from powerbi_dataset.dictionary import data_dictionary_markdown
from powerbi_dataset.model import DATASET
from powerbi_dataset.rules import Compare, Condition, Exclusive, RequireEmpty
from powerbi_dataset.schema import Code, Column, Dataset, Table

DOCS = Path(__file__).resolve().parents[2] / "docs" / "data-dictionary.md"


def test_committed_data_dictionary_is_current() -> None:
    assert DOCS.read_text(encoding="utf-8") == data_dictionary_markdown(DATASET), (
        "docs/data-dictionary.md is stale: run `make data-dictionary` and commit the result"
    )


def test_every_table_column_rule_relationship_and_measure_is_documented() -> None:
    text = data_dictionary_markdown(DATASET)
    for table in DATASET.tables:
        assert f"## Table `{table.name}`" in text
        for column in table.columns:
            assert f"| `{column.name}` |" in text
        for rule in table.rules:
            assert f"| `{rule.code}` | {rule.message} |" in text
    for relationship in DATASET.relationships:
        assert relationship.name in text
    for measure in DATASET.measures:
        assert measure.name in text
        assert measure.expression in text


def test_small_dataset_dictionary() -> None:
    colours = (Code("R", "Red"), Code("G", "Green"))
    first = Table(
        "things",
        "Things we count",
        (
            Column("id", "String", "Id", required=True, max_length=10),
            Column("colour", "String", "Colour", codes=colours),
            Column("size", "Int64", "Size | cm", minimum=1, maximum=5),
            Column(
                "secret_id",
                "String",
                "Hidden key",
                personal="personal",
                published=False,
                pattern="[0-9a-f]{16}",
            ),
        ),
        key=("id",),
        rules=(
            RequireEmpty(
                "no-size-when-red", Condition("colour", "eq", "R"), ("size",), "red things have no size"
            ),
        ),
    )
    second = Table(
        "paints",
        "Paints",
        (Column("colour", "String", "Colour", required=True, codes=colours),),
        key=("colour",),
    )
    text = data_dictionary_markdown(Dataset("Tiny", (first, second)))
    assert "| `size` | Int64 | no | range 1 to 5 | none | yes | Size \\| cm |" in text
    assert "| `secret_id` | String | no | pattern `[0-9a-f]{16}` | personal | no | Hidden key |" in text
    assert "### Codes: things.colour" in text  # shared by two tables: listed once in the appendix
    assert text.count("| `G` | Green |") == 1
    assert "when colour = R: `size` must be empty" in text


def test_rules_in_words() -> None:
    assert Compare("c", "end", ">=", "start", "m").describe() == "`end` ≥ `start` where both are present"
    assert Exclusive("x", "event_id", "theme_code", "NO_ISSUES", "m").describe() == (
        "within each `event_id`, a row with `theme_code` = NO_ISSUES is the only row"
    )
