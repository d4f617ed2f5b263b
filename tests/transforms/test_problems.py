"""The problem catalogue: every code validation emits is declared, every declared code is emitted by a fixture."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from connectors.files import read_tables, sample_data_dir
from emulator.demo.force import AS_OF as SAMPLE_AS_OF
from emulator.demo.force import CANONICAL_TABLES
from errors import ModelError
from powerbi_dataset.model import DATASET
from powerbi_dataset.rules import Compare
from powerbi_dataset.schema import Dataset
from tests.transforms.clean_rows import AS_OF
from tests.transforms.normalise_all_codes import normalise_every_code
from tests.transforms.test_validate_all_codes import build
from transforms.problems import CHECKS, PROBLEM_TYPES, problem_catalogue, problem_codes_markdown
from transforms.validate import validate_dataset

DOCS = Path(__file__).resolve().parents[2] / "docs" / "problem-codes.md"


def emitted_codes() -> set[str]:
    """Codes reported over the bundled sample, the all-codes fixture and the normalisation fixture."""
    sample = validate_dataset(read_tables(sample_data_dir(), only=CANONICAL_TABLES), as_of=SAMPLE_AS_OF)
    tables, _expected = build()
    every_code = validate_dataset(tables, as_of=AS_OF)
    normalised = normalise_every_code()
    return {problem.code for report in (sample, every_code, normalised) for problem in report.problems}


def test_every_emitted_code_is_declared_and_every_declared_code_is_emitted() -> None:
    emitted = emitted_codes()
    assert emitted - set(PROBLEM_TYPES) == set(), "emitted but not declared in transforms/problems.py"
    assert set(PROBLEM_TYPES) - emitted == set(), "declared but no fixture emits it"


def test_rule_codes_join_from_the_model() -> None:
    rule_codes = {rule.code for table in DATASET.tables for rule in table.rules}
    assert set(PROBLEM_TYPES) == {check.code for check in CHECKS} | rule_codes
    assert {PROBLEM_TYPES[code].scope for code in rule_codes} == {"rule"}
    assert "event lasts more than 24 hours" in PROBLEM_TYPES["duration-too-long"].description
    both = PROBLEM_TYPES["event-link"].description  # one code, two rules: both are described
    assert "contact at an EVENT needs the event" in both and "setting is not EVENT" in both


def test_a_rule_may_not_take_a_check_code() -> None:
    events = DATASET.table("events")
    clash = Compare("wrong-type", "end_utc", ">=", "start_utc", "m")
    dataset = Dataset("d", (replace(events, rules=(clash,)),))
    with pytest.raises(ModelError, match="'wrong-type' of table 'events' is already a check's code"):
        problem_catalogue(dataset)


def test_committed_problem_codes_doc_is_current() -> None:
    assert DOCS.read_text(encoding="utf-8") == problem_codes_markdown(), (
        "docs/problem-codes.md is stale: run `make problem-codes` and commit the result"
    )
