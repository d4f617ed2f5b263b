"""The effective settings as data (for `cetk config show`), and the annotated example file (`cetk init`)."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from config.secrets import SECRET_ENV_VARS
from config.settings import FIELDS, Settings
from errors import ConfigError


def effective_settings(settings: Settings) -> dict[str, Any]:
    """Every setting with its value and where it came from; secrets only as "set"/"not set" (never values)."""
    return {
        "config_file": str(settings.config_path) if settings.config_path else None,
        "settings": {
            item.key: {
                "value": _effective_value(settings, item.key),
                "source": settings.sources.get(item.key, "default"),
                "env_var": item.env_var,
            }
            for item in FIELDS
        },
        "derived": {
            "endpoints.sharepoint": settings.endpoints.sharepoint,
            "user_agent": settings.user_agent,
        },
        "secrets": {
            name: {
                "value": "***" if settings.secret_sources.get(name, "not set") != "not set" else None,
                "status": "not set" if settings.secret_sources.get(name, "not set") == "not set" else "set",
                "source": settings.secret_sources.get(name, "not set"),
                "env_var": env_var,
            }
            for name, env_var in SECRET_ENV_VARS.items()
        },
        "problems": [{"message": problem.message, "hint": problem.hint} for problem in settings.problems],
    }


def _effective_value(settings: Settings, key: str) -> str | None:
    if key == "scopes.sharepoint":
        return settings.scopes.sharepoint
    return settings.values.get(key)


def example_config_text() -> str:
    """The committed, annotated config/example.yaml (holds no secrets)."""
    return files("config").joinpath("example.yaml").read_text(encoding="utf-8")


def write_example_config(path: Path, *, force: bool = False) -> Path:
    """Write the example config to `path`; an existing file is kept unless force is set."""
    if path.is_dir():
        raise ConfigError(f"{path} is a directory", hint=f"name the file to write, e.g. {path / 'cetk.yaml'}")
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists; not overwriting it", hint="pass --force to replace it")
    if path.parent and not path.parent.exists():
        raise ConfigError(
            f"directory {path.parent} does not exist", hint="create it first or choose another path"
        )
    try:
        path.write_text(example_config_text(), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {path}: {exc.strerror}", hint="choose a writable path") from None
    return path
