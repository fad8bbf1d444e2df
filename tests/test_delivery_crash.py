"""The delivery worker killed with SIGKILL at random points, over many runs.

The real `alerts run` process polls a feed that keeps gaining stories, and delivers every
story to eight immediate webhook subscriptions and two email subscribers through a slow
receiver, so kills land before, during and after sends, in planning, and at startup. After
the last kill a clean run drains the outbox. Then, from what the receivers got:
- nothing is lost: every (subscription, story) arrived;
- nothing is repeated under a new id: a (subscription, story) pair is in exactly one
  message id, and a repeated id always carries the same content (at-least-once with the
  same idempotency id is the only repeat allowed);
- the database agrees: every delivery is sent, none is pending or dead.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

from alerts.domain import DeliveryStatus
from alerts.store import Store, make_engine
from tests.support.database import DATABASE_KINDS, fresh_database_url
from tests.support.feed_server import FeedServer
from tests.support.smtp_server import SmtpTestServer
from tests.support.webhook_receiver import WebhookReceiver
from tests.test_pipeline import item, rss

pytestmark = pytest.mark.slow

HOOK_SUBSCRIPTIONS = 8
RUNS = 15
TOPICS = [
    ("Rosneft", "oil exports and the price cap"),
    ("Sovcomflot", "tankers of the shadow fleet"),
    ("Gazprombank", "payments for gas deliveries"),
    ("Alrosa", "rough diamond sales"),
    ("Rusal", "aluminium smelters and their owners"),
    ("Aeroflot", "aircraft parts and leasing"),
    ("Sberbank", "correspondent accounts abroad"),
    ("Norilsk", "nickel and palladium trading"),
    ("Rostec", "drone components and machine tools"),
    ("Lukoil", "refineries in third countries"),
    ("Transneft", "pipeline tariffs and ports"),
    ("Severstal", "steel exports through intermediaries"),
]


def story(n: int) -> str:
    name, subject = TOPICS[n % len(TOPICS)]
    words = " ".join(f"w{n}x{k}" for k in range(30))  # distinct text: one story each
    return item(
        f"wire-{n}",
        f"Story {n}: sanctions against Russia hit {name} over {subject}",
        f"https://wire.example/story-{n}",
        f"Officials described sanctions against Russia affecting {name}. {words}",
        date=f"Sun, 29 Nov 2026 {n % 24:02d}:00:00 +0000",
    )


def config(feed_url: str) -> str:
    parts = [
        f'[[feeds]]\nname = "wire"\ntitle = "Wire"\nurl = "{feed_url}"\ninterval = "10s"\n',
        '[[watchlists]]\nname = "russia"\nterms = ["sanctions against Russia"]\n',
        '[[channels]]\nname = "hook"\ntype = "webhook"\nurl_env = "CRASH_HOOK_URL"\n'
        'secret_env = "CRASH_HOOK_SECRET"\n',
    ]
    for i in range(HOOK_SUBSCRIPTIONS):
        parts.append(
            f'[[subscriptions]]\nname = "hook-{i}"\nwatchlists = ["russia"]\nchannel = "hook"\n'
        )
    for who in ("ana", "bo"):
        parts.append(
            f'[[subscriptions]]\nname = "{who}"\nwatchlists = ["russia"]\n'
            f'email = "{who}@example.org"\n'
        )
    return "\n".join(parts)


@pytest.mark.parametrize("kind", DATABASE_KINDS)
def test_sigkill_at_random_points_loses_and_repeats_nothing(
    kind: str,
    tmp_path: Path,
    feed_server: FeedServer,
    smtp_server: SmtpTestServer,
    webhook_receiver: WebhookReceiver,
) -> None:
    rng = random.Random(20261129)
    stories: list[str] = []
    feed_server.route("/wire.xml", body=rss())
    webhook_receiver.respond("/hook", [], delay=0.05)  # slow enough to be killed mid-send
    path = tmp_path / "feeds.toml"
    path.write_text(config(feed_server.url("/wire.xml")), encoding="utf-8")
    log = tmp_path / "service.log"
    with fresh_database_url(kind, tmp_path) as database:
        env = {
            **os.environ,
            "ALERTS_CONFIG": str(path),
            "ALERTS_DATABASE_URL": database,
            "ALERTS_SMTP_URL": smtp_server.url,
            "ALERTS_TICK_SECONDS": "0.2",
            "ALERTS_DELIVERY_LEASE": "1",
            "ALERTS_WEB_BIND": "off",
            "ALERTS_LOG_FORMAT": "json",
            "CRASH_HOOK_URL": webhook_receiver.url("/hook"),
            "CRASH_HOOK_SECRET": "whsec_" + "c2VjcmV0LWZvci10aGUtY3Jhc2gtdGVzdA==",
        }

        def start() -> subprocess.Popen[bytes]:
            with log.open("ab") as out:
                return subprocess.Popen(
                    [sys.executable, "-m", "alerts.cli", "run"],
                    env=env,
                    cwd=tmp_path,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )

        kills = 0
        for run in range(RUNS):
            # Two new stories per run. The feed keeps them all: a run killed before its
            # first poll must not make a story scroll off unseen (that is not delivery's loss).
            first = len(stories)
            stories.extend([story(first), story(first + 1)])
            feed_server.route("/wire.xml", body=rss(*stories))
            proc = start()
            try:
                time.sleep(rng.uniform(0.3, 3.5) if run else 3.0)
            finally:
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
                kills += 1

        # A clean run drains everything the killed ones left.
        proc = start()
        engine = make_engine(database)
        store = Store(engine)
        try:
            expected_hook = {
                (f"hook-{i}", n) for i in range(HOOK_SUBSCRIPTIONS) for n in range(len(stories))
            }
            expected_mail = {(who, n) for who in ("ana", "bo") for n in range(len(stories))}
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                hook, _ = hook_pairs(webhook_receiver)
                mail, _ = mail_pairs(smtp_server)
                settled = all(d.status is DeliveryStatus.SENT for d in store.deliveries())
                if hook >= expected_hook and mail >= expected_mail and settled:
                    break
                time.sleep(0.3)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(30) == 0, log.read_text()[-4000:]
            records = store.deliveries()
        finally:
            if proc.poll() is None:
                proc.kill()
            engine.dispose()

    hook, hook_repeats = hook_pairs(webhook_receiver)
    mail, mail_repeats = mail_pairs(smtp_server)
    assert kills == RUNS
    assert hook == expected_hook, f"lost on the webhook: {sorted(expected_hook - hook)[:10]}"
    assert mail == expected_mail, f"lost by email: {sorted(expected_mail - mail)[:10]}"
    assert all(r.status is DeliveryStatus.SENT for r in records), [
        (r.id, r.status, r.last_error) for r in records if r.status is not DeliveryStatus.SENT
    ]
    # Repeats happen only when a kill hit between the send and its record, with the same id.
    print(f"{kills} kills; repeats with the same id: webhook {hook_repeats}, email {mail_repeats}")


def hook_pairs(rx: WebhookReceiver) -> tuple[set[tuple[str, int]], int]:
    """(subscription, story) pairs received, asserting one message id per pair."""
    by_id: dict[str, frozenset[tuple[str, int]]] = {}
    owner: dict[tuple[str, int], str] = {}
    repeats = 0
    for request in list(rx.requests):
        body = request.json
        msg_id = request.headers["webhook-id"]
        pairs = frozenset(
            (body["subscription"], int(s["link"].rsplit("-", 1)[1])) for s in body["stories"]
        )
        if msg_id in by_id:
            assert by_id[msg_id] == pairs, f"message {msg_id} came back with other content"
            repeats += 1
            continue
        by_id[msg_id] = pairs
        for pair in pairs:
            assert pair not in owner, f"{pair} sent in two messages: {owner[pair]}, {msg_id}"
            owner[pair] = msg_id
    return set(owner), repeats


def mail_pairs(smtp: SmtpTestServer) -> tuple[set[tuple[str, int]], int]:
    """(subscriber, story) pairs received by email, asserting one Message-ID per pair."""
    by_id: dict[str, frozenset[tuple[str, int]]] = {}
    owner: dict[tuple[str, int], str] = {}
    repeats = 0
    for m in list(smtp.messages):
        who = str(m.message["To"]).split("@", 1)[0]
        text = m.message.get_body(preferencelist=("plain",)).get_content()
        found = defaultdict(set)
        for line in text.splitlines():
            if "https://wire.example/story-" in line:
                number = line.split("https://wire.example/story-", 1)[1].split()[0]
                found[who].add(int("".join(c for c in number if c.isdigit())))
        pairs = frozenset((who, n) for n in found[who])
        msg_id = str(m.message["Message-ID"])
        if msg_id in by_id:
            assert by_id[msg_id] == pairs, f"message {msg_id} came back with other content"
            repeats += 1
            continue
        by_id[msg_id] = pairs
        for pair in pairs:
            assert pair not in owner, f"{pair} emailed in two messages"
            owner[pair] = msg_id
    return set(owner), repeats
