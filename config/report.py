"""The effective settings as data (for `cetk config show`), the annotated example file (`cetk init`), and
the secrets section of docs/config.md, generated from the table of secrets.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from config.loader import Loaded
from config.logs import Redactor
from config.secrets import MASK, SECRETS, SecretSpec
from config.settings import FIELDS, FIELDS_BY_KEY


def effective_settings(loaded: Loaded) -> dict[str, Any]:
    """Every setting with its value and where it came from; secrets only as "set"/"not set" (never values).

    Everything is passed through the run's redaction (config.logs.Redactor), so a value that holds a
    loaded secret, a named credential or a token is shown masked, in the table and in --json alike.
    """
    shown: dict[str, Any] = Redactor.for_settings(loaded.settings).redact_data(_effective_settings(loaded))
    return shown


def _effective_settings(loaded: Loaded) -> dict[str, Any]:
    settings, provenance = loaded.settings, loaded.provenance
    secrets: dict[str, Any] = {}
    for spec in SECRETS:
        source = provenance.secret_sources.get(spec.name, "not set")
        secrets[spec.name] = {
            "value": MASK if source != "not set" else None,
            "status": "not set" if source == "not set" else "set",
            "source": source,
            "env_var": spec.env_var,
        }
    return {
        "config_file": str(provenance.config_path) if provenance.config_path else None,
        "settings": {
            item.key: {
                "value": _shown_value(loaded, item.key),
                "source": provenance.sources.get(item.key, "default"),
                "env_var": item.env_var,
            }
            for item in FIELDS
        },
        "derived": {
            "endpoints.sharepoint": settings.endpoints.sharepoint,
            "user_agent": settings.user_agent,
        },
        "secrets": secrets,
        "problems": [{"message": problem.message, "hint": problem.hint} for problem in loaded.problems],
    }


def _shown_value(loaded: Loaded, key: str) -> str | None:
    """The value as given, or, for a setting cetk derives when it is empty, the derived value."""
    if key == "scopes.sharepoint":
        return loaded.settings.scopes.sharepoint
    if key == "sharepoint.mapping_file":
        return str(loaded.settings.mapping_file)
    return loaded.provenance.values.get(key)


def example_config_text() -> str:
    """The committed, annotated config/example.yaml (holds no secrets)."""
    return files("config").joinpath("example.yaml").read_text(encoding="utf-8")


def secrets_markdown() -> str:
    """The table of secrets and the key names refused in files, as docs/config.md shows them."""
    lines = [
        "| Secret | Environment variable | Keyring username | Used for |",
        "|---|---|---|---|",
        *(
            f"| {spec.title} | `{spec.env_var}` | {_keyring_entry(spec)} | {spec.description} |"
            for spec in SECRETS
        ),
        "",
        "A config file that holds a secret is refused with `SecretInConfigError`, naming the file, the key and",
        "the variable to use instead. cetk treats as secret any key named",
        ", ".join(f"`{key}`" for spec in SECRETS for key in spec.file_keys)
        + " (or ending "
        + ", ".join(f"`{suffix}`" for spec in SECRETS for suffix in spec.file_key_suffixes)
        + "), and any value that looks like a PEM block (`-----BEGIN`), a JWT (`eyJ…`) or a URL carrying a",
        "credential (see [URLs](#urls)). The same key names are masked wherever they appear in a log line.",
    ]
    return "\n".join(lines) + "\n"


def _keyring_entry(spec: SecretSpec) -> str:
    if spec.keyring_setting is None:
        return f"`{spec.keyring_username}`"
    default = FIELDS_BY_KEY[spec.keyring_setting].default
    return f"`{spec.keyring_setting}` (default `{default}`)"
