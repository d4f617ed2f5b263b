"""The SQL of a list's two-step commit (docs/sync.md, "Staging, state and quarantine"): what the commit
will make true is written as pending rows (step 1), then applied as the list's committed state (step 3)
or dropped; `settle_pending` decides which, for commits a crash left pending. Every function runs inside
the caller's transaction (connectors/sync_state.py holds the connection); `now()` is the time a row records.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping

from connectors.sync_records import ListCommit, Recovery
from errors import StateError

PENDING_TABLES = ("pending_lists", "pending_snapshots", "pending_item_keys")


def write_pending(
    db: sqlite3.Connection, commit: ListCommit, snapshots: Mapping[str, str], now: Callable[[], str]
) -> None:
    list_id = commit.list_id
    drop_pending(db, list_id)
    db.execute(
        "INSERT INTO pending_lists VALUES (?, ?, ?, ?, ?, ?)",
        (
            list_id,
            commit.delta_link,
            commit.modified_cursor,
            int(commit.replace_item_keys),
            json.dumps(list(commit.deleted_item_ids)),
            now(),
        ),
    )
    db.executemany(
        "INSERT INTO pending_snapshots VALUES (?, ?, ?)",
        ((list_id, table, digest) for table, digest in sorted(snapshots.items())),
    )
    db.executemany(
        "INSERT OR REPLACE INTO pending_item_keys VALUES (?, ?, ?)",  # a later pair for an id wins
        ((list_id, item_id, key) for item_id, key in commit.item_key_pairs()),
    )


def apply_pending(db: sqlite3.Connection, list_id: str, now: Callable[[], str]) -> None:
    row = db.execute(
        "SELECT delta_link, modified_cursor, replace_item_keys, deleted_item_ids FROM pending_lists "
        "WHERE list_id = ?",
        (list_id,),
    ).fetchone()
    if row is None:
        raise StateError(f"no commit of list {list_id} was begun", hint="call begin_commit first")
    delta_link, cursor, replace_keys, deleted_json = row
    for table, digest in db.execute(
        "SELECT table_name, sha256 FROM pending_snapshots WHERE list_id = ?", (list_id,)
    ).fetchall():
        record_snapshot(db, list_id, table, digest, now)
    db.execute(
        "INSERT INTO lists VALUES (?, ?, ?, ?) ON CONFLICT (list_id) DO UPDATE SET "
        "delta_link = excluded.delta_link, modified_cursor = excluded.modified_cursor, "
        "committed_utc = excluded.committed_utc",
        (list_id, delta_link, cursor, now()),
    )
    if replace_keys:
        db.execute("DELETE FROM item_keys WHERE list_id = ?", (list_id,))
    db.executemany(
        "DELETE FROM item_keys WHERE list_id = ? AND item_id = ?",
        ((list_id, item_id) for item_id in json.loads(deleted_json)),
    )
    db.execute(
        "INSERT OR REPLACE INTO item_keys SELECT list_id, item_id, canonical_key FROM pending_item_keys "
        "WHERE list_id = ?",
        (list_id,),
    )
    drop_pending(db, list_id)


def record_snapshot(
    db: sqlite3.Connection, list_id: str, table: str, digest: str, now: Callable[[], str]
) -> None:
    db.execute("INSERT OR REPLACE INTO snapshots VALUES (?, ?, ?, ?)", (table, list_id, digest, now()))


def drop_pending(db: sqlite3.Connection, list_id: str) -> None:
    for table in PENDING_TABLES:
        db.execute(f"DELETE FROM {table} WHERE list_id = ?", (list_id,))


def pending_lists(db: sqlite3.Connection) -> tuple[str, ...]:
    rows = db.execute("SELECT list_id FROM pending_lists ORDER BY list_id").fetchall()
    return tuple(row[0] for row in rows)


def settle_pending(
    db: sqlite3.Connection, current_sha256: Callable[[str], str | None], now: Callable[[], str]
) -> Recovery:
    """Complete each pending commit whose files were all renamed, roll back the others (each table
    records the hash actually on disk), and drop the link and cursor of every list with a committed
    snapshot that is not the file on disk (see SyncState.recover)."""
    forward: list[str] = []
    back: list[str] = []
    for list_id in pending_lists(db):
        pending = dict(
            db.execute(
                "SELECT table_name, sha256 FROM pending_snapshots WHERE list_id = ?", (list_id,)
            ).fetchall()
        )
        on_disk = {table: current_sha256(table) for table in pending}
        if all(on_disk[table] == digest for table, digest in pending.items()):
            apply_pending(db, list_id, now)
            forward.append(list_id)
            continue
        for table, digest in pending.items():
            if on_disk[table] == digest:
                record_snapshot(db, list_id, table, digest, now)
        drop_pending(db, list_id)
        back.append(list_id)
    astray = sorted(
        {
            list_id
            for table, list_id, digest in db.execute(
                "SELECT table_name, list_id, sha256 FROM snapshots ORDER BY table_name"
            ).fetchall()
            if current_sha256(table) != digest
        }
    )
    for list_id in astray:
        db.execute("UPDATE lists SET delta_link = NULL, modified_cursor = NULL WHERE list_id = ?", (list_id,))
    return Recovery(tuple(forward), tuple(back), tuple(astray))
