"""A demo force's site on the in-process emulator, a cetk.yaml pointing at it, and `cetk sync` run against it
with the injected clock: the set-up of the end-to-end sync tests (tests/test_pipeline_sync*.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from config.loader import load
from config.settings import Settings
from emulator.demo.force import Force
from emulator.demo.list_mapping import DEMO_SITE_MAPPING
from emulator.demo.lists import DemoTenant, seed_lists
from emulator.lists.store import SpList
from emulator.testing import EmulatorOptions, FaultPlan, RunningEmulator, running_emulator
from pipeline.sync import SyncResult, sync
from tests.connectors.conftest import ManualTime, Waits
from transforms.list_mapping import SiteMapping, dump_mapping

KEY = "demo-force-pseudonymisation-key-for-tests"


@dataclass
class SyncWorld:
    emu: RunningEmulator
    clock: ManualTime
    waits: Waits
    tenant: DemoTenant
    root: Path
    settings: Settings
    site_path: str
    seen: int = 0  # requests in the emulator's log before the last run
    extra: dict[str, Any] = field(default_factory=dict)

    def run(self, **options: Any) -> SyncResult:
        self.seen = len(self.emu.emulator.request_log)
        return sync(self.settings, sleep=self.waits, clock=self.clock.time, jitter=lambda: 0.0, **options)

    def sp_list(self, name: str) -> SpList:
        return self.tenant.lists[name]

    @property
    def staging(self) -> Path:
        return self.settings.paths.staging_dir

    @property
    def quarantine(self) -> Path:
        return self.settings.paths.quarantine_dir

    def staged(self, table: str) -> pa.Table:
        return pq.read_table(self.staging / f"{table}.parquet")

    def quarantined(self, table: str) -> pa.Table | None:
        path = self.quarantine / f"{table}.parquet"
        return pq.read_table(path) if path.exists() else None

    def last_requests(self) -> list[Any]:
        return [r for r in self.emu.emulator.request_log[self.seen :] if r.service == "graph"]

    def requests_per_list(self) -> Counter[str]:
        """Graph requests of the last run, per list id (or list name, for a request by name)."""
        counted: Counter[str] = Counter()
        for record in self.last_requests():
            parts = record.path.split("/lists/")
            counted[parts[1].split("/")[0] if len(parts) > 1 else "-"] += 1
        return counted

    def item_ids(self, name: str) -> list[str]:
        return [item.id for item in self.emu.stack.store.items(self.sp_list(name))]


def write_settings(
    root: Path,
    emu: RunningEmulator,
    mapping: SiteMapping,
    site_path: str,
    *,
    environ: dict[str, str] | None = None,
    authority: str | None = None,
    **extra: Any,
) -> Settings:
    root.mkdir(parents=True, exist_ok=True)
    (root / "mapping.yaml").write_text(dump_mapping(mapping), encoding="utf-8")
    document: dict[str, Any] = {
        "auth": {"mode": "none"},  # accepted: every endpoint is the loopback emulator
        "endpoints": {
            "authority": authority or emu.url("login", ""),
            "graph": emu.url("graph", ""),
            "powerbi": emu.url("powerbi", ""),
        },
        "sharepoint": {"site_url": emu.url("sharepoint", site_path)},
        "paths": {
            "staging_dir": str(root / "staging"),
            "quarantine_dir": str(root / "staging" / "quarantine"),
            "state_dir": str(root / "staging" / "state"),
        },
        **extra,
    }
    (root / "cetk.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    return load(
        root / "cetk.yaml", {"CETK_PSEUDONYMISATION_KEY": KEY, **(environ or {})}, keyring=None
    ).settings


@contextmanager
def demo_world(
    force: Force,
    root: Path,
    clock: ManualTime,
    *,
    faults: FaultPlan | dict[str, Any] | None = None,
    options: EmulatorOptions | None = None,
    https_dir: Path | None = None,
    environ: dict[str, str] | None = None,
    authority: str | None = None,
    **settings_extra: Any,
) -> Iterator[SyncWorld]:
    """The demo force's lists on the emulator (plain HTTP with no sign-in, unless `https_dir` is given for
    its TLS files and `settings_extra` holds the auth settings), and the demo's own mapping file."""
    plan = FaultPlan.from_dict(faults) if isinstance(faults, dict) else faults
    options = options or EmulatorOptions(require_auth=https_dir is not None)
    https = https_dir is not None
    with running_emulator(clock=clock, faults=plan, options=options, https=https, cert_dir=https_dir) as emu:
        tenant = seed_lists(emu.stack.store, force)
        if https:
            settings_extra.setdefault("ca_bundle", str(emu.ca_file))
        settings = write_settings(
            root,
            emu,
            DEMO_SITE_MAPPING,
            tenant.site.path,
            environ=environ,
            authority=authority,
            **settings_extra,
        )
        yield SyncWorld(emu, clock, Waits(clock), tenant, root, settings, tenant.site.path)


def every_file(*folders: Path) -> Iterator[Path]:
    for folder in folders:
        if folder.exists():
            yield from (path for path in folder.rglob("*") if path.is_file())


def text_of(path: Path) -> str:
    """A file as text: Parquet as every cell of every column, anything else as its bytes decoded."""
    if path.suffix == ".parquet":
        table = pq.read_table(path)
        return "\n".join(str(value) for column in table.columns for value in column.to_pylist())
    return path.read_bytes().decode("utf-8", errors="replace")
