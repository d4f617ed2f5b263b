"""Pacing POST rows under the push-dataset limits, per dataset, on an injected clock (microsoft-apis.md §1.4).

    pacer = Pacer(PushLimits(), clock=time.time, sleep=time.sleep, history=state.recent_posts())
    pacer.before_post("ccr", 10_000)   # sleeps until the POST is allowed
    client.post_rows(...)
    pacer.after_post("ccr", 10_000)    # records it at the time the service acknowledged it

Windows slide and are half-open, (now - window, now], as the emulator counts them. A POST is recorded at
the time its answer came back, which is no earlier than the time the service accepted it; so the count
of recorded POSTs in a window is never below the service's, and a paced POST never breaks a limit even
when the session resent it after a 429 (the resend is the POST the service accepted, later than sent).
The publisher sends one POST at a time, so at most 1 of the 5 allowed is ever pending.

`Pacer.simulate()` runs the same rules on a simulated clock: the plan's expected duration.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

MINUTE = 60.0
HOUR = 3600.0


@dataclass(frozen=True)
class PushLimits:
    """The documented push limits (push-datasets-limitations; §1.4), and the pacing margin."""

    rows_per_post: int = 10_000
    posts_per_minute: int = 120
    posts_per_hour_large: int = 120  # once a table of the dataset holds large_table_rows (dataset-wide: the
    large_table_rows: int = 250_000  # stricter reading of "when the table has >= 250,000 rows")
    rows_per_hour: int = 1_000_000
    max_pending: int = 5
    rows_per_table: int = 5_000_000  # retention None
    safety_margin_seconds: float = 0.25  # added to a computed wait, so a POST never lands on a window's edge

    def __post_init__(self) -> None:
        if min(self.rows_per_post, self.posts_per_minute, self.posts_per_hour_large, self.rows_per_hour) < 1:
            raise ValueError("push limits must be positive")
        if self.rows_per_post > self.rows_per_hour:
            raise ValueError("a POST may not carry more rows than an hour allows")


@dataclass(frozen=True)
class Post:
    at: float  # seconds since the epoch, when the service acknowledged it
    rows: int


@dataclass
class Pacer:
    """The limiter for one dataset: history of recent POSTs and rows stored per table."""

    limits: PushLimits
    clock: Callable[[], float]
    sleep: Callable[[float], None]
    history: Iterable[Post] = ()
    table_rows: Mapping[str, int] = field(default_factory=dict)
    waited_seconds: float = 0.0
    last_large: bool = False  # whether the hourly limit applied to the last POST paced
    _posts: deque[Post] = field(init=False)
    _rows: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self._posts = deque(sorted(self.history, key=lambda post: post.at))
        self._rows = dict(self.table_rows)

    @property
    def large(self) -> bool:
        """Whether any table of the dataset holds enough rows for the hourly POST limit to apply."""
        return any(rows >= self.limits.large_table_rows for rows in self._rows.values())

    def stored_rows(self, table: str) -> int:
        return self._rows.get(table, 0)

    def posts(self) -> tuple[Post, ...]:
        return tuple(self._posts)

    def earliest(self, rows: int, now: float) -> float:
        """The earliest time >= now at which a POST of `rows` rows breaks no limit."""
        if rows > self.limits.rows_per_post:
            raise ValueError(f"a POST carries at most {self.limits.rows_per_post} rows, not {rows}")
        self._forget(now)
        times = [post.at for post in self._posts]
        start = now
        minute = [at for at in times if at > now - MINUTE]
        if len(minute) >= self.limits.posts_per_minute:  # the POST that must leave the minute first
            start = max(start, minute[len(minute) - self.limits.posts_per_minute] + MINUTE)
        if self.large and len(times) >= self.limits.posts_per_hour_large:
            start = max(start, times[len(times) - self.limits.posts_per_hour_large] + HOUR)
        excess = sum(post.rows for post in self._posts) + rows - self.limits.rows_per_hour
        for post in self._posts:  # oldest first: the rows that must leave the hour for this POST to fit
            if excess <= 0:
                break
            excess -= post.rows
            start = max(start, post.at + HOUR)
        return start if start == now else start + self.limits.safety_margin_seconds

    def before_post(self, table: str, rows: int) -> float:
        """Sleep until a POST of `rows` rows to `table` is allowed; the seconds waited."""
        now = self.clock()
        self.last_large = self.large
        wait = self.earliest(rows, now) - now
        if wait > 0:
            self.sleep(wait)
            self.waited_seconds += wait
        self._rows[table] = self._rows.get(table, 0) + rows  # counted before the answer: it may be stored
        return max(wait, 0.0)

    def after_post(self, rows: int) -> Post:
        post = Post(self.clock(), rows)
        self._posts.append(post)
        return post

    def rows_deleted(self, table: str) -> None:
        self._rows[table] = 0

    def _forget(self, now: float) -> None:
        while self._posts and self._posts[0].at <= now - HOUR:
            self._posts.popleft()

    def simulate(self, posts: Sequence[tuple[str, int]], now: float) -> float:
        """Seconds the POSTs would take from `now` on these limits, with answers taking no time."""
        clock = _SimulatedClock(now)
        twin = Pacer(self.limits, clock.now, clock.advance, self._posts, self._rows)
        for table, rows in posts:
            twin.before_post(table, rows)
            twin.after_post(rows)
        return clock.now() - now


class _SimulatedClock:
    def __init__(self, start: float) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds
