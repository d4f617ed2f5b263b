"""`cetk mapping propose`: read the site's lists and their columns, propose a mapping file (each entry with
a confidence) for a person to review, and plan writing it (docs/mapping.md)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from config.settings import Settings
from connectors.auth import SignIn
from errors import ConfigError
from pipeline.steps import Plan, WriteFile
from pipeline.sync_source import open_source
from transforms.list_mapping import dump_mapping
from transforms.mapping_propose import Proposal, propose


@dataclass(frozen=True)
class MappingProposal:
    """The proposal and the plan that writes it (`--dry-run` prints the plan, the run applies it)."""

    proposal: Proposal
    plan: Plan

    def describe(self, *, written: bool = False) -> str:
        lines = [self.plan.steps[0].done() if written else self.plan.describe()]
        for one in self.proposal.lists:
            lines.append(f"  list '{one.list_name}' -> {one.table} (confidence {one.confidence:.2f})")
        if self.proposal.unmatched_lists:
            lines.append("  not mapped (no table fits): " + ", ".join(self.proposal.unmatched_lists))
        if self.proposal.review:
            lines.append("Review before the first sync:")
            lines.extend(f"  {line}" for line in self.proposal.review)
        lines.extend(f"  problem: {problem}" for problem in self.proposal.problems)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.plan.to_dict(),
            "lists": [
                {"list": one.list_name, "table": one.table, "confidence": one.confidence}
                for one in self.proposal.lists
            ],
            "unmatched_lists": list(self.proposal.unmatched_lists),
            "review": list(self.proposal.review),
            "problems": [str(problem) for problem in self.proposal.problems],
        }


def plan_mapping_propose(
    settings: Settings,
    out: Path | None = None,
    *,
    force: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.time,
    sign_in: SignIn | None = None,
) -> MappingProposal:
    """Read the configured site's lists and propose their mapping, to `out` (default: the configured
    mapping file). An existing file is never replaced without `force`: it may hold a person's review."""
    target = out or settings.mapping_file
    if target.exists() and not force:
        raise ConfigError(
            f"{target} already exists; not replacing a mapping that may have been reviewed",
            hint="write the proposal elsewhere (--out proposed.yaml) and compare, or pass --force",
        )
    if not target.parent.exists():
        raise ConfigError(f"directory {target.parent} does not exist", hint="create it, or choose --out")
    source = open_source(settings, sleep=sleep, clock=clock, sign_in=sign_in)
    found = propose(source.reader.lists(source.site_id))
    header = (
        "# Proposed by `cetk mapping propose`: every entry carries the confidence of its match.\n"
        "# Review it (docs/mapping.md), then run `cetk check` and `cetk sync --dry-run`.\n"
    )
    content = (header + dump_mapping(found.mapping)).encode("utf-8")
    step = WriteFile(target, content, target.exists(), "the proposed list mapping", error=ConfigError)
    return MappingProposal(found, Plan((step,)))
