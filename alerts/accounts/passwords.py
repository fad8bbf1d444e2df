"""Password policy and hashing: argon2id through argon2-cffi.

Hashes are PHC strings (`$argon2id$v=19$m=...,t=...,p=...$salt$hash`) that carry their own
parameters, so raising the cost later only needs `needs_rehash` at the next good login.
The default cost is argon2-cffi's, RFC 9106's low-memory profile (t=3, 64 MiB, p=4): some
tens of milliseconds per hash. Tests pass a cheaper `PasswordHasher`.

Passwords are NFKC-normalised before hashing and checking (as NIST SP 800-63B advises), so
the same password typed on another keyboard or OS still matches. Policy is length only:
at least `MIN_LENGTH` characters, at most `MAX_LENGTH` (an unbounded input is a cheap way to
burn a server's CPU), no composition rules.
"""

from __future__ import annotations

import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from alerts.accounts import AccountError

MIN_LENGTH = 12
MAX_LENGTH = 1024
DEFAULT_HASHER = PasswordHasher()  # argon2id (the library's default type)

__all__ = [
    "DEFAULT_HASHER",
    "MAX_LENGTH",
    "MIN_LENGTH",
    "PasswordHasher",
    "check_policy",
    "hash_password",
    "needs_rehash",
    "normalise",
    "verify_password",
]


def normalise(password: str) -> str:
    """NFKC form of a presented password; AccountError when empty or over-long."""
    if not password:
        raise AccountError("a password is required")
    if len(password) > MAX_LENGTH:
        raise AccountError(f"a password must be at most {MAX_LENGTH} characters")
    return unicodedata.normalize("NFKC", password)


def check_policy(password: str) -> None:
    """AccountError unless `password` may be set as a new password."""
    if len(normalise(password)) < MIN_LENGTH:
        raise AccountError(f"a password must be at least {MIN_LENGTH} characters")


def hash_password(password: str, *, hasher: PasswordHasher = DEFAULT_HASHER) -> str:
    """The argon2id PHC string of a new password; AccountError if the policy refuses it."""
    check_policy(password)
    return hasher.hash(normalise(password))


def verify_password(
    stored_hash: str, password: str, *, hasher: PasswordHasher = DEFAULT_HASHER
) -> bool:
    """Whether `password` matches `stored_hash`; False for a corrupt hash.

    AccountError for an empty or over-long password: that is a malformed request, not a
    wrong guess (the caller decides whether it counts as a failed attempt).
    """
    candidate = normalise(password)
    try:
        return hasher.verify(stored_hash, candidate)
    except (VerificationError, InvalidHashError):
        # VerifyMismatchError is a VerificationError: the common "wrong password" case.
        return False


def needs_rehash(stored_hash: str, *, hasher: PasswordHasher = DEFAULT_HASHER) -> bool:
    """Whether `stored_hash` was made with other parameters than `hasher`'s (or is unreadable)."""
    try:
        return hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True
