"""What a test needs from outside the repository, and the one rule for when it is missing.

On a developer's machine a missing prerequisite skips the test with a message saying what to provide;
under CI (CI=true) it fails, so a CI run can never pass by skipping. Every such skip goes through
`missing()`. The shared specs are read in place (never copied into the project): ../shared/specs beside
the repository, or the directory named by SHARED_SPECS_DIR.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS_DIR = Path(os.environ.get("SHARED_SPECS_DIR") or ROOT.parent / "shared" / "specs")
SWAGGER_PATH = SPECS_DIR / "powerbi-swagger.json"


def under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def missing(message: str) -> NoReturn:
    """Skip (a developer's machine) or fail (CI=true): `message` says what is missing and how to provide it."""
    if under_ci():
        pytest.fail(f"{message} (required under CI=true)", pytrace=False)
    pytest.skip(message)
