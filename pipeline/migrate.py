"""`cetk migrate forms`: legacy Forms exports into staging or the live CCR list, once per response.

`plan_migrate()` reads, maps, dedupes and validates (pipeline/migrate_rows.py) and, for the list, reads the
migration keys already there; `--dry-run` prints that plan, and `migrate(plan)` writes exactly it:
- `staging`: the rows join the sync's staged Parquet (connectors/staging.py, the same table files),
  committed crash-safely through the sync state; a response staged before is replaced, never repeated;
- `list`: new items in the live CCR list (pipeline/migrate_list.py), each carrying its migration key.
Quarantined responses are listed in a formula-safe CSV (connectors/safe_csv.py): where and why, no values.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from config.settings import Paths, Settings
from connectors.forms_export import ReadOptions
from connectors.forms_values import Locale
from connectors.run_lock import LOCK_FILE_NAME, RunLock
from connectors.safe_csv import output_path, write_csv
from connectors.staging import (
    PreparedSnapshot,
    StagedTableWriter,
    commit_list,
    current_sha256,
    remove_leftovers,
)
from connectors.sync_records import ListCommit
from connectors.sync_state import STATE_FILE_NAME, SyncState
from errors import ConfigError
from pipeline.migrate_report import MigrateReport, Target
from pipeline.migrate_rows import ExportRead, MappedRows, RowIssue, read_and_map
from pipeline.progress import MigrateProgress, OnProgress, ignore_progress
from powerbi_dataset.model import DATASET
from transforms.forms_mapping import FormsMapping, check_forms_mapping, load_forms_mapping
from transforms.privacy import KEY_VARIABLE, require_key

if TYPE_CHECKING:  # --to list only: the Graph client and sign-in load when a list is written
    from pipeline.migrate_list import ListTarget, ListWrite

TARGETS: tuple[Target, ...] = ("staging", "list")
QUARANTINE_FILE = "forms_quarantine.csv"
QUARANTINE_HEADER = ("file", "row", "migration_key", "column", "code", "message")
MIGRATION_STATE_ID = "forms-migration"  # the sync state's commit record for staged migrations
MAX_MAPPING_BYTES = 1_000_000


@dataclass(frozen=True)
class MigrateOptions:
    target: Target = "staging"
    locale: Locale | None = "en-GB"  # answers (dates), and text times in .xlsx exports
    csv_time_locale: Locale | None = "en-US"  # Forms' CSV writes times m/d/yy (microsoft-apis.md §4.1)
    list_mapping: Path | None = None  # --to list: the list mapping that says how CCR columns are written
    pseudonym_key: bytes | None = field(default=None, repr=False)


@dataclass(frozen=True)
class MigrationPlan:
    """What a run will write: the checked rows, the keys already in the target, and where it goes."""

    target: Target
    rows: MappedRows
    present: frozenset[str] = frozenset()  # migration keys already in the list
    list_target: ListTarget | None = None

    @property
    def to_write(self) -> int:
        table = next(iter(self.rows.valid.values()), None)
        if table is None:
            return 0
        if self.target == "staging":
            return int(table.num_rows)
        return sum(1 for key in table.column(0).to_pylist() if key not in self.present)

    def describe(self) -> str:
        where = "staged Parquet" if self.target == "staging" else "the live CCR list"
        return (
            f"Would write {self.to_write} response(s) to {where}; {self.rows.quarantined} quarantined, "
            f"{self.rows.duplicates} duplicate(s) in the exports, {len(self.present)} already in the list."
        )


def load_mapping_file(path: Path) -> FormsMapping:
    """The Forms mapping at `path`, checked against the model; ConfigError listing every problem."""
    try:
        data = path.read_bytes()[: MAX_MAPPING_BYTES + 1]
    except OSError as error:
        raise ConfigError(
            f"cannot read the Forms mapping {path}: {error.strerror}", hint="check the path"
        ) from error
    mapping = load_forms_mapping(data.decode("utf-8", "replace"), str(path))
    problems = check_forms_mapping(mapping, DATASET)
    if problems:
        listed = "; ".join(f"{p.where}, {p.entry or 'the form'}: {p.message}" for p in problems)
        raise ConfigError(f"the Forms mapping {path} does not fit the model: {listed}",
                          hint="correct the mapping (docs/mapping.md, Forms mapping)")  # fmt: skip
    return mapping


def plan_migrate(
    files: Sequence[Path],
    mapping: FormsMapping,
    settings: Settings,
    options: MigrateOptions = MigrateOptions(),
    *,
    on_progress: OnProgress = ignore_progress,
    list_target: ListTarget | None = None,
) -> MigrationPlan:
    """Read, map, dedupe and validate; for `list`, also read the keys already there (nothing is written)."""
    if options.target not in TARGETS:
        raise ConfigError(f"unknown target {options.target!r}", hint="use --to staging or --to list")
    read_options = ReadOptions(locale=options.locale, pseudonym_key=options.pseudonym_key)
    csv_options = replace(read_options, locale=options.csv_time_locale)

    def on_file(read: ExportRead, number: int, total: int) -> None:
        on_progress(MigrateProgress("read", number, total, read.file))

    rows = read_and_map(files, mapping, read_options, csv_options, on_file=on_file)
    if options.target == "staging":
        return MigrationPlan("staging", rows)
    if list_target is None:
        if options.list_mapping is None:
            raise ConfigError("--to list needs the list mapping", hint="pass --list-mapping mapping.yaml")
        from pipeline.migrate_list import connect_list

        list_target = connect_list(settings, options.list_mapping)
    return MigrationPlan("list", rows, list_target.existing_keys(), list_target)


def migrate(
    plan: MigrationPlan,
    settings: Settings,
    *,
    dry_run: bool = False,
    on_progress: OnProgress = ignore_progress,
) -> MigrateReport:
    """Write the plan (unless `dry_run`) and report what happened."""
    rows = plan.rows
    if dry_run:
        return _report(plan, dry_run=True, written=plan.to_write, bridge=0, failed=(), quarantine=None)
    failed: tuple[RowIssue, ...] = ()
    settings.paths.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    with RunLock(settings.paths.state_dir / LOCK_FILE_NAME):
        if plan.target == "staging":
            written, bridge = _stage(rows, settings)
            on_progress(MigrateProgress("write", written, written, "staging"))
        else:
            from pipeline.migrate_list import write_items

            assert plan.list_target is not None
            outcome: ListWrite = write_items(plan.list_target, rows, plan.present, on_progress)
            written, bridge, failed = outcome.created, 0, outcome.failed
        quarantine = _write_quarantine(settings.paths.quarantine_dir, (*rows.issues, *failed))
    return _report(plan, dry_run=False, written=written, bridge=bridge, failed=failed, quarantine=quarantine)


def migrate_forms(
    files: Sequence[Path],
    mapping_file: Path,
    settings: Settings,
    options: MigrateOptions = MigrateOptions(),
    *,
    dry_run: bool = False,
    on_progress: OnProgress = ignore_progress,
) -> MigrateReport:
    """`cetk migrate forms`: load and check the mapping, plan, then write (or, with `dry_run`, only say)."""
    mapping = load_mapping_file(mapping_file)
    if options.pseudonym_key is None and settings.secrets.pseudonymisation_key is not None:
        options = replace(
            options, pseudonym_key=settings.secrets.pseudonymisation_key.reveal().encode("utf-8")
        )
    if any(form.respondent for form in mapping.forms):
        if options.pseudonym_key is None:
            raise ConfigError(
                "the Forms mapping feeds officer keys from respondents, and no pseudonymisation key is set",
                hint=f"set {KEY_VARIABLE} (or the keyring entry): Email is only ever kept as a keyed pseudonym",
            )
        require_key(options.pseudonym_key)
    plan = plan_migrate(files, mapping, settings, options, on_progress=on_progress)
    return migrate(plan, settings, dry_run=dry_run, on_progress=on_progress)


def _report(
    plan: MigrationPlan,
    *,
    dry_run: bool,
    written: int,
    bridge: int,
    failed: Sequence[RowIssue],
    quarantine: Path | None,
) -> MigrateReport:
    rows = plan.rows
    present = 0
    if plan.target == "list" and rows.valid:
        present = sum(
            1 for key in next(iter(rows.valid.values())).column(0).to_pylist() if key in plan.present
        )
    return MigrateReport(
        plan.target, dry_run, rows.files, rows.read, rows.mapped, rows.quarantined, rows.quarantined_by_rule(),
        written, rows.duplicates + present, rows.duplicates, present, len({issue.key for issue in failed}),
        bridge, str(quarantine) if quarantine else None,
    )  # fmt: skip


def _stage(rows: MappedRows, settings: Settings) -> tuple[int, int]:
    """The valid rows join the staged tables (replacing earlier versions of the same responses)."""
    paths = settings.paths
    if not rows.valid:
        return 0, 0
    parent_name = next(iter(rows.valid))
    parent_model = DATASET.table(parent_name)
    key = parent_model.key[0]
    prepared: list[PreparedSnapshot] = []
    writers: list[StagedTableWriter] = []
    with SyncState.open(paths.state_dir / STATE_FILE_NAME) as state:
        state.recover(current_sha256(paths))  # a crashed sync's or migration's commit, settled first
        remove_leftovers(paths.staging_dir)
        _stage_tables(rows, paths, state, parent_name, key, writers, prepared)
    bridge = sum(int(table.num_rows) for name, table in rows.valid.items() if name != parent_name)
    return int(rows.valid[parent_name].num_rows), bridge


def _stage_tables(
    rows: MappedRows,
    paths: Paths,
    state: SyncState,
    parent_name: str,
    key: str,
    writers: list[StagedTableWriter],
    prepared: list[PreparedSnapshot],
) -> None:
    try:
        for name, table in rows.valid.items():
            model = DATASET.table(name)
            writer = StagedTableWriter(paths.staging_dir, model, incremental=True,
                                       replace_by=None if name == parent_name else key)  # fmt: skip
            writers.append(writer)
            if name != parent_name:  # a response's bridge rows are its whole set: drop the old ones first
                writer.drop(rows.valid[parent_name].column(key).to_pylist())
            writer.add(table)
            prepared.append(writer.prepare())
        commit_list(state, ListCommit(MIGRATION_STATE_ID), prepared)
    finally:
        for writer in writers:
            writer.close()


def _write_quarantine(directory: Path, issues: Sequence[RowIssue]) -> Path | None:
    """This run's quarantine list; a clean run removes the last run's, so the file never misleads."""
    if not issues:
        (directory / QUARANTINE_FILE).unlink(missing_ok=True)
        return None
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = output_path(directory, QUARANTINE_FILE)
    lines = ((i.file, i.row, i.key, i.column, i.code, i.message) for i in issues)
    write_csv(path, QUARANTINE_HEADER, lines, private=True, byte_order_mark=True)
    return path
