"""`cetk emulator serve`: the demo tenant a newcomer rehearses against, wired by the config it writes."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import msal
import pytest
import requests

import emulator.serve
from config.loader import load
from emulator.demo.force import Force
from emulator.demo.forms_mapping import DEMO_FORMS_MAPPING
from emulator.demo.list_mapping import DEMO_SITE_MAPPING
from emulator.demo.lists import DemoTenant, seed_lists
from emulator.lists.store import ListStore
from emulator.serve import DEMO_CLIENT_ID, DEMO_WORKSPACE_NAME, ServeOptions, serving
from errors import EmulatorError
from powerbi_dataset.model import DATASET
from transforms.forms_mapping import check_forms_mapping, load_forms_mapping
from transforms.list_mapping import load_mapping
from transforms.list_mapping_check import check_mapping

SMALL = {"events": 40, "ccrs": 90}


def graph_items(session: requests.Session, graph: str, site_url: str, list_name: str) -> int:
    """Count a list's items the way a client must: site by path, list by name, follow nextLink."""
    host_path = site_url.split("/sharepoint", 1)[1]
    site = session.get(f"{graph}/v1.0/sites/contoso.sharepoint.com:{host_path}", timeout=10)
    site.raise_for_status()
    url: str | None = f"{graph}/v1.0/sites/{site.json()['id']}/lists/{list_name}/items?$top=50"
    count = 0
    while url:
        page = session.get(url, timeout=10)
        page.raise_for_status()
        count += len(page.json()["value"])
        url = page.json().get("@odata.nextLink")
    return count


def test_https_demo_config_signs_in_with_its_certificate_and_reads_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = ServeOptions(port=0, https=True, state_dir=tmp_path, **SMALL)
    with serving(options) as (_server, stack, environment):
        settings = load(
            Path(environment.config_file), environ={}, keyring=None
        ).settings  # strict: it must be valid
        assert settings.auth_mode == "certificate"
        assert settings.ca_bundle is not None
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(settings.ca_bundle))
        pem = Path(environment.certificate_file).read_text()
        assert oct(Path(environment.certificate_file).stat().st_mode & 0o777) == "0o600"
        app = msal.ConfidentialClientApplication(
            DEMO_CLIENT_ID,
            client_credential={"private_key": pem, "thumbprint": settings.certificate_thumbprint},
            authority=f"{settings.endpoints.authority}/{settings.tenant_id}",
            instance_discovery=False,
        )
        result = app.acquire_token_for_client(scopes=[settings.scopes.graph])
        assert "access_token" in result, result.get("error_description")
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {result['access_token']}"
        site_url = settings.sharepoint_site_url
        assert site_url is not None
        assert (
            graph_items(session, settings.endpoints.graph, site_url, "Engagement Events") == SMALL["events"]
        )

        anonymous = requests.get(f"{settings.endpoints.powerbi}/v1.0/myorg/groups", timeout=10)
        assert anonymous.status_code == 403  # with --https, sign-in is required everywhere
        powerbi = app.acquire_token_for_client(scopes=[settings.scopes.powerbi])
        datasets = requests.get(
            f"{settings.endpoints.powerbi}/v1.0/myorg/groups/{settings.powerbi_workspace_id}/datasets",
            headers={"Authorization": f"Bearer {powerbi['access_token']}"},
            timeout=10,
        )
        # only the import model `cetk refresh` refreshes: the push dataset is made by the first publish
        assert datasets.status_code == 200
        assert [(d["name"], d["addRowsAPIEnabled"]) for d in datasets.json()["value"]] == [
            ("Community Engagement (import)", False)
        ]
        assert (settings.powerbi_mode, settings.powerbi_refresh_dataset) == (
            "push",
            "Community Engagement (import)",
        )
        assert len(environment.forms_exports) == 12
        assert environment.list_items["Community Contact Records"] == SMALL["ccrs"]
        assert len(stack.powerbi.datasets(environment.workspace_id)) == 1
        other = stack.powerbi.create_group("Another force's workspace")
        elsewhere = requests.get(
            f"{settings.endpoints.powerbi}/v1.0/myorg/groups/{other}/datasets",
            headers={"Authorization": f"Bearer {powerbi['access_token']}"},
            timeout=10,
        )
        assert elsewhere.status_code == 403  # a member of the demo workspace only


def test_http_demo_config_uses_auth_none_on_loopback_and_needs_no_token(tmp_path: Path) -> None:
    with serving(ServeOptions(port=0, state_dir=tmp_path, **SMALL)) as (_server, _stack, environment):
        settings = load(Path(environment.config_file), environ={}, keyring=None).settings
        assert settings.auth_mode == "none"
        assert settings.sharepoint_site_url is not None
        count = graph_items(
            requests.Session(), settings.endpoints.graph, settings.sharepoint_site_url, "LPTs"
        )
        assert count == 10


def test_demo_writes_its_list_and_forms_mappings_in_the_product_format(tmp_path: Path) -> None:
    with serving(ServeOptions(port=0, state_dir=tmp_path, **SMALL)) as (_server, _stack, environment):
        list_file, forms_file = Path(environment.list_mapping_file), Path(environment.forms_mapping_file)
        assert (list_file, forms_file) == (tmp_path / "mapping.yaml", tmp_path / "forms" / "mapping.yaml")
        assert str(forms_file) not in environment.forms_exports
        mapping = load_mapping(list_file.read_text(encoding="utf-8"), list_file.name)
        forms = load_forms_mapping(forms_file.read_text(encoding="utf-8"), forms_file.name)
        settings = load(Path(environment.config_file), environ={}, keyring=None).settings
    assert settings.mapping_file == list_file  # the sync reads the demo mapping with no flag
    assert mapping == DEMO_SITE_MAPPING and forms == DEMO_FORMS_MAPPING
    assert check_mapping(mapping, DATASET) == [] and check_forms_mapping(forms, DATASET) == []
    assert {one.display_name for one in mapping.lists} == set(environment.list_items)


def test_serve_refuses_a_non_loopback_address(tmp_path: Path) -> None:
    with (
        pytest.raises(EmulatorError, match="loopback only"),
        serving(ServeOptions(host="0.0.0.0", port=0, state_dir=tmp_path, **SMALL)),
    ):
        pass


def test_cli_serves_until_interrupted_and_prints_connection_json(tmp_path: Path) -> None:
    command = [sys.executable, "-c", "import cli; cli.main()", "emulator", "serve", "--port", "0", "--json"]
    command += ["--events", "30", "--ccrs", "60", "--state-dir", str(tmp_path)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CETK_")}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        lines = []
        for line in process.stdout:  # the JSON object ends with a closing brace alone on its line
            lines.append(line)
            if line == "}\n":
                break
        details = json.loads("".join(lines))
        listed = requests.get(f"{details['base_url']}/powerbi/v1.0/myorg/groups", timeout=10)
        assert listed.status_code == 200
        assert [group["id"] for group in listed.json()["value"]] == [details["workspace_id"]]
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:  # a failed assertion must not leave the server running
            process.kill()
        process.communicate(timeout=20)


# ready only when loaded: nothing answers, and no `ready` line appears, before the demo tenant is in -----------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def read_lines_until(process: subprocess.Popen[str], prefix: str, seconds: float) -> list[str]:
    """stdout's lines up to the first starting with `prefix`; fails (does not hang) if it never comes."""
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout or []], daemon=True).start()
    seen: list[str] = []
    while not seen or not seen[-1].startswith(prefix):
        try:
            seen.append(lines.get(timeout=seconds).rstrip("\n"))
        except queue.Empty:
            raise AssertionError(f"no line starting {prefix!r} in {seconds} s; got {seen}") from None
    return seen


def test_the_port_stays_closed_while_the_tenant_loads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    seen_while_loading: list[bool] = []

    def seed_and_probe(store: ListStore, force: Force) -> DemoTenant:
        seen_while_loading.append(port_open(port))
        tenant = seed_lists(store, force)
        seen_while_loading.append(port_open(port))
        return tenant

    monkeypatch.setattr(emulator.serve, "seed_lists", seed_and_probe)
    with serving(ServeOptions(port=port, state_dir=tmp_path, **SMALL)) as (server, _stack, environment):
        listed = requests.get(f"{server.base_url}/powerbi/v1.0/myorg/groups", timeout=10).json()["value"]
    assert seen_while_loading == [False, False]
    assert [group["id"] for group in listed] == [environment.workspace_id]


def test_cli_opens_the_port_with_the_tenant_loaded_and_prints_ready_last(tmp_path: Path) -> None:
    """A script that waits for the port, or for the `ready` line, must see the whole demo tenant."""
    port = free_port()
    command = [sys.executable, "-c", "import cli; cli.main()", "emulator", "serve", "--port", str(port),
               "--events", "300", "--ccrs", "3000", "--state-dir", str(tmp_path)]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("CETK_")}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 120
        while not port_open(port):  # what a script waiting for the port does
            assert process.poll() is None and time.monotonic() < deadline, (
                "the emulator never opened its port"
            )
            time.sleep(0.01)
        groups = requests.get(f"http://127.0.0.1:{port}/powerbi/v1.0/myorg/groups", timeout=60).json()[
            "value"
        ]
        assert [group["name"] for group in groups] == [DEMO_WORKSPACE_NAME]
        lines = read_lines_until(process, "ready", seconds=60)
        assert lines[-1] == f"ready http://127.0.0.1:{port}"
        assert Path(tmp_path / "cetk.yaml").is_file()  # every file is written before `ready`
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate(timeout=20)
