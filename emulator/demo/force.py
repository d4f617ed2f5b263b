"""A synthetic but realistic Staffordshire-style force in the canonical shape, with deliberate errors.

`generate_force()` is deterministic for a seed and an as-of time (never the wall clock). Each part
draws from its own seeded stream, so the clean variant (invalid_fraction=0) holds the same rows as the
dirty one apart from the injected errors. Run `python -m emulator.demo --write-sample DIR` to
regenerate the bundled sample, or `--write-forms DIR` for legacy Microsoft Forms exports.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from emulator.demo import text
from emulator.demo.ccr import make_ccrs
from emulator.demo.events import Row, make_actions, make_events
from emulator.demo.injected import InjectedError, Injector
from emulator.demo.reference import OfficerIdentity, area_rows, make_officers, officer_rows, theme_rows
from powerbi_dataset.model import DATASET
from powerbi_dataset.schema import Kind, Table

__all__ = [
    "AS_OF",
    "CANONICAL_TABLES",
    "Force",
    "InjectedError",
    "generate_force",
    "records",
    "to_frame",
]

AS_OF = datetime(2026, 10, 31, 23, 0, tzinfo=UTC)
# The tables a source holds: not the publish ledger, nor the aggregates cetk derives (row_level=False).
CANONICAL_TABLES = tuple(t.name for t in DATASET.tables if t.name != "_loads" and t.row_level)
LIST_NAMES = ("events", "ccr", "you_said_we_did")
DTYPES: dict[Kind, str] = {
    "String": "string",
    "Int64": "Int64",
    "Double": "Float64",
    "Boolean": "boolean",
    "Decimal": "Float64",
}


@dataclass(frozen=True)
class Force:
    """The canonical tables, the manifest of deliberate errors and the source-side private extras."""

    tables: dict[str, pd.DataFrame]
    injected: list[InjectedError]
    identities: pd.DataFrame  # officer_key, staff_number, display_name, email, role, home_lpt_code, active
    planted_pii: list[str]  # every fake personal detail written into free text
    event_notes: dict[str, str]  # event_id -> the app's multi-line "Issues raised" text (source only)
    list_ids: dict[str, str]  # canonical table -> the SharePoint list GUID inside its ids
    people: tuple[text.FakePerson, ...]  # members of the public the PII came from (Forms respondents too)
    seed: int
    as_of: datetime
    officer_details: list[OfficerIdentity] = field(default_factory=list, repr=False)


def to_frame(table: Table, rows: Sequence[Row]) -> pd.DataFrame:
    """Rows as a typed frame in the table's column order; absent keys become nulls."""
    data: dict[str, object] = {}
    for column in table.columns:
        values = [row.get(column.name) for row in rows]
        if column.kind == "DateTime":
            data[column.name] = pd.to_datetime(pd.Series(values, dtype="object"), utc=True).astype(
                "datetime64[us, UTC]"
            )
        else:
            data[column.name] = pd.Series(values, dtype="object").astype(
                pd.api.types.pandas_dtype(DTYPES[column.kind])
            )
    return pd.DataFrame(data, columns=list(table.column_names))


def records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows of a canonical frame as plain Python values: None for nulls, datetime, int, float, bool, str."""
    rows = frame.astype(object).where(frame.notna(), None).to_dict("records")
    return [{str(name): _plain(value) for name, value in row.items()} for row in rows]


def _plain(value: object) -> object:
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


def generate_force(
    *,
    seed: int = 7,
    events: int = 2000,
    ccrs: int = 10000,
    invalid_fraction: float = 0.02,
    as_of: datetime = AS_OF,
    officers: int = 400,
) -> Force:
    """Generate the demo force; the same arguments always give the same force."""
    if as_of.tzinfo is None:
        raise ValueError("as_of must be timezone-aware")

    def stream(part: str) -> random.Random:
        return random.Random(f"cetk-demo:{seed}:{part}")

    ids = stream("list-ids")
    list_ids = {name: str(uuid.UUID(int=ids.getrandbits(128), version=4)) for name in LIST_NAMES}
    officer_list = make_officers(stream("officers"), officers)
    people = text.make_people(stream("people"), 12)
    pii = text.PiiPlanter(people)
    event_set = make_events(stream("events"), events, as_of, list_ids["events"], officer_list, pii)
    actions = make_actions(stream("actions"), event_set, as_of, list_ids["you_said_we_did"], pii)
    ccr_rows, ccr_issue_rows = make_ccrs(stream("ccr"), ccrs, as_of, list_ids["ccr"], officer_list, event_set)
    rows: dict[str, list[Row]] = {
        "areas": area_rows(),
        "officers": officer_rows(officer_list),
        "events": event_set.events,
        "event_officers": event_set.event_officers,
        "event_communities": event_set.event_communities,
        "event_issues": event_set.event_issues,
        "themes": theme_rows(),
        "you_said_we_did": actions,
        "ccr": ccr_rows,
        "ccr_issues": ccr_issue_rows,
    }
    injected = Injector(stream("errors"), rows, as_of).run(invalid_fraction)
    identities = pd.DataFrame(
        [vars(officer) for officer in officer_list],
        columns=["officer_key", "staff_number", "display_name", "email", "role", "home_lpt_code", "active"],
    )
    return Force(
        tables={name: to_frame(DATASET.table(name), rows[name]) for name in CANONICAL_TABLES},
        injected=injected,
        identities=identities,
        planted_pii=list(pii.planted),
        event_notes=event_set.notes,
        list_ids=list_ids,
        people=people,
        seed=seed,
        as_of=as_of,
        officer_details=officer_list,
    )
