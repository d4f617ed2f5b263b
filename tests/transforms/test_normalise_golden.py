"""Golden round trip: every SharePoint column type the emulator models, from the value its store holds,
through the JSON its Graph service sends, to the canonical value normalise_page makes; plus date-only and
date-time values across both BST edges. `make golden` rewrites tests/golden/normalise_round_trip.json."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from tests.transforms.every_type import (
    COLUMN_TYPES,
    EVERY_TYPE_DATASET,
    EVERY_TYPE_MAPPING,
    LONDON,
    SAMPLE,
    context,
    served_items,
)
from transforms.normalise import NormalisedPage, normalise_page
from transforms.sharepoint_fields import FIELD_SHAPES

GOLDEN = "normalise_round_trip.json"
DATE_ONLY_EDGES = [date(2025, 3, 29), date(2025, 3, 30), date(2025, 3, 31), date(2025, 10, 25), date(2025, 10, 26),
                   date(2025, 10, 27)]  # fmt: skip
# Wall-clock times around 01:30 on both change days. In March 01:30 never happens: zoneinfo reads it with
# the GMT offset (fold 0) or the BST one (fold 1); in October fold 0 is the first (BST) 01:30, fold 1 the
# second (GMT). The store keeps the instant; the normaliser gets it back and its London date.
DATE_TIME_EDGES = [
    datetime.combine(day, time(hour, 30), tzinfo=LONDON).replace(fold=fold)
    for day in (date(2025, 3, 30), date(2025, 10, 26))
    for hour, fold in ((0, 0), (1, 0), (1, 1), (2, 0))
]


def shown(value: object) -> object:
    """A value as golden text: ISO 8601 for dates and times, repr for the emulator's value classes."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list):
        return [shown(item) for item in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return repr(value)


def canonical(page: NormalisedPage, list_id: str, row: int, name: str) -> dict[str, Any]:
    """What one mapped column became: its target cells, or its bridge rows for this item."""
    mapped = EVERY_TYPE_MAPPING.column(name)

    def plain(value: object) -> object:
        text = shown(value)
        return text.replace(list_id, "{list_id}") if isinstance(text, str) else text

    if mapped.bridge is None:
        table = page.tables["things"]
        return {f"things.{target}": plain(table.column(target)[row].as_py()) for target in mapped.to}
    key = page.tables["things"].column("thing_id")[row].as_py()
    rows = [r for r in page.tables[mapped.bridge].to_pylist() if r["thing_id"] == key]
    picked = [mapped.to[0], *([mapped.rank] if mapped.rank else [])]
    return {mapped.bridge: [{column: plain(r[column]) for column in picked} for r in rows]}


def graph_json(fields: Mapping[str, Any], name: str) -> dict[str, Any]:
    shape = FIELD_SHAPES[COLUMN_TYPES[name]]
    keys = [shape.field_key(name), *(sibling for sibling, _kind in shape.siblings)]
    return {key: fields[key] for key in keys if key in fields}


def round_trip(
    rows: list[dict[str, object]], columns: list[str], describe: Callable[[int], str]
) -> list[dict[str, Any]]:
    list_id, items = served_items(rows)
    page = normalise_page(items, EVERY_TYPE_MAPPING, context(list_id), dataset=EVERY_TYPE_DATASET)
    assert page.problems.problems == (), page.problems.problems
    return [
        {"case": describe(index), "type": COLUMN_TYPES[name], "column": name, "store": shown(row[name]),
         "graph": graph_json(items[index]["fields"], name), "canonical": canonical(page, list_id, index, name)}
        for index, row in enumerate(rows) for name in columns
    ]  # fmt: skip


def test_every_type_round_trips_from_the_emulator_store_to_the_canonical_value(golden: Any) -> None:
    every_type = round_trip([SAMPLE], list(COLUMN_TYPES), lambda _index: "sample")
    date_only = round_trip(
        [{"On": day} for day in DATE_ONLY_EDGES], ["On"], lambda i: f"date-only {DATE_ONLY_EDGES[i]}"
    )
    date_time = round_trip([{"At": moment} for moment in DATE_TIME_EDGES], ["At"],
                           lambda i: f"{DATE_TIME_EDGES[i].isoformat()} fold={DATE_TIME_EDGES[i].fold}")  # fmt: skip
    document = {"every_type": every_type, "date_only_bst_edges": date_only, "date_time_bst_edges": date_time}
    assert {entry["type"] for entry in every_type} == set(FIELD_SHAPES)
    golden(GOLDEN, json.dumps(document, indent=1, ensure_ascii=False, sort_keys=True) + "\n")


def test_the_date_only_edges_keep_their_calendar_date() -> None:
    list_id, items = served_items([{"On": day} for day in DATE_ONLY_EDGES])
    page = normalise_page(items, EVERY_TYPE_MAPPING, context(list_id), dataset=EVERY_TYPE_DATASET)
    assert [value.date() for value in page.tables["things"].column("on_date").to_pylist()] == DATE_ONLY_EDGES
    sent = [item["fields"]["On"] for item in items]
    assert sent[2] == "2025-03-30T23:00:00Z" and sent[4] == "2025-10-25T23:00:00Z"  # BST midnights


def test_the_date_time_edges_keep_their_instant_and_london_date() -> None:
    list_id, items = served_items([{"At": moment} for moment in DATE_TIME_EDGES])
    page = normalise_page(items, EVERY_TYPE_MAPPING, context(list_id), dataset=EVERY_TYPE_DATASET)
    things = page.tables["things"]
    assert things.column("at_utc").to_pylist() == [moment.astimezone(UTC) for moment in DATE_TIME_EDGES]
    local = [moment.astimezone(LONDON).date() for moment in DATE_TIME_EDGES]
    assert [value.date() for value in things.column("at_local_date").to_pylist()] == local
