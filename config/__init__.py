"""Settings, secrets and logging set-up: the only package that reads os.environ (callers pass it in)."""

from __future__ import annotations

from config.loader import load
from config.secrets import Secret
from config.settings import FIELDS, Settings

__all__ = ["FIELDS", "Secret", "Settings", "load"]
