"""`/sites/{site-id}/permissions`: the grants that let a `Sites.Selected` app read or write one site.

Shapes from the Graph docs (site-post-permissions.md): the body names `roles` and the application in
`grantedToIdentities`; the answer is 201 with the permission, its `grantedToIdentities` (deprecated, with
its `@deprecated.GrantedToIdentities` notice) and `grantedToIdentitiesV2`.
"""

from __future__ import annotations

from typing import Any

from emulator.core.http import Request, Response, ServiceError
from emulator.lists.grants import SITE_ROLES, SiteGrant, SiteGrants
from emulator.lists.store import Site

DEPRECATION = "GrantedToIdentities has been deprecated. Refer to GrantedToIdentitiesV2"


class PermissionsEndpoint:
    """List and create a site's application permissions (the caller's right to do so is checked before)."""

    def __init__(self, grants: SiteGrants) -> None:
        self.grants = grants

    def list(self, request: Request, site: Site) -> Response:
        context = f"{request.base_url}/v1.0/$metadata#sites('{site.id}')/permissions"
        value = [permission_json(grant) for grant in self.grants.of_site(site.id)]
        return Response.json(200, {"@odata.context": context, "value": value})

    def create(self, request: Request, site: Site) -> Response:
        body = _json_object(request)
        roles = body.get("roles")
        if not isinstance(roles, list) or not roles or any(role not in SITE_ROLES for role in roles):
            raise ServiceError(
                400, "invalidRequest", f"Invalid value for 'roles': use one of {', '.join(SITE_ROLES)}."
            )
        identities = body.get("grantedToIdentities") or body.get("grantedToIdentitiesV2")
        application = _application(identities)
        grant = self.grants.grant(
            site.id, application["id"], roles, display_name=str(application.get("displayName") or "")
        )
        return Response.json(201, permission_json(grant))


def permission_json(grant: SiteGrant) -> dict[str, Any]:
    identity = [{"application": {"id": grant.app_id, "displayName": grant.app_display_name}}]
    return {
        "id": grant.id,
        "@deprecated.GrantedToIdentities": DEPRECATION,
        "roles": list(grant.roles),
        "grantedToIdentities": identity,
        "grantedToIdentitiesV2": identity,
    }


def _application(identities: Any) -> dict[str, Any]:
    if isinstance(identities, list) and len(identities) == 1 and isinstance(identities[0], dict):
        application = identities[0].get("application")
        if isinstance(application, dict) and isinstance(application.get("id"), str) and application["id"]:
            return application
    raise ServiceError(
        400,
        "invalidRequest",
        "Only application permissions can be created: name one application in 'grantedToIdentities'.",
    )


def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError as error:
        raise ServiceError(400, "invalidRequest", "The request body is not valid JSON.") from error
    if not isinstance(body, dict):
        raise ServiceError(400, "invalidRequest", "The request body must be a JSON object.")
    return body
