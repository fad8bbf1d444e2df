"""Schema migrations, run programmatically: the schema is created only by Alembic.

The Alembic scripts live in the repository's `migrations/` directory (the package is
installed editable from the repository), next to `alembic.ini` for the `alembic` command.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from alerts import resources
from alerts.errors import StoreError
from alerts.store.engine import SQLITE_BEGIN_OPTION, make_engine

# Any constant works: it only has to be the same for every process migrating this database.
_PG_MIGRATION_LOCK = 0x616C657274  # "alert"


def migrations_dir() -> Path:
    """The Alembic `migrations/` directory (see `alerts.resources`)."""
    path = resources.migrations_dir()
    if not (path / "env.py").is_file():
        raise StoreError(
            f"Alembic migrations not found at {path}: run from a checkout (pip install -e .) "
            "or set ALERTS_RESOURCES_DIR to the folder holding migrations/"
        )
    return path


def alembic_config() -> Config:
    """An Alembic config built in code (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    return config


def upgrade(url_or_engine: str | Engine, revision: str = "head") -> None:
    """Migrate the database to `revision` (default: the latest). A no-op when up to date."""
    engine = make_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    config = alembic_config()
    try:
        with engine.connect() as connection:
            # SQLite: take the write lock up front so two processes migrate one after the other.
            connection.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
            with connection.begin():
                if connection.dialect.name == "postgresql":
                    # Same for PostgreSQL; the lock is released at commit.
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK}
                    )
                config.attributes["connection"] = connection
                command.upgrade(config, revision)
    except SQLAlchemyError as exc:
        raise StoreError(f"database migration to {revision!r} failed: {exc}") from exc
    except CommandError as exc:
        raise StoreError(f"database migration to {revision!r} failed: {exc}") from exc
    finally:
        if isinstance(url_or_engine, str):
            engine.dispose()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it was never migrated."""
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except SQLAlchemyError as exc:
        raise StoreError(f"could not read the schema revision: {exc}") from exc


def head_revision() -> str:
    """The latest revision the code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise StoreError(f"no migration scripts in {migrations_dir()}")
    return head


def is_up_to_date(engine: Engine) -> bool:
    """True when the database schema is at the latest revision."""
    return current_revision(engine) == head_revision()
