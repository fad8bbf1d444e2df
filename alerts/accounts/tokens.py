"""API tokens: a random secret shown once, kept only as a SHA-256 digest.

A token reads `alerts_<prefix>_<secret>`: `prefix` is 12 random hex digits stored in clear
to find the row (and shown in listings so operators can tell tokens apart), `secret` is 32
random bytes, URL-safe base64 (43 characters). The database keeps SHA-256 of the whole
string: a leaked database lets no one call the API. A plain hash is enough (unlike
passwords) because the secret has 256 bits of entropy: nothing to brute-force. The fixed
`alerts_` start lets secret scanners spot a token pasted where it should not be.

Scopes are `Action`s, at most those the user's role allows when the token is made; what a
token may do at any time is its scopes intersected with the role the user has then.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from alerts.accounts import AccountError
from alerts.accounts.roles import Action, Role

TOKEN_START = "alerts_"  # noqa: S105 (a public marker, not a secret)
PREFIX_BYTES = 6  # 12 hex digits: collisions are negligible at any realistic token count
SECRET_BYTES = 32
NAME_MAX_LENGTH = 100
# What a token gets when no scope is asked for: reading only, the least that is useful.
DEFAULT_SCOPES = frozenset({Action.READ})

_TOKEN = re.compile(re.escape(TOKEN_START) + r"([0-9a-f]{12})_([A-Za-z0-9_-]{43})")


@dataclass(frozen=True, slots=True)
class NewToken:
    """A freshly made token: `plain` is shown once, then only `prefix` and `digest` are kept."""

    plain: str
    prefix: str
    digest: str


def digest(plain: str) -> str:
    """Hex SHA-256 of a token, as stored."""
    return hashlib.sha256(plain.encode("utf-8")).hexdigest()


def generate() -> NewToken:
    """A new random token."""
    prefix = secrets.token_hex(PREFIX_BYTES)
    plain = f"{TOKEN_START}{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"
    return NewToken(plain, prefix, digest(plain))


def parse(plain: str) -> tuple[str, str] | None:
    """(prefix, digest) of a well-formed token; None for anything else."""
    m = _TOKEN.fullmatch(plain.strip())
    if m is None:
        return None
    return m.group(1), digest(m.group(0))


def digests_match(stored: str, presented: str) -> bool:
    """Constant-time comparison of two hex digests."""
    return hmac.compare_digest(stored.encode("ascii"), presented.encode("ascii"))


def check_name(name: str) -> str:
    """The token's name, stripped; AccountError when empty or too long."""
    name = name.strip()
    if not name or len(name) > NAME_MAX_LENGTH:
        raise AccountError(f"a token name must be 1 to {NAME_MAX_LENGTH} characters")
    return name


def check_scopes(role: Role, scopes: Iterable[Action]) -> frozenset[Action]:
    """The scopes (DEFAULT_SCOPES when none); AccountError for any the role does not allow."""
    wanted = frozenset(scopes) or DEFAULT_SCOPES
    beyond = sorted(a.value for a in wanted if not role.allows(a))
    if beyond:
        raise AccountError(f"a {role.value} cannot grant scope(s) {', '.join(beyond)}")
    return wanted


def effective_scopes(role: Role, scopes: Iterable[Action]) -> frozenset[Action]:
    """What a token may do now: its scopes that the user's current role still allows."""
    return frozenset(a for a in scopes if role.allows(a))


def is_live(*, expires_at: datetime | None, revoked_at: datetime | None, now: datetime) -> bool:
    """Whether a token is neither revoked nor expired at `now`."""
    return revoked_at is None and (expires_at is None or now < expires_at)
