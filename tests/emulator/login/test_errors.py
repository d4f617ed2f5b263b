"""Sign-in refusals in Entra's shapes, called in-process (no MSAL caching in the way)."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from typing import Any
from urllib.parse import urlencode

import jwt
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from emulator.build import EmulatorStack
from emulator.core.certs import ClientCertificate, make_client_certificate
from emulator.core.clock import ManualClock
from emulator.core.http import Response
from emulator.login.assertion import ASSERTION_TYPE

ORIGIN = "https://127.0.0.1:8443"
TOKEN_PATH = "/login/contoso/oauth2/v2.0/token"
TOKEN_URL = ORIGIN + TOKEN_PATH


def token(stack: EmulatorStack, **form: str) -> tuple[int, dict[str, Any]]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    response: Response = stack.emulator.handle("POST", TOKEN_PATH, headers, urlencode(form).encode(), ORIGIN)
    return response.status, json.loads(response.body)


def assertion(cert: ClientCertificate, **claims: Any) -> str:
    der = x509.load_pem_x509_certificate(cert.certificate_pem.encode()).public_bytes(Encoding.DER)
    x5t = base64.urlsafe_b64encode(hashlib.sha1(der).digest()).decode()
    now = int(time.time())
    body = {"aud": TOKEN_URL, "iss": "app", "sub": "app", "exp": now + 600, "iat": now, "jti": "1", **claims}
    return jwt.encode(body, cert.private_key_pem, algorithm="RS256", headers={"x5t": x5t})


def test_one_resource_per_request(stack: EmulatorStack) -> None:
    stack.login.register_app("app", secret="s")
    scope = "https://graph.microsoft.com/.default https://analysis.windows.net/powerbi/api/.default"

    status, answer = token(
        stack, client_id="app", client_secret="s", grant_type="client_credentials", scope=scope
    )

    assert status == 400 and answer["error"] == "invalid_scope"
    assert answer["error_description"].startswith("AADSTS70011:")


def test_sharepoint_scope_gets_the_tenant_host_audience(stack: EmulatorStack) -> None:
    stack.login.register_app("app", secret="s")
    scope = "https://contoso.sharepoint.com/.default"

    status, answer = token(
        stack, client_id="app", client_secret="s", grant_type="client_credentials", scope=scope
    )

    assert status == 200
    assert (
        stack.tokens.verify(f"Bearer {answer['access_token']}", "https://contoso.sharepoint.com")
        != "wrong-audience"
    )


@pytest.mark.parametrize(
    ("form", "status", "code"),
    [
        ({"client_id": "nobody", "client_secret": "s"}, 400, 700016),
        ({"client_id": "app"}, 401, 7000218),
        ({"client_id": "public", "client_secret": "s"}, 401, 7000218),
    ],
)
def test_client_refusals(stack: EmulatorStack, form: dict[str, str], status: int, code: int) -> None:
    stack.login.register_app("app", secret="s")
    stack.login.register_app("public", public_client=True)
    scope = "https://graph.microsoft.com/.default"

    got, answer = token(stack, grant_type="client_credentials", scope=scope, **form)

    assert (got, answer["error_codes"]) == (status, [code])
    assert answer["error_description"].startswith(f"AADSTS{code}:")


@pytest.mark.parametrize(
    ("claims", "code"),
    [({"aud": "https://login.microsoftonline.com/x/oauth2/v2.0/token"}, 700023), ({"iss": "other"}, 700021), ({"exp": 1}, 700024)],
)  # fmt: skip
def test_assertion_claims_are_checked(stack: EmulatorStack, claims: dict[str, Any], code: int) -> None:
    cert = make_client_certificate()
    stack.login.register_app("app", certificate_pem=cert.certificate_pem)

    status, answer = token(
        stack,
        client_id="app",
        grant_type="client_credentials",
        scope="https://graph.microsoft.com/.default",
        client_assertion_type=ASSERTION_TYPE,
        client_assertion=assertion(cert, **claims),
    )

    assert status == 401 and answer["error_codes"] == [code]


def test_valid_handmade_assertion_is_accepted(stack: EmulatorStack) -> None:
    cert = make_client_certificate()
    stack.login.register_app("app", certificate_pem=cert.certificate_pem)
    status, _ = token(
        stack,
        client_id="app",
        grant_type="client_credentials",
        scope="https://graph.microsoft.com/.default",
        client_assertion_type=ASSERTION_TYPE,
        client_assertion=assertion(cert),
    )
    assert status == 200


def test_refresh_token_is_single_use_and_renews_after_expiry(
    stack: EmulatorStack, clock: ManualClock
) -> None:
    stack.login.register_app("public", public_client=True)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    form = urlencode(
        {"client_id": "public", "scope": "https://analysis.windows.net/powerbi/api/Dataset.ReadWrite.All"}
    )
    flow = json.loads(
        stack.emulator.handle(
            "POST", "/login/contoso/oauth2/v2.0/devicecode", headers, form.encode(), ORIGIN
        ).body
    )
    stack.login.approve_device_code(flow["user_code"])
    grant = "urn:ietf:params:oauth:grant-type:device_code"
    _, first = token(stack, client_id="public", grant_type=grant, device_code=flow["device_code"])
    clock.advance(3600)
    assert (
        stack.tokens.verify(f"Bearer {first['access_token']}", "https://analysis.windows.net/powerbi/api")
        == "expired"
    )

    status, renewed = token(
        stack, client_id="public", grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    reused, _ = token(
        stack, client_id="public", grant_type="refresh_token", refresh_token=first["refresh_token"]
    )

    assert status == 200 and reused == 400
    claims = stack.tokens.verify(
        f"Bearer {renewed['access_token']}", "https://analysis.windows.net/powerbi/api"
    )
    assert not isinstance(claims, str) and claims.raw["scp"] == "Dataset.ReadWrite.All"
