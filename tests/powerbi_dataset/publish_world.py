"""Staged tables from the demo force, a publisher wired to the HTTPS emulator, and what reports would see.

The force's canonical tables are staged as the sync stages them: free text scrubbed (transforms/scrub.py),
the model's staging Arrow schema. `view_equals_source` compares the reference view of the emulator's rows
with the staged tables, table by table, by key and by every published value.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from connectors.publish_state import PublishState
from connectors.reference_files import demo_geography_files
from emulator.demo.force import Force, generate_force
from powerbi_dataset.derive import arrow_schema
from powerbi_dataset.model import DATASET
from powerbi_dataset.publish import PublishOptions, PushSink
from powerbi_dataset.report_view import relationship_problems, report_view
from powerbi_dataset.schema import Dataset
from tests.connectors.conftest import ManualTime, Waits
from tests.connectors.powerbi_world import Workspace
from transforms.scrub import scrub

DATASET_NAME = "Community Engagement"


@cache
def demo_force(seed: int = 7, events: int = 120, ccrs: int = 400) -> Force:
    return generate_force(seed=seed, events=events, ccrs=ccrs, invalid_fraction=0.0)


def free_text_columns(table_name: str) -> list[str]:
    table = DATASET.table(table_name)
    return [
        column.name
        for column in table.published_columns
        if column.kind == "String"
        and not column.codes
        and column.pattern is None
        and column.max_length
        and column.max_length > 100
    ]


def staged_from_frames(
    frames: Mapping[str, pd.DataFrame], dataset: Dataset = DATASET, *, scrubbed: bool = True
) -> dict[str, pa.Table]:
    """The frames in the staging schema; free text scrubbed as the sync scrubs it (scrubbed=False: as given,
    a staged file written by something that did not scrub, such as an older cetk)."""
    staged: dict[str, pa.Table] = {}
    for name, frame in frames.items():
        frame = frame.copy()
        for column in free_text_columns(name) if dataset is DATASET and scrubbed else ():
            frame[column] = scrub(frame[column]).text
        schema = arrow_schema(dataset.table(name))
        staged[name] = pa.Table.from_pandas(frame, schema=schema, preserve_index=False)
    return staged


def demo_staged(**sizes: int) -> dict[str, pa.Table]:
    return staged_from_frames(demo_force(**sizes).tables)


def ccr_staged(ccrs: int, *, salt: str = "") -> dict[str, pa.Table]:
    """The dimensions and `ccrs` CCRs with their issues: the demo force's CCRs repeated under new ids."""
    force = demo_force()
    base, issues = force.tables["ccr"], force.tables["ccr_issues"]
    copies = -(-ccrs // len(base))
    frames = []
    issue_frames = []
    for copy in range(copies):
        ids = base["ccr_id"] + f"~{salt}{copy}"
        frames.append(base.assign(ccr_id=ids))
        issue_frames.append(issues.assign(ccr_id=issues["ccr_id"] + f"~{salt}{copy}"))
    ccr = pd.concat(frames, ignore_index=True).iloc[:ccrs]
    kept = set(ccr["ccr_id"])
    ccr_issues = pd.concat(issue_frames, ignore_index=True)
    ccr_issues = ccr_issues[ccr_issues["ccr_id"].isin(kept)]
    tables = {name: force.tables[name] for name in ("areas", "officers", "themes")}
    return staged_from_frames({**tables, "ccr": ccr, "ccr_issues": ccr_issues})


def write_staged(staged: Mapping[str, pa.Table], directory: Path) -> Path:
    """One Parquet file per table, as the sync stages them."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in staged.items():
        pq.write_table(data, directory / f"{name}.parquet")
    return directory


@dataclass
class Publisher:
    """A workspace on the emulator and the state directory a publish records itself in."""

    workspace: Workspace
    state_dir: Path
    clock: ManualTime
    waits: Waits
    dataset: Dataset = DATASET

    def sink(self, **options: Any) -> tuple[PushSink, PublishState]:
        store = PublishState.open(self.state_dir)
        sink = PushSink(
            self.workspace.client,
            store,
            options=PublishOptions(DATASET_NAME, **options),
            dataset=self.dataset,
            clock=self.clock.time,
            sleep=self.waits,
        )
        return sink, store

    def publish(self, staged: Mapping[str, pa.Table], **options: Any) -> PushSink:
        """Plan and apply every step, as pipeline.apply does."""
        sink, store = self.sink(**options)
        try:
            for step in sink.plan(staged).steps:
                step.apply()
        finally:
            store.close()
        return sink

    @property
    def dataset_id(self) -> str:
        found = [d for d in self.workspace.client.datasets() if d.name == DATASET_NAME]
        assert len(found) == 1
        return found[0].id

    def stored(self) -> dict[str, list[dict[str, Any]]]:
        """Every row the emulator holds, per published table."""
        emu, group, dataset_id = self.workspace.emu, self.workspace.group, self.dataset_id
        return {
            table.name: emu.powerbi.rows(group, dataset_id, table.name)
            for table in self.dataset.published_tables
        }

    def row_posts(self) -> list[Any]:
        return [record for record in self.workspace.posts("/rows")]


def canonical(table_name: str, data: pa.Table, dataset: Dataset = DATASET) -> list[dict[str, Any]]:
    """A table's published columns (load_id aside) as sorted plain rows, for comparison."""
    table = dataset.table(table_name)
    names = [column.name for column in table.published_columns if column.name != "load_id"]
    rows = data.select(names).to_pylist()
    return sorted(rows, key=lambda row: tuple(str(row[name]) for name in table.key))


def view_differences(
    stored: Mapping[str, Any], staged: Mapping[str, pa.Table], dataset: Dataset = DATASET
) -> dict[str, str]:
    """Tables whose reference view differs from the staged source (empty when reports see the source)."""
    view = report_view(stored, dataset)
    differences: dict[str, str] = {}
    for name, data in staged.items():
        seen, source = canonical(name, view[name], dataset), canonical(name, data, dataset)
        if seen != source:
            keys = dataset.table(name).key
            seen_keys = [tuple(row[k] for k in keys) for row in seen]
            source_keys = [tuple(row[k] for k in keys) for row in source]
            differences[name] = (
                f"{len(seen)} rows seen, {len(source)} in the source; duplicates seen "
                f"{len(seen_keys) - len(set(seen_keys))}; missing {len(set(source_keys) - set(seen_keys))}; "
                f"extra {len(set(seen_keys) - set(source_keys))}"
            )
    return differences


def check_relationships(stored: Mapping[str, Any], dataset: Dataset = DATASET) -> list[str]:
    return relationship_problems(stored, dataset)


def copy_demo_geography(folder: Path) -> Path:
    """The demo's four reference files copied into a new `folder` (a geography.dir of the same files)."""
    folder.mkdir()
    files = demo_geography_files()
    for path in (files.ward_lookup, files.lsoa_lookup, files.ward_boundaries, files.lpt_boundaries):
        shutil.copyfile(path, folder / path.name)
    return folder
