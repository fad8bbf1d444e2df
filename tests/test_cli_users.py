"""`alerts users`, `alerts tokens` and `alerts audit` against a real database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner, Result

from alerts.accounts.roles import Action, Role
from alerts.cli import main
from alerts.store import Store, make_engine
from alerts.store.accounts import Accounts, LoginOutcome

PASSWORD = "correct horse battery"


def invoke(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=input, catch_exceptions=False)


def _accounts(database_url: str) -> tuple[Accounts, Store]:
    store = Store(make_engine(database_url))
    return Accounts(store), store


def _create(database_url: str, name: str, role: str = "admin") -> Result:
    return invoke(
        "users", "create", name, "--role", role, "--password-stdin", "--database", database_url,
        input=f"{PASSWORD}\n",
    )  # fmt: skip


def test_users_create_list_role_disable_enable(database_url: str) -> None:
    db = ("--database", database_url)
    result = _create(database_url, "Root")
    assert result.exit_code == 0, result.output
    assert "user root created (admin)" in result.output
    # The hidden prompt asks twice.
    result = invoke("users", "create", "ana", *db, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "user ana created (viewer)" in result.output and PASSWORD not in result.output

    result = invoke("users", "role", "ANA", "editor", *db)
    assert result.exit_code == 0 and "user ana is now editor" in result.output
    result = invoke("users", "disable", "ana", *db)
    assert result.exit_code == 0 and "user ana is disabled" in result.output
    listing = invoke("users", "list", *db).output
    assert "root" in listing and "admin" in listing and "disabled since" in listing
    result = invoke("users", "enable", "ana", *db)
    assert result.exit_code == 0 and "user ana is enabled" in result.output

    accounts, store = _accounts(database_url)
    try:
        login = accounts.authenticate("ana", PASSWORD, now=datetime.now(UTC))
        assert login.outcome is LoginOutcome.OK and login.principal is not None
        assert login.principal.role is Role.EDITOR
    finally:
        store.engine.dispose()


def test_users_bad_input(database_url: str) -> None:
    db = ("--database", database_url)
    assert "no users yet" in invoke("users", "list", *db).output
    assert _create(database_url, "root").exit_code == 0

    result = _create(database_url, "ROOT")
    assert result.exit_code == 1 and "error: user 'root' already exists" in result.output
    # A bad name is refused before any password is asked for.
    result = invoke("users", "create", "no way", *db, input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 1 and "bad username 'no way'" in result.output
    assert "Password" not in result.output
    result = invoke("users", "create", "ana", "--password-stdin", *db, input="short\n")
    assert result.exit_code == 1 and "at least 12 characters" in result.output
    result = invoke("users", "create", "ana", "--password-stdin", *db, input="\n")
    assert result.exit_code == 1 and "a password is required" in result.output
    # Confirmation that does not match, then no more input: nothing is created.
    result = invoke("users", "create", "ana", *db, input=f"{PASSWORD}\nsomething else\n")
    assert result.exit_code != 0 and "do not match" in result.output
    result = invoke("users", "create", "ana", "--role", "root", *db, input=f"{PASSWORD}\n")
    assert result.exit_code == 2 and "'root' is not one of" in result.output
    result = invoke("users", "role", "root", "superuser", *db)
    assert result.exit_code == 2 and "'superuser' is not one of" in result.output
    result = invoke("users", "role", "nobody", "editor", *db)
    assert result.exit_code == 1 and "no user named 'nobody'" in result.output
    result = invoke("users", "disable", "root", *db)
    assert result.exit_code == 1 and "it is the last enabled admin" in result.output
    listing = invoke("users", "list", *db).output
    assert "ana" not in listing and "enabled" in listing


def test_tokens_create_list_revoke(database_url: str) -> None:
    db = ("--database", database_url)
    assert _create(database_url, "ana", role="editor").exit_code == 0
    result = invoke(
        "tokens", "create", "ana", "ci", "--scope", "read", "--scope", "edit:watchlists",
        "--expires", "90d", *db,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    plain = result.stdout.strip()  # the token alone on stdout, for scripts
    assert plain.startswith("alerts_") and "\n" not in plain
    assert "cannot be shown again" in result.stderr
    assert "edit:watchlists, read" in result.stderr

    accounts, store = _accounts(database_url)
    try:
        now = datetime.now(UTC)
        principal = accounts.verify_token(plain, now=now)
        assert principal is not None
        assert principal.actions == {Action.READ, Action.EDIT_WATCHLISTS}
        [record] = accounts.tokens()
        assert record.expires_at is not None
        assert timedelta(days=89) < record.expires_at - now <= timedelta(days=90)

        listing = invoke("tokens", "list", *db).output
        assert record.prefix in listing and "live" in listing and plain not in listing

        result = invoke("tokens", "revoke", str(record.id), *db)
        assert result.exit_code == 0 and f"token {record.id} (ana/ci) is revoked" in result.output
        assert accounts.verify_token(plain, now=now) is None
        assert "revoked" in invoke("tokens", "list", "--user", "ana", *db).output
    finally:
        store.engine.dispose()


def test_tokens_bad_input(database_url: str) -> None:
    db = ("--database", database_url)
    assert "no tokens" in invoke("tokens", "list", *db).output
    assert _create(database_url, "ana", role="editor").exit_code == 0
    result = invoke("tokens", "create", "ana", "x", "--scope", "admin:users", *db)
    assert result.exit_code == 1 and "a editor cannot grant scope(s) admin:users" in result.output
    result = invoke("tokens", "create", "ana", "x", "--scope", "everything", *db)
    assert result.exit_code == 2 and "'everything' is not one of" in result.output
    result = invoke("tokens", "create", "ana", "x", "--expires", "soon", *db)
    assert result.exit_code == 2 and "bad duration 'soon'" in result.output
    result = invoke("tokens", "create", "bob", "x", *db)
    assert result.exit_code == 1 and "no user named 'bob'" in result.output
    result = invoke("tokens", "revoke", "42", *db)
    assert result.exit_code == 1 and "no token with id 42" in result.output
    result = invoke("tokens", "revoke", "x", *db)
    assert result.exit_code == 2
    assert "no tokens" in invoke("tokens", "list", *db).output


def test_audit(database_url: str) -> None:
    db = ("--database", database_url)
    assert "no audit entries" in invoke("audit", *db).output
    assert _create(database_url, "root").exit_code == 0
    assert _create(database_url, "ana", role="viewer").exit_code == 0
    assert invoke("users", "role", "ana", "editor", *db).exit_code == 0
    assert invoke("tokens", "create", "ana", "ci", *db).exit_code == 0

    table = invoke("audit", *db).output
    assert 'role: "viewer" -> "editor"' in table and "ana/ci" in table
    lines = invoke("audit", "--json", *db).output.splitlines()
    entries = [json.loads(line) for line in lines]
    assert [(e["action"], e["object_type"]) for e in entries] == [
        ("create", "token"),
        ("set_role", "user"),
        ("create", "user"),
        ("create", "user"),
    ]
    assert entries[1]["before"]["role"] == "viewer" and entries[1]["after"]["role"] == "editor"
    assert all(e["actor"].startswith("cli") for e in entries)
    assert "argon2" not in "\n".join(lines)  # no hash ever goes into the trail
    only_users = invoke("audit", "--type", "user", "--limit", "2", "--json", *db).output
    assert [json.loads(line)["action"] for line in only_users.splitlines()] == [
        "set_role",
        "create",
    ]
    assert invoke("audit", "--limit", "0", *db).exit_code == 2


def test_rich_markup_in_names_and_values_is_shown_as_text(database_url: str) -> None:
    # Token names and audit values come from users (and feeds, through watchlists): "[/]"
    # once crashed `alerts audit`, and "[link=...]" could dress up a fake row.
    db = ("--database", database_url)
    assert _create(database_url, "root").exit_code == 0
    created = invoke("tokens", "create", "root", "[/]ci[link=https://evil.example]x", *db)
    assert created.exit_code == 0, created.output
    listed = invoke("tokens", "list", *db)
    assert listed.exit_code == 0 and "[/]ci" in listed.output
    audit = invoke("audit", *db)
    assert audit.exit_code == 0, audit.output
    assert "[link=https://evil.example]" in audit.output
