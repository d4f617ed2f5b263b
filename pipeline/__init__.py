"""Orchestration the CLI calls: one function per command, plans that `--dry-run` prints and the real run
applies, and progress reported as events that the caller renders (or ignores).

A writing command is planned first, then applied: `plan_init()` and `plan_schema_export()` return a
`Plan` of typed steps; `--dry-run` prints `plan.describe()`, the real run calls `apply(plan)`, which
executes exactly those steps (as sqlite-utils prints its transform SQL, then runs the same statements).
One module per job: progress.py (events), steps.py (Plan and its steps), plans.py (apply and the plans), validation.py, status.py,
refresh.py, publish.py (and published.py: what report and publish build), sync.py (with sync_source, sync_list, sync_checks), check.py, mapping.py, report.py
(with report_pages, report_quality, report_charts, report_html), demo.py, migrate.py (with migrate_rows,
migrate_list, migrate_init, migrate_report). The CLI imports everything from `pipeline`.
"""

from __future__ import annotations

from pipeline.check import Check, CheckReport, check
from pipeline.demo import DemoResult, run_demo
from pipeline.mapping import MappingProposal, plan_mapping_propose
from pipeline.migrate import (
    MigrateOptions,
    MigrationPlan,
    load_mapping_file,
    migrate,
    migrate_forms,
    plan_migrate,
)
from pipeline.migrate_init import FormsMappingProposal, propose_forms_mapping
from pipeline.migrate_report import MigrateReport
from pipeline.plans import apply, plan_init, plan_schema_export
from pipeline.progress import (
    DemoStage,
    ListSynced,
    ListSyncing,
    MigrateProgress,
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
from pipeline.published import Published, analytics_options, build_published, geography_files
from pipeline.refresh import powerbi_client, refresh
from pipeline.report import ReportResult, build_report, report
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
    "DemoResult",
    "DemoStage",
    "run_demo",
    "apply",
    "check",
    "Check",
    "CheckReport",
    "MappingProposal",
    "plan_mapping_propose",
    "counted",
    "FormsMappingProposal",
    "load_mapping_file",
    "migrate",
    "migrate_forms",
    "MigrateOptions",
    "MigrateProgress",
    "MigrateReport",
    "MigrationPlan",
    "plan_migrate",
    "propose_forms_mapping",
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
    "report",
    "Published",
    "analytics_options",
    "build_published",
    "geography_files",
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
