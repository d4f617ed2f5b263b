"""The run report is written for every run (ok, partial, failed, refused by the lock or the state), atomically
and 0600, with the ledger row; it never holds an item value, a delta link or a secret."""

from __future__ import annotations

import datetime as dt
import json
import stat
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from config.logs import Redactor
from config.secrets import Secret
from config.settings import Paths
from connectors.quarantine import Quarantine, quarantine_schema, split_by_problems
from connectors.run_lock import LOCK_FILE_NAME, RunLock
from connectors.run_report import LAST_RUN_FILE, RUNS_DIR, read_last_report, recorded_run, write_run_report
from connectors.staging import StagedTableWriter, commit_list
from connectors.sync_records import ListCommit
from connectors.sync_state import STATE_FILE_NAME, SyncState
from errors import ConnectorError, RunLocked, StateError
from powerbi_dataset.model import EVENTS
from tests.transforms.clean_rows import EVENT, utc
from transforms.validate import validate

SECRET = "SUPERSECRET-123"
TOKEN = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.payload.signature"
PERSONAL = ("Jane Doe", "07700 900123", "jane.doe@example.org")
T0 = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        self.now += dt.timedelta(seconds=5)
        return self.now


class HttpWork:  # what connectors.http.RequestStats counted
    requests = 12
    retries = 3
    retry_wait_seconds = 7.5


@pytest.fixture
def paths(tmp_path: Path) -> Paths:
    staging = tmp_path / "staging"
    return Paths(staging, staging / "quarantine", staging / "state")


def reports(paths: Paths) -> list[dict[str, Any]]:
    return [json.loads(path.read_text()) for path in sorted((paths.state_dir / RUNS_DIR).iterdir())]


def everything_written(paths: Paths) -> str:
    return (
        "\n".join(path.read_text() for path in sorted((paths.state_dir / RUNS_DIR).iterdir()))
        + (paths.state_dir / LAST_RUN_FILE).read_text()
    )


def test_an_ok_run_writes_its_report_and_ledger_row(paths: Paths) -> None:
    with recorded_run(paths, "sync", {"full": True}, clock=Clock()) as run:
        with pytest.raises(RunLocked):  # the lock is held for the whole run
            RunLock(paths.state_dir / LOCK_FILE_NAME).acquire()
        assert run.state is not None and run.run_id == 1
        run.count("events", read=10, valid=10)
        run.add_http_work(HttpWork())
        run.list_done("Events", "guid-1", items_read=10, items_deleted=0, full_read=True, tables=["events"])
    report = read_last_report(paths.state_dir)
    assert report == reports(paths)[0]
    assert report is not None
    assert (report["run_id"], report["status"], report["kind"]) == (1, "ok", "sync")
    assert report["counts"]["tables"] == {"events": {"read": 10, "valid": 10, "quarantined": 0, "deleted": 0}}
    assert (report["counts"]["requests"], report["counts"]["retries"]) == (12, 3)
    assert report["started_utc"] == "2026-11-30T02:00:05+00:00"
    assert report["lists"]["Events"]["full_read"] is True
    assert (paths.state_dir / RUNS_DIR / "000001.json").exists()
    for path in (paths.state_dir / LAST_RUN_FILE, paths.state_dir / RUNS_DIR / "000001.json"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((paths.state_dir / RUNS_DIR).stat().st_mode) == 0o700
    with SyncState.open(paths.state_dir / STATE_FILE_NAME) as state:
        [record] = state.runs()
    ledger = record.to_dict()
    assert ledger["status"] == "ok"
    assert (ledger["started_utc"], ledger["ended_utc"]) == (report["started_utc"], report["ended_utc"])
    assert ledger["duration_seconds"] == report["duration_seconds"] == 10.0  # start, lock, end: 5 s each
    RunLock(paths.state_dir / LOCK_FILE_NAME).acquire()  # released afterwards


def test_quarantined_rows_make_a_run_partial(paths: Paths) -> None:
    with recorded_run(paths, "sync", {}) as run:
        run.count("events", read=5, valid=4, quarantined=1)
    assert reports(paths)[0]["status"] == "partial"
    with recorded_run(paths, "sync", {}) as run:
        run.list_failed("Events", "guid-1", ConnectorError("the list answered 403"))
    assert reports(paths)[1]["status"] == "partial"
    assert reports(paths)[1]["lists"]["Events"] == {
        "list_id": "guid-1",
        "status": "failed",
        "code": "ConnectorError",
        "message": "the list answered 403",
    }


def test_a_failed_run_reports_the_error_and_re_raises(paths: Paths) -> None:
    with pytest.raises(ConnectorError), recorded_run(paths, "sync", {}) as run:
        run.count("events", read=3)
        raise ConnectorError("Graph answered 503 after 6 attempts", status=503)
    report = reports(paths)[0]
    assert report["status"] == "failed"
    assert report["error"] == {"code": "ConnectorError", "message": "Graph answered 503 after 6 attempts"}
    assert report["counts"]["tables"]["events"]["read"] == 3
    with SyncState.open(paths.state_dir / STATE_FILE_NAME) as state:
        assert state.runs()[0].status == "failed"


def test_a_run_refused_by_the_lock_still_writes_a_report(paths: Paths) -> None:
    with RunLock(paths.state_dir / LOCK_FILE_NAME), pytest.raises(RunLocked), recorded_run(paths, "sync", {}):
        pytest.fail("the block must not run without the lock")
    [report] = reports(paths)
    assert report["run_id"] is None and report["status"] == "failed"
    assert report["error"]["code"] == "RunLocked" and LOCK_FILE_NAME in report["error"]["message"]
    assert [path.name.startswith("unrecorded-") for path in (paths.state_dir / RUNS_DIR).iterdir()] == [True]


def test_a_run_refused_by_corrupt_state_still_writes_a_report(paths: Paths) -> None:
    paths.state_dir.mkdir(parents=True)
    (paths.state_dir / STATE_FILE_NAME).write_bytes(b"garbage" * 50)
    with pytest.raises(StateError), recorded_run(paths, "sync", {}):
        pytest.fail("the block must not run on corrupt state")
    assert read_last_report(paths.state_dir)["error"]["code"] == "StateError"  # type: ignore[index]
    with recorded_run(paths, "sync", {"full": True}, full_refresh=True) as run:  # --full rebuilds
        assert run.run_id == 1


def test_an_interrupted_commit_is_settled_and_reported_at_the_next_start(paths: Paths) -> None:
    with recorded_run(paths, "sync", {}) as run:
        assert run.state is not None
        with StagedTableWriter(paths.staging_dir, EVENTS, incremental=False) as writer:
            prepared = writer.prepare()
        run.state.begin_commit(ListCommit("guid-1", "link"), {"events": prepared.sha256})
        prepared.publish()  # ... and the process dies before complete_commit
        (paths.staging_dir / ".events.parquet.x.tmp").write_bytes(b"debris")
    with recorded_run(paths, "sync", {}) as run:
        assert run.state is not None and run.state.delta_link("guid-1") == "link"
    assert [warning["code"] for warning in reports(paths)[1]["warnings"]] == ["state-recovered"]
    assert not (paths.staging_dir / ".events.parquet.x.tmp").exists()


def test_reports_hold_no_item_value_no_link_and_no_secret(paths: Paths) -> None:
    """Planted personal values in the rows and secrets in the link, the error and the options."""
    redact = Redactor([Secret(SECRET)]).redact
    planted = {
        **EVENT,
        "event_id": "e1",
        "event_name": " ".join(PERSONAL),
        "end_utc": utc("2024-05-01T09:00:00"),
    }
    rows = pa.Table.from_pylist([planted, {**EVENT, "event_id": "e2"}], schema=quarantine_schema(EVENTS))
    with (
        pytest.raises(ConnectorError),
        recorded_run(paths, "sync", {"client_secret": SECRET}, redact=redact) as run,
    ):
        assert run.state is not None
        split = split_by_problems(rows, validate(rows, EVENTS, as_of=T0).problems)
        run.quarantined(
            Quarantine(paths.quarantine_dir).replace_quarantine("events", split.invalid, split.problems)
        )
        with StagedTableWriter(paths.staging_dir, EVENTS, incremental=False) as writer:
            writer.add(split.valid.cast(writer.schema))
            prepared = writer.prepare()
        commit_list(run.state, ListCommit("guid-1", f"https://graph/delta?token={TOKEN}"), [prepared])
        run.staged_snapshot(prepared)
        run.count("events", read=2, valid=1, quarantined=1)
        run.warn("schema-drift", "list Events: new column 'Notes' is not mapped", list_name="Events")
        raise ConnectorError(f"sign-in refused for secret {SECRET} with Authorization: Bearer {TOKEN}")
    text = everything_written(paths)
    for value in (*PERSONAL, SECRET, TOKEN, "token="):
        assert value not in text
    report = reports(paths)[0]
    assert report["quarantine"]["events"]["rows"] == 1 and report["staged"]["events"]["rows"] == 1
    assert report["error"]["message"] == "sign-in refused for secret *** with Authorization: Bearer ***"
    assert report["options"] == {"client_secret": "***"}


def test_old_reports_are_pruned(paths: Paths) -> None:
    for run_id in range(1, 6):
        write_run_report(paths.state_dir, {"run_id": run_id, "started_utc": T0.isoformat()}, keep=3)
    assert sorted(path.name for path in (paths.state_dir / RUNS_DIR).iterdir()) == [
        "000003.json",
        "000004.json",
        "000005.json",
    ]
    assert read_last_report(paths.state_dir) == {"run_id": 5, "started_utc": T0.isoformat()}
