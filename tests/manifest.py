"""Compare validation reports with the demo force's manifest of deliberately injected errors."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

import pyarrow as pa

from transforms.masking import Fingerprinter
from transforms.report import Report

ProblemId = tuple[str, str, str, str]  # table, key, column, code

# Reports compared with a manifest are fingerprinted with this key, so the manifest's keys can be too.
FINGERPRINTER = Fingerprinter.from_pseudonymisation_key("manifest-comparison")


def masked_key(key: str) -> str:
    """The manifest's key as the validator shows it: each part's fingerprint ('' for an empty part)."""
    parts = key.split("|")
    shown = FINGERPRINTER.of_array(pa.array(parts, pa.string()))
    return "|".join(text if part else "" for part, text in zip(parts, shown, strict=True))


def expected(rows: Iterable[tuple[str, str, str, str]]) -> Counter[ProblemId]:
    return Counter((table, masked_key(key), column, code) for table, key, column, code in rows)


def reported(report: Report) -> Counter[ProblemId]:
    return Counter((p.table, p.key, p.column, p.code) for p in report.problems)
