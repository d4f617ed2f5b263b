"""`cetk init` and `cetk config ...`: write the annotated example config, show the effective settings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from cli.output import print_json, print_text, state, stdout
from config.files import default_config_path
from config.loader import load, parse_overrides
from config.report import effective_settings, example_config_text
from errors import ConfigError

config_app = typer.Typer(help="Show the effective configuration.", no_args_is_help=True)


def init(
    path: Annotated[
        Path | None,
        typer.Argument(help="Where to write the config (default: CETK_CONFIG, else ./cetk.yaml)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the file instead of writing it.")] = False,
) -> None:
    """Write an annotated example config file (it holds no secrets; they come from the environment).

    Example: cetk init cetk.yaml --dry-run
    """
    target = path or default_config_path(os.environ)
    if dry_run:
        print_text(example_config_text())
        return
    if target.is_dir():
        raise ConfigError(
            f"{target} is a directory", hint=f"name the file to write, e.g. {target / 'cetk.yaml'}"
        )
    if target.exists() and not force:
        raise ConfigError(f"{target} already exists; not overwriting it", hint="pass --force to replace it")
    if target.parent and not target.parent.exists():
        raise ConfigError(
            f"directory {target.parent} does not exist", hint="create it first or choose another path"
        )
    try:
        target.write_text(example_config_text(), encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {target}: {exc.strerror}", hint="choose a writable path") from None
    print_text(f"Wrote {target}; edit it, then run `cetk config show`.")


@config_app.command("show")
def show(
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    set_values: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Override a setting for this run: KEY=VALUE (never a secret). Repeatable."
        ),
    ] = None,
) -> None:
    """Show the effective settings, where each value came from (flag, env, file, default), and the secrets as set/not set.

    Secret values are never printed. Problems that would stop a run are listed at the end.

    Example: cetk config show --set auth.mode=device_code --json
    """
    loaded = load(state.config_path, os.environ, parse_overrides(set_values or []), strict=False)
    result = effective_settings(loaded)
    if as_json:
        print_json(result)
        return
    _render(result)


def _render(result: dict[str, Any]) -> None:
    print_text(f"Config file: {result['config_file'] or '(none: defaults and environment only)'}")
    table = Table(title="Settings", title_justify="left")
    for heading in ("Setting", "Value", "Source", "Environment variable"):
        table.add_column(heading, overflow="fold")
    for key, item in result["settings"].items():
        value = "" if item["value"] is None else str(item["value"])
        table.add_row(Text(key), Text(value), Text(item["source"]), Text(item["env_var"]))
    for key, value in result["derived"].items():
        table.add_row(Text(key), Text(str(value or "")), Text("derived"), Text(""))
    stdout.print(table)
    secrets = Table(
        "Secret", "Status", "Source", "Environment variable", title="Secrets", title_justify="left"
    )
    for name, item in result["secrets"].items():
        secrets.add_row(Text(name), Text(item["status"]), Text(item["source"]), Text(item["env_var"]))
    stdout.print(secrets)
    for problem in result["problems"]:
        print_text(f"Problem: {problem['message']} (hint: {problem['hint']})")
