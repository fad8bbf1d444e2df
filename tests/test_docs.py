"""Docs that cannot drift: every setting and every command is in the README; every facet
and match field a webhook body can carry is in docs/webhooks.md."""

import json
from pathlib import Path

import click

from alerts.cli import main
from alerts.config import SETTINGS
from alerts.domain import FACET_NAMES

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
WEBHOOKS = (ROOT / "docs" / "webhooks.md").read_text(encoding="utf-8")


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


def _field_row(name: str) -> str:
    [row] = [line for line in WEBHOOKS.splitlines() if line.startswith(f"| `{name}` |")]
    return row


def test_every_facet_name_is_documented_for_webhook_receivers() -> None:
    row = _field_row("stories[].facets")
    missing = [name for name in FACET_NAMES if f"`{name}`" not in row]
    assert not missing, f"facets missing from docs/webhooks.md: {missing}"


def test_every_match_field_in_the_schema_is_documented() -> None:
    schema = json.loads((ROOT / "docs" / "webhook.schema.json").read_text(encoding="utf-8"))
    fields = schema["$defs"]["match"]["properties"]["field"]["enum"]
    row = _field_row("matches[].field")
    assert [f for f in fields if f'`"{f}"`' not in row] == []
