"""Staged Parquet: key order, fixed row groups, R10 (byte-identical snapshot, no new file when unchanged),
incremental merges (upserts, deletes, bridge parents replaced whole), atomicity."""

from __future__ import annotations

import os
import random
import stat
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

import connectors.snapshot_merge as merge
import connectors.staged_commit as staged_commit
import connectors.staging as staging
from connectors.staging import PreparedSnapshot, StagedTableWriter, file_sha256, remove_leftovers, staged_path
from errors import StateError
from powerbi_dataset.derive import arrow_schema
from powerbi_dataset.model import EVENT_OFFICERS, EVENTS
from powerbi_dataset.schema import Column, Table
from tests.connectors.staged_rows import item_key, keys, rows

ROW_GROUP = 64  # small row groups, so a few hundred rows exercise the streamed merge


def stage(
    directory: Path,
    table: Table,
    pages: list[pa.Table],
    *,
    incremental: bool = False,
    drops: list[str] | None = None,
) -> PreparedSnapshot:
    with StagedTableWriter(directory, table, incremental=incremental, row_group_rows=ROW_GROUP) as writer:
        for page in pages:
            batches = page.to_batches()
            writer.add(batches[0] if len(batches) == 1 else page)  # a RecordBatch, as pages arrive
        if drops:
            writer.drop(drops)
        prepared = writer.prepare()
    prepared.publish()
    return prepared


def paged(table: Table, numbers: list[int], page_rows: int = 50, **options: int) -> list[pa.Table]:
    return [
        rows(table, numbers[start : start + page_rows], **options)
        for start in range(0, len(numbers), page_rows)
    ]


def shuffled(numbers: range, seed: int) -> list[int]:
    values = list(numbers)
    random.Random(seed).shuffle(values)
    return values


def listing(directory: Path) -> list[str]:
    return sorted(path.name for path in directory.iterdir())


def test_a_full_snapshot_is_key_ordered_in_fixed_row_groups_and_private(tmp_path: Path) -> None:
    prepared = stage(tmp_path, EVENTS, paged(EVENTS, shuffled(range(1, 301), seed=1)))
    staged = pq.ParquetFile(prepared.path)
    table = staged.read()
    assert prepared.rows == table.num_rows == 300
    # key order, shorter keys first: item 9 before item 10, as a list is read
    assert keys(table, "event_id") == [item_key(number) for number in range(1, 301)]
    assert [staged.metadata.row_group(i).num_rows for i in range(staged.num_row_groups)] == [64] * 4 + [44]
    assert staged.schema_arrow.equals(arrow_schema(EVENTS, "staging"), check_metadata=True)
    assert stat.S_IMODE(prepared.path.stat().st_mode) == 0o600
    assert listing(tmp_path) == ["events.parquet"]  # no temporary file or spilled run left
    assert prepared.sha256 == file_sha256(prepared.path)


def test_r10_the_same_rows_in_another_order_give_the_same_bytes_and_no_new_file(tmp_path: Path) -> None:
    first = stage(tmp_path, EVENTS, paged(EVENTS, shuffled(range(1, 301), seed=1)))
    before = first.path.stat()
    with StagedTableWriter(tmp_path, EVENTS, incremental=False, row_group_rows=ROW_GROUP) as writer:
        for page in paged(EVENTS, shuffled(range(1, 301), seed=2), page_rows=37):
            writer.add(page)
        again = writer.prepare()
    assert not again.changed and again.sha256 == first.sha256
    with StagedTableWriter(tmp_path, EVENTS, incremental=False, row_group_rows=ROW_GROUP) as writer:
        for page in paged(EVENTS, list(range(1, 301)), page_rows=29):  # in list order: runs need no sort
            writer.add(page)
        in_order = writer.prepare()
    assert not in_order.changed and in_order.sha256 == first.sha256
    assert listing(tmp_path) == ["events.parquet"]
    after = first.path.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)  # not rewritten


def test_r10_an_incremental_run_without_changes_writes_nothing(tmp_path: Path) -> None:
    first = stage(tmp_path, EVENTS, paged(EVENTS, list(range(1, 101))))
    with StagedTableWriter(tmp_path, EVENTS, incremental=True, row_group_rows=ROW_GROUP) as writer:
        nothing = writer.prepare()
    assert (nothing.changed, nothing.sha256, nothing.rows) == (False, first.sha256, 100)
    replay = stage(tmp_path, EVENTS, [rows(EVENTS, [5, 6, 7])], incremental=True)  # the same versions again
    assert not replay.changed and listing(tmp_path) == ["events.parquet"]


def test_no_changes_are_seen_up_front_without_merging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = stage(tmp_path, EVENTS, [rows(EVENTS, [1, 2])])

    def no_merge(*args: object, **kwargs: object) -> None:
        raise AssertionError("an incremental run without changes must not merge")

    monkeypatch.setattr(staging, "iter_merged", no_merge)
    with StagedTableWriter(tmp_path, EVENTS, incremental=True) as writer:
        writer.add(rows(EVENTS, []))  # an empty page is no change
        assert writer.prepare() == PreparedSnapshot("events", first.path, None, first.sha256, 2)


def test_the_file_is_fsynced_before_the_rename_and_the_directory_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[tuple[str, str]] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(descriptor: int) -> None:
        events.append(("fsync", os.readlink(f"/proc/self/fd/{descriptor}")))
        real_fsync(descriptor)

    def replace(source: str | Path, target: str | Path) -> None:
        events.append(("replace", f"{source} -> {target}"))
        real_replace(source, target)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    prepared = stage(tmp_path, EVENTS, [rows(EVENTS, [1])])
    assert prepared.temporary is not None
    temporary, final = str(prepared.temporary), str(prepared.path)
    assert [event for event in events if temporary in event[1] or event[1] == str(tmp_path)] == [
        ("fsync", temporary),
        ("replace", f"{temporary} -> {final}"),
        ("fsync", str(tmp_path)),
    ]


def test_an_incremental_merge_upserts_and_deletes_and_equals_a_full_restage(tmp_path: Path) -> None:
    stage(tmp_path, EVENTS, paged(EVENTS, shuffled(range(1, 301), seed=3)))
    changed = rows(EVENTS, [7, 150, 299, 400, 401], version=2)  # 3 updates, 2 new items
    merged = stage(
        tmp_path, EVENTS, [changed], incremental=True, drops=[item_key(10), item_key(11), item_key(999)]
    )
    table = pq.read_table(merged.path)
    expected_keys = [item_key(n) for n in [*range(1, 302), 400, 401] if n not in (10, 11, 301)]
    assert keys(table, "event_id") == expected_keys and merged.rows == len(expected_keys)
    names = dict(zip(keys(table, "event_id"), table.column("event_name").to_pylist(), strict=True))
    assert names[item_key(7)] == "event_name-7-v2" and names[item_key(8)] == "event_name-8-v1"
    # a full restage of the same content, elsewhere, gives the same bytes
    fresh = tmp_path / "fresh"
    final_numbers = [n for n in range(1, 301) if n not in (10, 11, 7, 150, 299)]
    restaged = stage(fresh, EVENTS, [rows(EVENTS, final_numbers), changed])
    assert restaged.sha256 == merged.sha256
    assert staged_path(fresh, "events").read_bytes() == merged.path.read_bytes()


def test_later_pages_win_and_duplicate_keys_in_a_page_keep_the_last(tmp_path: Path) -> None:
    page = pa.concat_tables([rows(EVENTS, [1, 2], version=1), rows(EVENTS, [2], version=2)])
    prepared = stage(tmp_path, EVENTS, [page, rows(EVENTS, [1], version=3)])
    table = pq.read_table(prepared.path)
    assert table.column("event_name").to_pylist() == ["event_name-1-v3", "event_name-2-v2"]


def test_a_bridge_parent_is_replaced_whole_and_a_dropped_parent_loses_every_row(tmp_path: Path) -> None:
    stage(tmp_path, EVENT_OFFICERS, paged(EVENT_OFFICERS, list(range(1, 101)), children=3))
    merged = stage(
        tmp_path,
        EVENT_OFFICERS,
        [rows(EVENT_OFFICERS, [5], children=1, version=2), rows(EVENT_OFFICERS, [6], children=5, version=2)],
        incremental=True,
        drops=[item_key(7)],
    )
    table = pq.read_table(merged.path)
    per_parent = {key: 0 for key in keys(table, "event_id")}
    for key in keys(table, "event_id"):
        per_parent[key] += 1
    assert (per_parent[item_key(5)], per_parent[item_key(6)], per_parent[item_key(8)]) == (1, 5, 3)
    assert item_key(7) not in per_parent and merged.rows == 100 * 3 - 2 + 2 - 3
    # a parent seen on two pages keeps only the rows of the last page
    again = stage(
        tmp_path,
        EVENT_OFFICERS,
        [rows(EVENT_OFFICERS, [9], children=4, version=3), rows(EVENT_OFFICERS, [9], children=2, version=4)],
        incremental=True,
    )
    nine = pq.read_table(again.path).filter(pc.equal(pc.field("event_id"), item_key(9)))
    assert nine.column("load_id").to_pylist() == ["load_id-9-v4"] * 2


def test_a_drop_then_a_re_add_keeps_the_new_rows(tmp_path: Path) -> None:
    stage(tmp_path, EVENTS, [rows(EVENTS, [1, 2, 3])])
    with StagedTableWriter(tmp_path, EVENTS, incremental=True, row_group_rows=ROW_GROUP) as writer:
        writer.drop([item_key(2)])
        writer.add(rows(EVENTS, [2], version=5))
        writer.drop([item_key(3)])
        prepared = writer.prepare()
    assert keys(pq.read_table(prepared.temporary or prepared.path), "event_id") == [item_key(1), item_key(2)]
    prepared.discard()


def test_rows_the_staged_schema_cannot_hold_are_refused(tmp_path: Path) -> None:
    with StagedTableWriter(tmp_path, EVENTS, incremental=False) as writer:
        missing_required = rows(EVENTS, [1]).set_column(
            1, arrow_schema(EVENTS).field("status").with_nullable(True), pa.array([None], pa.string())
        )
        with pytest.raises(ValueError, match="non-nullable"):
            writer.add(missing_required)
        with pytest.raises(ValueError, match="not in the staged schema"):
            writer.add(rows(EVENTS, [1]).append_column("given_name", pa.array(["Jane"])))


def test_a_previous_snapshot_of_another_schema_is_refused_for_a_merge(tmp_path: Path) -> None:
    pq.write_table(pa.table({"event_id": [item_key(1)]}), staged_path(tmp_path, "events"))
    with (
        pytest.raises(StateError, match="staging schema"),
        StagedTableWriter(tmp_path, EVENTS, incremental=True) as writer,
    ):
        writer.add(rows(EVENTS, [2]))
        writer.prepare()


# --- atomicity ---------------------------------------------------------------------------------------


class Crash(Exception):
    pass


def test_a_crash_after_the_temporary_file_is_written_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = stage(tmp_path, EVENTS, [rows(EVENTS, range(1, 51))])
    old_bytes = old.path.read_bytes()
    with StagedTableWriter(tmp_path, EVENTS, incremental=True, row_group_rows=ROW_GROUP) as writer:
        writer.add(rows(EVENTS, [1, 2], version=2))
        prepared = writer.prepare()
    assert prepared.temporary is not None and prepared.temporary.exists()  # written and fsynced

    def crash_before_rename(temporary: Path, path: Path) -> None:
        raise Crash

    monkeypatch.setattr(staged_commit, "replace_durably", crash_before_rename)
    with pytest.raises(Crash):
        prepared.publish()
    assert old.path.read_bytes() == old_bytes
    assert pq.read_table(old.path).num_rows == 50  # still a whole, readable snapshot
    remove_leftovers(tmp_path)  # the next run, holding the lock, sweeps what the crash left
    assert listing(tmp_path) == ["events.parquet"]


def test_a_crash_while_merging_leaves_the_old_file_and_no_debris(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = stage(tmp_path, EVENTS, paged(EVENTS, list(range(1, 201))))
    old_bytes = old.path.read_bytes()
    real_merge = staging.iter_merged

    def merge_then_crash(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        merged = real_merge(*args, **kwargs)  # type: ignore[arg-type]
        yield next(merged)
        raise Crash

    monkeypatch.setattr(staging, "iter_merged", merge_then_crash)
    with pytest.raises(Crash):
        stage(tmp_path, EVENTS, [rows(EVENTS, [3], version=2)], incremental=True)
    assert old.path.read_bytes() == old_bytes
    assert listing(tmp_path) == ["events.parquet"]


def test_remove_leftovers_sweeps_only_temporary_files_and_spills(tmp_path: Path) -> None:
    (tmp_path / ".events.parquet.abc.tmp").write_bytes(b"x")
    (tmp_path / ".spill-events-xyz").mkdir()
    (tmp_path / "events.parquet").write_bytes(b"keep")
    (tmp_path / "quarantine").mkdir()
    removed = remove_leftovers(tmp_path)
    assert sorted(path.name for path in removed) == [".events.parquet.abc.tmp", ".spill-events-xyz"]
    assert listing(tmp_path) == ["events.parquet", "quarantine"]
    assert remove_leftovers(tmp_path / "absent") == []


def test_an_empty_full_read_stages_an_empty_table(tmp_path: Path) -> None:
    stage(tmp_path, EVENTS, [rows(EVENTS, [1, 2])])
    empty = stage(tmp_path, EVENTS, [])
    assert empty.changed and pq.read_table(empty.path).num_rows == 0
    assert os.path.getsize(empty.path) > 0


# --- the streamed merge against a plain model of the same operations ----------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_streamed_merge_matches_a_dictionary_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    """Random pages of adds and drops, tiny runs and batches: many merge steps, groups split across them."""
    monkeypatch.setattr(merge, "SPILL_BATCH_ROWS", 5)
    monkeypatch.setattr(staging, "STEP_ROWS", 5)
    chance = random.Random(seed)
    monkeypatch.setattr(merge, "STEP_ROWS", chance.choice([1, 8, 10_000]))  # one run's batches a step takes
    model: dict[int, tuple[int, int]] = {}  # parent -> (children, version): what the staged table should hold
    initial = chance.sample(range(1, 200), 80)
    first = [rows(EVENT_OFFICERS, [n], children=chance.randint(1, 4)) for n in initial]
    for number, page in zip(initial, first, strict=True):
        model[number] = (page.num_rows, 1)
    stage(tmp_path, EVENT_OFFICERS, first)
    with StagedTableWriter(tmp_path, EVENT_OFFICERS, incremental=True, row_group_rows=7) as writer:
        for version in range(2, 40):
            if chance.random() < 0.3:
                gone = chance.sample(range(1, 200), 3)
                writer.drop([item_key(n) for n in gone])
                for number in gone:
                    model.pop(number, None)
            else:
                numbers = chance.sample(range(1, 200), chance.randint(1, 6))
                children = chance.randint(1, 4)
                writer.add(rows(EVENT_OFFICERS, numbers, version=version, children=children))
                for number in numbers:
                    model[number] = (children, version)
        prepared = writer.prepare()
    prepared.publish()
    table = pq.read_table(prepared.path)
    expected = [
        (item_key(number), f"child-{child:04d}", f"load_id-{number}-v{version}")
        for number, (children, version) in sorted(model.items())
        for child in range(children)
    ]
    actual = list(
        zip(*(table.column(name).to_pylist() for name in ("event_id", "officer_key", "load_id")), strict=True)
    )
    assert actual == expected


def test_a_table_keyed_by_numbers_sorts_by_number(tmp_path: Path) -> None:
    numbered = Table(
        "numbered",
        "A table with an Int64 key",
        (Column("n", "Int64", "Key", required=True), Column("v", "String", "Value")),
        key=("n",),
    )
    values = shuffled(range(-50, 150), seed=4)
    with StagedTableWriter(tmp_path, numbered, incremental=False, row_group_rows=16) as writer:
        for start in range(0, len(values), 30):
            chunk = values[start : start + 30]
            writer.add(pa.table({"n": chunk, "v": [f"v{n}" for n in chunk]}))
        writer.drop([7])
        prepared = writer.prepare()
    prepared.publish()
    assert pq.read_table(prepared.path).column("n").to_pylist() == [n for n in range(-50, 150) if n != 7]


# --- memory: bounded by the spill size and the merge batch, not by the table ------------------------------------


def test_replace_items_gives_items_their_new_sets_and_empties_those_without_rows(tmp_path: Path) -> None:
    stage(tmp_path, EVENT_OFFICERS, [rows(EVENT_OFFICERS, [1, 2, 3], children=2)])
    with StagedTableWriter(tmp_path, EVENT_OFFICERS, incremental=True, row_group_rows=ROW_GROUP) as writer:
        # a page of items 1 and 2: item 1 now has three rows, item 2 none; item 3 was not on the page
        writer.replace_items([item_key(1), item_key(2)], rows(EVENT_OFFICERS, [1], children=3, version=2))
        prepared = writer.prepare()
    prepared.publish()
    table = pq.read_table(prepared.path)
    assert keys(table, "event_id") == [item_key(1)] * 3 + [item_key(3)] * 2
    assert table.column("load_id").to_pylist()[:3] == ["load_id-1-v2"] * 3


def test_drops_are_spilled_to_disk_like_rows_not_held_in_memory(tmp_path: Path) -> None:
    """A drop of many items (a bridge's items without rows, deletions) leaves the writer holding at most
    `spill_rows` of them; the rest are tombstone rows in sorted runs on disk, applied by the merge."""
    stage(tmp_path, EVENTS, paged(EVENTS, list(range(1, 1001)), page_rows=100))
    with StagedTableWriter(tmp_path, EVENTS, incremental=True, row_group_rows=ROW_GROUP) as writer:
        for start in range(1, 1001, 100):
            writer.drop([item_key(n) for n in range(start, start + 100) if n % 10])  # keep every tenth
            assert writer._buffered_rows < writer.spill_rows
        on_disk = sum(pa.ipc.open_file(path).read_all().num_rows for path in writer._spill_dir.iterdir())
        assert on_disk + writer._buffered_rows == 900  # every drop is a row, on disk but the last few
        prepared = writer.prepare()
    prepared.publish()
    assert keys(pq.read_table(prepared.path), "event_id") == [item_key(n) for n in range(10, 1001, 10)]


def test_each_merge_step_holds_at_most_a_batch_per_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The merge resolves rows in steps of at most one batch per run, or STEP_ROWS (and a batch) of one
    run's rows that no other run's interleave, plus the one item group carried over: its memory is bounded
    by the number of runs, the batch size and STEP_ROWS, whatever the table's size."""
    batch, step_rows = 5, 12
    monkeypatch.setattr(merge, "SPILL_BATCH_ROWS", batch)
    monkeypatch.setattr(staging, "STEP_ROWS", batch)
    monkeypatch.setattr(merge, "STEP_ROWS", step_rows)
    steps: list[int] = []
    real_resolve = merge._resolve

    def counted(table: pa.Table, order: merge.MergeOrder) -> pa.Table:
        steps.append(table.num_rows)
        return real_resolve(table, order)

    monkeypatch.setattr(merge, "_resolve", counted)
    with StagedTableWriter(tmp_path, EVENT_OFFICERS, incremental=False, row_group_rows=200) as writer:
        for start in shuffled(range(1, 301, 20), seed=3):
            writer.replace_items(
                [item_key(n) for n in range(start, start + 20)],
                rows(EVENT_OFFICERS, list(range(start, start + 20, 2)), children=3, version=2),
            )
        runs = len(list(writer._spill_dir.iterdir())) + 1  # and the rows not yet spilled
        prepared = writer.prepare()
    prepared.publish()
    largest_group = 3 + 1  # an item's rows in one run, and its tombstone or older rows in another
    assert steps and max(steps) <= max(runs * batch, step_rows + batch) + largest_group
    assert sum(steps) >= 150 * 3  # every row went through a step: the steps are many and small
    assert pq.read_table(prepared.path).num_rows == 150 * 3


def test_rows_of_one_key_split_across_steps_are_resolved_by_generation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A key whose rows are in two batches of one run and in another run between them: the step that
    carries the key over (the tail) and the next step are sorted together, so the newest generation wins."""
    monkeypatch.setattr(merge, "STEP_ROWS", 1)
    order = merge.MergeOrder.for_key(("k",))

    def batch(value: str, generation: int, sequence: int) -> pa.Table:
        return merge.with_order_columns(pa.table({"k": ["a"], "v": [value]}), order, generation, sequence)

    one_run = iter([batch("first", 1, 0), batch("second", 2, 1)])  # one run, its key over two batches
    other_run = iter([batch("newest", 3, 2)])
    merged = pa.concat_tables(list(merge.iter_merged([one_run, other_run], order)))
    assert merged.column("v").to_pylist() == ["newest"]
