"""Accounts: roles, passwords and tokens (pure), then users, logins, tokens and the audit
trail on a real database (SQLite, and PostgreSQL when ALERTS_TEST_DATABASE_URL is set)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select, text

from alerts.accounts import AccountError, AccountExistsError, UnknownAccountError, passwords, tokens
from alerts.accounts.roles import Action, Role, parse_actions, parse_role
from alerts.store import Store
from alerts.store.accounts import (
    LOCKOUT_DURATION,
    LOCKOUT_THRESHOLD,
    Accounts,
    LoginOutcome,
    normalise_username,
)
from alerts.store.models import ApiTokenRow, UserRow

# The cheapest argon2id parameters: the tests check behaviour, not cost.
FAST = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
ADMIN = "cli:test"


# -- roles ---------------------------------------------------------------------------
def test_roles_are_ordered_and_each_allows_what_the_one_below_does() -> None:
    assert [r.rank for r in (Role.VIEWER, Role.EDITOR, Role.ADMIN)] == [0, 1, 2]
    assert Role.VIEWER < Role.EDITOR < Role.ADMIN and Role.ADMIN >= Role.ADMIN
    assert sorted([Role.ADMIN, Role.VIEWER, Role.EDITOR]) == [Role.VIEWER, Role.EDITOR, Role.ADMIN]
    assert max(Role) is Role.ADMIN and not Role.ADMIN <= Role.EDITOR
    with pytest.raises(TypeError, match="a Role compares only with a Role"):
        assert Role.ADMIN < "editor"
    with pytest.raises(TypeError):
        assert "editor" > Role.ADMIN  # noqa: SIM300 (the reflected comparison)
    assert Role.VIEWER.actions() < Role.EDITOR.actions() < Role.ADMIN.actions()
    assert Role.ADMIN.actions() == frozenset(Action)


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.VIEWER, {Action.READ}),
        (Role.EDITOR, {Action.READ, Action.EDIT_WATCHLISTS, Action.EDIT_SUBSCRIPTIONS}),
        (Role.ADMIN, set(Action)),
    ],
)
def test_role_allows_exactly_its_actions(role: Role, allowed: set[Action]) -> None:
    assert {a for a in Action if role.allows(a)} == allowed


def test_parse_role_and_actions() -> None:
    assert parse_role(" Admin ") is Role.ADMIN
    with pytest.raises(AccountError, match=r"unknown role 'root' \(choose one of viewer, editor"):
        parse_role("root")
    assert parse_actions(["read", "EDIT:watchlists"]) == {Action.READ, Action.EDIT_WATCHLISTS}
    with pytest.raises(AccountError, match=r"unknown scope\(s\) 'write', 'all'"):
        parse_actions(["read", "write", "all"])


# -- passwords -----------------------------------------------------------------------
def test_password_hash_is_argon2id_and_verifies() -> None:
    stored = passwords.hash_password(PASSWORD, hasher=FAST)
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert passwords.verify_password(stored, PASSWORD, hasher=FAST)
    assert not passwords.verify_password(stored, PASSWORD + "!", hasher=FAST)
    assert stored != passwords.hash_password(PASSWORD, hasher=FAST)  # salted


def test_password_policy_names_the_problem() -> None:
    with pytest.raises(AccountError, match="at least 12 characters"):
        passwords.hash_password("short pass1", hasher=FAST)  # 11
    with pytest.raises(AccountError, match="a password is required"):
        passwords.hash_password("", hasher=FAST)
    with pytest.raises(AccountError, match="at most 1024 characters"):
        passwords.hash_password("x" * 1025, hasher=FAST)
    passwords.check_policy("x" * 12)
    passwords.check_policy("x" * 1024)


def test_verify_refuses_malformed_input_and_survives_a_corrupt_hash() -> None:
    stored = passwords.hash_password(PASSWORD, hasher=FAST)
    for bad in ("", "x" * 1025):
        with pytest.raises(AccountError):
            passwords.verify_password(stored, bad, hasher=FAST)
    assert not passwords.verify_password("not a hash", PASSWORD, hasher=FAST)
    assert not passwords.verify_password(stored[:-5], PASSWORD, hasher=FAST)


def test_passwords_are_compared_in_nfkc_form() -> None:
    stored = passwords.hash_password("ｃｏｒｒｅｃｔ ｈｏｒｓｅ", hasher=FAST)  # full-width
    assert passwords.verify_password(stored, "correct horse", hasher=FAST)


def test_needs_rehash_when_parameters_change() -> None:
    stored = passwords.hash_password(PASSWORD, hasher=FAST)
    assert not passwords.needs_rehash(stored, hasher=FAST)
    assert passwords.needs_rehash(stored, hasher=PasswordHasher(time_cost=2, memory_cost=8))
    assert passwords.needs_rehash("garbage", hasher=FAST)


# -- tokens --------------------------------------------------------------------------
def test_token_format_and_digest() -> None:
    new = tokens.generate()
    assert new.plain.startswith(f"alerts_{new.prefix}_") and len(new.prefix) == 12
    assert len(new.plain) == len("alerts_") + 12 + 1 + 43
    assert new.digest == hashlib.sha256(new.plain.encode()).hexdigest()
    assert tokens.parse(new.plain) == (new.prefix, new.digest)
    assert tokens.parse(f"  {new.plain}\n") == (new.prefix, new.digest)
    assert tokens.generate().plain != new.plain


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "alerts_",
        "Bearer alerts_0123456789ab_" + "a" * 43,
        "alerts_0123456789ab_" + "a" * 42,  # secret too short
        "alerts_0123456789ab_" + "a" * 44,  # too long
        "alerts_0123456789AB_" + "a" * 43,  # prefix not lower-case hex
        "alerts_0123456789ab_" + "a" * 42 + "=",
        "alerts-0123456789ab-" + "a" * 43,
        "x" * 100_000,
    ],
)
def test_malformed_tokens_do_not_parse(bad: str) -> None:
    assert tokens.parse(bad) is None


def test_token_scopes_stay_within_the_role() -> None:
    assert tokens.check_scopes(Role.VIEWER, []) == {Action.READ}
    assert tokens.check_scopes(Role.EDITOR, [Action.EDIT_WATCHLISTS]) == {Action.EDIT_WATCHLISTS}
    with pytest.raises(AccountError, match=r"a editor cannot grant scope.*admin:users"):
        tokens.check_scopes(Role.EDITOR, [Action.READ, Action.ADMIN_USERS])
    everything = frozenset(Action)
    assert tokens.effective_scopes(Role.EDITOR, everything) == Role.EDITOR.actions()
    assert tokens.is_live(expires_at=None, revoked_at=None, now=T0)
    assert not tokens.is_live(expires_at=T0, revoked_at=None, now=T0)
    assert not tokens.is_live(expires_at=None, revoked_at=T0, now=T0)
    with pytest.raises(AccountError, match="token name"):
        tokens.check_name("   ")


# -- users ---------------------------------------------------------------------------
@pytest.fixture
def accounts(store: Store) -> Accounts:
    return Accounts(store, hasher=FAST)


def _password_hash(store: Store, username: str) -> str:
    with store.engine.connect() as connection:
        return connection.execute(
            select(UserRow.password_hash).where(UserRow.username == username)
        ).scalar_one()


def test_create_user_normalises_the_name_and_audits(accounts: Accounts, store: Store) -> None:
    user = accounts.create_user(" Ana.Lima ", PASSWORD, "editor", actor=ADMIN, now=T0)
    assert (user.username, user.role, user.disabled) == ("ana.lima", Role.EDITOR, False)
    assert accounts.user("ANA.LIMA") == user and accounts.users() == [user]
    assert accounts.user_count() == 1 and accounts.user("no such") is None
    assert _password_hash(store, "ana.lima").startswith("$argon2id$")
    [entry] = accounts.audit()
    assert (entry.actor, entry.action, entry.object_type, entry.object_name) == (
        ADMIN,
        "create",
        "user",
        "ana.lima",
    )
    assert entry.before is None
    assert entry.after == {
        "username": "ana.lima",
        "role": "editor",
        "disabled": False,
        "locked_until": None,
    }


def test_usernames_are_unique_whatever_their_case(accounts: Accounts) -> None:
    accounts.create_user("ana", PASSWORD, Role.ADMIN, actor=ADMIN, now=T0)
    with pytest.raises(AccountExistsError, match="user 'ana' already exists"):
        accounts.create_user("ANA", PASSWORD, Role.VIEWER, actor=ADMIN, now=T0)
    assert len(accounts.users()) == 1 and len(accounts.audit()) == 1


@pytest.mark.sqlite_only
@pytest.mark.parametrize("bad", ["", "   ", "-ana", ".ana", "a b", "ána", "ana/x", "a" * 65])
def test_bad_usernames_are_refused(accounts: Accounts, bad: str) -> None:
    with pytest.raises(AccountError, match="bad username"):
        accounts.create_user(bad, PASSWORD, Role.VIEWER, actor=ADMIN, now=T0)
    assert accounts.users() == []


def test_accepted_usernames() -> None:
    assert normalise_username("ops@example.org") == "ops@example.org"
    assert normalise_username("a") == "a" and normalise_username("a" * 64) == "a" * 64


def test_weak_password_or_unknown_role_creates_nobody(accounts: Accounts) -> None:
    with pytest.raises(AccountError, match="at least 12 characters"):
        accounts.create_user("ana", "short", Role.ADMIN, actor=ADMIN, now=T0)
    with pytest.raises(AccountError, match="unknown role 'root'"):
        accounts.create_user("ana", PASSWORD, "root", actor=ADMIN, now=T0)
    assert accounts.users() == [] and accounts.audit() == []


def test_set_role_disable_enable_with_audit(accounts: Accounts) -> None:
    accounts.create_user("root", PASSWORD, Role.ADMIN, actor=ADMIN, now=T0)
    accounts.create_user("ana", PASSWORD, Role.VIEWER, actor=ADMIN, now=T0)
    later = T0 + timedelta(hours=1)
    assert accounts.set_role("Ana", "editor", actor="root", now=later).role is Role.EDITOR
    assert accounts.set_role("ana", Role.EDITOR, actor="root", now=later).role is Role.EDITOR
    disabled = accounts.disable("ana", actor="root", now=later)
    assert disabled.disabled_at == later
    assert accounts.disable("ana", actor="root", now=later + timedelta(1)) == disabled
    assert not accounts.enable("ana", actor="root", now=later).disabled
    entries = accounts.audit(object_type="user")
    assert [(e.action, e.object_name) for e in entries[:3]] == [
        ("enable", "ana"),
        ("disable", "ana"),
        ("set_role", "ana"),
    ]  # repeats changed nothing and wrote nothing
    set_role = entries[2]
    assert set_role.actor == "root" and set_role.at == later
    assert (set_role.before or {})["role"] == "viewer" and (set_role.after or {})[
        "role"
    ] == "editor"
    assert (entries[1].before or {})["disabled"] is False
    assert (entries[1].after or {})["disabled"] is True
    with pytest.raises(UnknownAccountError, match="no user named 'bob'"):
        accounts.set_role("bob", Role.ADMIN, actor="root", now=later)
    with pytest.raises(AccountError, match="unknown role"):
        accounts.set_role("ana", "superuser", actor="root", now=later)
    with pytest.raises(UnknownAccountError):
        accounts.disable("bob", actor="root", now=later)


def test_the_last_enabled_admin_stays(accounts: Accounts) -> None:
    accounts.create_user("root", PASSWORD, Role.ADMIN, actor=ADMIN, now=T0)
    with pytest.raises(AccountError, match="cannot make 'root' a viewer: it is the last enabled"):
        accounts.set_role("root", Role.VIEWER, actor=ADMIN, now=T0)
    with pytest.raises(AccountError, match="cannot disable 'root': it is the last enabled"):
        accounts.disable("root", actor=ADMIN, now=T0)
    accounts.create_user("second", PASSWORD, Role.ADMIN, actor=ADMIN, now=T0)
    accounts.disable("second", actor=ADMIN, now=T0)  # a disabled admin does not count
    with pytest.raises(AccountError, match="last enabled admin"):
        accounts.disable("root", actor=ADMIN, now=T0)
    accounts.enable("second", actor=ADMIN, now=T0)
    assert accounts.set_role("root", Role.EDITOR, actor=ADMIN, now=T0).role is Role.EDITOR


# -- logins --------------------------------------------------------------------------
class CountingHasher(PasswordHasher):
    """FAST, counting its verifications: proves unknown users cost a hash check too."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verified = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        self.verified += 1
        return super().verify(hash, password)


def test_authenticate(store: Store) -> None:
    hasher = CountingHasher()
    accounts = Accounts(store, hasher=hasher)
    accounts.create_user("ana", PASSWORD, Role.EDITOR, actor=ADMIN, now=T0)
    result = accounts.authenticate("ANA", PASSWORD, now=T0)
    assert result.outcome is LoginOutcome.OK and result.principal is not None
    assert result.principal.username == "ana" and result.principal.role is Role.EDITOR
    assert result.principal.allows(Action.EDIT_WATCHLISTS)
    assert not result.principal.allows(Action.ADMIN_SOURCES)
    assert result.principal.token_id is None
    user = accounts.user("ana")
    assert user is not None and user.last_login_at == T0

    hasher.verified = 0
    for name, password in [("ana", "wrong password!"), ("nobody", PASSWORD), ("a b", PASSWORD)]:
        result = accounts.authenticate(name, password, now=T0)
        assert result.outcome is LoginOutcome.FAILED and result.principal is None
    assert hasher.verified == 3  # the unknown and the malformed name checked a dummy hash
    with pytest.raises(AccountError, match="a password is required"):
        accounts.authenticate("ana", "", now=T0)
    with pytest.raises(AccountError, match="at most"):
        accounts.authenticate("ana", "x" * 5000, now=T0)


def test_lockout_after_five_failures_and_unlock_after_the_lock_time(accounts: Accounts) -> None:
    accounts.create_user("ana", PASSWORD, Role.VIEWER, actor=ADMIN, now=T0)
    for attempt in range(1, LOCKOUT_THRESHOLD):
        result = accounts.authenticate("ana", "wrong password", now=T0)
        assert result.outcome is LoginOutcome.FAILED, attempt
    result = accounts.authenticate("ana", "wrong password", now=T0)
    assert result.outcome is LoginOutcome.LOCKED
    until = T0 + LOCKOUT_DURATION
    assert result.locked_until == until and timedelta(minutes=15) == LOCKOUT_DURATION

    # Locked: even the right password is refused, and attempts do not extend the lock.
    just_before = until - timedelta(seconds=1)
    for password in (PASSWORD, "wrong password"):
        result = accounts.authenticate("ana", password, now=just_before)
        assert result.outcome is LoginOutcome.LOCKED and result.locked_until == until
    [lock] = [e for e in accounts.audit() if e.action == "lock"]
    assert lock.actor == "system" and (lock.after or {})["locked_until"] == until.isoformat()

    result = accounts.authenticate("ana", PASSWORD, now=until)
    assert result.outcome is LoginOutcome.OK
    user = accounts.user("ana")
    assert user is not None and user.locked_until is None and user.failed_logins == 0


def test_a_good_login_resets_the_failure_count(accounts: Accounts) -> None:
    accounts.create_user("ana", PASSWORD, Role.VIEWER, actor=ADMIN, now=T0)
    for _ in range(LOCKOUT_THRESHOLD - 1):
        accounts.authenticate("ana", "wrong password", now=T0)
    assert accounts.authenticate("ana", PASSWORD, now=T0).outcome is LoginOutcome.OK
    for _ in range(LOCKOUT_THRESHOLD - 1):
        assert accounts.authenticate("ana", "wrong pw", now=T0).outcome is LoginOutcome.FAILED


def test_after_a_lock_the_count_starts_again(accounts: Accounts) -> None:
    accounts.create_user("ana", PASSWORD, Role.VIEWER, actor=ADMIN, now=T0)
    for _ in range(LOCKOUT_THRESHOLD):
        accounts.authenticate("ana", "wrong password", now=T0)
    after = T0 + LOCKOUT_DURATION
    assert accounts.authenticate("ana", "wrong pw", now=after).outcome is LoginOutcome.FAILED
    for _ in range(LOCKOUT_THRESHOLD - 2):
        accounts.authenticate("ana", "wrong password", now=after)
    assert accounts.authenticate("ana", "wrong pw", now=after).outcome is LoginOutcome.LOCKED


def test_disabled_user_cannot_log_in(accounts: Accounts) -> None:
    accounts.create_user("root", PASSWORD, Role.ADMIN, actor=ADMIN, now=T0)
    accounts.create_user("ana", PASSWORD, Role.VIEWER, actor=ADMIN, now=T0)
    accounts.disable("ana", actor="root", now=T0)
    assert accounts.authenticate("ana", PASSWORD, now=T0).outcome is LoginOutcome.FAILED
    user = accounts.user("ana")
    assert user is not None and user.failed_logins == 0  # not counted as a guess
    accounts.enable("ana", actor="root", now=T0)
    assert accounts.authenticate("ana", PASSWORD, now=T0).outcome is LoginOutcome.OK


def test_password_is_rehashed_when_parameters_change(store: Store) -> None:
    Accounts(store, hasher=FAST).create_user("ana", PASSWORD, Role.VIEWER, actor=ADMIN, now=T0)
    old = _password_hash(store, "ana")
    assert ",t=1," in old
    stronger = PasswordHasher(time_cost=2, memory_cost=8, parallelism=1)
    accounts = Accounts(store, hasher=stronger)
    assert accounts.authenticate("ana", "wrong password", now=T0).outcome is LoginOutcome.FAILED
    assert _password_hash(store, "ana") == old  # only a good login rehashes
    assert accounts.authenticate("ana", PASSWORD, now=T0).outcome is LoginOutcome.OK
    new = _password_hash(store, "ana")
    assert new != old and ",t=2," in new
    assert accounts.authenticate("ana", PASSWORD, now=T0).outcome is LoginOutcome.OK
    assert _password_hash(store, "ana") == new


# -- tokens --------------------------------------------------------------------------
def test_token_lifecycle(accounts: Accounts, store: Store) -> None:
    accounts.create_user("ana", PASSWORD, Role.EDITOR, actor=ADMIN, now=T0)
    plain, record = accounts.create_token(
        "ana", "ci sync", ["read", Action.EDIT_WATCHLISTS], T0 + timedelta(days=90),
        actor=ADMIN, now=T0,
    )  # fmt: skip
    assert plain.startswith(f"alerts_{record.prefix}_")
    assert record.scopes == {Action.READ, Action.EDIT_WATCHLISTS}
    assert (record.username, record.name, record.last_used_at) == ("ana", "ci sync", None)
    with store.engine.connect() as connection:
        row = connection.execute(select(ApiTokenRow)).one()
    assert row.token_hash == hashlib.sha256(plain.encode()).hexdigest()
    assert plain not in repr(tuple(row))  # only its digest and public prefix are stored
    [created] = accounts.audit(object_type="token")
    assert created.object_name == "ana/ci sync" and created.before is None
    assert plain not in str(created.after) and row.token_hash not in str(created.after)

    used = T0 + timedelta(hours=1)
    principal = accounts.verify_token(plain, now=used)
    assert principal is not None and principal.username == "ana"
    assert principal.token_id == record.id
    assert principal.actions == {Action.READ, Action.EDIT_WATCHLISTS}
    assert not principal.allows(Action.EDIT_SUBSCRIPTIONS)  # in the role, not in the scopes
    assert accounts.tokens()[0].last_used_at == used
    accounts.verify_token(plain, now=used + timedelta(seconds=30))
    assert accounts.tokens("ANA")[0].last_used_at == used  # minute resolution
    accounts.verify_token(plain, now=used + timedelta(minutes=2))
    assert accounts.tokens()[0].last_used_at == used + timedelta(minutes=2)

    # Demoting the user narrows the token at once.
    accounts.set_role("ana", Role.VIEWER, actor=ADMIN, now=used)
    narrowed = accounts.verify_token(plain, now=used)
    assert narrowed is not None and narrowed.actions == {Action.READ}

    revoked = accounts.revoke_token(record.id, actor=ADMIN, now=used)
    assert revoked.revoked_at == used and not revoked.is_live(used)
    assert accounts.verify_token(plain, now=used) is None
    assert accounts.revoke_token(record.id, actor=ADMIN, now=used + timedelta(1)) == revoked
    audit = accounts.audit(object_type="token")
    assert [e.action for e in audit] == ["revoke", "create"]
    assert (audit[0].before or {})["revoked"] is False and (audit[0].after or {})["revoked"]
    with pytest.raises(UnknownAccountError, match="no token with id 999"):
        accounts.revoke_token(999, actor=ADMIN, now=used)


def test_tokens_are_refused_when_wrong_expired_or_their_user_is_disabled(
    accounts: Accounts,
) -> None:
    accounts.create_user("root", PASSWORD, Role.ADMIN, actor=ADMIN, now=T0)
    accounts.create_user("ana", PASSWORD, Role.VIEWER, actor=ADMIN, now=T0)
    expires = T0 + timedelta(days=1)
    plain, record = accounts.create_token("ana", "t", [], expires, actor=ADMIN, now=T0)
    assert record.scopes == {Action.READ}  # the default
    assert accounts.verify_token(plain, now=expires - timedelta(seconds=1)) is not None
    assert accounts.verify_token(plain, now=expires) is None  # expired

    forever, _ = accounts.create_token("ana", "forever", [], None, actor=ADMIN, now=T0)
    far = T0 + timedelta(days=3650)
    assert accounts.verify_token(forever, now=far) is not None
    wrong_secret = forever[:-6] + ("AAAAAA" if not forever.endswith("AAAAAA") else "BBBBBB")
    assert accounts.verify_token(wrong_secret, now=far) is None
    unknown = tokens.generate().plain
    for bad in (unknown, "", "alerts_", forever + "x", forever.upper()):
        assert accounts.verify_token(bad, now=far) is None

    accounts.disable("ana", actor="root", now=far)
    assert accounts.verify_token(forever, now=far) is None
    with pytest.raises(AccountError, match="user 'ana' is disabled"):
        accounts.create_token("ana", "again", [], None, actor="root", now=far)
    accounts.enable("ana", actor="root", now=far)
    assert accounts.verify_token(forever, now=far) is not None


def test_bad_token_requests_are_refused(accounts: Accounts) -> None:
    accounts.create_user("ana", PASSWORD, Role.EDITOR, actor=ADMIN, now=T0)
    cases: list[tuple[str, str, list[str], datetime | None, str]] = [
        ("ana", "x", ["admin:users"], None, "a editor cannot grant scope"),
        ("ana", "x", ["write"], None, "unknown scope"),
        ("ana", "x", [], T0, "expiry must be in the future"),
        ("ana", "", [], None, "token name"),
        ("ana", "n" * 101, [], None, "token name"),
        ("bob", "x", [], None, "no user named 'bob'"),
        ("b b", "x", [], None, "bad username"),
    ]
    for username, name, scopes, expires_at, message in cases:
        with pytest.raises(AccountError, match=message):
            accounts.create_token(username, name, scopes, expires_at, actor=ADMIN, now=T0)
    assert accounts.tokens() == []


def test_tokens_listing(accounts: Accounts) -> None:
    accounts.create_user("ana", PASSWORD, Role.ADMIN, actor=ADMIN, now=T0)
    accounts.create_user("bob", PASSWORD, Role.VIEWER, actor=ADMIN, now=T0)
    accounts.create_token("ana", "one", [], None, actor=ADMIN, now=T0)
    accounts.create_token("bob", "two", [], None, actor=ADMIN, now=T0 + timedelta(1))
    assert [t.name for t in accounts.tokens()] == ["two", "one"]
    assert [t.name for t in accounts.tokens("Ana")] == ["one"]
    assert accounts.tokens("nobody") == []


# -- audit ---------------------------------------------------------------------------
def test_record_audit_and_read_it_back(accounts: Accounts) -> None:
    before = {"terms": ["Russia"], "urgent": False}
    after = {"terms": ["Russia", "Россия"], "urgent": True, "n": 1.5}
    first = accounts.record_audit("ana", "update", "watchlist", "russia", before, after, T0)
    assert (first.before, first.after) == (before, after)
    accounts.record_audit("ana", "create", "channel", "ops", None, {"kind": "slack"}, T0)
    accounts.record_audit("bob", "delete", "watchlist", "iran", {"terms": []}, None,
                          T0 + timedelta(minutes=5))  # fmt: skip
    assert [e.object_name for e in accounts.audit()] == ["iran", "ops", "russia"]
    assert [e.object_name for e in accounts.audit(limit=2)] == ["iran", "ops"]
    assert [e.object_name for e in accounts.audit(object_type="watchlist")] == ["iran", "russia"]
    assert accounts.audit(object_type="nothing") == []
    [stored] = [e for e in accounts.audit() if e.id == first.id]
    assert stored == first and stored.at == T0


def test_bad_audit_entries_are_refused(accounts: Accounts, store: Store) -> None:
    with pytest.raises(ValueError, match="limit must be at least 1"):
        accounts.audit(limit=0)
    with pytest.raises(ValueError, match="actor must be 1 to 200"):
        accounts.record_audit("", "update", "watchlist", "x", None, None, T0)
    with pytest.raises(ValueError, match="object_name must be 1 to 200"):
        accounts.record_audit("ana", "update", "watchlist", "x" * 201, None, None, T0)
    with pytest.raises(ValueError, match="before is not JSON"):
        accounts.record_audit("ana", "update", "watchlist", "x", {"at": T0}, None, T0)
    with pytest.raises(ValueError, match="after is not JSON"):
        accounts.record_audit("ana", "update", "watchlist", "x", None, {"n": float("nan")}, T0)
    with pytest.raises(ValueError, match="naive datetime"):
        accounts.record_audit(
            "ana", "update", "watchlist", "x", None, None, T0.replace(tzinfo=None)
        )
    with store.engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM audit_log")) == 0


def test_an_admin_can_lift_a_lockout_with_enable(accounts: Accounts) -> None:
    # Anyone can lock an account with five wrong passwords; an admin must be able to let
    # its owner in again without waiting (`alerts users enable`).
    accounts.create_user("ana", PASSWORD, Role.VIEWER, actor=ADMIN, now=T0)
    for _ in range(LOCKOUT_THRESHOLD):
        accounts.authenticate("ana", "wrong password", now=T0)
    assert accounts.authenticate("ana", PASSWORD, now=T0).outcome is LoginOutcome.LOCKED
    accounts.enable("ana", actor=ADMIN, now=T0)
    assert accounts.authenticate("ana", PASSWORD, now=T0).outcome is LoginOutcome.OK
    assert "enable" in [e.action for e in accounts.audit()]


def test_a_stored_scope_this_version_does_not_know_grants_nothing(
    accounts: Accounts, store: Store
) -> None:
    from sqlalchemy import update

    accounts.create_user("ana", PASSWORD, Role.EDITOR, actor=ADMIN, now=T0)
    plain, record = accounts.create_token("ana", "ci", ["read"], None, actor=ADMIN, now=T0)
    with store.engine.begin() as connection:
        connection.execute(
            update(ApiTokenRow).where(ApiTokenRow.id == record.id).values(scopes=["read", "x:y"])
        )
    principal = accounts.verify_token(plain, now=T0)
    assert principal is not None and principal.allows(Action.READ)
    assert [t.scopes for t in accounts.tokens()] == [frozenset({Action.READ})]
