"""`$select`, `$expand`, `$top` and `$skiptoken` on SharePoint REST list items, and the two query thresholds.

What SharePoint Online refuses, with its status, code and message (sources in docs/emulator.md#sharepoint-rest):
a multi-item read touching more lookup-type columns (lookup, person, managed metadata, Created By,
Modified By, TaxCatchAll) than the lookup column threshold, and a `$top` over the list view threshold.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import unquote

from emulator.core.http import Request, ServiceError
from emulator.lists.store import SpList

LIST_VIEW_THRESHOLD = (
    5000  # items one query may touch (SharePoint limits; O365-3.3.0 sharepoint/thresholds.py)
)
LOOKUP_COLUMN_THRESHOLD = (
    12  # lookup-type columns per multi-item query (sp-dev-docs#1521, UNCONFIRMED number)
)
# "always": any $top over the threshold is refused (PnP-JS-Core#203: "You can't provide $top more than a
# throttling limit"); "large-lists": only on a list holding more items than the threshold. UNCONFIRMED which.
TopPolicy = Literal["always", "large-lists"]
THROTTLED = "Microsoft.SharePoint.SPQueryThrottledException"
# SharePoint Online's wording (vgrem/office365-rest-python-client#758, #804, 2023); on-premises farms
# and older tenants add " enforced by the administrator" to both messages.
LOOKUP_THRESHOLD_ERROR = (
    f"-2147024749, {THROTTLED}",
    "The query cannot be completed because the number of lookup columns it contains exceeds the lookup "
    "column threshold.",
)
LIST_VIEW_THRESHOLD_ERROR = (
    f"-2147024860, {THROTTLED}",
    "The attempted operation is prohibited because it exceeds the list view threshold.",
)
INVALID_QUERY = "-1, Microsoft.SharePoint.Client.InvalidClientQueryException"
NO_SUCH_FIELD = "-1, Microsoft.SharePoint.SPException"
# Lookup-type columns every item has; TaxCatchAll is the hidden lookup into the TaxonomyHiddenList.
BUILT_IN_LOOKUPS = ("Author", "Editor")
TAX_CATCH_ALL = "TaxCatchAll"
LOOKUP_KINDS = frozenset({"lookup", "multilookup", "person", "multiperson", "term", "multiterm"})
_SKIPTOKEN = re.compile(r"^Paged=TRUE&p_ID=(?P<id>\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class Projection:
    """What one item query writes: `select` None is the default projection (every visible column)."""

    select: frozenset[str] | None
    expand: Mapping[str, tuple[str, ...]]  # expanded lookup (or TaxCatchAll) -> the sub-fields selected

    def wants(self, key: str) -> bool:
        return self.select is None or key in self.select


@dataclass(frozen=True)
class Paging:
    top: int
    after_id: int


def read_projection(request: Request, sp_list: SpList) -> Projection:
    """The projection `$select`/`$expand` ask for; a path into a lookup that is not expanded is a 400."""
    expand = {name.strip() for name in (request.param("$expand") or "").split(",") if name.strip()}
    raw_select = request.param("$select")
    tokens = [part.strip() for part in (raw_select or "").split(",") if part.strip()]
    if not tokens or "*" in tokens:
        plain: frozenset[str] | None = None
    else:
        plain = frozenset(token for token in tokens if "/" not in token)
    expanded: dict[str, list[str]] = {name: [] for name in expand}
    for token in tokens:
        if "/" in token:
            base, _, sub = token.partition("/")
            if base not in expanded:
                raise ServiceError(
                    400,
                    INVALID_QUERY,
                    f"The query to field '{token}' is not valid. The $select query string must specify the "
                    f"target fields and the $expand query string must contains {base}.",
                )
            expanded[base].append(sub)
    for name, subs in expanded.items():
        allowed = _sub_fields(sp_list, name)
        for unknown in [name] if allowed is None else [sub for sub in subs if sub not in allowed]:
            raise ServiceError(400, NO_SUCH_FIELD, f"The field or property '{unknown}' does not exist.")
    return Projection(plain, {name: tuple(subs) for name, subs in expanded.items()})


def lookup_columns_touched(sp_list: SpList, projection: Projection) -> list[str]:
    """Each lookup-type column the query reads, once: by its id (`WardId`), a path (`Ward/Title`) or expansion."""
    if projection.select is None:
        touched = [*BUILT_IN_LOOKUPS]
        touched += [c.name for c in sp_list.columns if c.type in LOOKUP_KINDS and not c.hidden]
        return touched + [name for name in projection.expand if name not in touched]
    names = [*BUILT_IN_LOOKUPS, TAX_CATCH_ALL]
    names += [c.name for c in sp_list.columns if c.type in LOOKUP_KINDS]
    return [
        name
        for name in names
        if name in projection.expand or name in projection.select or f"{name}Id" in projection.select
    ]


def check_lookup_threshold(sp_list: SpList, projection: Projection, threshold: int) -> None:
    """More lookup-type columns than the threshold in one multi-item read: SharePoint's 500."""
    if len(lookup_columns_touched(sp_list, projection)) > threshold:
        raise ServiceError(500, *LOOKUP_THRESHOLD_ERROR)


def read_paging(
    request: Request, sp_list: SpList, default_top: int, view_threshold: int, policy: TopPolicy
) -> Paging:
    top = default_top
    raw_top = request.param("$top")
    if raw_top is not None:
        if not raw_top.isdecimal() or int(raw_top) < 1:
            raise ServiceError(400, INVALID_QUERY, f"Invalid $top value '{raw_top}'.")
        top = int(raw_top)
    if top > view_threshold and (policy == "always" or sp_list.live_count > view_threshold):
        raise ServiceError(500, *LIST_VIEW_THRESHOLD_ERROR)
    after = 0
    raw_token = request.param("$skiptoken")
    if raw_token is not None:
        token = _SKIPTOKEN.match(unquote(raw_token))
        if token is None:
            raise ServiceError(400, INVALID_QUERY, f"Invalid $skiptoken '{raw_token}'.")
        after = int(token.group("id"))
    return Paging(top, after)


def _sub_fields(sp_list: SpList, name: str) -> frozenset[str] | None:
    """The fields of the target an expansion may select (the emulator's subset); None: not expandable."""
    column = sp_list.by_name.get(name)
    if name in BUILT_IN_LOOKUPS or (column is not None and column.type in ("person", "multiperson")):
        return frozenset({"Id", "ID", "Title", "EMail"})  # the User Information List
    if column is not None and column.type in ("lookup", "multilookup"):
        return frozenset({"Id", "ID", "Title"})  # the target list's show field is Title here
    if name == TAX_CATCH_ALL and any(c.type in ("term", "multiterm") for c in sp_list.columns):
        return frozenset({"Id", "ID", "Term"})  # the TaxonomyHiddenList
    return None
