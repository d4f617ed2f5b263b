"""The pure parts of the list connectors: annotations, repeats, the selection from a mapping, the column plan
for the lookup threshold, and Graph's columnDefinitions as LiveColumns."""

from __future__ import annotations

import pytest

from connectors.graph_columns import live_column
from connectors.graph_split import plan_columns
from connectors.list_items import collapse_repeats, is_annotation, selection, without_annotations
from emulator.demo.list_mapping import DEMO_SITE_MAPPING


def test_annotations_are_never_columns() -> None:
    item = {
        "@odata.etag": '"{A},2"', "id": "7", "fields@odata.context": "https://.../$entity",
        "fields": {"@odata.etag": '"{A},2"', "Tags@odata.type": "Collection(Edm.String)", "Tags": ["x"], "Title": "t"},
    }  # fmt: skip
    cleaned = without_annotations(item)
    assert cleaned == {"@odata.etag": '"{A},2"', "id": "7", "fields": {"Tags": ["x"], "Title": "t"}}
    assert is_annotation("Col@odata.type") and not is_annotation("Event_x0020_Start")
    assert without_annotations({"id": "3", "deleted": {"state": "deleted"}}) == {
        "id": "3",
        "deleted": {"state": "deleted"},
    }


def test_repeats_collapse_to_the_last_occurrence_in_its_order() -> None:
    feed = [{"id": "1", "v": 1}, {"id": "2", "v": 1}, {"id": "1", "v": 2}, {"id": "3", "v": 1}]
    assert collapse_repeats(feed) == [{"id": "2", "v": 1}, {"id": "1", "v": 2}, {"id": "3", "v": 1}]


def test_the_selection_of_a_mapped_list_is_its_used_columns_and_built_ins() -> None:
    events = selection(DEMO_SITE_MAPPING.list_mapping("Engagement Events"))
    assert "Issues_x0020_raised" not in events.select and "EventPoster" not in events.select  # ignored
    assert events.select[-3:] == ("Author", "Created", "Modified")
    assert events.lookup_columns == {"LPT", "Ward", "Officers", "Author"}
    officers = selection(DEMO_SITE_MAPPING.list_mapping("Officers"))
    assert officers.select == ("StaffNumber", "Role", "HomeLPT", "Active")  # the name never leaves


def test_the_plan_keeps_each_request_within_the_threshold_and_others_ride_once() -> None:
    lookups = [f"L{n}" for n in range(1, 14)]
    twelve = plan_columns(["Title", *lookups[:10], "Author", "Editor"], set(lookups), 12)
    assert twelve.requests == (("Title", *lookups[:10], "Author", "Editor"),)  # exactly 12: one request
    thirteen = plan_columns(["Title", "Title", *lookups, "Count"], set(lookups), 12)
    assert thirteen.requests == (("Title", "Count", *lookups[:12]), ("L13",))
    assert thirteen.columns.count("Title") == 1
    with_built_ins = plan_columns(["Author", "Editor", *lookups[:11]], set(lookups[:11]), 12)
    assert len(with_built_ins.requests) == 2  # Author and Editor count though the caller did not name them
    with pytest.raises(ValueError):
        plan_columns(["Title"], set(), 0)


@pytest.mark.parametrize(
    ("facets", "kind", "multi"),
    [
        ({"term": {"allowMultipleValues": True}}, "multiterm", True),
        ({"term": {}}, "term", False),
        ({"hyperlinkOrPicture": {"isPicture": False}}, "hyperlink", False),
        ({"geolocation": {}}, None, None),
        ({"calculated": {"formula": "=1"}}, None, None),
        ({}, None, None),
        ({"text": {"allowMultipleLines": True}}, "note", False),
        ({"choice": {"choices": ["A"], "displayAs": "checkBoxes"}}, "choice", None),
    ],
)
def test_column_facets_become_types_and_missing_ones_none(
    facets: dict[str, object], kind: object, multi: object
) -> None:
    column = live_column({"name": "X", "displayName": "X", "readOnly": True, **facets})
    assert (column.type, column.multi, column.read_only) == (kind, multi, True)


def test_annotations_go_from_fields_of_any_mapping_type_and_columns_keep_their_order() -> None:
    from types import MappingProxyType

    fields = {"A": 1, "B@odata.type": "x", "B": [2], "@odata.etag": "e", "C": None}
    expected = {"A": 1, "B": [2], "C": None}
    for given in (fields, MappingProxyType(fields)):
        cleaned = without_annotations({"id": "1", "fields": given})["fields"]
        assert cleaned == expected and list(cleaned) == ["A", "B", "C"]
    assert fields == {"A": 1, "B@odata.type": "x", "B": [2], "@odata.etag": "e", "C": None}  # untouched
    assert without_annotations({"id": "1", "fields": None}) == {"id": "1", "fields": None}


def test_a_page_without_repeats_keeps_its_items_in_order_as_a_new_list() -> None:
    page = [{"id": "2"}, {"id": "1"}, {"id": 3}, {"id": "3"}]  # 3 and "3" are one id (ids are text)
    collapsed = collapse_repeats(page)
    assert collapsed == [{"id": "2"}, {"id": "1"}, {"id": "3"}]
    unrepeated = page[:3]
    assert collapse_repeats(unrepeated) == unrepeated and collapse_repeats(unrepeated) is not unrepeated
    assert collapse_repeats(iter(unrepeated)) == unrepeated
