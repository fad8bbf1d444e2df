"""Wiring: build the engine, fetcher, matcher and channels once, and clean them all up.

Used by every CLI command and by the demo; modules never build their own clients or sessions.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from starlette.applications import Starlette

from alerts.api import create_api
from alerts.config import Config, Settings
from alerts.console import create_console
from alerts.delivery.base import Channel
from alerts.delivery.discord import DiscordChannel
from alerts.delivery.email import OutboxChannel, SmtpChannel, SmtpSettings
from alerts.delivery.links import Links
from alerts.delivery.slack import SlackChannel
from alerts.delivery.teams import TeamsChannel
from alerts.delivery.webhook import WebhookChannel
from alerts.domain import ChannelConfig, ChannelKind
from alerts.errors import ConfigError, ConfigProblem
from alerts.pipeline import Pipeline
from alerts.scheduler import Service
from alerts.sources.fetch import DEFAULT_USER_AGENT, Fetcher, FetchLimits
from alerts.store.engine import make_engine
from alerts.store.migrate import upgrade
from alerts.store.repository import Store
from alerts.web import Bind, WebServerError, create_app, parse_bind, serve_web

# The mail transport's name in logs and errors; subscribers' deliveries go to "email:<address>".
MAILER_NAME = "email"


def smtp_settings(settings: Settings) -> SmtpSettings | None:
    """The SMTP server from ALERTS_SMTP_URL (None: write .eml files); ConfigError if bad."""
    if not settings.smtp_url:
        return None
    try:
        return SmtpSettings.from_url(settings.smtp_url)
    except ValueError as exc:
        raise ConfigError([ConfigProblem("environment", "ALERTS_SMTP_URL", str(exc))]) from exc


def build_channels(
    config: Config, settings: Settings, links: Links | None = None
) -> dict[str, Channel]:
    """One channel object per configured channel; email goes to the outbox without SMTP."""
    smtp = smtp_settings(settings)
    return {c.name: _channel(c, settings, smtp, links) for c in config.channels}


def build_mailer(settings: Settings, links: Links | None) -> SmtpChannel | OutboxChannel:
    """The mail transport of subscribers' own digests and confirmation emails."""
    smtp = smtp_settings(settings)
    if smtp is None:
        return OutboxChannel(
            MAILER_NAME, Path(settings.outbox_dir), settings.email_from, links=links
        )
    return SmtpChannel(MAILER_NAME, smtp, sender=settings.email_from, links=links)


def _channel(
    c: ChannelConfig, settings: Settings, smtp: SmtpSettings | None, links: Links | None
) -> Channel:
    sender = c.sender or settings.email_from
    if c.kind is ChannelKind.EMAIL:
        if smtp is None:
            return OutboxChannel(
                c.name, Path(settings.outbox_dir), sender=sender, to=c.to, links=links
            )
        return SmtpChannel(c.name, smtp, sender=sender, to=c.to, links=links)
    if c.kind is ChannelKind.SLACK:
        return SlackChannel(c.name, c.url)
    if c.kind is ChannelKind.TEAMS:
        return TeamsChannel(c.name, c.url)
    if c.kind is ChannelKind.DISCORD:
        return DiscordChannel(c.name, c.url)
    return WebhookChannel(c.name, c.url, secret=c.secret, previous_secret=c.previous_secret)


def build_links(settings: Settings, store: Store) -> Links | None:
    """Signed links for messages, or None when no public URL is configured."""
    if not settings.base_url:
        return None
    if settings.secret_key:
        key = settings.secret_key.encode("utf-8")
    else:
        key = store.service_key("links", now=datetime.now(UTC))
    return Links(settings.base_url, key=key)


def web_bind(settings: Settings) -> Bind | None:
    """Where the web side listens (None: not served); ConfigError for a bad setting."""
    try:
        return parse_bind(settings.web_bind)
    except ValueError as exc:
        raise ConfigError([ConfigProblem("environment", "ALERTS_WEB_BIND", str(exc))]) from exc


def web_app(config: Config, store: Store, links: Links) -> Starlette:
    """The subscriber pages, the JSON API (at /api) and the console (at /console)."""
    console = create_console(
        store=store,
        key=links.key,
        secure=links.base_url.startswith("https://"),
        feeds=config.feeds,
    )
    return create_app(
        store=store,
        links=links,
        watchlists=config.self_service,
        default_timezone=config.timezone,
        self_service=bool(config.self_service),
        # Watchlists declared in the file are the file's: the API refuses to edit them.
        api=create_api(
            store,
            file_managed={w.name for w in config.watchlists} | set(config.rejected_watchlists),
        ),
        console=console,
    )


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
    build_channels(config, settings)  # a bad channel or SMTP URL fails before the database
    web_bind(settings)
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
    store = Store(engine)
    try:
        links = build_links(settings, store)
    except BaseException:
        engine.dispose()
        await fetcher.aclose()
        raise
    pipeline = Pipeline(
        config=config,
        settings=settings,
        store=store,
        fetcher=fetcher,
        channels=build_channels(config, settings, links),
        mailer=build_mailer(settings, links),
        links=links,
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
    bind = web_bind(settings)
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
            links = pipeline.dispatcher.links
            if bind is None or links is None or not deliver:
                await service.run(stop)
                return
            app = web_app(config, pipeline.store, links)
            await _together(
                service.run(stop),
                serve_web(
                    app, host=bind.host, port=bind.port, stop=stop, grace=settings.shutdown_grace
                ),
                stop,
            )
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def serve_web_only(config: Config, settings: Settings) -> None:
    """`alerts web`: only the subscriber pages, until SIGINT/SIGTERM."""
    bind = web_bind(settings)
    if bind is None:
        raise ConfigError(
            [ConfigProblem("environment", "ALERTS_WEB_BIND", "is 'off': nothing to serve")]
        )
    engine = open_database(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        store = Store(engine)
        links = build_links(settings, store)
        if links is None:
            raise ConfigError(
                [
                    ConfigProblem(
                        "environment",
                        "ALERTS_BASE_URL",
                        "is not set: the pages need the public URL their links point to",
                    )
                ]
            )
        app = web_app(config, store, links)
        await serve_web(
            app, host=bind.host, port=bind.port, stop=stop, grace=settings.shutdown_grace
        )
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
        engine.dispose()


async def _together(
    service: Coroutine[Any, Any, None], web: Coroutine[Any, Any, None], stop: asyncio.Event
) -> None:
    """Run the scheduler and the web server; when either ends (or fails), both stop cleanly."""
    failed: list[WebServerError] = []

    async def guard(part: Coroutine[Any, Any, None]) -> None:
        try:
            await part
        except WebServerError as exc:  # port in use, ...: stop the service, report it
            failed.append(exc)
        finally:
            stop.set()

    await asyncio.gather(guard(service), guard(web))
    if failed:
        raise failed[0]
