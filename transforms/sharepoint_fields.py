"""SharePoint column types and the JSON shape Graph gives each one under an item's `fields` (declarations).

Facts: microsoft-apis.md §2.3. The list mapping declares a `type` per column from `SharePointType`;
the normaliser reads values by `FIELD_SHAPES`, and the emulator's contract test holds its serialiser to
the same table.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

from powerbi_dataset.schema import Kind

SharePointType = Literal[
    "text", "note", "choice", "multichoice", "number", "currency", "boolean", "dateTime", "dateOnly",
    "lookup", "multilookup", "person", "multiperson", "hyperlink", "location", "term", "multiterm",
]  # fmt: skip
SHAREPOINT_TYPES: tuple[SharePointType, ...] = get_args(SharePointType)
MULTI_TYPES: frozenset[SharePointType] = frozenset({"multichoice", "multilookup", "multiperson", "multiterm"})
LOOKUP_TYPES: frozenset[SharePointType] = frozenset({"lookup", "multilookup"})
PERSON_TYPES: frozenset[SharePointType] = frozenset({"person", "multiperson"})
CHOICE_TYPES: frozenset[SharePointType] = frozenset({"choice", "multichoice"})
# Types whose values the normaliser reads the same way, so a column may change between them.
READ_ALIKE: tuple[frozenset[SharePointType], ...] = (frozenset({"text", "note"}),)

JsonKind = Literal["string", "number", "boolean", "object", "array"]
Timestamp = Literal["utc", "site-midnight-utc"]


@dataclass(frozen=True)
class FieldShape:
    """Where a column's value sits in `fields` and what JSON it is."""

    key: str  # "{name}" or "{name}LookupId", {name} being the column's internal name
    json: JsonKind
    element: JsonKind | None = None  # arrays: the kind of each element
    members: tuple[tuple[str, JsonKind], ...] = ()  # objects (or array elements): keys always present
    optional: tuple[tuple[str, JsonKind], ...] = ()  # keys present only with a value (coordinates)
    siblings: tuple[tuple[str, JsonKind], ...] = ()  # keys written beside the column's own (location)
    timestamp: Timestamp | None = None  # strings that are `YYYY-MM-DDTHH:MM:SSZ`

    def field_key(self, name: str) -> str:
        return self.key.format(name=name)


_STRING = FieldShape("{name}", "string")
_LOOKUP_ID = FieldShape("{name}LookupId", "string")  # a STRING id, and only this key, for single lookups
_TERM: tuple[tuple[str, JsonKind], ...] = (("Label", "string"), ("TermGuid", "string"), ("WssId", "number"))

FIELD_SHAPES: dict[SharePointType, FieldShape] = {
    "text": _STRING,
    "note": _STRING,
    "choice": _STRING,
    "multichoice": FieldShape("{name}", "array", element="string"),
    "number": FieldShape("{name}", "number"),
    "currency": FieldShape("{name}", "number"),
    "boolean": FieldShape("{name}", "boolean"),
    "dateTime": FieldShape("{name}", "string", timestamp="utc"),
    "dateOnly": FieldShape("{name}", "string", timestamp="site-midnight-utc"),  # local midnight, in UTC
    "lookup": _LOOKUP_ID,
    "person": _LOOKUP_ID,
    "multilookup": FieldShape(
        "{name}", "array", element="object", members=(("LookupId", "number"), ("LookupValue", "string"))
    ),
    "multiperson": FieldShape(
        "{name}",
        "array",
        element="object",
        members=(("LookupId", "number"), ("LookupValue", "string"), ("Email", "string")),
    ),
    "hyperlink": FieldShape("{name}", "object", members=(("Description", "string"), ("Url", "string"))),
    "location": FieldShape(
        "{name}",
        "object",
        members=(
            ("displayName", "string"),
            ("address", "object"),
            ("locationUri", "string"),
            ("uniqueId", "string"),
        ),
        optional=(("coordinates", "object"),),
        siblings=(
            ("CountryOrRegion", "string"),
            ("State", "string"),
            ("City", "string"),
            ("PostalCode", "string"),
            ("Street", "string"),
            ("DispName", "string"),
            ("GeoLoc", "object"),
        ),
    ),  # fmt: skip
    "term": FieldShape("{name}", "object", members=_TERM),
    "multiterm": FieldShape("{name}", "array", element="object", members=_TERM),
}

# The canonical kinds a column of each type can feed (a location feeds latitude and longitude).
TARGET_KINDS: dict[SharePointType, frozenset[Kind]] = {
    **dict.fromkeys(("text", "note", "choice", "multichoice", "hyperlink", "term", "multiterm"), frozenset({"String"})),
    **dict.fromkeys(("lookup", "multilookup", "person", "multiperson"), frozenset({"String"})),
    "number": frozenset({"Int64", "Double", "Decimal"}),
    "currency": frozenset({"Double", "Decimal"}),
    "boolean": frozenset({"Boolean"}),
    "dateTime": frozenset({"DateTime"}),
    "dateOnly": frozenset({"DateTime"}),
    "location": frozenset({"Double"}),
}  # fmt: skip


def types_compatible(declared: SharePointType, live: SharePointType) -> bool:
    """True when a column declared as one type can be read as the other."""
    return declared == live or any({declared, live} <= group for group in READ_ALIKE)
