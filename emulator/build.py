"""Assemble the emulator with every service available: sign-in, Power BI, Graph lists, SharePoint REST.

Graph and SharePoint are imported lazily, so this works while those modules are absent or in progress;
each service's constructor receives whichever of `store`, `tokens`, `clock`, `options` it names.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from dataclasses import dataclass, field
from typing import Any

from emulator.app import Emulator, FaultInjector, Service
from emulator.auth import LoginService
from emulator.clock import Clock, SystemClock
from emulator.powerbi import PowerBIService
from emulator.powerbi_model import PowerBIOptions
from emulator.tokens import DEFAULT_LIFETIME_SECONDS, TokenAuthority

OPTIONAL_SERVICES = (("emulator.graph", "GraphService"), ("emulator.sharepoint", "SharePointService"))


@dataclass(frozen=True)
class EmulatorOptions:
    sharepoint_hostname: str = "contoso.sharepoint.com"
    token_lifetime_seconds: int = DEFAULT_LIFETIME_SECONDS
    device_code_lifetime_seconds: int = 900
    device_poll_interval_seconds: int = 5
    powerbi: PowerBIOptions = field(default_factory=PowerBIOptions)
    include_optional_services: bool = True
    service_options: dict[str, Any] = field(default_factory=dict)  # passed as `options` to Graph/SharePoint


@dataclass
class EmulatorStack:
    """The emulator and the parts tests reach into."""

    emulator: Emulator
    tokens: TokenAuthority
    login: LoginService
    powerbi: PowerBIService
    store: Any = None  # emulator.lists_store.ListStore when the lists services are present
    extra: dict[str, Service] = field(default_factory=dict)

    def service(self, name: str) -> Service:
        return self.emulator.service(name)


def build_emulator(
    *, clock: Clock | None = None, faults: FaultInjector | None = None, options: EmulatorOptions | None = None
) -> EmulatorStack:
    """An Emulator with all available services mounted and one shared token authority."""
    options = options or EmulatorOptions()
    clock = clock or SystemClock()
    emulator = Emulator(clock=clock)
    tokens = TokenAuthority(clock)
    login = LoginService(
        tokens,
        clock,
        token_lifetime_seconds=options.token_lifetime_seconds,
        device_code_lifetime_seconds=options.device_code_lifetime_seconds,
        device_poll_interval_seconds=options.device_poll_interval_seconds,
    )
    powerbi = PowerBIService(tokens, clock, options.powerbi)
    emulator.mount(login)
    emulator.mount(powerbi)
    stack = EmulatorStack(emulator, tokens, login, powerbi)
    if options.include_optional_services:
        _mount_optional(stack, clock, options)
    if faults is not None:
        install = getattr(faults, "install", None)
        if callable(install):
            install(emulator)
        else:
            emulator.faults = faults
    return stack


def _mount_optional(stack: EmulatorStack, clock: Clock, options: EmulatorOptions) -> None:
    available = [(m, c) for m, c in OPTIONAL_SERVICES if importlib.util.find_spec(m) is not None]
    if not available:
        return
    store_module = importlib.import_module("emulator.lists_store")
    stack.store = store_module.ListStore(clock, hostname=options.sharepoint_hostname)
    given = {"store": stack.store, "tokens": stack.tokens, "clock": clock, "options": options.service_options}
    for module_name, class_name in available:
        service_class = getattr(importlib.import_module(module_name), class_name, None)
        if service_class is None:
            continue
        accepted = inspect.signature(service_class).parameters
        service: Service = service_class(**{k: v for k, v in given.items() if k in accepted})
        stack.emulator.mount(service)
        stack.extra[service.name] = service
