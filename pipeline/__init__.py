"""Orchestration the CLI calls: one function per command, plans that `--dry-run` prints and the real run
applies, and progress reported as events that the caller renders (or ignores).

A writing command is planned first, then applied: `plan_init()` and `plan_schema_export()` return a
`Plan` of typed steps; `--dry-run` prints `plan.describe()`, the real run calls `apply(plan)`, which
executes exactly those steps (as sqlite-utils prints its transform SQL, then runs the same statements).
One module per job: progress.py (events), steps.py (Plan and its steps), plans.py (apply and the plans), validation.py, status.py,
refresh.py, publish.py (and published.py: what report and publish build), sync.py (with sync_source, sync_list, sync_checks), check.py, mapping.py, report.py
(with report_pages, report_quality, report_charts, report_html), demo.py, migrate.py (with migrate_rows,
migrate_list, migrate_init, migrate_report). The CLI imports everything from `pipeline`.

The package is lazy (PEP 562): `from pipeline import sync` imports pipeline/sync.py, and what it needs, on
first use, so a process pays only for the commands it runs (`cetk status --help` loads no pandas, pyarrow,
Graph or Power BI client; docs/performance.md, "Start-up"). The names are imported for mypy under
TYPE_CHECKING; EXPORTS says where each lives at run time (tests/test_startup.py checks the two agree).
"""

from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

from config.lazy import lazy_exports

if TYPE_CHECKING:  # the names, for mypy and readers; at run time each is imported on first use
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
    from pipeline.sync import SyncResult, sync
    from pipeline.sync_plan import SyncPlan, plan_sync
    from pipeline.validation import (
        ReportingSource,
        counted,
        parse_as_of,
        raise_if_invalid,
        stable_fingerprinter,
        validate_files,
        validate_sample,
    )

# Each re-exported name -> the module of this package that defines it.
EXPORTS: dict[str, str] = {
    "Check": "check",
    "CheckReport": "check",
    "check": "check",
    "DemoResult": "demo",
    "run_demo": "demo",
    "MappingProposal": "mapping",
    "plan_mapping_propose": "mapping",
    "MigrateOptions": "migrate",
    "MigrationPlan": "migrate",
    "load_mapping_file": "migrate",
    "migrate": "migrate",
    "migrate_forms": "migrate",
    "plan_migrate": "migrate",
    "FormsMappingProposal": "migrate_init",
    "propose_forms_mapping": "migrate_init",
    "MigrateReport": "migrate_report",
    "apply": "plans",
    "plan_init": "plans",
    "plan_schema_export": "plans",
    "DemoStage": "progress",
    "ListSynced": "progress",
    "ListSyncing": "progress",
    "MigrateProgress": "progress",
    "OnProgress": "progress",
    "ProgressEvent": "progress",
    "RefreshPolled": "progress",
    "RowsPosted": "progress",
    "RowsRead": "progress",
    "StepApplied": "progress",
    "Validating": "progress",
    "ignore_progress": "progress",
    "PublishPlanned": "publish",
    "plan_publish": "publish",
    "publish": "publish",
    "publish_staged": "publish",
    "Published": "published",
    "analytics_options": "published",
    "build_published": "published",
    "geography_files": "published",
    "powerbi_client": "refresh",
    "refresh": "refresh",
    "ReportResult": "report",
    "build_report": "report",
    "report": "report",
    "status": "status",
    "Plan": "steps",
    "Step": "steps",
    "WriteFile": "steps",
    "SyncPlan": "sync_plan",
    "SyncResult": "sync",
    "plan_sync": "sync_plan",
    "sync": "sync",
    "ReportingSource": "validation",
    "counted": "validation",
    "parse_as_of": "validation",
    "raise_if_invalid": "validation",
    "stable_fingerprinter": "validation",
    "validate_files": "validation",
    "validate_sample": "validation",
}
# Commands named like their module (pipeline.status.status): `pipeline.status` is the function.
COMMANDS_NAMED_LIKE_THEIR_MODULE = tuple(name for name, module in EXPORTS.items() if name == module)


__getattr__ = lazy_exports(__name__, EXPORTS, globals())  # PEP 562: each name imported on first use


def __dir__() -> list[str]:
    return sorted({*globals(), *EXPORTS})


def _command(name: str) -> property:
    """`pipeline.<name>` as the function pipeline/<name>.py defines, whatever binds the attribute.

    Loading a submodule makes the import system set the package's attribute of that name to the module;
    when the package imported everything, its own `from pipeline.status import status` then put the
    function back. Lazily, a submodule may first be loaded by another module's import, so this property
    ignores the module being bound, and keeps any other value set (as monkeypatch does).
    """

    def get(package: ModuleType) -> Any:
        value = package.__dict__.get(name)
        if value is None or isinstance(value, ModuleType):
            value = getattr(importlib.import_module(f"{__name__}.{name}"), name)
        return value

    def bind(package: ModuleType, value: Any) -> None:
        if not isinstance(value, ModuleType):
            package.__dict__[name] = value

    return property(get, bind)


class _Package(ModuleType):
    """This package's module type: the commands named like their module are properties (see _command)."""


for _name in COMMANDS_NAMED_LIKE_THEIR_MODULE:
    setattr(_Package, _name, _command(_name))
sys.modules[__name__].__class__ = _Package

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
