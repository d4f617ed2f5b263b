"""A full snapshot keeps the rows no list writes (connectors/staged_carry.py): a fact's rows of another source
system and their bridge rows, in key order, exactly once; an older file's rows are conformed by column
name, and one that cannot be is a StateError naming the column, never the value."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from connectors.staged_carry import carried_rows
from connectors.staging import StagedTableWriter, staged_path
from errors import StateError
from powerbi_dataset.derive import arrow_schema
from powerbi_dataset.model import CCR, DATASET
from tests.connectors.staged_rows import rows

CCR_ISSUES = DATASET.table("ccr_issues")


def migrated(table: pa.Table, numbers: list[int]) -> pa.Table:
    """Synthetic rows turned into migrated ones: `forms:` keys (key order differs from the list's) and
    source_system forms_legacy where the table has it."""
    keys = pa.array(
        [f"forms:legacy-form:{number}" for number in numbers for _ in range(table.num_rows // len(numbers))]
    )
    table = table.set_column(0, table.schema.field(0), keys)
    if "source_system" in table.column_names:
        index = table.column_names.index("source_system")
        table = table.set_column(
            index, table.schema.field(index), pa.array(["forms_legacy"] * table.num_rows)
        )
    return table


def write(directory: Path, table: pa.Table, model: str, *, incremental: bool) -> None:
    with StagedTableWriter(
        directory, DATASET.table(model), incremental=incremental, row_group_rows=16
    ) as writer:
        writer.add(table)
        writer.prepare().publish()


def test_a_full_snapshot_keeps_migrated_rows_and_their_bridge_rows_once(tmp_path: Path) -> None:
    write(tmp_path, rows(CCR, range(1, 41)), "ccr", incremental=False)
    write(tmp_path, rows(CCR_ISSUES, range(1, 41), children=2), "ccr_issues", incremental=False)
    forms = migrated(rows(CCR, range(1, 31)), list(range(1, 31)))
    forms_issues = migrated(rows(CCR_ISSUES, range(1, 31), children=3), list(range(1, 31)))
    write(tmp_path, forms, "ccr", incremental=True)
    write(tmp_path, forms_issues, "ccr_issues", incremental=True)

    # the list read in full again: items 1-40 changed, 5 deleted; both tables prepared before either renames
    with (
        StagedTableWriter(tmp_path, CCR, incremental=False, row_group_rows=16) as facts,
        StagedTableWriter(tmp_path, CCR_ISSUES, incremental=False, row_group_rows=16) as bridge,
    ):
        listed = [number for number in range(1, 41) if number != 5]
        facts.add(rows(CCR, listed, version=2))
        bridge.add(rows(CCR_ISSUES, listed, version=2, children=2))
        prepared = [facts.prepare(), bridge.prepare()]
    for item in prepared:
        item.publish()

    ccr = pq.read_table(staged_path(tmp_path, "ccr"))
    assert ccr.num_rows == 39 + 30 and len(set(ccr.column("ccr_id").to_pylist())) == ccr.num_rows
    kept = ccr.filter(pc.equal(ccr.column("source_system"), "forms_legacy"))
    assert kept.sort_by("ccr_id").equals(forms.sort_by("ccr_id"))
    listed_rows = ccr.filter(pc.equal(ccr.column("source_system"), "sp_list"))
    assert listed_rows.sort_by("ccr_id").equals(rows(CCR, listed, version=2).sort_by("ccr_id"))
    issues = pq.read_table(staged_path(tmp_path, "ccr_issues"))
    carried = issues.filter(pc.starts_with(issues.column("ccr_id"), "forms:"))
    assert carried.sort_by([("ccr_id", "ascending"), ("theme_code", "ascending")]).equals(
        forms_issues.sort_by([("ccr_id", "ascending"), ("theme_code", "ascending")])
    )
    assert issues.num_rows == 39 * 2 + 30 * 3


def test_nothing_is_carried_where_no_row_is_migrated(tmp_path: Path) -> None:
    write(tmp_path, rows(CCR, range(1, 41)), "ccr", incremental=False)
    write(tmp_path, rows(CCR_ISSUES, range(1, 41), children=2), "ccr_issues", incremental=False)
    schema = arrow_schema(CCR, "staging")
    assert list(carried_rows(staged_path(tmp_path, "ccr"), CCR, schema)) == []
    bridge_schema = arrow_schema(CCR_ISSUES, "staging")
    assert list(carried_rows(staged_path(tmp_path, "ccr_issues"), CCR_ISSUES, bridge_schema)) == []
    assert list(carried_rows(tmp_path / "absent.parquet", CCR, schema)) == []


def test_rows_staged_under_an_older_model_are_conformed_by_column_name(tmp_path: Path) -> None:
    forms = migrated(rows(CCR, range(1, 6)), list(range(1, 6)))
    older = forms.drop_columns(["religion"])  # the model has since gained a nullable column
    pq.write_table(older, staged_path(tmp_path, "ccr"))
    carried = pa.concat_tables(carried_rows(staged_path(tmp_path, "ccr"), CCR, forms.schema))
    assert carried.column("religion").null_count == 5
    assert carried.drop_columns(["religion"]).equals(older)


def test_an_older_file_without_a_required_column_is_a_state_error_naming_the_column(tmp_path: Path) -> None:
    forms = migrated(rows(CCR, range(1, 6)), list(range(1, 6)))
    pq.write_table(forms.drop_columns(["officer_key"]), staged_path(tmp_path, "ccr"))
    with pytest.raises(StateError) as raised:
        list(carried_rows(staged_path(tmp_path, "ccr"), CCR, forms.schema))
    assert "'officer_key'" in raised.value.message and "cetk migrate forms" in str(raised.value.hint)


def test_a_value_that_no_longer_fits_is_a_state_error_that_does_not_quote_it(tmp_path: Path) -> None:
    forms = migrated(rows(CCR, range(1, 6)), list(range(1, 6)))
    personal = "Jane Smith, 12 High Street"
    index = forms.column_names.index("recorded_utc")
    older = forms.set_column(index, "recorded_utc", pa.array([personal] * 5))  # once text, now a time
    pq.write_table(older, staged_path(tmp_path, "ccr"))
    with pytest.raises(StateError) as raised:
        list(carried_rows(staged_path(tmp_path, "ccr"), CCR, forms.schema))
    assert "'recorded_utc'" in raised.value.message
    assert personal not in str(raised.value) and raised.value.__cause__ is None
