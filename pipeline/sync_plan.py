"""`cetk sync --dry-run`: per list, whether a sync would read it whole or its changes, the tables it feeds,
and its columns against the mapping (a list that would stop says why); reads, never writes, takes no lock.

    plan = plan_sync(settings)          # plan.describe() for people, plan.to_dict() for --json
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.settings import Settings
from connectors.auth import SignIn
from connectors.sync_state import STATE_FILE_NAME, SyncState
from errors import NotFoundError
from pipeline.sync_list import table_names
from pipeline.sync_source import choose_lists, load_site_mapping, open_source
from powerbi_dataset.model import DATASET
from transforms.drift import SchemaDiff, diff_columns

__all__ = ["ListPlan", "SyncPlan", "plan_sync"]


@dataclass(frozen=True)
class ListPlan:
    list_name: str
    tables: tuple[str, ...]
    read: str  # "full" | "changes"
    drift: SchemaDiff | None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"list": self.list_name, "tables": list(self.tables), "read": self.read,
                "drift": self.drift.to_dict() if self.drift else None, "error": self.error}  # fmt: skip


@dataclass(frozen=True)
class SyncPlan:
    """What `cetk sync` would do (`--dry-run`): per list, how it would be read and whether it would stop."""

    lists: tuple[ListPlan, ...]
    staging_dir: Path

    def describe(self) -> str:
        lines = [f"Would stage into {self.staging_dir}:"]
        for one in self.lists:
            if one.error:
                lines.append(f"  {one.list_name}: would stop: {one.error}")
                continue
            how = "read in full" if one.read == "full" else "read changes since the last run"
            lines.append(f"  {one.list_name} -> {', '.join(one.tables)}: {how}")
            if one.drift is not None and one.drift.changed:
                lines.extend("    " + line for line in one.drift.describe().splitlines())
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"staging_dir": str(self.staging_dir), "lists": [one.to_dict() for one in self.lists]}


def plan_sync(
    settings: Settings,
    *,
    full: bool = False,
    lists: Sequence[str] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    sign_in: SignIn | None = None,
) -> SyncPlan:
    """`cetk sync --dry-run`: reads the lists' columns and the saved links; writes nothing, takes no lock."""
    mapping = load_site_mapping(settings.mapping_file)
    chosen = choose_lists(mapping, lists)
    source = open_source(settings, sleep=sleep, clock=clock, sign_in=sign_in)
    links: dict[str, str | None] = {}
    plans = []
    state_file = settings.paths.state_dir / STATE_FILE_NAME
    with _read_only_state(state_file) as state:
        for one in chosen:
            tables = tuple(table_names(one, DATASET))
            try:
                live = source.reader.list_by_name(source.site_id, one.display_name)
            except NotFoundError as error:
                plans.append(ListPlan(one.display_name, tables, "full", None, error.message))
                continue
            links[live.id] = state.delta_link(live.id) if state is not None else None
            diff = diff_columns(live, one)
            read = "changes" if links[live.id] and source.has_delta and not full else "full"
            stop = "a mapped column is gone or retyped" if diff.blocking else None
            plans.append(ListPlan(one.display_name, tables, read, diff, stop))
    return SyncPlan(tuple(plans), settings.paths.staging_dir)


@contextmanager
def _read_only_state(path: Path) -> Iterator[SyncState | None]:
    """The sync state opened read-only, or None before the first run: a plan never writes."""
    if not path.exists():
        yield None
        return
    with SyncState.open(path, read_only=True) as state:
        yield state
