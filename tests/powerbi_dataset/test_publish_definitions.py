"""The model against the dataset Power BI holds: PutTable for what it can change in place, a clear refusal
naming --recreate for what it cannot, the dataset recreated on request, a dataset adopted without a state."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pytest

from errors import PublishError
from powerbi_dataset.model import LOADS
from powerbi_dataset.publish_steps import AdoptDataset, CreateDataset, PostLoad, PutTable
from powerbi_dataset.schema import Column, Dataset, Measure, Relationship, Table
from tests.connectors.conftest import ManualTime, StartEmulator, Waits
from tests.connectors.powerbi_world import open_workspace
from tests.powerbi_dataset.publish_world import Publisher, check_relationships, view_differences

KINDS = {"Int64": pa.int64(), "Double": pa.float64(), "String": pa.string()}


def model(
    amount: str = "Int64",
    *,
    note: bool = False,
    measure: str = "COUNTROWS(facts)",
    extra_table: bool = False,
    link: bool = True,
) -> Dataset:
    shops = Table(
        "shops",
        "Shops",
        (
            Column("shop_id", "String", "Key", required=True),
            Column("load_id", "String", "Load", max_length=64),
        ),
        key=("shop_id",),
    )
    columns = [
        Column("fact_id", "String", "Key", required=True),
        Column("shop_id", "String", "Shop"),
        Column("amount", amount, "Amount"),  # type: ignore[arg-type]
    ]
    if note:
        columns.append(Column("note", "String", "A note", max_length=50))
    facts = Table(
        "facts", "Facts", (*columns, Column("load_id", "String", "Load", max_length=64)), key=("fact_id",)
    )
    tables = [shops, facts, LOADS]
    if extra_table:
        tables.insert(
            2, Table("more", "More", (Column("more_id", "String", "Key", required=True),), key=("more_id",))
        )
    relationships = (Relationship("facts", "shop_id", "shops", "shop_id"),) if link else ()
    return Dataset("Small", tuple(tables), relationships, (Measure("Facts", "facts", measure, "Rows"),))


def staged(dataset: Dataset, rows: int = 30) -> dict[str, pa.Table]:
    facts = dataset.table("facts")
    data: dict[str, list[object]] = {
        "fact_id": [f"f{i}" for i in range(rows)],
        "shop_id": [f"s{i % 3}" for i in range(rows)],
        "amount": [i for i in range(rows)],
        "note": [f"n{i}" for i in range(rows)],
    }
    schema = pa.schema([pa.field(c.name, KINDS.get(c.kind, pa.string())) for c in facts.columns])
    values = {
        c.name: pa.array(data.get(c.name, [None] * rows), schema.field(c.name).type) for c in facts.columns
    }
    if "amount" in values and pa.types.is_floating(schema.field("amount").type):
        values["amount"] = pa.array([float(i) for i in range(rows)], pa.float64())
    shops = pa.table({"shop_id": [f"s{i}" for i in range(3)], "load_id": pa.nulls(3, pa.string())})
    return {"facts": pa.table(values), "shops": shops}


@pytest.fixture
def publisher(start_emulator: StartEmulator, clock: ManualTime, waits: Waits, tmp_path: Path) -> Publisher:
    return Publisher(
        open_workspace(start_emulator, clock, waits), tmp_path / "state", clock, waits, dataset=model()
    )


def plan_steps(publisher: Publisher, data: dict[str, pa.Table], **options: object) -> list[object]:
    sink, store = publisher.sink(**options)
    try:
        return list(sink.plan(data).steps)
    finally:
        store.close()


@pytest.mark.parametrize(
    ("changed", "says"),
    [
        (model("Double"), "table facts: column amount: int64 -> double"),
        (
            model(extra_table=True),
            "table more: not in the dataset (Power BI cannot add a table to a push dataset)",
        ),
        (model(link=False), "relationships changed"),
    ],
)
def test_a_change_put_table_cannot_make_is_refused_naming_the_table_and_recreate(
    publisher: Publisher, changed: Dataset, says: str
) -> None:
    publisher.publish(staged(model()))
    publisher.dataset = changed

    with pytest.raises(PublishError) as refused:
        plan_steps(publisher, staged(changed))

    assert says in str(refused.value)
    assert "cetk publish --recreate" in refused.value.hint


def test_recreate_deletes_the_dataset_creates_it_again_and_posts_every_row(publisher: Publisher) -> None:
    publisher.publish(staged(model()))
    old = publisher.dataset_id
    publisher.dataset = model("Double")
    data = staged(publisher.dataset)

    steps = plan_steps(publisher, data, recreate=True)
    publisher.publish(data, recreate=True)

    assert [type(step) for step in steps] == [CreateDataset, PostLoad]
    assert publisher.dataset_id != old
    stored = publisher.stored()
    assert len(stored["_loads"]) == 1 and len(stored["facts"]) == 30
    assert view_differences(stored, data, publisher.dataset) == {}


def test_an_added_column_is_put_in_place_and_every_row_posted_again_with_it(publisher: Publisher) -> None:
    publisher.publish(staged(model()))
    publisher.dataset = model(note=True)
    data = staged(publisher.dataset)

    steps = plan_steps(publisher, data)
    publisher.publish(data)

    put = [step for step in steps if isinstance(step, PutTable)]
    assert [(step.table, step.changes) for step in put] == [("facts", ("column note added",))]
    stored = publisher.stored()
    assert view_differences(stored, data, publisher.dataset) == {}  # the note is seen on every row
    assert check_relationships(stored, publisher.dataset) == []


def test_a_changed_measure_is_put_with_no_row_posted(publisher: Publisher) -> None:
    data = staged(model())
    publisher.publish(data)
    posts = len(publisher.row_posts())
    publisher.dataset = model(measure="DISTINCTCOUNT(facts[shop_id])")

    steps = plan_steps(publisher, data)
    publisher.publish(data)

    assert [(type(step), getattr(step, "changes", ())) for step in steps] == [
        (PutTable, ("measures changed",))
    ]
    assert len(publisher.row_posts()) == posts


def test_a_dataset_this_state_does_not_know_is_adopted_and_restated_with_no_delete(
    publisher: Publisher,
) -> None:
    first = staged(model())
    publisher.publish(first)
    shutil.rmtree(publisher.state_dir)  # the state is lost (a new machine): the dataset is still there
    publisher.clock.advance(3_600)  # load numbers come from the clock: a later load has a larger one
    data = staged(model(), rows=20)  # and ten facts were deleted at source meanwhile

    steps = plan_steps(publisher, data)
    publisher.publish(data)

    assert isinstance(steps[0], AdoptDataset)
    load = next(step for step in steps if isinstance(step, PostLoad))
    assert set(load.full_tables) == {"facts", "shops"}
    log = publisher.workspace.emu.emulator.request_log
    assert not [r for r in log if r.method == "DELETE"]  # restated by new versions: no gap
    stored = publisher.stored()
    assert view_differences(stored, data, publisher.dataset) == {}
    assert check_relationships(stored, publisher.dataset) == []
