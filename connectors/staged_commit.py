"""Making a list's prepared files true together: a staged file's next version (PreparedSnapshot), the
crash-safe commit that renames them and records them in the sync state (docs/sync.md), and the clean-up
of what a crashed run left. Writing those files is connectors/staging.py; this is what happens after.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from connectors.durable_files import fsync_directory, replace_durably
from connectors.sync_records import ListCommit
from connectors.sync_state import SyncState

ABSENT = "absent"  # the hash the state records for a file that is not there (an emptied quarantine)
QUARANTINE_PREFIX = "quarantine/"  # state names of quarantine files; they are renamed after staged tables

OnStep = Callable[[str], None]


@dataclass(frozen=True)
class PreparedSnapshot:
    """A file's next version: written to `temporary` and fsynced, to be removed (`remove`), or (neither)
    left as it is. `table` is the name the state records it under: a staged table's name, or
    QUARANTINE_PREFIX + a quarantine file's name."""

    table: str
    path: Path
    temporary: Path | None
    sha256: str  # of the file after publish(); ABSENT when there will be none
    rows: int
    remove: bool = False
    tracked: bool = True  # recorded in the state; False for a file derived from another (the quarantine CSV)

    @property
    def changed(self) -> bool:
        return self.temporary is not None or self.remove

    def publish(self) -> None:
        """Rename the temporary file over the old one (or remove it) and fsync the folder: durable, atomic."""
        if self.temporary is not None:
            replace_durably(self.temporary, self.path)
        elif self.remove:
            self.path.unlink(missing_ok=True)
            fsync_directory(self.path.parent)

    def discard(self) -> None:
        if self.temporary is not None:
            self.temporary.unlink(missing_ok=True)


def commit_list(
    state: SyncState,
    commit: ListCommit,
    prepared: Sequence[PreparedSnapshot],
    *,
    on_step: OnStep | None = None,
) -> None:
    """Make a list's prepared files (staged tables and quarantine files) and its new link true together,
    crash-safely (docs/sync.md):
    1. the state records the commit as pending, with each tracked file's hash after the commit;
    2. each changed file is renamed over the old one (staged tables first, quarantine files last) or
       removed, and its folder fsynced;
    3. the state makes the link, hashes and key map committed.
    A crash before 3 is settled by SyncState.recover() at the next start."""
    step = on_step or (lambda name: None)
    ordered = sorted(prepared, key=lambda item: item.table.startswith(QUARANTINE_PREFIX))  # stable
    snapshots = {item.table: item.sha256 for item in ordered if item.tracked}
    try:
        if not any(item.changed and item.tracked for item in ordered):
            _publish_all(ordered, step)  # a derived file only (a CSV a person deleted): nothing to track
            state.commit_unchanged(commit, snapshots)
            step("committed")
            return
        state.begin_commit(commit, snapshots)
        step("begun")
        _publish_all(ordered, step)
    except BaseException:
        for item in prepared:
            item.discard()
        raise
    state.complete_commit(commit.list_id)
    step("committed")


def _publish_all(prepared: Sequence[PreparedSnapshot], step: OnStep) -> None:
    for item in prepared:
        if item.changed:
            item.publish()
            step(f"{'removed' if item.remove else 'renamed'} {item.table}")


def remove_leftovers(staging_dir: Path) -> list[Path]:
    """Temporary files and spill folders a crashed run left; call only while holding the run lock."""
    removed: list[Path] = []
    if not staging_dir.is_dir():
        return removed
    for path in sorted(staging_dir.iterdir()):
        if path.name.startswith(".spill-") and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
        elif path.name.startswith(".") and path.name.endswith(".tmp") and path.is_file():
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
