"""Migrations are the only source of the schema, and they must match the models exactly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import IntegrityError

import alerts
from alerts.errors import StoreError
from alerts.store import current_revision, head_revision, is_up_to_date, make_engine, upgrade
from alerts.store.migrate import alembic_config
from alerts.store.models import Base

REPO = Path(alerts.__file__).resolve().parents[1]
TABLES = {t.name for t in Base.metadata.sorted_tables}


def schema_diff(engine: Engine) -> list[object]:
    """Our `alembic check`: what autogenerate would change to make the DB match the models."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_head_revision() -> None:
    assert head_revision() == "0001"


def test_upgrade_empty_database_twice(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) is None
        assert not is_up_to_date(engine)
        upgrade(database_url)  # by URL: builds and disposes its own engine
        assert current_revision(engine) == head_revision()
        assert is_up_to_date(engine)
        assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}

        upgrade(engine)  # a no-op when up to date
        assert current_revision(engine) == head_revision()
        assert schema_diff(engine) == []
    finally:
        engine.dispose()


def test_schema_matches_models(engine: Engine) -> None:
    assert schema_diff(engine) == []


def test_schema_enforces_invariants(engine: Engine) -> None:
    inspector = inspect(engine)
    unique = {
        table: {tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)}
        for table in ("items", "alert_queue", "deliveries")
    }
    assert ("feed_id", "key") in unique["items"]
    assert ("subscription_id", "story_key") in unique["alert_queue"]
    assert ("idempotency_key",) in unique["deliveries"]
    # compare_metadata does not look at CHECK constraints: try one.
    with pytest.raises(IntegrityError, match="ck_deliveries_status"), engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO deliveries (digest_id, channel, idempotency_key, status, attempts,"
                " created_at) VALUES (1, 'c', 'k', 'bogus', 0, CURRENT_TIMESTAMP)"
            )
        )


def test_downgrade_to_base_and_up_again(engine: Engine) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert current_revision(engine) is None
    upgrade(engine)
    assert is_up_to_date(engine) and schema_diff(engine) == []


def test_alembic_command_line(database_url: str, tmp_path: Path) -> None:
    """`alembic upgrade head` and `alembic check` from the repository root, via env.py."""
    env = {**os.environ, "ALERTS_DATABASE_URL": database_url}
    for args in (["upgrade", "head"], ["check"]):
        result = subprocess.run(
            [sys.executable, "-m", "alembic", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
    engine = make_engine(database_url)
    try:
        assert is_up_to_date(engine)
    finally:
        engine.dispose()


def test_missing_migrations_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ALERTS_RESOURCES_DIR", str(tmp_path))
    with pytest.raises(StoreError, match="migrations not found"):
        upgrade(f"sqlite:///{tmp_path / 'alerts.db'}")


def test_upgrade_unreachable_database(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="database migration") as info:
        upgrade(f"sqlite:///{tmp_path}")  # a directory, not a database file
    assert info.value.__cause__ is not None
