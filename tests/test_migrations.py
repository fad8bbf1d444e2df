"""Migrations are the only source of the schema, and they must match the models exactly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, Engine, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

import alerts
from alerts.dedup.identity import Verdict, lookup_keys, resolve
from alerts.domain import (
    AlertKind,
    ChannelConfig,
    ChannelKind,
    Entity,
    Feed,
    Identity,
    Item,
    Match,
    MatchKind,
    NewItem,
    Subscription,
    Watchlist,
)
from alerts.errors import StoreError
from alerts.store import (
    Store,
    current_revision,
    head_revision,
    is_up_to_date,
    make_engine,
    upgrade,
)
from alerts.store.migrate import alembic_config
from alerts.store.models import (
    AlertQueueRow,
    Base,
    ChannelRow,
    FeedRow,
    ItemRow,
    MatchRow,
    SubscriptionRow,
    WatchlistRow,
)

REPO = Path(alerts.__file__).resolve().parents[1]
TABLES = {t.name for t in Base.metadata.sorted_tables}


def schema_diff(engine: Engine) -> list[object]:
    """Our `alembic check`: what autogenerate would change to make the DB match the models."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_head_revision() -> None:
    assert head_revision() == "0006"


def test_upgrade_empty_database_twice(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        assert current_revision(engine) is None
        assert not is_up_to_date(engine)
        upgrade(database_url)  # by URL: builds and disposes its own engine
        assert current_revision(engine) == head_revision()
        assert is_up_to_date(engine)
        assert set(inspect(engine).get_table_names()) == TABLES | {"alembic_version"}

        upgrade(engine)  # a no-op when up to date
        assert current_revision(engine) == head_revision()
        assert schema_diff(engine) == []
    finally:
        engine.dispose()


def test_schema_matches_models(engine: Engine) -> None:
    assert schema_diff(engine) == []


def test_schema_enforces_invariants(engine: Engine) -> None:
    inspector = inspect(engine)
    unique = {
        table: {tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)}
        for table in ("items", "alert_queue", "deliveries")
    }
    assert ("feed_id", "key") in unique["items"]
    assert ("subscription_id", "item_id", "revision") in unique["alert_queue"]
    assert ("idempotency_key",) in unique["deliveries"]
    # A story is "new" for a subscription once: a partial unique index, which autogenerate
    # compares by name and columns only, so its WHERE clause is tried here.
    store = Store(engine)
    store.sync_config(FEEDS, WATCHLISTS, CHANNELS, SUBSCRIPTIONS, T0)
    items = [
        NewItem(Item(feed="ofac", guid=k, link=None, title=k, summary=k), Identity(k, "s"))
        for k in "abcd"
    ]
    store.record_poll(
        "ofac", now=T0, next_poll_at=T0, url="u", etag=None, last_modified=None, items=items
    )
    rows = [(1, 1, 1, "new"), (1, 2, 1, "member"), (1, 3, 1, "member"), (1, 3, 2, "update")]
    with engine.begin() as connection:
        _queue_rows(connection, rows)
    with pytest.raises(IntegrityError), engine.begin() as connection:
        _queue_rows(connection, [(1, 4, 1, "new")])
    # compare_metadata does not look at CHECK constraints: try one.
    with pytest.raises(IntegrityError, match="ck_deliveries_status"), engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO deliveries (digest_id, channel, idempotency_key, status, attempts,"
                " created_at) VALUES (1, 'c', 'k', 'bogus', 0, CURRENT_TIMESTAMP)"
            )
        )


def _queue_rows(connection: Connection, rows: list[tuple[int, int, int, str]]) -> None:
    """alert_queue rows (subscription, item, revision, kind) of story "s"."""
    for sub, item, revision, kind in rows:
        connection.execute(
            insert(AlertQueueRow).values(
                subscription_id=sub,
                item_id=item,
                story_key="s",
                queued_at=T0,
                kind=kind,
                revision=revision,
                terms=[],
            )
        )


def test_downgrade_to_base_and_up_again(engine: Engine) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert current_revision(engine) is None
    upgrade(engine)
    assert is_up_to_date(engine) and schema_diff(engine) == []


def test_alembic_command_line(database_url: str, tmp_path: Path) -> None:
    """`alembic upgrade head` and `alembic check` from the repository root, via env.py."""
    env = {**os.environ, "ALERTS_DATABASE_URL": database_url}
    for args in (["upgrade", "head"], ["check"]):
        result = subprocess.run(
            [sys.executable, "-m", "alembic", *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr
    engine = make_engine(database_url)
    try:
        assert is_up_to_date(engine)
    finally:
        engine.dispose()


def test_missing_migrations_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ALERTS_RESOURCES_DIR", str(tmp_path))
    with pytest.raises(StoreError, match="migrations not found"):
        upgrade(f"sqlite:///{tmp_path / 'alerts.db'}")


def test_upgrade_unreachable_database(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="database migration") as info:
        upgrade(f"sqlite:///{tmp_path}")  # a directory, not a database file
    assert info.value.__cause__ is not None


# -- 0002: data written under 0001 upgrades, and comes back down -----------------------

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
WATCHLISTS = [Watchlist(name="russia", terms=("Russia",))]
FEEDS = [Feed(name="ofac", url="https://ofac.example/rss", interval=timedelta(minutes=30))]
CHANNELS = [ChannelConfig(name="hook", kind=ChannelKind.WEBHOOK, url="https://hook.example/x")]
SUBSCRIPTIONS = [Subscription(name="ops", watchlists=("russia",), channel="hook")]


NEW_IN_0003 = {"item_revisions", "tombstones"}
NEW_IN_0004 = {"optouts", "service_keys", "delivery_attempts", "channel_health"}
NEW_IN_0005 = {"list_snapshots"}
NEW_IN_0006 = {"users", "api_tokens", "audit_log"}


def write_0001_data(engine: Engine) -> None:
    """Rows as the 0001 code wrote them: only 0001 columns (Core inserts name no others)."""
    with engine.begin() as connection:
        connection.execute(
            insert(FeedRow).values(
                id=1,
                name="ofac",
                url="https://ofac.example/rss",
                config_url="https://ofac.example/rss",
                title="",
                interval_seconds=1800,
                enabled=True,
                error_count=0,
                next_poll_at=T0,
                created_at=T0,
            )
        )
        connection.execute(
            insert(WatchlistRow),
            [
                {"id": 1, "name": "russia", "terms": ["Russia"], "enabled": True},
                {"id": 2, "name": "iran", "terms": ["Iran"], "enabled": False},  # left the config
            ],
        )
        connection.execute(
            insert(SubscriptionRow).values(
                id=1,
                name="ops",
                channel="hook",
                watchlists=["russia"],
                schedule="immediate",
                enabled=True,
            )
        )
        connection.execute(insert(ChannelRow).values(id=1, name="hook", kind="webhook"))
        connection.execute(
            insert(ItemRow).values(
                id=1,
                feed_id=1,
                key="a",
                story_key="url:news.example/a",
                guid="a",
                link="https://news.example/a",
                title="Russia sanctions",
                summary="Russia sanctions announced.",
                summary_html="",
                fetched_at=T0,
                authors=[],
                tags=[],
            )
        )
        connection.execute(
            insert(MatchRow).values(
                item_id=1,
                watchlist_id=1,
                term="Russia",
                field="title",
                start_offset=0,
                end_offset=6,
                snippet="Russia sanctions",
            )
        )
        connection.execute(
            insert(AlertQueueRow).values(
                subscription_id=1, item_id=1, story_key="url:news.example/a", queued_at=T0
            )
        )


def test_0002_upgrades_0001_data(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0001")
        write_0001_data(engine)
        upgrade(engine)
        assert current_revision(engine) == head_revision() and schema_diff(engine) == []

        store = Store(engine)
        assert store.load_watchlists() == WATCHLISTS  # "iran" was disabled: not in config
        assert store.saved_watchlist("iran") is None
        [item] = store.items()
        assert item.content == ""
        old_match = Match(
            watchlist="russia", term="Russia", field="title", start=0, end=6,
            snippet="Russia sanctions",
        )  # fmt: skip
        assert item.matches == (old_match,)
        assert item.matches[0].kind is MatchKind.TERM and item.matches[0].score == 1.0
        [entry] = store.pending_entries("ops")
        assert entry.matches == (old_match,)
        # 0003: the old URL story key is the item's url key; queued alerts are "new" ones.
        assert entry.kind is AlertKind.NEW and entry.revision == 1
        assert store.stories_by_url(["url:news.example/a"]) == {
            "url:news.example/a": "url:news.example/a"
        }
        # Identity forms and queue terms are backfilled: the item is recognised, unchanged.
        polled = Item(
            feed="ofac",
            guid="a",
            link="https://news.example/a",
            title="Russia sanctions",
            summary="Russia sanctions announced.",
        )
        known, _ = store.identity_lookup("ofac", lookup_keys([polled]))
        [verdict] = resolve([polled], known).items
        assert verdict.verdict is Verdict.SAME
        with engine.connect() as connection:
            terms = connection.execute(text("SELECT terms FROM alert_queue")).scalar_one()
        assert (json.loads(terms) if isinstance(terms, str) else terms) == ["russia\x1fRussia"]
        assert [i.key for i in store.items_since(T0)] == ["a"]
        with engine.connect() as connection:
            rows = connection.execute(
                select(
                    WatchlistRow.name,
                    WatchlistRow.in_config,
                    WatchlistRow.revision,
                    WatchlistRow.updated_at,
                    WatchlistRow.imported_source,
                ).order_by(WatchlistRow.id)
            ).all()
        assert [tuple(r) for r in rows] == [
            ("russia", True, 1, None, None),
            ("iran", False, 1, None, None),
        ]

        # The same config synced again is no change at all: no rebuild after an upgrade.
        version = store.watchlists_version()
        store.sync_config(FEEDS, WATCHLISTS, CHANNELS, SUBSCRIPTIONS, T0)
        assert store.watchlists_version() == version
    finally:
        engine.dispose()


def test_0002_downgrades_with_data(engine: Engine) -> None:
    store = Store(engine)
    store.sync_config(FEEDS, WATCHLISTS, CHANNELS, SUBSCRIPTIONS, T0)
    store.import_entities("russia", [Entity(name="Igor Sechin")], source="x", replace=False, now=T0)
    match = Match(
        watchlist="russia", term="Igor Sechin", field="content", start=5, end=16,
        snippet="with Sechin", kind=MatchKind.ENTITY, matched="Sechin", score=0.9,
        highlight=(5, 11),
    )  # fmt: skip
    item = Item(feed="ofac", guid="a", link=None, title="t", summary="s", content="c" * 1000)
    store.record_poll(
        "ofac",
        now=T0,
        next_poll_at=T0,
        url="u",
        etag=None,
        last_modified=None,
        items=[NewItem(item=item, identity=Identity(key="a", story_key="a"), matches=(match,))],
    )
    counts = {
        k: v
        for k, v in store.counts().items()
        if k not in NEW_IN_0003 | NEW_IN_0004 | NEW_IN_0005 | NEW_IN_0006
    }

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0001")
    assert current_revision(engine) == "0001"
    columns = {
        table: {c["name"] for c in inspect(engine).get_columns(table)}
        for table in ("watchlists", "matches", "items")
    }
    assert columns["watchlists"] == {"id", "name", "terms", "enabled"}
    assert "kind" not in columns["matches"] and "content" not in columns["items"]
    assert "ix_items_fetched_at" not in {i["name"] for i in inspect(engine).get_indexes("items")}
    with engine.connect() as connection:
        for table, n in counts.items():
            assert connection.scalar(text(f"SELECT count(*) FROM {table}")) == n, table
        assert connection.execute(text("SELECT term, snippet FROM matches")).one() == (
            "Igor Sechin",
            "with Sechin",
        )

    # Up again: the dropped columns come back with their defaults.
    upgrade(engine)
    assert schema_diff(engine) == []
    [stored] = store.items()
    assert stored.content == ""
    assert stored.matches == (
        Match(watchlist="russia", term="Igor Sechin", field="content", start=5, end=16,
              snippet="with Sechin"),
    )  # fmt: skip


def test_0004_downgrades_and_upgrades_with_delivery_data(engine: Engine) -> None:
    from alerts.domain import Subscription as Sub
    from alerts.store.outbox import Outbox
    from alerts.store.subscribers import Subscribers

    store = Store(engine)
    subs = [*SUBSCRIPTIONS, Sub(name="ana", watchlists=("russia",), email="ana@example.org")]
    store.sync_config(FEEDS, WATCHLISTS, CHANNELS, subs, T0)
    outbox = Outbox(store)
    digest = store.create_delivery(
        "ops", channel="hook", idempotency_key="d1", queue_ids=[], payload={}, now=T0,
        next_digest_at=None,
    )  # fmt: skip
    test = outbox.enqueue("test", "hook", {"x": 1}, now=T0)
    outbox.claim(T0, lease=timedelta(minutes=1))
    for delivery_id in (digest, test):
        outbox.record(delivery_id, outcome="failed", started_at=T0, latency_ms=3, now=T0)
    Subscribers(store).unsubscribe("ana", "ana@example.org", now=T0)

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0003")
    assert current_revision(engine) == "0003"
    names = set(inspect(engine).get_table_names())
    assert not names & {"delivery_attempts", "channel_health", "optouts", "service_keys"}
    with engine.connect() as connection:
        # Only the digest delivery fits the 0003 table; the test message is gone with 0004.
        assert connection.scalar(text("SELECT count(*) FROM deliveries")) == 1

    upgrade(engine)
    assert schema_diff(engine) == []
    [record] = store.deliveries()
    assert record.idempotency_key == "d1" and record.kind == "digest"
    assert record.subscription == "ops"  # filled in again from its digest


def test_0005_downgrades_and_upgrades_with_source_data(engine: Engine) -> None:
    from alerts.domain import DesignationRecord, ItemFacets, SourceKind
    from alerts.store.repository import ListSnapshot

    store = Store(engine)
    feeds = [
        Feed(
            name="uk-list",
            url="https://lists.example/uk.xml",
            interval=timedelta(hours=6),
            kind=SourceKind.LIST,
            issuer="UK",
        )
    ]
    store.sync_config(feeds, WATCHLISTS, CHANNELS, SUBSCRIPTIONS, T0)
    record = DesignationRecord("uk-list", "RUS1", "added", "person", "VOLKOVA, Marina")
    facets = ItemFacets({"issuer": ("UK",)}, {"issuer": ("source issuer UK",)})
    item = Item(
        feed="uk-list", guid="g", link=None, title="t", summary="s",
        facets=facets, designation=record,
    )  # fmt: skip
    store.record_poll(
        "uk-list", now=T0, next_poll_at=T0, url="u", etag=None, last_modified=None,
        items=[NewItem(item=item, identity=Identity(key="g", story_key="g"), matches=())],
        snapshot=ListSnapshot("uk-sanctions-list-xml", None, 1, b"blob"),
    )  # fmt: skip
    assert store.list_snapshot("uk-list") == ListSnapshot(
        "uk-sanctions-list-xml", None, 1, b"blob", T0
    )

    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
    assert current_revision(engine) == "0004"
    assert "list_snapshots" not in inspect(engine).get_table_names()
    assert "facets" not in {c["name"] for c in inspect(engine).get_columns("items")}

    upgrade(engine)
    assert schema_diff(engine) == []
    with engine.connect() as connection:
        row = connection.execute(text("SELECT kind, issuer FROM feeds")).one()
        assert tuple(row) == ("feed", "")  # until the next config sync
        assert connection.scalar(text("SELECT count(*) FROM items WHERE facets IS NULL")) == 1
    store.sync_config(feeds, WATCHLISTS, CHANNELS, SUBSCRIPTIONS, T0)
    with engine.connect() as connection:
        assert tuple(connection.execute(text("SELECT kind, issuer FROM feeds")).one()) == (
            "list",
            "UK",
        )
    assert store.list_snapshot("uk-list") is None  # a fresh baseline after a downgrade
