"""The Power BI client under faults: R7 (a 429 on PostRows is resent once after Retry-After and stored once),
ambiguous writes (timeout, dropped connection, 5xx) never resent, and 307 cluster redirects that carry the
token to Power BI hosts only. Waits are the injected sleep; POSTs are counted in the emulator's request log."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import responses

from connectors.http import build_session
from connectors.powerbi import PowerBIClient
from errors import AmbiguousWriteError, AuthError, ThrottledError
from tests.connectors.conftest import USER_AGENT, ManualTime, StartEmulator, Waits
from tests.connectors.powerbi_world import app_session, open_workspace

ROWS_PATH = r"/tables/[^/]+/rows$"
EVENTS = {"name": "Events", "columns": [{"name": "n", "dataType": "Int64"}]}


def rows_rule(**fault: Any) -> dict[str, Any]:
    return {"rules": [{"service": "powerbi", "method": "POST", "path": ROWS_PATH, **fault}]}


def stored(space: Any, dataset_id: str) -> list[int]:
    return [row["n"] for row in space.emu.powerbi.rows(space.group, dataset_id, "Events")]


def redirect_to(space: Any, home: str) -> None:
    """From now on the emulator answers requests reaching any other origin with a 307 to `home`."""
    space.emu.powerbi.options = dataclasses.replace(space.emu.powerbi.options, cluster_redirect_origin=home)


def wait_until(condition: Callable[[], bool]) -> None:
    """The emulator's handler thread finishing on its own (the test's clock is not involved)."""
    for _ in range(200):
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError("the emulator never reached the expected state")


def test_r7_a_post_rows_refused_with_429_is_resent_once_after_retry_after_and_stored_once(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    faults = rows_rule(throttle={"sequence": [200, 200, 200, 429], "retry_after": 10})
    space = open_workspace(start_emulator, clock, waits, faults=faults)
    dataset = space.client.create_dataset({"name": "CE", "tables": [EVENTS]})

    for chunk in range(1, 7):
        space.client.post_rows(dataset.id, "Events", [{"n": chunk}])

    assert stored(space, dataset.id) == [1, 2, 3, 4, 5, 6]
    statuses = [r.status for r in space.posts("/rows")]
    assert statuses == [200, 200, 200, 429, 200, 200, 200]  # chunk 4 sent twice, stored once
    assert waits.seconds == [10.0]
    first, resent = space.posts("/rows")[3:5]
    assert (resent.at - first.at).total_seconds() >= 10.0


def test_a_429_that_outlasts_the_resends_is_a_throttled_error_and_nothing_was_written(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    space = open_workspace(
        start_emulator, clock, waits, faults=rows_rule(throttle={"rate": 1.0, "retry_after": 2})
    )
    dataset = space.client.create_dataset({"name": "CE", "tables": [EVENTS]})

    with pytest.raises(ThrottledError) as caught:
        space.client.post_rows(dataset.id, "Events", [{"n": 1}])

    assert caught.value.status == 429 and not isinstance(caught.value, AmbiguousWriteError)
    assert len(space.posts("/rows")) == 6 and waits.seconds == [2.0] * 5
    assert stored(space, dataset.id) == []


def test_a_post_rows_whose_connection_drops_after_commit_is_ambiguous_and_never_resent(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    space = open_workspace(start_emulator, clock, waits, faults=rows_rule(drop_after_commit={"nth": 2}))
    dataset = space.client.create_dataset({"name": "CE", "tables": [EVENTS]})
    space.client.post_rows(dataset.id, "Events", [{"n": 1}])

    with pytest.raises(AmbiguousWriteError) as caught:
        space.client.post_rows(dataset.id, "Events", [{"n": 2}])

    assert caught.value.status is None
    assert "may have been written" in str(caught.value) and "not resent" in caught.value.hint
    assert len(space.posts("/rows")) == 2  # the second chunk reached the service once, and only once
    assert stored(space, dataset.id) == [1, 2]  # it was committed: resending would have duplicated it
    assert waits.seconds == []


def test_a_post_rows_answered_503_is_ambiguous_and_never_resent(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    space = open_workspace(start_emulator, clock, waits, faults=rows_rule(unavailable={"sequence": [503]}))
    dataset = space.client.create_dataset({"name": "CE", "tables": [EVENTS]})

    with pytest.raises(AmbiguousWriteError) as caught:
        space.client.post_rows(dataset.id, "Events", [{"n": 1}])

    assert caught.value.status == 503
    assert len(space.posts("/rows")) == 1 and waits.seconds == []


def test_a_post_rows_that_times_out_is_ambiguous_and_never_resent(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    space = open_workspace(start_emulator, clock, waits, timeout=(5.0, 0.2))
    dataset = space.client.create_dataset({"name": "CE", "tables": [EVENTS]})
    release = threading.Event()
    space.emu.powerbi.rows_hook = lambda: release.wait(10)  # the service is slow to commit

    with pytest.raises(AmbiguousWriteError) as caught:
        space.client.post_rows(dataset.id, "Events", [{"n": 1}])
    release.set()
    wait_until(lambda: stored(space, dataset.id) == [1])

    assert caught.value.status is None and "timed out" in str(caught.value)
    assert len(space.posts("/rows")) == 1
    assert stored(space, dataset.id) == [1]


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_post_rows_answered_5xx_is_ambiguous_and_never_resent(status: int) -> None:
    url = "https://api.powerbi.com/v1.0/myorg/groups/g1/datasets/d1/tables/Events/rows"
    session = build_session(lambda: "token", user_agent=USER_AGENT, sleep=lambda s: None)
    with responses.RequestsMock() as http:
        http.post(url, status=status, json={"error": {"code": "InternalServerError", "message": "x"}})
        with pytest.raises(AmbiguousWriteError) as caught:
            PowerBIClient(session, "https://api.powerbi.com", "g1").post_rows("d1", "Events", [{"n": 1}])
        assert len(http.calls) == 1
    assert caught.value.status == status and caught.value.service_code == "InternalServerError"


def test_a_307_to_another_power_bi_host_keeps_the_token_and_the_body(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    """The client calls `localhost`; the home cluster is `127.0.0.1` (both the emulator, on one certificate)."""
    space = open_workspace(start_emulator, clock, waits)
    home = space.emu.base_url  # https://127.0.0.1:<port>
    dataset = space.client.create_dataset({"name": "CE", "tables": [EVENTS]})
    redirect_to(space, home)
    elsewhere = home.replace("127.0.0.1", "localhost")
    session = app_session(space.emu, clock, waits, space.token(), token_hosts=("127.0.0.1",))
    client = PowerBIClient(session, f"{elsewhere}/powerbi", space.group)

    client.post_rows(dataset.id, "Events", [{"n": 7}])

    assert stored(space, dataset.id) == [7]
    assert [r.status for r in space.posts("/rows")] == [307, 200]


def test_a_307_to_a_host_not_named_gets_no_token(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    space = open_workspace(start_emulator, clock, waits)
    home = space.emu.base_url
    redirect_to(space, home)
    session = app_session(space.emu, clock, waits, space.token())  # no token hosts named
    client = PowerBIClient(session, f"{home.replace('127.0.0.1', 'localhost')}/powerbi", space.group)

    with pytest.raises(AuthError) as caught:
        client.get_group()

    assert caught.value.status == 403
    log = [r for r in space.emu.emulator.request_log if r.method == "GET" and r.service == "powerbi"]
    assert [r.status for r in log] == [307, 403]
    assert "authorization" not in log[1].headers  # the token stayed behind
