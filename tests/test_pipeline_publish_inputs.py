"""The digest of what the published tables are built from (pipeline/publish_inputs.py): each input changes
it, nothing else does, and two processes agree on it (a digest that varied by process would never skip)."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pyarrow.parquet as pq
import pytest

import connectors.staged_files
import pipeline.publish_inputs as inputs_module
from config.loader import load
from config.settings import Settings
from connectors.publish_state import PublishState
from pipeline import build_published
from pipeline.publish import inputs_recorded
from pipeline.publish_inputs import canonical, published_inputs, staged_files_read
from pipeline.published import analytics_options
from powerbi_dataset.model import DATASET
from tests.powerbi_dataset.publish_world import copy_demo_geography, demo_staged, write_staged
from transforms.analytics import AnalyticsOptions

SMALL = {"events": 20, "ccrs": 40}


def settings_for(root: Path, **environ: str) -> Settings:
    base = {
        "CETK_PATHS_STAGING_DIR": str(root / "staging"),
        "CETK_PATHS_QUARANTINE_DIR": str(root / "staging" / "quarantine"),
        "CETK_PATHS_STATE_DIR": str(root / "state"),
    }
    return load(None, {**base, **environ}, keyring=None, strict=False).settings


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_staged(demo_staged(**SMALL), tmp_path / "staging")
    return tmp_path


def digest(root: Path, **environ: str) -> str:
    return published_inputs(settings_for(root, **environ)).digest


def test_the_same_inputs_give_the_same_digest(root: Path) -> None:
    assert digest(root) == digest(root)
    assert len(digest(root)) == 64


def test_the_files_hashed_are_the_files_build_published_reads(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[Path] = []
    real = pq.read_table

    def watched(path: Path, *args: object, **kwargs: object) -> object:
        opened.append(Path(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(connectors.staged_files.pq, "read_table", watched)
    build_published(root / "staging")

    hashed = staged_files_read(root / "staging")
    assert sorted(opened) == sorted(path for path in hashed if path.exists())
    assert {path.name for path in hashed} == {f"{t.name}.parquet" for t in DATASET.tables if t.row_level}


@pytest.mark.parametrize("table", [t.name for t in DATASET.tables if t.row_level])
def test_a_staged_file_with_other_bytes_or_none_changes_the_digest(root: Path, table: str) -> None:
    before = digest(root)
    path = root / "staging" / f"{table}.parquet"
    if path.exists():
        data = pq.read_table(path)
        pq.write_table(data.slice(0, max(data.num_rows - 1, 0)), path)  # one row fewer
        changed = digest(root)
        path.unlink()
        assert changed != before and digest(root) not in (before, changed)
    else:
        pq.write_table(pq.read_table(root / "staging" / "areas.parquet"), path)  # a file where none was
        assert digest(root) != before


def test_a_file_in_the_staging_directory_that_is_not_read_does_not_change_the_digest(root: Path) -> None:
    before = digest(root)
    (root / "staging" / "notes.txt").write_text("a person's notes", encoding="utf-8")
    (root / "staging" / "quarantine").mkdir()
    (root / "staging" / "quarantine" / "ccr.parquet").write_bytes(b"PAR1")

    assert digest(root) == before


@pytest.mark.parametrize(
    "environ",
    [
        {"CETK_DISCLOSURE_THRESHOLD": "20"},
        {"CETK_DISCLOSURE_ROUNDING_BASE": "10"},
        {"CETK_DISCLOSURE_MIN_PERCENTAGE_BASE": "100"},
        {"CETK_REPORT_EVALUATION_WEEKS": "6"},
        {"CETK_POWERBI_DATASET_NAME": "Another dataset"},
    ],
)
def test_a_setting_that_shapes_the_published_tables_changes_the_digest(
    root: Path, environ: dict[str, str]
) -> None:
    assert digest(root, **environ) != digest(root)


def test_a_setting_the_tables_do_not_depend_on_leaves_the_digest(root: Path) -> None:
    assert digest(root, CETK_POWERBI_WORKSPACE_ID="00000000-0000-0000-0000-000000000001") == digest(root)


def test_every_analytics_option_is_described(root: Path) -> None:
    options = analytics_options(settings_for(root))
    described = canonical(options)

    init_fields = {field.name for field in dataclasses.fields(AnalyticsOptions) if field.init}
    assert set(described) - {"__type__"} == init_fields  # a new option is hashed as soon as it exists
    for field_name in init_fields:  # and each one counts
        value = getattr(options, field_name)
        other = (
            dataclasses.replace(
                value,
                **{
                    dataclasses.fields(value)[0].name: _other(
                        getattr(value, dataclasses.fields(value)[0].name)
                    )
                },
            )
            if dataclasses.is_dataclass(value)
            else _other(value)
        )
        assert canonical(dataclasses.replace(options, **{field_name: other})) != described, field_name


def _other(value: object) -> object:
    if isinstance(value, bool) or value is None:
        return {"events": "notes"} if value is None else not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, frozenset):
        return value | {"Zebedee"}
    if isinstance(value, dict):
        return {**value, "events": "notes"}
    raise AssertionError(f"no other value for {value!r}")


def test_canonical_refuses_a_type_it_cannot_describe() -> None:
    with pytest.raises(TypeError, match="cannot describe a object"):
        canonical({"x": object()})


def test_each_geography_file_counts_and_the_demo_files_are_an_input_of_their_own(root: Path) -> None:
    folder = copy_demo_geography(root / "geography")
    before = digest(root, CETK_GEOGRAPHY_DIR=str(folder))
    assert before != digest(root)  # the same bytes, but not the demo: the published notes differ
    seen = {before}
    for path in sorted(folder.iterdir()):
        path.write_bytes(path.read_bytes() + b" ")
        changed = digest(root, CETK_GEOGRAPHY_DIR=str(folder))
        assert changed not in seen, path.name
        seen.add(changed)


def test_the_model_definition_counts(root: Path) -> None:
    settings = settings_for(root)
    other = dataclasses.replace(
        DATASET,
        tables=DATASET.tables[:-1] + (dataclasses.replace(DATASET.tables[-1], description="changed"),),
    )

    assert published_inputs(settings, other).digest != published_inputs(settings).digest


def test_the_code_and_its_version_count(root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for(root)
    before = published_inputs(settings)
    source = tmp_path / "rules.py"
    source.write_text("THRESHOLD = 10\n", encoding="utf-8")
    module = types.ModuleType("rules")
    module.__file__ = str(source)
    monkeypatch.setattr(inputs_module, "CODE_MODULES", (*inputs_module.CODE_MODULES, module))
    with_module = published_inputs(settings)
    source.write_text("THRESHOLD = 11\n", encoding="utf-8")
    edited = published_inputs(settings)
    monkeypatch.setattr(inputs_module, "cetk_version", lambda: "99.0.0")
    upgraded = published_inputs(settings)

    assert len({before.digest, with_module.digest, edited.digest, upgraded.digest}) == 4
    assert (
        before.parts["staged"] == upgraded.parts["staged"] and before.parts["code"] != upgraded.parts["code"]
    )


def test_two_processes_agree_on_the_digest(root: Path) -> None:
    """Set iteration order varies with PYTHONHASHSEED; the digest must not."""
    program = (
        "import sys; from config.loader import load; from pipeline.publish_inputs import published_inputs; "
        "print(published_inputs(load(None, dict(arg.split('=', 1) for arg in sys.argv[1:]), keyring=None, "
        "strict=False).settings).digest)"
    )
    arguments = [f"CETK_PATHS_STAGING_DIR={root / 'staging'}", f"CETK_PATHS_STATE_DIR={root / 'state'}"]
    found = set()
    for seed in ("1", "2"):
        environment = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", program, *arguments],
            capture_output=True,
            text=True,
            env=environment,
            check=True,
        )
        found.add(done.stdout.strip())
    assert found == {digest(root)}


def test_inputs_recorded_needs_the_digest_and_a_settled_state(root: Path) -> None:
    settings = settings_for(root)
    inputs = published_inputs(settings)
    with PublishState.open(settings.paths.state_dir) as state:
        state.bind("ds", "Community Engagement", {"ccr": "{}"}, "[]", empty=True)
        assert not inputs_recorded(state, inputs)
        state.record_published_inputs(inputs.digest, "ds")
        assert inputs_recorded(state, inputs)
        assert not inputs_recorded(
            state, published_inputs(settings_for(root, CETK_DISCLOSURE_THRESHOLD="20"))
        )
        state.deleting_rows("ccr")  # a table emptied for a reload: unsettled, though the digest is there
        assert state.published_inputs() is not None and not inputs_recorded(state, inputs)


def test_the_digest_parts_are_json_safe(root: Path) -> None:
    parts = published_inputs(settings_for(root)).parts
    assert json.loads(json.dumps(parts)) == parts
    assert set(parts) == {"inputs_version", "staged", "geography", "options", "model", "code"}
