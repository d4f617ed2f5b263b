"""Issue 10 acceptance: the emulator's demo Forms exports migrate, with the mapping `init` proposed after the
review step below, into staging and into the live CCR list, once per response, across reruns and crashes.

The review step a person does on the proposal (docs/forms.md, "Review"): give each form the LPT it belonged
to, and record the two CCR flags the legacy forms never asked (information submitted, Smart Alert) as false.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import importlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml

import connectors.staging as staging
from config.loader import load
from config.settings import Settings
from connectors.graph_batch import GraphBatch
from connectors.graph_lists import GraphLists
from connectors.http import RetryPolicy, build_session
from emulator.demo.force import generate_force
from emulator.demo.forms import VARIANTS, write_forms_exports
from emulator.demo.forms_mapping import DEMO_FORMS_MAPPING
from emulator.demo.list_mapping import DEMO_SITE_MAPPING
from emulator.demo.lists import DemoTenant, seed_lists
from emulator.testing import (
    EmulatorOptions,
    FaultPlan,
    FaultRule,
    Injection,
    RunningEmulator,
    running_emulator,
)
from pipeline import MigrateOptions, MigrateProgress, ProgressEvent, migrate, migrate_forms, plan_migrate
from pipeline.migrate_init import propose_forms_mapping
from pipeline.migrate_list import ListTarget, open_target
from tests.connectors.conftest import ManualTime, Waits
from transforms.forms_mapping import FormsMapping, dump_forms_mapping
from transforms.list_mapping import dump_mapping

KEY = "m" * 40  # a fake key, long enough for privacy.require_key
CCR_LIST = "Community Contact Records"


@dataclass(frozen=True)
class Exports:
    paths: list[Path]
    mapping: FormsMapping  # the proposal after the review step
    personal: list[str]  # every officer's email and display name: must never be written


def reviewed(proposal: FormsMapping) -> FormsMapping:
    """The review step: each form's LPT (the person knows which team ran it) and the two unasked flags."""
    forms = []
    for form in proposal.forms:
        file_name = form.files[0].replace("*", "1.xlsx")
        lpt = next(v.lpt_code for v in VARIANTS if fnmatch.fnmatch(file_name, v.form.files[0]))
        constants = (("lpt_code", lpt), ("information_submitted", False), ("smart_alert_signup", False))
        forms.append(dataclasses.replace(form, constants=constants))
    return dataclasses.replace(proposal, forms=tuple(forms))


@pytest.fixture(scope="module")
def exports(tmp_path_factory: pytest.TempPathFactory) -> Exports:
    force = generate_force(seed=11, events=300, ccrs=3000)
    paths = write_forms_exports(force, tmp_path_factory.mktemp("forms"))
    proposal = propose_forms_mapping(paths)
    personal = sorted({d for officer in force.officer_details for d in (officer.email, officer.display_name)})
    return Exports(paths, reviewed(proposal.mapping), personal)


def write_config(directory: Path, base_url: str) -> Settings:
    config = {
        "tenant_id": "contoso.onmicrosoft.com", "client_id": "11111111-2222-4333-8444-555555555555",
        "auth": {"mode": "none"},
        "endpoints": {"authority": f"{base_url}/login", "graph": f"{base_url}/graph", "powerbi": f"{base_url}/powerbi"},
        "sharepoint": {"site_url": f"{base_url}/sites/Neighbourhood"},
        "paths": {"staging_dir": str(directory / "staging"), "quarantine_dir": str(directory / "quarantine"),
                  "state_dir": str(directory / "state")},
    }  # fmt: skip
    path = directory / "cetk.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return load(path, environ={"CETK_PSEUDONYMISATION_KEY": KEY}, keyring=None).settings


@dataclass
class Site:
    emu: RunningEmulator
    tenant: DemoTenant
    settings: Settings
    clock: ManualTime
    waits: Waits
    mapping_file: Path
    list_mapping_file: Path

    def target(self, **policy: Any) -> ListTarget:
        session = build_session(
            None, user_agent="NONISV|cetk|tests/0", sleep=self.waits, clock=self.clock.time
        )
        graph = self.emu.url("graph", "")
        batch = GraphBatch(
            session, graph, policy=RetryPolicy(**policy), sleep=self.waits, clock=self.clock.time
        )
        return open_target(
            GraphLists(session, graph), batch, self.tenant.site.id, DEMO_SITE_MAPPING, CCR_LIST
        )

    def migrated_titles(self) -> Counter[str]:
        ccr = self.tenant.lists[CCR_LIST]
        titles = [item.fields.get("Title") for item in self.emu.stack.store.items(ccr)]
        return Counter(str(title) for title in titles if str(title).startswith("forms:"))


def make_site(tmp_path: Path, exports: Exports, faults: FaultPlan | None = None) -> Iterator[Site]:
    clock = ManualTime()
    waits = Waits(clock)
    if faults is not None:
        faults.sleep = waits
    with running_emulator(clock=clock, faults=faults, options=EmulatorOptions(require_auth=False)) as emu:
        tenant = seed_lists(emu.stack.store, generate_force(seed=11, events=300, ccrs=3000))
        mapping_file = tmp_path / "forms-mapping.yaml"
        mapping_file.write_text(dump_forms_mapping(exports.mapping), encoding="utf-8")
        list_mapping_file = tmp_path / "mapping.yaml"
        list_mapping_file.write_text(dump_mapping(DEMO_SITE_MAPPING), encoding="utf-8")
        settings = write_config(tmp_path, emu.base_url)
        yield Site(emu, tenant, settings, clock, waits, mapping_file, list_mapping_file)


@pytest.fixture
def site(tmp_path: Path, exports: Exports) -> Iterator[Site]:
    yield from make_site(tmp_path, exports)


LIST = MigrateOptions(target="list", pseudonym_key=KEY.encode())


# staging ---------------------------------------------------------------------------------------------


def test_demo_exports_stage_once_per_response_and_the_counts_add_up(site: Site, exports: Exports) -> None:
    first = migrate_forms(exports.paths, site.mapping_file, site.settings)
    assert (
        first.read
        == sum(read.rows for read in first.files)
        == first.written + first.duplicates + first.quarantined
    )
    assert first.written == first.mapped > 100 and first.duplicates_in_exports > 0 and first.quarantined > 0
    staged = pq.read_table(site.settings.paths.staging_dir / "ccr.parquet")
    assert staged.num_rows == first.written
    assert set(staged.column("source_system").to_pylist()) == {"forms_legacy"}
    assert len(set(staged.column("ccr_id").to_pylist())) == staged.num_rows
    issues = pq.read_table(site.settings.paths.staging_dir / "ccr_issues.parquet")
    assert set(issues.column("ccr_id").to_pylist()) <= set(staged.column("ccr_id").to_pylist())
    before = (site.settings.paths.staging_dir / "ccr.parquet").read_bytes()
    second = migrate_forms(exports.paths, site.mapping_file, site.settings)
    assert (site.settings.paths.staging_dir / "ccr.parquet").read_bytes() == before  # a rerun adds nothing
    assert second.to_dict() == first.to_dict()
    written = b"".join(path.read_bytes() for path in site.settings.paths.staging_dir.glob("*.parquet"))
    written += Path(str(first.quarantine_file)).read_bytes()
    assert not [detail for detail in exports.personal if detail.encode() in written]


def test_quarantine_is_listed_by_rule_and_the_csv_holds_no_answer(site: Site, exports: Exports) -> None:
    report = migrate_forms(exports.paths, site.mapping_file, site.settings)
    assert report.exit_code == 1 and sum(report.quarantined_by_rule.values()) >= report.quarantined
    assert report.quarantined_by_rule["missing-value"] > 0  # anonymous responses name no officer
    text = Path(str(report.quarantine_file)).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "file,row,migration_key,column,code,message"
    assert len({line.split(",")[2] for line in text.splitlines()[1:]}) == report.quarantined


def test_a_dry_run_writes_nothing(site: Site, exports: Exports) -> None:
    report = migrate_forms(exports.paths, site.mapping_file, site.settings, dry_run=True)
    assert report.dry_run and report.written == report.mapped > 0
    assert not site.settings.paths.staging_dir.exists() and not site.settings.paths.quarantine_dir.exists()


# the live list -----------------------------------------------------------------------------------------


def test_a_second_run_to_the_list_creates_no_item(site: Site, exports: Exports) -> None:
    options = dataclasses.replace(LIST, list_mapping=site.list_mapping_file)
    first = migrate_forms(exports.paths, site.mapping_file, site.settings, options)
    titles = site.migrated_titles()
    assert first.written == first.mapped == len(titles) and set(titles.values()) == {1}
    second = migrate_forms(exports.paths, site.mapping_file, site.settings, options)
    assert second.written == 0 and second.already_present == first.written
    assert second.read == second.written + second.duplicates + second.quarantined
    assert site.migrated_titles() == titles


def test_a_run_killed_after_two_batches_resumes_without_duplicates(site: Site, exports: Exports) -> None:
    batches = []

    def crash_after_two_batches(event: ProgressEvent) -> None:
        if isinstance(event, MigrateProgress) and event.phase == "write":
            batches.append(event.done)
            if len(batches) == 2:
                raise KeyboardInterrupt  # as a kill mid-way: nothing after this batch is sent

    with pytest.raises(KeyboardInterrupt):
        plan = plan_migrate(exports.paths, exports.mapping, site.settings, LIST, list_target=site.target())
        migrate(plan, site.settings, on_progress=crash_after_two_batches)
    assert sum(site.migrated_titles().values()) == 40
    plan = plan_migrate(exports.paths, exports.mapping, site.settings, LIST, list_target=site.target())
    assert len(plan.present) == 40
    report = migrate(plan, site.settings)
    titles = site.migrated_titles()
    assert set(titles.values()) == {1} and len(titles) == report.mapped == report.written + 40


def test_inner_429s_are_resent_after_retry_after_and_create_each_item_once(
    tmp_path: Path, exports: Exports
) -> None:
    throttle = Injection(sequence=(429, 200, 200, 429, 200), retry_after_seconds=7)
    faults = FaultPlan([FaultRule(service="graph", method="POST", path=r"/items$", throttle=throttle)])
    for site in make_site(tmp_path, exports, faults):
        plan = plan_migrate(exports.paths, exports.mapping, site.settings, LIST, list_target=site.target())
        report = migrate(plan, site.settings)
        assert report.written == report.mapped and report.failed == 0
        assert set(site.migrated_titles().values()) == {1}
        assert site.waits.seconds and set(site.waits.seconds) == {7.0}


def test_init_proposes_the_demo_forms_own_targets(exports: Exports) -> None:
    """Every question of the three demo forms (different wording, 16+1 ethnicity) gets the target, bridge and
    codes of the demo's own mapping (emulator/demo/forms_mapping.py); free text is ignored."""
    for proposed, variant in zip(exports.mapping.forms, VARIANTS, strict=True):
        for known in variant.form.questions:
            question = proposed.question(known.text)
            if known.is_ignored:
                assert question.is_ignored, known.text
                continue
            assert (question.to, question.bridge, question.multi) == (known.to, known.bridge, known.multi)
            assert set(question.choices) <= set(known.choices), known.text  # every proposed code is right


def test_a_staging_commit_killed_mid_way_is_settled_and_redone(
    site: Site, exports: Exports, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Killed(Exception):
        pass

    steps: list[str] = []

    def kill_after_first_rename(name: str) -> None:
        steps.append(name)
        if name.startswith("renamed"):
            raise Killed

    def killed_commit(state: Any, commit: Any, prepared: Any) -> None:
        staging.commit_list(state, commit, prepared, on_step=kill_after_first_rename)

    plan = plan_migrate(
        exports.paths, exports.mapping, site.settings, MigrateOptions(pseudonym_key=KEY.encode())
    )
    module = importlib.import_module(
        "pipeline.migrate"
    )  # `pipeline.migrate` is also the re-exported function
    monkeypatch.setattr(module, "commit_list", killed_commit)
    with pytest.raises(Killed):
        migrate(plan, site.settings)
    assert steps == ["begun", "renamed ccr"]  # ccr_issues not yet renamed: the commit is half done
    monkeypatch.undo()
    report = migrate(plan, site.settings)
    staged = pq.read_table(site.settings.paths.staging_dir / "ccr.parquet")
    issues = pq.read_table(site.settings.paths.staging_dir / "ccr_issues.parquet")
    assert (
        staged.num_rows == report.written and len(set(staged.column("ccr_id").to_pylist())) == staged.num_rows
    )
    assert issues.num_rows == report.bridge_rows_written
    assert not [p for p in site.settings.paths.staging_dir.iterdir() if p.name.startswith(".")]


def test_the_emulators_own_forms_mapping_migrates_its_exports_without_unknown_answers(
    site: Site, exports: Exports
) -> None:
    """What `cetk emulator serve` writes (STATE_DIR/forms/mapping.yaml) is a complete, working mapping."""
    site.mapping_file.write_text(dump_forms_mapping(DEMO_FORMS_MAPPING), encoding="utf-8")
    report = migrate_forms(exports.paths, site.mapping_file, site.settings)
    assert report.written > 100 and "unknown-label" not in report.quarantined_by_rule
    assert report.read == report.written + report.duplicates + report.quarantined
