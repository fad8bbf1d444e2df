"""Service commands: run, web, check, poll, digest, feeds, db, demo."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from alerts.app import open_database, open_pipeline, serve, serve_web_only
from alerts.cli.common import (
    Context,
    common_options,
    errors_reported,
    run_async,
)
from alerts.config import Config, Settings
from alerts.delivery.render import render_text
from alerts.domain import FeedState
from alerts.errors import ConfigError
from alerts.logs import configure
from alerts.pipeline import PollResult
from alerts.store.migrate import current_revision, head_revision
from alerts.store.repository import Store

# -- run ----------------------------------------------------------------------------


@click.command()
@common_options
def run(config_path: str | None, database: str | None) -> None:
    """Run the service: poll feeds and send digests on schedule until SIGINT/SIGTERM."""
    with errors_reported():
        ctx = Context(config_path, database)
        config = ctx.config()
        run_async(serve(config, ctx.settings))


@click.command()
@common_options
def web(config_path: str | None, database: str | None) -> None:
    """Serve only the subscriber pages (unsubscribe, confirm, full digests, /subscribe)."""
    with errors_reported():
        ctx = Context(config_path, database)
        config = ctx.config()
        run_async(serve_web_only(config, ctx.settings))


# -- check --------------------------------------------------------------------------


@click.command()
@common_options
def check(config_path: str | None, database: str | None) -> None:
    """Validate the configuration and print every problem (exit 2 if any)."""
    with errors_reported():
        ctx = Context(config_path, database)
        config = ctx.config()
        from alerts.app import build_channels

        build_channels(config, ctx.settings)  # validates ALERTS_SMTP_URL too
        if config.watchlist_problems:
            raise ConfigError(list(config.watchlist_problems))
        for w in config.watchlists:
            if not (w.terms or w.queries or w.regexes or w.entities):
                click.echo(
                    f"note: watchlist {w.name!r} has no entries of its own: it matches only "
                    "entities imported with `alerts watchlists import`"
                )
        click.echo(
            f"{config.path}: OK: {len(config.feeds)} feeds, {len(config.watchlists)} "
            f"watchlists, {len(config.channels)} channels, {len(config.subscriptions)} "
            "subscriptions"
        )


# -- poll ---------------------------------------------------------------------------


@click.command()
@common_options
@click.option(
    "--once",
    is_flag=True,
    help="Poll once and exit (without it: poll on schedule, no deliveries, until interrupted).",
)
@click.option(
    "--feed",
    "feeds",
    multiple=True,
    metavar="NAME",
    help="Only this feed (repeatable). With --once, polls it even if it is not due.",
)
def poll(config_path: str | None, database: str | None, once: bool, feeds: tuple[str, ...]) -> None:
    """Poll feeds and store new items and matches."""
    with errors_reported():
        ctx = Context(config_path, database)
        config = ctx.config()
        unknown = [f for f in feeds if config.feed(f) is None]
        if unknown:
            raise click.UsageError(f"no feed named {', '.join(map(repr, unknown))}")
        if not once:
            run_async(serve(config, ctx.settings, deliver=False))
            return
        results = run_async(_poll_once(config, ctx.settings, list(feeds) or None))
        errors = [r for r in results if r.status == "error"]
        click.echo(
            f"polled {len(results)} feeds: {sum(r.status == 'fetched' for r in results)} "
            f"fetched, {sum(r.status == 'not_modified' for r in results)} not modified, "
            f"{sum(r.new_items for r in results)} new items, "
            f"{sum(r.queued for r in results)} alerts queued, {len(errors)} errors"
        )
        for r in errors:
            click.echo(f"  {r.feed}: {r.error}", err=True)
        sys.exit(1 if errors and len(errors) == len(results) else 0)


async def _poll_once(
    config: Config, settings: Settings, only: list[str] | None
) -> list[PollResult]:
    async with open_pipeline(config, settings) as pipeline:
        enabled = [f.name for f in config.feeds if f.enabled and (only is None or f.name in only)]
        if not sys.stdout.isatty():
            return await pipeline.poll_due(only=enabled, force=True)
        with Progress(
            TextColumn("polling"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            transient=True,
        ) as progress:
            task = progress.add_task("", total=len(enabled))

            def advance(result: PollResult) -> None:
                progress.update(task, advance=1, description=result.feed)

            return await pipeline.poll_due(only=enabled, force=True, on_result=advance)


# -- digest -------------------------------------------------------------------------


@click.command()
@common_options
@click.option("--once", is_flag=True, required=True, help="Build and send what is due, once.")
@click.option("--subscription", metavar="NAME", default=None, help="Only this subscription.")
@click.option(
    "--dry-run", is_flag=True, help="Print the digests instead of sending; change nothing."
)
@click.option(
    "--now", "force", is_flag=True, help="Ignore the schedule: send whatever is pending now."
)
def digest(
    config_path: str | None,
    database: str | None,
    once: bool,
    subscription: str | None,
    dry_run: bool,
    force: bool,
) -> None:
    """Build due digests and send them (or print them with --dry-run)."""
    with errors_reported():
        ctx = Context(config_path, database)
        config = ctx.config()
        if subscription and config.subscription(subscription) is None:
            raise click.UsageError(f"no subscription named {subscription!r}")
        failed = run_async(_digest_once(config, ctx.settings, subscription, dry_run, force))
        sys.exit(1 if failed else 0)


async def _digest_once(
    config: Config, settings: Settings, only: str | None, dry_run: bool, force: bool
) -> int:
    async with open_pipeline(config, settings) as pipeline:
        planned = await pipeline.plan_digests(only=only, force=force, dry_run=dry_run)
        if dry_run:
            for p in planned:
                click.echo(
                    f"=== {p.subscription} -> {p.channel}: {p.digest.entry_count} stories ==="
                )
                click.echo(render_text(p.digest))
            if not planned:
                click.echo("nothing due")
            return 0
        results = await pipeline.send_pending()
        for r in results:
            line = f"{r.subscription} -> {r.channel}: {r.status}, {r.stories} stories"
            click.echo(line + (f" ({r.error})" if r.error else ""))
        if not results:
            click.echo("nothing due")
        return sum(r.status != "sent" for r in results)


# -- feeds --------------------------------------------------------------------------


@click.command()
@common_options
def feeds(config_path: str | None, database: str | None) -> None:
    """Table of feeds: last success, last error, items, next poll."""
    with errors_reported():
        ctx = Context(config_path, database)
        config = ctx.config()  # refuse to show state for an invalid configuration
        engine = open_database(ctx.settings)
        try:
            states = Store(engine).feed_states()
        finally:
            engine.dispose()
        table = Table(title="Feeds")
        for column in (
            "feed",
            "kind",
            "enabled",
            "items",
            "last success",
            "errors",
            "last error",
            "next poll",
            "url",
            "identity",
        ):
            table.add_column(column, overflow="fold")
        for s in states:
            declared = config.feed(s.name)
            kind = declared.kind.value if declared else "-"
            if declared and declared.issuer:
                kind += f" ({declared.issuer})"
            table.add_row(
                s.name,
                kind,
                "yes" if s.enabled else "no",
                str(s.item_count),
                _when(s.last_success_at),
                str(s.error_count),
                (s.last_error or "")[:80] if s.error_count else "",
                _when(s.next_poll_at),
                s.url,
                _identity(s),
            )
        Console(width=None if sys.stdout.isatty() else 200).print(table)
        for s in states:
            for anomaly in s.anomalies[-3:]:
                click.echo(f"anomaly: {s.name}: {anomaly}")


def _identity(state: FeedState) -> str:
    """How the feed's items are told apart (see alerts.dedup.identity)."""
    if state.guids_unreliable and state.links_unreliable:
        return "content hash (guids and links repeat)"
    if state.guids_unreliable:
        return "link (guids repeat)"
    if state.links_unreliable:
        return "guid (links repeat)"
    return "guid"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S UTC") if value else "-"


# -- db -----------------------------------------------------------------------------


@click.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@common_options
def db_upgrade(config_path: str | None, database: str | None) -> None:
    """Apply every migration up to the newest."""
    with errors_reported():
        ctx = Context(config_path, database)
        engine = open_database(ctx.settings)
        try:
            click.echo(f"database at revision {current_revision(engine)}")
        finally:
            engine.dispose()


@db.command("current")
@common_options
def db_current(config_path: str | None, database: str | None) -> None:
    """Print the database's revision and the newest one."""
    with errors_reported():
        ctx = Context(config_path, database)
        from alerts.store.engine import make_engine

        engine = make_engine(ctx.settings.database_url)
        try:
            click.echo(f"current: {current_revision(engine)}  head: {head_revision()}")
        finally:
            engine.dispose()


# -- demo ---------------------------------------------------------------------------


@click.command()
@click.option(
    "--outbox",
    metavar="DIR",
    default="outbox-demo",
    show_default=True,
    help="Where the demo digest .eml files are written.",
)
@click.option(
    "--seconds",
    default=60.0,
    show_default=True,
    help="Stop after this long (the first digest lands within seconds).",
)
@click.option("--keep-running", is_flag=True, help="Do not stop after the first digest.")
def demo(outbox: str, seconds: float, keep_running: bool) -> None:
    """Run the service against example feeds it serves itself on 127.0.0.1."""
    from alerts.demo import run_demo

    with errors_reported():
        configure("INFO", "text")
        code = run_async(run_demo(Path(outbox), seconds=seconds, keep_running=keep_running))
        sys.exit(code)
