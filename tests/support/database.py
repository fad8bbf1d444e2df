"""Real databases for tests: SQLite files, and PostgreSQL when ALERTS_TEST_DATABASE_URL is set.

Every PostgreSQL test gets its own schema (`t_<random>`, dropped afterwards), selected through
the URL's `search_path` option, so tests are isolated and can run in any order or in parallel.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine

from alerts.store import Store, make_engine, normalise_url, upgrade

POSTGRES_ENV = "ALERTS_TEST_DATABASE_URL"

DATABASE_KINDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


@contextmanager
def fresh_database_url(kind: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of `kind` ("sqlite" or "postgresql"), removed afterwards.

    The database is not migrated. PostgreSQL skips the test when ALERTS_TEST_DATABASE_URL
    is unset. The URL is plain text so it can be handed to subprocesses (ALERTS_DATABASE_URL).
    """
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'db' / 'alerts.db'}"
        return
    if kind != "postgresql":
        raise ValueError(f"unknown database kind {kind!r}")
    base = os.environ.get(POSTGRES_ENV)
    if not base:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql://user@host/db)")
    schema = f"t_{secrets.token_hex(6)}"
    admin = make_engine(base)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = normalise_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            # Fail loudly instead of hanging if a test left a connection holding locks.
            connection.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(params=DATABASE_KINDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty, unmigrated database URL: SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "postgresql" and request.node.get_closest_marker("sqlite_only"):
        # Many-case input validation answered before the database is reached: the suite's
        # PostgreSQL time goes to the tests whose outcome depends on the database.
        pytest.skip("input validation: runs on SQLite only (sqlite_only)")
    with fresh_database_url(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a database migrated to head."""
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> Store:
    """A Store on a migrated database."""
    return Store(engine)
