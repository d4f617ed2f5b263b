"""The real msal runs unmodified against the HTTPS emulator: client secret, certificate, device code."""

from __future__ import annotations

import time
from collections.abc import Iterator

import msal
import msal.oauth2cli.oauth2 as msal_oauth2
import pytest
import requests

from emulator.build import EmulatorOptions
from emulator.core.certs import make_client_certificate
from emulator.core.clock import ManualClock
from emulator.testing import RunningEmulator, running_emulator

TENANT = "contoso.onmicrosoft.com"
PBI_SCOPE = ["https://analysis.windows.net/powerbi/api/.default"]
GRAPH_SCOPE = ["https://graph.microsoft.com/.default"]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def emu(
    clock: ManualClock, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RunningEmulator]:
    cert_dir = tmp_path_factory.mktemp("tls")
    with running_emulator(https=True, clock=clock, cert_dir=cert_dir) as running:
        # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE win over a session's verify=, so set them too.
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(running.ca_file))
        monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
        yield running


def confidential(
    emu: RunningEmulator, client_id: str, credential: object
) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        client_id,
        client_credential=credential,
        authority=emu.authority(TENANT),
        instance_discovery=False,
        verify=str(emu.ca_file),
    )


def powerbi_groups_status(emu: RunningEmulator, token: str, member: str = "app-secret") -> int:
    group = emu.powerbi.create_group("CE", members={member: "Viewer"})
    url = emu.url("powerbi", f"/v1.0/myorg/groups/{group}/datasets")
    response = requests.get(
        url, headers={"Authorization": f"Bearer {token}"}, verify=str(emu.ca_file), timeout=10
    )
    return response.status_code


def test_client_secret_gets_a_powerbi_token_the_service_accepts(emu: RunningEmulator) -> None:
    emu.login.register_app("app-secret", secret="s3cret-value")
    app = confidential(emu, "app-secret", "s3cret-value")

    result = app.acquire_token_for_client(scopes=PBI_SCOPE)

    assert result["token_type"] == "Bearer"
    assert result["expires_in"] == 3599
    assert result["token_source"] == "identity_provider"
    assert powerbi_groups_status(emu, result["access_token"]) == 200
    assert app.acquire_token_for_client(scopes=PBI_SCOPE)["token_source"] == "cache"


def test_wrong_secret_is_invalid_client_401_with_aadsts7000215(emu: RunningEmulator) -> None:
    emu.login.register_app("app-secret", secret="right")
    result = confidential(emu, "app-secret", "wrong").acquire_token_for_client(scopes=PBI_SCOPE)

    assert result["error"] == "invalid_client"
    assert result["error_description"].startswith("AADSTS7000215:")
    assert result["error_codes"] == [7000215]
    assert {"trace_id", "correlation_id", "timestamp"} <= set(result)
    assert [r.status for r in emu.emulator.request_log if r.service == "login"][-1] == 401


@pytest.mark.parametrize("with_thumbprint", [True, False], ids=["RS256-x5t", "PS256-x5t#S256"])
def test_certificate_credential_signs_a_verified_assertion(
    emu: RunningEmulator, with_thumbprint: bool
) -> None:
    cert = make_client_certificate()
    emu.login.register_app("app-cert", certificate_pem=cert.certificate_pem)
    credential: dict[str, str] = {"private_key": cert.private_key_pem}
    if with_thumbprint:
        credential["thumbprint"] = cert.sha1_thumbprint
    else:
        credential["public_certificate"] = cert.certificate_pem

    result = confidential(emu, "app-cert", credential).acquire_token_for_client(scopes=GRAPH_SCOPE)

    assert "access_token" in result, result


def test_assertion_signed_by_another_certificate_is_refused(emu: RunningEmulator) -> None:
    registered, other = make_client_certificate("registered"), make_client_certificate("other")
    emu.login.register_app("app-cert", certificate_pem=registered.certificate_pem)
    credential = {"private_key": other.private_key_pem, "thumbprint": registered.sha1_thumbprint}

    result = confidential(emu, "app-cert", credential).acquire_token_for_client(scopes=GRAPH_SCOPE)

    assert result["error"] == "invalid_client"
    assert result["error_description"].startswith("AADSTS700027:")


def test_token_expires_on_the_emulator_clock(emu: RunningEmulator, clock: ManualClock) -> None:
    emu.login.register_app("app-secret", secret="s3cret-value")
    token = confidential(emu, "app-secret", "s3cret-value").acquire_token_for_client(scopes=PBI_SCOPE)[
        "access_token"
    ]
    group = emu.powerbi.create_group("CE", members={"app-secret": "Viewer"})
    url = emu.url("powerbi", f"/v1.0/myorg/groups/{group}/datasets")
    headers = {"Authorization": f"Bearer {token}"}

    clock.advance(3598)
    assert requests.get(url, headers=headers, verify=str(emu.ca_file), timeout=10).status_code == 200
    clock.advance(2)
    expired = requests.get(url, headers=headers, verify=str(emu.ca_file), timeout=10)

    assert expired.status_code == 403
    assert expired.json() == {
        "error": {
            "code": "TokenExpired",
            "message": "Access token has expired, resubmit with a new access token",
        }
    }


def test_token_lifetime_is_configurable(
    clock: ManualClock, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = EmulatorOptions(token_lifetime_seconds=600)
    with running_emulator(
        https=True, clock=clock, options=options, cert_dir=tmp_path_factory.mktemp("t")
    ) as emu:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(emu.ca_file))
        monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
        emu.login.register_app("app", secret="x")
        assert confidential(emu, "app", "x").acquire_token_for_client(scopes=PBI_SCOPE)["expires_in"] == 600


class FakeTime:
    """Stands in for msal's `time` module: sleeping advances the emulator clock and a virtual wall clock."""

    def __init__(self, clock: ManualClock, on_sleep: object) -> None:
        self.clock, self.offset, self.on_sleep, self.slept = clock, 0.0, on_sleep, 0.0

    def time(self) -> float:
        return time.time() + self.offset

    def sleep(self, seconds: float) -> None:
        self.offset += seconds
        self.slept += seconds
        self.clock.advance(seconds)
        if callable(self.on_sleep):
            self.on_sleep()


def test_device_code_flow_pends_until_approved(
    emu: RunningEmulator, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    emu.login.register_app("public-app", public_client=True)
    app = msal.PublicClientApplication(
        "public-app", authority=emu.authority(TENANT), instance_discovery=False, verify=str(emu.ca_file)
    )
    flow = app.initiate_device_flow(scopes=["https://graph.microsoft.com/Sites.Selected"])
    assert "user_code" in flow, flow
    assert flow["interval"] == 5
    approvals: list[str] = []

    def approve_after_first_full_interval() -> None:
        if fake.slept >= 5 and not approvals:
            approvals.append(
                emu.login.approve_device_code(flow["user_code"], username="pc.smith@contoso.example")
            )

    fake = FakeTime(clock, approve_after_first_full_interval)
    monkeypatch.setattr(msal_oauth2, "time", fake)

    result = app.acquire_token_by_device_flow(flow)

    assert "access_token" in result, result
    assert result["id_token_claims"]["preferred_username"] == "pc.smith@contoso.example"
    assert {"refresh_token", "client_info"} <= set(result)
    token_statuses = [r.status for r in emu.emulator.request_log if r.path.endswith("/token")]
    assert token_statuses == [400, 200]  # authorization_pending, then the token
    accounts = app.get_accounts()
    assert [a["username"] for a in accounts] == ["pc.smith@contoso.example"]


def test_device_code_expires_and_fast_polling_is_slowed(emu: RunningEmulator, clock: ManualClock) -> None:
    emu.login.register_app("public-app", public_client=True)
    base = emu.url("login", f"/{TENANT}/oauth2/v2.0")
    verify = str(emu.ca_file)
    flow = requests.post(
        f"{base}/devicecode",
        data={"client_id": "public-app", "scope": "User.Read offline_access"},
        verify=verify,
        timeout=10,
    ).json()
    poll = {
        "client_id": "public-app",
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        "device_code": flow["device_code"],
    }

    first = requests.post(f"{base}/token", data=poll, verify=verify, timeout=10).json()
    second = requests.post(f"{base}/token", data=poll, verify=verify, timeout=10).json()
    clock.advance(flow["expires_in"])
    third = requests.post(f"{base}/token", data=poll, verify=verify, timeout=10).json()

    assert [first["error"], second["error"], third["error"]] == [
        "authorization_pending",
        "slow_down",
        "expired_token",
    ]
    assert third["error_description"].startswith("AADSTS70020:")
