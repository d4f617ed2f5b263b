"""A list's live column definitions, as a connector read them from the service (pure types).

Both list connectors (Graph, SharePoint REST) convert their service's column JSON into these, so schema
drift (transforms/drift.py) and the mapping proposal (transforms/mapping_propose.py) read one shape.
Graph gives no type facet for hyperlink, location and managed-metadata columns and no
`allowMultipleValues` for choice columns (microsoft-apis.md §2.1), so `type` and `multi` may be None.
"""

from __future__ import annotations

from dataclasses import dataclass

from transforms.sharepoint_fields import SharePointType

__all__ = ["LiveColumn", "LiveList"]


@dataclass(frozen=True)
class LiveColumn:
    name: str  # internal name: the key under an item's `fields`
    display_name: str
    type: SharePointType | None  # None when the service gives no type facet (hyperlink, term, location ...)
    choices: tuple[str, ...] = ()
    multi: bool | None = None  # None when the service does not say (Graph choice columns)
    lookup_list_id: str | None = None
    hidden: bool = False
    read_only: bool = False
    indexed: bool = False
    required: bool = False


@dataclass(frozen=True)
class LiveList:
    id: str  # list GUID
    display_name: str
    name: str  # URL name
    columns: tuple[LiveColumn, ...]

    def column(self, name: str) -> LiveColumn | None:
        """The column with this internal name, or None."""
        return next((column for column in self.columns if column.name == name), None)
