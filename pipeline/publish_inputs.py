"""What the published tables are built from, as one digest: a publish with nothing changed skips the build.

`build_published(staging_dir, geography_files(settings), analytics_options(settings))` is a function of
exactly these, and the digest covers each (docs/publishing.md, "When nothing changed"):

- the staged files it reads (`<table>.parquet` of every row-level table): SHA-256 of their bytes, or absent.
  The staging writes a file only when its content changes (R10), so an unchanged source leaves them as
  they were; a hash of the bytes, not a modification time, is what says so;
- the reference geography: SHA-256 of the four files of `geography.dir`, or of the demo force's shipped ones;
- the analytics options, every field (disclosure threshold, rounding base, percentage base, evaluation
  weeks, point policy, taxonomy, scrubber name lists), in canonical JSON;
- the dataset model's definition (what cetk creates and puts) and the dataset's name;
- the code that builds and publishes: cetk's version, the versions of pandas, pyarrow and numpy, and SHA-256
  of every file of `transforms/` and `powerbi_dataset/` and of the modules reading the staged and reference
  files, so an upgrade (or a local change) rebuilds.

The pseudonymisation key is not an input here: it acts at staging (the officer keys in the staged files
are its HMACs), so a new key changes the staged files' bytes and, through them, the digest.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

import connectors.reference_files
import connectors.staged_files
import connectors.staged_read
import pipeline.published
import powerbi_dataset
import transforms
from config.settings import Settings, cetk_version
from connectors.durable_files import file_sha256
from connectors.reference_files import demo_geography_files
from connectors.staged_read import staged_table_names
from connectors.staging import staged_path
from pipeline.published import analytics_options, geography_files
from powerbi_dataset.definitions import definition_text
from powerbi_dataset.derive import powerbi_definition
from powerbi_dataset.model import DATASET
from powerbi_dataset.schema import Dataset

__all__ = ["INPUTS_VERSION", "PublishedInputs", "canonical", "published_inputs", "staged_files_read"]

INPUTS_VERSION = 1  # raise when what the digest covers changes: every state then rebuilds once
ABSENT = "absent"
CODE_PACKAGES = (transforms, powerbi_dataset)  # every file in them
CODE_MODULES = (
    pipeline.published,
    connectors.staged_read,
    connectors.staged_files,
    connectors.reference_files,
)


@dataclass(frozen=True)
class PublishedInputs:
    """The digest of what the published tables would be built from now, and of each part (for tests and
    for saying what changed)."""

    digest: str
    parts: Mapping[str, str]


def published_inputs(settings: Settings, dataset: Dataset = DATASET) -> PublishedInputs:
    """Hash what `build_published` would read and be shaped by, under these settings. Reads files only."""
    staging_dir = settings.paths.staging_dir
    configured = geography_files(settings)
    geography = configured or demo_geography_files()
    parts = {
        "inputs_version": str(INPUTS_VERSION),
        "staged": _json_digest(
            {path.name: file_sha256(path) or ABSENT for path in staged_files_read(staging_dir)}
        ),
        "geography": _json_digest(
            {
                "demo": configured is None,
                **{
                    item.name: file_sha256(getattr(geography, item.name)) or ABSENT
                    for item in dataclasses.fields(geography)
                },
            }
        ),
        "options": _json_digest(canonical(analytics_options(settings))),
        "model": _json_digest(
            {
                "name": settings.powerbi_dataset_name,
                "definition": definition_text(powerbi_definition(dataset)),
            }
        ),
        "code": _code_digest(),
    }
    return PublishedInputs(_json_digest(parts), parts)


def staged_files_read(staging_dir: Path) -> list[Path]:
    """The staged files build_published reads (connectors/staged_read.read_staged_files): one per
    row-level table of the model, whether or not it is there."""
    return [staged_path(staging_dir, name) for name in staged_table_names()]


def canonical(value: Any) -> Any:
    """A value as JSON-ready data that is equal exactly when the values are: dataclasses by their init
    fields, mappings by sorted key, sets sorted (their iteration order varies by process). A type this does
    not know is a bug (TypeError): it must be described here before it can be hashed."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        described = {
            item.name: canonical(getattr(value, item.name)) for item in dataclasses.fields(value) if item.init
        }
        return {"__type__": type(value).__qualname__, **described}
    if isinstance(value, Mapping):
        return {
            str(key): canonical(item) for key, item in sorted(value.items(), key=lambda pair: str(pair[0]))
        }
    if isinstance(value, set | frozenset):
        return sorted((canonical(item) for item in value), key=_sort_text)
    if isinstance(value, list | tuple):
        return [canonical(item) for item in value]
    if isinstance(value, re.Pattern):
        return {"pattern": value.pattern, "flags": value.flags}
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot describe a {type(value).__qualname__} for the published inputs digest")


def _sort_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _json_digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _code_digest() -> str:
    """cetk's version, its libraries' versions and the bytes of the code that builds the tables."""
    digest = hashlib.sha256()
    versions = {
        "cetk": cetk_version(),
        "python": sys.version_info[:2],
        "pandas": pd.__version__,
        "pyarrow": pa.__version__,
        "numpy": np.__version__,
    }
    digest.update(_sort_text(versions).encode("utf-8"))
    for name, path in _code_files():
        digest.update(name.encode("utf-8") + b"\0" + (file_sha256(path) or ABSENT).encode("ascii") + b"\0")
    return digest.hexdigest()


def _code_files() -> Iterator[tuple[str, Path]]:
    for package in CODE_PACKAGES:
        root = Path(str(package.__file__)).parent
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                yield f"{package.__name__}/{path.relative_to(root).as_posix()}", path
    for module in CODE_MODULES:
        yield module.__name__, Path(str(module.__file__))
