"""Fault injection for the emulator: throttling, 503s, dropped connections after commit, latency, RU budgets.

A `FaultPlan` is built in code or loaded from YAML/JSON (format in docs/emulator.md#faults). It is
deterministic for a given seed and request order; waits use an injectable sleep so tests never sleep.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from config.safe_yaml import YamlLimits, read_yaml_file
from emulator.core.app import Emulator, Service
from emulator.core.http import Request, Response
from emulator.faults.budget import ResourceBudget
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
        try:  # the product's safe YAML reader: no aliases, capped size and depth, never a traceback
            data = read_yaml_file(Path(path), f"fault plan {path}", limits=FAULT_PLAN_LIMITS) or {}
        except ConfigError as exc:
            raise EmulatorError(exc.message, hint="see docs/emulator.md#faults for the format") from None
        if not isinstance(data, Mapping):
            raise EmulatorError(f"fault plan {path}: the top level must be a mapping (seed, rules, budget)")
        return cls.from_dict(data, **overrides)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], **overrides: Any) -> FaultPlan:
        unknown = set(data) - {"seed", "rules", "budget"}
        if unknown:
            raise EmulatorError(f"unknown fault plan keys: {sorted(unknown)}")
        rules = [_rule(raw, index) for index, raw in enumerate(data.get("rules") or [])]
        budget = _budget(data["budget"]) if data.get("budget") is not None else None
        return cls(rules=rules, budget=budget, seed=int(data.get("seed", 0)), **overrides)

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
    if not isinstance(raw, Mapping) or set(raw) - {"rate", "sequence", "retry_after"}:
        raise EmulatorError(f"{where} takes rate, sequence and retry_after")
    sequence: Sequence[Any] = raw.get("sequence") or ()
    rate = float(raw.get("rate", 0.0))
    if not 0.0 <= rate <= 1.0:
        raise EmulatorError(f"{where}.rate must be between 0 and 1")
    return Injection(
        rate, tuple(int(s) for s in sequence), int(raw.get("retry_after", DEFAULT_RETRY_AFTER_SECONDS))
    )


def _rule(raw: Any, index: int) -> FaultRule:
    where = f"rules[{index}]"
    if not isinstance(raw, Mapping) or set(raw) - _RULE_KEYS:
        raise EmulatorError(f"{where} may only hold {sorted(_RULE_KEYS)}")
    drop = raw.get("drop_after_commit", False)
    if isinstance(drop, Mapping):
        drop = int(drop["nth"])
    if raw.get("path") is not None:
        try:
            re.compile(raw["path"])
        except re.error as exc:
            raise EmulatorError(f"{where}.path is not a valid regex: {exc}") from exc
    return FaultRule(
        service=raw.get("service"),
        method=raw.get("method"),
        path=raw.get("path"),
        throttle=_injection(raw.get("throttle"), f"{where}.throttle"),
        unavailable=_injection(raw.get("unavailable"), f"{where}.unavailable"),
        drop_after_commit=drop if isinstance(drop, bool) else int(drop),
        latency_ms=int(raw.get("latency_ms", 0)),
    )


def _budget(raw: Any) -> ResourceBudget:
    if not isinstance(raw, Mapping) or set(raw) - _BUDGET_KEYS:
        raise EmulatorError(f"budget may only hold {sorted(_BUDGET_KEYS)}")
    defaults = ResourceBudget()
    return ResourceBudget(
        services=frozenset(raw.get("services") or defaults.services),
        rate_limit=int(raw.get("rate_limit", defaults.rate_limit)),
        reset_window_seconds=int(raw.get("reset_window_seconds", defaults.reset_window_seconds)),
        warning_threshold_percent=int(
            raw.get("warning_threshold_percent", defaults.warning_threshold_percent)
        ),
        cost_per_request=int(raw.get("cost_per_request", defaults.cost_per_request)),
    )
