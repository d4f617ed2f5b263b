"""How SharePoint REST refuses request bodies (docs/emulator.md#security), checked by the emulator's core.

Another Content-Type than JSON on a write: 415 and its message (sharepoint.stackexchange.com/q/191178);
the code, and the deep-nesting refusal, are UNCONFIRMED. A POST with no body and no Content-Type
(`_api/contextinfo`) passes.
"""

from __future__ import annotations

from emulator.core.bodies import BodyRules, Refusal
from emulator.core.http import MAX_JSON_DEPTH

SHAREPOINT_BODY_RULES = BodyRules(
    too_deep=Refusal(
        400,
        "-1, Microsoft.SharePoint.Client.InvalidClientQueryException",
        f"The request body is nested deeper than {MAX_JSON_DEPTH} levels.",
    ),
    unsupported_type=Refusal(
        415,
        "-1, Microsoft.SharePoint.Client.ClientServiceException",
        "The HTTP header Content-Type is missing or its value is invalid.",
    ),
)
