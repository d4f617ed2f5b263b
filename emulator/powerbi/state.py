"""Workspaces, datasets and rows of the emulated Power BI service, with the inspection API tests use.

`PowerBIService` (emulator/powerbi.py) adds the REST routes on top of this state.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from emulator.core.clock import Clock
from emulator.powerbi.model import (
    GROUP_ROLES,
    CapacityKind,
    DatasetState,
    GroupRole,
    GroupState,
    PowerBIOptions,
    RefreshState,
    RetentionPolicy,
    TableState,
)
from emulator.powerbi.refresh import history, stamp
from emulator.powerbi.validate import Rejection, invalid


def not_found_rejection() -> Rejection:
    code = "PowerBIEntityNotFound"
    pbi = {"code": code, "parameters": {}, "details": [], "exceptionCulprit": 1}
    return Rejection(404, {"error": {"code": code, "pbi.error": pbi}})


def _item_not_found(message: str) -> Rejection:
    return Rejection(404, {"error": {"code": "ItemNotFound", "message": message}})


class PowerBIState:
    def __init__(self, clock: Clock, options: PowerBIOptions | None = None) -> None:
        self._clock = clock
        self.options = options or PowerBIOptions()
        self._groups: dict[str, GroupState] = {}
        self._lock = threading.RLock()

    # inspection API -----------------------------------------------------------------------------

    def create_group(
        self,
        name: str,
        *,
        capacity: CapacityKind | None = None,
        members: Mapping[str, GroupRole] | None = None,
    ) -> str:
        """A workspace on shared or Premium capacity (default: the options'), with its members and roles."""
        group_id = str(uuid.uuid4())
        with self._lock:
            self._groups[group_id] = GroupState(group_id, name, capacity or self.options.capacity)
        for principal, role in (members or {}).items():
            self.add_member(group_id, principal, role)
        return group_id

    def add_member(self, group_id: str, principal: str, role: GroupRole) -> None:
        """Give an app (its client id) or a user (UPN) a role in a workspace, as Groups_AddGroupUser does."""
        if role not in GROUP_ROLES:
            raise ValueError(f"workspace role {role!r} is not one of {', '.join(GROUP_ROLES)}")
        with self._lock:
            self._groups[group_id].members[principal.lower()] = role

    def datasets(self, group_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return [self._dataset_body(d, group_id) for d in self._groups[group_id].datasets.values()]

    def add_import_dataset(self, group_id: str, name: str) -> str:
        """An import-mode (refreshable, not push) dataset, as Power BI Desktop would publish."""
        dataset = self._new_dataset(
            name, push=False, retention="None", configured_by="emulator", mode="AsAzure"
        )
        with self._lock:
            self._groups[group_id].datasets[dataset.id] = dataset
        return dataset.id

    def rows(self, group_id: str, dataset_id: str, table: str) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._table(group_id, dataset_id, table).rows]

    def load_rows(self, group_id: str, dataset_id: str, table: str, rows: list[dict[str, Any]]) -> None:
        """Put rows straight into a table, skipping checks and limits (fast test set-up)."""
        with self._lock:
            self._table(group_id, dataset_id, table).rows.extend(rows)

    def refresh_history(self, group_id: str, dataset_id: str) -> list[dict[str, Any]]:
        with self._lock:
            return history(self._groups[group_id].datasets[dataset_id], self._clock.now(), 10_000)

    def record_refresh(
        self,
        group_id: str,
        dataset_id: str,
        *,
        started: datetime,
        refresh_type: str = "Scheduled",
        duration_seconds: float | None = None,
        error_code: str | None = None,
    ) -> str:
        """Put a refresh into the history as the service's scheduler (or a person) would have run it."""
        refresh = RefreshState(
            request_id=str(uuid.uuid4()),
            refresh_type=refresh_type,
            started=started,
            duration_seconds=(
                self.options.refresh_duration_seconds if duration_seconds is None else duration_seconds
            ),
            enhanced=False,
            request={},
            fails_with={"errorCode": error_code} if error_code else None,
        )
        with self._lock:
            refreshes = self._groups[group_id].datasets[dataset_id].refreshes
            refreshes.append(refresh)
            refreshes.sort(key=lambda item: item.started)
        return refresh.request_id

    def fail_next_refresh(
        self, group_id: str, dataset_id: str, error_code: str = "ModelRefreshFailed"
    ) -> None:
        with self._lock:
            self._groups[group_id].datasets[dataset_id].next_refresh_failure = {"errorCode": error_code}

    def _store(self, dataset: DatasetState, table: TableState, rows: list[dict[str, Any]]) -> None:
        if dataset.retention == "None" and len(table.rows) + len(rows) > self.options.max_rows_no_retention:
            limit = self.options.max_rows_no_retention
            raise invalid(
                self.options, f"Table '{table.name}' would exceed {limit} rows (retention policy None)."
            )
        table.rows.extend(rows)
        if dataset.retention == "basicFIFO" and len(table.rows) > self.options.fifo_trim_above_rows:
            del table.rows[: len(table.rows) - self.options.fifo_keep_rows]

    def _new_dataset(
        self, name: str, *, push: bool, retention: RetentionPolicy, configured_by: str, mode: str
    ) -> DatasetState:
        return DatasetState(str(uuid.uuid4()), name, push, retention, configured_by, self._clock.now(), mode)

    def _dataset_body(self, dataset: DatasetState, group_id: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": dataset.id,
            "name": dataset.name,
            "webUrl": f"https://app.powerbi.com/groups/{group_id}/datasets/{dataset.id}",
            "addRowsAPIEnabled": dataset.push,
            "configuredBy": dataset.configured_by,
            "isRefreshable": not dataset.push,
            "isEffectiveIdentityRequired": False,
            "isEffectiveIdentityRolesRequired": False,
            "isOnPremGatewayRequired": False,
            "createdDate": stamp(dataset.created),
        }
        if dataset.push:
            body["defaultRetentionPolicy"] = dataset.retention
        return body

    def _dataset(self, params: dict[str, str]) -> DatasetState:
        dataset = self._groups[params["groupId"]].datasets.get(params["datasetId"])
        if dataset is None:
            raise not_found_rejection()
        return dataset

    def _push_dataset(self, params: dict[str, str]) -> DatasetState:
        dataset = self._dataset(params)
        if not dataset.push:
            raise _item_not_found(f"Dataset {dataset.id} is not Push API dataset.")
        return dataset

    def _existing_table(self, dataset: DatasetState, name: str) -> TableState:
        table = dataset.table(name)
        if table is None:
            raise _item_not_found(f"Table '<pi>{name}</pi>' not found in dataset '<pi>{dataset.id}</pi>'")
        return table

    def _table(self, group_id: str, dataset_id: str, name: str) -> TableState:
        return self._existing_table(self._groups[group_id].datasets[dataset_id], name)

    def _enhanced_refresh(self, params: dict[str, str]) -> RefreshState:
        for refresh in self._dataset(params).refreshes:
            if refresh.request_id == params["refreshId"] and refresh.enhanced:
                return refresh
        raise not_found_rejection()


def group_body(group: GroupState) -> dict[str, Any]:
    """A workspace as Groups_GetGroups lists it (swagger examples; Premium ones carry a capacityId)."""
    body: dict[str, Any] = {
        "id": group.id,
        "isReadOnly": False,
        "isOnDedicatedCapacity": group.capacity == "premium",
        "name": group.name,
    }
    if group.capacity == "premium":
        body["capacityId"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"capacity:{group.id}"))
    return body


_NAME_FILTER = re.compile(
    r"^\s*(?:name\s+eq\s+'(?P<eq>[^']*)'|contains\(name,\s*'(?P<contains>[^']*)'\))\s*$"
)


def matches_name_filter(expression: str, name: str, options: PowerBIOptions) -> bool:
    """The two $filter forms the swagger's examples use on workspace names; anything else is refused."""
    found = _NAME_FILTER.match(expression)
    if found is None:
        raise invalid(options, f"The $filter expression '{expression}' is not supported by the emulator.")
    if found.group("eq") is not None:
        return name == found.group("eq")
    return found.group("contains") in name
