"""Bearer tokens (RFC 6750): who a request acts as, and whether it may do an action.

A missing header, another scheme, a malformed, unknown, expired or revoked token and a
disabled user all answer 401 with `WWW-Authenticate: Bearer`, and say no more than "missing"
or "not valid" (which of the reasons it was would help only someone guessing tokens). A
valid token whose principal lacks the action answers 403.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from alerts.accounts.roles import Action
from alerts.api.errors import ApiError
from alerts.store.accounts import Accounts, Principal

REALM = "alerts"
# Far above a real token (63 characters): anything longer is refused before any work.
MAX_HEADER_LENGTH = 512


class BearerAuth:
    """Checks a request's token against the accounts store at `clock()`."""

    def __init__(self, accounts: Accounts, clock: Callable[[], datetime]) -> None:
        self.accounts = accounts
        self.clock = clock

    async def require(self, request: Request, action: Action) -> Principal:
        """The request's principal if it may do `action`; ApiError 401/403 otherwise."""
        header = request.headers.get("authorization")
        if header is None:
            raise _unauthorized("unauthorized", "an API token is required: Authorization: Bearer …")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip() or len(header) > MAX_HEADER_LENGTH:
            raise _unauthorized(
                "invalid_token", "the Authorization header must be 'Bearer <token>'", invalid=True
            )
        principal = await run_in_threadpool(
            self.accounts.verify_token, token.strip(), now=self.clock()
        )
        if principal is None:
            raise _unauthorized(
                "invalid_token",
                "the token is not valid: unknown, expired or revoked",
                invalid=True,
            )
        if not principal.allows(action):
            raise ApiError(
                403,
                "insufficient_scope",
                f"the token does not allow {action.value!r}",
                headers={
                    "www-authenticate": (
                        f'Bearer realm="{REALM}", error="insufficient_scope", '
                        f'scope="{action.value}"'
                    )
                },
            )
        return principal


def _unauthorized(code: str, message: str, *, invalid: bool = False) -> ApiError:
    challenge = f'Bearer realm="{REALM}"'
    if invalid:
        challenge += ', error="invalid_token"'
    return ApiError(401, code, message, headers={"www-authenticate": challenge})
