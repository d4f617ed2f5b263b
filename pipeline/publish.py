"""`cetk publish`: the published tables to the push dataset, planned first (what --dry-run prints), then applied.

What is posted is `pipeline.published.build_published` of the staged tables (free text scrubbed, event
points rounded, CCRs as areas only, and the derived issue_top5, word_cloud, ccr_demographics_agg and
yswd_evaluation), built with the settings' options and geography: exactly what `cetk report` shows.

`plan_publish()` reads only; `publish()` takes the run lock and then does what `publish_staged()` does;
`publish_staged()` is for a caller that already holds the run lock (a sync publishing what it staged).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from config.settings import Settings
from connectors.publish_state import PublishState
from connectors.run_lock import LOCK_FILE_NAME, RunLock
from errors import CetkError
from pipeline.plans import apply
from pipeline.progress import OnProgress, RowsPosted, ignore_progress
from pipeline.published import analytics_options, build_published, geography_files
from pipeline.refresh import powerbi_client
from pipeline.steps import Plan
from powerbi_dataset.model import DATASET
from powerbi_dataset.publish import PublishOptions, PushSink
from powerbi_dataset.publish_steps import PublishResult
from powerbi_dataset.push_api import PublishStore, PushClient
from powerbi_dataset.schema import Dataset


@dataclass(frozen=True)
class PublishPlanned:
    """A publish plan (what --dry-run prints) and the sink that executes exactly it."""

    plan: Plan
    sink: PushSink = field(repr=False)

    def describe(self) -> str:
        if not self.plan.steps:
            return "\n".join(["Nothing to publish: no published row changed.", *self.plan.notes])
        return self.plan.describe()

    def to_dict(self) -> dict[str, Any]:
        return {"dataset": self.sink.options.dataset_name, **self.plan.to_dict()}


def plan_publish(
    settings: Settings,
    *,
    recreate: bool = False,
    compact: tuple[str, ...] = (),
    client: PushClient | None = None,
    store: PublishStore | None = None,
    dataset: Dataset = DATASET,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    on_progress: OnProgress = ignore_progress,
) -> PublishPlanned:
    """Compare the model and the published tables (built from the staged ones, as the report builds them)
    with the workspace and the publish state: the steps a publish takes (create the dataset, PutTable, one
    load with its rows per table, POSTs and expected duration). Reads only; a missing publish state is read
    as empty, not created. A table the figures need that is not staged refuses the whole publish
    (SourceFormatError), before any request: nothing is published in part."""
    names = [table.name for table in dataset.published_tables if table.publish_mode != "control"]
    unknown = sorted(set(compact) - set(names))
    if unknown:
        raise CetkError(
            f"--compact {', '.join(unknown)}: no such table", hint=f"tables are: {', '.join(names)}"
        )
    published = build_published(
        settings.paths.staging_dir, geography_files(settings), analytics_options(settings)
    )
    client = client or powerbi_client(settings, sleep=sleep, clock=clock)
    store = store or PublishState.open(settings.paths.state_dir, create=False)
    options = PublishOptions(settings.powerbi_dataset_name, recreate=recreate, compact=frozenset(compact))

    def posted(table: str, done: int, planned: int) -> None:
        on_progress(RowsPosted(table, done, planned))

    sink = PushSink(client, store, options=options, dataset=dataset, clock=clock, sleep=sleep, on_post=posted)
    planned = sink.plan(published.arrow)
    notes = published.notes
    if planned.skipped:
        notes += (f"Not staged, left as published: {', '.join(planned.skipped)}.",)
    return PublishPlanned(Plan(planned.steps, notes), sink)


def publish_staged(
    settings: Settings,
    *,
    recreate: bool = False,
    compact: tuple[str, ...] = (),
    client: PushClient | None = None,
    dataset: Dataset = DATASET,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    on_progress: OnProgress = ignore_progress,
) -> PublishResult:
    """Publish what is staged, for a caller that ALREADY holds the run lock (a sync after staging): open
    the publish state (creating it), plan, apply exactly that plan, and return what it did."""
    client = client or powerbi_client(settings, sleep=sleep, clock=clock)
    store = PublishState.open(settings.paths.state_dir)
    try:
        planned = plan_publish(
            settings,
            recreate=recreate,
            compact=compact,
            client=client,
            store=store,
            dataset=dataset,
            clock=clock,
            sleep=sleep,
            on_progress=on_progress,
        )
        apply(planned.plan, on_progress)
    finally:
        store.close()
    result = planned.sink.result
    stats = getattr(client, "stats", None)
    if stats is not None:  # resends after a 429, and the time they waited, from the client's session
        result.retries = int(stats.retries)
    return result


def publish(
    settings: Settings,
    *,
    recreate: bool = False,
    compact: tuple[str, ...] = (),
    dry_run: bool = False,
    client: PushClient | None = None,
    dataset: Dataset = DATASET,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    on_progress: OnProgress = ignore_progress,
) -> PublishPlanned | PublishResult:
    """`cetk publish`: the staged tables to the push dataset, as one load of new versions committed by its
    `_loads` row (docs/publishing.md). A dry run returns the plan and writes nothing; the real run holds the
    run lock (RunLocked, exit 3, while another run holds it), then does what publish_staged() does."""
    if dry_run:
        planned = plan_publish(
            settings,
            recreate=recreate,
            compact=compact,
            client=client,
            dataset=dataset,
            clock=clock,
            sleep=sleep,
        )
        planned.sink.store.close()
        return planned
    client = client or powerbi_client(settings, sleep=sleep, clock=clock)
    with RunLock(settings.paths.state_dir / LOCK_FILE_NAME):
        return publish_staged(
            settings,
            recreate=recreate,
            compact=compact,
            client=client,
            dataset=dataset,
            clock=clock,
            sleep=sleep,
            on_progress=on_progress,
        )
