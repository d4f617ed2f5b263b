"""Forms responses migrated `--to staging` stay in the staged tables through every later sync: an incremental
one, a full one (`--full`), and the full re-read after Graph answers 410 for an expired delta link; each time
once, beside the list's own rows, which are exactly the list's items. A rerun of the migration afterwards
still finds them and changes nothing (connectors/staged_carry.py; docs/sync.md, "Rows that are not the
list's"). Driven in-process against the emulator, with the injected clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from emulator.demo.force import Force, generate_force
from emulator.demo.forms import write_forms_exports
from pipeline import migrate_forms
from pipeline.migrate_init import propose_forms_mapping
from pipeline.sync import EXIT_OK
from tests.connectors.conftest import ManualTime
from tests.sync_world import SyncWorld, demo_world
from tests.test_pipeline_migrate import reviewed
from transforms.forms_mapping import dump_forms_mapping

PAGE = 50
CCRS = "Community Contact Records"
FORMS = "forms_legacy"


@dataclass(frozen=True)
class Exports:
    paths: list[Path]
    mapping_text: str


@pytest.fixture(scope="module")
def clean_force() -> Force:
    return generate_force(seed=11, events=60, ccrs=200, officers=40, invalid_fraction=0)


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Exports:
    force = generate_force(seed=11, events=60, ccrs=900)
    paths = write_forms_exports(force, tmp_path_factory.mktemp("forms"), responses_per_form=30)
    mapping = reviewed(propose_forms_mapping(paths).mapping)
    return Exports(paths, dump_forms_mapping(mapping))


@pytest.fixture
def world(clean_force: Force, tmp_path: Path) -> Iterator[SyncWorld]:
    with demo_world(clean_force, tmp_path, ManualTime()) as made:
        yield made


def migrate(world: SyncWorld, exports: Exports) -> None:
    mapping = world.root / "forms-mapping.yaml"
    mapping.write_text(exports.mapping_text, encoding="utf-8")
    report = migrate_forms(exports.paths, mapping, world.settings)
    assert report.written > 20, report.describe()


def rows_of(table: pa.Table, keys: pa.Array, key: str = "ccr_id") -> pa.Table:
    chosen = table.filter(pc.is_in(table.column(key), value_set=keys))
    return chosen.sort_by([(name, "ascending") for name in chosen.column_names if name != "load_id"])


@dataclass(frozen=True)
class Migrated:
    """The migrated rows as staged right after the migration: what every later sync must keep as they are."""

    ccr: pa.Table
    issues: pa.Table

    @classmethod
    def staged(cls, world: SyncWorld) -> Migrated:
        ccr = world.staged("ccr")
        keys = ccr.filter(pc.equal(ccr.column("source_system"), FORMS)).column("ccr_id").combine_chunks()
        return cls(rows_of(ccr, keys), rows_of(world.staged("ccr_issues"), keys))

    @property
    def keys(self) -> pa.Array:
        return self.ccr.column("ccr_id").combine_chunks()

    def assert_kept(self, world: SyncWorld) -> None:
        """Each migrated row staged exactly once and unchanged; the list's rows are the list's items."""
        ccr, issues = world.staged("ccr"), world.staged("ccr_issues")
        assert ccr.column("ccr_id").to_pylist().count(self.keys[0].as_py()) == 1
        assert len(set(ccr.column("ccr_id").to_pylist())) == ccr.num_rows  # no key twice
        assert rows_of(ccr, self.keys).equals(self.ccr)
        assert rows_of(issues, self.keys).equals(self.issues)
        pairs = zip(issues.column("ccr_id").to_pylist(), issues.column("theme_code").to_pylist(), strict=True)
        assert issues.num_rows == len(set(pairs))
        listed = ccr.filter(pc.equal(ccr.column("source_system"), "sp_list"))
        assert ccr.num_rows == listed.num_rows + self.ccr.num_rows
        assert sorted(listed.column("source_item_id").to_pylist(), key=int) == world.item_ids(CCRS)
        parents = set(ccr.column("ccr_id").to_pylist())
        assert set(issues.column("ccr_id").to_pylist()) <= parents  # no orphan bridge row


def test_migrated_rows_survive_incremental_full_and_410_syncs_once_each(
    world: SyncWorld, exports: Exports
) -> None:
    assert world.run(page_size=PAGE).exit_code == EXIT_OK
    migrate(world, exports)
    migrated = Migrated.staged(world)
    assert migrated.ccr.num_rows > 20 and migrated.issues.num_rows >= migrated.ccr.num_rows
    store, ccr_list = world.emu.stack.store, world.sp_list(CCRS)
    ids = world.item_ids(CCRS)

    store.update_item(ccr_list, ids[3], {"Title": "changed since the migration"})
    store.delete_item(ccr_list, ids[4])
    incremental = world.run(page_size=PAGE)
    assert incremental.exit_code == EXIT_OK and incremental.report["lists"][CCRS]["full_read"] is False
    assert incremental.report["lists"][CCRS]["items_read"] == 1
    migrated.assert_kept(world)

    store.delete_item(ccr_list, ids[5])
    full = world.run(page_size=PAGE, full=True)
    assert full.exit_code == EXIT_OK and full.report["lists"][CCRS]["full_read"] is True
    migrated.assert_kept(world)

    store.delete_item(ccr_list, ids[6])
    store.expire_delta_tokens(ccr_list)
    resync = world.run(page_size=PAGE)
    assert resync.exit_code == EXIT_OK and resync.report["lists"][CCRS]["full_read"] is True
    assert any(r.status == 410 for r in world.last_requests())
    migrated.assert_kept(world)

    before = {name: (world.staging / f"{name}.parquet").read_bytes() for name in ("ccr", "ccr_issues")}
    migrate(world, exports)  # the rerun replaces each response by itself: the same bytes
    assert {name: (world.staging / f"{name}.parquet").read_bytes() for name in before} == before
    migrated.assert_kept(world)


def test_a_first_sync_after_a_migration_keeps_the_migrated_rows(world: SyncWorld, exports: Exports) -> None:
    """Migrated before the force's first sync: that sync reads every list whole, and the rows stay."""
    migrate(world, exports)
    migrated = Migrated.staged(world)
    first = world.run(page_size=PAGE)
    assert first.exit_code == EXIT_OK and first.report["lists"][CCRS]["full_read"] is True
    migrated.assert_kept(world)
    again = world.run(page_size=PAGE, full=True)  # R10: the same source read in full again: the same bytes
    assert again.report["staged"]["ccr"]["changed"] is False
    migrated.assert_kept(world)
