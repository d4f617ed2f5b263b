"""The list mapping file: safe reading, exact round trip, and every refusal of check_mapping."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from errors import ConfigError
from powerbi_dataset.model import DATASET
from transforms.list_mapping import (
    ColumnMapping,
    SiteMapping,
    dump_mapping,
    item_key,
    load_mapping,
    types_compatible,
    unmapped_columns,
)
from transforms.list_mapping_check import check_mapping

DOCS = Path(__file__).resolve().parents[2] / "docs" / "mapping.md"


def doc_example(heading: str) -> str:
    """The first ```yaml block after a heading of docs/mapping.md."""
    text = DOCS.read_text(encoding="utf-8")
    found = re.search(rf"^## {heading}\n.*?```yaml\n(.*?)```", text, re.DOTALL | re.MULTILINE)
    assert found, f"docs/mapping.md has no yaml example under '## {heading}'"
    return found.group(1)


@pytest.fixture(scope="module")
def example() -> SiteMapping:
    return load_mapping(doc_example("List mapping"), "mapping.yaml")


def messages(mapping: SiteMapping) -> list[str]:
    return [str(problem) for problem in check_mapping(mapping, DATASET)]


def with_column(mapping: SiteMapping, list_name: str, column: ColumnMapping) -> SiteMapping:
    """The mapping with one column entry of one list replaced (or added)."""
    lists = []
    for one in mapping.lists:
        if one.display_name == list_name:
            kept = [c for c in one.columns if c.name != column.name]
            one = replace(one, columns=(*kept, column))
        lists.append(one)
    return replace(mapping, lists=tuple(lists))


def test_the_documented_example_loads_and_checks_clean(example: SiteMapping) -> None:
    assert messages(example) == []
    events = example.list_mapping("Engagement Events")
    assert events.column("Venue").to == ("location_lat", "location_lon")
    assert events.column("EventStatus").codes_by_label["Planned"] == "PLANNED"
    assert events.column("Issues_x0020_raised").is_ignored
    assert example.people is not None and example.people.staff_number == "StaffNumber"


def test_dump_then_load_gives_the_same_mapping_and_the_same_text(example: SiteMapping) -> None:
    text = dump_mapping(example)
    again = load_mapping(text, "mapping.yaml")
    assert again == example
    assert dump_mapping(again) == text
    assert text.startswith("# cetk list mapping")


def test_labels_that_yaml_1_1_would_read_as_booleans_stay_text() -> None:
    text = "version: 1\nlists:\n  - list: L\n    table: ccr\n    key: ccr_id\n    columns:\n"
    text += "      Sex: {to: sex, type: choice, choices: {Yes: F, No: M, On: PNS}}\n"
    column = load_mapping(text, "m.yaml").lists[0].column("Sex")
    assert column.choices == (("Yes", "F"), ("No", "M"), ("On", "PNS"))
    assert load_mapping(dump_mapping(load_mapping(text, "m.yaml")), "m.yaml").lists[0].column("Sex") == column


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("version: 2\nlists: []\n", "version: 1"),
        ("version: 1\nlists:\n  - &a {list: L}\n  - *a\n", "anchors"),
        ("version: 1\nx: &big [1]\ny: *big\n", "anchors"),
        ("version: 1\nlists: [" + "[" * 12 + "]" * 12 + "]\n", "nested deeper"),
        ("version: 1\nversion: 1\n", "duplicate key"),
        ("version: 1\nlists: [\n", "line"),
        ("version: 1\nlistz: []\n", "unknown key"),
        ("version: 1\nlists:\n  - {list: L, table: t, key: k, columns: {A: {to: a, type: texte}}}\n", "column 'A'"),
        ("version: 1\nlists:\n  - {list: L, table: t, key: k, columns: {A: {to: a}}}\n", "'type' is required"),
        ("version: 1\nlists:\n  - {list: L, table: t, key: k, columns: {A: {ignore: x, to: a}}}\n", "unknown key"),
        ("version: 1\nlists:\n  - {list: L, table: t, key: k, columns: {A: {to: a, type: choice, choices: {1: X}}}}\n",
         "label 1 must be text"),
        ("version: 1\nlists:\n  - {list: L, table: t, key: k, columns: {A: {to: a, type: text}}}\n"
         "  - {list: L, table: t, key: k, columns: {A: {to: a, type: text}}}\n", "more than once"),
    ],
)  # fmt: skip
def test_malformed_files_are_config_errors_naming_file_and_place(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_mapping(text, "force-mapping.yaml")
    assert str(caught.value).startswith("force-mapping.yaml")
    assert message in str(caught.value)
    assert "docs/mapping.md" in caught.value.hint


def test_an_alias_is_refused_before_it_is_expanded() -> None:
    laughs = "version: 1\na: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + n)}: &{chr(98 + n)} [*{chr(97 + n)}, *{chr(97 + n)}, *{chr(97 + n)}]\n" for n in range(9)
    )
    with pytest.raises(ConfigError, match="anchors|aliases"):
        load_mapping(laughs, "laughs.yaml")


def test_an_oversized_file_is_refused() -> None:
    with pytest.raises(ConfigError, match="at most 1,000,000"):
        load_mapping("version: 1\n" + "#" * 1_000_001, "big.yaml")


@pytest.mark.parametrize(
    ("list_name", "column", "message"),
    [
        ("Engagement Events", ColumnMapping("Title", "text", to=("event_title",)), "'event_title' is not a column"),
        ("Engagement Events", ColumnMapping("EventStatus", "choice", to=("status",), choices=(("Postponed", "LATER"),)),
         "'LATER' is not a code of events.status"),
        ("Engagement Events", ColumnMapping("EventStatus", "choice", to=("status",)), "map each choice label"),
        ("Engagement Events", ColumnMapping("Officers", "multiperson", to=("officer_key",)), "needs a bridge table"),
        ("Engagement Events", ColumnMapping("Officers", "multiperson", to=("officer_key",), bridge="event_issues"),
         "'officer_key' is not a column of table 'event_issues'"),
        ("Engagement Events", ColumnMapping("Officers", "multiperson", to=("theme_code",), bridge="event_issues"),
         "not an officer key column"),
        ("Engagement Events", ColumnMapping("OfficersPresent", "boolean", to=("officers_present",)),
         "a boolean column cannot feed events.officers_present (Int64)"),
        ("Engagement Events", ColumnMapping("Venue", "location", to=("location_lon", "location_lat")),
         "[latitude, longitude]"),
        ("Engagement Events", ColumnMapping("LPT", "lookup", to=("lpt_code",), lookup_list="Areas"),
         "lookup_list 'Areas' is not a list"),
        ("Engagement Events", ColumnMapping("LPT", "lookup", to=("event_type",), lookup_list="LPTs"),
         "does not hold the key of 'areas'"),
        ("Engagement Events", ColumnMapping("Extra", "text", to=("event_name",)), "already fed by column 'Title'"),
        ("Engagement Events", ColumnMapping("EventDate", "dateTime", to=("start_local_date",)),
         "a date-time feeds a date-time column"),
        ("Engagement Events", ColumnMapping("Top_x0020_Issues", "multichoice", to=("theme_code",),
                                            bridge="event_issues", rank="theme_code"), "rank 'theme_code'"),
        ("Officers", ColumnMapping("StaffNumber", "number", to=("officer_key",)), "holds officer keys"),
        ("Officers", ColumnMapping("Role", "text", to=("role",), choices=(("Police Constable", "PC"),)),
         "only choice columns take choices"),
    ],
)  # fmt: skip
def test_check_names_list_column_and_reason(
    example: SiteMapping, list_name: str, column: ColumnMapping, message: str
) -> None:
    found = messages(with_column(example, list_name, column))
    assert any(f"list '{list_name}', column '{column.name}'" in m and message in m for m in found), found


def test_a_required_column_nothing_feeds_is_reported(example: SiteMapping) -> None:
    events = example.list_mapping("Engagement Events")
    kept = replace(events, columns=tuple(c for c in events.columns if c.name != "OfficersPresent"))
    mapping = replace(example, lists=(kept, *example.lists[1:]))
    assert messages(mapping) == [
        "mapping.yaml: list 'Engagement Events': nothing feeds the required column events.officers_present"
    ]


def test_list_level_mistakes(example: SiteMapping) -> None:
    events = example.list_mapping("Engagement Events")
    wrong_key = replace(example, lists=(replace(events, key="event_name"), *example.lists[1:]))
    assert any("keyed on event_id, not on 'event_name'" in m for m in messages(wrong_key))
    no_table = replace(example, lists=(replace(events, table="meetings"), *example.lists[1:]))
    assert any("table 'meetings' is not in the model" in m for m in messages(no_table))
    author = replace(example, lists=(replace(events, author="created_utc", created=None), *example.lists[1:]))
    assert any("built-in 'Author'" in m and "not an officer key column" in m for m in messages(author))


def test_people_must_name_a_person_and_a_staff_number(example: SiteMapping) -> None:
    assert example.people is not None
    unnamed = replace(example, people=None)
    assert any("need the `people` section" in m for m in messages(unnamed))
    swapped = replace(
        example, people=replace(example.people, account="StaffNumber", staff_number="OfficerAccount")
    )
    found = messages(swapped)
    assert any("people, column 'StaffNumber': is a text column" in m for m in found), found
    elsewhere = replace(example, people=replace(example.people, list="Rota"))
    assert any("list 'Rota' is not a list of this mapping" in m for m in messages(elsewhere))


def test_ignored_columns_are_not_unmapped_ones(example: SiteMapping) -> None:
    events = example.list_mapping("Engagement Events")
    live = ["Title", "Issues_x0020_raised", "Wards_x0020_covered", "VenueHireCost"]
    assert unmapped_columns(events, live) == ("Wards_x0020_covered", "VenueHireCost")


def test_item_keys_and_type_compatibility() -> None:
    assert item_key("8f0c", 12) == "sp:8f0c:12"
    assert types_compatible("text", "note") and types_compatible("choice", "choice")
    assert not types_compatible("choice", "multichoice") and not types_compatible("lookup", "person")
