"""What a service accepts as a request body, checked once for every route before the handler runs.

A service that reads JSON bodies declares `body_rules` (a `BodyRules`): the emulator then refuses, in
that service's own error shape, a write (POST, PUT, PATCH) whose Content-Type is not JSON, and a body
nested past the JSON depth cap. A `text/plain` or form POST is what any web page can send to a loopback
port without the browser asking first (CSRF); a JSON Content-Type it cannot send without a CORS
preflight, which the emulator never grants. Services whose contract is a form (sign-in) declare no rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from emulator.core.http import JsonTooDeep, Request


@dataclass(frozen=True)
class Refusal:
    """A status, code and message as the service words them."""

    status: int
    code: str
    message: str


@dataclass(frozen=True)
class BodyRules:
    """How one service refuses a JSON body it will not read."""

    too_deep: Refusal  # nested past emulator.core.http.MAX_JSON_DEPTH
    unsupported_type: Refusal  # a write whose Content-Type is not application/json (parameters allowed)
    missing_type: Refusal | None = None  # a write with no Content-Type; None: allowed when there is no body


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH"})  # DELETE carries no body (Graph: "excluding DELETE")
JSON_MEDIA_TYPES = frozenset({"application/json"})  # `;odata=verbose`, `;charset=utf-8` are parameters


def media_type(content_type: str) -> str:
    """`Application/JSON; charset=utf-8` -> `application/json`."""
    return content_type.split(";", 1)[0].strip().lower()


def check_body(rules: BodyRules | None, request: Request) -> Refusal | None:
    """The refusal for this request's body, or None to let the handler read it.

    A body that is merely not JSON is left to the handler, which words that refusal itself.
    """
    if rules is None:
        return None
    if request.method in WRITE_METHODS:
        declared = (request.header("content-type") or "").strip()
        if not declared:
            if rules.missing_type is not None:
                return rules.missing_type
            if request.body:
                return rules.unsupported_type
        elif media_type(declared) not in JSON_MEDIA_TYPES:
            return rules.unsupported_type
    if not request.body:
        return None
    try:
        request.json()  # parsed once: the handler gets the same value
    except JsonTooDeep:
        return rules.too_deep
    except ValueError:
        return None
    return None


def body_rules(service: object) -> BodyRules | None:
    """The service's `body_rules`, if it declares them."""
    rules = getattr(service, "body_rules", None)
    return rules if isinstance(rules, BodyRules) else None
