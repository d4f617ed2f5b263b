"""Disclosure control: S12, hand-made tables with known answers, and a property test with an attacker."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from errors import ConfigError
from tests.transforms.sdc_attacker import disclosed_cells, lonely_unknowns
from transforms.disclosure import DisclosurePolicy, percentage, protect_table
from transforms.disclosure_lines import Line, attacker_intervals, round_to_base, suppress

POLICY = DisclosurePolicy()
C = POLICY.suppressed_display


def table(rows: list[list[int]], columns: str = "abcdefgh") -> pd.DataFrame:
    return pd.DataFrame(
        rows, index=[f"r{i}" for i in range(len(rows))], columns=list(columns[: len(rows[0])])
    )


def test_s12_cells_0_3_9_10_12_publish_as_suppressed_suppressed_suppressed_10_10() -> None:
    protected = protect_table(table([[0, 3, 9, 10, 12]]))
    assert protected.display().loc["r0"].tolist() == [C, C, C, "10", "10"]
    assert protected.counts.loc["r0"].tolist()[3:] == [10, 10]
    assert protected.suppressed.loc["r0"].tolist() == [True, True, True, False, False]


S12_BESIDE_OTHERS = [[0, 3, 9, 10, 12], [20, 40, 11, 50, 100], [30, 15, 12, 60, 13]]


def test_s12_secondary_suppression_so_totals_do_not_reveal_a_cell() -> None:
    # Each small cell of the S12 row is alone in its column, whose total is published: column a
    # takes 20; column b then prefers 40, which also gives row r1 (20 alone) its second; column c
    # takes 11. Six cells in all; picking 15 and 12 in row r2 instead would have cost seven.
    truth = table(S12_BESIDE_OTHERS)
    protected = protect_table(truth)
    assert protected.display().to_numpy().tolist() == [
        [C, C, C, "10", "10"],
        [C, C, C, "50", "100"],
        ["30", "15", "10", "60", "15"],
    ]
    assert protected.column_totals_display().tolist() == ["50", "60", "30", "120", "125"]
    assert protected.row_totals.tolist() == [35, 220, 130]  # exact 34, 221, 130, shown rounded
    assert disclosed_cells(protected, truth, {}, POLICY, exact_rows=truth.sum(axis=1)) == []
    assert lonely_unknowns(protected, {}, exact=True) == []


def test_one_small_cell_gets_the_smallest_other_cell_of_its_row_and_column() -> None:
    # r0: 4 is alone and takes 20 (c); column a then prefers 25, column c 50: r1 has 25 and 50.
    protected = protect_table(table([[4, 30, 20], [25, 40, 50], [35, 45, 60]]))
    assert protected.suppressed.to_numpy().tolist() == [
        [True, False, True],
        [True, False, True],
        [False, False, False],
    ]
    assert protected.display().loc["r2"].tolist() == ["35", "45", "60"]


def test_ties_pick_the_first_cell_deterministically() -> None:
    protected = protect_table(table([[3, 20, 20], [20, 20, 20]]))
    assert protected.suppressed.to_numpy().tolist() == [[True, True, False], [True, True, False]]


def test_a_single_row_table_suppresses_the_column_total_equal_to_a_suppressed_cell() -> None:
    # With one row every column total equals its cell: the "only other cell is a margin" case.
    protected = protect_table(table([[3, 50, 60]]))
    assert protected.display().loc["r0"].tolist() == [C, C, "60"]
    assert protected.column_totals_display().tolist() == [C, C, "60"]


def test_rounded_neighbours_that_pin_two_small_cells_force_a_third_suppression() -> None:
    # Row total 10 is public; published 10 means 10..12, so the two zeros would add up to <= 0.
    protected = protect_table(table([[0, 0, 10], [20, 30, 40]]))
    assert protected.suppressed.loc["r0"].tolist() == [True, True, True]


def test_zero_is_suppressed_and_large_counts_round_to_five() -> None:
    protected = protect_table(table([[0, 1_234_567], [2, 98_765]]))
    assert protected.display().to_numpy().tolist() == [[C, C], [C, C]]
    protected = protect_table(table([[12, 13], [17, 1_234_568]]))
    assert protected.counts.to_numpy().tolist() == [[10, 15], [15, 1_234_570]]


def test_totals_not_known_exactly_are_rounded_and_small_ones_suppressed() -> None:
    truth = table([[3, 4], [20, 30]])
    protected = protect_table(truth, exact_row_totals=False)
    # r0's total 7 is small; alone among the row totals it would be the grand total (55) minus 50,
    # so the smallest other member of that line, r1's total, goes too.
    assert protected.row_totals_suppressed.tolist() == [True, True]
    assert protected.grand_total == 55
    assert disclosed_cells(protected, truth, {}, POLICY, exact_rows=None) == []


def test_column_groups_are_protected_jointly_with_their_members() -> None:
    truth = table([[3, 40, 30, 25], [12, 15, 50, 60]], "wxyz")
    groups = {"G1": ("w", "x"), "G2": ("y", "z")}
    protected = protect_table(truth, column_groups=groups)
    assert list(protected.counts.columns) == ["w", "x", "y", "z", "G1", "G2"]
    # w=3 is alone in G1 of r0 -> x is suppressed, so G1 of r0 (43) cannot be w + published x.
    assert protected.suppressed.loc["r0", ["w", "x"]].tolist() == [True, True]
    assert disclosed_cells(protected, truth, groups, POLICY, exact_rows=truth.sum(axis=1)) == []
    assert lonely_unknowns(protected, groups, exact=True) == []


def test_percentages_come_from_rounded_figures_and_need_fifty_respondents() -> None:
    protected = protect_table(table([[12, 38], [30, 31], [20, 23]]))
    # r0 base 50: 12 shows as 10 -> 20%, 38 as 40 -> 80%; r1 base 61 rounds to 60; r2 base 43 < 50.
    assert protected.percentages.loc["r0"].tolist() == [20.0, 80.0]
    assert protected.percentages.loc["r1"].tolist() == [50.0, 50.0]
    assert protected.percentages.loc["r2"].isna().all()
    assert percentage(None, 500, POLICY) is None
    assert percentage(10, 49, POLICY) is None
    assert percentage(10, 50, POLICY) == 20.0


def test_policy_thresholds_are_configurable() -> None:
    policy = DisclosurePolicy(threshold=5, rounding_base=3, min_percentage_base=20, suppressed_display="*")
    protected = protect_table(table([[4, 3, 10, 11, 5]]), policy)
    assert protected.display().loc["r0"].tolist() == ["*", "*", "9", "12", "6"]
    assert round_to_base(4, 3) == 3 and round_to_base(5, 3) == 6


@pytest.mark.parametrize(
    "kwargs",
    [
        {"threshold": 0},
        {"rounding_base": 0},
        {"min_percentage_base": -1},
        {"threshold": 2.5},
        {"suppressed_display": "7"},
    ],
)
def test_a_bad_policy_is_a_config_error(kwargs: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        DisclosurePolicy(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("rows", "message"),
    [([[1]], "two categories"), ([[1, -2]], "at least 0"), ([[1.5, 2]], "whole numbers")],
)
def test_malformed_count_tables_are_bugs(rows: list[list[float]], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        protect_table(pd.DataFrame(rows))


@pytest.mark.parametrize(
    ("groups", "message"),
    [
        ({"G": ("a", "b")}, "single column group"),
        ({"G": ("a",), "H": ("a", "b")}, "partition"),
        ({"G": ("a",)}, "partition"),
        ({"a": ("a",), "H": ("b",)}, "share a name"),
    ],
)
def test_column_groups_must_partition_the_categories(
    groups: dict[str, tuple[str, ...]], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        protect_table(table([[20, 30]]), column_groups=groups)


def test_attacker_intervals_follow_a_chain_of_lines() -> None:
    # cells 0,1 add up to 2 (exact 15); 2 is published 10 (10..12) and is part of line 3 = 2 + 4.
    values = [3, 12, 15, 10, 0]
    lines = [Line((0, 1), 2)]
    intervals = attacker_intervals(values, lines, POLICY, suppressed={0, 1}, exact={2})
    assert intervals[0] == (0.0, 15.0) and intervals[1] == (0.0, 15.0)
    intervals = attacker_intervals(values, lines, POLICY, suppressed={0}, exact={2})
    assert intervals[0] == (3.0, 5.0)  # 15 - [10, 12]


def test_suppress_leaves_alone_what_exact_totals_give_away() -> None:
    # A line of two zeros with an exact total 0: both are known to be 0 whatever is suppressed.
    result = suppress([0, 0, 0, 20, 25, 45], [Line((0, 1), 2), Line((3, 4), 5)], POLICY, exact={2, 5})
    assert result.primary == {0, 1} and result.secondary == frozenset()


# Zeros and values at the edges of the threshold and rounding windows are where disclosure hides.
counts = st.one_of(
    st.sampled_from([0, 0, 1, 2, 9, 10, 10, 11, 12, 13, 15, 17]),
    st.integers(0, 60),
    st.integers(0, 1_000_000),
)


@st.composite
def random_tables(draw: st.DrawFn) -> tuple[pd.DataFrame, dict[str, tuple[str, ...]], bool]:
    rows = draw(st.integers(1, 6))
    columns = draw(st.integers(2, 6))
    data = [[draw(counts) for _ in range(columns)] for _ in range(rows)]
    truth = table(data, "abcdefgh")
    exact = draw(st.booleans())
    groups: dict[str, tuple[str, ...]] = {}
    if draw(st.booleans()):
        labels = [draw(st.integers(0, 2)) for _ in range(columns)]
        labels[0], labels[1] = 0, 1  # at least two groups: one group would equal the row total
        for label in sorted(set(labels)):
            groups[f"G{label}"] = tuple(
                c for c, lab in zip(truth.columns, labels, strict=True) if lab == label
            )
    return truth, groups, exact


@settings(
    max_examples=250,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(random_tables())
def test_property_nothing_small_is_published_and_no_suppressed_cell_can_be_recovered(
    case: tuple[pd.DataFrame, dict[str, tuple[str, ...]], bool],
) -> None:
    truth, groups, exact = case
    protected = protect_table(truth, POLICY, exact_row_totals=exact, column_groups=groups)
    published = [
        *protected.counts.to_numpy().reshape(-1).tolist(),
        *protected.column_totals.tolist(),
        *protected.row_totals.tolist(),
        protected.grand_total,
    ]
    shown = [int(value) for value in published if value is not None and value is not pd.NA]
    assert all(value >= POLICY.threshold for value in shown), "a published count is under the threshold"
    assert all(value % POLICY.rounding_base == 0 for value in shown), "a published count is not rounded"
    assert not any(
        math.isfinite(share) and (protected.counts.isna().to_numpy()[i][j])
        for i, row in enumerate(protected.percentages.to_numpy().tolist())
        for j, share in enumerate(row)
    ), "a percentage is shown for a suppressed cell"
    assert lonely_unknowns(protected, groups, exact) == []
    exact_rows = truth.sum(axis=1) if exact else None
    assert disclosed_cells(protected, truth, groups, POLICY, exact_rows=exact_rows) == []


@settings(max_examples=60, derandomize=True, database=None, deadline=None)
@given(random_tables())
def test_property_the_assembled_tables_follow_the_scalar_definitions(
    case: tuple[pd.DataFrame, dict[str, tuple[str, ...]], bool],
) -> None:
    """The arrays protect_table assembles say, element by element, what round_to_base and percentage say."""
    truth, groups, exact = case
    protected = protect_table(truth, POLICY, exact_row_totals=exact, column_groups=groups)
    full = truth.assign(**{name: truth[list(members)].sum(axis=1) for name, members in groups.items()})
    detail_totals = truth.sum(axis=1)
    for row in full.index:
        for column in full.columns:
            shown = protected.counts.loc[row, column]
            suppressed = bool(protected.suppressed.loc[row, column])
            assert (shown is pd.NA) == suppressed
            if not suppressed:
                assert shown == round_to_base(int(full.loc[row, column]), POLICY.rounding_base)
            share = percentage(None if suppressed else int(shown), int(detail_totals[row]), POLICY)
            got = protected.percentages.loc[row, column]
            assert (math.isnan(got) and share is None) or got == share
    grand = int(detail_totals.sum())
    for column in full.columns:
        total = protected.column_totals[column]
        published = None if total is pd.NA else int(total)
        if published is not None:
            assert published == round_to_base(int(full[column].sum()), POLICY.rounding_base)
        share = percentage(published, grand, POLICY)
        got = protected.column_percentages[column]
        assert (math.isnan(got) and share is None) or got == share
    assert protected.row_totals_suppressed.tolist() == protected.row_totals.isna().tolist()
