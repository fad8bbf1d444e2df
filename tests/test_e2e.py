"""End to end: the real `alerts run` process, real servers, a real database, and SIGKILL.

The service polls two feeds that syndicate one story, emails two recipients and posts a
webhook. Then a new story appears while the webhook receiver hangs; the process is killed
with SIGKILL mid-delivery and started again. Every story must reach every destination, no
story may arrive in two different digests, and the only repeat allowed is the same digest
re-sent with the same idempotency key (at-least-once).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alerts.domain import DeliveryStatus
from alerts.errors import StoreError
from alerts.store import Store, make_engine
from tests.support.database import DATABASE_KINDS, fresh_database_url
from tests.support.feed_server import FeedServer
from tests.support.smtp_server import SmtpTestServer
from tests.support.webhook_receiver import WebhookReceiver
from tests.test_pipeline import NAVALNY, NAVALNY_SYNDICATED, RATES, item, rss

pytestmark = pytest.mark.slow

NEW_STORY = item(
    "wire-3",
    "EU adds Navalny prison officials to its sanctions list",
    "https://wire.example/world/eu-navalny-prison-officials",
    "The Council adopted sanctions against Russia targeting officials responsible for the "
    "detention of Alexei Navalny.",
    date="Sat, 28 Nov 2026 09:00:00 +0000",
)
FIRST = "wire.example/world/us-sanctions-russia-navalny"
SECOND = "wire.example/world/eu-navalny-prison-officials"

CONFIG = """
[[feeds]]
name = "wire"
title = "Test Wire"
url = "{wire}"
interval = "10s"

[[feeds]]
name = "courier"
title = "The Courier"
url = "{courier}"
interval = "10s"

[[watchlists]]
name = "russia"
terms = ["Navalny", "sanctions against Russia"]

[[channels]]
name = "mail"
type = "email"
to = ["a@example.org", "b@example.org"]

[[channels]]
name = "hook"
type = "webhook"
url_env = "E2E_WEBHOOK_URL"

[[subscriptions]]
name = "mail-sub"
watchlists = ["russia"]
channel = "mail"
schedule = "immediate"

[[subscriptions]]
name = "hook-sub"
watchlists = ["russia"]
channel = "hook"
schedule = "immediate"
"""


@pytest.fixture(params=DATABASE_KINDS)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database_url(request.param, tmp_path) as url:
        yield url


class Service:
    """`alerts run` as a child process, with its log kept for failure messages."""

    def __init__(self, env: dict[str, str], cwd: Path, log: Path) -> None:
        self.log = log
        self._out = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "alerts.cli", "run"],
            env=env,
            cwd=cwd,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def stop(self, sig: signal.Signals, timeout: float = 20) -> int:
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        finally:
            self._out.close()

    def kill_if_running(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self._out.close()


def service_env(
    tmp_path: Path,
    database: str,
    feed_server: FeedServer,
    smtp_server: SmtpTestServer,
    webhook_receiver: WebhookReceiver,
) -> dict[str, str]:
    """Write the config for the two test feeds; the environment `alerts run` gets."""
    config = tmp_path / "feeds.toml"
    config.write_text(
        CONFIG.format(wire=feed_server.url("/wire.xml"), courier=feed_server.url("/courier.xml")),
        encoding="utf-8",
    )
    return {
        **os.environ,
        "ALERTS_CONFIG": str(config),
        "ALERTS_DATABASE_URL": database,
        "ALERTS_SMTP_URL": smtp_server.url,
        "ALERTS_TICK_SECONDS": "0.5",
        "ALERTS_SHUTDOWN_GRACE": "3",
        # A killed process's claim on a delivery runs out after this (then it is re-sent).
        "ALERTS_DELIVERY_LEASE": "3",
        "ALERTS_LOG_FORMAT": "json",
        "E2E_WEBHOOK_URL": webhook_receiver.url("/hook"),
    }


def stories_of(links: list[str]) -> set[str]:
    return {key for key in (FIRST, SECOND) if any(key in link for link in links)}


def wait_until(predicate: object, timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}; service log:\n{log.read_text()[-4000:]}")


def test_run_survives_sigkill_without_losing_or_repeating(
    tmp_path: Path,
    database: str,
    feed_server: FeedServer,
    smtp_server: SmtpTestServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    feed_server.route("/wire.xml", body=rss(NAVALNY, RATES))
    feed_server.route("/courier.xml", body=rss(NAVALNY_SYNDICATED, title="Courier"))
    env = service_env(tmp_path, database, feed_server, smtp_server, webhook_receiver)
    log = tmp_path / "service.log"

    # 1. First run: the syndicated story arrives once per recipient and once on the webhook.
    first = Service(env, tmp_path, log)
    try:
        smtp_server.wait_for(2, timeout=30)
        webhook_receiver.wait_for(1, timeout=30)
        # 2. A new story appears; the webhook hangs on it; kill the process mid-delivery.
        webhook_receiver.respond("/hook", [200], delay=60)
        feed_server.route("/wire.xml", body=rss(NEW_STORY, NAVALNY, RATES))
        webhook_receiver.wait_for(2, timeout=40)
        time.sleep(0.3)
        assert first.stop(signal.SIGKILL) == -signal.SIGKILL
    finally:
        first.kill_if_running()
    webhook_receiver.respond("/hook", [])  # answers at once from now on

    engine = make_engine(database)
    try:
        store = Store(engine)
        hook_pending = [d for d in store.deliveries("hook-sub") if d.status != DeliveryStatus.SENT]
        assert len(hook_pending) == 1, "the killed delivery must still be pending"

        # 3. Restart: the pending delivery is re-sent with the same key, nothing else repeats.
        second = Service(env, tmp_path, log)
        try:
            webhook_receiver.wait_for(3, timeout=40)
            wait_until(lambda: len(smtp_server.messages) >= 4, 40, "the second digest email", log)
            wait_until(
                lambda: all(d.status == DeliveryStatus.SENT for d in store.deliveries()),
                20,
                "every delivery marked sent",
                log,
            )
            # 4. SIGTERM stops it cleanly.
            assert second.stop(signal.SIGTERM) == 0, log.read_text()[-4000:]
        finally:
            second.kill_if_running()

        deliveries = store.deliveries()
    finally:
        engine.dispose()

    # Webhook: each idempotency key is one digest; digests never share a story.
    by_key: dict[str, set[str]] = defaultdict(set)
    for request in webhook_receiver.requests:
        links = [s["link"] for s in request.json["stories"]]
        key = request.headers["idempotency-key"]
        assert not by_key[key] or by_key[key] == stories_of(links), "a key's content changed"
        by_key[key] = stories_of(links)
    assert len(webhook_receiver.requests) == 3 and len(by_key) == 2
    assert by_key_disjoint(by_key) == {FIRST, SECOND}

    # Email: per recipient, each Message-ID is one digest; together they hold each story once.
    for recipient in ("a@example.org", "b@example.org"):
        by_id: dict[str, set[str]] = defaultdict(set)
        for m in smtp_server.messages:
            if m.message["To"] != recipient:
                continue
            text = m.message.get_body(preferencelist=("plain",)).get_content()
            by_id[m.message["Message-ID"]] = stories_of([text])
        assert by_key_disjoint(by_id) == {FIRST, SECOND}, recipient
    assert all(d.status == DeliveryStatus.SENT for d in deliveries)
    assert json.loads(log.read_text().splitlines()[-1])["event"] == "stopped"


def by_key_disjoint(groups: dict[str, set[str]]) -> set[str]:
    """Union of the groups' stories, asserting no story is in two groups."""
    seen: set[str] = set()
    for stories in groups.values():
        assert not (seen & stories), f"story sent in two digests: {seen & stories}"
        seen |= stories
    return seen


ROSNEFT_STORY = item(
    "wire-9",
    "ПАО «Роснефть» попала под новые санкции",
    "https://wire.example/world/rosneft-sanctions",
    "Минфин США внёс Роснефть в список.",
    date="Sat, 28 Nov 2026 10:00:00 +0000",
)


def test_entities_imported_into_a_running_service_match_the_next_poll(
    tmp_path: Path,
    database: str,
    feed_server: FeedServer,
    smtp_server: SmtpTestServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    feed_server.route("/wire.xml", body=rss(RATES))
    feed_server.route("/courier.xml", body=rss(title="Courier"))
    env = service_env(tmp_path, database, feed_server, smtp_server, webhook_receiver)
    log = tmp_path / "service.log"
    service = Service(env, tmp_path, log)
    engine = make_engine(database)
    try:
        store = Store(engine)

        def stored() -> list[Any]:
            try:
                return list(store.items())
            except StoreError:  # the service has not created the tables yet
                return []

        wait_until(lambda: len(stored()) >= 1, 30, "the first poll", log)
        entities = tmp_path / "entities.csv"
        entities.write_text("name,kind\nPJSC Rosneft,organization\n", encoding="utf-8")
        imported = subprocess.run(
            [sys.executable, "-m", "alerts.cli", "watchlists", "import", "russia", str(entities)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert imported.returncode == 0, imported.stderr
        # The watchlist job notices the import and compiles a new matcher (its second).
        wait_until(lambda: log.read_text().count("matcher_compiled") >= 2, 30, "the rebuild", log)
        feed_server.route("/wire.xml", body=rss(RATES, ROSNEFT_STORY))

        def rosneft_matched() -> bool:
            return any(m.term == "PJSC Rosneft" for i in store.items() for m in i.matches)

        wait_until(rosneft_matched, 30, "the Rosneft story to match the imported entity", log)
        wait_until(
            lambda: any(b"rosneft-sanctions" in r.body for r in webhook_receiver.requests),
            30,
            "the webhook alert",
            log,
        )
    finally:
        service.kill_if_running()
        engine.dispose()


PAGES = Path(__file__).parent / "data" / "pages"
STORY_CONFIG = """
[[feeds]]
name = "{name}"
title = "{title}"
url = "{url}"
interval = "10s"
fetch_article = true
official = {official}
"""
STORY_SUBSCRIPTION = """
[[watchlists]]
name = "russia"
terms = ["Navalny", "sanctions against Russia", "Навальный", "Sovcomflot"]

[[channels]]
name = "mail"
type = "email"
to = ["a@example.org"]

[[subscriptions]]
name = "mail-sub"
watchlists = ["russia"]
channel = "mail"
schedule = "immediate"
"""
# feed: (title, page fixture, headline, official)
STORY_FEEDS = {
    "courier": (
        "The Daily Courier",
        "courier-navalny.html",
        "U.S. hits Russia over Navalny",
        False,
    ),
    "ledger": ("Daily Ledger", "ledger-navalny.html", "Biden sanctions Russia officials", False),
    "meridian": ("Meridian Review", "meridian-navalny.html", "Sanctions over Navalny", False),
    "ofac": ("OFAC Recent Actions", "ofac-recent-action.html", "Russia-related Designations", True),
}
PROMO = (
    "<![CDATA[<p>{teaser}</p><p>Support independent free thinkers: sanctions against Russia "
    "and Navalny coverage needs you. Remind me next month. Privacy Policy</p>]]>"
)


def serve_story(feed_server: FeedServer, name: str, headline: str) -> None:
    _, page, _, _ = STORY_FEEDS[name]
    feed_server.route(
        f"/{name}/story.html",
        body=(PAGES / page).read_bytes(),
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    teaser = PROMO.format(teaser=f"{headline}: the full story on our site.")
    entry = item(f"{name}-1", headline, feed_server.url(f"/{name}/story.html"), teaser)
    feed_server.route(f"/{name}.xml", body=rss(entry, title=name))


def test_one_story_through_several_feeds_and_pages_is_one_alert(
    tmp_path: Path,
    database: str,
    feed_server: FeedServer,
    smtp_server: SmtpTestServer,
) -> None:
    """The CLI processes against real servers: poll, send, edit, poll, send."""
    parts = [
        STORY_CONFIG.format(
            name=name,
            title=title,
            url=feed_server.url(f"/{name}.xml"),
            official="true" if official else "false",
        )
        for name, (title, _, _, official) in STORY_FEEDS.items()
    ]
    config = tmp_path / "feeds.toml"
    config.write_text("".join(parts) + STORY_SUBSCRIPTION, encoding="utf-8")
    env = {
        **os.environ,
        "ALERTS_CONFIG": str(config),
        "ALERTS_DATABASE_URL": database,
        "ALERTS_SMTP_URL": smtp_server.url,
    }

    def cli(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "alerts.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    for name, (_, _, headline, _) in STORY_FEEDS.items():
        serve_story(feed_server, name, headline)
    cli("db", "upgrade")
    polled = cli("poll", "--once")
    assert "4 new items, 1 alerts queued" in polled, polled + cli("items", "list")
    cli("digest", "--once")
    [first] = smtp_server.wait_for(1)
    text = first.message.get_body(preferencelist=("plain",)).get_content()
    assert "1 new story" in first.message["Subject"]
    sources = text.split("Sources (4)", 1)[1]
    positions = [sources.index(title) for title, *_ in STORY_FEEDS.values()]
    assert positions[-1] == min(positions)  # the official notice first
    assert "Privacy Policy" not in text and "independent free thinkers" not in text

    # The courier edits its headline (same matches): a revision, not an alert.
    serve_story(feed_server, "courier", "U.S. hits Russia over Navalny poisoning")
    assert "0 alerts queued" in cli("poll", "--once")
    cli("digest", "--once")
    time.sleep(0.5)
    assert len(smtp_server.messages) == 1
    # An edit naming a watched company: an update line flagged with it.
    serve_story(feed_server, "courier", "U.S. hits Russia over Navalny; Sovcomflot named")
    assert "1 alerts queued" in cli("poll", "--once")
    cli("digest", "--once")
    update = smtp_server.wait_for(2)[1].message
    body = update.get_body(preferencelist=("plain",)).get_content()
    assert "1 update" in update["Subject"] and "Sovcomflot" in body and "Update:" in body
    items = cli("items", "list")
    assert "extracted" in items and "error" not in items
