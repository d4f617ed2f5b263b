"""The pacer on an injected clock: each push limit on its own, and every limit over random loads."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from powerbi_dataset.pacing import HOUR, MINUTE, Pacer, Post, PushLimits

T0 = 1_800_000_000.0
MARGIN = PushLimits().safety_margin_seconds


class Clock:
    def __init__(self, start: float = T0) -> None:
        self.now = start
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def pacer(clock: Clock, **kwargs: object) -> Pacer:
    return Pacer(PushLimits(), clock.time, clock.sleep, **kwargs)  # type: ignore[arg-type]


def post(pacer: Pacer, table: str = "t", rows: int = 1) -> None:
    pacer.before_post(table, rows)
    pacer.after_post(rows)


def test_120_posts_a_minute_then_the_121st_waits_for_the_first_to_leave_the_minute() -> None:
    clock = Clock()
    paced = pacer(clock)
    for _ in range(120):
        post(paced)
    assert clock.slept == []
    clock.now += 20

    post(paced)

    assert clock.slept == [40 + MARGIN]


def test_a_million_rows_an_hour_then_the_next_row_waits_for_the_first_batch_to_leave_the_hour() -> None:
    clock = Clock()
    paced = pacer(clock)
    for _ in range(50):
        post(paced, rows=10_000)
    clock.now += 1_800
    for _ in range(50):
        post(paced, rows=10_000)

    post(paced, rows=1)

    assert clock.slept == [1_800 + MARGIN]  # the first 500,000 rows leave the hour at T0 + 3,600


def test_once_a_table_holds_250000_rows_120_posts_an_hour_for_the_dataset() -> None:
    clock = Clock()
    paced = pacer(clock, table_rows={"big": 250_000})
    for _ in range(120):
        post(paced, "small")
        clock.now += 20  # 120 POSTs over 40 minutes: never 120 in a minute

    post(paced, "small")

    assert clock.slept == [HOUR - 120 * 20 + MARGIN]  # until the first POST is an hour old


def test_below_250000_rows_only_the_minute_counts() -> None:
    clock = Clock()
    paced = pacer(clock, table_rows={"t": 249_000})
    for _ in range(240):
        post(paced)
    assert clock.slept == [MINUTE + MARGIN]  # 240 POSTs in just over a minute


def test_the_last_hour_of_an_earlier_run_counts() -> None:
    clock = Clock()
    history = [Post(T0 - 30, 10_000)] * 100  # a million rows half a minute ago, by the previous run

    paced = pacer(clock, history=history)
    post(paced, rows=1)

    assert clock.slept == [HOUR - 30 + MARGIN]


def test_simulate_runs_the_same_rules_without_sleeping_or_changing_the_pacer() -> None:
    clock = Clock()
    paced = pacer(clock)
    posts = [("t", 10_000)] * 101
    expected = paced.simulate(posts, clock.time())

    for table, rows in posts:
        post(paced, table, rows)

    assert expected == clock.now - T0 == HOUR + MARGIN
    assert paced.simulate([], clock.time()) == 0


def test_a_post_of_more_than_10000_rows_is_a_bug() -> None:
    paced = pacer(Clock())
    try:
        paced.before_post("t", 10_001)
    except ValueError as error:
        assert "at most 10000 rows" in str(error)
    else:
        raise AssertionError("a POST of 10,001 rows was allowed")


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(st.integers(1, 10_000), st.sampled_from(["a", "b"]), st.floats(0, 90)),
        min_size=1,
        max_size=400,
    ),
    st.integers(0, 300_000),
)
def test_every_limit_holds_in_every_window_whatever_the_load(
    posts: list[tuple[int, str, float]], start_rows: int
) -> None:
    clock = Clock()
    paced = pacer(clock, table_rows={"a": start_rows})
    sent: list[tuple[float, int, bool]] = []  # (time, rows, dataset was large when it was sent)
    for rows, table, gap in posts:
        clock.now += gap
        paced.before_post(table, rows)
        sent.append((clock.now, rows, paced.last_large))
        paced.after_post(rows)
    for at, _rows, large in sent:
        minute = [s for s in sent if at - MINUTE < s[0] <= at]
        hour = [s for s in sent if at - HOUR < s[0] <= at]
        assert len(minute) <= 120
        assert sum(s[1] for s in hour) <= 1_000_000
        if large:
            assert len(hour) <= 120
