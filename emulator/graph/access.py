"""Who may do what on Graph's sites: the token's `roles` (application permissions) and per-site grants.

Application tokens carry the permissions admin-consented for Graph as `roles`. `Sites.Read.All` and up reach
every site; `Sites.Selected` reaches only sites an admin granted the app (`POST /sites/{id}/permissions`),
`read` for reads and `write` (or `manage`, `fullcontrol`) for writes. A token with neither `roles` nor `scp`
is refused, as Graph refuses it. Delegated tokens (`scp`) pass: user permissions are not emulated.
"""

from __future__ import annotations

from dataclasses import dataclass

from emulator.core.http import ServiceError
from emulator.core.tokens import Claims
from emulator.lists.grants import SiteGrants

SELECTED = "Sites.Selected"
READ_ALL_ROLES = frozenset(
    {"Sites.Read.All", "Sites.ReadWrite.All", "Sites.Manage.All", "Sites.FullControl.All"}
)
WRITE_ALL_ROLES = frozenset({"Sites.ReadWrite.All", "Sites.Manage.All", "Sites.FullControl.All"})
FULL_CONTROL_ROLE = (
    "Sites.FullControl.All"  # needed to grant Sites.Selected apps a site (site-post-permissions)
)
# Reported for tokens without roles or scp (global-sharepoint.com, 2025; the same text on many forums).
NO_ROLES_MESSAGE = "Either scp or roles claim need to be present in the token."
ACCESS_DENIED = "Access denied"


@dataclass(frozen=True)
class Caller:
    """The app (or user, or nobody in auth mode none) behind one request."""

    app_id: str | None
    roles: frozenset[str]
    unrestricted: bool  # no token needed (auth mode none) or a delegated user token

    @classmethod
    def anonymous(cls) -> Caller:
        return cls(None, frozenset(), True)

    @classmethod
    def from_claims(cls, claims: Claims) -> Caller:
        if claims.is_delegated:
            return cls(claims.client_id, frozenset(), True)
        if not claims.roles:
            raise ServiceError(401, "AccessDenied", NO_ROLES_MESSAGE)
        return cls(claims.client_id, claims.roles, False)

    def require_site(self, grants: SiteGrants, site_id: str, *, write: bool) -> None:
        """403 accessDenied unless the roles, or the app's grant on this site, allow the read or write."""
        if self.unrestricted:
            return
        if (WRITE_ALL_ROLES if write else READ_ALL_ROLES) & self.roles:
            return
        if SELECTED in self.roles and self.app_id is not None:
            allowed = grants.may_write if write else grants.may_read
            if allowed(site_id, self.app_id):
                return
        raise ServiceError(403, "accessDenied", ACCESS_DENIED)

    def require_full_control(self, grants: SiteGrants, site_id: str) -> None:
        """Managing a site's permissions needs Sites.FullControl.All (or a fullcontrol grant on the site)."""
        if self.unrestricted or FULL_CONTROL_ROLE in self.roles:
            return
        if SELECTED in self.roles and self.app_id and "fullcontrol" in grants.roles(site_id, self.app_id):
            return
        raise ServiceError(403, "accessDenied", ACCESS_DENIED)
