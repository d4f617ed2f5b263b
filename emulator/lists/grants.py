"""Per-site grants for apps holding `Sites.Selected`: what `POST /sites/{site-id}/permissions` creates.

An app with the application permission `Sites.Selected` may touch a site only once an admin has granted it
a role there (reliability-security.md, least privilege): `read` lets it read, `write` (and the stronger
`manage`, `fullcontrol`) lets it write as well. The grants belong to the site, so Graph and SharePoint REST
share them through the list store.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal, get_args

SiteRole = Literal["read", "write", "manage", "fullcontrol"]
SITE_ROLES: tuple[SiteRole, ...] = get_args(SiteRole)
READ_GRANTS: frozenset[str] = frozenset(SITE_ROLES)
WRITE_GRANTS: frozenset[str] = frozenset({"write", "manage", "fullcontrol"})


@dataclass(frozen=True)
class SiteGrant:
    """One permission on a site: the roles an application holds there."""

    id: str
    site_id: str
    app_id: str
    app_display_name: str
    roles: tuple[SiteRole, ...]


class SiteGrants:
    """The application permissions granted per site (site id -> grants), thread-safe."""

    def __init__(self) -> None:
        self._grants: dict[str, list[SiteGrant]] = {}
        self._lock = threading.Lock()

    def grant(self, site_id: str, app_id: str, roles: Iterable[str], *, display_name: str = "") -> SiteGrant:
        """Add a grant (as an admin's POST /sites/{site-id}/permissions would); unknown roles are a ValueError."""
        wanted = tuple(roles)
        unknown = [role for role in wanted if role not in SITE_ROLES]
        if unknown or not wanted:
            raise ValueError(f"site roles must be among {', '.join(SITE_ROLES)}; got {wanted!r}")
        with self._lock:
            existing = self._grants.setdefault(site_id, [])
            grant = SiteGrant(str(len(existing) + 1), site_id, app_id, display_name, wanted)  # type: ignore[arg-type]
            existing.append(grant)
        return grant

    def of_site(self, site_id: str) -> list[SiteGrant]:
        with self._lock:
            return list(self._grants.get(site_id, []))

    def roles(self, site_id: str, app_id: str) -> frozenset[str]:
        """Every role the app holds on the site, over all its grants there."""
        return frozenset(
            role for grant in self.of_site(site_id) if grant.app_id == app_id for role in grant.roles
        )

    def may_read(self, site_id: str, app_id: str) -> bool:
        return bool(self.roles(site_id, app_id) & READ_GRANTS)

    def may_write(self, site_id: str, app_id: str) -> bool:
        return bool(self.roles(site_id, app_id) & WRITE_GRANTS)
