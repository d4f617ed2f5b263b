"""Where the CLI writes: results to stdout, progress and errors to stderr; JSON exactly as the library returns it."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

stdout = Console(highlight=False, soft_wrap=False)
stderr = Console(stderr=True, highlight=False)


@dataclass
class CliState:
    """Options of the top-level command that every sub-command reads."""

    quiet: bool = False
    config_path: Path | None = None


state = CliState()


def json_text(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) + "\n"


def print_json(value: Any) -> None:
    """The library's return value as JSON on stdout (no markup, no wrapping)."""
    sys.stdout.write(json_text(value))
    sys.stdout.flush()


def print_text(text: str) -> None:
    sys.stdout.write(text if text.endswith("\n") else text + "\n")
    sys.stdout.flush()


def progress(message: str) -> None:
    """A progress line on stderr, shown only to a person at a terminal and never with --quiet."""
    if not state.quiet and stderr.is_terminal:
        stderr.print(message, markup=False)


def counted(number: int, noun: str) -> str:
    """`1 problem`, `2 problems`: a count with its noun in the right number."""
    return f"{number} {noun}" + ("" if number == 1 else "s")
