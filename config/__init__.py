"""Settings, secrets and logging set-up: the only package that reads os.environ (callers pass it in).

Lazy (PEP 562), as `pipeline` is: importing `config.settings` does not load the file loader and PyYAML;
`from config import load` imports config/loader.py on first use (docs/architecture.md, "Lazy imports").
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from config.loader import Loaded, Provenance, load
    from config.secrets import SECRETS, Secret
    from config.settings import FIELDS, Settings

_NAMES_BY_MODULE = {
    "loader": ("Loaded", "Provenance", "load"),
    "secrets": ("SECRETS", "Secret"),
    "settings": ("FIELDS", "Settings"),
}
# Each re-exported name -> the module of this package that defines it.
EXPORTS: dict[str, str] = {name: module for module, names in _NAMES_BY_MODULE.items() for name in names}


def __getattr__(name: str) -> Any:
    """PEP 562: a re-exported name imports its module on first use, then stays in the package."""
    module = EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = ["FIELDS", "SECRETS", "Loaded", "Provenance", "Secret", "Settings", "load"]
