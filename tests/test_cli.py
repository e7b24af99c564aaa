"""`bantin --help` and each command's own `--help`: every command the README documents is
there, and its help page says what it does and offers the options the README shows."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from bantin.cli import app

# Command path -> options (or arguments, upper case) the README's command table uses.
COMMANDS: dict[str, tuple[str, ...]] = {
    "check": ("--only", "--no-connect", "--prefect"),
    "crawl": ("--offline", "--source", "-s"),
    "run": ("--offline", "--source", "--digest", "--week", "--send"),
    "sources probe": ("URL", "--private-network"),
    "extract": ("PATHS", "--district", "--province", "--published", "--stored", "--since", "--source"),
    "digest": ("--week", "--start", "--end", "--district", "--send", "--dry-run", "--out"),
    "demo": ("--data-dir",),
    "db upgrade": (),
    "db current": (),
    "fixtures serve": ("--port", "--fault"),
    "fixtures list": (),
}


def _leaves(command: Any, path: tuple[str, ...] = ()) -> dict[str, Any]:
    """The runnable commands under `command`, by path ("db upgrade")."""
    subcommands = getattr(command, "commands", None)
    if not subcommands:
        return {" ".join(path): command}
    found: dict[str, Any] = {}
    for name, sub in subcommands.items():
        found.update(_leaves(sub, (*path, name)))
    return found


def _help(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], prog_name="bantin", env={"COLUMNS": "250"})
    assert result.exit_code == 0, result.output
    return result.output


def test_every_command_is_documented_here() -> None:
    # A command added or removed must show up in this list (and in the README's table).
    assert set(_leaves(typer.main.get_command(app))) == set(COMMANDS)


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_each_command_has_its_own_help(path: str) -> None:
    command = _leaves(typer.main.get_command(app))[path]
    text = _help(*path.split())
    assert f"Usage: bantin {path} " in text  # its own page, not the app's
    summary = (command.help or "").strip().splitlines()
    assert summary and summary[0].strip() in text  # says what it does
    declared = {opt for param in command.params for opt in (*param.opts, param.name.upper())}
    for option in COMMANDS[path]:
        assert option in declared, f"bantin {path} has no {option}"
        assert option in text or option.lower() in text, f"bantin {path} --help does not show {option}"


@pytest.mark.parametrize("group", ["db", "fixtures", "sources"])
def test_group_help_lists_its_commands(group: str) -> None:
    text = _help(group)
    for path in COMMANDS:
        if path.startswith(f"{group} "):
            name = path.split()[1]
            assert any(line.startswith(f"│ {name} ") for line in text.splitlines()), (group, name)


def test_app_help_lists_each_command_in_its_commands_panel() -> None:
    text = _help()
    # The description names crawl, extract and digest too: look only at the Commands panel.
    panel = text[text.index("Commands") :]
    # A command's row starts at the panel's edge; wrapped description lines are indented.
    rows = [line for line in panel.splitlines() if line.startswith("│ ") and not line.startswith("│  ")]
    listed = {row.removeprefix("│ ").split(" ", 1)[0] for row in rows}
    assert {path.split()[0] for path in COMMANDS} <= listed
