"""The request log: bounded, and never holding a credential (headers, query strings, sign-in form bodies)."""

from __future__ import annotations

from dataclasses import astuple

import pytest

from emulator.build import EmulatorOptions, build_emulator
from emulator.core.app import Emulator, RequestRecord
from emulator.core.clock import ManualClock

ORIGIN = "http://127.0.0.1:8765"
SECRET = "s3cr3t-VALUE-9f1c"
TOKEN_PATH = "/login/contoso/oauth2/v2.0/token"


def everything_logged(emulator: Emulator) -> str:
    """Every field of every record as one text, so a test can look for a secret anywhere in the log."""
    return repr([astuple(record) for record in emulator.request_log])


def one_record(emulator: Emulator) -> RequestRecord:
    [record] = emulator.request_log
    return record


@pytest.mark.parametrize(
    "parameter",
    ["access_token", "client_secret", "code", "sig", "client_assertion", "refresh_token", "password",
     "device_code"],
)  # fmt: skip
def test_credential_query_parameters_are_masked(parameter: str) -> None:
    emulator = build_emulator(clock=ManualClock()).emulator
    target = f"/graph/v1.0/sites/root?$top=5&{parameter}={SECRET}&keep=me"

    emulator.handle("GET", target, {}, b"", ORIGIN)

    record = one_record(emulator)
    assert SECRET not in everything_logged(emulator)
    assert record.query == f"$top=5&{parameter}=***&keep=me"  # the rest of the query is kept as sent


def test_a_percent_encoded_parameter_name_is_masked_too() -> None:
    emulator = build_emulator(clock=ManualClock()).emulator
    emulator.handle("GET", f"/powerbi/v1.0/myorg/groups?client%5Fsecret={SECRET}", {}, b"", ORIGIN)
    assert SECRET not in everything_logged(emulator)


@pytest.mark.parametrize(
    "header",
    ["Authorization", "Proxy-Authorization", "Cookie", "X-RequestDigest", "X-Api-Key", "Ocp-Apim-Subscription-Key",
     "X-Ms-Token-Aad-Access-Token", "X-Client-Secret", "X-Forwarded-Authorization"],
)  # fmt: skip
def test_credential_headers_are_masked(header: str) -> None:
    emulator = build_emulator(clock=ManualClock()).emulator
    headers = {header: SECRET, "Client-Request-Id": "abc-123", "Accept": "application/json"}

    emulator.handle("GET", "/powerbi/v1.0/myorg/groups", headers, b"", ORIGIN)

    logged = one_record(emulator).headers
    assert SECRET not in everything_logged(emulator)
    assert logged[header.lower()] == "***"
    assert logged["client-request-id"] == "abc-123" and logged["accept"] == "application/json"


def test_a_token_in_any_other_header_is_masked() -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    emulator = build_emulator(clock=ManualClock()).emulator
    emulator.handle("GET", "/powerbi/v1.0/myorg/groups", {"X-Forwarded-For": f"Bearer {jwt}"}, b"", ORIGIN)
    assert jwt not in everything_logged(emulator)


def test_sign_in_form_bodies_are_never_kept() -> None:
    emulator = build_emulator(clock=ManualClock()).emulator
    form = f"grant_type=client_credentials&client_id=app&client_secret={SECRET}&scope=x".encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    emulator.handle("POST", TOKEN_PATH, headers, form, ORIGIN)

    record = one_record(emulator)
    assert SECRET not in everything_logged(emulator)
    assert record.body_bytes == len(form)  # the size only


def test_requests_to_no_service_are_redacted_as_well() -> None:
    emulator = build_emulator(clock=ManualClock()).emulator
    emulator.handle("GET", f"/nowhere?sig={SECRET}", {"Authorization": f"Bearer {SECRET}"}, b"", ORIGIN)
    assert one_record(emulator).service == "none"
    assert SECRET not in everything_logged(emulator)


def test_the_log_keeps_the_newest_records_up_to_its_cap_and_counts_the_rest() -> None:
    emulator = build_emulator(clock=ManualClock(), options=EmulatorOptions(request_log_limit=3)).emulator

    for number in range(5):
        emulator.handle("GET", f"/powerbi/v1.0/myorg/groups?n={number}", {}, b"", ORIGIN)

    assert [record.query for record in emulator.request_log] == ["n=2", "n=3", "n=4"]
    assert emulator.dropped_records == 2
    emulator.clear_log()
    assert emulator.request_log == [] and emulator.dropped_records == 0


def test_the_default_cap_is_ten_thousand() -> None:
    emulator = Emulator()
    assert emulator.log_limit == 10_000
    for _ in range(10_001):
        emulator.handle("GET", "/nowhere", {}, b"", ORIGIN)
    assert len(emulator.request_log) == 10_000 and emulator.dropped_records == 1
