"""The HTTPS emulator on a manual clock, as the connector tests use it (refresh.py talks to Power BI)."""

from __future__ import annotations

from tests.connectors.conftest import clock, start_emulator, tls_dir, waits

__all__ = ["clock", "start_emulator", "tls_dir", "waits"]
