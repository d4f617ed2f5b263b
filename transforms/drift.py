"""Schema drift: a list's live columns held against its mapping, as a diff a person can act on.

    diff = diff_columns(live_list, site_mapping.list_mapping("Engagement Events"))
    if diff.blocking: stop this list and show diff.describe()   # a mapped column is gone or retyped

What the diff says (docs/sync.md, reliability-security.md R18):
- new: a live column the mapping neither maps nor ignores (a warning: its values are not read);
- removed: a column of the mapping that the list no longer has (blocking when it was mapped);
- renamed: a removed column that reappears under a new internal name, found by the display name the
  mapping recorded (`display`) or by the same type and choices (blocking: the mapping names the old one);
- retyped: a mapped column whose type changed so it can no longer be read as mapped (blocking). A live
  column without a type facet (Graph gives none for hyperlink, location, managed metadata) is never
  called retyped on that ground alone;
- choices: labels added to or removed from a mapped choice column (a renamed choice value is one of each;
  items using an unmapped label are quarantined as `unknown-label`);
- relabelled: the same internal name under a new display name (information only).
Nothing is dropped silently: every live column is mapped, ignored or listed here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from transforms.list_columns import LiveColumn, LiveList
from transforms.list_mapping import ColumnMapping, ListMapping, unmapped_columns
from transforms.normalise_fields import BUILT_IN_FIELDS
from transforms.sharepoint_fields import CHOICE_TYPES, SharePointType, types_compatible

__all__ = [
    "ChoiceChange",
    "NewColumn",
    "Relabelled",
    "RemovedColumn",
    "Renamed",
    "Retyped",
    "SchemaDiff",
    "diff_columns",
]

# A live type that does not say whether the column is multi-valued may be either (Graph choice columns).
_EITHER: dict[SharePointType, tuple[SharePointType, SharePointType]] = {
    "choice": ("choice", "multichoice"),
    "multichoice": ("choice", "multichoice"),
    "lookup": ("lookup", "multilookup"),
    "multilookup": ("lookup", "multilookup"),
    "person": ("person", "multiperson"),
    "multiperson": ("person", "multiperson"),
    "term": ("term", "multiterm"),
    "multiterm": ("term", "multiterm"),
}


@dataclass(frozen=True)
class NewColumn:
    name: str
    display_name: str
    type: SharePointType | None


@dataclass(frozen=True)
class RemovedColumn:
    name: str
    display_name: str | None  # as the mapping recorded it
    mapped: bool  # False: the mapping only ignored it


@dataclass(frozen=True)
class Renamed:
    old_name: str
    new_name: str
    display_name: str
    matched_on: str  # "display name" or "type and choices"
    mapped: bool


@dataclass(frozen=True)
class Retyped:
    name: str
    mapped_type: SharePointType
    live_type: SharePointType


@dataclass(frozen=True)
class ChoiceChange:
    name: str
    added: tuple[str, ...]  # offered by the list, not mapped to a code
    removed: tuple[str, ...]  # mapped, no longer offered


@dataclass(frozen=True)
class Relabelled:
    name: str
    mapped_display: str
    live_display: str


@dataclass(frozen=True)
class SchemaDiff:
    list_name: str
    new: tuple[NewColumn, ...] = ()
    removed: tuple[RemovedColumn, ...] = ()
    renamed: tuple[Renamed, ...] = ()
    retyped: tuple[Retyped, ...] = ()
    choices: tuple[ChoiceChange, ...] = ()
    relabelled: tuple[Relabelled, ...] = ()

    @property
    def blocking(self) -> bool:
        """A mapped column is gone (removed or renamed) or retyped: this list must stop with the diff."""
        gone = any(one.mapped for one in self.removed) or any(one.mapped for one in self.renamed)
        return gone or bool(self.retyped)

    @property
    def changed(self) -> bool:
        return any((self.new, self.removed, self.renamed, self.retyped, self.choices, self.relabelled))

    def to_dict(self) -> dict[str, Any]:
        return {
            "list": self.list_name,
            "blocking": self.blocking,
            "new": [asdict(one) for one in self.new],
            "removed": [asdict(one) for one in self.removed],
            "renamed": [asdict(one) for one in self.renamed],
            "retyped": [asdict(one) for one in self.retyped],
            "choices": [
                {**asdict(one), "added": list(one.added), "removed": list(one.removed)}
                for one in self.choices
            ],
            "relabelled": [asdict(one) for one in self.relabelled],
        }

    def describe(self) -> str:
        """The diff in words, one line per change, blocking changes first."""
        if not self.changed:
            return f"list '{self.list_name}': the columns match the mapping"
        verdict = (
            "stops: a mapped column is gone or retyped"
            if self.blocking
            else "is read, with warnings (columns or labels the mapping does not know)"
        )
        lines = [f"list '{self.list_name}' {verdict}"]
        for gone in self.removed:
            what = "mapped column" if gone.mapped else "ignored column"
            lines.append(
                f"  removed   {what} '{gone.name}'{_shown(gone.display_name)} is no longer in the list"
            )
        for moved in self.renamed:
            lines.append(
                f"  renamed   '{moved.old_name}' is now '{moved.new_name}' ('{moved.display_name}', same "
                f"{moved.matched_on}): change the mapping's key '{moved.old_name}' to '{moved.new_name}'"
            )
        for changed in self.retyped:
            lines.append(
                f"  retyped   '{changed.name}' was mapped as {changed.mapped_type}, the list now has {changed.live_type}"
            )
        for choice in self.choices:
            if choice.added:
                lines.append(
                    f"  choices   '{choice.name}' offers labels the mapping lacks: {_listed(choice.added)} (items using them are quarantined)"
                )
            if choice.removed:
                lines.append(f"  choices   '{choice.name}' no longer offers: {_listed(choice.removed)}")
        for column in self.new:
            lines.append(
                f"  new       '{column.name}'{_shown(column.display_name)} is not in the mapping: map it or add it with `ignore:`"
            )
        for label in self.relabelled:
            lines.append(
                f"  relabelled '{label.name}' is now shown as '{label.live_display}' (was '{label.mapped_display}')"
            )
        return "\n".join(lines)


def diff_columns(live: LiveList, mapping: ListMapping) -> SchemaDiff:
    """The live columns of one list against its mapping (see the module docstring)."""
    visible = {c.name: c for c in live.columns if _counts(c) or _mentioned(mapping, c.name)}
    missing = [column for column in mapping.columns if column.name not in {c.name for c in live.columns}]
    fresh = [visible[name] for name in unmapped_columns(mapping, visible)]
    renamed: list[Renamed] = []
    for column in missing:
        match = _rename(column, fresh)
        if match is not None:
            renamed.append(match[0])
            fresh.remove(match[1])
    moved = {one.old_name for one in renamed}
    removed = tuple(
        RemovedColumn(c.name, c.display, not c.is_ignored) for c in missing if c.name not in moved
    )
    present = [(column, visible[column.name]) for column in mapping.columns if column.name in visible]
    retyped = tuple(
        Retyped(column.name, column.type, now.type)
        for column, now in present
        if not column.is_ignored
        and column.type is not None
        and now.type is not None
        and not _readable(column.type, now)
    )
    choices = tuple(change for column, now in present if (change := _choices(column, now)) is not None)
    relabelled = tuple(
        Relabelled(column.name, column.display, now.display_name)
        for column, now in present
        if column.display is not None and column.display != now.display_name
    )
    new = tuple(NewColumn(c.name, c.display_name, c.type) for c in fresh)
    return SchemaDiff(live.display_name, new, removed, tuple(renamed), retyped, choices, relabelled)


def _counts(column: LiveColumn) -> bool:
    """A column a person added: not hidden, not read-only (location sub-columns, system columns)."""
    return not column.hidden and not column.read_only and column.name not in BUILT_IN_FIELDS


def _mentioned(mapping: ListMapping, name: str) -> bool:
    return any(column.name == name for column in mapping.columns)


def _readable(mapped: SharePointType, live: LiveColumn) -> bool:
    assert live.type is not None
    kinds: tuple[SharePointType, ...] = (live.type,)
    if live.multi is None and live.type in _EITHER:
        kinds = _EITHER[live.type]
    elif live.multi is not None and live.type in _EITHER:
        single, multi = _EITHER[live.type]
        kinds = (multi if live.multi else single,)
    return any(types_compatible(mapped, kind) for kind in kinds)


def _rename(column: ColumnMapping, fresh: list[LiveColumn]) -> tuple[Renamed, LiveColumn] | None:
    mapped = not column.is_ignored
    if column.display is not None:
        same = [c for c in fresh if c.display_name.casefold() == column.display.casefold()]
        if len(same) == 1:
            return Renamed(column.name, same[0].name, same[0].display_name, "display name", mapped), same[0]
    labels = {label for label, _code in column.choices}
    if column.type is None or (column.type in CHOICE_TYPES and not labels):
        return None
    alike = [
        c for c in fresh
        if c.type is not None and _readable(column.type, c) and (not labels or set(c.choices) == labels)
    ]  # fmt: skip
    if len(alike) == 1 and (labels or column.display is None):
        return Renamed(column.name, alike[0].name, alike[0].display_name, "type and choices", mapped), alike[
            0
        ]
    return None


def _choices(column: ColumnMapping, live: LiveColumn) -> ChoiceChange | None:
    if column.is_ignored or column.type not in CHOICE_TYPES or not column.choices or not live.choices:
        return None
    mapped = [label for label, _code in column.choices]
    added = tuple(label for label in live.choices if label not in mapped)
    removed = tuple(label for label in mapped if label not in live.choices)
    return ChoiceChange(column.name, added, removed) if added or removed else None


def _shown(display: str | None) -> str:
    return f" ('{display}')" if display else ""


def _listed(labels: tuple[str, ...]) -> str:
    return ", ".join(f"'{label}'" for label in labels)
