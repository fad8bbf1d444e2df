"""Wiring: build the engine, fetcher, matcher and channels once, and clean them all up.

Used by every CLI command and by the demo; modules never build their own clients or sessions.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from sqlalchemy.engine import Engine

from alerts.config import Config, Settings
from alerts.delivery.base import Channel
from alerts.delivery.email import OutboxChannel, SmtpChannel, SmtpSettings
from alerts.delivery.slack import SlackChannel
from alerts.delivery.webhook import WebhookChannel
from alerts.domain import ChannelConfig, ChannelKind
from alerts.errors import ConfigError, ConfigProblem
from alerts.pipeline import Pipeline
from alerts.scheduler import Service
from alerts.sources.fetch import DEFAULT_USER_AGENT, Fetcher, FetchLimits
from alerts.store.engine import make_engine
from alerts.store.migrate import upgrade
from alerts.store.repository import Store


def build_channels(config: Config, settings: Settings) -> dict[str, Channel]:
    """One channel object per configured channel; email goes to the outbox without SMTP."""
    smtp: SmtpSettings | None = None
    if settings.smtp_url:
        try:
            smtp = SmtpSettings.from_url(settings.smtp_url)
        except ValueError as exc:
            raise ConfigError([ConfigProblem("environment", "ALERTS_SMTP_URL", str(exc))]) from exc
    return {c.name: _channel(c, settings, smtp) for c in config.channels}


def _channel(c: ChannelConfig, settings: Settings, smtp: SmtpSettings | None) -> Channel:
    sender = c.sender or settings.email_from
    if c.kind is ChannelKind.EMAIL:
        if smtp is None:
            return OutboxChannel(c.name, Path(settings.outbox_dir), sender=sender, to=c.to)
        return SmtpChannel(c.name, smtp, sender=sender, to=c.to)
    if c.kind is ChannelKind.SLACK:
        return SlackChannel(c.name, c.url)
    return WebhookChannel(c.name, c.url, secret=c.secret)


def open_database(settings: Settings) -> Engine:
    """Create the engine and bring the schema to the newest migration."""
    engine = make_engine(settings.database_url)
    try:
        upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine


@asynccontextmanager
async def open_pipeline(config: Config, settings: Settings) -> AsyncIterator[Pipeline]:
    """A ready pipeline (database migrated, config synced); everything is closed on exit."""
    channels = build_channels(config, settings)
    engine = open_database(settings)
    limits = FetchLimits(
        connect_timeout=settings.fetch_timeout,
        read_timeout=settings.fetch_timeout,
        total_timeout=settings.fetch_timeout * 2,
        max_bytes=settings.max_feed_bytes,
        max_connections=settings.max_concurrency,
        max_per_host=settings.max_per_host,
    )
    fetcher = Fetcher(user_agent=settings.user_agent or DEFAULT_USER_AGENT, limits=limits)
    pipeline = Pipeline(
        config=config,
        settings=settings,
        store=Store(engine),
        fetcher=fetcher,
        channels=channels,
    )
    try:
        await pipeline.sync()
        await pipeline.refresh_matcher(force=True)
        yield pipeline
    finally:
        try:
            await pipeline.aclose()
        finally:
            await fetcher.aclose()
            engine.dispose()


async def serve(
    config: Config,
    settings: Settings,
    stop: asyncio.Event | None = None,
    *,
    deliver: bool = True,
) -> None:
    """Start the scheduler on a ready pipeline; stop on SIGINT/SIGTERM or when `stop` is set.

    With `deliver=False` only polls run (`alerts poll` without `--once`).
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with open_pipeline(config, settings) as pipeline:
            service = Service(
                pipeline,
                tick_seconds=settings.tick_seconds,
                grace_seconds=settings.shutdown_grace,
                deliver=deliver,
            )
            await service.run(stop)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
