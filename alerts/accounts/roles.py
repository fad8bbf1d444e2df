"""Roles and the actions they allow: viewer < editor < admin, each allowing what the one
below it does and more.

- viewer: read everything operators can see (no secrets in full);
- editor: also change watchlists and subscriptions;
- admin: also sources, channels, users and secrets.

An API token carries a subset of its user's actions (its scopes); what it may do is that
subset intersected with what the user's role allows *now*, so demoting a user narrows their
tokens at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from alerts.accounts import AccountError


class Action(StrEnum):
    """Something a request may do; also the names of token scopes."""

    READ = "read"
    EDIT_WATCHLISTS = "edit:watchlists"
    EDIT_SUBSCRIPTIONS = "edit:subscriptions"
    ADMIN_SOURCES = "admin:sources"
    ADMIN_CHANNELS = "admin:channels"
    ADMIN_USERS = "admin:users"
    ADMIN_SECRETS = "admin:secrets"


_VIEWER = frozenset({Action.READ})
_EDITOR = _VIEWER | {Action.EDIT_WATCHLISTS, Action.EDIT_SUBSCRIPTIONS}
_ADMIN = frozenset(Action)


class Role(StrEnum):
    """A user's role, stored by value in `users.role`: viewer < editor < admin."""

    VIEWER = "viewer"
    EDITOR = "editor"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        """0 for viewer, 1 for editor, 2 for admin."""
        return _RANKS[self]

    # Roles compare by rank, not as the strings they also are ("admin" < "editor"), and
    # never with a plain string: that would silently fall back to string order.
    def __lt__(self, other: str) -> bool:
        return self.rank < _rank(other)

    def __le__(self, other: str) -> bool:
        return self.rank <= _rank(other)

    def __gt__(self, other: str) -> bool:
        return self.rank > _rank(other)

    def __ge__(self, other: str) -> bool:
        return self.rank >= _rank(other)

    def actions(self) -> frozenset[Action]:
        """Everything this role allows."""
        return _ACTIONS[self]

    def allows(self, action: Action) -> bool:
        """Whether this role may do `action`."""
        return action in _ACTIONS[self]


_RANKS = {Role.VIEWER: 0, Role.EDITOR: 1, Role.ADMIN: 2}
_ACTIONS = {Role.VIEWER: _VIEWER, Role.EDITOR: _EDITOR, Role.ADMIN: _ADMIN}


def _rank(other: object) -> int:
    if not isinstance(other, Role):
        raise TypeError(f"a Role compares only with a Role, not {type(other).__name__}")
    return other.rank


def parse_role(text: str) -> Role:
    """'Admin' -> Role.ADMIN; AccountError naming the choices otherwise."""
    try:
        return Role(text.strip().lower())
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise AccountError(f"unknown role {text!r} (choose one of {choices})") from None


def parse_actions(texts: Iterable[str]) -> frozenset[Action]:
    """Scope names -> actions; AccountError naming every unknown one and the choices."""
    actions: set[Action] = set()
    unknown: list[str] = []
    for text in texts:
        try:
            actions.add(Action(text.strip().lower()))
        except ValueError:
            unknown.append(text)
    if unknown:
        choices = ", ".join(a.value for a in Action)
        names = ", ".join(repr(u) for u in unknown)
        raise AccountError(f"unknown scope(s) {names} (choose from {choices})")
    return frozenset(actions)
