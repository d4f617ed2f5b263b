"""Consenting CCR demographics by LPT, month, dimension and category, under disclosure control.

Builds `ccr_demographics_agg` (powerbi_dataset/model.py) and the force-level totals a report may show
beside it, from one protection run per (month, dimension): rows are LPTs, columns the dimension's
codes, and the LPT totals are treated as public (docs/disclosure.md, "What is guaranteed").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

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
    """Count consenting CCRs (count_demographics), then apply disclosure control per month and dimension.

    Census 2021 ethnicity and its derived 5 groups are protected as one table (the groups add up
    their categories), so neither can be used to work out a suppressed cell of the other.
    """
    policy = policy or DisclosurePolicy()
    counts = count_demographics(ccr)
    lpt_rows: list[dict[str, object]] = []
    force_rows: list[dict[str, object]] = []
    for (month, dimension), group in counts.groupby(["month", "dimension"], sort=True):
        name = str(dimension)
        if name == "ETHNIC_GROUP_5":
            continue  # protected together with ETHNICITY_2021
        table = _pivot(group, CATEGORIES[name])
        when = pd.Timestamp(month)  # type: ignore[arg-type]
        if name == "ETHNICITY_2021":
            protected = protect_table(table, policy, column_groups=ETHNIC_GROUPS)
            _collect(protected, when, "ETHNIC_GROUP_5", CATEGORIES["ETHNIC_GROUP_5"], lpt_rows, force_rows)
        else:
            protected = protect_table(table, policy)
        _collect(protected, when, name, CATEGORIES[name], lpt_rows, force_rows)
    order = ["month", "dimension"]
    lpt = _frame(lpt_rows, AGG_COLUMNS).sort_values(order, kind="stable", ignore_index=True)
    force = _frame(force_rows, FORCE_COLUMNS).sort_values(order, kind="stable", ignore_index=True)
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
    ethnicity = rows["ethnicity_2021"].astype("string")
    groups = ethnicity.map(c.ETHNIC_GROUP_BY_CODE, na_action="ignore").astype("string")
    answers = [(dimension, rows[column].astype("string")) for dimension, column, _codes in SIMPLE_DIMENSIONS]
    answers += [("ETHNICITY_2021", ethnicity), ("ETHNIC_GROUP_5", groups)]
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


def _pivot(counts: pd.DataFrame, categories: Sequence[str]) -> pd.DataFrame:
    """One month and dimension as an LPT x category table, LPTs in the model's order."""
    table = counts.pivot(index="lpt_code", columns="category", values="count")
    lpts = [code for code in LPT_ORDER if code in table.index]
    lpts += sorted(set(table.index) - set(lpts))
    return table.reindex(index=lpts, columns=list(categories), fill_value=0).astype("int64")


def _collect(
    protected: ProtectedTable,
    month: pd.Timestamp,
    dimension: str,
    categories: Sequence[str],
    lpt_rows: list[dict[str, object]],
    force_rows: list[dict[str, object]],
) -> None:
    columns = list(categories)
    counts = protected.counts[columns]
    lpts = list(counts.index)
    published = counts.astype(object).where(counts.notna(), None).to_numpy()
    suppressed = protected.suppressed[columns].to_numpy()
    for r, lpt_code in enumerate(lpts):
        for k, category in enumerate(columns):
            count = published[r][k]
            lpt_rows.append(
                {
                    "lpt_code": lpt_code,
                    "month": month,
                    "dimension": dimension,
                    "category": category,
                    "count": count,
                    "count_display": protected.policy.display(count),
                    "is_suppressed": bool(suppressed[r][k]),
                }
            )
    column_totals = protected.column_totals[columns]
    totals = column_totals.astype(object).where(column_totals.notna(), None).to_numpy()
    shares = protected.column_percentages[columns].to_numpy()
    for k, category in enumerate(columns):
        force_rows.append(
            {
                "month": month,
                "dimension": dimension,
                "category": category,
                "count": totals[k],
                "count_display": protected.policy.display(totals[k]),
                "is_suppressed": totals[k] is None,
                "percent": None if pd.isna(shares[k]) else float(shares[k]),
            }
        )


def _frame(rows: list[dict[str, object]], columns: Sequence[str]) -> pd.DataFrame:
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
    frame = pd.DataFrame(rows, columns=list(columns))
    return frame.astype({name: dtypes[name] for name in columns})
