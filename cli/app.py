"""The typer app: global options, the sub-apps, and the one error handler (`main`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from cli import config_cmds, data_cmds, emulator_cmds, schema_cmds
from cli.output import state
from config.loader import effective_log_level
from config.logs import Redactor, configure_logging, redact
from config.settings import LOG_LEVELS, cetk_version
from errors import CetkError

app = typer.Typer(
    name="cetk",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # bugs print a plain traceback; never typer's locals display
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"cetk {cetk_version()}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_show_version, is_eager=True, help="Print the version and exit."),
    ] = False,
    log_level: Annotated[
        str | None,
        typer.Option("--log-level", help="DEBUG, INFO, WARNING (default), ERROR; or CETK_LOG_LEVEL."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Hide progress messages on stderr.")] = False,
    config: Annotated[
        Path | None, typer.Option("--config", help="Config file (default: CETK_CONFIG, else ./cetk.yaml).")
    ] = None,
) -> None:
    """Community engagement toolkit: SharePoint lists and Forms exports into a canonical model and Power BI.

    Example: cetk schema show events
    """
    if log_level is not None and log_level.upper() not in LOG_LEVELS:  # a bad flag is a usage error: exit 2
        raise typer.BadParameter(
            f"{log_level!r} is not one of {', '.join(LOG_LEVELS)}", param_hint="--log-level"
        )
    configure_logging(effective_log_level(log_level, os.environ, config), Redactor())
    state.quiet = quiet
    state.config_path = config


app.command("init")(config_cmds.init)
app.add_typer(config_cmds.config_app, name="config")
app.add_typer(schema_cmds.schema_app, name="schema")
app.command("validate")(data_cmds.validate)
app.command("demo")(data_cmds.demo)
app.add_typer(emulator_cmds.emulator_app, name="emulator")


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: a CetkError becomes `Error:` and `Hint:` on stderr and exit 1."""
    try:
        app(args=argv, prog_name="cetk")
    except CetkError as error:
        message, hint = (" ".join(redact(text).split()) for text in (error.message, error.hint))
        sys.stderr.write(f"Error: {message}\nHint: {hint}\n")
        sys.stderr.flush()
        sys.exit(1)
