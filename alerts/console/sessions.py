"""Console sessions in a signed cookie: who is logged in, as what, since when.

The cookie holds a token of `alerts.delivery.tokens` (HMAC-SHA256, purpose-bound) over
`[csrf, username, role, epoch]` and its issue time, signed with a key derived from the service
key, so a link token can never pass for a session and the other way round. A session
with no username is anonymous: it exists only to carry the login form's CSRF token.

Nothing is kept on the server, so a session cannot be revoked before it expires; the
console therefore looks the user up on every request (a disabled user is logged out at
once, a new role applies at once).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from alerts.accounts.roles import Role
from alerts.delivery.tokens import TokenError, make_token, read_token

PURPOSE = "console-session"
LIFETIME = timedelta(hours=12)
_DERIVATION = b"alerts console session key v1"


def session_key(service_key: bytes) -> bytes:
    """The sessions' own key, derived from the service key."""
    return hmac.new(service_key, _DERIVATION, hashlib.sha256).digest()


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class Session:
    """A session read from (or about to go into) the cookie; `username` empty: anonymous."""

    csrf: str = field(repr=False)
    username: str = ""
    role: Role | None = None
    epoch: int = 0  # the user's session epoch when the session began (see UserRow)

    @property
    def logged_in(self) -> bool:
        return bool(self.username) and self.role is not None


def anonymous() -> Session:
    return Session(csrf=new_csrf_token())


def logged_in(username: str, role: Role, epoch: int = 0) -> Session:
    """A fresh session (a new CSRF token too, so nothing from before the login carries over)."""
    return Session(csrf=new_csrf_token(), username=username, role=role, epoch=epoch)


def encode(key: bytes, session: Session, *, now: datetime) -> str:
    role = session.role.value if session.role is not None else ""
    return make_token(
        key, PURPOSE, session.csrf, session.username, role, str(session.epoch), issued=now
    )


def decode(key: bytes, cookie: str | None, *, now: datetime) -> Session | None:
    """The session in `cookie`; None when missing, forged, malformed or older than LIFETIME."""
    if not cookie:
        return None
    try:
        parts = read_token(key, PURPOSE, cookie, now=now, max_age=LIFETIME)
    except TokenError:
        return None
    if len(parts) != 4 or not parts[0] or not parts[3].isdigit():
        return None
    csrf, username, role_text, epoch = parts
    if not username:
        return Session(csrf=csrf) if not role_text else None
    try:
        role = Role(role_text)
    except ValueError:
        return None
    return Session(csrf=csrf, username=username, role=role, epoch=int(epoch))
