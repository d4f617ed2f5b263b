"""Every command has help with an example and a section in docs/cli.md; docs/config.md lists every setting."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from cli import app
from config.report import secrets_markdown
from config.secrets import SECRET_ENV_VARS
from config.settings import FIELDS
from errors import ExitCode

DOCS = Path(__file__).resolve().parent.parent / "docs"


def iter_commands(
    command: typer.main._click.Command, path: tuple[str, ...] = ()
) -> Iterator[tuple[str, ...]]:
    """Every runnable command's path, and the root; sub-app groups only list their commands."""
    subcommands = getattr(command, "commands", {})
    if not path or not subcommands:
        yield path
    for name, sub in subcommands.items():
        yield from iter_commands(sub, (*path, name))


COMMANDS = list(iter_commands(typer.main.get_command(app)))


def test_every_command_is_found() -> None:
    expected = {"", "init", "config show", "schema show", "schema export", "validate", "demo", "status"}
    assert {" ".join(path) for path in COMMANDS} >= expected


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "cetk")
def test_command_help_has_an_example(path: tuple[str, ...]) -> None:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "Example: cetk" in result.stdout, f"cetk {' '.join(path)} --help has no example"


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "cetk")
def test_command_help_reflows_each_paragraph_and_keeps_examples_verbatim(path: tuple[str, ...]) -> None:
    """The docstrings are wrapped for the source; the help joins each paragraph (markdown mode) so the
    terminal wraps it, and examples in backticks keep their globs (exports/*.xlsx)."""
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]  # type: ignore[attr-defined]
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "1000"})
    lines = [" ".join(line.split()) for line in result.stdout.splitlines()]
    for paragraph in (command.help or "").split("\n\n"):
        expected = " ".join(paragraph.replace("`", "").split())
        assert expected in lines, f"cetk {' '.join(path)} --help does not show this as one line: {expected}"


@pytest.mark.parametrize("path", COMMANDS, ids=lambda path: " ".join(path) or "cetk")
def test_command_is_documented(path: tuple[str, ...]) -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    assert f"## {' '.join(('cetk', *path))}\n" in text, (
        f"docs/cli.md has no section for cetk {' '.join(path)}"
    )


def test_every_setting_and_secret_is_in_config_docs() -> None:
    text = (DOCS / "config.md").read_text(encoding="utf-8")
    for item in FIELDS:
        assert f"`{item.key}`" in text, f"docs/config.md does not describe {item.key}"
        assert f"`{item.env_var}`" in text, f"docs/config.md does not name {item.env_var}"
    for variable in SECRET_ENV_VARS.values():
        assert f"`{variable}`" in text
    assert secrets_markdown() in text, (
        "docs/config.md's secrets table is stale: paste config.report.secrets_markdown()"
    )


def test_every_exit_code_is_documented_once() -> None:
    text = (DOCS / "cli.md").read_text(encoding="utf-8")
    section = text.split("## Exit codes\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("`") for line in section.splitlines() if line.startswith("| `")]
    documented = {row[3]: int(row[1]) for row in rows}
    assert documented == {code.name: int(code) for code in ExitCode}
