"""Apps registered with the emulated Entra ID, and which resource a scope or token audience names."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

from cryptography import x509

from emulator.core.tokens import GRAPH_AUDIENCE, POWERBI_AUDIENCE

# The resources an app's application permissions are granted on, by the name cetk's config uses.
AppResource = Literal["graph", "sharepoint", "powerbi"]
APP_RESOURCES: tuple[AppResource, ...] = get_args(AppResource)


@dataclass(frozen=True)
class RegisteredApp:
    client_id: str
    secret: str | None
    certificate: x509.Certificate | None
    public_client: bool
    roles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # resource -> application permissions

    def roles_for(self, audience: str) -> tuple[str, ...]:
        """The application permissions admin-consented on the resource a token is for."""
        return self.roles.get(resource_of(audience), ())


def resource_of(audience: str) -> AppResource:
    if audience == GRAPH_AUDIENCE:
        return "graph"
    return "powerbi" if audience == POWERBI_AUDIENCE else "sharepoint"


def audience_for_scope(scope: str) -> str | None:
    """The resource a scope belongs to: Graph, Power BI or a SharePoint host; None if unknown."""
    if scope.startswith("https://"):
        resource = scope.rsplit("/", 1)[0] if scope.count("/") > 2 else scope
        if resource.startswith(POWERBI_AUDIENCE):
            return POWERBI_AUDIENCE
        if resource == GRAPH_AUDIENCE:
            return GRAPH_AUDIENCE
        host = resource[len("https://") :]
        return resource if host.endswith(".sharepoint.com") and "/" not in host else None
    return GRAPH_AUDIENCE if scope and "/" not in scope else None  # bare delegated names are Graph's
