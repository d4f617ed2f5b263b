"""`cetk sync`: every mapped list of the site into staged, minimised, validated Parquet, with quarantine,
the run ledger and a JSON run report (docs/sync.md).

    plan = plan_sync(settings)                  # --dry-run (sync_plan.py): per list, full read or changes
    result = sync(settings, full=False)         # result.exit_code: 0 ok, 1 rows quarantined, 2 failed, 3 locked

A run holds the run lock, reads the lists in the mapping's order (a lookup list before the lists pointing
into it), checks each list's live columns against the mapping first (a mapped column gone or retyped stops
that list with the diff; the others go on), and commits each list with its new delta link. It never
prints: progress goes to `on_progress`; the run report is written however the run ends.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from config.logs import Redactor
from config.settings import Settings
from connectors.auth import SignIn
from connectors.quarantine import Quarantine
from connectors.run_report import RunRecorder, read_last_report, recorded_run
from connectors.sync_state import future_cursor_warning
from errors import CetkError, ExitCode, NotFoundError, SourceFormatError
from pipeline.progress import ListSynced, OnProgress, ignore_progress
from pipeline.sync_batch import BATCH_ITEMS
from pipeline.sync_list import ListRun, sync_list
from pipeline.sync_publish import after_staging, check_publish_settings
from pipeline.sync_source import Source, choose_lists, load_site_mapping, open_source, pseudonymisation_key
from powerbi_dataset.model import DATASET
from powerbi_dataset.schema import Dataset
from transforms.drift import diff_columns
from transforms.list_mapping import ListMapping, SiteMapping
from transforms.normalise import NormaliseContext, people_staff_numbers
from transforms.page_read import ArrowItems

logger = logging.getLogger(__name__)

# Exit codes of `cetk sync` (docs/cli.md), from the project's one table
EXIT_OK, EXIT_QUARANTINED, EXIT_FAILED, EXIT_LOCKED = (
    ExitCode.OK, ExitCode.DATA_PROBLEMS, ExitCode.FAILED, ExitCode.LOCKED
)  # fmt: skip


@dataclass(frozen=True)
class SyncResult:
    """How a sync ended: its run report (as written to disk) and the exit code for the command."""

    report: dict[str, Any]
    report_file: Path | None
    exit_code: ExitCode
    error: CetkError | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"exit_code": int(self.exit_code), "report_file": str(self.report_file) if self.report_file else None,
                "report": self.report}  # fmt: skip

    def describe(self) -> str:
        report = self.report
        lines = [f"Sync {report.get('status', 'failed')} (run {report.get('run_id') or '-'})."]
        for name, entry in (report.get("lists") or {}).items():
            if entry.get("status") == "ok":
                how = "full read" if entry.get("full_read") else "changes"
                lines.append(
                    f"  {name}: {entry['items_read']} read, {entry['items_deleted']} deleted ({how})"
                )
            else:
                lines.append(f"  {name}: stopped: {entry.get('message', '')}")
        for table, entry in sorted((report.get("quarantine") or {}).items()):
            if entry.get("rows"):
                lines.append(f"  quarantine {table}: {entry['rows']} row(s), see {entry['csv']}")
        published = report.get("publish")
        if published and published.get("mode") == "push":
            lines.append(
                f"  published to '{published.get('dataset')}': {published.get('status')},"
                f" {published.get('rows', 0)} row(s) in {published.get('posts', 0)} POST(s)"
            )
        elif published:
            lines.append(f"  refresh of '{published.get('dataset_name')}': {published.get('outcome', '')}")
        for warning in report.get("warnings") or []:
            lines.append(f"  warning ({warning['code']}): {warning['message']}")
        if self.report_file:
            lines.append(f"Run report: {self.report_file}")
        return "\n".join(lines)


def sync(
    settings: Settings,
    *,
    full: bool = False,
    lists: Sequence[str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    jitter: Callable[[], float] = random.random,
    sign_in: SignIn | None = None,
    dataset: Dataset = DATASET,
    page_size: int | None = None,
    on_progress: OnProgress = ignore_progress,
    arrow_pages: bool = True,
    batch_items: int = BATCH_ITEMS,
) -> SyncResult:
    """`cetk sync`: stage every mapped list (or `lists`); the run report is written whatever happens.
    `arrow_pages=False` reads Graph pages as dicts instead of Arrow; `batch_items` is how many items one
    normalise call gathers at most (pipeline/sync_batch.py; 1: a page a call). Neither changes what is
    staged (tests, benches).

    A CetkError does not raise: it ends the run as failed (exit 2; 3 when another run holds the lock) and
    is returned with the report. Bugs raise."""
    use_system_allocator()
    redact = Redactor.for_settings(settings).redact
    options = {"full": full, "lists": list(lists) if lists else None, "api": settings.sharepoint_api}

    def now() -> dt.datetime:
        return dt.datetime.fromtimestamp(clock(), dt.UTC)

    failed_lists = 0
    # --full of every list starts the state afresh (and moves a corrupt one aside); --full of some lists
    # reads those whole and keeps the others' key maps, which lookups into them still need
    full_refresh = full and not lists
    try:
        with recorded_run(
            settings.paths, "sync", options, full_refresh=full_refresh, clock=now, redact=redact
        ) as run:
            source: Source | None = None
            try:
                mapping = load_site_mapping(settings.mapping_file)
                chosen = choose_lists(mapping, lists)
                key = pseudonymisation_key(settings)
                source = open_source(
                    settings, sleep=sleep, clock=clock, jitter=jitter, sign_in=sign_in, page_size=page_size,
                    arrow_pages=arrow_pages,
                )  # fmt: skip
                check_publish_settings(settings)
                failed_lists = _sync_lists(run, source, settings, mapping, chosen, key, dataset, now(), full,
                                           on_progress, batch_items)  # fmt: skip
                run.published = after_staging(
                    settings, run, sleep=sleep, clock=clock, on_progress=on_progress
                )
            finally:
                if source is not None:
                    run.add_http_work(source.stats)
    except CetkError as error:
        logger.error("sync failed: %s", " ".join(redact(error.message).split()))
        return _result(settings, error.exit_code, error)  # RunLocked: 3; any other: 2
    report = read_last_report(settings.paths.state_dir) or {}
    partial = report.get("status") == "partial"
    code = EXIT_FAILED if failed_lists else EXIT_QUARANTINED if partial else EXIT_OK
    return _result(settings, code, None)


def use_system_allocator() -> None:
    """Arrow's buffers from the C allocator, as Python's own large objects: memory a page's decoded JSON
    frees is reused for the next page's Arrow tables instead of each allocator keeping its own high-water
    mark (about 30 MB less peak RSS for a sync; docs/performance.md, "Sync end to end"). Only where memory
    comes from changes, for the whole process; every array already made keeps its own pool."""
    if pa.default_memory_pool().backend_name != "system":
        pa.set_memory_pool(pa.system_memory_pool())


def _sync_lists(
    run: RunRecorder,
    source: Source,
    settings: Settings,
    mapping: SiteMapping,
    chosen: Sequence[ListMapping],
    key: bytes,
    dataset: Dataset,
    as_of: dt.datetime,
    full: bool,
    on_progress: OnProgress,
    batch_items: int = BATCH_ITEMS,
) -> int:
    """Each list in turn; a list whose columns drifted, or that is gone, stops alone. Returns how many did."""
    state = run.state
    assert state is not None
    list_ids: dict[str, str] = {}
    staff: dict[str, str] | None = None
    people = mapping.people
    seen_people: dict[str, str] = {}

    def list_id(display_name: str) -> str:
        if display_name not in list_ids:
            list_ids[display_name] = source.reader.list_by_name(source.site_id, display_name).id
        return list_ids[display_name]

    def saw_people(items: list[dict[str, Any]] | ArrowItems) -> None:
        assert people is not None
        seen_people.update(people_staff_numbers(items, people))

    def context(this_list: str, one: ListMapping) -> NormaliseContext:
        nonlocal staff
        if staff is None and needs_people(one):  # a run with no changes, or none to people, reads no people
            staff = _staff_numbers(source, mapping, list_id) if people is not None else {}
        targets = {column.lookup_list for column in one.columns if column.lookup_list}
        lookups = {name: state.item_keys(list_id(name)) for name in sorted(targets)}
        return NormaliseContext(this_list, key, lookups, staff or {})

    job = ListRun(source, state, run, Quarantine(settings.paths.quarantine_dir, dataset),
                  settings.paths.staging_dir, dataset, as_of, people, context, on_progress, saw_people,
                  batch_items)  # fmt: skip
    failed = 0
    for one in chosen:
        name = one.display_name
        try:
            live = source.reader.list_by_name(source.site_id, name)
        except NotFoundError as error:
            failed += 1
            run.list_failed(name, "", error)
            on_progress(ListSynced(name, "failed", 0, 0))
            continue
        list_ids[name] = live.id
        diff = diff_columns(live, one)
        if diff.blocking:
            failed += 1
            run.list_failed(name, live.id, SourceFormatError(diff.describe(), hint="update the mapping file"))
            run.lists[name]["drift"] = diff.to_dict()
            run.warn("schema-drift", diff.describe(), list_name=name)
            logger.warning("list %s stopped: its columns changed\n%s", name, diff.describe())
            on_progress(ListSynced(name, "failed", 0, 0))
            continue
        if diff.changed:
            run.warn("schema-drift", diff.describe(), list_name=name)
            logger.warning("%s", diff.describe())
        if warning := future_cursor_warning(live.id, state.modified_cursor(live.id), as_of):
            run.warn("future-cursor", warning, list_name=name)
        outcome = sync_list(job, one, live, full=full)
        if people is not None and name == people.list and outcome.full_read and staff is None:
            staff = dict(seen_people)  # read whole just now: no second read of the people list
        if diff.changed:
            run.lists[name]["drift"] = diff.to_dict()
        on_progress(ListSynced(name, "ok", outcome.items_read, outcome.quarantined))
    return failed


def needs_people(one: ListMapping) -> bool:
    """Whether normalising this list turns people into officer keys (a person column, Created/Modified By)."""
    person = any(c.type in ("person", "multiperson") and not c.is_ignored for c in one.columns)
    return person or any(name in one.built_ins for name in ("author", "editor"))


def _staff_numbers(source: Source, mapping: SiteMapping, list_id: Callable[[str], str]) -> dict[str, str]:
    """Person lookup id -> staff number, from a read of the people list's two columns: in memory only."""
    people = mapping.people
    assert people is not None
    found: dict[str, str] = {}
    pages = source.reader.iter_item_pages(
        source.site_id, list_id(people.list), [people.account, people.staff_number],
        lookup_columns=[people.account],
    )  # fmt: skip
    for page in pages:
        found.update(people_staff_numbers(page.items, people))
    return found


def _result(settings: Settings, code: ExitCode, error: CetkError | None) -> SyncResult:
    state_dir = settings.paths.state_dir
    report = read_last_report(state_dir) or {}
    run_id = report.get("run_id")
    file = (
        state_dir / "runs" / f"{run_id:06d}.json" if isinstance(run_id, int) else state_dir / "last-run.json"
    )
    return SyncResult(report, file if file.exists() else None, code, error)
