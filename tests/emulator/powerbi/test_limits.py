"""Push rate limits on the emulator clock: 120 POSTs a minute, 120 an hour for big tables, 1M rows an hour, 5 pending."""

from __future__ import annotations

import threading

from emulator.core.clock import ManualClock
from emulator.core.http import Response
from tests.emulator.conftest import PowerBICaller, body

ONE_COLUMN = [{"name": "Events", "columns": [{"name": "n", "dataType": "Int64"}]}]
ROWS_PER_HOUR_MESSAGE = (
    "You are over your rows per hour limit for this dataset. To push more rows per hour, upgrade your account "
    "to Power BI Pro or retry your push later."
)


def post(pbi: PowerBICaller, dataset_id: str, rows: int = 1) -> Response:
    return pbi.post_rows(dataset_id, "Events", [{"n": i} for i in range(rows)])


def test_121st_post_in_a_minute_waits_for_the_window(pbi: PowerBICaller, clock: ManualClock) -> None:
    dataset_id = pbi.create_dataset(ONE_COLUMN)
    for _ in range(120):
        assert post(pbi, dataset_id).status == 200
    clock.advance(20)

    refused = post(pbi, dataset_id)

    assert refused.status == 429
    assert refused.headers["Retry-After"] == "40"
    assert body(refused)["message"].endswith("Retry in 40 seconds.")
    assert len(pbi.stack.powerbi.rows(pbi.group, dataset_id, "Events")) == 120  # refused rows are not stored
    clock.advance(39)
    assert post(pbi, dataset_id).status == 429
    clock.advance(1)
    assert post(pbi, dataset_id).status == 200


def test_tables_of_250000_rows_allow_120_posts_an_hour(pbi: PowerBICaller, clock: ManualClock) -> None:
    small = pbi.create_dataset(ONE_COLUMN, name="small")
    large = pbi.create_dataset(ONE_COLUMN, name="large")
    pbi.stack.powerbi.load_rows(pbi.group, large, "Events", [{"n": 0}] * 250_000)
    for _ in range(120):
        assert post(pbi, large).status == 200
        assert post(pbi, small).status == 200
        clock.advance(20)

    refused = post(pbi, large)

    assert post(pbi, small).status == 200  # under 250,000 rows only the per-minute limit applies
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "1200"  # the first of the 120 leaves the hour at t=3600
    clock.advance(1200)
    assert post(pbi, large).status == 200


def test_one_million_rows_an_hour(pbi: PowerBICaller, clock: ManualClock) -> None:
    dataset_id = pbi.create_dataset(ONE_COLUMN, retention="basicFIFO")
    for _ in range(99):
        assert post(pbi, dataset_id, 10_000).status == 200
    clock.advance(600)
    assert post(pbi, dataset_id, 10_000).status == 200  # exactly 1,000,000 rows in the hour

    refused = post(pbi, dataset_id, 1)

    assert refused.status == 429
    assert body(refused)["error"]["message"] == ROWS_PER_HOUR_MESSAGE
    assert refused.headers["Retry-After"] == "3000"  # the first 990,000 rows leave the window at t=3600
    clock.advance(3000)
    assert post(pbi, dataset_id, 10_000).status == 200


def test_a_sixth_pending_post_is_refused(pbi: PowerBICaller) -> None:
    dataset_id = pbi.create_dataset(ONE_COLUMN)
    entered = threading.Semaphore(0)
    release = threading.Event()

    def hold() -> None:
        entered.release()
        release.wait(timeout=10)

    pbi.stack.powerbi.rows_hook = hold
    results: list[int] = []
    workers = [
        threading.Thread(target=lambda: results.append(post(pbi, dataset_id).status)) for _ in range(5)
    ]
    for worker in workers:
        worker.start()
    for _ in range(5):
        assert entered.acquire(timeout=10)

    pbi.stack.powerbi.rows_hook = None
    sixth = post(pbi, dataset_id)
    release.set()
    for worker in workers:
        worker.join(timeout=10)

    assert sixth.status == 429 and "Retry-After" in sixth.headers
    assert results == [200] * 5
    assert post(pbi, dataset_id).status == 200


def test_retention_none_stops_at_five_million_rows(pbi: PowerBICaller) -> None:
    dataset_id = pbi.create_dataset(ONE_COLUMN)
    pbi.stack.powerbi.load_rows(pbi.group, dataset_id, "Events", [{"n": 0}] * 4_999_999)

    assert post(pbi, dataset_id, 2).status == 400
    assert post(pbi, dataset_id, 1).status == 200
