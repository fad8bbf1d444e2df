"""Watchlists created, replaced and deleted by people (the API), each change audited.

A companion of `Store` with its contract (one transaction per method, `StoreError` when the
database fails). Every change bumps the row's revision, so `Store.watchlists_version`
changes and the running matcher rebuilds; the audit entry (who, before, after) is written in
the same transaction as the change.

Watchlists named in `file_managed` (those the config file declares) are refused: the next
`alerts sync` or restart would overwrite the edit. Rows are never deleted (matches refer to
them, and the version counts rows): a deleted watchlist is disabled, with its config entries
and imported entities cleared, and creating the name again revives the row.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from alerts.domain import Watchlist, entity_to_dict
from alerts.store.accounts import _audit
from alerts.store.models import WatchlistRow
from alerts.store.repository import (
    Store,
    _change_watchlist,
    _check_watchlist_name,
    _config_values,
    _new_watchlist_row,
)

OBJECT_TYPE = "watchlist"


class WatchlistEditError(Exception):
    """A change refused for what the watchlists are, not for a database failure."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name
        self.message = message


class WatchlistExistsError(WatchlistEditError):
    """Creating a name that is already an enabled watchlist."""


class UnknownWatchlistError(WatchlistEditError):
    """Replacing or deleting a name that is no enabled watchlist."""


class FileManagedError(WatchlistEditError):
    """Changing a watchlist the config file declares."""


class WatchlistEdits:
    """Create, replace and delete watchlists over `store`, with audit entries."""

    def __init__(self, store: Store, *, file_managed: Collection[str] = ()) -> None:
        self._store = store
        self.file_managed = frozenset(file_managed)

    def create(self, watchlist: Watchlist, *, actor: str, now: datetime) -> dict[str, Any]:
        """Save a new watchlist; its audit snapshot (what `after` holds) is returned."""
        name = watchlist.name
        self._refuse_file_managed(name, "created")
        _check_watchlist_name(name, f"create watchlist {name!r}")
        values = {
            **_config_values(watchlist),
            "enabled": True,
            "in_config": True,
            "origin": "api",
        }
        with self._store.transaction(f"create watchlist {name!r}") as session:
            row = _locked(session, name)
            if row is not None and row.enabled:
                raise WatchlistExistsError(name, f"a watchlist named {name!r} already exists")
            if row is None:
                row = _new_watchlist_row(name, values, now)
                session.add(row)
                try:
                    session.flush()
                except IntegrityError:
                    # Created by someone else meanwhile (the unique name).
                    raise WatchlistExistsError(
                        name, f"a watchlist named {name!r} already exists"
                    ) from None
                imported = 0
            else:
                _change_watchlist(row, values, now)  # a deleted one, revived
                imported = len(row.imported)
            after = snapshot(watchlist, imported)
            _audit(session, actor, "create", OBJECT_TYPE, name, None, after, now)
            return after

    def replace(
        self, watchlist: Watchlist, *, actor: str, now: datetime
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Replace the config entries of an existing watchlist (imported entities stay);
        (before, after) snapshots. No audit entry when nothing changed."""
        name = watchlist.name
        self._refuse_file_managed(name, "changed")
        values = {
            **_config_values(watchlist),
            "enabled": True,
            "in_config": True,
            "origin": "api",
        }
        with self._store.transaction(f"replace watchlist {name!r}") as session:
            row = _enabled(session, name)
            if row.origin == "config" and row.in_config:
                # Declared in the file by a sync since this process started (the row says
                # so, whatever `file_managed` was given at start-up).
                self._refuse_file_managed(name, "changed", always=True)
            before = _row_snapshot(row)
            after = snapshot(watchlist, len(row.imported))
            if before != after:
                _change_watchlist(row, values, now)
                _audit(session, actor, "update", OBJECT_TYPE, name, before, after, now)
            return before, after

    def delete(self, name: str, *, actor: str, now: datetime) -> dict[str, Any]:
        """Disable watchlist `name`, clearing its entries; its last snapshot is returned."""
        self._refuse_file_managed(name, "deleted")
        with self._store.transaction(f"delete watchlist {name!r}") as session:
            row = _enabled(session, name)
            if row.origin == "config" and row.in_config:
                # Declared in the file by a sync since this process started (the row says
                # so, whatever `file_managed` was given at start-up).
                self._refuse_file_managed(name, "changed", always=True)
            before = _row_snapshot(row)
            _change_watchlist(
                row,
                {
                    **_config_values(Watchlist(name=name)),
                    "enabled": False,
                    "in_config": False,
                    "imported": [],
                },
                now,
            )
            row.imported_source = None
            _audit(session, actor, "delete", OBJECT_TYPE, name, before, None, now)
            return before

    def _refuse_file_managed(self, name: str, done: str, *, always: bool = False) -> None:
        if always or name in self.file_managed:
            raise FileManagedError(
                name,
                f"watchlist {name!r} is declared in the config file and cannot be {done} "
                "here: the next `alerts sync` or restart would overwrite it; edit the file",
            )


def snapshot(watchlist: Watchlist, imported: int) -> dict[str, Any]:
    """A watchlist as the audit trail records it (config entries and an imported count)."""
    return {
        "name": watchlist.name,
        "description": watchlist.description,
        "importance": watchlist.importance.value,
        "terms": list(watchlist.terms),
        "queries": list(watchlist.queries),
        "regexes": list(watchlist.regexes),
        "entities": [entity_to_dict(e) for e in watchlist.entities],
        "exclude": list(watchlist.exclude),
        "urgent": list(watchlist.urgent),
        "imported_entities": imported,
    }


def _row_snapshot(row: WatchlistRow) -> dict[str, Any]:
    # Config columns of a watchlist outside the config are history: they do not count.
    values = _config_values(Watchlist(name=row.name))
    if row.in_config:
        values = {key: getattr(row, key) for key in values}
    return {"name": row.name, **values, "imported_entities": len(row.imported)}


def _locked(session: Session, name: str) -> WatchlistRow | None:
    # Row lock (PostgreSQL): two edits of one watchlist take turns.
    stmt = select(WatchlistRow).where(WatchlistRow.name == name).with_for_update()
    return session.scalars(stmt).one_or_none()


def _enabled(session: Session, name: str) -> WatchlistRow:
    row = _locked(session, name)
    if row is None or not row.enabled:
        raise UnknownWatchlistError(name, f"no watchlist named {name!r}")
    return row
