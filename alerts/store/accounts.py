"""Users, their API tokens, logins, and the audit trail of changes.

A companion of `Store` with the same contract: one transaction per public method (a login
takes two: the password is checked between them, holding no lock), plain dataclasses in
and out, `StoreError` when the database fails. Refusals a user can cause (a taken or
malformed username, a weak password, an unknown role, user or token, a scope beyond the
role) raise `AccountError` with a message fit to show; bad arguments from code (an audit
entry that is not JSON) raise ValueError.

Usernames are stored in lower case (ASCII letters, digits and `. _ @ -`), so "Ana" and
"ana" are one user. Every change made here writes its audit entry in the same transaction,
with the object before and after; password and token hashes never go into it.

Logins: `authenticate` checks the password of an unknown user against a dummy hash, so a
wrong name takes as long as a wrong password. `LOCKOUT_THRESHOLD` failures in a row lock
the user for `LOCKOUT_DURATION` (a good password is refused meanwhile; attempts during the
lock neither count nor extend it); the count starts again after the lock or a good login.
A lockout does reveal that the name exists, to whoever made five attempts on it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts.accounts import AccountError, AccountExistsError, UnknownAccountError, passwords, tokens
from alerts.accounts.roles import Action, Role, parse_actions, parse_role
from alerts.store.models import ApiTokenRow, AuditRow, UserRow
from alerts.store.repository import Store

LOCKOUT_THRESHOLD = 5
LOCKOUT_DURATION = timedelta(minutes=15)
# `last_used_at` is for operators ("is this token still used?"): minute precision spares a
# write on every API call of a busy script.
LAST_USED_RESOLUTION = timedelta(minutes=1)
USERNAME_MAX_LENGTH = 64
AUDIT_FIELD_LENGTHS = {"actor": 200, "action": 50, "object_type": 50, "object_name": 200}
SYSTEM_ACTOR = "system"

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._@-]{0,63}")
# The dummy hash's password: anything; it is never compared with a real one.
_DUMMY_PASSWORD = "not a password of anyone"  # noqa: S105


class LoginOutcome(StrEnum):
    """What `Accounts.authenticate` decided."""

    OK = "ok"
    FAILED = "failed"  # unknown user, wrong password, or disabled user: pages say the same
    LOCKED = "locked"  # too many failures: `LoginResult.locked_until` says until when


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts as, and what it may do (a token: its scopes within the role)."""

    username: str
    role: Role
    actions: frozenset[Action]
    token_id: int | None = None  # None when logged in with a password

    def allows(self, action: Action) -> bool:
        """Whether this principal may do `action`."""
        return action in self.actions


@dataclass(frozen=True, slots=True)
class LoginResult:
    """The outcome of a login; `principal` is set only when it is OK."""

    outcome: LoginOutcome
    principal: Principal | None = None
    locked_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user as operators see it (never its hash)."""

    id: int
    username: str
    role: Role
    created_at: datetime
    disabled_at: datetime | None
    failed_logins: int
    locked_until: datetime | None
    last_login_at: datetime | None
    session_epoch: int = 0

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """An API token as operators see it: its public prefix, never the secret or its hash."""

    id: int
    username: str
    name: str
    prefix: str
    scopes: frozenset[Action]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None

    def is_live(self, now: datetime) -> bool:
        """Neither revoked nor expired at `now` (the user may still be disabled)."""
        return tokens.is_live(expires_at=self.expires_at, revoked_at=self.revoked_at, now=now)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One change: who, when, what, and the object before and after (None: absent)."""

    id: int
    at: datetime
    actor: str
    action: str
    object_type: str
    object_name: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def normalise_username(username: str) -> str:
    """The stored form of a username; AccountError when it is not a valid one."""
    name = username.strip().lower()
    if not _USERNAME.fullmatch(name):
        raise AccountError(
            f"bad username {username!r}: 1 to {USERNAME_MAX_LENGTH} characters, ASCII letters, "
            "digits and . _ @ -, starting with a letter or digit"
        )
    return name


class Accounts:
    """Users, tokens, logins and the audit trail, over a `Store`. Thread-safe like it."""

    def __init__(
        self, store: Store, *, hasher: passwords.PasswordHasher = passwords.DEFAULT_HASHER
    ) -> None:
        self._store = store
        self._hasher = hasher
        self._dummy_hash: str | None = None

    # -- users -----------------------------------------------------------------------
    def create_user(
        self, username: str, password: str, role: Role | str, *, actor: str, now: datetime
    ) -> UserRecord:
        """A new enabled user; AccountExistsError when the name is taken in any case."""
        name = normalise_username(username)
        role = _role(role)
        password_hash = passwords.hash_password(password, hasher=self._hasher)
        with self._store.transaction(f"create user {name!r}") as session:
            user_id = session.scalar(
                self._store.insert(UserRow)
                .values(
                    username=name,
                    password_hash=password_hash,
                    role=role.value,
                    created_at=now,
                    failed_logins=0,
                )
                .on_conflict_do_nothing(index_elements=["username"])
                .returning(UserRow.id)
            )
            if user_id is None:
                raise AccountExistsError(f"user {name!r} already exists")
            row = session.get_one(UserRow, user_id)
            record = _user(row)
            _audit(session, actor, "create", "user", name, None, _user_json(record), now)
            return record

    def user(self, username: str) -> UserRecord | None:
        """The user of that name (any case); None when unknown or not a valid name."""
        try:
            name = normalise_username(username)
        except AccountError:
            return None
        with self._store.transaction(f"load user {name!r}", write=False) as session:
            row = session.scalars(select(UserRow).where(UserRow.username == name)).one_or_none()
            return None if row is None else _user(row)

    def user_count(self) -> int:
        """How many users exist (none: make the first with `alerts users create`)."""
        with self._store.transaction("count users", write=False) as session:
            return int(session.scalar(select(func.count()).select_from(UserRow)) or 0)

    def users(self) -> list[UserRecord]:
        """Every user, by name."""
        with self._store.transaction("list users", write=False) as session:
            return [_user(r) for r in session.scalars(select(UserRow).order_by(UserRow.username))]

    def set_role(self, username: str, role: Role | str, *, actor: str, now: datetime) -> UserRecord:
        """Give a user another role; the last enabled admin cannot be demoted."""
        role = _role(role)
        name = normalise_username(username)
        with self._store.transaction(f"set the role of user {name!r}") as session:
            row = _locked_user(session, name)
            before = _user(row)
            if before.role is role:
                return before
            if before.role is Role.ADMIN and before.disabled_at is None:
                _keep_an_admin(session, row, f"cannot make {name!r} a {role.value}")
            row.role = role.value
            row.session_epoch = (row.session_epoch or 0) + 1  # ends their sessions
            after = _user(row)
            _audit(
                session, actor, "set_role", "user", name, _user_json(before), _user_json(after), now
            )
            return after

    def disable(self, username: str, *, actor: str, now: datetime) -> UserRecord:
        """Refuse the user's logins and tokens from now on; repeating it changes nothing."""
        name = normalise_username(username)
        with self._store.transaction(f"disable user {name!r}") as session:
            row = _locked_user(session, name)
            before = _user(row)
            if before.disabled:
                return before
            if before.role is Role.ADMIN:
                _keep_an_admin(session, row, f"cannot disable {name!r}")
            row.disabled_at = now
            row.session_epoch = (row.session_epoch or 0) + 1  # ends their sessions
            after = _user(row)
            _audit(
                session, actor, "disable", "user", name, _user_json(before), _user_json(after), now
            )
            return after

    def enable(self, username: str, *, actor: str, now: datetime) -> UserRecord:
        """Undo `disable` (and any lockout); repeating it changes nothing."""
        name = normalise_username(username)
        with self._store.transaction(f"enable user {name!r}") as session:
            row = _locked_user(session, name)
            before = _user(row)
            locked = row.locked_until is not None and row.locked_until > now
            if not before.disabled and not locked and not row.failed_logins:
                return before
            row.disabled_at = None
            row.session_epoch = (row.session_epoch or 0) + 1  # ends their sessions
            row.failed_logins = 0
            row.locked_until = None
            after = _user(row)
            _audit(
                session, actor, "enable", "user", name, _user_json(before), _user_json(after), now
            )
            return after

    def end_sessions(self, username: str) -> None:
        """End every console session of the user (logout): their cookies stop working."""
        name = normalise_username(username)
        with self._store.transaction(f"end the sessions of user {name!r}") as session:
            row = session.scalars(select(UserRow).where(UserRow.username == name)).one_or_none()
            if row is not None:
                row.session_epoch = (row.session_epoch or 0) + 1

    # -- logins ----------------------------------------------------------------------
    def authenticate(self, username: str, password: str, *, now: datetime) -> LoginResult:
        """Check a login (see the module docstring for lockouts and timing).

        AccountError only for an empty or over-long password (a malformed request).
        """
        passwords.normalise(password)
        try:
            name = normalise_username(username)
        except AccountError:
            name = None
        row = None
        if name is not None:
            with self._store.transaction("look up a user to log in", write=False) as session:
                row = session.scalars(select(UserRow).where(UserRow.username == name)).first()
        if row is None:
            passwords.verify_password(self._dummy(), password, hasher=self._hasher)
            return LoginResult(LoginOutcome.FAILED)
        if row.locked_until is not None and now < row.locked_until:
            return LoginResult(LoginOutcome.LOCKED, locked_until=row.locked_until)
        good = passwords.verify_password(row.password_hash, password, hasher=self._hasher)
        if good and row.disabled_at is None:
            rehashed = None
            if passwords.needs_rehash(row.password_hash, hasher=self._hasher):
                # Not `hash_password`: a later, stricter policy must not refuse a
                # password that was accepted when it was set.
                rehashed = self._hasher.hash(passwords.normalise(password))
            return self._logged_in(row.id, rehashed, now)
        if good:  # a disabled user: refused, but not a guess to count
            return LoginResult(LoginOutcome.FAILED)
        return self._failed(row.id, now)

    def _logged_in(self, user_id: int, rehashed: str | None, now: datetime) -> LoginResult:
        with self._store.transaction("record a login") as session:
            row = session.get(UserRow, user_id, with_for_update=True)
            # Disabled, deleted or locked by a concurrent guesser since the check: refuse.
            if row is None or row.disabled_at is not None:
                return LoginResult(LoginOutcome.FAILED)
            if row.locked_until is not None and now < row.locked_until:
                return LoginResult(LoginOutcome.LOCKED, locked_until=row.locked_until)
            row.failed_logins = 0
            row.locked_until = None
            row.last_login_at = now
            if rehashed is not None:
                row.password_hash = rehashed
            role = Role(row.role)
            return LoginResult(LoginOutcome.OK, Principal(row.username, role, role.actions()))

    def _failed(self, user_id: int, now: datetime) -> LoginResult:
        with self._store.transaction("record a failed login") as session:
            row = session.get_one(UserRow, user_id, with_for_update=True)
            if row.locked_until is not None and now < row.locked_until:
                return LoginResult(LoginOutcome.LOCKED, locked_until=row.locked_until)
            row.failed_logins += 1
            if row.failed_logins < LOCKOUT_THRESHOLD:
                return LoginResult(LoginOutcome.FAILED)
            before = _user(row)
            row.failed_logins = 0
            row.locked_until = now + LOCKOUT_DURATION
            _audit(
                session,
                SYSTEM_ACTOR,
                "lock",
                "user",
                row.username,
                _user_json(before),
                _user_json(_user(row)),
                now,
            )
            return LoginResult(LoginOutcome.LOCKED, locked_until=row.locked_until)

    def _dummy(self) -> str:
        # Made with this store's hasher, so it costs what a real check costs.
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash(_DUMMY_PASSWORD)
        return self._dummy_hash

    # -- tokens ----------------------------------------------------------------------
    def create_token(
        self,
        username: str,
        name: str,
        scopes: Iterable[Action | str],
        expires_at: datetime | None,
        *,
        actor: str,
        now: datetime,
    ) -> tuple[str, TokenRecord]:
        """A new token of an enabled user: (the token, shown this once; its record).

        No scope means `tokens.DEFAULT_SCOPES` (read only); a scope beyond the user's role
        and an expiry not in the future are refused.
        """
        user_name = normalise_username(username)
        token_name = tokens.check_name(name)
        if expires_at is not None and expires_at <= now:
            raise AccountError("a token's expiry must be in the future")
        new = tokens.generate()
        with self._store.transaction(f"create a token for user {user_name!r}") as session:
            user = _locked_user(session, user_name)
            if user.disabled_at is not None:
                raise AccountError(f"user {user_name!r} is disabled")
            wanted = tokens.check_scopes(Role(user.role), _actions(scopes))
            row = ApiTokenRow(
                user_id=user.id,
                name=token_name,
                prefix=new.prefix,
                token_hash=new.digest,
                scopes=sorted(a.value for a in wanted),
                created_at=now,
                expires_at=expires_at,
            )
            session.add(row)
            session.flush()
            record = _token(row, user.username)
            _audit(
                session,
                actor,
                "create",
                "token",
                _token_object(record),
                None,
                _token_json(record),
                now,
            )
            return new.plain, record

    def verify_token(self, plain: str, *, now: datetime) -> Principal | None:
        """Who a presented token acts as; None if malformed, unknown, wrong, expired,
        revoked, or its user is disabled."""
        parsed = tokens.parse(plain)
        if parsed is None:
            return None
        prefix, presented = parsed
        stmt = (
            select(ApiTokenRow, UserRow)
            .join(UserRow, UserRow.id == ApiTokenRow.user_id)
            .where(ApiTokenRow.prefix == prefix)
        )
        with self._store.transaction("look up a token", write=False) as session:
            found = session.execute(stmt).one_or_none()
        if found is None:
            return None
        token, user = found
        if (
            not tokens.digests_match(token.token_hash, presented)
            or not tokens.is_live(expires_at=token.expires_at, revoked_at=token.revoked_at, now=now)
            or user.disabled_at is not None
        ):
            return None
        if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
            with self._store.transaction("record a token's use") as session:
                session.get_one(ApiTokenRow, token.id).last_used_at = now
        role = Role(user.role)
        actions = tokens.effective_scopes(role, _stored_actions(token.scopes))
        return Principal(user.username, role, actions, token_id=token.id)

    def revoke_token(self, token_id: int, *, actor: str, now: datetime) -> TokenRecord:
        """Revoke a token for good; repeating it changes nothing. UnknownAccountError if none."""
        with self._store.transaction(f"revoke token {token_id}") as session:
            found = session.execute(
                select(ApiTokenRow, UserRow.username)
                .join(UserRow, UserRow.id == ApiTokenRow.user_id)
                .where(ApiTokenRow.id == token_id)
                .with_for_update()
            ).one_or_none()
            if found is None:
                raise UnknownAccountError(f"no token with id {token_id}")
            row, username = found
            before = _token(row, username)
            if before.revoked_at is not None:
                return before
            row.revoked_at = now
            after = _token(row, username)
            _audit(
                session,
                actor,
                "revoke",
                "token",
                _token_object(after),
                _token_json(before),
                _token_json(after),
                now,
            )
            return after

    def tokens(self, username: str | None = None) -> list[TokenRecord]:
        """Every token (of one user), newest first, revoked and expired ones included."""
        stmt = (
            select(ApiTokenRow, UserRow.username)
            .join(UserRow, UserRow.id == ApiTokenRow.user_id)
            .order_by(ApiTokenRow.created_at.desc(), ApiTokenRow.id.desc())
        )
        if username is not None:
            stmt = stmt.where(UserRow.username == normalise_username(username))
        with self._store.transaction("list tokens", write=False) as session:
            return [_token(row, name) for row, name in session.execute(stmt)]

    # -- audit -----------------------------------------------------------------------
    def record_audit(
        self,
        actor: str,
        action: str,
        object_type: str,
        object_name: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
        at: datetime,
    ) -> AuditEntry:
        """Write one audit entry on its own. Changes made in a transaction of their own
        should write theirs inside it instead (as this module does)."""
        with self._store.transaction("write an audit entry") as session:
            row = _audit(session, actor, action, object_type, object_name, before, after, at)
            return _audit_entry(row)

    def audit(self, limit: int = 100, object_type: str | None = None) -> list[AuditEntry]:
        """The newest `limit` audit entries (of one object type), newest first."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        stmt = select(AuditRow).order_by(AuditRow.at.desc(), AuditRow.id.desc()).limit(limit)
        if object_type is not None:
            stmt = stmt.where(AuditRow.object_type == object_type)
        with self._store.transaction("read the audit trail", write=False) as session:
            return [_audit_entry(r) for r in session.scalars(stmt)]


# -- helpers -------------------------------------------------------------------------
def _role(role: Role | str) -> Role:
    return role if isinstance(role, Role) else parse_role(role)


def _actions(scopes: Iterable[Action | str]) -> frozenset[Action]:
    return parse_actions(str(s) for s in scopes)


def _stored_actions(scopes: Iterable[str]) -> frozenset[Action]:
    """A stored token's actions; a scope this version does not know (renamed, or written
    by a newer version) grants nothing instead of failing every request with the token."""
    known = {a.value for a in Action}
    return frozenset(Action(s) for s in scopes if s in known)


def _locked_user(session: Session, name: str) -> UserRow:
    row = session.scalars(
        select(UserRow).where(UserRow.username == name).with_for_update()
    ).one_or_none()
    if row is None:
        raise UnknownAccountError(f"no user named {name!r}")
    return row


def _keep_an_admin(session: Session, row: UserRow, refusal: str) -> None:
    """AccountError unless an enabled admin other than `row` remains.

    The other admins' rows are locked, so two admins demoting each other at once cannot
    both succeed (PostgreSQL; SQLite's write transactions are serial anyway).
    """
    others = session.scalars(
        select(UserRow.id)
        .where(
            UserRow.role == Role.ADMIN.value, UserRow.disabled_at.is_(None), UserRow.id != row.id
        )
        .with_for_update()
    ).all()
    if not others:
        raise AccountError(f"{refusal}: it is the last enabled admin")


def _audit(
    session: Session,
    actor: str,
    action: str,
    object_type: str,
    object_name: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    at: datetime,
) -> AuditRow:
    fields = {"actor": actor, "action": action, "object_type": object_type}
    for field, value in {**fields, "object_name": object_name}.items():
        limit = AUDIT_FIELD_LENGTHS[field]
        if not value or len(value) > limit:
            raise ValueError(f"an audit entry's {field} must be 1 to {limit} characters")
    row = AuditRow(
        at=at,
        actor=actor,
        action=action,
        object_type=object_type,
        object_name=object_name,
        before=_json_object(before, "before"),
        after=_json_object(after, "after"),
    )
    session.add(row)
    session.flush()
    return row


def _json_object(value: Mapping[str, Any] | None, what: str) -> dict[str, Any] | None:
    """A plain JSON copy, so an unserialisable value fails here with a clear message."""
    if value is None:
        return None
    try:
        copy = json.loads(json.dumps(dict(value), allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"an audit entry's {what} is not JSON: {exc}") from exc
    assert isinstance(copy, dict)
    return copy


def _user(row: UserRow) -> UserRecord:
    return UserRecord(
        id=row.id,
        username=row.username,
        role=Role(row.role),
        created_at=row.created_at,
        disabled_at=row.disabled_at,
        failed_logins=row.failed_logins,
        locked_until=row.locked_until,
        last_login_at=row.last_login_at,
        session_epoch=row.session_epoch or 0,
    )


def _user_json(user: UserRecord) -> dict[str, Any]:
    return {
        "username": user.username,
        "role": user.role.value,
        "disabled": user.disabled,
        "locked_until": _iso(user.locked_until),
    }


def _token(row: ApiTokenRow, username: str) -> TokenRecord:
    return TokenRecord(
        id=row.id,
        username=username,
        name=row.name,
        prefix=row.prefix,
        scopes=_stored_actions(row.scopes),
        created_at=row.created_at,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def _token_object(token: TokenRecord) -> str:
    return f"{token.username}/{token.name}"[: AUDIT_FIELD_LENGTHS["object_name"]]


def _token_json(token: TokenRecord) -> dict[str, Any]:
    return {
        "id": token.id,
        "user": token.username,
        "name": token.name,
        "prefix": token.prefix,
        "scopes": sorted(a.value for a in token.scopes),
        "expires_at": _iso(token.expires_at),
        "revoked": token.revoked_at is not None,
    }


def _audit_entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(
        id=row.id,
        at=row.at,
        actor=row.actor,
        action=row.action,
        object_type=row.object_type,
        object_name=row.object_name,
        before=row.before,
        after=row.after,
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
