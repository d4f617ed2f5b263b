"""Fault injection for the emulator: throttling, 503s, dropped connections after commit, latency, RU budgets.

A `FaultPlan` is built in code or loaded from YAML/JSON (format in docs/emulator.md#faults). It is
deterministic for a given seed and request order; waits use an injectable sleep so tests never sleep.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from config.safe_yaml import YamlLimits, read_yaml_file
from emulator.core.app import Emulator, Service
from emulator.core.http import Request, Response
from emulator.faults.budget import ResourceBudget
from emulator.faults.reading import HINT, integer, listing, mapping, number, problem, text
from errors import ConfigError, EmulatorError

# A fault plan nests 5 levels at most (plan -> rules -> rule -> throttle -> sequence).
FAULT_PLAN_LIMITS = YamlLimits(max_bytes=1_000_000, max_depth=8, max_nodes=100_000)
DEFAULT_RETRY_AFTER_SECONDS = 5  # Dev Proxy GenericRandomErrorPlugin's retryAfterInSeconds default
_RULE_KEYS = frozenset(
    {"service", "method", "path", "throttle", "unavailable", "drop_after_commit", "latency_ms"}
)
_BUDGET_KEYS = frozenset(
    {"services", "cost_per_request", "rate_limit", "reset_window_seconds", "warning_threshold_percent"}
)


@dataclass(frozen=True)
class Injection:
    """How often a fault fires: with probability `rate`, or by a `sequence` of statuses, one per request."""

    rate: float = 0.0
    sequence: tuple[int, ...] = ()
    retry_after_seconds: int = DEFAULT_RETRY_AFTER_SECONDS


@dataclass
class FaultRule:
    """Faults for requests matching service name, method and a regex searched in the service path."""

    service: str | None = None
    method: str | None = None
    path: str | None = None
    throttle: Injection | None = None
    unavailable: Injection | None = None
    drop_after_commit: bool | int = False  # True = every matching request; N = only the Nth
    latency_ms: int = 0
    matched: int = 0

    def matches(self, service: str, request: Request) -> bool:
        return (
            (self.service is None or self.service == service)
            and (self.method is None or self.method.upper() == request.method)
            and (self.path is None or re.search(self.path, request.path) is not None)
        )


@dataclass
class FaultPlan:
    rules: list[FaultRule] = field(default_factory=list)
    budget: ResourceBudget | None = None
    seed: int = 0
    sleep: Callable[[float], None] = time.sleep
    _random: random.Random = field(init=False)
    _pending: dict[int, tuple[FaultRule | None, dict[str, str]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def install(self, emulator: Emulator) -> FaultPlan:
        """Become the fault injector of an emulator already built (build_emulator takes `faults=` too)."""
        emulator.faults = self
        return self

    @classmethod
    def from_file(cls, path: Path | str, **overrides: Any) -> FaultPlan:
        """The plan in a YAML or JSON file; any problem is an EmulatorError naming the file and the key."""
        data = _read_plan_file(Path(path))
        try:
            return cls.from_dict({} if data is None else data, **overrides)
        except EmulatorError as exc:
            raise EmulatorError(f"fault plan {path}: {exc.message}", hint=exc.hint) from exc

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], **overrides: Any) -> FaultPlan:
        """A plan from parsed YAML/JSON; a wrong key or value is an EmulatorError naming where it is."""
        plan = mapping(data, "the top level", frozenset({"seed", "rules", "budget"}))
        rules = [_rule(raw, index) for index, raw in enumerate(listing(plan.get("rules"), "rules"))]
        budget = _budget(plan["budget"]) if plan.get("budget") is not None else None
        seed = integer(plan.get("seed", 0), "seed")
        return cls(rules=rules, budget=budget, seed=seed, **overrides)

    # FaultInjector ---------------------------------------------------------------------------------

    def before(self, service: Service, request: Request, now: datetime) -> Response | None:
        with self._lock:
            fired: tuple[int, str, Injection] | None = None
            drop_rule: FaultRule | None = None
            latency_ms = 0
            for rule in self.rules:
                if not rule.matches(service.name, request):
                    continue
                rule.matched += 1
                latency_ms += rule.latency_ms
                if _drops(rule):
                    drop_rule = rule
                for status, kind, injection in (
                    (429, "throttle", rule.throttle),
                    (503, "unavailable", rule.unavailable),
                ):
                    if (
                        fired is None
                        and injection is not None
                        and self._fires(injection, rule.matched, status)
                    ):
                        fired = (status, kind, injection)
        if latency_ms:
            self.sleep(latency_ms / 1000)
        if fired is not None:
            status, _kind, injection = fired
            headers = {"Retry-After": str(injection.retry_after_seconds)} if status == 429 else {}
            message = "Too many requests." if status == 429 else "The service is temporarily unavailable."
            return self._error(service, status, message, headers)
        budget_headers: dict[str, str] = {}
        if self.budget is not None and service.name in self.budget.services:
            units = service.resource_units(request)
            decision = self.budget.charge(self.budget.cost_per_request if units is None else units, now)
            if decision.throttled:
                return self._error(
                    service, 429, "Resource unit budget exceeded; retry later.", decision.headers
                )
            budget_headers = decision.headers
        if drop_rule is not None or budget_headers:
            with self._lock:
                self._pending[id(request)] = (drop_rule, budget_headers)
        return None

    def after(self, service: Service, request: Request, response: Response) -> Response:
        with self._lock:
            drop_rule, headers = self._pending.pop(id(request), (None, {}))
        response.headers.update(headers)
        if drop_rule is not None:
            response.drop_connection = True
        return response

    # -----------------------------------------------------------------------------------------------

    def _fires(self, injection: Injection, matched: int, status: int) -> bool:
        if injection.sequence:
            return matched <= len(injection.sequence) and injection.sequence[matched - 1] == status
        return injection.rate > 0 and self._random.random() < injection.rate

    def _error(self, service: Service, status: int, message: str, headers: dict[str, str]) -> Response:
        code = "activityLimitReached" if status == 429 else "serviceNotAvailable"
        return service.error_response(status, code, message, headers)


def _drops(rule: FaultRule) -> bool:
    if rule.drop_after_commit is True:
        return True
    return rule.drop_after_commit is not False and rule.matched == int(rule.drop_after_commit)


def _injection(raw: Any, where: str) -> Injection | None:
    if raw is None:
        return None
    fields = mapping(raw, where, frozenset({"rate", "sequence", "retry_after"}))
    sequence = tuple(
        integer(status, f"{where}.sequence[{index}]", minimum=100, maximum=599)
        for index, status in enumerate(listing(fields.get("sequence"), f"{where}.sequence"))
    )
    return Injection(
        rate=number(fields.get("rate", 0.0), f"{where}.rate", minimum=0.0, maximum=1.0),
        sequence=sequence,
        retry_after_seconds=integer(
            fields.get("retry_after", DEFAULT_RETRY_AFTER_SECONDS), f"{where}.retry_after", minimum=0
        ),
    )


def _drop(raw: Any, where: str) -> bool | int:
    """true (every match), false, N or {nth: N} (only the Nth match)."""
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, Mapping):
        nth = mapping(raw, where, frozenset({"nth"})).get("nth")
        return integer(nth, f"{where}.nth", minimum=1)
    if isinstance(raw, int):
        return integer(raw, where, minimum=1)
    raise problem(where, "true, false or {nth: N}")


def _rule(raw: Any, index: int) -> FaultRule:
    where = f"rules[{index}]"
    fields = mapping(raw, where, _RULE_KEYS)
    path = text(fields.get("path"), f"{where}.path")
    if path is not None:
        try:
            re.compile(path)
        except re.error as exc:
            raise EmulatorError(
                f"{where}.path is not a valid regular expression: {exc.msg}", hint=HINT
            ) from exc
    return FaultRule(
        service=text(fields.get("service"), f"{where}.service"),
        method=text(fields.get("method"), f"{where}.method"),
        path=path,
        throttle=_injection(fields.get("throttle"), f"{where}.throttle"),
        unavailable=_injection(fields.get("unavailable"), f"{where}.unavailable"),
        drop_after_commit=_drop(fields.get("drop_after_commit", False), f"{where}.drop_after_commit"),
        latency_ms=integer(fields.get("latency_ms", 0), f"{where}.latency_ms", minimum=0),
    )


def _budget(raw: Any) -> ResourceBudget:
    fields = mapping(raw, "budget", _BUDGET_KEYS)
    defaults = ResourceBudget()
    services = listing(fields.get("services"), "budget.services")
    names = [text(name, f"budget.services[{index}]") for index, name in enumerate(services)]
    return ResourceBudget(
        services=frozenset(name for name in names if name) or defaults.services,
        rate_limit=integer(fields.get("rate_limit", defaults.rate_limit), "budget.rate_limit", minimum=1),
        reset_window_seconds=integer(
            fields.get("reset_window_seconds", defaults.reset_window_seconds),
            "budget.reset_window_seconds",
            minimum=1,
        ),
        warning_threshold_percent=integer(
            fields.get("warning_threshold_percent", defaults.warning_threshold_percent),
            "budget.warning_threshold_percent",
            minimum=0,
            maximum=100,
        ),
        cost_per_request=integer(
            fields.get("cost_per_request", defaults.cost_per_request), "budget.cost_per_request", minimum=0
        ),
    )


def _read_plan_file(path: Path) -> Any:
    """The file's YAML (JSON is YAML too), read by the product's safe reader: no aliases, capped size and
    depth; unreadable or unparsable is an EmulatorError naming the file, never quoting it."""
    try:
        return read_yaml_file(path, f"fault plan {path}", limits=FAULT_PLAN_LIMITS)
    except ConfigError as exc:
        raise EmulatorError(exc.message, hint=HINT) from None
