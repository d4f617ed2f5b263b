"""Settings, secrets and logging set-up: the only package that reads os.environ (callers pass it in).

Lazy (PEP 562), as `pipeline` is: importing `config.settings` does not load the file loader and PyYAML;
`from config import load` imports config/loader.py on first use (docs/architecture.md, "Lazy imports").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from config.lazy import lazy_exports

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


__getattr__ = lazy_exports(__name__, EXPORTS, globals())  # PEP 562: each name imported on first use


__all__ = ["FIELDS", "SECRETS", "Loaded", "Provenance", "Secret", "Settings", "load"]
