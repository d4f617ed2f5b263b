"""What a `cetk` process loads before it works: `import cli` and every `--help` leave the heavy libraries
(pandas, pyarrow, numpy, the plotting stack, the Graph, SharePoint and Power BI clients) unloaded, and
`cetk migrate forms` never loads the plotting stack or the sign-in and HTTP clients it does not use.

Each probe runs in a fresh interpreter (this process has loaded everything already) and reports
`sys.modules`; no time is measured here (bench/bench_startup.py measures it, docs/performance.md records
it). The `pipeline` package is lazy (PEP 562): the last tests pin that `from pipeline import X` still gives
every name the package re-exports, the same object as its module's, and the function for the commands
named like their module, whichever import comes first.
"""

from __future__ import annotations

import ast
import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

import pipeline
from connectors.sync_records import RunCounts, TableCounts
from connectors.sync_state import STATE_FILE_NAME, SyncState

ROOT = Path(__file__).resolve().parent.parent
KEY = "c" * 40  # a fake pseudonymisation key, long enough for privacy.require_key
# Libraries no `--help` needs (each costs 0.1-0.5 s of CPU to import) and where they come from.
HEAVY = (
    "pandas",  # transforms, validation, publish
    "pyarrow",  # every read and write of a table
    "numpy",
    "matplotlib",  # the report's charts
    "wordcloud",
    "PIL",
    "office365",  # SharePoint REST (sync, check, mapping)
    "msal",  # sign-in
    "requests",  # every HTTP client
    "urllib3",
    "fastexcel",  # Forms exports
    "python_calamine",
)
# A Forms migration to staging signs in nowhere, calls no service and draws nothing.
NOT_IN_A_MIGRATION = ("matplotlib", "wordcloud", "PIL", "office365", "msal", "requests", "urllib3")
HELP = (
    (),
    ("init",),
    ("config", "show"),
    ("schema", "show"),
    ("schema", "export"),
    ("validate",),
    ("demo",),
    ("status",),
    ("publish",),
    ("report",),
    ("sync",),
    ("check",),
    ("mapping", "propose"),
    ("refresh",),
    ("migrate", "forms"),
    ("emulator", "serve"),
)


def loaded_after(code: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> set[str]:
    """The top-level packages in `sys.modules` after `code` runs in a fresh interpreter (at exit)."""
    return probe_run(code, cwd, env)[0]


def probe_run(code: str, cwd: Path = ROOT, env: dict[str, str] | None = None) -> tuple[set[str], str]:
    """`code` in a fresh interpreter: the top-level packages loaded at exit, and what it printed."""
    probe = (
        "import atexit, json, sys\n"
        "atexit.register(lambda: print('\\nLOADED ' + json.dumps(sorted({n.split('.')[0] for n in sys.modules}))))\n"
        + code
    )
    environment = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", **(env or {})}
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=cwd, env=environment, capture_output=True, text=True, timeout=300
    )
    assert done.returncode in (0, 1), done.stderr
    line = next(text for text in done.stdout.splitlines() if text.startswith("LOADED "))
    return set(json.loads(line.removeprefix("LOADED "))), done.stdout


def run_cli(*argv: str) -> str:
    """Code that runs `cetk ARGV...` as the console script does (`cetk = "cli:main"`), exit code kept."""
    return f"import sys\nfrom cli import main\ntry:\n    main({list(argv)!r})\nexcept SystemExit:\n    pass\n"


def test_importing_the_cli_loads_no_heavy_library() -> None:
    loaded = loaded_after("import cli\n")
    assert "typer" in loaded and "cli" in loaded  # the probe does see what was imported
    assert sorted(loaded & set(HEAVY)) == []


def test_every_help_loads_no_heavy_library() -> None:
    code = "".join(run_cli(*command, "--help") for command in HELP)
    loaded = loaded_after(code)
    assert sorted(loaded & set(HEAVY)) == []


def test_the_probe_sees_a_command_s_libraries() -> None:
    """The same probe after a command that does load them: the tests above could fail."""
    loaded = loaded_after(run_cli("schema", "export", "--format", "arrow"))
    assert {"pyarrow", "numpy"} <= loaded


# `cetk status` reads the run ledger (SQLite): no table library, no client.
NOT_IN_STATUS = ("pandas", "pyarrow", "numpy", "matplotlib", "office365", "msal", "requests", "fastexcel")


def test_status_reads_the_ledger_without_the_table_libraries(tmp_path: Path) -> None:
    (tmp_path / "cetk.yaml").write_text("paths:\n  state_dir: state\n", encoding="utf-8")
    with SyncState.open(tmp_path / "state" / STATE_FILE_NAME) as state:
        run = state.start_run("sync", {"full": True})
        state.finish_run(run, "ok", RunCounts({"events": TableCounts(120, 120, 0, 0)}, requests=3))
    keyless = {"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    loaded, shown = probe_run(run_cli("status") + run_cli("status", "--json"), cwd=tmp_path, env=keyless)
    assert "The last 1 run, newest first." in shown and '"run_id": 1' in shown  # it did read the ledger
    assert sorted(loaded & set(NOT_IN_STATUS)) == []


@pytest.fixture
def forms_world(tmp_path: Path) -> Path:
    """A 4-row Forms CSV export, a config and the reviewed mapping (`init`, then the review)."""
    (tmp_path / "cetk.yaml").write_text(
        "paths:\n  staging_dir: staging\n  quarantine_dir: quarantine\n  state_dir: state\n", encoding="utf-8"
    )
    (tmp_path / "north_2024.csv").write_text(
        "ID,Start time,Completion time,Email,Name,Date of contact,Setting\r\n"
        "1,2024-05-01 09:00:00,2024-05-01 09:05:00,pc.one@force.police.uk,PC One,01/05/2024,Patrol\r\n"
        "2,2024-05-02 09:00:00,2024-05-02 09:05:00,anonymous,,02/05/2024,Door knock\r\n",
        encoding="utf-8",
    )
    from pipeline import propose_forms_mapping

    proposal: Any = propose_forms_mapping([tmp_path / "north_2024.csv"], locale="en-GB", csv_time_locale=None)
    document = yaml.safe_load(proposal.text)
    document["forms"][0]["files"] = ["north_*"]
    document["forms"][0]["constants"] = {
        "lpt_code": "STOKE_N",
        "information_submitted": False,
        "smart_alert_signup": False,
        "diversity_consent": False,
    }
    (tmp_path / "m.yaml").write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return tmp_path


def test_a_forms_migration_loads_no_client_and_no_plotting(forms_world: Path) -> None:
    argv = ("--quiet", "migrate", "forms", "north_2024.csv", "--mapping", "m.yaml", "--csv-times", "none")
    loaded = loaded_after(run_cli(*argv, "--json"), cwd=forms_world, env={"CETK_PSEUDONYMISATION_KEY": KEY})
    assert (forms_world / "staging" / "ccr.parquet").is_file()  # it did migrate: the probe saw a real run
    assert {"pyarrow", "fastexcel"} <= loaded
    assert sorted(loaded & set(NOT_IN_A_MIGRATION)) == []


# --- the lazy package ---------------------------------------------------------------------------------


def type_checking_imports(package: str) -> dict[str, str]:
    """Name -> module of each `from <package>.<module> import name` under the package's TYPE_CHECKING."""
    tree = ast.parse((ROOT / package / "__init__.py").read_text(encoding="utf-8"))
    guarded = next(node for node in tree.body if isinstance(node, ast.If))
    return {
        alias.name: node.module.removeprefix(f"{package}.")
        for node in guarded.body
        if isinstance(node, ast.ImportFrom) and node.module
        for alias in node.names
    }


@pytest.mark.parametrize("package", ["pipeline", "config"])
def test_the_exports_are_the_names_mypy_sees_and_all_of_them(package: str) -> None:
    module = importlib.import_module(package)
    assert type_checking_imports(package) == module.EXPORTS
    assert sorted(module.EXPORTS) == sorted(module.__all__)
    for name, where in module.EXPORTS.items():
        assert getattr(module, name) is getattr(importlib.import_module(f"{package}.{where}"), name), name


def test_a_module_of_config_does_not_load_the_file_loader() -> None:
    loaded = loaded_after("import config.settings\n")
    assert "config" in loaded and "yaml" not in loaded


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = pipeline.no_such_name  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", pipeline.COMMANDS_NAMED_LIKE_THEIR_MODULE)
def test_a_command_named_like_its_module_is_the_function_whichever_import_comes_first(name: str) -> None:
    """Loading pipeline/status.py binds `pipeline.status` to the module; the name stays the function."""
    code = (
        "import importlib, sys, types\n"
        f"module = importlib.import_module('pipeline.{name}')\n"
        f"from pipeline import {name} as value\n"
        f"import pipeline\n"
        f"ok = value is module.{name} and pipeline.{name} is module.{name} and callable(value)\n"
        "sys.exit(0 if ok else 3)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT)},
        capture_output=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr


def test_a_monkeypatched_command_is_seen_and_undone(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.status import status as real

    def fake(*_args: object, **_kwargs: object) -> dict[str, Any]:
        return {}

    monkeypatch.setattr(pipeline, "status", fake)
    assert pipeline.status is fake
    monkeypatch.undo()
    assert pipeline.status is real
