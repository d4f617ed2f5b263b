"""The values a plan is made of: typed steps and the Plan that `--dry-run` prints and `apply()` runs."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from errors import CetkError
from powerbi_dataset.publish_steps import PublishStep


@dataclass(frozen=True)
class WriteFile:
    """Write `content` to `path`, creating the file or replacing the one there when planned."""

    path: Path
    content: bytes = field(repr=False)
    replace: bool  # the file existed when planned
    what: str  # what the content is, for people: "powerbi", "the annotated example config"
    error: type[CetkError] = CetkError  # raised, naming the path, when the write fails

    @property
    def action(self) -> str:
        return "replace" if self.replace else "create"

    def describe(self) -> str:
        return f"Would {self.action} {self.path} ({len(self.content)} bytes of {self.what})."

    def done(self) -> str:
        return f"Wrote {self.path}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "step": "write_file",
            "action": self.action,
            "path": str(self.path),
            "bytes": len(self.content),
            "sha256": hashlib.sha256(self.content).hexdigest(),
            "what": self.what,
        }


Step = WriteFile | PublishStep  # publish steps (powerbi_dataset/publish_steps.py) apply themselves


@dataclass(frozen=True)
class Plan:
    """What a writing command will do, step by step: printed by --dry-run, executed by apply()."""

    steps: tuple[Step, ...]
    notes: tuple[str, ...] = ()  # said after the steps (e.g. tables left as they are)

    def describe(self) -> str:
        lines = [step.describe() for step in self.steps] or ["Nothing to do."]
        return "\n".join([*lines, *self.notes])

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"steps": [step.to_dict() for step in self.steps]}
        if self.notes:
            body["notes"] = list(self.notes)
        return body
