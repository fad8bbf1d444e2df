"""Item commands: list stored items with their story, revisions and extraction errors;
delete items for good (tombstones); prune old items."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import click
from rich.console import Console
from rich.table import Table

from alerts.cli.common import Context, common_options, errors_reported, with_store
from alerts.config import parse_interval


@click.group()
def items() -> None:
    """Stored items: list, delete, prune."""


@items.command("list")
@common_options
@click.option("--feed", help="Only this feed's items.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
def list_items(config_path: str | None, database: str | None, feed: str | None, limit: int) -> None:
    """Newest items first: story, revision, why it joined its story, extraction error."""
    with errors_reported():
        ctx = Context(config_path, database)
        stored = with_store(ctx.settings, lambda store: store.items(feed, limit=limit))
        table = Table(title="Items")
        for column in ("id", "feed", "title", "story", "rev", "story reason", "article"):
            table.add_column(column, overflow="fold")
        for item in stored:
            table.add_row(
                str(item.id),
                item.feed,
                item.title[:80],
                item.story_key[:60],
                str(item.revision),
                item.story_reason[:80],
                f"error: {item.extract_error[:60]}"
                if item.extract_error
                else ("extracted" if item.content else "-"),
            )
        Console(width=None if sys.stdout.isatty() else 200).print(table)


@items.command("delete")
@common_options
@click.argument("item_ids", nargs=-1, type=int, required=True)
def delete(config_path: str | None, database: str | None, item_ids: tuple[int, ...]) -> None:
    """Delete items (with their matches and queued alerts) for good.

    Their keys are kept as tombstones: a feed still carrying them never brings them back.
    """
    with errors_reported():
        ctx = Context(config_path, database)
        now = datetime.now(UTC)
        deleted = with_store(ctx.settings, lambda store: store.delete_items(item_ids, now=now))
        click.echo(f"deleted {deleted} item(s); missing: {len(set(item_ids)) - deleted}")


@items.command("prune")
@common_options
@click.option(
    "--older-than",
    "older_than",
    required=True,
    help='Age of items to delete, e.g. "90d"; at least the story window '
    "(ALERTS_STORY_WINDOW_DAYS). Items with pending alerts are kept.",
)
def prune(config_path: str | None, database: str | None, older_than: str) -> None:
    """Delete items fetched before a cut-off, leaving tombstones."""
    with errors_reported():
        ctx = Context(config_path, database)
        # Younger items still gather their stories' later reports: pruning them would let
        # a later copy start the story again and alert subscribers a second time.
        window = timedelta(days=ctx.settings.story_window_days)
        try:
            age = parse_interval(older_than, low=window, high=None)
        except ValueError as exc:
            raise click.BadParameter(
                f"{exc} (ALERTS_STORY_WINDOW_DAYS: items inside the story window are kept)",
                param_hint="--older-than",
            ) from exc
        now = datetime.now(UTC)
        deleted = with_store(ctx.settings, lambda store: store.prune(now - age, now=now))
        click.echo(f"deleted {deleted} item(s) fetched before {(now - age):%Y-%m-%d %H:%M} UTC")
