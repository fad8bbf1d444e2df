"""List source commands: what snapshot each list is diffed against, and starting afresh."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from alerts.cli.common import Context, common_options, errors_reported, with_store
from alerts.sources.lists.spec import ListFormat, ListSpec


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else "-"


@click.group(invoke_without_command=True)
@common_options
@click.pass_context
def lists(click_ctx: click.Context, config_path: str | None, database: str | None) -> None:
    """The stored snapshot of each list source (subcommand: rebaseline)."""
    if click_ctx.invoked_subcommand is not None:
        return
    with errors_reported():
        ctx = Context(config_path, database)
        rows = with_store(ctx.settings, lambda store: store.list_snapshots())
        if not rows:
            click.echo("no list snapshots stored yet")
        for name, snap, fetched in rows:
            what = "changes in the last file" if _is_delta(snap.format) else "entries"
            click.echo(
                f"{name}: {snap.record_count} {what} ({snap.format}), published "
                f"{_when(snap.published)}, read {_when(fetched)}"
            )


def _is_delta(fmt: str) -> bool:
    try:
        return ListSpec(ListFormat(fmt)).is_delta
    except ValueError:
        return False


@lists.command("rebaseline")
@common_options
@click.argument("feed")
def rebaseline(config_path: str | None, database: str | None, feed: str) -> None:
    """Forget FEED's snapshot: its next file is a silent baseline, announcing nothing.

    For a change the diff guard refuses as a likely bad download (a real mass delisting,
    ids renumbered by the publisher) once you have checked the file yourself.
    """
    with errors_reported():
        ctx = Context(config_path, database)
        dropped = with_store(ctx.settings, lambda store: store.drop_list_snapshot(feed))
        click.echo(
            f"{feed}: snapshot dropped; the next file is a silent baseline"
            if dropped
            else f"{feed}: no snapshot was stored"
        )
