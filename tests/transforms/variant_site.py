"""A second site built like the demo's but by another force: other list names, generated internal names
(`field_1`...), other wording of display names and choice labels; and its known-good mapping, which is the
demo mapping translated. Proves the proposal hard-codes nothing about the demo's names."""

from __future__ import annotations

from dataclasses import replace

from emulator.demo.list_mapping import DEMO_SITE_MAPPING
from emulator.demo.site import LIST_SHAPES
from emulator.lists.values import ListColumn
from tests.transforms.live_columns import live_list
from transforms.list_columns import LiveList
from transforms.list_mapping import ListMapping, PeopleMapping, SiteMapping

LIST_NAMES = {
    "LPTs": "Neighbourhood Policing Teams",
    "Officers": "Staff directory",
    "Engagement Events": "Community events",
    "Community Contact Records": "Contact records",
    "You Said We Did": "You said we did log",
}
DISPLAY_NAMES = {"Event Start": "Start time", "Event End": "Finish time", "Total attendance": "Number attending",
                 "Officers present": "No. of officers present", "Staff number": "Collar number"}  # fmt: skip


def relabel(label: str) -> str:
    """How this force words its choices: '&' for 'and', and capitals for statuses."""
    return label.replace(" and ", " & ") if " and " in label else label.upper() if len(label) <= 9 else label


def _column_names(columns: tuple[ListColumn, ...]) -> dict[str, str]:
    names, index = {}, 0
    for column in columns:
        if column.name == "Title":
            names[column.name] = "Title"
        else:
            index += 1
            names[column.name] = f"field_{index}"
    return names


def variant_site() -> tuple[list[LiveList], SiteMapping]:
    renames = {shape.display_name: _column_names(shape.columns) for shape in LIST_SHAPES}
    ids = {LIST_NAMES[shape.display_name]: f"variant-{index}" for index, shape in enumerate(LIST_SHAPES)}
    lists = []
    for shape in LIST_SHAPES:
        names = renames[shape.display_name]
        columns = [
            replace(column, name=names[column.name], display_name=DISPLAY_NAMES.get(column.display_name, column.display_name),
                    choices=tuple(relabel(label) for label in column.choices),
                    lookup_list=LIST_NAMES.get(column.lookup_list or "", column.lookup_list))
            for column in shape.columns
        ]  # fmt: skip
        new_name = LIST_NAMES[shape.display_name]
        lists.append(live_list(new_name, columns, ids[new_name], ids))
    mapped = []
    for one in DEMO_SITE_MAPPING.lists:
        names = renames[one.display_name]
        columns = tuple(
            replace(column, name=names[column.name], choices=tuple((relabel(label), code) for label, code in column.choices),
                    lookup_list=LIST_NAMES[column.lookup_list] if column.lookup_list else None)
            for column in one.columns
        )  # fmt: skip
        mapped.append(ListMapping(LIST_NAMES[one.display_name], one.table, one.key, columns, **one.built_ins))
    people = DEMO_SITE_MAPPING.people
    assert people is not None
    officers = renames[people.list]
    expected_people = PeopleMapping(
        LIST_NAMES[people.list], officers[people.account], officers[people.staff_number]
    )
    return lists, SiteMapping(tuple(mapped), expected_people)
