"""State and settings of the emulated Power BI service: workspaces, datasets, tables, rows, refreshes.

Numbers are the documented push-dataset limits (microsoft-apis.md §1.4, §1.5); every behaviour the docs
leave UNCONFIRMED is a field of `PowerBIOptions` with the default named in docs/emulator.md#power-bi.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

RetentionPolicy = Literal["None", "basicFIFO"]
CapacityKind = Literal["shared", "premium"]
# Workspace roles (fabric-docs get-started/roles-workspaces.md): Viewer reads; the others also write items.
GroupRole = Literal["Admin", "Member", "Contributor", "Viewer"]
GROUP_ROLES: tuple[GroupRole, ...] = ("Admin", "Member", "Contributor", "Viewer")
WRITE_ROLES: frozenset[GroupRole] = frozenset({"Admin", "Member", "Contributor"})


@dataclass(frozen=True)
class PowerBIOptions:
    require_auth: bool = True  # False accepts requests without a token (the demo in auth mode `none`)
    # Auth answers (troubleshoot-rest-api: 403 for a wrong Authorization header, an expired token, or a caller
    # who is not a member of the workspace; 401 for a missing permission scope). Codes are UNCONFIRMED.
    missing_token_status: int = 403
    not_authorized_status: int = 403  # non-member, or a Viewer writing; community reports also show 401
    missing_scope_status: int = 401
    # UNCONFIRMED wrong-cluster routing: requests reaching another origin get 307 to this one (§1.6).
    cluster_redirect_origin: str | None = None
    max_rows_per_post: int = 10_000
    max_posts_per_minute: int = 120
    max_posts_per_hour_large_table: int = 120
    large_table_rows: int = 250_000
    max_rows_per_hour: int = 1_000_000
    max_pending_posts: int = 5
    max_string_chars: int = 4_000
    max_tables: int = 75
    max_columns: int = 75
    max_relationships: int = 75
    fifo_keep_rows: int = 200_000  # basicFIFO keeps 200,000 rows, trimming from above 210,000 (§1.3)
    fifo_trim_above_rows: int = 210_000
    max_rows_no_retention: int = 5_000_000
    # UNCONFIRMED status/code for schema and size violations (§1.4 recommendation).
    validation_status: int = 400
    validation_code: str = "InvalidRequest"
    # UNCONFIRMED: a pending-POST overflow is answered like a rate limit.
    pending_status: int = 429
    pending_retry_after_seconds: int = 1
    # UNCONFIRMED: what a row with a key that is no column gets; "reject" (400) or "ignore" (dropped).
    unknown_row_columns: Literal["reject", "ignore"] = "reject"
    # Refreshes (§1.5). `capacity` is the default for workspaces created without one.
    capacity: CapacityKind = "shared"
    # UNCONFIRMED: which history entries count towards 8 a day ("including scheduled refresh"): on-demand
    # refreshes from the service's UI are left out.
    refresh_limit_types: frozenset[str] = frozenset(
        {"Scheduled", "ViaApi", "ViaEnhancedApi", "ViaXmlaEndpoint"}
    )
    refreshes_per_day_shared: int = 8
    refresh_limit_status: int = 400  # UNCONFIRMED; reported as 400 via Invoke-RestMethod
    refresh_conflict_status: int = 400  # 2025 doc says 400; the 2021 preview doc said 409
    refresh_duration_seconds: float = 60.0
    push_refresh: Literal["reject", "accept"] = (
        "reject"  # UNCONFIRMED; push datasets report IsRefreshable false
    )
    push_refresh_status: int = 400
    history_default_top: int = 60


@dataclass
class TableState:
    name: str
    columns: list[dict[str, Any]]
    measures: list[dict[str, Any]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)  # isHidden, description

    def column_types(self) -> dict[str, str]:
        return {str(c["name"]): str(c["dataType"]).lower() for c in self.columns}

    def definition(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name, "columns": self.columns}
        if self.measures:
            body["measures"] = self.measures
        return {**body, **self.extra}


@dataclass
class RefreshState:
    request_id: str
    refresh_type: str
    started: datetime
    duration_seconds: float
    enhanced: bool
    request: dict[str, Any]
    fails_with: dict[str, Any] | None = None
    cancelled_at: datetime | None = None


@dataclass
class DatasetState:
    id: str
    name: str
    push: bool
    retention: RetentionPolicy
    configured_by: str
    created: datetime
    default_mode: str
    tables: dict[str, TableState] = field(default_factory=dict)  # keyed by lower-cased name
    relationships: list[dict[str, Any]] = field(default_factory=list)
    post_times: deque[datetime] = field(default_factory=deque)  # accepted POST rows, last hour
    row_batches: deque[tuple[datetime, int]] = field(default_factory=deque)  # rows added, last hour
    pending_posts: int = 0
    refreshes: list[RefreshState] = field(default_factory=list)  # oldest first
    next_refresh_failure: dict[str, Any] | None = None

    def table(self, name: str) -> TableState | None:
        return self.tables.get(name.lower())


@dataclass
class GroupState:
    id: str
    name: str
    capacity: CapacityKind = "shared"
    members: dict[str, GroupRole] = field(default_factory=dict)  # app (client) id or user UPN, lower-cased
    datasets: dict[str, DatasetState] = field(default_factory=dict)

    def role_of(self, principal: str) -> GroupRole | None:
        return self.members.get(principal.lower())
