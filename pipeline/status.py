"""`cetk status`: the run ledger of the sync state, read-only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connectors.run_lock import LAST_RUN_FILE, LOCK_FILE_NAME, lock_holder
from connectors.sync_state import STATE_FILE_NAME, SyncState
from transforms.report import counted


def status(state_dir: Path, *, limit: int = 20) -> dict[str, Any]:
    """`cetk status`: the run ledger's last `limit` runs, newest first. No state yet is not an error.

    Reads only: the state is opened read-only and the lock is never taken (a run may be starting).
    """
    path = state_dir / STATE_FILE_NAME
    holder = lock_holder(state_dir / LOCK_FILE_NAME)
    last_report = state_dir / LAST_RUN_FILE
    result: dict[str, Any] = {
        "state_file": str(path),
        "last_report": str(last_report) if last_report.exists() else None,
        "running": {"pid": holder.pid, "started_utc": holder.started_utc} if holder else None,
        "runs": [],
    }
    if not path.exists():
        result["message"] = (
            f"No sync has run yet: there is no sync state at {path}. Run `cetk sync` to start."
        )
        return result
    with SyncState.open(path, read_only=True) as state:
        result["runs"] = [run.to_dict() for run in state.runs(limit)]
    shown = len(result["runs"])
    result["message"] = (
        f"The last {counted(shown, 'run')}, newest first." if shown else "No run is recorded yet."
    )
    return result
