"""Run the whole emulator in-process for tests and demos: `with running_emulator() as emu: ...`.

`emu.base_url` is the socket's address; `emu.authority(tenant)` is what MSAL takes; `emu.ca_file` is
the CA bundle to trust when `https=True`. The clock and fault-plan types a test passes in are
re-exported here, so tests need only this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from emulator.build import EmulatorOptions, EmulatorStack, build_emulator
from emulator.core.app import Emulator, FaultInjector
from emulator.core.clock import Clock, ManualClock, SystemClock
from emulator.core.server import RunningServer, ServerLimits, start_server
from emulator.faults.budget import ResourceBudget
from emulator.faults.plan import FaultPlan, FaultRule, Injection
from emulator.login.service import LoginService
from emulator.powerbi.model import PowerBIOptions
from emulator.powerbi.service import PowerBIService

__all__ = [
    "DEFAULT_TENANT", "EmulatorOptions", "EmulatorStack", "FaultPlan", "FaultRule", "Injection", "ManualClock",
    "PowerBIOptions", "ResourceBudget", "RunningEmulator", "ServerLimits", "SystemClock", "build_emulator",
    "running_emulator",
]  # fmt: skip

DEFAULT_TENANT = "contoso.onmicrosoft.com"


@dataclass
class RunningEmulator:
    stack: EmulatorStack
    server: RunningServer

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def ca_file(self) -> Path | None:
        return self.server.ca_file

    @property
    def emulator(self) -> Emulator:
        return self.stack.emulator

    @property
    def login(self) -> LoginService:
        return self.stack.login

    @property
    def powerbi(self) -> PowerBIService:
        return self.stack.powerbi

    def authority(self, tenant: str = DEFAULT_TENANT) -> str:
        return f"{self.base_url}/login/{tenant}"

    def url(self, service: str, path: str) -> str:
        """An absolute URL below a service's mount, e.g. url("powerbi", "/v1.0/myorg/groups")."""
        return f"{self.base_url}/{service}{path}"


@contextmanager
def running_emulator(
    *,
    https: bool = False,
    clock: Clock | None = None,
    faults: FaultInjector | None = None,
    options: EmulatorOptions | None = None,
    cert_dir: Path | str | None = None,
    port: int = 0,
    limits: ServerLimits | None = None,
) -> Iterator[RunningEmulator]:
    """Build every available service, serve it on loopback (`limits` on connections), stop it afterwards."""
    stack = build_emulator(clock=clock, faults=faults, options=options)
    server = start_server(stack.emulator, port=port, https=https, cert_dir=cert_dir, limits=limits)
    try:
        yield RunningEmulator(stack, server)
    finally:
        server.stop()
