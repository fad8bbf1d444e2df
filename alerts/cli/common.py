"""What every `alerts` command shares: settings and config loading, error reporting."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from alerts.app import open_database
from alerts.config import Config, Settings, load_config, resolve_config_path
from alerts.errors import AlertsError, ConfigError, StoreError
from alerts.logs import configure
from alerts.store.repository import Store

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])
EXIT_CONFIG = 2


class Context:
    """What every command needs: settings, and the config once it is loaded."""

    def __init__(self, config_option: str | None, database: str | None) -> None:
        self.config_path = resolve_config_path(config_option)
        self.settings = Settings.from_env(database_url=database, config_path=self.config_path)
        configure(self.settings.log_level, self.settings.log_format)

    def config(self) -> Config:
        return load_config(self.config_path)


def common_options(fn: F) -> F:
    """--config and --database on every command."""
    fn = click.option(
        "--database",
        "database",
        metavar="URL",
        default=None,
        help="Database URL (default: ALERTS_DATABASE_URL, else sqlite:///data/alerts.db).",
    )(fn)
    fn = click.option(
        "--config",
        "config_path",
        metavar="PATH",
        default=None,
        help="Configuration file (default: ALERTS_CONFIG, else ./feeds.toml).",
    )(fn)
    return fn


@contextmanager
def errors_reported() -> Iterator[None]:
    """Turn our errors into clear messages and exit codes instead of tracebacks."""
    try:
        yield
    except ConfigError as exc:
        for problem in exc.problems:
            click.echo(f"error: {problem}", err=True)
        click.echo(f"{len(exc.problems)} problem(s) found; nothing was changed.", err=True)
        sys.exit(EXIT_CONFIG)
    except StoreError as exc:
        click.echo(f"database error: {exc}", err=True)
        sys.exit(1)
    except AlertsError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


def run_async(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def with_store(settings: Settings, fn: Callable[[Store], T]) -> T:
    """Run `fn` with a store on a migrated database, then close the engine."""
    engine = open_database(settings)
    try:
        return fn(Store(engine))
    finally:
        engine.dispose()
