"""The composed pipeline against real servers and real databases (SQLite and PostgreSQL).

Feeds come from a real HTTP server on 127.0.0.1, digests go to a real SMTP server and a real
webhook receiver, and state lives in a migrated database. Only the clock is ours to move.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from alerts.config import Config, Settings, load_config
from alerts.delivery.email import SmtpChannel, SmtpSettings
from alerts.delivery.webhook import WebhookChannel
from alerts.domain import DeliveryStatus
from alerts.matching import compile_watchlists
from alerts.pipeline import Pipeline
from alerts.sources.fetch import Fetcher, FetchLimits
from alerts.store.repository import Store
from tests.support.feed_server import FeedServer
from tests.support.smtp_server import SmtpTestServer
from tests.support.webhook_receiver import WebhookReceiver

START = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def rss(*items: str, title: str = "Test wire") -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://wire.example/</link><description>d</description>"
        + "".join(items)
        + "</channel></rss>"
    ).encode()


def item(
    guid: str,
    title: str,
    link: str,
    summary: str = "",
    date: str = "Fri, 27 Nov 2026 10:00:00 +0000",
) -> str:
    return (
        f'<item><guid isPermaLink="false">{guid}</guid><title>{title}</title><link>{link}</link>'
        f"<description>{summary}</description><pubDate>{date}</pubDate></item>"
    )


NAVALNY = item(
    "wire-1",
    "US announces sanctions against Russia over Navalny poisoning",
    "https://wire.example/world/us-sanctions-russia-navalny",
    "The administration announced a series of sanctions against Russia in response to the "
    "poisoning and jailing of opposition leader Alexei Navalny.",
)
NAVALNY_SYNDICATED = item(
    "courier-9",
    "Washington targets Russian officials over Navalny",
    "http://wire.example/world/us-sanctions-russia-navalny/?utm_source=courier#top",
    "Washington announced a series of sanctions against Russia.",
)
RATES = item("wire-2", "Central bank holds rates", "https://wire.example/rates", "Rates unchanged.")


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_config(
    tmp_path: Path, feeds: dict[str, str], *, schedule: str = "immediate", hook_url: str = ""
) -> Config:
    lines = ['[settings]\ntimezone = "Europe/London"\n']
    for name, url in feeds.items():
        lines.append(
            f'[[feeds]]\nname = "{name}"\ntitle = "{name.title()}"\nurl = "{url}"\ninterval = "30m"\n'
        )
    lines.append(
        '[[watchlists]]\nname = "russia"\nterms = ["Navalny", "sanctions against Russia"]\n'
    )
    lines.append(
        '[[channels]]\nname = "mail"\ntype = "email"\nto = ["a@example.org", "b@example.org"]\n'
    )
    lines.append(
        f'[[subscriptions]]\nname = "mail-sub"\nwatchlists = ["russia"]\nchannel = "mail"\nschedule = "{schedule}"\n'
    )
    if hook_url:
        lines.append(f'[[channels]]\nname = "hook"\ntype = "webhook"\nurl = "{hook_url}"\n')
        lines.append(
            '[[subscriptions]]\nname = "hook-sub"\nwatchlists = ["russia"]\nchannel = "hook"\n'
        )
    path = tmp_path / "feeds.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return load_config(path, environ={})


@pytest.fixture
async def make_pipeline(store: Store) -> AsyncIterator[Callable[..., Any]]:
    made: list[tuple[Pipeline, Fetcher]] = []

    async def make(config: Config, *, smtp_url: str, hook_url: str = "") -> Pipeline:
        fetcher = Fetcher(
            limits=FetchLimits(
                connect_timeout=2, read_timeout=1, total_timeout=3, max_bytes=64 * 1024
            )
        )
        channels: dict[str, Any] = {
            "mail": SmtpChannel(
                "mail",
                SmtpSettings.from_url(smtp_url),
                sender="Alerts <alerts@example.org>",
                to=config.channel_by_name["mail"].to,
            ),
        }
        if hook_url:
            channels["hook"] = WebhookChannel("hook", hook_url, timeout=2.0)
        pipeline = Pipeline(
            config=config,
            settings=Settings(max_delivery_attempts=3),
            store=store,
            fetcher=fetcher,
            matcher=compile_watchlists(config.watchlists),
            channels=channels,
            clock=Clock(),
        )
        await pipeline.sync()
        made.append((pipeline, fetcher))
        return pipeline

    yield make
    for pipeline, fetcher in made:
        await pipeline.aclose()
        await fetcher.aclose()


async def test_syndicated_story_is_queued_and_sent_once(
    tmp_path: Path,
    feed_server: FeedServer,
    smtp_server: SmtpTestServer,
    webhook_receiver: WebhookReceiver,
    store: Store,
    make_pipeline: Callable[..., Any],
) -> None:
    feed_server.route("/wire.xml", body=rss(NAVALNY, RATES), etag='"v1"')
    feed_server.route("/courier.xml", body=rss(NAVALNY_SYNDICATED, title="Courier"))
    config = write_config(
        tmp_path,
        {"wire": feed_server.url("/wire.xml"), "courier": feed_server.url("/courier.xml")},
        hook_url=webhook_receiver.url("/hook"),
    )
    pipeline = await make_pipeline(
        config, smtp_url=smtp_server.url, hook_url=webhook_receiver.url("/hook")
    )

    results = {r.feed: r for r in await pipeline.poll_due()}
    assert results["wire"].status == "fetched" and results["wire"].new_items == 2
    assert results["courier"].new_items == 1
    # One story, two feeds: queued once per subscription (mail-sub and hook-sub).
    assert results["wire"].queued + results["courier"].queued == 2

    sent = await pipeline.deliver_due()
    assert sorted(r.status for r in sent) == ["sent", "sent"]
    messages = smtp_server.wait_for(2)
    assert sorted(m.message["To"] for m in messages) == ["a@example.org", "b@example.org"]
    msg = messages[0].message
    text = msg.get_body(preferencelist=("plain",)).get_content()
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "Navalny" in text and "wire.example/world/us-sanctions-russia-navalny" in text
    assert "<mark" in html and "Sources (2)" in html  # matched words highlighted, both outlets
    assert msg["Auto-Submitted"] == "auto-generated"
    body = webhook_receiver.wait_for(1)[0].json
    [story] = body["stories"]
    assert "wire.example/world/us-sanctions-russia-navalny" in story["link"]
    assert len(story["also_in"]) == 1  # the other outlet, listed under the one story

    # Re-poll: 304 for the ETag feed, nothing new anywhere, nothing more to send.
    pipeline.clock.advance(hours=1)  # type: ignore[attr-defined]
    again = {r.feed: r for r in await pipeline.poll_due()}
    assert again["wire"].status == "not_modified"
    assert again["courier"].new_items == 0
    assert await pipeline.deliver_due() == []
    assert len(smtp_server.messages) == 2 and len(webhook_receiver.requests) == 1
    assert any(r.headers.get("if-none-match") == '"v1"' for r in feed_server.requests)


BAD_FEEDS = {
    "html-page": (
        "/html",
        {
            "body": b"<!DOCTYPE html><html><head><title>Home</title></head><body><p>Welcome</p></body></html>",
            "headers": {"Content-Type": "text/html; charset=utf-8"},
        },
        "HTML",
    ),
    "malformed": (
        "/malformed",
        {
            "body": b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Broken & unescaped</title><<<'
        },
        "malformed XML",
    ),
    "empty": ("/empty", {"body": b""}, "empty"),
    "missing": ("/missing", {"body": b"not here", "status": 404}, "404"),
    "broken": ("/broken", {"body": b"oops", "status": 500}, "500"),
    "huge": ("/huge", {"body": b"<rss>" + b" " * (200 * 1024) + b"</rss>"}, "cap"),
    "slow": ("/slow", {"body": rss(RATES), "delay": 3.0}, "timed out"),
}


async def test_bad_feeds_record_clear_errors_and_the_others_go_on(
    tmp_path: Path,
    feed_server: FeedServer,
    smtp_server: SmtpTestServer,
    store: Store,
    make_pipeline: Callable[..., Any],
) -> None:
    feed_server.route("/good.xml", body=rss(NAVALNY, RATES))
    urls = {"good": feed_server.url("/good.xml")}
    for name, (path, route, _) in BAD_FEEDS.items():
        feed_server.route(path, **route)
        urls[name] = feed_server.url(path)
    urls["refused"] = f"http://127.0.0.1:{closed_port()}/feed.xml"
    feed_server.redirect("/loop-a", "/loop-b")
    feed_server.redirect("/loop-b", "/loop-a")
    urls["loop"] = feed_server.url("/loop-a")
    pipeline = await make_pipeline(write_config(tmp_path, urls), smtp_url=smtp_server.url)

    results = {r.feed: r for r in await pipeline.poll_due()}
    assert results["good"].status == "fetched" and results["good"].new_items == 2
    states = {s.name: s for s in store.feed_states()}
    expected = {name: words for name, (_, _, words) in BAD_FEEDS.items()}
    expected |= {"refused": "refused", "loop": "redirect"}
    for name, words in expected.items():
        assert results[name].status == "error", name
        state = states[name]
        assert state.error_count == 1 and state.last_error, name
        assert words.lower() in state.last_error.lower(), (name, state.last_error)
        assert state.next_poll_at is not None and state.next_poll_at > START

    # The good feed breaks later: what it stored stays, its error is recorded.
    feed_server.route("/good.xml", body=b"oops", status=500)
    pipeline.clock.advance(hours=2)  # type: ignore[attr-defined]
    later = {r.feed: r for r in await pipeline.poll_due(only=["good"])}
    assert later["good"].status == "error"
    assert {s.name: s for s in store.feed_states()}["good"].item_count == 2
    assert len(store.queue("mail-sub")) == 1


async def test_wrong_charset_is_decoded_not_fatal(
    tmp_path: Path,
    feed_server: FeedServer,
    smtp_server: SmtpTestServer,
    store: Store,
    make_pipeline: Callable[..., Any],
) -> None:
    body = rss(
        item(
            "c1",
            "Sanktionen gegen Russland: Nawalny-Fall – Maßnahmen",
            "https://x.example/c1",
            "Sanctions against Russia, Navalny, régime",
        )
    ).replace(b"UTF-8", b"ISO-8859-1")
    feed_server.route(
        "/latin.xml",
        body=body.decode().encode("utf-8"),
        headers={"Content-Type": "application/rss+xml; charset=windows-1252"},
    )
    pipeline = await make_pipeline(
        write_config(tmp_path, {"latin": feed_server.url("/latin.xml")}), smtp_url=smtp_server.url
    )
    [result] = await pipeline.poll_due()
    assert result.status == "fetched" and result.new_items == 1
    assert result.queued == 1  # still matched


async def test_failed_deliveries_stay_pending_and_are_retried_with_the_same_key(
    tmp_path: Path,
    feed_server: FeedServer,
    webhook_receiver: WebhookReceiver,
    store: Store,
    make_pipeline: Callable[..., Any],
) -> None:
    feed_server.route("/wire.xml", body=rss(NAVALNY))
    hook = webhook_receiver.url("/hook")
    webhook_receiver.respond("/hook", [500])
    down = f"smtp://127.0.0.1:{closed_port()}?security=none"
    config = write_config(tmp_path, {"wire": feed_server.url("/wire.xml")}, hook_url=hook)
    pipeline = await make_pipeline(config, smtp_url=down, hook_url=hook)
    await pipeline.poll_due()

    first = {r.channel: r for r in await pipeline.deliver_due()}
    assert first["hook"].status == "retry" and "500" in (first["hook"].error or "")
    assert first["mail"].status == "retry" and first["mail"].error
    records = {d.channel: d for d in store.deliveries()}
    assert all(d.status == DeliveryStatus.PENDING for d in records.values())
    assert all(d.attempts == 1 and d.last_error for d in records.values())
    # Not due again yet: nothing is sent.
    assert await pipeline.send_pending() == []

    pipeline.clock.advance(minutes=5)  # type: ignore[attr-defined]
    second = {r.channel: r for r in await pipeline.send_pending()}
    assert second["hook"].status == "sent"
    assert second["mail"].status == "retry"
    keys = [r.headers["idempotency-key"] for r in webhook_receiver.requests]
    assert len(keys) == 2 and keys[0] == keys[1]
    records = {d.channel: d for d in store.deliveries()}
    assert records["hook"].status == DeliveryStatus.SENT
    assert records["mail"].status == DeliveryStatus.PENDING and records["mail"].attempts == 2

    # The mail server never comes back: after max attempts the delivery is dead, not lost.
    pipeline.clock.advance(hours=3)  # type: ignore[attr-defined]
    third = await pipeline.send_pending()
    assert [r.status for r in third] == ["dead"]
    assert {d.channel: d for d in store.deliveries()}["mail"].status == DeliveryStatus.DEAD


async def test_daily_schedule_waits_for_its_time(
    tmp_path: Path,
    feed_server: FeedServer,
    smtp_server: SmtpTestServer,
    store: Store,
    make_pipeline: Callable[..., Any],
) -> None:
    feed_server.route("/wire.xml", body=rss(NAVALNY))
    config = write_config(tmp_path, {"wire": feed_server.url("/wire.xml")}, schedule="daily 08:00")
    pipeline = await make_pipeline(config, smtp_url=smtp_server.url)
    await pipeline.poll_due()
    assert await pipeline.plan_digests() == []  # starts the clock: next 08:00 London
    assert await pipeline.deliver_due() == []
    dry = await pipeline.plan_digests(force=True, dry_run=True)
    assert len(dry) == 1 and dry[0].delivery_id is None
    assert store.deliveries() == []  # the dry run wrote nothing

    pipeline.clock.now = datetime(2026, 11, 28, 8, 0, 1, tzinfo=UTC)  # type: ignore[attr-defined]
    sent = await pipeline.deliver_due()
    assert [r.status for r in sent] == ["sent"]
    assert len(smtp_server.wait_for(2)) == 2
    state = {s.subscription.name: s for s in store.subscription_states()}["mail-sub"]
    assert state.next_digest_at == datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


async def test_permanent_redirect_moves_the_stored_url_and_retry_after_is_honoured(
    tmp_path: Path,
    feed_server: FeedServer,
    smtp_server: SmtpTestServer,
    store: Store,
    make_pipeline: Callable[..., Any],
) -> None:
    feed_server.route("/new.xml", body=rss(RATES), etag='"n1"')
    feed_server.redirect("/old.xml", "/new.xml", status=301)
    feed_server.redirect("/temp.xml", "/new.xml", status=302)
    feed_server.route("/busy.xml", body=b"slow down", status=429, headers={"Retry-After": "7200"})
    config = write_config(
        tmp_path,
        {
            "moved": feed_server.url("/old.xml"),
            "temp": feed_server.url("/temp.xml"),
            "busy": feed_server.url("/busy.xml"),
        },
    )
    pipeline = await make_pipeline(config, smtp_url=smtp_server.url)
    await pipeline.poll_due()
    states = {s.name: s for s in store.feed_states()}
    assert states["moved"].url == feed_server.url("/new.xml")
    assert states["temp"].url == feed_server.url("/temp.xml")
    busy = states["busy"]
    assert busy.error_count == 1 and "429" in (busy.last_error or "")
    assert busy.next_poll_at is not None and busy.next_poll_at >= START + timedelta(hours=2)

    # The next poll of the moved feed goes straight to the new URL, conditionally.
    pipeline.clock.advance(hours=1)  # type: ignore[attr-defined]
    before = feed_server.hits("/old.xml")
    [result] = await pipeline.poll_due(only=["moved"])
    assert result.status == "not_modified"
    assert feed_server.hits("/old.xml") == before


async def test_smtp_refusal_and_webhook_timeout_leave_deliveries_pending(
    tmp_path: Path,
    feed_server: FeedServer,
    smtp_server: SmtpTestServer,
    webhook_receiver: WebhookReceiver,
    store: Store,
    make_pipeline: Callable[..., Any],
) -> None:
    feed_server.route("/wire.xml", body=rss(NAVALNY))
    smtp_server.data_reply = "451 4.3.0 try again later"
    hook = webhook_receiver.url("/slow")
    webhook_receiver.respond("/slow", [200], delay=5)
    config = write_config(tmp_path, {"wire": feed_server.url("/wire.xml")}, hook_url=hook)
    pipeline = await make_pipeline(config, smtp_url=smtp_server.url, hook_url=hook)
    await pipeline.poll_due()
    results = {r.channel: r for r in await pipeline.deliver_due()}
    assert results["mail"].status == "retry" and "451" in (results["mail"].error or "")
    assert (
        results["hook"].status == "retry" and "timed out" in (results["hook"].error or "").lower()
    )
    assert all(d.status == DeliveryStatus.PENDING and d.sent_at is None for d in store.deliveries())

    # Both come back: the same digests go out, and are marked sent.
    smtp_server.data_reply = None
    webhook_receiver.respond("/slow", [])
    pipeline.clock.advance(minutes=10)  # type: ignore[attr-defined]
    again = {r.channel: r.status for r in await pipeline.send_pending()}
    assert again == {"mail": "sent", "hook": "sent"}
    assert len(smtp_server.wait_for(2)) == 2
