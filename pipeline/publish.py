"""`cetk publish`: the published tables to the push dataset, planned first (what --dry-run prints), then applied.

What is posted is `pipeline.published.build_published` of the staged tables (free text scrubbed, event
points rounded, CCRs as areas only, and the derived issue_top5, word_cloud, ccr_demographics_agg and
yswd_evaluation), built with the settings' options and geography: exactly what `cetk report` shows.

`plan_publish()` reads only; `publish()` takes the run lock and then does what `publish_staged()` does;
`publish_staged()` is for a caller that already holds the run lock (a sync publishing what it staged).

When nothing the published tables are built from changed since the last complete publish (the digest of
pipeline/publish_inputs.py equals the one the publish state recorded then), the state is settled and the
workspace still holds that dataset with the model's tables, the plan is empty and nothing is built: a
scheduled sync with no change at source costs a few file hashes and two GETs (docs/publishing.md, "When
nothing changed"). `force` builds and compares anyway; `recreate` and `compact` never skip.
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
from pipeline.publish_inputs import PublishedInputs, published_inputs
from pipeline.published import Published, analytics_options, build_published, geography_files
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
    inputs: PublishedInputs | None = field(default=None, repr=False)  # None: --recreate or --compact
    unchanged: str | None = None  # why nothing is built or posted (the skip), else None

    def describe(self) -> str:
        if self.unchanged:
            return "\n".join([f"Would skip the build and post nothing: {self.unchanged}", *self.plan.notes])
        if not self.plan.steps:
            return "\n".join(["Nothing to publish: no published row changed.", *self.plan.notes])
        return self.plan.describe()

    def to_dict(self) -> dict[str, Any]:
        body = {"dataset": self.sink.options.dataset_name, **self.plan.to_dict()}
        return {**body, "unchanged": self.unchanged} if self.unchanged else body


def plan_publish(
    settings: Settings,
    *,
    recreate: bool = False,
    compact: tuple[str, ...] = (),
    force: bool = False,
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
    (SourceFormatError), before any request: nothing is published in part. With nothing changed since the
    last complete publish (module docstring), nothing is built and the plan is empty, unless `force`."""
    names = [table.name for table in dataset.published_tables if table.publish_mode != "control"]
    unknown = sorted(set(compact) - set(names))
    if unknown:
        raise CetkError(
            f"--compact {', '.join(unknown)}: no such table", hint=f"tables are: {', '.join(names)}"
        )
    inputs = None if recreate or compact else published_inputs(settings, dataset)  # hashed before the build
    store = store or PublishState.open(settings.paths.state_dir, create=False)
    # Decided from local files alone, before any request; the workspace is asked only when they agree.
    maybe_unchanged = inputs is not None and not force and inputs_recorded(store, inputs)

    def build() -> Published:
        return build_published(
            settings.paths.staging_dir, geography_files(settings), analytics_options(settings)
        )

    published = None if maybe_unchanged else build()  # a table not staged is refused before any request
    client = client or powerbi_client(settings, sleep=sleep, clock=clock)
    options = PublishOptions(settings.powerbi_dataset_name, recreate=recreate, compact=frozenset(compact))

    def posted(table: str, done: int, planned: int) -> None:
        on_progress(RowsPosted(table, done, planned))

    sink = PushSink(client, store, options=options, dataset=dataset, clock=clock, sleep=sleep, on_post=posted)
    if published is None:
        reason = unchanged_reason(sink, store)
        if reason is not None:
            return PublishPlanned(Plan(()), sink, inputs, reason)
        published = build()
    planned = sink.plan(published.arrow)
    notes = published.notes
    if planned.skipped:
        notes += (f"Not staged, left as published: {', '.join(planned.skipped)}.",)
    return PublishPlanned(Plan(planned.steps, notes), sink, inputs)


def inputs_recorded(store: PublishStore, inputs: PublishedInputs) -> bool:
    """The state recorded these inputs with its last complete publish and is settled since (no load open,
    committing or uncertain; no table unknown or waiting for a reload)."""
    recorded = store.published_inputs()
    return recorded is not None and recorded.digest == inputs.digest and store.settled()


def unchanged_reason(sink: PushSink, store: PublishStore) -> str | None:
    """Why a publish whose inputs digest equals the recorded one can skip the build, or None when it
    cannot: the recorded digest must describe the dataset the state is bound to, and the workspace must
    still hold that dataset (not deleted, not replaced by another of the name) with the model's tables
    (plan_dataset: no step to settle, create, adopt or put). Two GETs: the datasets and its tables."""
    recorded = store.published_inputs()
    bound = store.dataset()
    if recorded is None or bound is None or recorded.dataset_id != bound[0]:
        return None
    steps, fresh = sink.plan_dataset()
    if steps or fresh:
        return None
    since = f"load {recorded.load_id}" if recorded.load_id else "the last publish"
    return (
        f"nothing the published tables are built from changed since {since} (staged files, settings, "
        "reference geography, model and code), and the dataset is as that publish left it; "
        "`cetk publish --force` rebuilds and compares anyway"
    )


def publish_staged(
    settings: Settings,
    *,
    recreate: bool = False,
    compact: tuple[str, ...] = (),
    force: bool = False,
    client: PushClient | None = None,
    dataset: Dataset = DATASET,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    on_progress: OnProgress = ignore_progress,
) -> PublishResult:
    """Publish what is staged, for a caller that ALREADY holds the run lock (a sync after staging): open
    the publish state (creating it), plan, apply exactly that plan, and return what it did. Once the whole
    plan is applied, the state records the digest of what it was built from (the next run with the same
    inputs skips the build); a plan that fails part way records nothing."""
    client = client or powerbi_client(settings, sleep=sleep, clock=clock)
    store = PublishState.open(settings.paths.state_dir)
    try:
        planned = plan_publish(
            settings,
            recreate=recreate,
            compact=compact,
            force=force,
            client=client,
            store=store,
            dataset=dataset,
            clock=clock,
            sleep=sleep,
            on_progress=on_progress,
        )
        apply(planned.plan, on_progress)
        dataset_id = planned.sink.dataset_id
        if planned.unchanged is None and planned.inputs is not None and dataset_id is not None:
            store.record_published_inputs(planned.inputs.digest, dataset_id)
    finally:
        store.close()
    result = planned.sink.result
    if planned.unchanged is not None:
        result.unchanged, result.dataset_id = planned.unchanged, planned.sink.dataset_id
    stats = getattr(client, "stats", None)
    if stats is not None:  # resends after a 429, and the time they waited, from the client's session
        result.retries = int(stats.retries)
    return result


def publish(
    settings: Settings,
    *,
    recreate: bool = False,
    compact: tuple[str, ...] = (),
    force: bool = False,
    dry_run: bool = False,
    client: PushClient | None = None,
    dataset: Dataset = DATASET,
    clock: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    on_progress: OnProgress = ignore_progress,
) -> PublishPlanned | PublishResult:
    """`cetk publish`: the staged tables to the push dataset, as one load of new versions committed by its
    `_loads` row (docs/publishing.md). A dry run returns the plan and writes nothing; the real run holds the
    run lock (RunLocked, exit 3, while another run holds it), then does what publish_staged() does. With
    nothing changed since the last complete publish nothing is built or posted (status "unchanged"), unless
    `force`."""
    if dry_run:
        planned = plan_publish(
            settings,
            recreate=recreate,
            compact=compact,
            force=force,
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
            force=force,
            client=client,
            dataset=dataset,
            clock=clock,
            sleep=sleep,
            on_progress=on_progress,
        )
