"""connectors/powerbi.py against the HTTPS emulator: workspaces, datasets, tables, rows and refreshes as the
swagger defines them, both error shapes, local refusals, and every body checked against the swagger."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import responses

from connectors.http import build_session
from connectors.powerbi import MAX_ROWS_PER_POST, PowerBIClient, wire_row
from errors import AuthError, ConnectorError, NotFoundError, RequestRefusedError
from powerbi_dataset.derive import powerbi_definition
from powerbi_dataset.model import DATASET
from powerbi_dataset.workspace import DatasetInfo, Group, RefreshRecord, TableInfo
from tests.connectors.conftest import USER_AGENT, ManualTime, StartEmulator, Waits
from tests.connectors.powerbi_world import body_definition, open_workspace, swagger_validator

EVENTS = {
    "name": "Events",
    "columns": [
        {"name": "n", "dataType": "Int64"},
        {"name": "title", "dataType": "String"},
        {"name": "at", "dataType": "DateTime"},
        {"name": "score", "dataType": "Double"},
        {"name": "held", "dataType": "Boolean"},
    ],
}
ROW = {"n": 1, "title": "Street surgery", "at": None, "score": 2.5, "held": True}
LONDON_SUMMER = dt.timezone(dt.timedelta(hours=1))


def test_a_full_run_sends_only_bodies_the_swagger_accepts(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits, powerbi_swagger: dict[str, Any]
) -> None:
    space = open_workspace(start_emulator, clock, waits)
    client = space.client
    definition = powerbi_definition(DATASET)  # the product's real model
    import_id = space.emu.powerbi.add_import_dataset(space.group, "Survey model")

    client.get_group()
    created = client.create_dataset(definition, retention="basicFIFO")
    small = client.create_dataset({"name": "Small", "defaultMode": "Push", "tables": [EVENTS]})
    client.tables(created.id)
    client.put_table(
        small.id, {**EVENTS, "columns": [*EVENTS["columns"], {"name": "x", "dataType": "String"}]}
    )
    client.post_rows(
        small.id, "Events", [ROW, {**ROW, "n": 2, "at": dt.datetime(2026, 7, 1, 19, tzinfo=LONDON_SUMMER)}]
    )
    client.delete_rows(small.id, "Events")
    client.refresh(import_id)
    client.refresh_history(import_id, top=5)
    client.delete_dataset(small.id)

    validate = swagger_validator(powerbi_swagger)
    checked = []
    for method, path, body in space.bodies.sent:
        definition_name = body_definition(method, path)
        validate(definition_name, body)
        checked.append(definition_name)
    assert checked == [
        "CreateDatasetRequest",
        "CreateDatasetRequest",
        "Table",
        "PostRowsRequest",
        "DatasetRefreshRequest",
    ]


def test_workspace_datasets_and_tables_read_back(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    space = open_workspace(start_emulator, clock, waits, capacity="premium")
    client = space.client

    created = client.create_dataset({"name": "CE", "tables": [EVENTS]}, retention="basicFIFO")
    import_id = space.emu.powerbi.add_import_dataset(space.group, "Survey model")

    group = client.get_group()
    assert group == Group(space.group, "Community Engagement", False, True, group.capacity_id)
    assert group.capacity_id
    assert created.add_rows_api_enabled and not created.is_refreshable
    assert created.default_retention_policy == "basicFIFO" and created.configured_by == "cetk-app"
    assert created.created_date == clock.now()
    assert [d.id for d in client.datasets()] == [created.id, import_id]
    assert client.dataset_by_name("Survey model") == next(d for d in client.datasets() if d.id == import_id)
    assert client.dataset_by_name("survey model") is None  # names match exactly
    assert client.tables(created.id) == [TableInfo("Events", (), ())]


def test_rows_go_as_json_with_datetimes_as_iso_utc_strings(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    space = open_workspace(start_emulator, clock, waits)
    dataset = space.client.create_dataset({"name": "CE", "tables": [EVENTS]})
    at = dt.datetime(2026, 7, 1, 19, 30, 15, 250000, tzinfo=LONDON_SUMMER)

    space.client.post_rows(dataset.id, "Events", [{**ROW, "at": at}, {"n": 2, "at": dt.date(2026, 7, 1)}])

    stored = space.emu.powerbi.rows(space.group, dataset.id, "Events")
    assert [row["at"] for row in stored] == ["2026-07-01T18:30:15.250000Z", "2026-07-01"]
    assert stored[0] == {**ROW, "at": "2026-07-01T18:30:15.250000Z"}


def test_a_table_with_spaces_and_hashes_in_its_name_is_addressed_exactly(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    space = open_workspace(start_emulator, clock, waits)
    table = {**EVENTS, "name": "Events #2 ~ 2026"}
    dataset = space.client.create_dataset({"name": "CE", "tables": [table]})

    space.client.post_rows(dataset.id, "Events #2 ~ 2026", [ROW])

    assert len(space.emu.powerbi.rows(space.group, dataset.id, "Events #2 ~ 2026")) == 1


def test_more_than_10000_rows_are_refused_locally_and_nothing_is_sent(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    space = open_workspace(start_emulator, clock, waits)
    dataset = space.client.create_dataset({"name": "CE", "tables": [EVENTS]})

    with pytest.raises(ValueError, match="10001 rows.*at most 10000"):
        space.client.post_rows(dataset.id, "Events", [ROW] * (MAX_ROWS_PER_POST + 1))
    space.client.post_rows(dataset.id, "Events", [ROW] * MAX_ROWS_PER_POST)

    assert len(space.posts("/rows")) == 1
    assert len(space.emu.powerbi.rows(space.group, dataset.id, "Events")) == MAX_ROWS_PER_POST


def test_a_string_over_4000_characters_is_refused_locally_never_truncated(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    space = open_workspace(start_emulator, clock, waits)
    dataset = space.client.create_dataset({"name": "CE", "tables": [EVENTS]})
    secret = "Jane Example 07700 900123 " * 200  # 5,200 characters of personal text

    with pytest.raises(ValueError) as caught:
        space.client.post_rows(dataset.id, "Events", [ROW, {**ROW, "title": secret[:4001]}])
    space.client.post_rows(dataset.id, "Events", [{**ROW, "title": secret[:4000]}])

    message = str(caught.value)
    assert "row 1" in message and "'title'" in message and "4001 characters" in message
    assert "Jane" not in message
    assert len(space.posts("/rows")) == 1
    assert [len(r["title"]) for r in space.emu.powerbi.rows(space.group, dataset.id, "Events")] == [4000]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (dt.datetime(2026, 7, 1, 12), "time zone"),
        (float("nan"), "NaN"),
        (float("inf"), "NaN or infinity"),
        (b"bytes", "bytes cannot be sent"),
        ({"nested": 1}, "dict cannot be sent"),
    ],
)
def test_values_json_or_power_bi_cannot_carry_are_refused_locally(value: Any, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        wire_row({"n": 1, "x": value}, 3, "Events")


def test_404_in_the_pbi_error_shape_is_not_found(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    space = open_workspace(start_emulator, clock, waits)

    with pytest.raises(NotFoundError) as caught:
        space.client.delete_dataset("00000000-0000-0000-0000-000000000000")

    assert caught.value.status == 404 and caught.value.service_code == "PowerBIEntityNotFound"
    assert caught.value.request_id


def test_a_refusal_carries_the_service_message_and_details(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    space = open_workspace(start_emulator, clock, waits)
    dataset = space.client.create_dataset({"name": "CE", "tables": [EVENTS]})

    with pytest.raises(RequestRefusedError) as bad_definition:
        space.client.create_dataset({"name": "CE", "tables": [EVENTS], "compatibilityLevel": 1550})
    with pytest.raises(RequestRefusedError) as bad_row:
        space.client.post_rows(dataset.id, "Events", [{**ROW, "colour": "red"}])

    assert bad_definition.value.status == 400 and bad_definition.value.service_code == "BadRequest"
    # a refusal is final: retry paths that catch ConnectorError must not take it for a transient failure
    assert not isinstance(bad_definition.value, ConnectorError)
    assert "The property 'compatibilityLevel' does not exist" in str(bad_definition.value)
    assert "The property 'colour' does not exist on type 'Events'" in str(bad_row.value)
    assert space.emu.powerbi.rows(space.group, dataset.id, "Events") == []


def test_a_viewer_or_a_stranger_gets_auth_errors_that_name_the_workspace_role(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    space = open_workspace(start_emulator, clock, waits, role="Viewer")
    import_id = space.emu.powerbi.add_import_dataset(space.group, "Survey model")

    assert [d.id for d in space.client.datasets()] == [import_id]
    with pytest.raises(AuthError) as caught:
        space.client.refresh(import_id)

    assert caught.value.status == 403 and caught.value.service_code == "PowerBINotAuthorizedException"
    assert "Contributor" in caught.value.hint
    assert space.emu.powerbi.refresh_history(space.group, import_id) == []


def test_refresh_standard_and_enhanced_and_history(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    space = open_workspace(start_emulator, clock, waits, capacity="premium")
    dataset = space.emu.powerbi.add_import_dataset(space.group, "Survey model")
    space.emu.powerbi.fail_next_refresh(space.group, dataset, "ModelRefreshFailed_CredentialsNotSpecified")

    standard = space.client.refresh(dataset)
    clock.advance(60)
    enhanced = space.client.refresh(dataset, enhanced={"type": "Full", "commitMode": "Transactional"})
    history = space.client.refresh_history(dataset)

    assert standard is None and enhanced
    assert [b for _, _, b in space.bodies.sent] == [
        {"notifyOption": "NoNotification"},
        {"type": "Full", "commitMode": "Transactional"},
    ]
    running, failed = history
    assert running.request_id == enhanced and running.is_running and running.refresh_type == "ViaEnhancedApi"
    assert failed.status == "Failed" and failed.end_time == clock.now()
    assert json.loads(failed.service_exception_json or "") == {
        "errorCode": "ModelRefreshFailed_CredentialsNotSpecified"
    }
    assert failed.attempts[0].type == "Data" and failed.attempts[0].service_exception_json
    assert len(space.client.refresh_history(dataset, top=1)) == 1


def test_refresh_arguments_that_power_bi_would_refuse_are_refused_locally() -> None:
    client = PowerBIClient(build_session(None, user_agent=USER_AGENT), "https://api.powerbi.com", "g")
    with pytest.raises(ValueError, match="takes no notifyOption"):
        client.refresh("d", notify="NoNotification", enhanced={"type": "Full"})
    with pytest.raises(ValueError, match="unknown enhanced refresh fields: bogus"):
        client.refresh("d", enhanced={"bogus": 1})
    with pytest.raises(ValueError, match="not one of"):
        client.refresh("d", notify="Sometimes")
    with pytest.raises(ValueError, match="at least 1"):
        client.refresh_history("d", top=0)


def test_a_refused_refresh_carries_the_service_code(
    start_emulator: StartEmulator, clock: ManualTime, waits: Waits
) -> None:
    space = open_workspace(start_emulator, clock, waits)
    dataset = space.emu.powerbi.add_import_dataset(space.group, "Survey model")
    space.client.refresh(dataset)

    with pytest.raises(RequestRefusedError) as busy:
        space.client.refresh(dataset)
    with pytest.raises(RequestRefusedError) as enhanced:
        space.client.refresh(dataset, enhanced={"type": "Full"})

    assert busy.value.status == 400 and "already executing" in str(busy.value)
    assert "shared capacity" in str(enhanced.value)


# Keys, annotations and error shapes as the real service spells them (responses mocks) ---------------

GROUP_URL = "https://api.powerbi.com/v1.0/myorg/groups/g1"


@pytest.fixture
def http() -> Any:
    with responses.RequestsMock() as mock:
        yield mock


def offline_client() -> PowerBIClient:
    return PowerBIClient(
        build_session(lambda: "token", user_agent=USER_AGENT, sleep=lambda s: None),
        "https://api.powerbi.com/",
        "g1",
    )


def test_keys_are_read_case_insensitively_and_odata_annotations_ignored(http: Any) -> None:
    http.get(
        f"{GROUP_URL}/datasets",
        json={
            "odata.context": "x",
            "value": [
                {
                    "Id": "d1",
                    "Name": "CE",
                    "AddRowsAPIEnabled": True,
                    "IsRefreshable": False,
                    "ConfiguredBy": "app",
                    "CreatedDate": "2026-11-02T09:00:00.000Z",
                    "@odata.etag": "W/1",
                }
            ],
        },
    )
    http.get(
        f"{GROUP_URL}/datasets/d1/refreshes",
        json={
            "value": [
                {
                    "RequestId": "r1",
                    "RefreshType": "Scheduled",
                    "StartTime": "2026-11-02T09:00:00Z",
                    "Status": "Unknown",
                    "RefreshAttempts": [{"AttemptId": 1, "Type": "Data"}],
                }
            ]
        },
    )
    client = offline_client()

    (dataset,) = client.datasets()
    (record,) = client.refresh_history("d1")

    assert dataset == DatasetInfo(
        "d1", "CE", True, "app", False, None, dt.datetime(2026, 11, 2, 9, tzinfo=dt.UTC), None
    )
    assert isinstance(record, RefreshRecord) and record.is_running and record.refresh_type == "Scheduled"
    assert record.attempts[0].attempt_id == 1


def test_a_refusal_message_never_quotes_a_value_the_rows_carried(http: Any) -> None:
    message = "Error parsing row: value 'Jane Example, 07700 900123' is not valid for column 'title'"
    http.post(
        f"{GROUP_URL}/datasets/d1/tables/Events/rows",
        status=400,
        json={"error": {"code": "InvalidRequest", "message": message}},
        headers={"RequestId": "req-1"},
    )

    with pytest.raises(RequestRefusedError) as caught:
        offline_client().post_rows("d1", "Events", [{"title": "Jane Example, 07700 900123"}])

    text = str(caught.value)
    assert "Jane" not in text and "07700" not in text
    assert "value '***' is not valid for column 'title'" in text and "req-1" in text


def test_a_413_for_an_oversized_post_is_a_refusal_not_an_ambiguous_write(http: Any) -> None:
    http.post(f"{GROUP_URL}/datasets/d1/tables/Events/rows", status=413, body="")
    with pytest.raises(RequestRefusedError) as caught:
        offline_client().post_rows("d1", "Events", [{"n": 1}])
    assert caught.value.status == 413 and len(http.calls) == 1
