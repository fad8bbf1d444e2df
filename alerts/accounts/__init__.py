"""Accounts: who may do what. Roles and their actions, password hashing, API tokens.

Pure decisions and crypto only: these modules take and return plain values and touch no
database, network or clock (callers pass `now`). The users, tokens and audit trail are
kept by `alerts.store.accounts`; the web layer turns a login or a token into a `Principal`
through it and asks `Principal.allows(action)` before every change.

Must not import sqlalchemy, httpx, starlette or jinja2.

AccountError (an AlertsError) is what every refusal here raises: a bad username, a weak
password, a scope beyond the user's role, an unknown user or token, a duplicate.
"""

from __future__ import annotations

from alerts.errors import AlertsError


class AccountError(AlertsError):
    """An account operation was refused; the message says why and is safe to show."""


class UnknownAccountError(AccountError):
    """No such user or token (an API answers 404)."""


class AccountExistsError(AccountError):
    """The username is taken, whatever its case (an API answers 409)."""
