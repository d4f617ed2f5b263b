"""The emulated Power BI REST service: push datasets, tables, rows and refreshes in workspaces.

Mounted at `/powerbi` with Microsoft's paths below it (`/v1.0/myorg/groups/{groupId}/datasets...`).
Bodies, limits and errors: microsoft-apis.md §1; defaults for UNCONFIRMED behaviour: PowerBIOptions.
"""

from __future__ import annotations

from emulator.core.http import Request, Response, Router
from emulator.powerbi.access import (
    Access,
    Resource,
    is_service_principal,
    may_see,
    principal,
)
from emulator.powerbi.gate import Handler, PowerBIGate
from emulator.powerbi.limits import check_post_rate, record_post
from emulator.powerbi.model import RetentionPolicy
from emulator.powerbi.refresh import detail, history, start_refresh
from emulator.powerbi.state import group_body, matches_name_filter
from emulator.powerbi.validate import (
    Rejection,
    check_dataset,
    check_properties,
    check_rows,
    check_table,
    invalid,
    request_json,
    rows_request,
)

GROUP = "/v1.0/myorg/groups/{groupId}"
DATASET = GROUP + "/datasets/{datasetId}"
TABLE = DATASET + "/tables/{tableName}"


class PowerBIService(PowerBIGate):
    """The routes and what each does; who may call them, and how refusals look: emulator/powerbi/gate.py."""

    name = "powerbi"  # mounted at PowerBIGate.mount

    # Service protocol ---------------------------------------------------------------------------

    def register(self, router: Router) -> None:
        routes: list[tuple[str, str, Handler, Resource, Access]] = [
            ("GET", "/v1.0/myorg/groups", self._get_groups, "workspace", "read"),
            ("GET", GROUP, self._get_group, "workspace", "read"),
            ("POST", GROUP + "/datasets", self._post_dataset, "dataset", "write"),
            ("GET", GROUP + "/datasets", self._get_datasets, "dataset", "read"),
            ("GET", DATASET, self._get_dataset, "dataset", "read"),
            ("DELETE", DATASET, self._delete_dataset, "dataset", "write"),
            ("GET", DATASET + "/tables", self._get_tables, "dataset", "read"),
            ("PUT", TABLE, self._put_table, "dataset", "write"),
            ("POST", TABLE + "/rows", self._post_rows, "dataset", "write"),
            ("DELETE", TABLE + "/rows", self._delete_rows, "dataset", "write"),
            ("POST", DATASET + "/refreshes", self._post_refresh, "dataset", "write"),
            ("GET", DATASET + "/refreshes", self._get_refreshes, "dataset", "read"),
            ("GET", DATASET + "/refreshes/{refreshId}", self._get_refresh_detail, "dataset", "read"),
            ("DELETE", DATASET + "/refreshes/{refreshId}", self._cancel_refresh, "dataset", "write"),
        ]
        for method, template, handler, resource, access in routes:
            router.add(method, template, self._guard(handler, resource, access))

    # handlers -----------------------------------------------------------------------------------

    def _get_groups(self, request: Request, params: dict[str, str]) -> Response:
        """Groups_GetGroups: the workspaces the caller belongs to (here: every workspace), with $filter on
        name (`name eq '...'`, `contains(name,'...')`), $top and $skip."""
        claims = self._caller(request)
        with self._lock:
            groups = [group_body(group) for group in self._groups.values() if may_see(claims, group)]
        name_filter = request.param("$filter")
        if name_filter:
            groups = [
                group for group in groups if matches_name_filter(name_filter, group["name"], self.options)
            ]
        skip, top = (request.param(name) for name in ("$skip", "$top"))
        for name, text in (("$skip", skip), ("$top", top)):  # int32 in the swagger
            if text is not None and not text.isdecimal():
                raise invalid(self.options, f"{name} must be a whole number, not '{text}'.")
        groups = groups[int(skip or 0) :]
        groups = groups[: int(top)] if top else groups
        context = f"{request.base_url}/v1.0/myorg/$metadata#groups"
        return Response.json(200, {"@odata.context": context, "value": groups})

    def _get_group(self, request: Request, params: dict[str, str]) -> Response:
        """Groups_GetGroup: one workspace (membership was checked by the guard)."""
        with self._lock:
            body = group_body(self._groups[params["groupId"]])
        context = f"{request.base_url}/v1.0/myorg/$metadata#groups/$entity"
        return Response.json(200, {"@odata.context": context, **body})

    def _post_dataset(self, request: Request, params: dict[str, str]) -> Response:
        policy = request.param("defaultRetentionPolicy", "None") or "None"
        policies: dict[str, RetentionPolicy] = {"none": "None", "basicfifo": "basicFIFO"}
        retention = policies.get(policy.lower())
        if retention is None:
            raise invalid(self.options, f"defaultRetentionPolicy '{policy}' is not None or basicFIFO.")
        name, mode, tables, relationships = check_dataset(request_json(request, self.options), self.options)
        claims = self._caller(request)
        owner = principal(claims) if claims is not None else ""
        dataset = self._new_dataset(name, push=True, retention=retention, configured_by=owner, mode=mode)
        dataset.tables = {t.name.lower(): t for t in tables}
        dataset.relationships = relationships
        with self._lock:
            self._groups[params["groupId"]].datasets[dataset.id] = dataset
            body = self._dataset_body(dataset, params["groupId"])
        return Response.json(
            201, {"@odata.context": self._context(request, params, "datasets/$entity"), **body}
        )

    def _get_datasets(self, request: Request, params: dict[str, str]) -> Response:
        values = self.datasets(params["groupId"])
        return Response.json(
            200, {"@odata.context": self._context(request, params, "datasets"), "value": values}
        )

    def _get_dataset(self, request: Request, params: dict[str, str]) -> Response:
        with self._lock:
            body = self._dataset_body(self._dataset(params), params["groupId"])
        return Response.json(
            200, {"@odata.context": self._context(request, params, "datasets/$entity"), **body}
        )

    def _delete_dataset(self, request: Request, params: dict[str, str]) -> Response:
        with self._lock:
            self._dataset(params)
            del self._groups[params["groupId"]].datasets[params["datasetId"]]
        return Response.empty(200)

    def _get_tables(self, request: Request, params: dict[str, str]) -> Response:
        with self._lock:
            dataset = self._push_dataset(params)
            values = [{"name": t.name} for t in dataset.tables.values()]
        return Response.json(
            200, {"@odata.context": self._context(request, params, "tables"), "value": values}
        )

    def _put_table(self, request: Request, params: dict[str, str]) -> Response:
        table = check_table(
            check_properties("Table", request_json(request, self.options), self.options), self.options
        )
        with self._lock:
            existing = self._existing_table(self._push_dataset(params), params["tableName"])
            if table.name.lower() != existing.name.lower():
                raise invalid(self.options, f"The table name in the body must be '{existing.name}'.")
            existing.columns, existing.measures, existing.extra = table.columns, table.measures, table.extra
            return Response.json(200, {"name": existing.name})  # the swagger example answers the name only

    def _post_rows(self, request: Request, params: dict[str, str]) -> Response:
        with self._lock:
            dataset = self._push_dataset(params)
            table = self._existing_table(dataset, params["tableName"])
            if dataset.pending_posts >= self.options.max_pending_posts:
                message = (
                    f"More than {self.options.max_pending_posts} pending POST rows requests for this dataset."
                )
                payload = {"error": {"code": "TooManyRequests", "message": message}}
                raise Rejection(
                    self.options.pending_status, payload, self.options.pending_retry_after_seconds
                )
            dataset.pending_posts += 1
        try:
            if self.rows_hook is not None:
                self.rows_hook()
            body = rows_request(request_json(request, self.options), self.options)
            rows = body.get("rows") or []
            if len(rows) > self.options.max_rows_per_post:
                limit = self.options.max_rows_per_post
                raise invalid(
                    self.options, f"The request has {len(rows)} rows; at most {limit} rows per request."
                )
            with self._lock:
                now = self._clock.now()
                check_post_rate(dataset, len(rows), now, self.options)
                stored = check_rows(rows, table, self.options)
                self._store(dataset, table, stored)
                record_post(dataset, len(rows), now)
        finally:
            with self._lock:
                dataset.pending_posts -= 1
        return Response.empty(200)

    def _delete_rows(self, request: Request, params: dict[str, str]) -> Response:
        with self._lock:
            self._existing_table(self._push_dataset(params), params["tableName"]).rows.clear()
        return Response.empty(200)

    def _post_refresh(self, request: Request, params: dict[str, str]) -> Response:
        body = request_json(request, self.options) if request.body.strip() else None
        service_principal = is_service_principal(self._caller(request))
        with self._lock:
            refresh = start_refresh(
                self._dataset(params),
                body,
                self._clock.now(),
                self.options,
                capacity=self._groups[params["groupId"]].capacity,
                service_principal=service_principal,
            )
        if not refresh.enhanced:
            return Response.empty(202)
        location = (
            f"{request.base_url}{GROUP.format(groupId=params['groupId'])}/datasets/{params['datasetId']}"
        )
        headers = {
            "Location": f"{location}/refreshes/{refresh.request_id}",
            "x-ms-request-id": refresh.request_id,
        }
        return Response.empty(202, headers)

    def _get_refreshes(self, request: Request, params: dict[str, str]) -> Response:
        top_text = request.param("$top", str(self.options.history_default_top)) or ""
        if not top_text.isdecimal() or int(top_text) < 1:
            raise invalid(self.options, "$top must be a whole number of at least 1.")
        with self._lock:
            values = history(self._dataset(params), self._clock.now(), int(top_text))
        return Response.json(
            200, {"@odata.context": self._context(request, params, "refreshes"), "value": values}
        )

    def _get_refresh_detail(self, request: Request, params: dict[str, str]) -> Response:
        with self._lock:
            refresh = self._enhanced_refresh(params)
            status, body = detail(refresh, self._clock.now())
        return Response.json(status, body)

    def _cancel_refresh(self, request: Request, params: dict[str, str]) -> Response:
        with self._lock:
            refresh = self._enhanced_refresh(params)
            refresh.cancelled_at = refresh.cancelled_at or self._clock.now()
        return Response.empty(200)

    # helpers ------------------------------------------------------------------------------------

    def _context(self, request: Request, params: dict[str, str], entity: str) -> str:
        return f"{request.base_url}{GROUP.format(groupId=params['groupId'])}/$metadata#{entity}"
