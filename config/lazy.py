"""A package's re-exports imported on first use (PEP 562), so a process pays only for what it uses
(docs/architecture.md, "Lazy imports"; `pipeline` and `config` re-export this way).

    __getattr__ = lazy_exports(__name__, EXPORTS, globals())
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_exports"]


def lazy_exports(package: str, exports: Mapping[str, str], namespace: dict[str, Any]) -> Callable[[str], Any]:
    """The package's module `__getattr__`: a name in `exports` (name -> module of `package`) is imported
    from its module on first use and kept in `namespace`, so later look-ups are plain attributes."""

    def __getattr__(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    return __getattr__
