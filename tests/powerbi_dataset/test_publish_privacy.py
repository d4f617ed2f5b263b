"""Privacy at the boundary: what may not reach Power BI is refused before any request, and no personal detail
of the demo force is in anything the emulator received."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pytest

from errors import DataRefusedError
from powerbi_dataset.boundary import check_boundary
from powerbi_dataset.model import DATASET
from tests.connectors.conftest import ManualTime, StartEmulator, Waits
from tests.connectors.powerbi_world import open_workspace
from tests.powerbi_dataset.publish_world import Publisher, demo_force, demo_staged


@pytest.fixture
def publisher(start_emulator: StartEmulator, clock: ManualTime, waits: Waits, tmp_path: Path) -> Publisher:
    return Publisher(open_workspace(start_emulator, clock, waits), tmp_path / "state", clock, waits)


def replaced(data: pa.Table, column: str, row: int, value: object) -> pa.Table:
    values = data.column(column).to_pylist()
    values[row] = value
    index = data.schema.get_field_index(column)
    return data.set_column(index, data.schema.field(index), pa.array(values, data.schema.field(index).type))


def powerbi_requests(publisher: Publisher) -> list[str]:
    return [
        f"{r.method} {r.path}" for r in publisher.workspace.emu.emulator.request_log if r.service == "powerbi"
    ]


@pytest.mark.parametrize(
    ("table", "column", "planted"),
    [
        ("officers", "officer_key", "staff_number"),  # a raw staff number where the pseudonym belongs
        ("ccr", "officer_key", "email"),
        ("events", "created_by_officer_key", "display_name"),
    ],
)
def test_an_identifier_that_is_not_a_pseudonym_is_refused_before_any_request(
    publisher: Publisher, table: str, column: str, planted: str
) -> None:
    staged = demo_staged()
    raw = str(demo_force().identities[planted].iloc[3])
    staged[table] = replaced(staged[table], column, 7, raw)
    sink, store = publisher.sink()

    with pytest.raises(DataRefusedError) as refused:
        sink.plan(staged)

    store.close()
    message = str(refused.value)
    assert f"{table}.{column}" in message and "not a pseudonym" in message and "key fingerprint" in message
    assert raw not in message and raw not in refused.value.hint
    assert powerbi_requests(publisher) == []  # refused before anything was asked of Power BI


def test_a_column_the_staged_file_marks_special_category_is_refused_at_row_level() -> None:
    staged = demo_staged()
    ccr = staged["ccr"]
    index = ccr.schema.get_field_index("contact_setting")
    field = ccr.schema.field(index).with_metadata({b"personal": b"special-category"})
    staged["ccr"] = ccr.set_column(index, field, ccr.column(index))

    with pytest.raises(DataRefusedError, match="ccr.contact_setting is special-category data"):
        check_boundary(DATASET, staged)


def test_text_over_4000_characters_is_refused_never_truncated() -> None:
    staged = demo_staged()
    staged["events"] = replaced(staged["events"], "event_name", 2, "x" * 4_001)

    with pytest.raises(DataRefusedError, match=r"events.event_name holds text over 4,000 characters: 1 row"):
        check_boundary(DATASET, staged)
    staged["events"] = replaced(staged["events"], "event_name", 2, "x" * 4_000)
    check_boundary(DATASET, staged)  # exactly 4,000 is allowed


def test_no_personal_detail_of_the_demo_force_reaches_power_bi(publisher: Publisher) -> None:
    force = demo_force()
    publisher.publish(demo_staged())

    received = json.dumps([body for _method, _path, body in publisher.workspace.bodies.sent])
    received += json.dumps(publisher.stored())
    identities = force.identities
    planted = set(force.planted_pii)
    for column in ("staff_number", "display_name", "email"):
        planted |= {str(value) for value in identities[column].dropna()}
    assert len(publisher.workspace.bodies.sent) > 10  # every definition and row body was recorded
    # a detail counts where it stands alone: a staff number such as 8700 may be a run inside a load number
    found = sorted(
        detail
        for detail in planted
        if detail in received and re.search(rf"(?<![0-9A-Za-z]){re.escape(detail)}(?![0-9A-Za-z])", received)
    )
    assert found == []
