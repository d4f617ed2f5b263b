"""Plans that `--dry-run` prints and the real run applies: typed steps, executed exactly as planned.

A writing command is planned first, then applied (as sqlite-utils prints its transform SQL, then runs
the same statements): `plan_init()` and `plan_schema_export()` return a `Plan`; `apply(plan)` runs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from config.files import default_config_path
from config.report import example_config_text
from errors import ConfigError
from pipeline.progress import OnProgress, StepApplied, ignore_progress
from pipeline.steps import Plan, Step, WriteFile
from powerbi_dataset.export import ArrowPurpose, ExportFormat, export_text


def apply(plan: Plan, on_progress: OnProgress = ignore_progress) -> tuple[Step, ...]:
    """Execute exactly the plan's steps, in order; returns the steps done."""
    for step in plan.steps:
        if isinstance(step, WriteFile):
            _write(step)
        else:
            step.apply()  # a publish step (powerbi_dataset/publish_steps.py) applies itself
        on_progress(StepApplied(step))
    return plan.steps


def _write(step: WriteFile) -> None:
    try:
        step.path.write_bytes(step.content)
    except OSError as exc:
        raise step.error(f"cannot write {step.path}: {exc.strerror}", hint="choose a writable path") from None


def plan_init(path: Path | None, environ: Mapping[str, str], *, force: bool = False) -> Plan:
    """`cetk init`: write the annotated example config to `path` (default CETK_CONFIG, else ./cetk.yaml)."""
    target = path or default_config_path(environ)
    if target.is_dir():
        raise ConfigError(
            f"{target} is a directory", hint=f"name the file to write, e.g. {target / 'cetk.yaml'}"
        )
    if target.exists() and not force:
        raise ConfigError(f"{target} already exists; not overwriting it", hint="pass --force to replace it")
    if not target.parent.exists():
        raise ConfigError(
            f"directory {target.parent} does not exist", hint="create it first or choose another path"
        )
    content = example_config_text().encode("utf-8")
    step = WriteFile(target, content, target.exists(), "the annotated example config", error=ConfigError)
    return Plan((step,))


def plan_schema_export(export_format: ExportFormat, purpose: ArrowPurpose, output: Path) -> Plan:
    """`cetk schema export --output`: write the exported model (replacing a file there: it is generated)."""
    content = export_text(export_format, purpose).encode("utf-8")
    return Plan((WriteFile(output, content, output.exists(), export_format.value),))
