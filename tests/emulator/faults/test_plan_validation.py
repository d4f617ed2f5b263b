"""A bad faults file is a clean EmulatorError naming the file and what is wrong, never a traceback:
checked in-process for each kind of mistake, and through `cetk emulator serve --faults` in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.faults.plan import FaultPlan
from errors import EmulatorError, ExitCode

BAD_PLANS = {
    "unknown top-level key": ("rulez: []\n", "rulez"),
    "unknown rule key": ("rules:\n  - service: graph\n    throtle: {rate: 0.1}\n", "rules[0]"),
    "not a mapping": ("- service: graph\n", "mapping"),
    "rules not a list": ("rules: 5\n", "rules"),
    "a rule not a mapping": ("rules: [5]\n", "rules[0]"),
    "seed not a number": ("seed: abc\n", "seed"),
    "service not text": ("rules:\n  - service: 5\n", "rules[0].service"),
    "method not text": ("rules:\n  - method: [GET]\n", "rules[0].method"),
    "path not text": ("rules:\n  - path: 5\n", "rules[0].path"),
    "path not a regex": ("rules:\n  - path: '('\n", "rules[0].path"),
    "rate not a number": ("rules:\n  - throttle: {rate: often}\n", "rules[0].throttle.rate"),
    "rate out of range": ("rules:\n  - throttle: {rate: 2}\n", "rules[0].throttle.rate"),
    "sequence not a list": ("rules:\n  - throttle: {sequence: '429'}\n", "rules[0].throttle.sequence"),
    "sequence of words": ("rules:\n  - unavailable: {sequence: [busy]}\n", "rules[0].unavailable.sequence"),
    "retry_after negative": (
        "rules:\n  - throttle: {rate: 1, retry_after: -1}\n",
        "rules[0].throttle.retry_after",
    ),
    "throttle not a mapping": ("rules:\n  - throttle: 429\n", "rules[0].throttle"),
    "latency negative": ("rules:\n  - latency_ms: -5\n", "rules[0].latency_ms"),
    "latency not a number": ("rules:\n  - latency_ms: slow\n", "rules[0].latency_ms"),
    "nth missing": ("rules:\n  - drop_after_commit: {}\n", "rules[0].drop_after_commit"),
    "nth not a number": ("rules:\n  - drop_after_commit: {nth: x}\n", "rules[0].drop_after_commit"),
    "drop a word": ("rules:\n  - drop_after_commit: sometimes\n", "rules[0].drop_after_commit"),
    "budget not a mapping": ("budget: 5\n", "budget"),
    "budget services not a list": ("budget: {services: 5}\n", "budget.services"),
    "budget limit not a number": ("budget: {rate_limit: lots}\n", "budget.rate_limit"),
    "budget limit zero": ("budget: {rate_limit: 0}\n", "budget.rate_limit"),
    "bool as a number": ("rules:\n  - latency_ms: true\n", "rules[0].latency_ms"),
    "bad YAML": ("rules: [\n", "YAML"),
}


@pytest.mark.parametrize("name", list(BAD_PLANS))
def test_each_mistake_is_an_emulator_error_naming_the_file_and_the_key(tmp_path: Path, name: str) -> None:
    text, names = BAD_PLANS[name]
    path = tmp_path / "faults.yaml"
    path.write_text(text, encoding="utf-8")

    with pytest.raises(EmulatorError) as caught:
        FaultPlan.from_file(path)

    assert str(path) in caught.value.message and names in caught.value.message
    assert "docs/emulator.md" in caught.value.hint


def test_a_missing_file_a_directory_and_binary_bytes_are_emulator_errors(tmp_path: Path) -> None:
    binary = tmp_path / "faults.bin"
    binary.write_bytes(b"\xff\xfe\x00rules")
    for path in (tmp_path / "missing.yaml", tmp_path, binary):
        with pytest.raises(EmulatorError) as caught:
            FaultPlan.from_file(path)
        assert str(path) in caught.value.message


def test_a_good_plan_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text(
        "seed: 3\nrules:\n  - {service: graph, method: GET, path: /items$, throttle: {sequence: [429, 200], retry_after: 2}}\n"
        "  - {service: powerbi, drop_after_commit: {nth: 2}, latency_ms: 0}\nbudget: {services: [graph], rate_limit: 10}\n",
        encoding="utf-8",
    )
    plan = FaultPlan.from_file(path)
    assert plan.seed == 3 and plan.rules[1].drop_after_commit == 2
    assert plan.budget is not None and plan.budget.services == frozenset({"graph"})


@pytest.mark.parametrize("case", ["bad YAML", "wrong type", "unknown key", "missing file", "directory"])
def test_cetk_emulator_serve_reports_a_bad_faults_file_cleanly(tmp_path: Path, case: str) -> None:
    path = tmp_path / "faults.yaml"
    texts = {
        "bad YAML": "rules: [\n",
        "wrong type": "rules:\n  - latency_ms: slow\n",
        "unknown key": "rulez: []\n",
    }
    if case in texts:
        path.write_text(texts[case], encoding="utf-8")
    elif case == "directory":
        path = tmp_path
    command = [sys.executable, "-c", "import cli; cli.main()", "emulator", "serve", "--port", "0",
               "--events", "5", "--ccrs", "5", "--state-dir", str(tmp_path / "state"), "--faults", str(path)]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("CETK_")}

    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env, check=False)

    assert done.returncode == ExitCode.FAILED, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert lines[0].startswith("Error: ") and str(path) in lines[0]
    assert lines[1].startswith("Hint: ")
    assert done.stdout == ""  # nothing served, nothing announced
