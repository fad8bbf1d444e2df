"""Account commands: console users and their roles, API tokens, and the audit trail.

`alerts users create NAME --role admin` bootstraps the first admin. Changes made here are
audited with the actor `cli:<login name>`: whoever runs them has the database anyway.
"""

from __future__ import annotations

import getpass
import json
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from alerts.accounts import passwords
from alerts.accounts.roles import Action, Role
from alerts.cli.common import Context, common_options, errors_reported, with_store
from alerts.cli.watchlists import parse_duration
from alerts.store.accounts import Accounts, AuditEntry, normalise_username

ROLE_CHOICE = click.Choice([r.value for r in Role], case_sensitive=False)


def _console() -> Console:
    return Console(width=None if sys.stdout.isatty() else 200)


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else "-"


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):  # no login name in some containers
        return "cli"


def _add_row(table: Table, *cells: str) -> None:
    """A row of plain text: names, descriptions and audit values come from users and feeds,
    and Rich would read "[/]" or "[link=...]" in them as markup (a crash, or a fake row)."""
    table.add_row(*(Text(cell) for cell in cells))


def _table(title: str, columns: tuple[str, ...]) -> Table:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    return table


# -- users ---------------------------------------------------------------------------
@click.group()
def users() -> None:
    """Console users and their roles (subcommands: create, list, role, disable, enable)."""


@users.command("create")
@common_options
@click.argument("username")
@click.option("--role", type=ROLE_CHOICE, default=Role.VIEWER.value, show_default=True)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Read the password from the first line of stdin instead of prompting.",
)
def create_user(
    config_path: str | None, database: str | None, username: str, role: str, password_stdin: bool
) -> None:
    """Create USERNAME with a password (prompted twice, hidden; at least 12 characters)."""
    with errors_reported():
        name = normalise_username(username)  # before asking for a password
        password: str
        if password_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
        else:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        passwords.check_policy(password)
        ctx = Context(config_path, database)
        now = datetime.now(UTC)
        user = with_store(
            ctx.settings,
            lambda store: Accounts(store).create_user(
                name, password, role, actor=_actor(), now=now
            ),
        )
        click.echo(f"user {user.username} created ({user.role.value})")


@users.command("list")
@common_options
def list_users(config_path: str | None, database: str | None) -> None:
    """Every user: role, state, last login."""
    with errors_reported():
        ctx = Context(config_path, database)
        now = datetime.now(UTC)
        records = with_store(ctx.settings, lambda store: Accounts(store).users())
        if not records:
            click.echo("no users yet: alerts users create NAME --role admin")
            return
        table = _table("Users", ("user", "role", "state", "created", "last login"))
        for u in records:
            state = "enabled"
            if u.disabled:
                state = f"disabled since {_when(u.disabled_at)}"
            elif u.locked_until is not None and u.locked_until > now:
                state = f"locked until {_when(u.locked_until)}"
            _add_row(
                table, u.username, u.role.value, state, _when(u.created_at), _when(u.last_login_at)
            )
        _console().print(table)


@users.command("role")
@common_options
@click.argument("username")
@click.argument("role", type=ROLE_CHOICE)
def set_role(config_path: str | None, database: str | None, username: str, role: str) -> None:
    """Give USERNAME another ROLE (viewer, editor or admin)."""
    with errors_reported():
        ctx = Context(config_path, database)
        now = datetime.now(UTC)
        user = with_store(
            ctx.settings,
            lambda store: Accounts(store).set_role(username, role, actor=_actor(), now=now),
        )
        click.echo(f"user {user.username} is now {user.role.value}")


@users.command("disable")
@common_options
@click.argument("username")
def disable(config_path: str | None, database: str | None, username: str) -> None:
    """Refuse USERNAME's logins and API tokens (history and audit entries stay)."""
    with errors_reported():
        ctx = Context(config_path, database)
        now = datetime.now(UTC)
        user = with_store(
            ctx.settings, lambda store: Accounts(store).disable(username, actor=_actor(), now=now)
        )
        click.echo(f"user {user.username} is disabled")


@users.command("enable")
@common_options
@click.argument("username")
def enable(config_path: str | None, database: str | None, username: str) -> None:
    """Let a disabled USERNAME log in again (and clear a lockout)."""
    with errors_reported():
        ctx = Context(config_path, database)
        now = datetime.now(UTC)
        user = with_store(
            ctx.settings, lambda store: Accounts(store).enable(username, actor=_actor(), now=now)
        )
        click.echo(f"user {user.username} is enabled")


# -- tokens --------------------------------------------------------------------------
@click.group()
def tokens() -> None:
    """API tokens for automation (subcommands: create, list, revoke)."""


@tokens.command("create")
@common_options
@click.argument("username")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    type=click.Choice([a.value for a in Action]),
    help="What the token may do (repeatable; within USERNAME's role). Default: read.",
)
@click.option("--expires", metavar="DURATION", default=None, help="e.g. 90d; default: never.")
def create_token(
    config_path: str | None,
    database: str | None,
    username: str,
    name: str,
    scopes: tuple[str, ...],
    expires: str | None,
) -> None:
    """Make a token NAME for USERNAME and print it, this once only."""
    with errors_reported():
        now = datetime.now(UTC)
        try:
            expires_at = now + parse_duration(expires) if expires is not None else None
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--expires") from None
        ctx = Context(config_path, database)
        plain, record = with_store(
            ctx.settings,
            lambda store: Accounts(store).create_token(
                username, name, scopes, expires_at, actor=_actor(), now=now
            ),
        )
        scope_names = ", ".join(sorted(a.value for a in record.scopes))
        click.echo(
            f"token {record.id} ({record.name}) for {record.username}: {scope_names}; "
            f"expires {_when(record.expires_at) if record.expires_at else 'never'}",
            err=True,
        )
        click.echo("Copy it now: it cannot be shown again.", err=True)
        click.echo(plain)


@tokens.command("list")
@common_options
@click.option("--user", "username", metavar="NAME", default=None, help="Only this user's.")
def list_tokens(config_path: str | None, database: str | None, username: str | None) -> None:
    """Every token (never its secret): prefix, scopes, expiry, last use, state."""
    with errors_reported():
        ctx = Context(config_path, database)
        now = datetime.now(UTC)
        records = with_store(ctx.settings, lambda store: Accounts(store).tokens(username))
        if not records:
            click.echo("no tokens")
            return
        columns = ("id", "user", "name", "prefix", "scopes", "state", "expires", "last used")
        table = _table("API tokens", columns)
        for t in records:
            if t.revoked_at is not None:
                state = f"revoked {_when(t.revoked_at)}"
            else:
                state = "live" if t.is_live(now) else "expired"
            _add_row(
                table,
                str(t.id),
                t.username,
                t.name,
                t.prefix,
                " ".join(sorted(a.value for a in t.scopes)),
                state,
                _when(t.expires_at) if t.expires_at else "never",
                _when(t.last_used_at),
            )
        _console().print(table)


@tokens.command("revoke")
@common_options
@click.argument("token_id", type=int)
def revoke_token(config_path: str | None, database: str | None, token_id: int) -> None:
    """Revoke token TOKEN_ID (see `alerts tokens list`) for good."""
    with errors_reported():
        ctx = Context(config_path, database)
        now = datetime.now(UTC)
        record = with_store(
            ctx.settings,
            lambda store: Accounts(store).revoke_token(token_id, actor=_actor(), now=now),
        )
        click.echo(f"token {record.id} ({record.username}/{record.name}) is revoked")


# -- audit ---------------------------------------------------------------------------
@click.command("audit")
@common_options
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--type", "object_type", metavar="TYPE", default=None, help="e.g. user, token.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line (export).")
def audit(
    config_path: str | None,
    database: str | None,
    limit: int,
    object_type: str | None,
    as_json: bool,
) -> None:
    """The audit trail, newest first: who changed what, when, before and after."""
    with errors_reported():
        ctx = Context(config_path, database)
        entries = with_store(ctx.settings, lambda store: Accounts(store).audit(limit, object_type))
        if as_json:
            for e in entries:
                click.echo(json.dumps(_entry_json(e), ensure_ascii=False, sort_keys=True))
            return
        if not entries:
            click.echo("no audit entries")
            return
        table = _table("Audit trail", ("at", "actor", "action", "type", "object", "change"))
        for e in entries:
            _add_row(
                table,
                _when(e.at),
                e.actor,
                e.action,
                e.object_type,
                e.object_name,
                _change(e.before, e.after),
            )
        _console().print(table)


def _entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_name": entry.object_name,
        "before": entry.before,
        "after": entry.after,
    }


def _change(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> str:
    """'role: editor -> admin' for the keys that changed; the whole object when created
    or deleted."""
    if before is None or after is None:
        whole = after if after is not None else before
        return json.dumps(whole, ensure_ascii=False, sort_keys=True) if whole else "-"
    changed = [
        f"{key}: {json.dumps(before.get(key), ensure_ascii=False)} -> "
        f"{json.dumps(after.get(key), ensure_ascii=False)}"
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    ]
    return "; ".join(changed) or "no change"
