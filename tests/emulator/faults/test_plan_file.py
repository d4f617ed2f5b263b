"""FaultPlan.from_file reads YAML with the product's safe reader: a bad or hostile file is an EmulatorError."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from emulator.faults.plan import FaultPlan
from errors import EmulatorError

ALIAS_BOMB = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
    f"{chr(98 + n)}: &{chr(98 + n)} [{','.join([f'*{chr(97 + n)}'] * 9)}]\n" for n in range(8)
)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (ALIAS_BOMB, "line 1: anchors (&name) are not allowed"),
        ("rules: " + "[" * 5000 + "]" * 5000 + "\n", "line 1: nested deeper than 8 levels"),
        ("seed: !!python/object/apply:os.system [true]\n", "line 1: explicit tags"),
        ("rules: [\n", "line 2: not valid YAML"),
        ("- a list\n", "the top level must be a mapping"),
    ],
)
def test_a_bad_fault_plan_file_is_an_emulator_error_naming_file_and_line(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(EmulatorError) as caught:
        FaultPlan.from_file(path)
    assert caught.value.message.startswith(f"fault plan {path}")
    assert message in caught.value.message
    assert "docs/emulator.md" in caught.value.hint or "mapping" in message


def test_a_json_plan_and_an_empty_file_load(tmp_path: Path) -> None:
    as_json = tmp_path / "faults.json"
    as_json.write_text(
        '{"seed": 4, "rules": [{"service": "graph", "throttle": {"rate": 0.5}}]}', encoding="utf-8"
    )
    plan = FaultPlan.from_file(as_json)
    assert plan.seed == 4 and plan.rules[0].throttle is not None and plan.rules[0].throttle.rate == 0.5
    empty = tmp_path / "empty.yaml"
    empty.write_text("", encoding="utf-8")
    assert FaultPlan.from_file(empty).rules == []


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_a_fifo_or_missing_file_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "faults.yaml"
    os.mkfifo(fifo)
    with pytest.raises(EmulatorError, match="not a regular file"):
        FaultPlan.from_file(fifo)
    with pytest.raises(EmulatorError, match="cannot be read"):
        FaultPlan.from_file(tmp_path / "absent.yaml")
