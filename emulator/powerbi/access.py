"""Who may call the emulated Power BI: the token, a user's permission scopes, workspace membership and role.

troubleshoot-rest-api.md (microsoft-apis.md §1.6): 403 for a missing or malformed Authorization header, an
expired token, or a caller who is not a member of the workspace or lacks the rights there; 401 for a missing
permission scope. A service principal signs in app-only (no `scp`; it holds no Power BI API permissions,
reliability-security.md): what it may do is its workspace role. Viewers read; Contributors and above write.
"""

from __future__ import annotations

from typing import Literal

from emulator.core.tokens import Claims, TokenProblem
from emulator.powerbi.model import WRITE_ROLES, GroupState, PowerBIOptions
from emulator.powerbi.validate import Rejection

Access = Literal["read", "write"]
Resource = Literal["workspace", "dataset"]
# The swagger's "Required Scope" of each operation family, for delegated (user) tokens.
SCOPES: dict[tuple[Resource, Access], frozenset[str]] = {
    ("workspace", "read"): frozenset({"Workspace.Read.All", "Workspace.ReadWrite.All"}),
    ("dataset", "read"): frozenset({"Dataset.Read.All", "Dataset.ReadWrite.All"}),
    ("dataset", "write"): frozenset({"Dataset.ReadWrite.All"}),
}
EXPIRED_MESSAGE = "Access token has expired, resubmit with a new access token"


def principal(claims: Claims) -> str:
    """The identity a workspace grants roles to: a user's UPN, or an app's client id."""
    upn = claims.raw.get("upn")
    return str(upn) if claims.is_delegated and upn else claims.client_id


def is_service_principal(claims: Claims | None) -> bool:
    """An app-only token (client credentials); None (no token, auth off) is unknown, so not one."""
    return claims is not None and not claims.is_delegated


def caller(verdict: Claims | TokenProblem | None, options: PowerBIOptions) -> Claims | None:
    """The caller's claims (None: no token, and none needed), or the Rejection a bad token gets."""
    if verdict is None or isinstance(verdict, Claims):
        return verdict
    if verdict == "expired":
        raise _error(403, "TokenExpired", EXPIRED_MESSAGE)
    if verdict == "missing":
        message = "The Authorization header is missing or is not of the form 'Bearer <access token>'."
        raise _error(options.missing_token_status, "Forbidden", message)
    raise _error(403, "Forbidden", f"The access token is not valid ({verdict}).")


def check_scope(claims: Claims | None, resource: Resource, access: Access, options: PowerBIOptions) -> None:
    """A user's token must carry one of the operation's scopes; app-only tokens carry none and need none."""
    if claims is None or not claims.is_delegated:
        return
    granted = set(str(claims.raw.get("scp", "")).split())
    # Entra ID expands `.default` to the delegated permissions consented for the app; the emulated sign-in
    # models no consent and passes `.default` through, which stands for all of them here.
    if ".default" not in granted and not granted & SCOPES[(resource, access)]:
        raise not_authorized(options.missing_scope_status)


def check_role(claims: Claims | None, group: GroupState, access: Access, options: PowerBIOptions) -> None:
    """The caller must be a member of the workspace, and more than a Viewer to write."""
    if claims is None:
        return
    role = group.role_of(principal(claims))
    if role is None or (access == "write" and role not in WRITE_ROLES):
        raise not_authorized(options.not_authorized_status)


def may_see(claims: Claims | None, group: GroupState) -> bool:
    """Groups_GetGroups lists only the workspaces the caller has a role in."""
    return claims is None or group.role_of(principal(claims)) is not None


def not_authorized(status: int) -> Rejection:
    """PowerBINotAuthorizedException in the `pbi.error` shape (MicrosoftDocs/powerbi-docs#1109, #3234)."""
    code = "PowerBINotAuthorizedException"
    pbi = {"code": code, "parameters": {}, "details": [], "exceptionCulprit": 1}
    return Rejection(status, {"error": {"code": code, "pbi.error": pbi}})


def _error(status: int, code: str, message: str) -> Rejection:
    return Rejection(status, {"error": {"code": code, "message": message}})
