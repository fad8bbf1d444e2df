"""Delivery commands: the delivery log, its attempts, dead-letter retry, channel health,
and a test message that reports exactly what the receiver answered."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import click
from rich.console import Console
from rich.table import Table

from alerts.app import open_pipeline
from alerts.cli.common import Context, common_options, errors_reported, run_async, with_store
from alerts.store.outbox import Outbox


def _console() -> Console:
    return Console(width=None if sys.stdout.isatty() else 200)


def _when(value: datetime | None) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S") if value else "-"


@click.group(invoke_without_command=True)
@common_options
@click.option(
    "--status",
    type=click.Choice(["pending", "sent", "dead"]),
    default=None,
    help="Only deliveries in this state (dead: the dead letters).",
)
@click.option("--subscription", metavar="NAME", default=None, help="Only this subscription.")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True)
@click.pass_context
def deliveries(
    click_ctx: click.Context,
    config_path: str | None,
    database: str | None,
    status: str | None,
    subscription: str | None,
    limit: int,
) -> None:
    """Recent deliveries and failures, newest first (subcommands: show, retry)."""
    if click_ctx.invoked_subcommand is not None:
        return
    with errors_reported():
        ctx = Context(config_path, database)
        records = with_store(ctx.settings, lambda store: store.deliveries(subscription))
        if status is not None:
            records = [r for r in records if r.status.value == status]
        table = Table(title="Deliveries")
        for column in (
            "id",
            "kind",
            "subscription",
            "channel",
            "status",
            "tries",
            "code",
            "created",
            "sent",
            "next try",
            "last error",
        ):
            table.add_column(column, overflow="fold")
        for r in records[:limit]:
            table.add_row(
                str(r.id),
                r.kind,
                r.subscription or "-",
                r.channel,
                r.status.value,
                str(r.attempts),
                str(r.last_status) if r.last_status is not None else "-",
                _when(r.created_at),
                _when(r.sent_at),
                _when(r.next_attempt_at) if r.status.value == "pending" else "-",
                (r.last_error or "")[:120],
            )
        _console().print(table)


@deliveries.command("show")
@common_options
@click.argument("delivery_id", type=int)
def show(config_path: str | None, database: str | None, delivery_id: int) -> None:
    """Every attempt of one delivery: when, how long, what the receiver answered."""
    with errors_reported():
        ctx = Context(config_path, database)
        attempts = with_store(ctx.settings, lambda store: Outbox(store).attempts(delivery_id))
        if not attempts:
            click.echo(f"delivery {delivery_id} has no recorded attempts (or does not exist)")
            return
        table = Table(title=f"Delivery {delivery_id}")
        for column in ("#", "started", "ms", "outcome", "code", "response", "error"):
            table.add_column(column, overflow="fold")
        for a in attempts:
            table.add_row(
                str(a.attempt),
                _when(a.started_at),
                str(a.latency_ms),
                a.outcome,
                str(a.status) if a.status is not None else "-",
                a.response[:200],
                (a.error or "")[:200],
            )
        _console().print(table)


@deliveries.command("retry")
@common_options
@click.argument("delivery_id", type=int)
def retry(config_path: str | None, database: str | None, delivery_id: int) -> None:
    """Put a dead letter back in the queue; the running service sends it at its next tick."""
    with errors_reported():
        ctx = Context(config_path, database)
        now = datetime.now(UTC)
        again = with_store(ctx.settings, lambda store: Outbox(store).retry(delivery_id, now=now))
        click.echo(f"delivery {again.id} to {again.channel} is queued again")


@click.command("send-test")
@common_options
@click.argument("channel")
def send_test(config_path: str | None, database: str | None, channel: str) -> None:
    """Send a test message to CHANNEL now and report exactly what the receiver answered."""
    with errors_reported():
        ctx = Context(config_path, database)
        config = ctx.config()
        if config.channel_by_name.get(channel) is None:
            names = ", ".join(sorted(config.channel_by_name)) or "none"
            click.echo(f"error: no channel named {channel!r} (configured: {names})", err=True)
            sys.exit(2)

        async def go() -> None:
            async with open_pipeline(config, ctx.settings) as pipeline:
                result = await pipeline.dispatcher.send_test(channel)
            code = result.http_status if result.http_status is not None else "-"
            click.echo(f"channel:  {channel}")
            click.echo(f"result:   {result.status}")
            click.echo(f"answer:   {code} {result.response}".rstrip())
            if result.error:
                click.echo(f"error:    {result.error}")
            click.echo(
                f"delivery: {result.delivery_id} (alerts deliveries show {result.delivery_id})"
            )
            if result.status != "sent":
                sys.exit(1)

        run_async(go())


@click.group(invoke_without_command=True)
@common_options
@click.pass_context
def channels(click_ctx: click.Context, config_path: str | None, database: str | None) -> None:
    """How each channel is doing: failure streaks and pauses (subcommand: resume)."""
    if click_ctx.invoked_subcommand is not None:
        return
    with errors_reported():
        ctx = Context(config_path, database)
        config = ctx.config()
        health = {
            h.channel: h for h in with_store(ctx.settings, lambda store: Outbox(store).health())
        }
        table = Table(title="Channels")
        for column in ("channel", "kind", "state", "failures", "last success", "last error"):
            table.add_column(column, overflow="fold")
        for c in config.channels:
            h = health.get(c.name)
            state = "ok"
            if h is not None and h.paused:
                state = f"PAUSED since {_when(h.paused_at)}"
            elif h is not None and h.failing:
                state = f"failing since {_when(h.failing_since)}"
            table.add_row(
                c.name,
                c.kind.value,
                state,
                str(h.consecutive_failures) if h else "0",
                _when(h.last_success_at) if h else "-",
                ((h.last_error or "") if h else "")[:120],
            )
        _console().print(table)


@channels.command("resume")
@common_options
@click.argument("channel")
def resume(config_path: str | None, database: str | None, channel: str) -> None:
    """Resume a paused channel: its waiting messages go at the next tick."""
    with errors_reported():
        ctx = Context(config_path, database)
        now = datetime.now(UTC)
        done = with_store(ctx.settings, lambda store: Outbox(store).resume(channel, now=now))
        click.echo(f"channel {channel} resumed" if done else f"channel {channel} was not paused")
