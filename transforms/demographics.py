"""Consenting CCR demographics by LPT, month, dimension and category, under disclosure control.

Builds `ccr_demographics_agg` (powerbi_dataset/model.py) and the force-level totals a report may show
beside it, from one protection run per (month, dimension): rows are LPTs, columns the dimension's
codes, and the LPT totals are treated as public (docs/disclosure.md, "What is guaranteed").
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from errors import SourceFormatError
from powerbi_dataset import codes as c
from powerbi_dataset.model import CCR_DEMOGRAPHICS_AGG
from transforms.disclosure import DisclosurePolicy, ProtectedTable, protect_table

__all__ = [
    "AGG_COLUMNS",
    "FORCE_COLUMNS",
    "DemographicTables",
    "ccr_demographics_agg",
    "count_demographics",
    "protect_demographics",
]

LONDON = "Europe/London"
AGG_COLUMNS = tuple(name for name in CCR_DEMOGRAPHICS_AGG.column_names if name != "load_id")
FORCE_COLUMNS = ("month", "dimension", "category", "count", "count_display", "is_suppressed", "percent")
LPT_ORDER = tuple(code.code for code in c.LPT_CODES)

# dimension code -> ccr column and the dimension's categories (the column's code list, in order)
SIMPLE_DIMENSIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("AGE_BAND", "age_band", tuple(code.code for code in c.AGE_BANDS)),
    ("SEX", "sex", tuple(code.code for code in c.SEXES)),
    ("GENDER_SAME_AS_BIRTH", "gender_same_as_birth", tuple(code.code for code in c.YES_NO_PNS)),
    ("RELIGION", "religion", tuple(code.code for code in c.RELIGIONS)),
    ("HEALTH_CONDITION_12M", "health_condition_12m", tuple(code.code for code in c.YES_NO_PNS)),
    ("ACTIVITY_LIMITED", "activity_limited", tuple(code.code for code in c.ACTIVITY_LIMITED)),
)
ETHNICITY_CATEGORIES = tuple(code for code, _label, _group, _sde in c.ETHNICITIES)
ETHNIC_GROUPS = {
    group.code: tuple(code for code in ETHNICITY_CATEGORIES if c.ETHNIC_GROUP_BY_CODE[code] == group.code)
    for group in c.ETHNIC_GROUPS_5
}
CATEGORIES: dict[str, tuple[str, ...]] = {
    **{dimension: codes for dimension, _column, codes in SIMPLE_DIMENSIONS},
    "ETHNICITY_2021": ETHNICITY_CATEGORIES,
    "ETHNIC_GROUP_5": tuple(ETHNIC_GROUPS),
}
REQUIRED_COLUMNS = (
    "lpt_code",
    "recorded_local_date",
    "diversity_consent",
    "ethnicity_2021",
    *(column for _dimension, column, _codes in SIMPLE_DIMENSIONS),
)


@dataclass(frozen=True)
class DemographicTables:
    """The published LPT table and the force-level totals protected with it (never sum the former)."""

    lpt: pd.DataFrame  # AGG_COLUMNS: ccr_demographics_agg without load_id
    force: pd.DataFrame  # FORCE_COLUMNS: all LPTs together, per month, dimension and category


def ccr_demographics_agg(ccr: pd.DataFrame, policy: DisclosurePolicy | None = None) -> pd.DataFrame:
    """`ccr_demographics_agg` rows (without load_id) from the canonical `ccr` table."""
    return protect_demographics(ccr, policy).lpt


def protect_demographics(ccr: pd.DataFrame, policy: DisclosurePolicy | None = None) -> DemographicTables:
    """Count consenting CCRs (as count_demographics does), then apply disclosure control per month and
    dimension.

    Census 2021 ethnicity and its derived 5 groups are protected as one table (the groups add up
    their categories), so neither can be used to work out a suppressed cell of the other.
    """
    policy = policy or DisclosurePolicy()
    rows = _consenting(ccr)
    lpt_parts: list[dict[str, Any]] = []
    force_parts: list[dict[str, Any]] = []
    for dimension, answers in _answers(rows):
        for month, table in _month_tables(rows, answers, CATEGORIES[dimension]):
            if dimension == "ETHNICITY_2021":
                protected = protect_table(table, policy, column_groups=ETHNIC_GROUPS)
                _collect(
                    protected, month, "ETHNIC_GROUP_5", CATEGORIES["ETHNIC_GROUP_5"], lpt_parts, force_parts
                )
            else:
                protected = protect_table(table, policy)
            _collect(protected, month, dimension, CATEGORIES[dimension], lpt_parts, force_parts)
    order = ["month", "dimension"]
    lpt = _frame(lpt_parts, AGG_COLUMNS).sort_values(order, kind="stable", ignore_index=True)
    force = _frame(force_parts, FORCE_COLUMNS).sort_values(order, kind="stable", ignore_index=True)
    return DemographicTables(lpt, force)


def count_demographics(ccr: pd.DataFrame) -> pd.DataFrame:
    """True counts of consenting CCRs by LPT, month, dimension and category. NEVER publish these.

    Columns lpt_code, month, dimension, category, count. Every category of a dimension is listed
    (zeros too) for each LPT and month with at least one answer in that dimension. Only rows with
    diversity_consent true are read: an answer on any other row is never counted. Answers outside a
    dimension's code list are not counted (they are validation problems, and publishing them would
    echo raw input). ETHNIC_GROUP_5 is derived from ethnicity_2021 (Census 2021 groups).
    """
    rows = _consenting(ccr)
    answers = _answers(rows)
    ethnicity = answers[-1][1]
    groups = ethnicity.map(c.ETHNIC_GROUP_BY_CODE, na_action="ignore").astype("string")
    answers.append(("ETHNIC_GROUP_5", groups))
    return pd.concat(
        [_long_counts(rows, values, dimension) for dimension, values in answers], ignore_index=True
    )


def _consenting(ccr: pd.DataFrame) -> pd.DataFrame:
    missing = [name for name in REQUIRED_COLUMNS if name not in ccr.columns]
    if missing:
        raise SourceFormatError(
            f"table 'ccr' lacks the column(s) {', '.join(missing)} needed for the demographics table",
            hint="pass the canonical ccr table (cetk schema show ccr lists its columns)",
        )
    consent = ccr["diversity_consent"].astype("boolean").fillna(False).astype(bool)
    rows = ccr.loc[consent.to_numpy()]
    month = _month(rows)
    if month.isna().any():
        raise SourceFormatError(
            f"table 'ccr' has {int(month.isna().sum())} consenting row(s) without a recorded date",
            hint="validate the ccr table first: recorded_local_date is required",
        )
    return rows.assign(_month=month)


def _answers(rows: pd.DataFrame) -> list[tuple[str, pd.Series]]:
    """Each recorded dimension's answers as text, Census 2021 ethnicity last (ETHNIC_GROUP_5 derives from it)."""
    answers = [(dimension, rows[column].astype("string")) for dimension, column, _codes in SIMPLE_DIMENSIONS]
    return [*answers, ("ETHNICITY_2021", rows["ethnicity_2021"].astype("string"))]


def _month(rows: pd.DataFrame) -> pd.Series:
    """First day of the Europe/London month as UTC midnight (the model's date_only shape)."""
    local = pd.to_datetime(rows["recorded_local_date"], utc=True)
    if "recorded_utc" in rows.columns and local.isna().any():
        from_utc = pd.to_datetime(rows["recorded_utc"], utc=True).dt.tz_convert(LONDON).dt.tz_localize(None)
        local = local.fillna(from_utc.dt.normalize().dt.tz_localize("UTC"))
    first = local.dt.normalize() - pd.to_timedelta(local.dt.day - 1, unit="D")
    return first.astype("datetime64[us, UTC]")


def _long_counts(rows: pd.DataFrame, answers: pd.Series, dimension: str) -> pd.DataFrame:
    categories = CATEGORIES[dimension]
    answered = answers.isin(list(categories)).fillna(False).to_numpy(dtype=bool)
    frame = pd.DataFrame(
        {
            "month": rows["_month"].to_numpy()[answered],
            "lpt_code": rows["lpt_code"].astype("string").to_numpy()[answered],
            "category": answers.to_numpy()[answered],
        }
    )
    sizes = frame.groupby(["month", "lpt_code", "category"], sort=True).size()
    present = frame[["month", "lpt_code"]].drop_duplicates().sort_values(["month", "lpt_code"])
    full = pd.MultiIndex.from_tuples(
        [(month, lpt, category) for month, lpt in present.itertuples(index=False) for category in categories],
        names=["month", "lpt_code", "category"],
    )
    counts = sizes.reindex(full, fill_value=0).rename("count").reset_index()
    counts["dimension"] = dimension
    counts["month"] = counts["month"].astype("datetime64[us, UTC]")
    return counts[["lpt_code", "month", "dimension", "category", "count"]].astype(
        {"lpt_code": "string", "dimension": "string", "category": "string", "count": "int64"}
    )


def _month_tables(
    rows: pd.DataFrame, answers: pd.Series, categories: Sequence[str]
) -> Iterator[tuple[pd.Timestamp, pd.DataFrame]]:
    """Each month's LPT x category table of one dimension's true counts, months in order.

    Lists the LPTs with at least one answer in the dimension that month, in the model's order (others
    after, sorted), and every category (zeros too): the tables count_demographics' rows make.
    """
    position = {category: k for k, category in enumerate(categories)}
    category = answers.map(position, na_action="ignore").to_numpy(dtype="float64", na_value=np.nan)
    answered = ~np.isnan(category)
    if not answered.any():
        return
    months, month = np.unique(rows["_month"].to_numpy(dtype="datetime64[us]")[answered], return_inverse=True)
    lpt_codes = rows["lpt_code"].astype("string").to_numpy()[answered]
    known = [code for code in LPT_ORDER if code in set(lpt_codes)]
    lpts = np.array([*known, *sorted(set(lpt_codes) - set(known))], dtype=object)
    lpt = pd.Index(lpts).get_indexer(lpt_codes)
    shape = (len(months), len(lpts), len(categories))
    flat = np.ravel_multi_index((month, lpt, category[answered].astype(np.int64)), shape)
    counts = np.bincount(flat, minlength=int(np.prod(shape))).reshape(shape)
    for m, when in enumerate(months):
        present = counts[m].sum(axis=1) > 0
        table = pd.DataFrame(counts[m][present], index=pd.Index(lpts[present]), columns=list(categories))
        yield pd.Timestamp(when, tz="UTC"), table


def _collect(
    protected: ProtectedTable,
    month: pd.Timestamp,
    dimension: str,
    categories: Sequence[str],
    lpt_parts: list[dict[str, Any]],
    force_parts: list[dict[str, Any]],
) -> None:
    """The protected table's rows in column form: LPT x category cells, then the force-level totals."""
    columns = list(categories)
    at = protected.counts.columns.get_indexer(pd.Index(columns))  # positions: label look-ups cost more
    published = _published(protected.counts)[:, at]
    lpts = np.asarray(protected.counts.index, dtype=object)
    cells = published.reshape(-1)
    lpt_parts.append(
        {
            "lpt_code": np.repeat(lpts, len(columns)),
            "month": [month] * len(cells),
            "dimension": [dimension] * len(cells),
            "category": columns * len(lpts),
            "count": cells,
            "count_display": [protected.policy.display(count) for count in cells],
            "is_suppressed": protected.suppressed.to_numpy(dtype=bool)[:, at].reshape(-1),
        }
    )
    totals = _published(protected.column_totals)[at]
    shares = protected.column_percentages.to_numpy(dtype="float64")[at]
    force_parts.append(
        {
            "month": [month] * len(columns),
            "dimension": [dimension] * len(columns),
            "category": columns,
            "count": totals,
            "count_display": [protected.policy.display(total) for total in totals],
            "is_suppressed": [total is None for total in totals],
            "percent": [None if np.isnan(share) else float(share) for share in shares],
        }
    )


def _published(counts: pd.DataFrame | pd.Series) -> np.ndarray:
    """Int64 published counts as Python ints, None where suppressed (<NA>)."""
    numbers = counts.to_numpy(dtype="int64", na_value=0).astype(object)
    numbers[counts.isna().to_numpy()] = None
    return numbers


def _frame(parts: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    dtypes = {
        "lpt_code": "string",
        "month": "datetime64[us, UTC]",
        "dimension": "string",
        "category": "string",
        "count": "Int64",
        "count_display": "string",
        "is_suppressed": "boolean",
        "percent": "Float64",
    }
    data = {name: [value for part in parts for value in part[name]] for name in columns}
    frame = pd.DataFrame(data, columns=list(columns))
    return frame.astype({name: dtypes[name] for name in columns})
