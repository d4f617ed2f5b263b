"""Top five issues per event, LPT and month, and the word cloud's frequencies, on small hand-made tables."""

from __future__ import annotations

import pandas as pd
import pytest

from transforms.theme_summary import MIN_ROWS_PER_WORD, top_issues, word_frequencies

# event, theme, rank at the event
ISSUES = [
    ("e1", "DRUGS", 1),
    ("e1", "ASB", 2),
    ("e2", "DRUGS", 1),
    ("e2", "ASB", 2),
    ("e3", "BURGLARY", 1),
    ("e3", "CYBER", 2),
    ("e4", "FRAUD_SCAMS", 1),
    ("e5", "HATE_CRIME", 1),
    ("e6", "NO_ISSUES", 1),
    ("e7", "NOISE", 1),
    ("e8", "NOISE", 1),
    ("e9", "PARKING", 1),
]
EVENTS = pd.DataFrame(
    {
        "event_id": ["e1", "e2", "e3", "e4", "e5", "e6", "e7", "e8", "e9"],
        "lpt_code": ["LEEK", "LEEK", "LEEK", "LEEK", "LEEK", "LEEK", "STONE", "STONE", "STONE"],
        "start_local_date": pd.to_datetime(
            [
                "2025-01-03",
                "2025-01-28",
                "2025-02-01",
                "2025-02-14",
                "2025-02-28",
                "2025-01-05",
                "2025-01-09",
                "2025-03-09",
                "2025-03-10",
            ],
            utc=True,
        ),
    }
)


def issue_frame(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["event_id", "theme_code", "rank"]).astype(
        {"event_id": "string", "theme_code": "string", "rank": "Int64"}
    )


def as_rows(frame: pd.DataFrame) -> list[tuple[object, ...]]:
    return [tuple(row) for row in frame.astype(object).itertuples(index=False)]


def test_top_five_per_lpt_counts_events_and_breaks_ties_by_average_rank_then_code() -> None:
    top = top_issues(issue_frame(ISSUES), EVENTS, id_column="event_id", by=["lpt_code"])
    assert list(top.columns) == ["lpt_code", "theme_code", "count", "rank"]
    assert as_rows(top) == [
        ("LEEK", "DRUGS", 2, 1),  # ties with ASB on count, but is ranked higher where raised
        ("LEEK", "ASB", 2, 2),
        ("LEEK", "BURGLARY", 1, 3),  # three themes raised once, each ranked 1: by code
        ("LEEK", "FRAUD_SCAMS", 1, 4),
        ("LEEK", "HATE_CRIME", 1, 5),  # CYBER is sixth; NO_ISSUES is never an issue
        ("STONE", "NOISE", 2, 1),
        ("STONE", "PARKING", 1, 2),
    ]


def test_the_result_does_not_depend_on_input_order() -> None:
    shuffled = issue_frame(ISSUES).sample(frac=1, random_state=3)
    events = EVENTS.sample(frac=1, random_state=4)
    expected = top_issues(issue_frame(ISSUES), EVENTS, id_column="event_id", by=["lpt_code"])
    pd.testing.assert_frame_equal(
        top_issues(shuffled, events, id_column="event_id", by=["lpt_code"]), expected
    )


def test_top_issues_per_lpt_and_month() -> None:
    top = top_issues(
        issue_frame(ISSUES),
        EVENTS,
        id_column="event_id",
        by=["lpt_code", "month"],
        date_column="start_local_date",
        limit=2,
    )
    months = [
        (lpt, month.strftime("%Y-%m-%d"), theme, count, rank)
        for lpt, month, theme, count, rank in as_rows(top)
    ]
    assert months == [
        ("LEEK", "2025-01-01", "DRUGS", 2, 1),
        ("LEEK", "2025-01-01", "ASB", 2, 2),
        ("LEEK", "2025-02-01", "BURGLARY", 1, 1),
        ("LEEK", "2025-02-01", "FRAUD_SCAMS", 1, 2),
        ("STONE", "2025-01-01", "NOISE", 1, 1),
        ("STONE", "2025-03-01", "NOISE", 1, 1),
        ("STONE", "2025-03-01", "PARKING", 1, 2),
    ]


def test_force_wide_and_per_event_top_issues() -> None:
    overall = top_issues(issue_frame(ISSUES), EVENTS, id_column="event_id", by=[], limit=3)
    assert as_rows(overall) == [("DRUGS", 2, 1), ("NOISE", 2, 2), ("ASB", 2, 3)]
    per_event = top_issues(issue_frame(ISSUES), EVENTS, id_column="event_id", by=["event_id"])
    assert as_rows(per_event[per_event["event_id"] == "e3"]) == [
        ("e3", "BURGLARY", 1, 1),
        ("e3", "CYBER", 1, 2),
    ]


def test_grouping_by_month_needs_a_date_column() -> None:
    with pytest.raises(ValueError, match="date_column"):
        top_issues(issue_frame(ISSUES), EVENTS, id_column="event_id", by=["month"])


def notes(text: str, times: int) -> list[str]:
    return [text] * times


def test_word_frequencies_publish_only_common_scrubbed_words_and_theme_labels() -> None:
    texts = pd.Series(
        notes("Youths on the rec again", 2)
        + notes("more youths on the rec", 10)
        + notes("graffiti on 12 walls", MIN_ROWS_PER_WORD - 1)
        + notes("raised by Karen Whitfield about parking, call 07700 900123", 11)
        + notes("Zorblax seen in Leek", 12)
    )
    themes = pd.Series(["PARKING"] * 11 + ["DRUGS"] * 3 + ["NO_ISSUES"] * 15 + ["OTHER"] * 12)
    cloud = word_frequencies(texts, themes)
    assert list(cloud.columns) == ["word", "count", "source"]
    assert [str(dtype) for dtype in cloud.dtypes] == ["string", "Int64", "string"]
    assert as_rows(cloud) == [
        ("leek", 12, "keyword"),  # a place, so kept though always capitalised
        ("rec", 12, "keyword"),
        ("youths", 12, "keyword"),
        ("Parking", 11, "theme"),
        ("parking", 11, "keyword"),
    ]
    words = set(cloud["word"])
    assert not words & {"karen", "whitfield", "name", "phone", "zorblax", "graffiti", "walls", "the", "again"}


def test_the_threshold_is_a_parameter() -> None:
    texts = pd.Series(notes("graffiti on the walls", 3) + ["graffiti again"])
    cloud = word_frequencies(texts, pd.Series(["CRIMINAL_DAMAGE_GRAFFITI"] * 4, dtype="string"), min_rows=3)
    # On equal counts theme labels come first, then words in alphabetical order.
    assert as_rows(cloud) == [
        ("Criminal damage and graffiti", 4, "theme"),
        ("graffiti", 4, "keyword"),
        ("walls", 3, "keyword"),
    ]
