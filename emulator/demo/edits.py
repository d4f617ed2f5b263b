"""The row edits behind each deliberate error: what to change, which rows qualify, what it triggers.

Each edit returns the (column, code) problems its row must now report; rows are chosen so that no
other rule fires (see emulator/demo/injected.py).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from emulator.demo.events import Row, local_midnight_utc
from emulator.demo.reference import demo_officer_key


class Injector(Protocol):
    """What an edit may use of the injector that applies it (emulator/demo/injected.py)."""

    rng: random.Random
    tables: dict[str, list[Row]]
    as_of: datetime


Found = list[tuple[str, str]]
Edit = tuple[Callable[[Injector, Row], Found], Callable[[Injector, Row], bool]]
LONG_SENTENCE = "Residents described the same problem again at length during the meeting. "


def long_text(length: int) -> str:
    return (LONG_SENTENCE * (length // len(LONG_SENTENCE) + 1))[:length]


def _any(_i: Injector, _row: Row) -> bool:
    return True


def _settled(injector: Injector, row: Row) -> bool:
    start = row["start_utc"]
    assert isinstance(start, datetime)
    return row["status"] == "COMPLETED" and start < injector.as_of - timedelta(days=3)


def _move_event(row: Row, start: datetime) -> None:
    span = row["end_utc"] - row["start_utc"]  # type: ignore[operator]
    row["start_utc"], row["end_utc"] = start, start + span
    row["start_local_date"] = local_midnight_utc(start)


def _set(column: str, value: object, *codes: str) -> Callable[[Injector, Row], Found]:
    def edit(_injector: Injector, row: Row) -> Found:
        row[column] = value
        return [(column, code) for code in codes]

    return edit


def _end_before_start(_i: Injector, row: Row) -> Found:
    row["end_utc"] = row["start_utc"] - timedelta(hours=1)  # type: ignore[operator]
    return [("end_utc", "end-before-start")]


def _too_long_span(_i: Injector, row: Row) -> Found:
    row["end_utc"] = row["start_utc"] + timedelta(hours=30)  # type: ignore[operator]
    return [("end_utc", "duration-too-long")]


def _in_future(injector: Injector, row: Row) -> Found:
    _move_event(row, injector.as_of + timedelta(days=injector.rng.randint(2, 9), hours=2))
    return [("end_utc", "completed-in-future")]


def _too_early(_i: Injector, row: Row) -> Found:
    start = row["start_utc"]
    assert isinstance(start, datetime)
    _move_event(row, start.replace(year=2014, month=6, day=min(start.day, 28)))
    return [("start_utc", "out-of-range")]


def _modified_early(_i: Injector, row: Row) -> Found:
    row["modified_utc"] = row["created_utc"] - timedelta(days=2)  # type: ignore[operator]
    return [("modified_utc", "modified-before-created")]


def _long_name(_i: Injector, row: Row) -> Found:
    row["event_name"] = (str(row["event_name"]) + " - " + long_text(240))[:230]
    return [("event_name", "too-long")]


def _below_linked(injector: Injector, row: Row) -> Found:
    linked = sum(1 for link in injector.tables["event_officers"] if link["event_id"] == row["event_id"])
    row["officers_present"] = linked - 1
    return [("officers_present", "officers-below-linked")]


def _has_links(injector: Injector, row: Row) -> bool:
    linked = sum(1 for link in injector.tables["event_officers"] if link["event_id"] == row["event_id"])
    return _settled(injector, row) and linked >= 2 and row["officers_present"] == linked


def _orphan_creator(injector: Injector, row: Row) -> Found:
    row["created_by_officer_key"] = demo_officer_key(f"GONE{injector.rng.randrange(10**6)}")
    return [("created_by_officer_key", "orphan-reference")]


def _drop_attendance(_i: Injector, row: Row) -> Found:
    row["total_attendance"] = row["attendance_is_estimate"] = None
    return [("total_attendance", "attendance-required")]


EVENT_EDITS: list[Edit] = [
    (_end_before_start, _settled),
    (_set("total_attendance", -3, "out-of-range"), _settled),
    (_set("event_type", "FUN_RUN", "unknown-code"), _settled),
    (_set("event_name", None, "missing-value"), _settled),
    (_long_name, _settled),
    (_in_future, _settled),
    (_too_long_span, _settled),
    (_drop_attendance, _settled),
    (_modified_early, _settled),
    (_below_linked, _has_links),
    (
        _set("ward_code", "E0500812", "bad-format"),
        lambda i, row: _settled(i, row) and row["ward_code"] is not None,
    ),
    (
        _set("location_lat", 53.412, "out-of-range"),
        lambda i, row: _settled(i, row) and row["location_lat"] is not None,
    ),
    (_too_early, _settled),
    (_orphan_creator, _settled),
]


def _action_before_raised(_i: Injector, row: Row) -> Found:
    row["actioned_date"] = row["raised_date"] - timedelta(days=2)  # type: ignore[operator]
    return [("actioned_date", "actioned-before-raised")]


def _not_actioned(_i: Injector, row: Row) -> Found:
    row.update(status="NOT_ACTIONED", not_actioned_reason=None, actioned_date=None, publish_ok=False)
    row["published_channel"] = None
    return [("not_actioned_reason", "reason-required")]


def _with_time(column: str, hours: float) -> Callable[[Injector, Row], Found]:
    def edit(_i: Injector, row: Row) -> Found:
        row[column] = row[column] + timedelta(hours=hours)  # type: ignore[operator]
        return [(column, "not-a-date")]

    return edit


def _status(status: str) -> Callable[[Injector, Row], bool]:
    return lambda _i, row: row["status"] == status


ACTION_EDITS: list[Edit] = [
    (_set("event_id", None, "event-required-for-origin"), lambda _i, row: row["origin"] == "EVENT"),
    (_action_before_raised, _status("COMPLETED")),
    (_not_actioned, lambda _i, row: row["status"] != "NOT_ACTIONED"),
    (_set("actioned_date", None, "actioned-date-required"), _status("COMPLETED")),
    (_set("we_did", long_text(4001), "too-long"), _any),
    (_set("you_said", long_text(600), "too-long"), _any),
    (_set("we_did", None, "missing-value"), _any),
    (_set("we_did_type", "LEAFLET_DROP", "unknown-code"), _any),
    (_with_time("raised_date", 14.5), lambda _i, row: row["actioned_date"] is None),
]


def _consent(value: bool) -> Callable[[Injector, Row], bool]:
    return lambda _i, row: row["diversity_consent"] is value


def _not_at_event(_i: Injector, row: Row) -> bool:
    return row["contact_setting"] != "EVENT"


def _without_consent(_i: Injector, row: Row) -> Found:
    row.update(sex="F", ethnicity_2021="W_BRITISH")
    return [("sex", "consent-gate"), ("ethnicity_2021", "consent-gate")]


def _u16(_i: Injector, row: Row) -> Found:
    row.update(age_band="U16", gender_same_as_birth="Y")
    return [("gender_same_as_birth", "u16-gender-identity")]


def _activity(_i: Injector, row: Row) -> Found:
    row.update(health_condition_12m="N", activity_limited="A_LITTLE")
    return [("activity_limited", "activity-without-condition")]


def _unexpected_event(injector: Injector, row: Row) -> Found:
    row["event_id"] = injector.rng.choice(injector.tables["events"])["event_id"]
    return [("event_id", "event-link")]


def _recorded_future(injector: Injector, row: Row) -> Found:
    recorded = injector.as_of + timedelta(days=2, hours=3)
    row.update(recorded_utc=recorded, recorded_local_date=local_midnight_utc(recorded))
    return [("recorded_utc", "recorded-in-future")]


CCR_EDITS: list[Edit] = [
    (_without_consent, _consent(False)),
    (_set("age_band", "25-34", "consent-gate"), _consent(False)),
    (_u16, _consent(True)),
    (_activity, _consent(True)),
    (_set("event_id", None, "event-link"), lambda _i, row: row["contact_setting"] == "EVENT"),
    (_unexpected_event, _not_at_event),
    (_recorded_future, _not_at_event),
    (_set("officer_key", None, "missing-value"), _any),
    (_set("officer_key", "PC 4471", "bad-format", "orphan-reference"), _any),
    (_set("lpt_code", "STOKE", "unknown-code", "orphan-reference"), _any),
    (_set("religion", "JEDI", "unknown-code"), _consent(True)),
    (_set("confidence_deals_with_asb", 7, "out-of-range"), _any),
    (_set("lsoa21_code", "E0102001", "bad-format"), lambda _i, row: row["lsoa21_code"] is not None),
    (_with_time("recorded_local_date", 10.25), _any),
    (_set("information_submitted", None, "missing-value"), _any),
]
