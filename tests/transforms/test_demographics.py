"""ccr_demographics_agg: consent gate, months in Europe/London, 5 ethnic groups, disclosure control."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pandas as pd
import pytest

from emulator.demo.force import generate_force
from errors import SourceFormatError
from powerbi_dataset.model import CCR_DEMOGRAPHICS_AGG
from tests.transforms.sdc_attacker import disclosed_cells, lonely_unknowns
from transforms.demographics import (
    AGG_COLUMNS,
    CATEGORIES,
    ETHNIC_GROUPS,
    ccr_demographics_agg,
    count_demographics,
    protect_demographics,
)
from transforms.disclosure import DisclosurePolicy, ProtectedTable
from transforms.validate import validate

POLICY = DisclosurePolicy()
DEMOGRAPHIC_COLUMNS = (
    "age_band",
    "sex",
    "gender_same_as_birth",
    "ethnicity_2021",
    "religion",
    "health_condition_12m",
    "activity_limited",
)


def ccr(*rows: dict[str, object]) -> pd.DataFrame:
    """A canonical-shaped ccr frame: defaults are a consenting contact in STOKE_N on 15 Jan 2026."""
    filled = []
    for row in rows:
        recorded = row.get("recorded_utc", datetime(2026, 1, 15, 12, tzinfo=UTC))
        base: dict[str, object] = {
            "lpt_code": "STOKE_N",
            "recorded_utc": recorded,
            "recorded_local_date": datetime(recorded.year, recorded.month, recorded.day, tzinfo=UTC),  # type: ignore[union-attr]
            "diversity_consent": True,
            **dict.fromkeys(DEMOGRAPHIC_COLUMNS),
        }
        filled.append({**base, **row})
    frame = pd.DataFrame(filled)
    return frame.astype(
        {
            "lpt_code": "string",
            "diversity_consent": "boolean",
            **dict.fromkeys(DEMOGRAPHIC_COLUMNS, "string"),
            "recorded_utc": "datetime64[us, UTC]",
            "recorded_local_date": "datetime64[us, UTC]",
        }
    )


def repeat(times: int, **row: object) -> list[dict[str, object]]:
    return [dict(row) for _ in range(times)]


def counts_of(frame: pd.DataFrame, dimension: str) -> dict[tuple[str, str], int]:
    rows = frame[frame["dimension"] == dimension]
    return {(r.lpt_code, r.category): int(r.count) for r in rows.itertuples()}


def test_only_consenting_rows_are_counted_even_when_answers_slipped_in() -> None:
    frame = ccr(
        *repeat(3, sex="F"),
        *repeat(2, sex="M"),
        *repeat(5, sex="F", diversity_consent=False),  # answers without consent: never counted
        *repeat(4, sex="M", diversity_consent=None),  # unknown consent is not consent
        *repeat(1, sex="PNS", lpt_code="STOKE_S"),
    )
    counts = count_demographics(frame)
    assert counts_of(counts, "SEX") == {
        ("STOKE_N", "F"): 3,
        ("STOKE_N", "M"): 2,
        ("STOKE_N", "PNS"): 0,
        ("STOKE_S", "F"): 0,
        ("STOKE_S", "M"): 0,
        ("STOKE_S", "PNS"): 1,
    }
    assert counts[counts["dimension"] == "RELIGION"].empty  # nobody answered: no rows, not zeros


def test_months_are_europe_london_calendar_months() -> None:
    late_march_bst = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)  # 00:30 on 1 April in London
    late_january_gmt = datetime(2026, 1, 31, 23, 30, tzinfo=UTC)  # still 31 January in London
    frame = ccr(
        {"sex": "F", "recorded_utc": late_march_bst, "recorded_local_date": datetime(2026, 4, 1, tzinfo=UTC)},
        {"sex": "F", "recorded_utc": late_march_bst, "recorded_local_date": None},  # derived from UTC
        {"sex": "M", "recorded_utc": late_january_gmt, "recorded_local_date": None},
    )
    counts = count_demographics(frame)
    months = counts[(counts["dimension"] == "SEX") & (counts["count"] > 0)]
    assert sorted(zip(months["month"].astype(str), months["category"], months["count"], strict=True)) == [
        ("2026-01-01 00:00:00+00:00", "M", 1),
        ("2026-04-01 00:00:00+00:00", "F", 2),
    ]


def test_ethnicity_keeps_census_2021_categories_and_derives_the_five_groups() -> None:
    frame = ccr(
        *repeat(2, ethnicity_2021="W_BRITISH"),
        *repeat(1, ethnicity_2021="W_ROMA"),  # Roma: White in Census 2021 (no SDE code of its own)
        *repeat(1, ethnicity_2021="A_INDIAN"),
        *repeat(1, ethnicity_2021="PNS"),
        *repeat(1, ethnicity_2021="NOT_A_CODE"),  # never counted, never echoed
    )
    counts = count_demographics(frame)
    detail = counts_of(counts, "ETHNICITY_2021")
    assert len(detail) == 20 and sum(detail.values()) == 5
    assert detail[("STOKE_N", "W_ROMA")] == 1
    assert counts_of(counts, "ETHNIC_GROUP_5") == {
        ("STOKE_N", "ASIAN"): 1,
        ("STOKE_N", "BLACK"): 0,
        ("STOKE_N", "MIXED"): 0,
        ("STOKE_N", "WHITE"): 3,
        ("STOKE_N", "OTHER"): 0,
        ("STOKE_N", "NOT_STATED"): 1,
    }
    assert "NOT_A_CODE" not in set(counts["category"])


def test_a_hand_made_month_publishes_the_known_answer() -> None:
    # STOKE_N: F 30, M 25, PNS 2; STOKE_S: F 40, M 12, PNS 0. Both PNS cells are small; each row
    # then gives up its M cell (the smallest other; STOKE_S's also pairs the M column); the PNS
    # force total (2) is small, so the M force total goes with it. F stays: 30, 40, force 70.
    frame = ccr(
        *repeat(30, sex="F"),
        *repeat(25, sex="M"),
        *repeat(2, sex="PNS"),
        *repeat(40, sex="F", lpt_code="STOKE_S"),
        *repeat(12, sex="M", lpt_code="STOKE_S"),
    )
    tables = protect_demographics(frame)
    sex = tables.lpt[tables.lpt["dimension"] == "SEX"]
    assert sex[["lpt_code", "category", "count_display"]].values.tolist() == [
        ["STOKE_N", "F", "30"],
        ["STOKE_N", "M", "[c]"],
        ["STOKE_N", "PNS", "[c]"],
        ["STOKE_S", "F", "40"],
        ["STOKE_S", "M", "[c]"],
        ["STOKE_S", "PNS", "[c]"],
    ]
    assert sex["count"].isna().tolist() == sex["is_suppressed"].tolist()
    force = tables.force[tables.force["dimension"] == "SEX"]
    assert force["count_display"].tolist() == ["70", "[c]", "[c]"]
    assert force["percent"].iloc[0] == pytest.approx(100 * 70 / 110)  # 109 respondents, shown as 110


def test_missing_columns_are_a_source_format_error_naming_them() -> None:
    with pytest.raises(SourceFormatError, match="religion"):
        ccr_demographics_agg(ccr({"sex": "F"}).drop(columns=["religion"]))


@pytest.fixture(scope="module")
def demo() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    ccr_table = generate_force(ccrs=4000, events=800, invalid_fraction=0).tables["ccr"]
    tables = protect_demographics(ccr_table)
    return ccr_table, tables.lpt, tables.force


def test_demo_output_is_valid_against_the_model_and_never_shows_a_small_count(
    demo: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    _ccr, lpt, force = demo
    assert (
        tuple(lpt.columns)
        == AGG_COLUMNS
        == tuple(c for c in CCR_DEMOGRAPHICS_AGG.column_names if c != "load_id")
    )
    report = validate(lpt.assign(load_id=pd.Series([None] * len(lpt), dtype="string")), CCR_DEMOGRAPHICS_AGG)
    assert report.valid, report.counts()
    for table in (lpt, force):
        shown = table["count"].dropna()
        assert (shown >= POLICY.threshold).all() and (shown % POLICY.rounding_base == 0).all()
        assert table["count"].isna().tolist() == table["is_suppressed"].tolist()
        assert table["count_display"].tolist() == [
            POLICY.display(None if pd.isna(v) else int(v)) for v in table["count"]
        ]
    assert set(lpt["dimension"]) == set(CATEGORIES)


def _published(
    cells: pd.DataFrame, totals: pd.DataFrame, dimensions: tuple[str, ...]
) -> tuple[ProtectedTable, dict[str, tuple[str, ...]]]:
    """Rebuild, from one month's published rows only, the LPT x category table an attacker sees."""
    cells = cells[cells["dimension"].isin(dimensions)]
    totals = totals[totals["dimension"].isin(dimensions)]
    columns = [category for dimension in dimensions for category in CATEGORIES[dimension]]
    wide = cells.pivot(index="lpt_code", columns="category", values=["count", "is_suppressed"])
    counts = wide["count"][columns].astype("Int64")
    column_totals = totals.set_index("category")["count"][columns].astype("Int64")
    empty = pd.Series(pd.NA, index=counts.index, dtype="Int64")
    table = ProtectedTable(
        counts=counts,
        suppressed=wide["is_suppressed"][columns].astype(bool),
        row_totals=empty,
        row_totals_suppressed=empty.isna(),
        column_totals=column_totals,
        column_totals_suppressed=column_totals.isna(),
        grand_total=None,
        percentages=pd.DataFrame(),
        column_percentages=pd.Series(dtype=float),
        policy=POLICY,
    )
    return table, (ETHNIC_GROUPS if len(dimensions) == 2 else {})


def _tables(
    ccr_table: pd.DataFrame, lpt: pd.DataFrame, force: pd.DataFrame
) -> Iterator[tuple[ProtectedTable, pd.DataFrame, dict[str, tuple[str, ...]], pd.Series]]:
    truth = dict(tuple(count_demographics(ccr_table).groupby("month")))
    totals = dict(tuple(force.groupby("month")))
    every = [*((d,) for d in CATEGORIES if not d.startswith("ETHNIC")), ("ETHNICITY_2021", "ETHNIC_GROUP_5")]
    for month, cells in lpt.groupby("month"):
        for dimensions in every:
            table, groups = _published(cells, totals[month], dimensions)
            rows = truth[month][truth[month]["dimension"] == dimensions[0]]
            true = rows.pivot(index="lpt_code", columns="category", values="count")[
                list(CATEGORIES[dimensions[0]])
            ]
            true = true.loc[table.counts.index]
            yield table, true, groups, true.sum(axis=1)


def test_a_published_ethnic_group_cannot_reveal_its_one_suppressed_category() -> None:
    # Bangladeshi (3) is the only small Asian category; the Asian group (80) is published, so the
    # smallest other Asian category (Any other Asian, 12) must go too, or 80 minus the rest gives it.
    answers = {
        "W_BRITISH": 100,
        "A_INDIAN": 20,
        "A_PAKISTANI": 30,
        "A_BANGLADESHI": 3,
        "A_CHINESE": 15,
        "A_OTHER": 12,
    }
    frame = ccr(*(row for code, times in answers.items() for row in repeat(times, ethnicity_2021=code)))
    tables = protect_demographics(frame)
    month = tables.lpt["month"].iloc[0]
    lpt, force = tables.lpt[tables.lpt["month"] == month], tables.force[tables.force["month"] == month]
    table, groups = _published(lpt, force, ("ETHNICITY_2021", "ETHNIC_GROUP_5"))
    assert table.counts.loc["STOKE_N", "ASIAN"] == 80
    assert table.suppressed.loc["STOKE_N", ["A_BANGLADESHI", "A_OTHER"]].tolist() == [True, True]
    assert lonely_unknowns(table, groups, exact=True) == []
    true = pd.DataFrame(
        [[answers.get(code, 0) for code in CATEGORIES["ETHNICITY_2021"]]],
        index=["STOKE_N"],
        columns=list(CATEGORIES["ETHNICITY_2021"]),
    )
    assert disclosed_cells(table, true, groups, POLICY, exact_rows=true.sum(axis=1)) == []


def test_demo_lpt_cells_cannot_be_recovered_from_force_totals_or_public_lpt_totals(
    demo: tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame],
) -> None:
    ccr_table, lpt, force = demo
    checked = 0
    for table, true, groups, exact_rows in _tables(ccr_table, lpt, force):
        assert disclosed_cells(table, true, groups, POLICY, exact_rows=exact_rows) == []
        assert lonely_unknowns(table, groups, exact=True) == []
        checked += 1
    assert checked == 7 * lpt["month"].nunique()
