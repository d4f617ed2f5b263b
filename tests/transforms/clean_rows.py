"""Valid test inputs: a small dataset for every table of the model (as text or typed), and a small table."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa

from powerbi_dataset.kinds import KIND_TYPES
from powerbi_dataset.model import DATASET
from powerbi_dataset.schema import Code, Column, Table
from transforms.masking import value_text

Row = dict[str, Any]

KEY_1 = "0123456789abcdef"
KEY_2 = "fedcba9876543210"
KEY_3 = "00000000000000aa"
AS_OF = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


LINEAGE: Row = {"source_system": "sp_list", "source_item_id": "1", "source_version": "v1", "load_id": None}

AREA: Row = {
    "lpt_code": "STAFFORD",
    "lpt_name": "Stafford",
    "lpt_base": "Stafford",
    "local_authority": "Stafford",
    "load_id": None,
}
EVENT: Row = {
    "event_id": "e1",
    "status": "COMPLETED",
    "event_name": "Summer fete",
    "event_type": "COMMUNITY_EVENT",
    "start_utc": utc("2024-05-01T10:00:00"),
    "end_utc": utc("2024-05-01T12:00:00"),
    "start_local_date": utc("2024-05-01T00:00:00"),
    "lpt_code": "STAFFORD",
    "ward_code": "E05000001",
    "location_lat": 52.806,
    "location_lon": -2.117,
    "total_attendance": 40,
    "attendance_is_estimate": True,
    "officers_present": 3,
    "intel_submissions": 0,
    "suitable_for_publishing": True,
    "value_gained": "HIGH",
    "created_by_officer_key": KEY_1,
    "created_utc": utc("2024-04-01T09:00:00"),
    "modified_utc": utc("2024-05-02T09:00:00"),
    **LINEAGE,
}
ACTION: Row = {
    "action_id": "a1",
    "origin": "EVENT",
    "event_id": "e1",
    "lpt_code": "STAFFORD",
    "theme_code": "ASB",
    "you_said": "Youths gathering by the shops",
    "we_did_type": "PATROL_PLAN",
    "we_did": "Evening patrols for four weeks",
    "raised_date": utc("2024-05-01T00:00:00"),
    "actioned_date": utc("2024-05-03T00:00:00"),
    "status": "COMPLETED",
    "not_actioned_reason": None,
    "owner_role": "PC",
    "publish_ok": True,
    "published_channel": "WEBSITE",
    **LINEAGE,
}
CCR: Row = {
    "ccr_id": "c1",
    "recorded_utc": utc("2024-05-01T11:00:00"),
    "recorded_local_date": utc("2024-05-01T00:00:00"),
    "lpt_code": "STAFFORD",
    "lsoa21_code": "E01000001",
    "ward_code": "E05000001",
    "event_id": "e1",
    "officer_key": KEY_1,
    "contact_setting": "EVENT",
    "information_submitted": False,
    "smart_alert_signup": False,
    "diversity_consent": True,
    "age_band": "25-34",
    "sex": "F",
    "gender_same_as_birth": "Y",
    "ethnicity_2021": "A_INDIAN",
    "religion": "NONE",
    "health_condition_12m": "Y",
    "activity_limited": "A_LITTLE",
    "confidence_understands_issues": 4,
    "confidence_deals_with_asb": 5,
    "citizen_key": None,
    **LINEAGE,
}


def clean_rows() -> dict[str, list[Row]]:
    """One valid row (or a few) per table; every foreign key resolves."""
    return {
        "areas": [dict(AREA)],
        "officers": [
            {"officer_key": key, "role": "PC", "home_lpt_code": "STAFFORD", "active": True, "load_id": None}
            for key in (KEY_1, KEY_2, KEY_3)
        ],
        "events": [dict(EVENT)],
        "event_officers": [{"event_id": "e1", "officer_key": key, "load_id": None} for key in (KEY_1, KEY_2)],
        "event_communities": [{"event_id": "e1", "community_code": "YOUNG_PEOPLE", "load_id": None}],
        "event_issues": [{"event_id": "e1", "theme_code": "ASB", "rank": 1, "load_id": None}],
        "themes": [
            {"theme_code": code, "theme_label": code.title(), "load_id": None}
            for code in ("ASB", "PARKING", "NO_ISSUES")
        ],
        "you_said_we_did": [dict(ACTION)],
        "ccr": [dict(CCR)],
        "ccr_issues": [{"ccr_id": "c1", "theme_code": "ASB", "load_id": None}],
        "ccr_demographics_agg": [
            {
                "lpt_code": "STAFFORD",
                "month": utc("2024-05-01T00:00:00"),
                "dimension": "SEX",
                "category": "F",
                "count": 10,
                "count_display": "10",
                "is_suppressed": False,
                "load_id": None,
            }
        ],
        "_loads": [
            {
                "load_id": "20240502T100000000000Z",
                "load_seq": 1_714_644_000_000_000,
                "full_tables": "|areas|events|",
                "tables": "|areas|events|event_officers|",
                "row_counts": "areas=1|events=1|event_officers=1",
                "rows_posted": 3,
                "started_utc": utc("2024-05-02T10:00:00"),
                "completed_utc": utc("2024-05-02T10:01:00"),
            }
        ],
    }


def as_text(name: str, rows: list[Row]) -> pa.Table:
    """The rows as a CSV reader gives them: every column text, '' for null."""
    names = list(rows[0]) if rows else list(DATASET.table(name).column_names)
    return pa.table(
        {column: pa.array([value_text(row.get(column)) for row in rows], pa.string()) for column in names}
    )


def as_typed(name: str, rows: list[Row]) -> pa.Table:
    """The rows with the model's Arrow types (every field nullable, as Parquet staging may hold)."""
    table = DATASET.table(name)
    schema = pa.schema([pa.field(column.name, KIND_TYPES[column.kind].storage) for column in table.columns])
    return pa.Table.from_pylist(rows, schema=schema)


ROOMS = Table(
    "rooms",
    "A small table for the column checks",
    (
        Column("room_id", "String", "Key", required=True, max_length=5),
        Column("kind", "String", "Kind", required=True, codes=(Code("HALL", "Hall"), Code("ROOM", "Room"))),
        Column("ref", "String", "Reference", pattern=r"R\d{3}"),
        Column("note", "String", "Free text, only the 4,000-char cap"),
        Column("seats", "Int64", "Seats", minimum=1, maximum=500),
        Column("rate", "Double", "Rate", minimum=0),
        Column("open", "Boolean", "Open"),
        Column("opened_utc", "DateTime", "Opened", minimum=1_420_070_400.0),  # 2015-01-01
        Column("opened_date", "DateTime", "Opened date", date_only=True),
    ),
    key=("room_id",),
)


def rooms(**columns: list[object]) -> pa.Table:
    """A text table with every ROOMS column; the given columns replace the clean defaults."""
    rows = len(next(iter(columns.values())))
    clean: dict[str, list[object]] = {
        "room_id": [f"r{n}" for n in range(rows)],
        "kind": ["HALL"] * rows,
        "ref": ["R001"] * rows,
        "note": [""] * rows,
        "seats": ["10"] * rows,
        "rate": ["1.5"] * rows,
        "open": ["true"] * rows,
        "opened_utc": ["2024-01-01T10:00:00Z"] * rows,
        "opened_date": ["2024-01-01"] * rows,
    }
    clean.update(columns)
    return pa.table(clean)
