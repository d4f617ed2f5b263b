"""The publish state's SQLite file: its schema, created whole, opened and checked. (The run lock is connectors/run_lock.py.)

connectors/publish_state.py reads and writes through the connection `connect()` returns.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from errors import PublishError

STATE_FILE_NAME = "publish-state.sqlite3"
SCHEMA_VERSION = 1
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600

SCHEMA = """
CREATE TABLE meta (name TEXT PRIMARY KEY, value TEXT);
CREATE TABLE tables (
    table_name TEXT PRIMARY KEY, definition TEXT, stored_rows INTEGER NOT NULL DEFAULT 0,
    unknown INTEGER NOT NULL DEFAULT 0, needs_reload INTEGER NOT NULL DEFAULT 0);
CREATE TABLE versions (
    table_name TEXT NOT NULL, key TEXT NOT NULL, hash INTEGER NOT NULL, ref TEXT, load_seq INTEGER NOT NULL,
    PRIMARY KEY (table_name, key)) WITHOUT ROWID;
CREATE TABLE loads (
    load_seq INTEGER PRIMARY KEY, load_id TEXT NOT NULL UNIQUE, dataset_id TEXT NOT NULL, status TEXT NOT NULL,
    started_utc TEXT NOT NULL, ended_utc TEXT, full_tables TEXT NOT NULL, reload_tables TEXT NOT NULL,
    resolves TEXT NOT NULL, rows_planned INTEGER NOT NULL, rows_acked INTEGER NOT NULL DEFAULT 0,
    posts INTEGER NOT NULL DEFAULT 0, reason TEXT);
CREATE TABLE load_versions (
    load_seq INTEGER NOT NULL, table_name TEXT NOT NULL, key TEXT NOT NULL, hash INTEGER NOT NULL, ref TEXT,
    tombstone INTEGER NOT NULL);
CREATE INDEX load_versions_by_load ON load_versions (load_seq);
CREATE TABLE chunks (
    load_seq INTEGER NOT NULL, table_name TEXT NOT NULL, chunk INTEGER NOT NULL, rows INTEGER NOT NULL,
    status TEXT NOT NULL, sent_at REAL NOT NULL, acked_at REAL, PRIMARY KEY (load_seq, table_name, chunk));
CREATE TABLE posts (at REAL NOT NULL, rows INTEGER NOT NULL);
"""


def empty_in_memory() -> sqlite3.Connection:
    """An empty state that lives in memory only: what a dry run reads when no state was written yet."""
    connection = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    connection.executescript(SCHEMA)
    return connection


def connect(state_dir: Path) -> tuple[sqlite3.Connection, Path]:
    """The state database in `state_dir` (created when absent), checked: WAL, synchronous=FULL."""
    state_dir.mkdir(mode=PRIVATE_DIR_MODE, parents=True, exist_ok=True)
    path = state_dir / STATE_FILE_NAME
    if not path.exists():
        _create(path)
    try:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=FULL")
        checked = connection.execute("PRAGMA quick_check").fetchone()
        version = connection.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise _unreadable(path, str(exc)) from None
    if checked[0] != "ok" or version != SCHEMA_VERSION:
        connection.close()
        raise _unreadable(path, f"check {checked[0]!r}, schema version {version}")
    return connection, path


def _create(path: Path) -> None:
    """Create the database whole under a temporary name and rename it in: a half-made file is never ours."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    descriptor = os.open(temporary, os.O_RDWR | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    os.close(descriptor)
    connection = sqlite3.connect(temporary, isolation_level=None)
    try:
        connection.executescript(SCHEMA)
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    finally:
        connection.close()
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _unreadable(path: Path, why: str) -> PublishError:
    return PublishError(
        f"the publish state {path} cannot be used ({why})",
        hint="move the file aside: the next publish then restates every table, with no gap in the reports",
    )
