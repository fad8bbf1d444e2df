"""CSRF protection for the console's forms: a per-session token in a hidden field.

The token lives in the signed session cookie; every POST must echo it in the form field
`FIELD`. They are compared in constant time. SameSite=Lax on the cookie is a second line.
"""

from __future__ import annotations

import hmac

FIELD = "csrf_token"
MAX_LENGTH = 128


class CsrfError(Exception):
    """The form's CSRF token is missing or does not match the session's."""


def check(expected: str | None, submitted: str | None) -> None:
    """Raise CsrfError unless `submitted` equals the session's token `expected`."""
    if not expected or not submitted or len(submitted) > MAX_LENGTH:
        raise CsrfError()
    if not hmac.compare_digest(expected.encode("utf-8"), submitted.encode("utf-8")):
        raise CsrfError()
