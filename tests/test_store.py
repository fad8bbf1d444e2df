"""The store on real databases: SQLite files and (with ALERTS_TEST_DATABASE_URL) PostgreSQL."""

from __future__ import annotations

import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from alerts.domain import (
    AlertKind,
    ChannelConfig,
    ChannelKind,
    DeliveryStatus,
    Feed,
    FeedState,
    Identity,
    Item,
    Match,
    NewItem,
    Subscription,
    Watchlist,
)
from alerts.errors import StoreError
from alerts.store import StaleQueueError, Store, make_engine, normalise_url

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)

FEEDS = [
    Feed(name="ofac", url="https://ofac.example/rss", interval=timedelta(minutes=30), title="OFAC"),
    Feed(name="eu", url="https://eu.example/rss", interval=timedelta(minutes=60), title="EU"),
]
WATCHLISTS = [
    Watchlist(name="russia", terms=("Russia", "Rosneft")),
    Watchlist(name="iran", terms=("Iran",)),
]
CHANNELS = [
    ChannelConfig(name="ops-mail", kind=ChannelKind.EMAIL, to=("ops@example.org",)),
    ChannelConfig(name="hook", kind=ChannelKind.WEBHOOK, url="https://hook.example/x"),
]
SUBSCRIPTIONS = [
    Subscription(name="ops", watchlists=("russia",), channel="ops-mail", schedule="immediate"),
    Subscription(name="iran-desk", watchlists=("iran",), channel="hook", schedule="daily 08:00"),
]


def new_item(
    feed: str,
    key: str,
    *,
    story: str | None = None,
    title: str = "Sanctions on Rosneft",
    watchlists: tuple[str, ...] = ("russia",),
    published: datetime | None = None,
) -> NewItem:
    item = Item(
        feed=feed,
        guid=key,
        link=f"https://news.example/{story or key}",
        title=title,
        summary=f"{title} announced today.",
        summary_html=f"<p>{title}</p>",
        published=published,
        authors=("Treasury",),
        tags=("sanctions",),
    )
    matches = tuple(
        Match(watchlist=w, term=w.title(), field="title", start=0, end=5, snippet=title)
        for w in watchlists
    )
    return NewItem(item=item, identity=Identity(key=key, story_key=story or key), matches=matches)


def synced(store: Store, now: datetime = T0) -> Store:
    store.sync_config(FEEDS, WATCHLISTS, CHANNELS, SUBSCRIPTIONS, now)
    return store


def poll(store: Store, feed: str, items: list[NewItem], now: datetime = T0) -> tuple[int, int]:
    outcome = store.record_poll(
        feed,
        now=now,
        next_poll_at=now + HOUR,
        url=f"https://{feed}.example/rss",
        etag='"v1"',
        last_modified="Sun, 01 Mar 2026 12:00:00 GMT",
        items=items,
    )
    return outcome.new_items, outcome.queued


def feed_state(store: Store, name: str) -> FeedState:
    return next(f for f in store.feed_states() if f.name == name)


# -- configuration -----------------------------------------------------------------------


def test_sync_config_inserts_with_defaults(store: Store) -> None:
    synced(store)
    states = {f.name: f for f in store.feed_states()}
    assert set(states) == {"ofac", "eu"}
    assert states["ofac"].next_poll_at == T0
    assert states["ofac"].interval == timedelta(minutes=30)
    assert states["ofac"].title == "OFAC" and states["ofac"].enabled
    subs = {s.subscription.name: s for s in store.subscription_states()}
    assert subs["ops"].subscription == SUBSCRIPTIONS[0]
    assert subs["ops"].next_digest_at is None and subs["ops"].pending == 0
    assert store.counts()["channels"] == 2


def test_sync_config_upserts_and_disables(store: Store) -> None:
    synced(store)
    poll(store, "ofac", [])  # etag/last_modified and next_poll_at = T0 + 1h
    poll(store, "eu", [])
    store.set_next_digest("ops", T0 + HOUR)
    store.set_next_digest("iran-desk", T0 + HOUR)

    later = T0 + timedelta(minutes=5)
    feeds = [
        Feed(name="ofac", url="https://ofac.example/new-rss", interval=timedelta(minutes=30)),
        # Interval cut to 10 minutes: the next poll moves up to now + 10 min at the latest.
        Feed(name="eu", url="https://eu.example/rss", interval=timedelta(minutes=10), title="EU"),
    ]
    subs = [
        Subscription(name="ops", watchlists=("russia", "iran"), channel="hook", schedule="hourly"),
        # iran-desk left the configuration.
    ]
    store.sync_config(feeds, WATCHLISTS[:1], CHANNELS, subs, later)

    ofac, eu = feed_state(store, "ofac"), feed_state(store, "eu")
    assert ofac.url == "https://ofac.example/new-rss"
    assert ofac.etag is None and ofac.last_modified is None
    assert ofac.next_poll_at == T0 + HOUR  # interval unchanged: schedule kept
    assert eu.etag == '"v1"'  # same URL: validators kept
    assert eu.interval == timedelta(minutes=10)
    assert eu.next_poll_at == later + timedelta(minutes=10)

    states = {s.subscription.name: s for s in store.subscription_states()}
    assert set(states) == {"ops"}  # disabled subscriptions are not listed
    assert states["ops"].subscription.channel == "hook"
    assert states["ops"].subscription.watchlists == ("russia", "iran")
    assert states["ops"].next_digest_at is None  # schedule changed

    # Dropping a feed from the config disables it but keeps its history.
    store.sync_config(feeds[:1], WATCHLISTS, CHANNELS, subs, later)
    assert not feed_state(store, "eu").enabled
    assert [f.name for f in store.due_feeds(later + 2 * HOUR)] == ["ofac"]
    # ...and putting it back enables it again.
    store.sync_config(feeds, WATCHLISTS, CHANNELS, subs, later)
    assert feed_state(store, "eu").enabled


def test_sync_config_redirected_url_survives_unchanged_config(store: Store) -> None:
    synced(store)
    store.record_poll(
        "ofac",
        now=T0,
        next_poll_at=T0 + HOUR,
        url="https://ofac.example/moved",
        etag=None,
        last_modified=None,
        items=[],
    )
    synced(store, T0 + HOUR)
    assert feed_state(store, "ofac").url == "https://ofac.example/moved"


def test_due_feeds(store: Store) -> None:
    synced(store)
    assert {f.name for f in store.due_feeds(T0)} == {"ofac", "eu"}
    assert store.due_feeds(T0 - timedelta(seconds=1)) == []
    store.record_not_modified("ofac", now=T0, next_poll_at=T0 + 2 * HOUR)
    store.record_not_modified("eu", now=T0, next_poll_at=T0 + HOUR)
    assert store.due_feeds(T0 + timedelta(minutes=59)) == []
    assert [f.name for f in store.due_feeds(T0 + 3 * HOUR)] == ["eu", "ofac"]  # oldest first


# -- polling ---------------------------------------------------------------------------


def test_record_poll_inserts_once(store: Store) -> None:
    synced(store)
    items = [new_item("ofac", "a"), new_item("ofac", "b", watchlists=())]
    assert poll(store, "ofac", items) == (2, 1)
    assert poll(store, "ofac", items, T0 + HOUR) == (0, 0)
    assert store.known_keys("ofac", ["a", "b", "c"]) == {"a", "b"}
    assert store.known_keys("eu", ["a"]) == set()

    state = feed_state(store, "ofac")
    assert state.item_count == 2
    assert state.etag == '"v1"' and state.last_success_at == T0 + HOUR
    assert state.next_poll_at == T0 + 2 * HOUR

    stored = {i.key: i for i in store.items("ofac")}
    assert stored["a"].authors == ("Treasury",) and stored["a"].tags == ("sanctions",)
    assert stored["a"].fetched_at == T0
    assert [m.watchlist for m in stored["a"].matches] == ["russia"]
    assert stored["b"].matches == ()


def test_record_poll_duplicate_guid_in_batch(store: Store) -> None:
    synced(store)
    first = new_item("ofac", "same", title="Russia first")
    repeat = new_item("ofac", "same", title="Russia repeated")
    assert poll(store, "ofac", [first, repeat]) == (1, 1)
    assert [i.title for i in store.items("ofac")] == ["Russia first"]


def test_known_keys_many(store: Store) -> None:
    synced(store)
    items = [new_item("ofac", f"k{n}", watchlists=()) for n in range(1200)]
    assert poll(store, "ofac", items) == (1200, 0)
    asked = [f"k{n}" for n in range(0, 2400, 2)]
    assert store.known_keys("ofac", asked) == {f"k{n}" for n in range(0, 1200, 2)}


def test_cross_feed_story_is_new_once_per_subscription(store: Store) -> None:
    synced(store)
    assert poll(store, "ofac", [new_item("ofac", "o-1", story="story-1")]) == (1, 1)
    # Same story from another feed, later: stored and queued as a member, never as new.
    assert poll(store, "eu", [new_item("eu", "e-1", story="story-1")], T0 + HOUR) == (1, 0)
    queued = store.queue("ops")
    assert [(q.story_key, q.kind) for q in queued] == [
        ("story-1", AlertKind.NEW),
        ("story-1", AlertKind.MEMBER),
    ]
    # Even after the first alert went out in a digest (i.e. across restarts and digests).
    store.create_delivery(
        "ops",
        channel="ops-mail",
        idempotency_key="k1",
        queue_ids=[q.id for q in queued],
        payload={},
        now=T0 + HOUR,
        next_digest_at=None,
    )
    assert poll(store, "eu", [new_item("eu", "e-2", story="story-1")], T0 + 2 * HOUR) == (1, 0)
    kinds = [q.kind for q in store.queue("ops")]
    assert kinds.count(AlertKind.NEW) == 1 and len(kinds) == 3
    entries = store.pending_entries("ops")
    assert len(entries) == 1 and entries[0].story_sent and entries[0].kind is AlertKind.MEMBER
    assert [s.feed for s in entries[0].sources] == ["ofac", "eu", "eu"]
    assert entries[0].sent_terms == frozenset({"russia\x1fRussia"})


def test_unmatched_item_of_a_followed_story_is_queued_as_member(store: Store) -> None:
    """The official notice of a story found in the press reaches its subscribers."""
    synced(store)
    assert poll(store, "eu", [new_item("eu", "press", story="s")]) == (1, 1)
    notice = new_item("ofac", "notice", story="s", watchlists=())
    assert poll(store, "ofac", [notice], T0 + HOUR) == (1, 0)
    assert [q.kind for q in store.queue("ops")] == [AlertKind.NEW, AlertKind.MEMBER]
    # A story nobody follows is not queued for an unmatched item.
    assert poll(store, "ofac", [new_item("ofac", "x", story="t", watchlists=())]) == (1, 0)


def test_subscription_following_other_watchlist_not_queued(store: Store) -> None:
    synced(store)
    assert poll(store, "ofac", [new_item("ofac", "r", watchlists=("russia",))]) == (1, 1)
    assert [q.subscription for q in store.queue()] == ["ops"]
    assert poll(store, "ofac", [new_item("ofac", "i", watchlists=("iran",))]) == (1, 1)
    assert [q.subscription for q in store.queue()] == ["ops", "iran-desk"]
    # An item matching both watchlists reaches both subscriptions, once each.
    both = new_item("ofac", "b", watchlists=("russia", "iran"))
    assert poll(store, "ofac", [both]) == (1, 2)


def test_disabled_subscription_not_queued(store: Store) -> None:
    synced(store)
    store.sync_config(FEEDS, WATCHLISTS, CHANNELS, SUBSCRIPTIONS[1:], T0)
    assert poll(store, "ofac", [new_item("ofac", "r")]) == (1, 0)


def test_pending_entries(store: Store) -> None:
    synced(store)
    older = new_item("ofac", "old", story="s-old", published=T0 - 2 * HOUR)
    newer = new_item("ofac", "new", story="s-new", published=T0 - HOUR)
    unpublished = new_item("ofac", "nodate", story="s-nodate", watchlists=("russia", "iran"))
    poll(store, "ofac", [older, newer, unpublished])
    poll(store, "eu", [new_item("eu", "eu-copy", story="s-new")])

    entries = store.pending_entries("ops")
    # Newest first: the undated item falls back to fetched_at (T0).
    entries = [e for e in entries if e.feed == "ofac"]
    assert [e.title for e in entries] == [unpublished.item.title] * 3
    assert [e.published for e in entries] == [None, T0 - HOUR, T0 - 2 * HOUR]
    first, second, third = entries
    assert first.fetched_at == T0 and first.feed == "ofac" and first.feed_title == "OFAC"
    assert [m.watchlist for m in first.matches] == ["russia"]  # "iran" is not followed
    assert second.also_in == ("EU",) and third.also_in == ()  # the other feed's title
    assert second.link == "https://news.example/s-new"
    assert [s.feed for s in second.sources] == ["ofac", "eu"]
    assert {s.subscription.name: s.pending for s in store.subscription_states()} == {
        "ops": 4,  # the EU copy is queued as a member of "s-new"
        "iran-desk": 1,
    }


# -- deliveries ------------------------------------------------------------------------


def _deliver(store: Store, key: str, queue_ids: list[int], now: datetime = T0) -> int:
    return store.create_delivery(
        "ops",
        channel="ops-mail",
        idempotency_key=key,
        queue_ids=queue_ids,
        payload={"subscription": "ops", "sections": [{"watchlist": "russia"}]},
        now=now,
        next_digest_at=now + HOUR,
    )


def test_create_delivery_takes_queue_rows_once(store: Store) -> None:
    synced(store)
    poll(store, "ofac", [new_item("ofac", "a"), new_item("ofac", "b")])
    ids = [e.queue_id for e in store.pending_entries("ops")]

    delivery_id = _deliver(store, "ops:1", ids)
    assert store.pending_entries("ops") == []
    state = next(s for s in store.subscription_states() if s.subscription.name == "ops")
    assert state.pending == 0
    assert state.last_digest_at == T0 and state.next_digest_at == T0 + HOUR

    [record] = store.deliveries("ops")
    assert record.id == delivery_id and record.status is DeliveryStatus.PENDING
    assert record.entry_count == 2 and len(record.item_ids) == 2
    assert record.attempts == 0 and record.idempotency_key == "ops:1"

    before = store.counts()
    with pytest.raises(StaleQueueError, match="not pending"):
        _deliver(store, "ops:2", ids)
    assert store.counts() == before  # the whole transaction rolled back


def test_create_delivery_refuses_other_subscription_rows(store: Store) -> None:
    synced(store)
    poll(store, "ofac", [new_item("ofac", "i", watchlists=("iran",))])
    [entry] = store.pending_entries("iran-desk")
    with pytest.raises(StaleQueueError):
        _deliver(store, "ops:1", [entry.queue_id])
    assert len(store.pending_entries("iran-desk")) == 1


def test_duplicate_idempotency_key_rolls_back(store: Store) -> None:
    synced(store)
    poll(store, "ofac", [new_item("ofac", "a"), new_item("ofac", "b")])
    first, second = (e.queue_id for e in store.pending_entries("ops"))
    _deliver(store, "same-key", [first])
    with pytest.raises(StoreError, match="create a delivery") as info:
        _deliver(store, "same-key", [second])
    assert info.value.__cause__ is not None
    assert [e.queue_id for e in store.pending_entries("ops")] == [second]
    assert store.counts()["digests"] == 1


def test_pending_deliveries_and_marks(store: Store) -> None:
    synced(store)
    poll(store, "ofac", [new_item("ofac", "a"), new_item("ofac", "b")])
    a, b = (e.queue_id for e in store.pending_entries("ops"))
    first = _deliver(store, "ops:1", [a], now=T0)
    second = _deliver(store, "ops:2", [b], now=T0 + timedelta(minutes=1))

    assert store.pending_deliveries(T0 - timedelta(seconds=1)) == []
    pending = store.pending_deliveries(T0 + HOUR)
    assert [p.id for p in pending] == [first, second]  # oldest first
    assert pending[0].payload == {"subscription": "ops", "sections": [{"watchlist": "russia"}]}
    assert pending[0].subscription == "ops" and pending[0].channel == "ops-mail"
    assert pending[0].created_at == T0 and pending[0].attempts == 0

    store.mark_failed(first, now=T0, error="SMTP 451", next_attempt_at=T0 + 2 * HOUR)
    store.mark_sent(second, now=T0 + HOUR)
    assert store.pending_deliveries(T0 + HOUR) == []
    [retry] = store.pending_deliveries(T0 + 2 * HOUR)
    assert retry.id == first and retry.attempts == 1 and retry.last_error == "SMTP 451"

    store.mark_failed(first, now=T0 + 2 * HOUR, error="SMTP 550", next_attempt_at=None)
    assert store.pending_deliveries(T0 + 100 * HOUR) == []
    records = {r.id: r for r in store.deliveries()}
    assert records[first].status is DeliveryStatus.DEAD and records[first].attempts == 2
    assert records[first].last_error == "SMTP 550"
    assert records[second].status is DeliveryStatus.SENT and records[second].attempts == 1
    assert records[second].sent_at == T0 + HOUR

    with pytest.raises(StoreError, match="unknown delivery"):
        store.mark_sent(9999, now=T0)


# -- errors and time -------------------------------------------------------------------


def test_feed_error_does_not_touch_items(store: Store) -> None:
    synced(store)
    poll(store, "ofac", [new_item("ofac", "a")])
    items_before = store.items("ofac")
    store.record_feed_error("ofac", now=T0 + HOUR, error="HTTP 503", next_poll_at=T0 + 2 * HOUR)
    store.record_feed_error("ofac", now=T0 + 2 * HOUR, error="timeout", next_poll_at=T0 + 4 * HOUR)
    state = feed_state(store, "ofac")
    assert state.error_count == 2 and state.last_error == "timeout"
    assert state.last_error_at == T0 + 2 * HOUR and state.next_poll_at == T0 + 4 * HOUR
    assert state.last_success_at == T0 and state.etag == '"v1"'
    assert store.items("ofac") == items_before

    poll(store, "ofac", [], T0 + 4 * HOUR)
    state = feed_state(store, "ofac")
    assert state.error_count == 0 and state.last_success_at == T0 + 4 * HOUR
    assert state.last_error == "timeout"  # kept: the feed list shows the last error


def test_unknown_names_raise_store_error(store: Store) -> None:
    synced(store)
    with pytest.raises(StoreError, match="unknown feed 'nope'"):
        poll(store, "nope", [])
    with pytest.raises(StoreError, match="unknown subscription 'nope'"):
        store.pending_entries("nope")
    with pytest.raises(StoreError, match="unknown watchlists: ghost"):
        poll(store, "ofac", [new_item("ofac", "a", watchlists=("ghost",))])
    assert store.items() == []  # rolled back


def test_aware_datetimes_round_trip(store: Store) -> None:
    plus_three = timezone(timedelta(hours=3))
    local = datetime(2026, 3, 1, 15, 30, 15, 123456, tzinfo=plus_three)
    synced(store, local)
    state = feed_state(store, "ofac")
    assert state.next_poll_at == local
    assert state.next_poll_at is not None and state.next_poll_at.tzinfo is UTC
    assert state.next_poll_at.hour == 12 and state.next_poll_at.microsecond == 123456

    poll(store, "ofac", [new_item("ofac", "a", published=local)], local)
    [item] = store.items("ofac")
    assert item.published_at == local and item.published_at.tzinfo is UTC
    assert item.fetched_at.tzinfo is UTC
    # Comparisons happen in UTC: due exactly at the instant, whatever zone `now` is in.
    ofac_due = (local + HOUR).astimezone(timezone(timedelta(hours=-5)))
    assert [f.name for f in store.due_feeds(ofac_due)] == ["eu", "ofac"]
    assert [f.name for f in store.due_feeds(ofac_due - timedelta(microseconds=1))] == ["eu"]


def test_naive_datetime_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        store.sync_config(FEEDS, [], [], [], datetime(2026, 3, 1, 12, 0))
    assert store.feed_states() == []


def test_store_error_when_database_unreachable(tmp_path: Path) -> None:
    directory = tmp_path / "a-directory"
    directory.mkdir()
    engine = make_engine(f"sqlite:///{directory}")
    try:
        with pytest.raises(StoreError, match="could not list feeds") as info:
            Store(engine).feed_states()
        assert info.value.__cause__ is not None
    finally:
        engine.dispose()


def test_store_error_when_table_missing(engine: Engine, store: Store) -> None:
    synced(store)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE delivery_attempts"))
        connection.execute(text("DROP TABLE deliveries"))
    with pytest.raises(StoreError, match="could not list pending deliveries") as info:
        store.pending_deliveries(T0)
    assert "deliveries" in str(info.value)


def test_concurrent_polls_store_each_item_once(store: Store) -> None:
    """Two pollers racing on the same feed (threads, own connections) never duplicate."""
    synced(store)
    items = [new_item("ofac", f"k{n}", story=f"s{n}") for n in range(50)]
    barrier = threading.Barrier(4)

    def run(n: int) -> tuple[int, int]:
        barrier.wait()
        return poll(store, "ofac", items[n % 2 :] + items[: n % 2])

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(run, range(4)))
    assert sum(new for new, _ in outcomes) == 50
    assert sum(queued for _, queued in outcomes) == 50
    assert len(store.items("ofac")) == 50 and len(store.queue("ops")) == 50


def test_concurrent_polls_of_two_feeds_sharing_stories(store: Store) -> None:
    """Different feeds carrying the same stories in opposite order: queued once, no deadlock."""
    synced(store)
    ofac = [new_item("ofac", f"o{n}", story=f"s{n}") for n in range(40)]
    eu = [new_item("eu", f"e{n}", story=f"s{n}") for n in reversed(range(40))]
    barrier = threading.Barrier(2)

    def run(feed: str, items: list[NewItem]) -> tuple[int, int]:
        barrier.wait()
        return poll(store, feed, items)

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(run, ["ofac", "eu"], [ofac, eu]))
    assert [new for new, _ in outcomes] == [40, 40]
    assert sum(queued for _, queued in outcomes) == 40  # each story once; the copy is a member
    assert len(store.queue("ops")) == 80
    fresh = [q.story_key for q in store.queue("ops") if q.kind is AlertKind.NEW]
    assert sorted(fresh) == sorted(f"s{n}" for n in range(40))


# -- engine and layering ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/x", "postgresql+psycopg://u:p@db:5432/x"),
        ("postgresql://u@db/x?sslmode=require", "postgresql+psycopg://u@db/x?sslmode=require"),
        ("postgresql+psycopg://u@db/x", "postgresql+psycopg://u@db/x"),
        ("sqlite:///data/alerts.db", "sqlite:///data/alerts.db"),
    ],
)
def test_normalise_url(given: str, expected: str) -> None:
    assert normalise_url(given).render_as_string(hide_password=False) == expected


def test_sqlite_engine_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "alerts.db"
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as connection:
            pragma = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            }
        assert pragma == {"journal_mode": "wal", "foreign_keys": 1, "busy_timeout": 5000,
                          "synchronous": 1}  # fmt: skip
        assert path.exists()
    finally:
        engine.dispose()


def test_store_layer_imports_no_transport_or_rendering() -> None:
    code = (
        "import sys, alerts.store; "
        "print(sorted({'httpx', 'feedparser', 'jinja2'} & set(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
