"""Engine factory: one place that knows how to talk to SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import ConnectionPoolEntry

DEFAULT_DATABASE_URL = "sqlite:///data/alerts.db"  # relative to the working directory

# Execution option read by the SQLite "begin" hook: write transactions take the write lock
# up front (BEGIN IMMEDIATE) so a read-then-write transaction cannot fail half-way with
# SQLITE_BUSY when another process wrote in between; busy_timeout then simply waits.
SQLITE_BEGIN_OPTION = "alerts_sqlite_begin"
_SQLITE_BEGIN = {"DEFERRED": "BEGIN DEFERRED", "IMMEDIATE": "BEGIN IMMEDIATE"}


def normalise_url(url: str | URL) -> URL:
    """Parse `url`; bare `postgres://` / `postgresql://` URLs get the psycopg 3 driver."""
    parsed = make_url(url)
    if parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def make_engine(url: str | URL) -> Engine:
    """Create an engine for `url` (SQLite file or PostgreSQL), configured for this service."""
    parsed = normalise_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend == "postgresql":
        # Connections die behind load balancers and across server restarts; test them first.
        return create_engine(parsed, pool_pre_ping=True)
    return create_engine(parsed)


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    file_backed = database not in ("", ":memory:") and not database.startswith("file:")
    if file_backed:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        assert isinstance(dbapi_connection, sqlite3.Connection)
        # Let SQLAlchemy (the "begin" hook below) own transactions: the sqlite3 module's own
        # implicit BEGIN is deferred and skips SELECTs, which breaks one-transaction reads.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if file_backed:
                # WAL: readers never block the writer (the service and the CLI run together).
                cursor.execute("PRAGMA journal_mode=WAL")
                # NORMAL is durable in WAL mode except for the last commits on power loss.
                cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=5000")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        mode = connection.get_execution_options().get(SQLITE_BEGIN_OPTION, "DEFERRED")
        connection.exec_driver_sql(_SQLITE_BEGIN[mode])

    return engine
