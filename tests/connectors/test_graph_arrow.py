"""Graph pages decoded straight into Arrow (connectors.graph_arrow) and normalised from Arrow
(transforms.page_read) give exactly what the dict path gives: the golden every-type and BST pages, and
every shape the Arrow path must decline (then the dicts are read, problems and errors included)."""

from __future__ import annotations

import copy
import json
from datetime import date
from typing import Any

import pyarrow as pa
import pytest

from connectors.graph_arrow import decode_items
from tests.transforms.every_type import (
    EVERY_TYPE_DATASET,
    EVERY_TYPE_MAPPING,
    SAMPLE,
    context,
    served_items,
)
from transforms.list_mapping import PeopleMapping
from transforms.normalise import NormalisedPage, normalise_page, people_staff_numbers
from transforms.normalise_plan import plan_list
from transforms.page_read import ArrowItems, combine, page_schema, read_arrow, wanted_fields

PROPERTIES = ["createdDateTime", "lastModifiedDateTime", "eTag", "@odata.etag"]


def body(items: list[dict[str, Any]], **extra: Any) -> bytes:
    return json.dumps({"@odata.context": "x", "value": items, **extra}).encode()


def decoded(data: bytes) -> ArrowItems:
    return decode_items(data, page_schema(EVERY_TYPE_MAPPING, EVERY_TYPE_DATASET))


def takes_arrow(items: ArrowItems) -> bool:
    plan = plan_list(EVERY_TYPE_MAPPING, EVERY_TYPE_DATASET)
    wanted = wanted_fields(EVERY_TYPE_MAPPING, (*plan.columns, *plan.bridges))
    return read_arrow(items, wanted, PROPERTIES) is not None


def normalised(items: Any, list_id: str) -> NormalisedPage:
    return normalise_page(items, EVERY_TYPE_MAPPING, context(list_id), dataset=EVERY_TYPE_DATASET)


def assert_same(arrow: NormalisedPage, dicts: NormalisedPage) -> None:
    assert arrow.tables.keys() == dicts.tables.keys()
    for name, table in dicts.tables.items():
        assert arrow.tables[name].schema.equals(table.schema, check_metadata=True), name
        assert arrow.tables[name].to_pydict() == table.to_pydict(), name
    assert arrow.deleted_item_ids == dicts.deleted_item_ids
    assert arrow.problems == dicts.problems
    assert dict(arrow.item_keys) == dict(dicts.item_keys)


def both(items: list[dict[str, Any]], list_id: str, *, arrow: bool) -> NormalisedPage:
    """The page normalised from Arrow and from dicts, asserted equal; `arrow`: whether Arrow read it."""
    pages = decoded(body(items))
    assert takes_arrow(pages) is arrow
    from_arrow = normalised(pages, list_id)
    from_dicts = normalised(json.loads(body(items))["value"], list_id)
    assert_same(from_arrow, from_dicts)
    return from_arrow


def sample_items(count: int = 3) -> tuple[str, list[dict[str, Any]]]:
    rows = [SAMPLE, {**SAMPLE, "Title": "Call 07700 900123 about Jane Smith"}, {"Title": "Nothing else"}]
    return served_items(rows[:count])


def test_every_type_and_the_bst_edges_read_from_arrow_as_from_dicts() -> None:
    list_id, items = sample_items()
    page = both(items, list_id, arrow=True)
    assert page.tables["things"].num_rows == 3
    assert page.tables["thing_officers"].num_rows == 4  # Team of two, on two items
    edges = [date(2025, 3, 29), date(2025, 3, 30), date(2025, 3, 31), date(2025, 10, 25), date(2025, 10, 26)]
    list_id, items = served_items([{"On": day, "At": SAMPLE["At"]} for day in edges])
    dates = both(items, list_id, arrow=True).tables["things"].column("on_date").to_pylist()
    assert [value.date() for value in dates] == edges


def test_several_pages_combine_into_one_call() -> None:
    list_id, items = sample_items()
    pages = combine([decoded(body(items[:1])), decoded(body(items[1:]))])
    assert takes_arrow(pages)
    assert_same(normalised(pages, list_id), normalised(items, list_id))
    refused = combine([decoded(body(items[:1])), decoded(b"{not json")])
    assert refused.pages is None


def test_missing_null_and_empty_values_read_from_arrow_as_from_dicts() -> None:
    list_id, items = sample_items()
    del items[0]["fields"]["Place"]["coordinates"]  # a location without a point
    items[0]["fields"].update({"Tags": [], "Team": [], "Count": None, "Link": None, "Areas": [None]})
    items[1]["fields"]["Tags"] = ["Parking", None]
    del items[2]["fields"]  # an item without `fields`
    page = both(items, list_id, arrow=True)
    assert page.tables["things"].column("lat").to_pylist()[0] is None


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("Count", "42"),  # a number sent as text: a wrong-type row
        ("Count", True),  # a number column holding true (Arrow would make it 1.0)
        ("Title", 7),  # text sent as a number
        ("AreaLookupId", 2),  # a lookup id as a number (the dicts read it as "2")
        ("Areas", [{"LookupId": "x"}]),  # a multi-lookup id that is no id
        ("Place", "Leek"),  # a location that is not an object
        ("Flag", "yes"),
    ],
)
def test_a_value_of_another_json_type_is_read_as_dicts(column: str, value: object) -> None:
    list_id, items = sample_items()
    items[1]["fields"][column] = value
    assert decoded(body(items)).pages is None
    both(items, list_id, arrow=False)


def test_a_deletion_or_a_repeated_item_is_read_as_dicts() -> None:
    list_id, items = sample_items()
    deletion = {"id": items[0]["id"], "deleted": {"state": "deleted"}}
    page = both([*items[1:], deletion], list_id, arrow=False)
    assert page.deleted_item_ids == (items[0]["id"],)
    later = copy.deepcopy(items[0])
    later["fields"]["Title"] = "Changed later"
    page = both([*items, later], list_id, arrow=False)
    assert page.tables["things"].column("title").to_pylist()[-1] == "Changed later"
    missing_id = copy.deepcopy(items)
    del missing_id[2]["id"]
    with pytest.raises(Exception, match="has no id"):
        normalised(decoded(body(missing_id)), list_id)


def test_numbers_the_dicts_hold_apart_are_read_as_dicts() -> None:
    list_id, items = sample_items()
    negative_zero = copy.deepcopy(items)
    negative_zero[0]["fields"]["Cost"] = -0.0
    both(negative_zero, list_id, arrow=False)
    huge = copy.deepcopy(items)
    huge[0]["fields"]["Count"] = 2**60  # the dicts hold an int Arrow cannot convert exactly
    pages = decoded(body(huge))
    assert not takes_arrow(pages)
    with pytest.raises(pa.ArrowInvalid):
        normalised(pages, list_id)
    with pytest.raises(pa.ArrowInvalid):
        normalised(huge, list_id)


def test_an_unmapped_column_and_a_missing_item_property_read_as_from_dicts() -> None:
    list_id, items = sample_items()
    items[2]["fields"]["Extra_x0020_Notes"] = "not mapped"
    del items[1]["eTag"], items[1]["@odata.etag"]
    items[0]["lastModifiedDateTime"] = ""
    page = both(items, list_id, arrow=True)
    assert ("Extra_x0020_Notes", "unmapped-field") in {(p.column, p.code) for p in page.problems.problems}


def test_pages_the_reader_refuses_are_read_as_dicts() -> None:
    list_id, items = sample_items()
    text = json.dumps({"value": items})
    surrogate = text.replace('"Beat surgery"', '"Beat \\ud800 surgery"', 1).encode()
    assert decoded(surrogate).pages is None
    for items_read in (decoded(surrogate), json.loads(surrogate)["value"]):
        with pytest.raises(UnicodeEncodeError):  # the dicts' conversion to Arrow refuses it, as before
            normalised(items_read, list_id)
    duplicate = text.replace('"Title": "Nothing else"', '"Title": "A", "Title": "Nothing else"').encode()
    assert decoded(duplicate).pages is None
    assert_same(normalised(decoded(duplicate), list_id), normalised(json.loads(duplicate)["value"], list_id))
    assert decoded(b'{"value": []}').pages is not None
    assert_same(normalised(decoded(b'{"value": []}'), list_id), normalised([], list_id))


def test_staff_numbers_read_from_arrow_as_from_dicts() -> None:
    people = PeopleMapping("Every type", "Account", "Title")  # an unmapped account column, inferred
    _list_id, items = sample_items()
    for item, account in zip(items, ("7", "8", "9"), strict=True):
        item["fields"]["AccountLookupId"] = account
    items[2]["fields"]["Title"] = "  "  # blank staff numbers are left out
    found = people_staff_numbers(decoded(body(items)), people)
    assert (
        found
        == people_staff_numbers(items, people)
        == {"7": "Beat surgery", "8": items[1]["fields"]["Title"]}
    )
    for item, account in zip(items, (7, 8, 9), strict=True):
        item["fields"]["AccountLookupId"] = account  # numbers: the dicts make them "7", "8"
    pages = decoded(body(items))
    assert pages.pages is not None
    assert people_staff_numbers(pages, people) == people_staff_numbers(items, people) == found
