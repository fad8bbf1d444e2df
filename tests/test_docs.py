"""Docs that cannot drift: every setting and every command is in the README."""

from pathlib import Path

import click

from alerts.cli import main
from alerts.config import SETTINGS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented() -> None:
    missing = [s.env for s in SETTINGS if f"`{s.env}`" not in README]
    assert not missing, f"settings missing from README: {missing}"


def _commands(group: click.Group, prefix: str = "alerts") -> list[str]:
    names = []
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            names += _commands(command, f"{prefix} {name}")
        else:
            names.append(f"{prefix} {name}")
    return names


def test_every_command_is_documented() -> None:
    missing = [c for c in _commands(main) if f"`{c}" not in README]
    assert not missing, f"commands missing from README: {missing}"


def test_readme_states_the_two_commands() -> None:
    assert "make run" in README and "make test" in README
