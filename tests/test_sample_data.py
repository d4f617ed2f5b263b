"""The bundled sample (powerbi_dataset/sample/) is current, small, and its manifest is exact."""

from __future__ import annotations

import csv
from pathlib import Path

import pyarrow as pa

from connectors.files import read_tables
from emulator.demo.force import AS_OF, CANONICAL_TABLES
from emulator.demo.sample import MANIFEST_NAME, SAMPLE_DIR, sample_force, write_sample
from powerbi_dataset.model import DATASET
from tests.manifest import FINGERPRINTER, expected, reported
from transforms.validate import validate_dataset

MAX_FILE_BYTES = 300_000


def read_manifest(directory: Path = SAMPLE_DIR) -> list[dict[str, str]]:
    with (directory / MANIFEST_NAME).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def read_sample() -> dict[str, pa.Table]:
    """The sample as `cetk validate` and `cetk demo` read it: every column text, empty cells null."""
    return read_tables(SAMPLE_DIR, only=CANONICAL_TABLES)


def test_committed_sample_equals_freshly_generated_output(tmp_path: Path) -> None:
    written = write_sample(tmp_path)
    assert sorted(p.name for p in written) == sorted([*(f"{n}.csv" for n in CANONICAL_TABLES), MANIFEST_NAME])
    for path in written:
        committed = SAMPLE_DIR / path.name
        assert committed.exists(), f"{committed} missing: run python -m emulator.demo --write-sample"
        assert committed.read_bytes() == path.read_bytes(), (
            f"{path.name} is stale: run `python -m emulator.demo --write-sample powerbi_dataset/sample`"
        )


def test_sample_files_are_small_and_have_the_model_headers() -> None:
    for name in CANONICAL_TABLES:
        path = SAMPLE_DIR / f"{name}.csv"
        assert path.stat().st_size < MAX_FILE_BYTES
        with path.open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle))
        assert tuple(header) == DATASET.table(name).column_names


def test_sample_datetimes_are_iso_utc_with_z() -> None:
    tables = read_sample()
    start = tables["events"].column("start_utc").to_pandas().dropna()
    assert start.str.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z").all()
    assert set(tables["ccr"].column("diversity_consent").to_pylist()) - {None} == {"true", "false"}


def test_clean_variant_has_no_injected_errors() -> None:
    assert sample_force(invalid_fraction=0).injected == []


def test_manifest_covers_every_code_that_typed_rows_can_carry() -> None:
    codes = {row["code"] for row in read_manifest()}
    declared = {rule.code for name in CANONICAL_TABLES for rule in DATASET.table(name).rules}
    generic = {"missing-value", "unknown-code", "out-of-range", "too-long", "bad-format", "not-a-date",
               "duplicate-key", "orphan-reference"}  # fmt: skip
    assert declared | generic <= codes
    # missing-column, unexpected-column and wrong-type need a malformed file, not a malformed row.
    assert not codes & {"missing-column", "unexpected-column", "wrong-type"}


def test_validator_finds_exactly_the_manifest_in_the_sample() -> None:
    report = validate_dataset(read_sample(), as_of=AS_OF, fingerprinter=FINGERPRINTER)
    assert reported(report) == expected(
        (r["table"], r["key"], r["column"], r["code"]) for r in read_manifest()
    )
