"""Push datasets in the emulated Power BI: what it accepts (checked against the swagger) and what it refuses."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from emulator.build import EmulatorOptions, build_emulator
from tests.emulator.conftest import ORIGIN, PowerBICaller, body

PRODUCT = {
    "name": "Product",
    "columns": [
        {"name": "ProductID", "dataType": "Int64"},
        {"name": "Name", "dataType": "string"},
        {"name": "IsCompete", "dataType": "bool"},
        {"name": "ManufacturedOn", "dataType": "DateTime"},
        {"name": "Price", "dataType": "Double"},
    ],
}
ROW = {
    "ProductID": 1,
    "Name": "Adjustable Race",
    "IsCompete": True,
    "ManufacturedOn": "2026-07-30T00:00:00Z",
    "Price": 9.5,
}
INVALID_REQUEST = {"code": "InvalidRequest"}


def test_swagger_example_dataset_is_created_listed_and_read(
    pbi: PowerBICaller, swagger_validate: Any
) -> None:
    dataset_id = pbi.create_dataset([PRODUCT], retention="basicFIFO", name="SalesMarketing")

    listed = pbi.call("GET", "/datasets")
    one = pbi.call("GET", f"/datasets/{dataset_id}")

    assert listed.status == 200 and "RequestId" in listed.headers
    swagger_validate("Datasets", body(listed))
    swagger_validate("Dataset", body(one))
    dataset = body(one)
    assert dataset["id"] == dataset_id and dataset["name"] == "SalesMarketing"
    assert dataset["defaultRetentionPolicy"] == "basicFIFO"
    assert dataset["addRowsAPIEnabled"] is True
    assert body(listed)["@odata.context"].endswith("/$metadata#datasets")
    assert [d["id"] for d in body(listed)["value"]] == [dataset_id]


def test_rows_are_stored_listed_and_deleted(pbi: PowerBICaller, swagger_validate: Any) -> None:
    dataset_id = pbi.create_dataset([PRODUCT])

    posted = pbi.post_rows(dataset_id, "Product", [ROW, {**ROW, "ProductID": 2, "Name": None}])
    tables = pbi.call("GET", f"/datasets/{dataset_id}/tables")

    assert posted.status == 200 and posted.body == b""
    # The swagger's Table requires columns, but the service lists names only (microsoft-apis.md §1.1).
    assert body(tables)["value"] == [{"name": "Product"}]
    assert [r["ProductID"] for r in pbi.stack.powerbi.rows(pbi.group, dataset_id, "Product")] == [1, 2]
    assert pbi.call("DELETE", f"/datasets/{dataset_id}/tables/Product/rows").status == 200
    assert pbi.stack.powerbi.rows(pbi.group, dataset_id, "Product") == []


def test_put_table_changes_an_existing_table_only(pbi: PowerBICaller) -> None:
    dataset_id = pbi.create_dataset([PRODUCT])
    wider = {**PRODUCT, "columns": [*PRODUCT["columns"], {"name": "Colour", "dataType": "String"}]}

    changed = pbi.call("PUT", f"/datasets/{dataset_id}/tables/Product", wider)
    missing = pbi.call("PUT", f"/datasets/{dataset_id}/tables/Cr", {**wider, "name": "Cr"})

    assert changed.status == 200 and body(changed) == {"name": "Product"}
    assert pbi.post_rows(dataset_id, "Product", [{"Colour": "red"}]).status == 200
    assert missing.status == 404
    assert body(missing) == {
        "error": {
            "code": "ItemNotFound",
            "message": f"Table '<pi>Cr</pi>' not found in dataset '<pi>{dataset_id}</pi>'",
        }
    }


def test_delete_dataset_then_it_is_not_found(pbi: PowerBICaller) -> None:
    dataset_id = pbi.create_dataset([PRODUCT])
    assert pbi.call("DELETE", f"/datasets/{dataset_id}").status == 200
    gone = pbi.call("GET", f"/datasets/{dataset_id}")
    assert gone.status == 404 and body(gone)["error"]["code"] == "PowerBIEntityNotFound"


def test_unknown_property_gets_the_documented_body(pbi: PowerBICaller) -> None:
    response = pbi.call("POST", "/datasets", {"name": "CCR", "tables": [PRODUCT], "compatibilityLevel": 1550})

    assert response.status == 400
    assert body(response) == {
        "error": {
            "code": "BadRequest",
            "message": "Bad Request",
            "details": [
                {
                    "message": "The property 'compatibilityLevel' does not exist on type "
                    "'Microsoft.PowerBI.ServiceContracts.Api.Dataset'. Make sure to only use property names that "
                    "are defined by the type.",
                    "target": "dataset",
                }
            ],
        }
    }


@pytest.mark.parametrize("name", ["Sales.2026", "a/b", "(x)", "", "x" * 101])
def test_bad_table_names_are_refused_as_the_swagger_pattern_says(
    pbi: PowerBICaller, swagger_validate: Any, name: str
) -> None:
    request = {"name": "CCR", "tables": [{**PRODUCT, "name": name}]}
    with pytest.raises(jsonschema.ValidationError):
        swagger_validate("CreateDatasetRequest", request)

    response = pbi.call("POST", "/datasets", request)

    assert response.status == 400
    assert body(response)["error"]["code"] == "InvalidRequest"


def test_allowed_table_name_characters_are_accepted(pbi: PowerBICaller) -> None:
    pbi.create_dataset([{**PRODUCT, "name": "Community Engagement_2026-#1 ~ Ünïcode 🚓"}])


def test_76th_column_76th_table_and_76th_relationship_are_refused(pbi: PowerBICaller) -> None:
    columns = [{"name": f"c{i}", "dataType": "Int64"} for i in range(75)]
    pbi.create_dataset([{"name": "Wide", "columns": columns}])
    too_wide = pbi.call(
        "POST",
        "/datasets",
        {
            "name": "X",
            "tables": [{"name": "Wide", "columns": [*columns, {"name": "c75", "dataType": "Int64"}]}],
        },
    )
    tables = [{"name": f"t{i}", "columns": [{"name": "id", "dataType": "Int64"}]} for i in range(76)]
    too_many_tables = pbi.call("POST", "/datasets", {"name": "X", "tables": tables})
    relationships = [
        {"name": f"r{i}", "fromTable": "t0", "fromColumn": "id", "toTable": "t1", "toColumn": "id"}
        for i in range(76)
    ]
    too_many_relationships = pbi.call(
        "POST", "/datasets", {"name": "X", "tables": tables[:2], "relationships": relationships}
    )

    for response in (too_wide, too_many_tables, too_many_relationships):
        assert response.status == 400
        assert body(response)["error"]["code"] == "InvalidRequest"
    assert "75" in body(too_wide)["error"]["message"]


def test_10001_rows_in_one_post_are_refused_and_nothing_is_stored(pbi: PowerBICaller) -> None:
    dataset_id = pbi.create_dataset([PRODUCT])
    assert pbi.post_rows(dataset_id, "Product", [ROW] * 10_000).status == 200

    response = pbi.post_rows(dataset_id, "Product", [ROW] * 10_001)

    assert response.status == 400
    assert body(response)["error"] == {**INVALID_REQUEST, "message": body(response)["error"]["message"]}
    assert "10000" in body(response)["error"]["message"]
    assert len(pbi.stack.powerbi.rows(pbi.group, dataset_id, "Product")) == 10_000


def test_4001_character_string_is_refused_4000_accepted(pbi: PowerBICaller) -> None:
    dataset_id = pbi.create_dataset([PRODUCT])
    assert pbi.post_rows(dataset_id, "Product", [{**ROW, "Name": "x" * 4000}]).status == 200

    response = pbi.post_rows(dataset_id, "Product", [{**ROW, "Name": "x" * 4001}])

    assert response.status == 400 and "4000" in body(response)["error"]["message"]


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("ProductID", "1"),
        ("ProductID", 1.5),
        ("ProductID", True),
        ("Price", "9.5"),
        ("IsCompete", "true"),
        ("IsCompete", 1),
        ("ManufacturedOn", "yesterday"),
        ("ManufacturedOn", 20260730),
        ("Name", 12),
    ],
)
def test_values_must_match_the_column_data_type(pbi: PowerBICaller, column: str, value: Any) -> None:
    dataset_id = pbi.create_dataset([PRODUCT])
    response = pbi.post_rows(dataset_id, "Product", [{**ROW, column: value}])
    assert response.status == 400 and body(response)["error"]["code"] == "InvalidRequest"


def test_data_types_match_case_insensitively_and_us_dates_from_the_swagger_example_pass(
    pbi: PowerBICaller,
) -> None:
    columns = [
        {"name": "a", "dataType": "INT64"},
        {"name": "b", "dataType": "boolean"},
        {"name": "c", "dataType": "datetime"},
    ]
    dataset_id = pbi.create_dataset([{"name": "T", "columns": columns}])
    assert pbi.post_rows(dataset_id, "T", [{"a": 1, "b": False, "c": "07/30/2014"}]).status == 200


def test_rows_to_an_unknown_table_or_an_import_dataset_are_not_found(pbi: PowerBICaller) -> None:
    dataset_id = pbi.create_dataset([PRODUCT])
    import_id = pbi.stack.powerbi.add_import_dataset(pbi.group, "Imported")

    no_table = pbi.post_rows(dataset_id, "Nope", [ROW])
    not_push = pbi.post_rows(import_id, "Product", [ROW])

    assert no_table.status == 404 and body(no_table)["error"]["code"] == "ItemNotFound"
    assert body(not_push) == {
        "error": {"code": "ItemNotFound", "message": f"Dataset {import_id} is not Push API dataset."}
    }


def test_basic_fifo_keeps_between_200000_and_210000_rows(pbi: PowerBICaller) -> None:
    dataset_id = pbi.create_dataset([PRODUCT], retention="basicFIFO")
    pbi.stack.powerbi.load_rows(pbi.group, dataset_id, "Product", [{"ProductID": i} for i in range(205_000)])

    pbi.post_rows(dataset_id, "Product", [{**ROW, "ProductID": 205_000 + i} for i in range(5_000)])
    at_limit = pbi.stack.powerbi.rows(pbi.group, dataset_id, "Product")
    pbi.post_rows(dataset_id, "Product", [{**ROW, "ProductID": 210_000}])
    trimmed = pbi.stack.powerbi.rows(pbi.group, dataset_id, "Product")

    assert len(at_limit) == 210_000
    assert len(trimmed) == 200_000
    assert trimmed[0]["ProductID"] == 10_001 and trimmed[-1]["ProductID"] == 210_000  # oldest dropped first


def test_wrong_audience_is_403(pbi: PowerBICaller) -> None:
    graph_token = pbi.issue_token(audience="https://graph.microsoft.com")
    assert pbi.call("GET", "/datasets", token=graph_token).status == 403


def test_groups_are_listed_as_the_swagger_defines_them(pbi: PowerBICaller, powerbi_swagger: Any) -> None:
    other = pbi.stack.powerbi.create_group("Marketing", members={"cetk-app": "Viewer"})
    pbi.stack.powerbi.create_group("Not ours")  # the app has no role there: never listed
    headers = {"Authorization": f"Bearer {pbi.token}"}

    def listed(query: str = "") -> Any:
        response = pbi.stack.emulator.handle(
            "GET", f"/powerbi/v1.0/myorg/groups{query}", headers, b"", ORIGIN
        )
        assert response.status == 200, response.body
        return json.loads(response.body)

    everything = listed()
    definitions = {k: v for k, v in powerbi_swagger["definitions"].items() if k.startswith("Group")}
    for group in everything["value"]:
        jsonschema.Draft4Validator({"$ref": "#/definitions/Group", "definitions": definitions}).validate(
            group
        )
    assert [g["id"] for g in everything["value"]] == [pbi.group, other]
    assert [g["id"] for g in listed("?$filter=name%20eq%20'Marketing'")["value"]] == [other]
    assert [g["id"] for g in listed("?$filter=contains(name,'Engagement')")["value"]] == [pbi.group]
    assert [g["id"] for g in listed("?$top=1&$skip=1")["value"]] == [other]
    refused = pbi.stack.emulator.handle(
        "GET", "/powerbi/v1.0/myorg/groups?$filter=startswith(name,'M')", headers, b"", ORIGIN
    )
    assert refused.status == 400


def test_groups_need_a_token_unless_auth_is_off(pbi: PowerBICaller) -> None:
    assert pbi.stack.emulator.handle("GET", "/powerbi/v1.0/myorg/groups", {}, b"", ORIGIN).status == 403
    open_stack = build_emulator(options=EmulatorOptions(require_auth=False))
    assert open_stack.emulator.handle("GET", "/powerbi/v1.0/myorg/groups", {}, b"", ORIGIN).status == 200


@pytest.mark.parametrize("query", ["?$top=abc", "?$skip=-1", "?$top=%C2%B2"])
def test_groups_paging_options_that_are_not_numbers_are_a_400_not_a_crash(
    pbi: PowerBICaller, query: str
) -> None:
    headers = {"Authorization": f"Bearer {pbi.token}"}
    response = pbi.stack.emulator.handle("GET", f"/powerbi/v1.0/myorg/groups{query}", headers, b"", ORIGIN)
    assert response.status == 400
    assert json.loads(response.body)["error"]["code"] == "InvalidRequest"
