"""Watchlists in the store: config sync, imported entities, the version token, backtest reads.

Runs on SQLite files and (with ALERTS_TEST_DATABASE_URL) PostgreSQL, like tests/test_store.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, update

from alerts.domain import (
    ChannelConfig,
    ChannelKind,
    Entity,
    EntityKind,
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
from alerts.store import Store
from alerts.store.models import WatchlistRow
from alerts.store.repository import ImportSummary

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)

PUTIN = Entity(
    name="Vladimir Putin",
    kind=EntityKind.PERSON,
    aliases=("Владимир Путин",),
    weak_aliases=("Putin",),
    id="Q7747",
)
ROSNEFT = Entity(name="Rosneft", kind=EntityKind.ORGANIZATION, identifiers=("1027700043502",))
RUSSIA = Watchlist(
    name="russia",
    terms=("Russia", "sanction*"),
    queries=("oil AND price cap",),
    regexes=(r"\bIMO ?\d{7}\b",),
    entities=(PUTIN, ROSNEFT),
    exclude=("sport*",),
    description="Russian sanctions",
)
IRAN = Watchlist(name="iran", terms=("Iran",))

FEEDS = [Feed(name="ofac", url="https://ofac.example/rss", interval=timedelta(minutes=30))]
CHANNELS = [ChannelConfig(name="hook", kind=ChannelKind.WEBHOOK, url="https://hook.example/x")]
SUBSCRIPTIONS = [Subscription(name="ops", watchlists=("russia", "iran"), channel="hook")]


def sync(store: Store, *watchlists: Watchlist, now: datetime = T0) -> None:
    store.sync_config(FEEDS, watchlists, CHANNELS, SUBSCRIPTIONS, now)


def revisions(engine: Engine) -> dict[str, tuple[int, datetime | None, bool, bool]]:
    """name -> (revision, updated_at, enabled, in_config), read straight from the table."""
    stmt = select(
        WatchlistRow.name,
        WatchlistRow.revision,
        WatchlistRow.updated_at,
        WatchlistRow.enabled,
        WatchlistRow.in_config,
    )
    with engine.connect() as connection:
        return {row[0]: tuple(row[1:]) for row in connection.execute(stmt)}


def imported(store: Store, name: str, entities: list[Entity], **kw: Any) -> ImportSummary:
    kw.setdefault("source", "list.json at 2026-03-01T12:00Z")
    kw.setdefault("replace", False)
    kw.setdefault("now", T0)
    return store.import_entities(name, entities, **kw)


def summary(s: ImportSummary) -> tuple[bool, int, int, int, int, int]:
    return (s.created, s.added, s.updated, s.unchanged, s.removed, s.total)


def by_name(store: Store) -> dict[str, Watchlist]:
    return {w.name: w for w in store.load_watchlists()}


@contextmanager
def counting_selects(engine: Engine) -> Iterator[list[str]]:
    """The SELECT statements run on `engine` inside the block."""
    statements: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", before)


# -- config sync ---------------------------------------------------------------------------


def test_sync_stores_every_field(store: Store) -> None:
    sync(store, RUSSIA, IRAN)
    assert store.load_watchlists() == [IRAN, RUSSIA]  # by name
    assert store.saved_watchlist("russia") == RUSSIA
    assert store.saved_watchlist("nope") is None


def test_sync_bumps_revision_only_on_change(engine: Engine, store: Store) -> None:
    sync(store, RUSSIA, IRAN)
    assert revisions(engine) == {"russia": (1, T0, True, True), "iran": (1, T0, True, True)}

    sync(store, RUSSIA, IRAN, now=T0 + HOUR)  # the same config again
    assert revisions(engine) == {"russia": (1, T0, True, True), "iran": (1, T0, True, True)}

    changes = [
        {"terms": ("Russia",)},
        {"queries": ()},
        {"regexes": (r"\bIMO\d{7}\b",)},
        {"entities": (PUTIN,)},
        {"entities": (ROSNEFT, PUTIN)},  # order is part of the definition
        {"exclude": ()},
        {"description": ""},
    ]
    current = RUSSIA
    for number, change in enumerate(changes, start=2):
        current = Watchlist(**{**vars_of(current), **change})
        now = T0 + number * HOUR
        sync(store, current, IRAN, now=now)
        assert revisions(engine)["russia"] == (number, now, True, True), change
        assert store.saved_watchlist("russia") == current
    assert revisions(engine)["iran"] == (1, T0, True, True)


def vars_of(watchlist: Watchlist) -> dict[str, Any]:
    return {name: getattr(watchlist, name) for name in Watchlist.__slots__}


def test_removed_watchlist_is_disabled_and_returns(engine: Engine, store: Store) -> None:
    sync(store, RUSSIA, IRAN)
    sync(store, RUSSIA, now=T0 + HOUR)
    assert revisions(engine)["iran"] == (2, T0 + HOUR, False, False)
    assert [w.name for w in store.load_watchlists()] == ["russia"]
    assert store.saved_watchlist("iran") is None
    sync(store, RUSSIA, now=T0 + 2 * HOUR)  # still gone: no change
    assert revisions(engine)["iran"] == (2, T0 + HOUR, False, False)
    sync(store, RUSSIA, IRAN, now=T0 + 3 * HOUR)
    assert revisions(engine)["iran"] == (3, T0 + 3 * HOUR, True, True)
    assert store.saved_watchlist("iran") == IRAN


def test_sync_keeps_a_rejected_watchlist_as_saved(engine: Engine, store: Store) -> None:
    sync(store, RUSSIA, IRAN)
    store.sync_config([], [RUSSIA], [], [], T0 + HOUR, keep=["iran"])
    assert store.saved_watchlist("iran") == IRAN
    assert revisions(engine)["iran"][0] == 1


def test_sync_refuses_overlong_watchlist_name(store: Store) -> None:
    with pytest.raises(StoreError, match="201 characters long, the limit is 200"):
        sync(store, Watchlist(name="w" * 201, terms=("x",)))
    assert store.counts()["watchlists"] == 0 and store.counts()["feeds"] == 0  # rolled back


# -- the version token -----------------------------------------------------------------


def test_version_changes_on_every_change_and_only_then(store: Store) -> None:
    seen = [store.watchlists_version()]

    def changed() -> bool:
        version = store.watchlists_version()
        fresh = version != seen[-1]
        assert version not in seen[:-1] or not fresh  # never back to an older state
        seen.append(version)
        return fresh

    sync(store, RUSSIA)
    assert changed()  # added
    sync(store, RUSSIA, now=T0 + HOUR)
    assert not changed()
    sync(store, RUSSIA, IRAN)
    assert changed()  # added
    sync(store, Watchlist(name="russia", terms=("Russia",)), IRAN)
    assert changed()  # changed
    sync(store, Watchlist(name="russia", terms=("Russia",)))
    assert changed()  # removed
    sync(store, Watchlist(name="russia", terms=("Russia",)))
    assert not changed()

    imported(store, "russia", [PUTIN])
    assert changed()  # import into an existing watchlist
    imported(store, "russia", [PUTIN], source="again.json")
    assert not changed()  # nothing new
    imported(store, "opensanctions", [PUTIN, ROSNEFT])
    assert changed()  # import creating a watchlist
    imported(store, "opensanctions", [ROSNEFT], replace=True)
    assert changed()  # import removing an entity

    # Polls, deliveries and reads do not touch it.
    store.record_poll(
        "ofac", now=T0, next_poll_at=T0 + HOUR, url="u", etag=None, last_modified=None, items=[]
    )
    store.load_watchlists()
    assert not changed()


def test_version_is_one_small_query(engine: Engine, store: Store) -> None:
    sync(store, RUSSIA, IRAN)
    with counting_selects(engine) as selects:
        store.watchlists_version()
    assert len(selects) == 1


# -- imports ------------------------------------------------------------------------------


def test_import_creates_watchlist_outside_the_config(engine: Engine, store: Store) -> None:
    sync(store, RUSSIA)
    result = imported(store, "opensanctions", [PUTIN, ROSNEFT], source="os.json at T0")
    assert result == ImportSummary(
        watchlist="opensanctions",
        created=True,
        added=2,
        updated=0,
        unchanged=0,
        removed=0,
        total=2,
    )
    assert revisions(engine)["opensanctions"] == (1, T0, True, False)
    assert store.saved_watchlist("opensanctions") == Watchlist(
        name="opensanctions", entities=(PUTIN, ROSNEFT)
    )
    with store.engine.connect() as connection:
        source = connection.scalar(
            select(WatchlistRow.imported_source).where(WatchlistRow.name == "opensanctions")
        )
    assert source == "os.json at T0"


def test_import_merges_by_id_then_by_name(engine: Engine, store: Store) -> None:
    sync(store)
    first = [
        PUTIN,
        Entity(name="Rosneft", kind=EntityKind.ORGANIZATION),
        Entity(name="Sovcomflot", kind=EntityKind.ORGANIZATION, id="os-scf"),
        Entity(name="NS Champion", kind=EntityKind.VESSEL, identifiers=("IMO 9305611",)),
    ]
    assert summary(imported(store, "list", first)) == (True, 4, 0, 0, 0, 4)

    second = [
        # Same id, new name and aliases: updated in place.
        Entity(name="Vladimir V. Putin", aliases=("Putin V.V.",), id="Q7747"),
        # No id, same name in other case and spacing: the stored one, updated.
        Entity(name="ROSNEFT ", kind=EntityKind.ORGANIZATION, aliases=("Роснефть",)),
        # An id for an entity stored without one: takes its place.
        Entity(name="ns champion", kind=EntityKind.VESSEL, id="imo-9305611"),
        # Same as stored: unchanged.
        Entity(name="Sovcomflot", kind=EntityKind.ORGANIZATION, id="os-scf"),
        # New.
        Entity(name="Gazprom Neft", kind=EntityKind.ORGANIZATION),
    ]
    result = imported(store, "list", second, now=T0 + HOUR)
    assert summary(result) == (False, 1, 3, 1, 0, 5)
    assert revisions(engine)["list"] == (2, T0 + HOUR, True, False)
    [watchlist] = store.load_watchlists()
    assert [e.name for e in watchlist.entities] == [
        "Vladimir V. Putin",
        "ROSNEFT ",
        "Sovcomflot",
        "ns champion",
        "Gazprom Neft",
    ]  # stored order kept, new ones at the end
    assert watchlist.entities[0].aliases == ("Putin V.V.",)
    assert watchlist.entities[3].id == "imo-9305611"

    # An entity without an id keeps the id stored for its name.
    result = imported(store, "list", [Entity(name="Sovcomflot", aliases=("SCF",))])
    assert summary(result) == (False, 0, 1, 0, 0, 5)
    entity = store.load_watchlists()[0].entities[2]
    assert (entity.name, entity.aliases, entity.id) == ("Sovcomflot", ("SCF",), "os-scf")
    assert entity.kind is EntityKind.PERSON  # the import said so (the default kind)


def test_import_replace_removes_what_is_not_imported(engine: Engine, store: Store) -> None:
    sync(store)
    imported(store, "list", [PUTIN, ROSNEFT, Entity(name="Sechin")])
    result = imported(store, "list", [ROSNEFT, Entity(name="Igor Sechin")], replace=True)
    assert summary(result) == (False, 1, 0, 1, 2, 2)
    assert [e.name for e in store.load_watchlists()[0].entities] == ["Rosneft", "Igor Sechin"]

    # An identical replacing import changes nothing, not even the revision.
    before = revisions(engine)["list"]
    result = imported(store, "list", [ROSNEFT, Entity(name="Igor Sechin")], replace=True)
    assert summary(result) == (False, 0, 0, 2, 0, 2)
    assert revisions(engine)["list"] == before

    # Replacing with nothing leaves an empty watchlist outside the config: disabled.
    result = imported(store, "list", [], replace=True, now=T0 + HOUR)
    assert summary(result) == (False, 0, 0, 0, 2, 0)
    assert store.load_watchlists() == [] and store.saved_watchlist("list") is None
    assert revisions(engine)["list"][2:] == (False, False)


def test_import_duplicates_within_one_import_last_wins(store: Store) -> None:
    entities = [
        Entity(name="Rosneft", aliases=("first",), id="x"),
        Entity(name="Other name", aliases=("second",), id="x"),
        Entity(name="Sechin"),
        Entity(name="SECHIN", aliases=("Igor",)),
    ]
    assert summary(imported(store, "list", entities)) == (True, 2, 0, 0, 0, 2)
    stored = store.load_watchlists()[0].entities
    assert stored == (
        Entity(name="Other name", aliases=("second",), id="x"),
        Entity(name="SECHIN", aliases=("Igor",)),
    )


def test_import_errors_change_nothing(engine: Engine, store: Store) -> None:
    sync(store, RUSSIA)
    imported(store, "russia", [Entity(name="Sechin")])
    before = (store.counts(), revisions(engine), store.load_watchlists())

    with pytest.raises(StoreError, match=r"import entities into watchlist 'w{5}.*the limit is 200"):
        imported(store, "w" * 201, [PUTIN])
    with pytest.raises(StoreError, match="entity 2 has an empty name"):
        imported(store, "russia", [ROSNEFT, Entity(name="  ")], replace=True)
    with pytest.raises(StoreError, match="watchlist name must not be empty"):
        imported(store, " ", [PUTIN])
    assert (store.counts(), revisions(engine), store.load_watchlists()) == before


REFUSE_UPDATES = {
    "sqlite": [
        "CREATE TRIGGER refuse BEFORE UPDATE ON watchlists BEGIN SELECT RAISE(ABORT, 'refused'); END"
    ],
    "postgresql": [
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql"
        " AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$",
        "CREATE TRIGGER refuse BEFORE UPDATE ON watchlists FOR EACH ROW EXECUTE FUNCTION refuse()",
    ],
}


def test_import_database_error_rolls_back(engine: Engine, store: Store) -> None:
    sync(store, RUSSIA)
    imported(store, "russia", [Entity(name="Sechin")])
    before = (store.counts(), revisions(engine), store.load_watchlists())
    with engine.begin() as connection:
        for statement in REFUSE_UPDATES[engine.dialect.name]:
            connection.exec_driver_sql(statement)
    with pytest.raises(StoreError, match="could not import entities into watchlist 'russia'"):
        imported(store, "russia", [PUTIN], replace=True)
    assert imported(store, "new", [PUTIN]).created  # inserts still work, and are separate
    assert (store.counts()["watchlists"], revisions(engine)["russia"]) == (2, before[1]["russia"])
    assert store.saved_watchlist("russia") == before[2][0]


def test_imported_watchlist_survives_config_without_it(engine: Engine, store: Store) -> None:
    sync(store, RUSSIA, IRAN)
    imported(store, "russia", [Entity(name="Igor Sechin")])
    sync(store, now=T0 + HOUR)  # both left the config

    # "russia" keeps matching its imported entities, and only them.
    assert store.load_watchlists() == [
        Watchlist(name="russia", entities=(Entity(name="Igor Sechin"),))
    ]
    assert revisions(engine)["russia"][2:] == (True, False)
    assert revisions(engine)["iran"][2:] == (False, False)

    # Importing into the disabled "iran" turns it on with its imports, not its old terms.
    imported(store, "iran", [Entity(name="IRGC", kind=EntityKind.ORGANIZATION)])
    assert store.saved_watchlist("iran") == Watchlist(
        name="iran", entities=(Entity(name="IRGC", kind=EntityKind.ORGANIZATION),)
    )

    # Back in the config: config entries first, imports after, no import lost.
    sync(store, RUSSIA, IRAN, now=T0 + 2 * HOUR)
    assert store.saved_watchlist("russia") == Watchlist(
        **{**vars_of(RUSSIA), "entities": (PUTIN, ROSNEFT, Entity(name="Igor Sechin"))}
    )
    assert revisions(engine)["russia"][2:] == (True, True)


def test_load_watchlists_order_and_dedup(store: Store) -> None:
    sync(store, RUSSIA, IRAN)
    imported(
        store,
        "russia",
        [
            Entity(name="vladimir  PUTIN", aliases=("from the list",)),  # config has him
            Entity(name="Igor Sechin"),
            Entity(name="ROSNEFT", id="os-rosneft"),  # config has it
            Entity(name="Gazprom Neft", kind=EntityKind.ORGANIZATION),
        ],
    )
    imported(store, "a-list", [Entity(name="Sechin")])
    watchlists = store.load_watchlists()
    assert [w.name for w in watchlists] == ["a-list", "iran", "russia"]
    assert watchlists[2].entities == (
        PUTIN,
        ROSNEFT,
        Entity(name="Igor Sechin"),
        Entity(name="Gazprom Neft", kind=EntityKind.ORGANIZATION),
    )
    assert store.saved_watchlist("russia") == watchlists[2]


def test_unreadable_stored_entity_is_skipped_and_logged(
    engine: Engine, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    sync(store, RUSSIA, IRAN)
    bad = [{"name": "X", "kind": "planet"}]
    with engine.begin() as connection:
        connection.execute(
            update(WatchlistRow).where(WatchlistRow.name == "russia").values(imported=bad)
        )
    # The damaged watchlist is left out; the others still load.
    assert [w.name for w in store.load_watchlists()] == ["iran"]
    (record,) = [r for r in caplog.records if r.getMessage() == "watchlist_unreadable"]
    assert "watchlist 'russia' holds an unreadable entity: kind" in record.fields["error"]  # type: ignore[attr-defined]
    with pytest.raises(StoreError, match=r"watchlist 'russia' holds an unreadable entity"):
        store.imported_entities("russia")


# -- matches, content and backtests ---------------------------------------------------------

MATCHES = (
    Match(
        watchlist="russia",
        term="Vladimir Putin",
        field="content",
        start=120,
        end=133,
        snippet="… talks with Putin Vladimir on …",
        kind=MatchKind.ENTITY,
        matched="Putin Vladimir",
        score=0.92,
        highlight=(13, 27),
    ),
    Match(
        watchlist="russia",
        term="oil AND price cap",
        field="summary",
        start=0,
        end=3,
        snippet="Oil price cap",
        kind=MatchKind.QUERY,
        matched="Oil",
        highlight=(0, 3),
    ),
    Match(watchlist="iran", term="Iran", field="title", start=0, end=4, snippet="Iran"),
)


def new_item(key: str, *, matches: tuple[Match, ...] = (), content: str = "") -> NewItem:
    item = Item(
        feed="ofac",
        guid=key,
        link=f"https://news.example/{key}",
        title=f"Item {key}",
        summary="Oil price cap",
        content=content,
    )
    return NewItem(item=item, identity=Identity(key=key, story_key=key), matches=matches)


def poll(store: Store, items: list[NewItem], now: datetime) -> None:
    store.record_poll(
        "ofac",
        now=now,
        next_poll_at=now + HOUR,
        url="https://ofac.example/rss",
        etag=None,
        last_modified=None,
        items=items,
    )


def test_match_columns_and_content_round_trip(store: Store) -> None:
    sync(store, RUSSIA, IRAN)
    content = "Full text: talks with Putin Vladimir on oil. Ünïcödé ✓\n" * 50
    poll(store, [new_item("a", matches=MATCHES, content=content), new_item("b")], T0)

    stored = {i.key: i for i in store.items()}
    assert stored["a"].matches == MATCHES
    assert stored["a"].content == content and stored["b"].content == ""
    assert stored["a"].matches[0].kind is MatchKind.ENTITY
    assert stored["a"].matches[2].highlight is None

    [entry] = store.pending_entries("ops")
    assert entry.matches == MATCHES

    [with_matches] = [i for i in store.items_since(T0, with_matches=True) if i.key == "a"]
    assert with_matches.matches == MATCHES and with_matches.content == content


def test_items_since_window_limit_and_order(store: Store) -> None:
    sync(store, RUSSIA, IRAN)
    poll(store, [new_item("old", matches=MATCHES[2:])], T0 - HOUR)
    poll(store, [new_item("t0-a", matches=MATCHES[:1]), new_item("t0-b")], T0)
    poll(store, [new_item("t1", matches=MATCHES[1:2])], T0 + HOUR)
    poll(store, [new_item("t2")], T0 + 2 * HOUR)

    def keys(items: list[Any]) -> list[str]:
        return [i.key for i in items]

    # Newest fetch first; items of one poll newest insert first.
    assert keys(store.items_since(T0)) == ["t2", "t1", "t0-b", "t0-a"]
    assert keys(store.items_since(T0, until=T0 + 2 * HOUR)) == ["t1", "t0-b", "t0-a"]
    assert keys(store.items_since(T0, until=T0)) == []
    assert keys(store.items_since(T0, limit=2)) == ["t2", "t1"]
    assert keys(store.items_since(T0 + 3 * HOUR)) == []
    assert keys(store.items_since(T0 - 2 * HOUR, limit=10)) == ["t2", "t1", "t0-b", "t0-a", "old"]

    # Matches only when asked for, and only those of the items returned.
    assert all(i.matches == () for i in store.items_since(T0 - HOUR))
    found = store.items_since(T0 - HOUR, limit=3, with_matches=True)
    assert [(i.key, i.matches) for i in found] == [
        ("t2", ()),
        ("t1", MATCHES[1:2]),
        ("t0-b", ()),
    ]
    found = store.items_since(T0 - HOUR, with_matches=True)
    assert {i.key: i.matches for i in found}["old"] == MATCHES[2:]
    assert {i.key: i.matches for i in found}["t0-a"] == MATCHES[:1]
    assert found[0].fetched_at == T0 + 2 * HOUR and found[0].fetched_at.tzinfo is UTC
    assert found[0].feed == "ofac"


def test_items_since_is_two_queries(engine: Engine, store: Store) -> None:
    sync(store, RUSSIA, IRAN)
    items = [new_item(f"k{n}", matches=MATCHES) for n in range(1200)]
    poll(store, items, T0)
    with counting_selects(engine) as selects:
        found = store.items_since(T0 - HOUR, with_matches=True)
    assert len(found) == 1200 and all(i.matches == MATCHES for i in found)
    assert len(selects) == 2
    with counting_selects(engine) as selects:
        store.items_since(T0 - HOUR, limit=100)
    assert len(selects) == 1


def test_items_since_refuses_naive_datetimes(store: Store) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        store.items_since(datetime(2026, 3, 1, 12, 0))
