"""The sync state's SQLite file: its schema and migrations, creating it whole, and the checks that refuse a
file that cannot be trusted (corrupt, truncated, damaged, missing tables, from a newer cetk)."""

from __future__ import annotations

import os
import sqlite3
import tempfile
from pathlib import Path

from connectors.durable_files import fsync_directory
from errors import StateError

SCHEMA_VERSION = 1
SQLITE_MAGIC = b"SQLite format 3\x00"
SIDE_FILES = ("-wal", "-shm")

# One list of steps per schema version: MIGRATIONS[n] takes a database at version n to n + 1.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE lists (list_id TEXT PRIMARY KEY, delta_link TEXT, modified_cursor TEXT,
                        committed_utc TEXT NOT NULL);
    CREATE TABLE snapshots (table_name TEXT PRIMARY KEY, list_id TEXT NOT NULL, sha256 TEXT NOT NULL,
                            committed_utc TEXT NOT NULL);
    CREATE TABLE item_keys (list_id TEXT NOT NULL, item_id TEXT NOT NULL, canonical_key TEXT NOT NULL,
                            PRIMARY KEY (list_id, item_id)) WITHOUT ROWID;
    CREATE TABLE pending_lists (list_id TEXT PRIMARY KEY, delta_link TEXT, modified_cursor TEXT,
                                replace_item_keys INTEGER NOT NULL, deleted_item_ids TEXT NOT NULL,
                                begun_utc TEXT NOT NULL);
    CREATE TABLE pending_snapshots (list_id TEXT NOT NULL, table_name TEXT NOT NULL, sha256 TEXT NOT NULL,
                                    PRIMARY KEY (list_id, table_name)) WITHOUT ROWID;
    CREATE TABLE pending_item_keys (list_id TEXT NOT NULL, item_id TEXT NOT NULL,
                                    canonical_key TEXT NOT NULL, PRIMARY KEY (list_id, item_id)) WITHOUT ROWID;
    CREATE TABLE runs (run_id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, options TEXT NOT NULL,
                       started_utc TEXT NOT NULL, ended_utc TEXT,
                       status TEXT NOT NULL CHECK (status IN ('running', 'ok', 'partial', 'failed')),
                       requests INTEGER NOT NULL DEFAULT 0, retries INTEGER NOT NULL DEFAULT 0,
                       retry_wait_seconds REAL NOT NULL DEFAULT 0, error_code TEXT, error_message TEXT);
    CREATE TABLE run_tables (run_id INTEGER NOT NULL REFERENCES runs (run_id), table_name TEXT NOT NULL,
                             read INTEGER NOT NULL, valid INTEGER NOT NULL, quarantined INTEGER NOT NULL,
                             deleted INTEGER NOT NULL, PRIMARY KEY (run_id, table_name)) WITHOUT ROWID;
    """,
)
REQUIRED_TABLES = frozenset(
    {"lists", "snapshots", "item_keys", "pending_lists", "pending_snapshots", "pending_item_keys"}
    | {"runs", "run_tables"}
)


def create(path: Path) -> None:
    """A new database, built whole under a temporary name, then renamed in: never a half-made file."""
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(descriptor)  # mkstemp made it 0600; SQLite gives its -wal and -shm files the same mode
    try:
        connection = sqlite3.connect(temporary, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode = DELETE")
            migrate(connection)
        finally:
            connection.close()
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    fsync_directory(path.parent)


def connect_checked(path: Path, *, read_only: bool) -> sqlite3.Connection:
    problem = _header_problem(path)
    if problem:
        raise _corrupt(path, problem)
    uri = f"file:{path}?mode=ro" if read_only else f"file:{path}?mode=rw"
    try:
        connection = sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise _corrupt(path, str(exc)) from None
    try:
        if not read_only:
            connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute("PRAGMA foreign_keys = ON")
        check = connection.execute("PRAGMA quick_check").fetchall()
        if check != [("ok",)]:
            raise _corrupt(path, "integrity check failed")
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise _corrupt(
                path, f"it was written by a newer cetk (schema {version}, this one knows {SCHEMA_VERSION})"
            )
        if version < SCHEMA_VERSION and not read_only:
            migrate(connection)
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if missing := REQUIRED_TABLES - tables:
            raise _corrupt(path, f"tables are missing: {', '.join(sorted(missing))}")
    except sqlite3.Error as exc:
        connection.close()
        raise _corrupt(path, str(exc)) from None
    except StateError:
        connection.close()
        raise
    return connection


def migrate(connection: sqlite3.Connection) -> None:
    """Apply MIGRATIONS from the database's user_version up, each in its own transaction."""
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    for step in range(version, SCHEMA_VERSION):
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[step].split(";"):
                if statement.strip():
                    connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {step + 1}")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")


def _header_problem(path: Path) -> str | None:
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(SQLITE_MAGIC))
    except FileNotFoundError:
        return "the file does not exist"
    if not header:
        return "the file is empty (truncated)"
    if header != SQLITE_MAGIC:
        return "it is not an SQLite database"
    return None


def _corrupt(path: Path, problem: str) -> StateError:
    return StateError(
        f"sync state {path} cannot be trusted: {problem}",
        hint="run `cetk sync --full` to rebuild it from a full read (the old file is kept beside it as "
        f"{path.name}.corrupt)",
    )


def move_aside(path: Path) -> Path:
    target = path.with_name(path.name + ".corrupt")
    for suffix in ("", *SIDE_FILES):
        source = path.with_name(path.name + suffix)
        if source.exists():
            os.replace(source, target.with_name(target.name + suffix))
    fsync_directory(path.parent)
    return target
