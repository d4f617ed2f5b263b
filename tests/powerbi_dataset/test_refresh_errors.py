"""serviceExceptionJson, a JSON document inside a string, decoded into a code, a masked message and a fix."""

from __future__ import annotations

import json

import pytest

from powerbi_dataset.refresh_errors import decode_failure, likely_fix

SWAGGER_EXAMPLE = '{"errorCode":"ModelRefreshFailed_CredentialsNotSpecified"}'
GATEWAY_CREDENTIALS = json.dumps(
    {
        "error": {
            "code": "DM_GWPipeline_Gateway_InvalidConnectionCredentials",
            "pbi.error": {
                "code": "DM_GWPipeline_Gateway_InvalidConnectionCredentials",
                "parameters": {},
                "details": [
                    {
                        "code": "DM_ErrorDetailNameCode_UnderlyingErrorCode",
                        "detail": {"type": 1, "value": "-2147467259"},
                    },
                    {
                        "code": "DM_ErrorDetailNameCode_UnderlyingErrorMessage",
                        "detail": {
                            "type": 1,
                            "value": "<ccon>The credentials provided for the SharePoint source are invalid.</ccon> (Source at <ccon>https://contoso.sharepoint.com/sites/x</ccon>.)",
                        },
                    },
                ],
                "exceptionCulprit": 1,
            },
        }
    }
)


def test_the_swagger_example_names_the_code_and_the_credentials_fix() -> None:
    failure = decode_failure("Failed", [SWAGGER_EXAMPLE])
    assert failure.code == "ModelRefreshFailed_CredentialsNotSpecified" and failure.message is None
    assert "Data source credentials" in failure.fix
    assert failure.describe().startswith(
        "ModelRefreshFailed_CredentialsNotSpecified. Likely fix: the data source"
    )


def test_an_error_body_inside_the_string_gives_its_code_and_a_masked_underlying_message() -> None:
    failure = decode_failure("Failed", [GATEWAY_CREDENTIALS])
    assert failure.code == "DM_GWPipeline_Gateway_InvalidConnectionCredentials"
    assert failure.message == "*** (Source at ***.)"  # customer content is never shown
    assert "credentials" in failure.fix


def test_the_attempts_are_read_when_the_entry_has_none() -> None:
    attempt = json.dumps(
        {"errorCode": "DM_GWPipeline_Client_GatewayUnreachable", "errorDescription": "No gateway"}
    )
    failure = decode_failure("Failed", [None, attempt])
    assert (failure.code, failure.message) == ("DM_GWPipeline_Client_GatewayUnreachable", "No gateway")
    assert "data gateway" in failure.fix


@pytest.mark.parametrize(
    ("code", "fix_fragment"),
    [
        ("DMTS_OAuthTokenRefreshFailedError", "sign in again"),
        ("DMTS_MonikerWithUnboundDataSources", "not bound"),
        ("ModelRefresh_ShortMessage_Timeout", "longer than the capacity allows"),
        ("ModelRefresh_ShortMessage_ResourceLimitExceeded", "out of memory"),
        ("Something_New", "Refresh history"),
    ],
)
def test_likely_fixes_by_code(code: str, fix_fragment: str) -> None:
    assert fix_fragment in likely_fix(code, None)


def test_text_that_is_not_json_is_kept_as_the_message_and_disabled_has_its_own_fix() -> None:
    assert decode_failure("Failed", ["Timeout expired <pi>x</pi>"]).message == "Timeout expired ***"
    disabled = decode_failure("Disabled", [])
    assert disabled.code is None and "Disabled" in disabled.fix
    assert decode_failure("Cancelled", []).fix.startswith("someone or something cancelled")
