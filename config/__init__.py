"""Settings, secrets and logging set-up: the only package that reads os.environ (callers pass it in)."""

from __future__ import annotations

from config.loader import Loaded, Provenance, load
from config.secrets import SECRETS, Secret
from config.settings import FIELDS, Settings

__all__ = ["FIELDS", "SECRETS", "Loaded", "Provenance", "Secret", "Settings", "load"]
