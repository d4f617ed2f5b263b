"""`cetk emulator serve`: the emulator with a demo force loaded, and a cetk config that points at it.

The demo tenant is what a newcomer needs to rehearse offline: the PowerApp's lists on a SharePoint
site, a Power BI workspace, an app registration signed in with a certificate (as production should
be), legacy Forms exports on disk, the demo force's list and Forms mappings (in the product's mapping
format, docs/mapping.md), and `cetk.yaml` wired to all of it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from emulator.build import EmulatorOptions, EmulatorStack, build_emulator
from emulator.core.certs import ClientCertificate, make_client_certificate, write_private
from emulator.core.server import RunningServer, start_server
from emulator.core.state_files import ensure_private_dir, write_private_file
from emulator.demo.force import Force, generate_force
from emulator.demo.forms import write_forms_exports
from emulator.demo.forms_mapping import DEMO_FORMS_MAPPING
from emulator.demo.list_mapping import DEMO_SITE_MAPPING
from emulator.demo.lists import DemoTenant, seed_lists
from emulator.demo.site import SITE_PATH
from emulator.faults.plan import FaultPlan, FaultRule
from emulator.testing import DEFAULT_TENANT
from errors import EmulatorError
from transforms.forms_mapping import dump_forms_mapping
from transforms.list_mapping import dump_mapping

DEMO_CLIENT_ID = "11111111-2222-4333-8444-555555555555"
DEMO_WORKSPACE_NAME = "Community Engagement (emulator)"
DEMO_APP_NAME = "cetk (emulator demo)"
DEMO_APP_ROLES = {"graph": ("Sites.Selected",), "sharepoint": ("Sites.Selected",)}
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
CONFIG_FILE = "cetk.yaml"
CLIENT_CERT_FILE = "app-credential.pem"
LIST_MAPPING_FILE = "mapping.yaml"
FORMS_MAPPING_FILE = "forms/mapping.yaml"


DEMO_IMPORT_DATASET_NAME = "Community Engagement (import)"


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8765
    https: bool = False  # without HTTPS there is no sign-in (MSAL needs https): requests need no token
    seed: int = 7
    events: int = 2000
    ccrs: int = 10000
    latency_ms: int = 0
    faults_file: Path | None = None
    state_dir: Path = Path(".cetk-emulator")

    @property
    def require_auth(self) -> bool:
        return self.https


@dataclass(frozen=True)
class DemoEnvironment:
    """Everything a client needs to reach the running emulator (the JSON `serve --json` prints)."""

    base_url: str
    tenant: str
    client_id: str
    site_url: str
    workspace_id: str
    config_file: str
    ca_file: str | None
    certificate_file: str
    certificate_thumbprint: str
    forms_exports: list[str]
    list_mapping_file: str
    forms_mapping_file: str
    list_items: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def fault_plan(options: ServeOptions) -> FaultPlan | None:
    """The fault plan from --faults, plus --latency-ms on every route."""
    if options.faults_file is None and not options.latency_ms:
        return None
    plan = FaultPlan.from_file(options.faults_file) if options.faults_file else FaultPlan()
    if options.latency_ms:
        plan.rules.append(FaultRule(latency_ms=options.latency_ms))
    return plan


@dataclass(frozen=True)
class LoadedTenant:
    """The demo force in the emulator's stores, before any port is open."""

    force: Force
    tenant: DemoTenant
    workspace_id: str
    credential: ClientCertificate


@contextmanager
def serving(options: ServeOptions) -> Iterator[tuple[RunningServer, EmulatorStack, DemoEnvironment]]:
    """Load the demo tenant, then listen on loopback, write the state files, then answer; stop afterwards.

    Nothing answers before the tenant is loaded: the port opens only once it is in the stores, and
    requests wait in the backlog until the config and the other files are written. `cetk emulator serve`
    prints `ready <base_url>` after that (docs/emulator.md#quick-start-cetk-emulator-serve).
    """
    if options.host not in LOOPBACK_HOSTS:
        raise EmulatorError(
            f"refusing to serve on {options.host}: the emulator binds to loopback only",
            hint="use --host 127.0.0.1 (the default), ::1 or localhost",
        )
    ensure_private_dir(options.state_dir)  # 0700, before the TLS files go in below it
    stack = build_emulator(
        faults=fault_plan(options), options=EmulatorOptions(require_auth=options.require_auth)
    )
    loaded = load_tenant(stack, options)
    try:
        server = start_server(
            stack.emulator,
            host=options.host,
            port=options.port,
            https=options.https,
            cert_dir=options.state_dir / "tls" if options.https else None,
            serve=False,
        )
    except OSError as exc:
        raise EmulatorError(
            f"cannot listen on {options.host}:{options.port}: {exc.strerror}",
            hint="choose another --port, or stop the program using it",
        ) from exc
    try:
        environment = write_state(stack, server, options, loaded)
        server.serve()
        yield server, stack, environment
    finally:
        server.stop()


def load_tenant(stack: EmulatorStack, options: ServeOptions) -> LoadedTenant:
    """The demo force in the PowerApp's lists, the Power BI workspace, and the app registration."""
    force = generate_force(seed=options.seed, events=options.events, ccrs=options.ccrs)
    tenant = seed_lists(stack.store, force)
    # Contributor on this one workspace: it may create and write datasets, never manage access.
    workspace_id = stack.powerbi.create_group(DEMO_WORKSPACE_NAME, members={DEMO_CLIENT_ID: "Contributor"})
    # An import-mode model beside the push dataset, as Power BI Desktop would publish one: `cetk refresh`
    # (and `make demo`) refresh it.
    stack.powerbi.add_import_dataset(workspace_id, DEMO_IMPORT_DATASET_NAME)
    credential = make_client_certificate()
    # Least privilege, as production should be: Sites.Selected, and a read grant on the demo site only.
    stack.login.register_app(DEMO_CLIENT_ID, certificate_pem=credential.certificate_pem, roles=DEMO_APP_ROLES)
    stack.store.grants.grant(tenant.site.id, DEMO_CLIENT_ID, ["read"], display_name=DEMO_APP_NAME)
    return LoadedTenant(force, tenant, workspace_id, credential)


def write_state(
    stack: EmulatorStack, server: RunningServer, options: ServeOptions, loaded: LoadedTenant
) -> DemoEnvironment:
    """The app credential, the Forms exports, the two mappings and cetk.yaml, in the state directory."""
    state_dir = ensure_private_dir(options.state_dir)
    credential = loaded.credential
    certificate_file = state_dir / CLIENT_CERT_FILE
    write_private(certificate_file, (credential.private_key_pem + credential.certificate_pem).encode())
    forms = write_forms(loaded.force, ensure_private_dir(state_dir / "forms"))
    list_mapping, forms_mapping = state_dir / LIST_MAPPING_FILE, state_dir / FORMS_MAPPING_FILE
    write_private_file(list_mapping, dump_mapping(DEMO_SITE_MAPPING).encode("utf-8"))
    write_private_file(forms_mapping, dump_forms_mapping(DEMO_FORMS_MAPPING).encode("utf-8"))
    environment = DemoEnvironment(
        base_url=server.base_url,
        tenant=DEFAULT_TENANT,
        client_id=DEMO_CLIENT_ID,
        site_url=f"{server.base_url}/sharepoint{SITE_PATH}",
        workspace_id=loaded.workspace_id,
        config_file=str(state_dir / CONFIG_FILE),
        ca_file=str(server.ca_file) if server.ca_file else None,
        certificate_file=str(certificate_file),
        certificate_thumbprint=credential.sha1_thumbprint,
        forms_exports=[str(path) for path in forms],
        list_mapping_file=str(list_mapping),
        forms_mapping_file=str(forms_mapping),
        list_items={name: len(stack.store.items(sp_list)) for name, sp_list in loaded.tenant.lists.items()},
    )
    write_private_file(Path(environment.config_file), client_config(environment, stack).encode("utf-8"))
    return environment


def write_forms(force: Force, forms_dir: Path) -> list[Path]:
    """The Forms exports, made in a fresh private scratch directory and written into `forms_dir` safely."""
    with tempfile.TemporaryDirectory(dir=forms_dir.parent, prefix=".forms-") as scratch:  # 0700, new
        written = []
        for made in write_forms_exports(force, Path(scratch)):
            write_private_file(forms_dir / made.name, made.read_bytes())
            written.append(forms_dir / made.name)
    return written


def client_config(environment: DemoEnvironment, stack: EmulatorStack) -> str:
    """A cetk.yaml that points every endpoint at the emulator; it holds paths, never secrets."""
    settings = {
        "tenant_id": environment.tenant,
        "client_id": environment.client_id,
        "auth": (
            {
                "mode": "certificate",
                "certificate_path": environment.certificate_file,
                "certificate_thumbprint": environment.certificate_thumbprint,
            }
            if environment.ca_file
            else {"mode": "none"}  # accepted only because every endpoint is on loopback
        ),
        "endpoints": {
            "authority": f"{environment.base_url}/login",
            "graph": f"{environment.base_url}/graph",
            "powerbi": f"{environment.base_url}/powerbi",
        },
        # The emulator checks audiences as Entra ID does: SharePoint tokens are for the tenant host.
        "scopes": {"sharepoint": f"https://{stack.store.hostname}/.default"},
        "sharepoint": {"site_url": environment.site_url, "mapping_file": environment.list_mapping_file},
        # sync publishes to the push dataset; the import model beside it is what `cetk refresh` refreshes
        "powerbi": {
            "workspace_id": environment.workspace_id,
            "mode": "push",
            "refresh_dataset": DEMO_IMPORT_DATASET_NAME,
        },
        "ca_bundle": environment.ca_file,
    }
    header = "# Written by `cetk emulator serve`: points cetk at the local emulator. No secrets here.\n"
    return header + yaml.safe_dump(settings, sort_keys=False)
