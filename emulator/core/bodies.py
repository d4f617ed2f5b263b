"""What a service accepts as a request body, checked once for every route before the handler runs.

A service that reads JSON bodies declares `body_rules` (a `BodyRules`): the emulator then refuses, in
that service's own error shape, a body nested past the JSON depth cap. Services that read no JSON
(sign-in takes forms) declare none.
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


def check_body(rules: BodyRules | None, request: Request) -> Refusal | None:
    """The refusal for this request's body, or None to let the handler read it.

    A body that is merely not JSON is left to the handler, which words that refusal itself.
    """
    if rules is None or not request.body:
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
