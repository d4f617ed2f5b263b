"""Which columns a page's `fields` carry beyond the mapping: annotation keys and built-ins left out.

Graph writes OData annotations beside the values (`@odata.etag`, `<Col>@odata.type` on multi-valued
columns, microsoft-apis.md §2.4) and a set of built-in keys on every item (§2.3). Neither is a list
column; anything else the mapping neither maps nor ignores is reported, so nothing is dropped silently.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from transforms.list_mapping import BUILT_IN_COLUMNS, ListMapping, PeopleMapping
from transforms.sharepoint_fields import FIELD_SHAPES

__all__ = ["BUILT_IN_FIELDS", "is_annotation", "selected_columns", "unmapped_fields"]

LOOKUP_SUFFIX = "LookupId"
# Keys Graph puts in `fields` on every item (microsoft-apis.md §2.3; `_`-prefixed compliance keys too).
BUILT_IN_FIELDS = frozenset({
    "id", "ContentType", "Modified", "Created", "Author", "Editor", "AppAuthor", "AppEditor", "Attachments",
    "Edit", "LinkTitle", "LinkTitleNoMenu", "ItemChildCount", "FolderChildCount", "DocIcon", "ComplianceAssetId",
})  # fmt: skip
LOCATION_SIBLINGS = frozenset(name for name, _kind in FIELD_SHAPES["location"].siblings)


def is_annotation(key: str) -> bool:
    """An OData annotation (`@odata.etag`, `Officers@odata.type`): SharePoint names never hold '@'
    (an internal name writes it as `_x0040_`)."""
    return "@" in key


def unmapped_fields(fields: Sequence[Mapping[str, Any]], mapping: ListMapping) -> tuple[str, ...]:
    """Column names the items carry that the mapping does not mention, sorted."""
    present: set[str] = set().union(*fields) if fields else set()
    known = {column.name for column in mapping.columns}
    siblings = (
        LOCATION_SIBLINGS if any(column.type == "location" for column in mapping.columns) else frozenset()
    )
    found = set()
    for key in present:
        if is_annotation(key) or key.startswith("_") or key in siblings:
            continue
        name = key[: -len(LOOKUP_SUFFIX)] if key.endswith(LOOKUP_SUFFIX) else key
        if name not in known and key not in known and name not in BUILT_IN_FIELDS:
            found.add(name)
    return tuple(sorted(found))


def selected_columns(mapping: ListMapping, people: PeopleMapping | None = None) -> tuple[str, ...]:
    """The internal names a read of this list asks for (`$expand=fields($select=...)`): the mapped columns,
    Created By / Modified By when mapped (Created and Modified come from the item itself), and for the
    people list its account and staff number columns. Ignored columns are never asked for."""
    names = [column.name for column in mapping.columns if not column.is_ignored]
    names += [BUILT_IN_COLUMNS[name] for name in ("author", "editor") if name in mapping.built_ins]
    if people is not None and people.list == mapping.display_name:
        names += [people.account, people.staff_number]
    return tuple(dict.fromkeys(names))
