"""normalise_page: each SharePoint type to its canonical value, problems instead of guesses, lineage, keys,
deleted and repeated items, annotation keys, and the model's shapes (every column, storage types)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pytest

from errors import ConfigError, SourceFormatError
from powerbi_dataset.derive import arrow_schema
from tests.transforms.every_type import (
    EVERY_TYPE_DATASET,
    EVERY_TYPE_MAPPING,
    KEY,
    THINGS,
    context,
)
from transforms.list_mapping import ColumnMapping, ListMapping, item_key
from transforms.normalise import NormaliseContext, NormalisedPage, normalise_page, people_staff_numbers
from transforms.privacy import officer_key
from transforms.problems import PROBLEM_TYPES

LIST_ID = "0f6e1bd8-3b56-4ec4-9a0a-7d8c1c2b3a4d"


def item(item_id: int | str, **fields: Any) -> dict[str, Any]:
    etag = f'"6f1c6c0e-0000-4000-8000-00000000000{item_id},1"'
    return {
        "@odata.etag": etag,
        "eTag": etag,
        "id": str(item_id),
        "createdDateTime": "2025-06-01T08:00:00Z",
        "lastModifiedDateTime": "2025-06-02T08:00:00Z",
        "fields": {"@odata.etag": etag, "id": str(item_id), **fields},
    }


def run(*items: dict[str, Any], timezone: str = "Europe/London") -> NormalisedPage:
    return normalise_page(
        list(items), EVERY_TYPE_MAPPING, context(LIST_ID, timezone=timezone), dataset=EVERY_TYPE_DATASET
    )


def column(page: NormalisedPage, name: str, table: str = "things") -> list[Any]:
    return page.tables[table].column(name).to_pylist()


def codes(page: NormalisedPage) -> list[tuple[int, str, str]]:
    return [(p.row, p.column, p.code) for p in page.problems.problems]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def test_the_table_has_every_model_column_in_order_with_storage_types() -> None:
    page = run(item(1, Title="Beat surgery"))
    expected = arrow_schema(THINGS)
    table = page.tables["things"]
    assert table.schema.names == expected.names
    assert [f.type for f in table.schema] == [f.type for f in expected]
    assert all(f.nullable for f in table.schema)  # candidates: validation reports what is missing
    assert column(page, "count") == [None] and column(page, "load_id") == [None]


def test_lineage_and_the_item_key() -> None:
    page = run(item(12, Title="x"))
    assert column(page, "thing_id") == [item_key(LIST_ID, "12")] == [f"sp:{LIST_ID}:12"]
    assert column(page, "source_system") == ["sp_list"]
    assert column(page, "source_item_id") == ["12"]
    assert column(page, "source_version") == ['"6f1c6c0e-0000-4000-8000-0000000000012,1"']
    assert page.item_keys == {"12": f"sp:{LIST_ID}:12"}


def test_text_note_number_currency_boolean_hyperlink_term() -> None:
    page = run(
        item(1, Title="Beat surgery", Notes="a\nb", Count=42, Cost=12.34567, Flag=False,
             Link={"Description": "Poster", "Url": "https://example.com/p.pdf"},
             Ward={"Label": "E05008001", "TermGuid": "g", "WssId": 3}),
    )  # fmt: skip
    assert column(page, "title") == ["Beat surgery"] and column(page, "notes") == ["a\nb"]
    assert column(page, "count") == [42] and column(page, "cost") == [Decimal("12.3457")]
    assert column(page, "flag") == [False]
    assert column(page, "link") == ["https://example.com/p.pdf"]
    assert column(page, "ward_code") == ["E05008001"]
    assert page.problems.problems == ()


def test_values_of_the_wrong_json_shape_are_wrong_type_and_left_empty() -> None:
    page = run(item(1, Count="42", Flag=1, Title=7), item(2, Count=2.5, Flag=True), item(3, Count=True))
    assert column(page, "count") == [None, None, None]
    assert column(page, "flag") == [None, True, None]
    assert column(page, "title") == [None, None, None]
    assert sorted(codes(page)) == [
        (0, "count", "wrong-type"), (0, "flag", "wrong-type"), (0, "title", "wrong-type"),
        (1, "count", "wrong-type"), (2, "count", "wrong-type"),
    ]  # fmt: skip


def test_choice_labels_become_codes_and_an_unknown_label_is_a_problem_never_passed_raw() -> None:
    page = run(item(1, Status="Open"), item(2, Status="Closed"), item(3, Status="Shut"))
    assert column(page, "status") == ["OPEN", "CLOSED", None]
    [problem] = page.problems.problems
    assert (problem.row, problem.column, problem.code, problem.value) == (
        2,
        "status",
        "unknown-label",
        "***",
    )  # a label the mapping does not know is source text: masked by the one rule (transforms/masking.py)
    assert problem.key == f"sp:{LIST_ID}:3" and problem.message.startswith("item 3: ")
    assert PROBLEM_TYPES[problem.code].severity == "error"


def test_multichoice_feeds_the_bridge_with_rank_from_position() -> None:
    page = run(
        item(1, Tags=["Parking", "Anti-social behaviour"]),
        item(2, Tags=[]),
        item(3, Tags=["Drugs", "Litter"]),
    )
    bridge = page.tables["thing_tags"].to_pylist()
    key = f"sp:{LIST_ID}:"
    assert [(r["thing_id"], r["tag_code"], r["rank"]) for r in bridge] == [
        (key + "1", "PARKING", 1), (key + "1", "ASB", 2), (key + "3", "DRUGS", 1),
    ]  # fmt: skip
    assert codes(page) == [(2, "thing_tags.tag_code", "unknown-label")]  # reported on the item
    assert page.problems.problems[0].value == "***"  # not a code of the column: masked
    assert page.tables["thing_tags"].schema.names == ["thing_id", "tag_code", "rank", "load_id"]


def test_lookups_resolve_to_the_lookup_lists_key_or_are_reported() -> None:
    page = run(
        item(1, AreaLookupId="2", Areas=[{"LookupId": 1, "LookupValue": "Stoke North"}]),
        item(
            2,
            AreaLookupId="99",
            Areas=[{"LookupId": 2, "LookupValue": "Leek"}, {"LookupId": 5, "LookupValue": "?"}],
        ),
    )
    assert column(page, "area_code") == ["LEEK", None]
    assert [(r["thing_id"][-1], r["area_code"]) for r in page.tables["thing_areas"].to_pylist()] == [
        ("1", "STOKE_N"), ("2", "LEEK"),
    ]  # fmt: skip
    assert codes(page) == [
        (1, "area_code", "unresolved-lookup"),
        (1, "thing_areas.area_code", "unresolved-lookup"),
    ]
    assert [p.value for p in page.problems.problems] == ["***", "***"]  # lookup ids are not area codes


def test_people_become_keyed_officer_pseudonyms_and_unknown_people_are_masked_problems() -> None:
    page = run(
        item(1, OwnerLookupId="7", Team=[{"LookupId": 7, "LookupValue": "Sam Poole", "Email": "sam@x.org"},
                                         {"LookupId": 8, "LookupValue": "Alex Reed", "Email": "alex@x.org"}]),
        item(2, OwnerLookupId="40", Team=[{"LookupId": 41, "LookupValue": "Jo Bloggs", "Email": "jo@x.org"}]),
    )  # fmt: skip
    assert column(page, "owner_key") == [officer_key("4711", KEY), None]
    officers = page.tables["thing_officers"].column("officer_key").to_pylist()
    assert officers == [officer_key("4711", KEY), officer_key("PC 0815", KEY)]
    assert codes(page) == [
        (1, "owner_key", "unknown-person"),
        (1, "thing_officers.officer_key", "unknown-person"),
    ]
    assert {p.value for p in page.problems.problems} == {"***"}
    text = repr(page.tables) + repr(page.problems)
    for detail in ("Sam Poole", "sam@x.org", "Alex Reed", "Jo Bloggs", "4711", "0815"):
        assert detail not in text


def test_a_location_gives_latitude_and_longitude_rounded_as_the_model_says() -> None:
    venue = {"displayName": "12 Acacia Avenue", "address": {"street": "12 Acacia Avenue", "postalCode": "ST13 5AB"},
             "coordinates": {"latitude": 53.104_87, "longitude": -2.023_64}, "locationUri": "u", "uniqueId": "u"}  # fmt: skip
    page = run(
        item(1, Place=venue, Street="12 Acacia Avenue", PostalCode="ST13 5AB"),
        item(2, Place={"displayName": "x"}),
    )
    assert column(page, "lat") == [53.105, None] and column(page, "lon") == [-2.024, None]
    assert "Acacia" not in repr(page.tables) and "ST13" not in repr(page.tables)
    assert page.problems.problems == ()  # location siblings are not unmapped columns


def test_date_times_are_utc_with_their_london_date() -> None:
    page = run(
        item(1, At="2025-03-30T00:30:00Z"),  # 00:30 GMT, before the spring change
        item(2, At="2025-03-30T01:30:00Z"),  # 02:30 BST
        item(3, At="2025-10-26T00:30:00Z"),  # the first 01:30 (BST)
        item(4, At="2025-10-26T01:30:00Z"),  # the second 01:30 (GMT)
        item(5, At="2025-06-30T23:30:00Z"),  # 00:30 BST on 1 July
    )
    assert column(page, "at_utc") == [utc(2025, 3, 30, 0, 30), utc(2025, 3, 30, 1, 30), utc(2025, 10, 26, 0, 30),
                                      utc(2025, 10, 26, 1, 30), utc(2025, 6, 30, 23, 30)]  # fmt: skip
    assert column(page, "at_local_date") == [utc(2025, 3, 30), utc(2025, 3, 30), utc(2025, 10, 26),
                                             utc(2025, 10, 26), utc(2025, 7, 1)]  # fmt: skip
    assert page.problems.problems == ()


def test_local_times_that_do_not_exist_or_occur_twice_are_flagged_not_shifted() -> None:
    page = run(
        item(1, At="2025-03-30T01:30:00"),  # skipped by the spring change
        item(2, At="2025-10-26T01:30:00"),  # shown twice in the autumn
        item(3, At="2025-10-26T03:30:00"),  # unambiguous wall-clock time: 03:30 GMT
        item(4, At="30/03/2025 01:30"),
    )
    assert column(page, "at_utc") == [None, None, utc(2025, 10, 26, 3, 30), None]
    assert column(page, "at_local_date") == [None, None, utc(2025, 10, 26), None]
    assert codes(page) == [
        (0, "at_utc", "nonexistent-local-time"), (1, "at_utc", "ambiguous-local-time"), (3, "at_utc", "wrong-type"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("sent", "day"),
    [
        ("2025-03-29T00:00:00Z", (2025, 3, 29)),  # GMT: local midnight is 00:00Z
        ("2025-03-30T00:00:00Z", (2025, 3, 30)),  # the spring change is at 01:00Z, after midnight
        ("2025-03-30T23:00:00Z", (2025, 3, 31)),  # BST: local midnight is 23:00Z the day before
        ("2025-10-25T23:00:00Z", (2025, 10, 26)),  # the autumn change day still starts in BST
        ("2025-10-27T00:00:00Z", (2025, 10, 27)),  # GMT again
    ],
)
def test_date_only_values_across_both_bst_edges(sent: str, day: tuple[int, int, int]) -> None:
    page = run(item(1, On=sent))
    assert column(page, "on_date") == [utc(*day)]
    assert page.problems.problems == ()


def test_a_date_only_value_that_is_not_local_midnight_is_not_a_date() -> None:
    page = run(item(1, On="2025-10-26T00:00:00Z"), item(2, On="2025-07-01T12:00:00Z"))  # 01:00 BST; noon
    assert column(page, "on_date") == [None, None]
    assert codes(page) == [(0, "on_date", "not-a-date"), (1, "on_date", "not-a-date")]


def test_a_site_in_another_time_zone_reads_its_own_midnights() -> None:
    page = run(item(1, On="2025-07-01T04:00:00Z", At="2025-07-01T03:00:00Z"), timezone="America/New_York")
    assert column(page, "on_date") == [utc(2025, 7, 1)]
    assert column(page, "at_local_date") == [utc(2025, 6, 30)]


def test_annotation_keys_are_never_columns_and_real_unmapped_columns_are_reported() -> None:
    annotated = item(1, Tags=["Drugs"], **{"Tags@odata.type": "Collection(Edm.String)", "@odata.context": "c",
                                            "AreaLookupId@odata.type": "Edm.String", "_UIVersionString": "1.0",
                                            "AuthorLookupId": "7", "LinkTitle": "x", "Attachments": False})  # fmt: skip
    assert run(annotated).problems.problems == ()
    page = run(item(1, Mood="Sunny", Hidden_x0020_ColLookupId="3"))
    assert [(p.row, p.column, p.code) for p in page.problems.problems] == [
        (-1, "Hidden_x0020_Col", "unmapped-field"), (-1, "Mood", "unmapped-field"),
    ]  # fmt: skip
    assert PROBLEM_TYPES["unmapped-field"].severity == "warning"
    assert "Sunny" not in repr(page.problems)


def test_deleted_items_are_returned_as_ids_and_repeated_items_keep_their_last_version() -> None:
    page = run(
        item(1, Title="first"),
        item(2, Title="old"),
        {"id": "3", "deleted": {"state": "deleted"}, "parentReference": {"siteId": "s"}},
        item(2, Title="new"),
        item(4, Title="gone soon"),
        {"id": "4", "deleted": {"state": "deleted"}},
    )
    assert column(page, "source_item_id") == ["1", "2"]
    assert column(page, "title") == ["first", "new"]
    assert page.deleted_item_ids == ("3", "4")


def test_an_item_without_an_id_is_a_source_format_error() -> None:
    with pytest.raises(SourceFormatError, match="item 0 of the page has no id"):
        run({"fields": {"Title": "x"}})


def test_an_empty_page_gives_empty_tables_of_the_right_shape() -> None:
    page = run()
    assert page.tables["things"].num_rows == 0 and page.tables["thing_tags"].num_rows == 0
    assert page.tables["things"].schema.names == arrow_schema(THINGS).names


def test_built_ins_author_created_and_modified() -> None:
    mapping = ListMapping("Every type", "things", "thing_id", (ColumnMapping("Title", "text", to=("title",)),),
                          created="at_utc", modified="on_date")  # fmt: skip
    raw = item(1, Title="x", Created="2025-01-01T00:00:00Z")
    page = normalise_page([raw], mapping, context(LIST_ID), dataset=EVERY_TYPE_DATASET)
    assert column(page, "at_utc") == [utc(2025, 6, 1, 8)]  # the item's createdDateTime comes first
    assert column(page, "on_date") == [utc(2025, 6, 2, 8)]


def test_item_properties_fall_back_as_or_would_when_one_is_missing_empty_or_not_text() -> None:
    """The item's own properties come first, then `fields`; an empty text counts as missing (as `or`)."""
    mapping = ListMapping("Every type", "things", "thing_id", (ColumnMapping("Title", "text", to=("title",)),),
                          created="at_utc", modified="on_date")  # fmt: skip
    normal = item(1, Title="a")
    empty_etag = {**item(2, Title="b"), "eTag": "", "@odata.etag": '"two"'}
    no_properties = {
        "id": "3",
        "fields": {"@odata.etag": '"three"', "Title": "c", "Created": "2025-01-01T00:00:00Z",
                   "Modified": "2025-01-02T00:00:00Z"},
    }  # fmt: skip

    def run_with(*items: dict[str, Any]) -> NormalisedPage:
        return normalise_page(list(items), mapping, context(LIST_ID), dataset=EVERY_TYPE_DATASET)

    page = run_with(normal, empty_etag)  # every item has its properties (read with the fields, in one go)
    assert column(page, "source_version") == [normal["eTag"], '"two"']
    assert column(page, "at_utc") == [utc(2025, 6, 1, 8)] * 2 and codes(page) == []
    page = run_with(empty_etag, no_properties)  # one item without (read item by item)
    assert column(page, "source_version") == ['"two"', '"three"']
    assert column(page, "at_utc") == [utc(2025, 6, 1, 8), utc(2025, 1, 1)]
    assert column(page, "on_date") == [utc(2025, 6, 2, 8), utc(2025, 1, 2)]
    assert column(page, "title") == ["b", "c"] and codes(page) == []

    not_text = {**item(4, Title="d"), "eTag": 7, "@odata.etag": None, "createdDateTime": 5}
    without_fields = {**item(5), "fields": None}
    page = run_with(not_text, without_fields)
    assert column(page, "source_version") == [None, without_fields["eTag"]]
    assert column(page, "at_utc") == [None, utc(2025, 6, 1, 8)]
    assert column(page, "title") == ["d", None]
    assert codes(page) == [(0, "at_utc", "wrong-type")]


def test_a_column_that_feeds_the_key_gives_the_key() -> None:
    mapping = ListMapping(
        "Every type", "things", "thing_id", (ColumnMapping("Code", "text", to=("thing_id",)),)
    )
    page = normalise_page([item(1, Code="ABC")], mapping, context(LIST_ID), dataset=EVERY_TYPE_DATASET)
    assert column(page, "thing_id") == ["ABC"] and page.item_keys == {"1": "ABC"}


def test_people_staff_numbers_come_from_the_people_list() -> None:
    from transforms.list_mapping import PeopleMapping

    items = [
        item(1, AccountLookupId="7", Staff="4711"),
        item(2, AccountLookupId="9", Staff="  "),
        item(3, Staff="1"),
    ]
    assert people_staff_numbers(items, PeopleMapping("Officers", "Account", "Staff")) == {"7": "4711"}


def test_a_short_key_is_refused_before_anything_is_read() -> None:
    short = NormaliseContext(LIST_ID, b"short", {}, {})
    with pytest.raises(ConfigError, match="CETK_PSEUDONYMISATION_KEY"):
        normalise_page([item(1)], EVERY_TYPE_MAPPING, short, dataset=EVERY_TYPE_DATASET)


def test_a_mapping_outside_the_model_is_a_config_error() -> None:
    wrong = ListMapping("Every type", "things", "thing_id", (ColumnMapping("X", "text", to=("nope",)),))
    with pytest.raises(ConfigError, match="column 'X': 'nope' is not a column of 'things'"):
        normalise_page([item(1)], wrong, context(LIST_ID), dataset=EVERY_TYPE_DATASET)


def test_tables_are_arrow_tables() -> None:
    assert all(isinstance(table, pa.Table) for table in run(item(1)).tables.values())


def test_a_read_selects_the_mapped_columns_only() -> None:
    from emulator.demo.list_mapping import DEMO_SITE_MAPPING
    from transforms.normalise import selected_columns

    events = DEMO_SITE_MAPPING.list_mapping("Engagement Events")
    chosen = selected_columns(events, DEMO_SITE_MAPPING.people)
    assert "Issues_x0020_raised" not in chosen and "EventPoster" not in chosen  # ignored: never asked for
    assert chosen[0] == "Title" and "Author" in chosen and "Officers" in chosen
    officers = selected_columns(DEMO_SITE_MAPPING.list_mapping("Officers"), DEMO_SITE_MAPPING.people)
    assert "OfficerAccount" in officers and "Title" not in officers  # the people columns, never the name


def test_demographic_answers_are_kept_only_with_consent_and_counted() -> None:
    from emulator.demo.list_mapping import DEMO_SITE_MAPPING

    ccr = DEMO_SITE_MAPPING.list_mapping("Community Contact Records")
    answers = {
        "Sex": "Female",
        "Religion": "Jedi",
        "AgeBand": "25 to 34",
    }  # "Jedi" is no label of the mapping
    items = [
        item(1, Diversity_x0020_Consent=True, **answers),
        item(2, Diversity_x0020_Consent=False, **answers),
        item(3, **answers),  # consent not recorded is no consent
        item(4, Diversity_x0020_Consent=False),
    ]
    page = normalise_page(items, ccr, NormaliseContext(LIST_ID, KEY, {}, {}))
    table = page.tables["ccr"]
    assert table.column("sex").to_pylist() == ["F", None, None, None]
    assert table.column("age_band").to_pylist() == ["25-34", None, None, None]
    assert table.column("religion").to_pylist() == [None, None, None, None]
    removed = [(p.row, p.column) for p in page.problems.problems if p.code == "removed-without-consent"]
    assert sorted(removed) == [(r, c) for r in (1, 2) for c in ("age_band", "religion", "sex")]
    # an answer without consent is removed before it is read: its unknown label is never reported
    assert [
        (p.row, p.column, p.code, p.value) for p in page.problems.problems if p.code == "unknown-label"
    ] == [(0, "religion", "unknown-label", "***")]
    assert {p.value for p in page.problems.problems if p.code == "removed-without-consent"} == {""}


def test_true_is_not_a_number_even_where_the_rest_of_the_page_reads_cleanly() -> None:
    page = run(item(1, Count=3, Cost=2.5, Title="a"), item(2, Count=True, Cost=1.0, Title="b"))
    assert column(page, "count") == [3, None]
    assert column(page, "title") == ["a", "b"] and column(page, "cost") == [
        Decimal("2.5000"),
        Decimal("1.0000"),
    ]
    assert codes(page) == [(1, "count", "wrong-type")]


def test_false_is_not_a_number_either_nor_is_a_boolean_among_real_zeros_and_ones() -> None:
    page = run(item(1, Count=0, Cost=1.0), item(2, Count=1, Cost=False), item(3, Count=0.0, Cost=0))
    assert column(page, "count") == [0, 1, 0]
    assert column(page, "cost") == [Decimal("1.0000"), None, Decimal("0.0000")]
    assert codes(page) == [(1, "cost", "wrong-type")]


def test_a_contact_detail_mapped_to_the_citizen_key_becomes_its_keyed_pseudonym() -> None:
    from dataclasses import replace

    from emulator.demo.list_mapping import DEMO_SITE_MAPPING
    from transforms.privacy import citizen_key

    ccr = DEMO_SITE_MAPPING.list_mapping("Community Contact Records")
    mapping = replace(ccr, columns=(*ccr.columns, ColumnMapping("Phone", "text", to=("citizen_key",))))
    page = normalise_page([item(1, Phone="+44 7700 900436")], mapping, NormaliseContext(LIST_ID, KEY, {}, {}))
    assert page.tables["ccr"].column("citizen_key").to_pylist() == [citizen_key("07700 900436", KEY)]
    assert "900436" not in repr(page.tables) + repr(page.problems)


def test_a_personal_column_that_can_be_neither_pseudonymised_nor_gated_is_refused() -> None:
    from dataclasses import replace

    from powerbi_dataset.schema import Column, Dataset

    named = replace(
        THINGS, columns=(*THINGS.columns, Column("resident_name", "String", "x", personal="personal"))
    )
    dataset = Dataset("d", tuple(named if t.name == "things" else t for t in EVERY_TYPE_DATASET.tables),
                      EVERY_TYPE_DATASET.relationships)  # fmt: skip
    mapping = ListMapping(
        "Every type", "things", "thing_id", (ColumnMapping("Resident", "text", to=("resident_name",)),)
    )
    with pytest.raises(
        ConfigError, match="personal data that cetk can neither pseudonymise nor gate"
    ) as raised:
        normalise_page([item(1, Resident="Darren Hulme")], mapping, context(LIST_ID), dataset=dataset)
    assert "Darren" not in str(raised.value) and "ignore:" in raised.value.hint
