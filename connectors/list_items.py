"""What both list connectors (Graph, SharePoint REST) yield: a site, and pages of Graph-shaped list items.

An item is `{"id": "12", "@odata.etag"/"eTag", "createdDateTime", "lastModifiedDateTime", "fields": {...}}`
with values in the shapes of transforms/sharepoint_fields.py FIELD_SHAPES; a delta deletion is
`{"id": "3", "deleted": {"state": "deleted"}}` with no fields (docs/connectors.md, ISSUE8-CONTRACT §2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ItemPage", "Site"]


@dataclass(frozen=True)
class Site:
    id: str  # Graph's composite "{hostname},{siteCollectionGuid},{webGuid}"
    web_url: str
    display_name: str


@dataclass(frozen=True)
class ItemPage:
    list_id: str
    items: list[dict[str, Any]]
    delta_link: str | None = None  # set on the LAST page of a delta enumeration
    # True when this read enumerates the whole list (first delta run, a 410 resync restart, or a plain full
    # read): items absent from a full enumeration are deleted at source.
    full_enumeration: bool = False
