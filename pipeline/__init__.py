"""Orchestration the CLI calls: one function per command, plans that `--dry-run` prints and the real run
applies, and progress reported as events that the caller renders (or ignores).

A writing command is planned first, then applied: `plan_init()` and `plan_schema_export()` return a
`Plan` of typed steps; `--dry-run` prints `plan.describe()`, the real run calls `apply(plan)`, which
executes exactly those steps (as sqlite-utils prints its transform SQL, then runs the same statements).
One module per job: progress.py (events), steps.py (Plan and its steps), plans.py (apply and the plans), validation.py, status.py,
refresh.py, publish.py, sync.py (with sync_source, sync_list, sync_checks), check.py, mapping.py, report.py
(with report_pages, report_quality, report_charts, report_html); migrate joins them.
The CLI imports everything from `pipeline`.
"""

from __future__ import annotations

from pipeline.check import Check, CheckReport, check
from pipeline.mapping import MappingProposal, plan_mapping_propose
from pipeline.plans import apply, plan_init, plan_schema_export
from pipeline.progress import (
    ListSynced,
    ListSyncing,
    OnProgress,
    ProgressEvent,
    RefreshPolled,
    RowsPosted,
    RowsRead,
    StepApplied,
    Validating,
    ignore_progress,
)
from pipeline.publish import PublishPlanned, plan_publish, publish, publish_staged
from pipeline.refresh import powerbi_client, refresh
from pipeline.report import ReportResult, build_report
from pipeline.status import status
from pipeline.steps import Plan, Step, WriteFile
from pipeline.sync import SyncPlan, SyncResult, plan_sync, sync
from pipeline.validation import (
    ReportingSource,
    counted,
    parse_as_of,
    raise_if_invalid,
    stable_fingerprinter,
    validate_files,
    validate_sample,
)

__all__ = [
    "apply",
    "check",
    "Check",
    "CheckReport",
    "MappingProposal",
    "plan_mapping_propose",
    "counted",
    "ignore_progress",
    "OnProgress",
    "parse_as_of",
    "Plan",
    "plan_init",
    "plan_publish",
    "plan_schema_export",
    "powerbi_client",
    "publish",
    "publish_staged",
    "PublishPlanned",
    "ProgressEvent",
    "raise_if_invalid",
    "refresh",
    "build_report",
    "ReportResult",
    "RefreshPolled",
    "ReportingSource",
    "RowsPosted",
    "RowsRead",
    "stable_fingerprinter",
    "status",
    "Step",
    "StepApplied",
    "sync",
    "SyncPlan",
    "SyncResult",
    "plan_sync",
    "ListSynced",
    "ListSyncing",
    "validate_files",
    "validate_sample",
    "Validating",
    "WriteFile",
]
