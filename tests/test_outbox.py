"""The outbox on SQLite and PostgreSQL: claims and leases, attempts, dead letters, channel
health, subscriber state kept across config syncs."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from alerts.domain import (
    ChannelConfig,
    ChannelKind,
    DeliveryStatus,
    Feed,
    Importance,
    Subscription,
    Watchlist,
)
from alerts.errors import StoreError
from alerts.store.models import SubscriptionRow
from alerts.store.outbox import Outbox
from alerts.store.repository import Store

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
LEASE = timedelta(seconds=60)
FEEDS = [Feed(name="ofac", url="https://ofac.example/rss", interval=timedelta(minutes=30))]
WATCHLISTS = [Watchlist(name="russia", terms=("Russia",), importance=Importance.HIGH)]
CHANNELS = [
    ChannelConfig(name="hook", kind=ChannelKind.WEBHOOK, url="https://hook.example/x"),
    ChannelConfig(name="mail", kind=ChannelKind.EMAIL, to=("a@example.org", "b@example.org")),
]
SUBSCRIPTIONS = [
    Subscription(name="ops", watchlists=("russia",), channel="hook"),
    Subscription(
        name="ana",
        watchlists=("russia",),
        email="Ana@Example.org",
        schedule="daily 08:00",
        timezone="Europe/Paris",
        quiet_hours="22:00-07:00",
        immediate_importance=Importance.URGENT,
        send_empty=True,
        max_stories=20,
    ),
]


@pytest.fixture
def outbox(store: Store) -> Outbox:
    store.sync_config(FEEDS, WATCHLISTS, CHANNELS, SUBSCRIPTIONS, T0)
    return Outbox(store)


def queue(outbox: Outbox, n: int, channel: str = "hook", now: datetime = T0) -> list[int]:
    return [outbox.enqueue("test", channel, {"n": i}, now=now) for i in range(n)]


def test_subscriptions_round_trip_with_every_setting(store: Store) -> None:
    store.sync_config(FEEDS, WATCHLISTS, CHANNELS, SUBSCRIPTIONS, T0)
    states = {s.subscription.name: s.subscription for s in store.subscription_states()}
    ana = states["ana"]
    assert ana.email == "ana@example.org" and ana.destination == "email:ana@example.org"
    assert (ana.timezone, ana.quiet_hours, ana.max_stories) == ("Europe/Paris", "22:00-07:00", 20)
    assert ana.immediate_importance is Importance.URGENT and ana.send_empty
    assert states["ops"].destination == "hook"
    assert store.load_watchlists()[0].importance is Importance.HIGH


def test_unsubscribed_subscriber_stays_unsubscribed_across_syncs(store: Store) -> None:
    store.sync_config(FEEDS, WATCHLISTS, CHANNELS, SUBSCRIPTIONS, T0)
    with store.transaction("unsubscribe") as session:
        row = session.query(SubscriptionRow).filter_by(name="ana").one()
        row.status = "unsubscribed"
    store.sync_config(FEEDS, WATCHLISTS, CHANNELS, SUBSCRIPTIONS, T0 + timedelta(hours=1))
    assert {s.subscription.name for s in store.subscription_states()} == {"ops"}
    # A new address under the same name is a new person: active again.
    moved = [*SUBSCRIPTIONS[:1], Subscription(name="ana", watchlists=("russia",), email="x@y.z")]
    store.sync_config(FEEDS, WATCHLISTS, CHANNELS, moved, T0 + timedelta(hours=2))
    assert {s.subscription.name for s in store.subscription_states()} == {"ops", "ana"}


def test_claim_takes_due_rows_once_until_the_lease_ends(outbox: Outbox) -> None:
    ids = queue(outbox, 3)
    first = outbox.claim(T0, lease=LEASE)
    assert [d.id for d in first] == ids and all(d.kind == "test" for d in first)
    assert outbox.claim(T0 + timedelta(seconds=59), lease=LEASE) == []
    # The worker died: after the lease the same rows, with the same keys, are taken again.
    again = outbox.claim(T0 + timedelta(seconds=61), lease=LEASE)
    assert [d.idempotency_key for d in again] == [d.idempotency_key for d in first]


def test_sent_rows_are_never_claimed_again(outbox: Outbox) -> None:
    [one] = queue(outbox, 1)
    [claimed] = outbox.claim(T0, lease=LEASE)
    outbox.record(claimed.id, outcome="sent", started_at=T0, latency_ms=12, now=T0, status=200)
    assert outbox.is_sent(one)
    assert outbox.claim(T0 + timedelta(days=1), lease=LEASE) == []


def test_attempts_are_logged_with_the_receivers_answer(outbox: Outbox, store: Store) -> None:
    [one] = queue(outbox, 1)
    outbox.claim(T0, lease=LEASE)
    retry_at = T0 + timedelta(minutes=1)
    outbox.record(
        one,
        outcome="retry",
        started_at=T0,
        latency_ms=250,
        now=T0,
        status=503,
        response="try later",
        error="HTTP 503: try later",
        next_attempt_at=retry_at,
    )
    assert outbox.claim(T0 + timedelta(seconds=30), lease=LEASE) == []  # not due yet
    [again] = outbox.claim(retry_at, lease=LEASE)
    assert again.attempts == 1 and again.last_error == "HTTP 503: try later"
    outbox.record(one, outcome="sent", started_at=retry_at, latency_ms=8, now=retry_at, status=202)
    attempts = outbox.attempts(one)
    assert [(a.attempt, a.outcome, a.status, a.response) for a in attempts] == [
        (1, "retry", 503, "try later"),
        (2, "sent", 202, ""),
    ]
    assert attempts[0].latency_ms == 250
    [record] = [d for d in store.deliveries() if d.id == one]
    assert record.status is DeliveryStatus.SENT and record.last_status == 202


def test_permanent_failure_dead_letters_and_retry_requeues(outbox: Outbox) -> None:
    [one] = queue(outbox, 1)
    outbox.claim(T0, lease=LEASE)
    outbox.record(
        one, outcome="failed", started_at=T0, latency_ms=5, now=T0, status=404, error="gone"
    )
    assert outbox.claim(T0 + timedelta(days=1), lease=LEASE) == []
    [other] = queue(outbox, 1)
    with pytest.raises(StoreError, match="not dead"):
        outbox.retry(other, now=T0)
    again = outbox.retry(one, now=T0 + timedelta(hours=1))
    assert again.attempts == 0
    claimed = outbox.claim(T0 + timedelta(hours=1), lease=LEASE)
    assert {d.id for d in claimed} == {one, other}
    with pytest.raises(StoreError, match="no delivery"):
        outbox.retry(10_000, now=T0)


def test_channel_is_flagged_then_paused_and_resumed(outbox: Outbox) -> None:
    ids = queue(outbox, 5)
    outbox.claim(T0, lease=LEASE)
    results = [
        outbox.record(
            i,
            outcome="retry",
            started_at=T0,
            latency_ms=1,
            now=T0,
            error="HTTP 500",
            next_attempt_at=T0 + timedelta(hours=1),
            pause_after=4,
        )
        for i in ids
    ]
    assert [r.paused_now for r in results] == [False, False, False, True, False]
    assert results[2].health.failing and not results[2].health.paused
    assert outbox.paused_channels() == {"hook"}
    # A paused channel's rows wait (nothing is lost) while other channels go on.
    queue(outbox, 1, channel="mail")
    later = T0 + timedelta(hours=2)
    assert {d.channel for d in outbox.claim(later, lease=LEASE, skip_channels={"hook"})} == {"mail"}
    assert outbox.resume("hook", now=later) and not outbox.resume("hook", now=later)
    assert outbox.paused_channels() == set()
    assert {d.id for d in outbox.claim(later, lease=LEASE)} == set(ids)
    outbox.record(ids[0], outcome="sent", started_at=later, latency_ms=1, now=later)
    [health] = outbox.health(["hook"])
    assert health.consecutive_failures == 0 and health.last_success_at == later


def test_enqueue_for_an_unknown_subscription_is_refused(outbox: Outbox) -> None:
    with pytest.raises(StoreError, match="unknown subscription"):
        outbox.enqueue("confirm", "email:x@y.z", {}, now=T0, subscription="nobody")


def test_concurrent_workers_never_claim_the_same_row(outbox: Outbox) -> None:
    ids = set(queue(outbox, 60))
    taken: list[list[int]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            mine: list[int] = []
            while batch := outbox.claim(T0, lease=LEASE, limit=7):
                mine.extend(d.id for d in batch)
            taken.append(mine)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors
    every = [i for mine in taken for i in mine]
    assert len(every) == len(set(every)) == len(ids) and set(every) == ids


def test_service_key_is_created_once_and_shared(store: Store) -> None:
    first = store.service_key("links", now=T0)
    assert len(first) >= 32 and store.service_key("links", now=T0) == first
    assert store.service_key("other", now=T0) != first


def test_a_worker_whose_lease_ran_out_does_not_send(outbox: Outbox) -> None:
    [one] = queue(outbox, 1)
    [slow] = outbox.claim(T0, lease=LEASE)
    # The slow worker is still busy when its lease ends; another worker takes the row.
    [fast] = outbox.claim(T0 + LEASE + timedelta(seconds=1), lease=LEASE)
    assert fast.id == slow.id == one and fast.claim != slow.claim
    assert not outbox.renew(slow, T0 + LEASE + timedelta(seconds=2), lease=LEASE)
    assert outbox.renew(fast, T0 + LEASE + timedelta(seconds=2), lease=LEASE)
    later = T0 + LEASE + timedelta(seconds=3)
    outbox.record(one, outcome="sent", started_at=later, latency_ms=1, now=later, status=200)
    assert not outbox.renew(fast, later, lease=LEASE)  # sent: nobody sends it again


def test_a_late_failure_never_unsends_a_sent_message(outbox: Outbox, store: Store) -> None:
    [one] = queue(outbox, 1)
    outbox.claim(T0, lease=LEASE)
    outbox.record(one, outcome="sent", started_at=T0, latency_ms=1, now=T0, status=200)
    outbox.record(one, outcome="dead", started_at=T0, latency_ms=1, now=T0, error="late")
    [record] = [d for d in store.deliveries() if d.id == one]
    assert record.status is DeliveryStatus.SENT
    assert [a.outcome for a in outbox.attempts(one)] == ["sent", "dead"]  # both logged
    with pytest.raises(StoreError, match="not dead"):
        outbox.retry(one, now=T0)


def test_claim_one_takes_only_that_row(outbox: Outbox) -> None:
    old = queue(outbox, 3)
    [test] = queue(outbox, 1)
    mine = outbox.claim_one(test, T0, lease=LEASE)
    assert mine is not None and mine.id == test
    assert outbox.claim_one(test, T0, lease=LEASE) is None  # held
    assert {d.id for d in outbox.claim(T0, lease=LEASE)} == set(old)


def test_a_digest_planned_twice_for_one_slot_is_written_once(store: Store) -> None:
    store.sync_config(FEEDS, WATCHLISTS, CHANNELS, SUBSCRIPTIONS, T0)
    slot = T0 + timedelta(hours=1)
    store.set_next_digest("ana", slot)

    def plan(key: str) -> int:
        return store.create_delivery(
            "ana",
            channel="email:ana@example.org",
            idempotency_key=key,
            queue_ids=[],
            payload={},
            now=slot,
            next_digest_at=slot + timedelta(days=1),
            expected_next_digest_at=slot,
        )

    plan("first")
    with pytest.raises(StoreError, match="schedule moved"):
        plan("second")  # a second planner read the same slot: a heartbeat is not doubled
    assert [d.idempotency_key for d in store.deliveries("ana")] == ["first"]
