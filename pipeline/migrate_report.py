"""What `cetk migrate forms` did: counts that add up, quarantined responses by rule, and the exit code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from errors import ExitCode
from pipeline.migrate_rows import ExportRead

Target = Literal["staging", "list"]


@dataclass(frozen=True)
class MigrateReport:
    target: Target
    dry_run: bool
    files: tuple[ExportRead, ...]
    read: int
    mapped: int
    quarantined: int
    quarantined_by_rule: dict[str, int]
    written: int
    duplicates: int  # in-run duplicates plus responses already in the target
    duplicates_in_exports: int
    already_present: int
    failed: int = 0  # refused by the service for good (listed in the quarantine file too)
    bridge_rows_written: int = 0
    quarantine_file: str | None = None

    @property
    def exit_code(self) -> ExitCode:
        """OK: all written or already there; DATA_PROBLEMS: some quarantined; FAILED: some refused."""
        if self.failed:
            return ExitCode.FAILED
        return ExitCode.DATA_PROBLEMS if self.quarantined else ExitCode.OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target, "dry_run": self.dry_run,
            "files": [{"file": f.file, "form": f.form, "rows": f.rows, "notes": list(f.notes)} for f in self.files],
            "read": self.read, "mapped": self.mapped, "quarantined": self.quarantined,
            "quarantined_by_rule": self.quarantined_by_rule, "written": self.written,
            "duplicates": self.duplicates, "duplicates_in_exports": self.duplicates_in_exports,
            "already_present": self.already_present, "failed": self.failed,
            "bridge_rows_written": self.bridge_rows_written, "quarantine_file": self.quarantine_file,
            "exit_code": int(self.exit_code),
        }  # fmt: skip

    def describe(self) -> str:
        verb = "Would write" if self.dry_run else "Wrote"
        rules = ", ".join(f"{code} {count}" for code, count in self.quarantined_by_rule.items()) or "none"
        lines = [
            f"Read {self.read} response(s) from {len(self.files)} export(s); {self.mapped} mapped and valid.",
            f"{verb} {self.written} to {self.target}; skipped {self.duplicates} duplicate(s) "
            f"({self.duplicates_in_exports} in the exports, {self.already_present} already there).",
            f"Quarantined {self.quarantined} (by rule: {rules}).",
        ]
        if self.failed:
            lines.append(f"Refused by the service: {self.failed} (see the quarantine file).")
        if self.quarantine_file:
            lines.append(f"Quarantine list: {self.quarantine_file}")
        return "\n".join(lines)
