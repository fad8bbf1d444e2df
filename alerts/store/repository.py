"""The store's contract: every method takes and returns domain objects.

Each public method is one transaction: it commits everything or nothing, and raises
`StoreError` (with the cause chained) when the database fails. Naive datetimes are a
programming error and raise `ValueError`.
"""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Engine, delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, SQLAlchemyError, StatementError
from sqlalchemy.orm import Session

from alerts.dedup.identity import KnownItem
from alerts.domain import (
    AlertKind,
    ChannelConfig,
    DeliveryStatus,
    Entity,
    Feed,
    FeedState,
    Importance,
    Item,
    ItemUpdate,
    Match,
    MatchKind,
    NewItem,
    PendingDelivery,
    PendingEntry,
    StorySource,
    Subscription,
    SubscriptionOrigin,
    Watchlist,
    designation_from_dict,
    designation_to_dict,
    entity_from_dict,
    entity_to_dict,
    facets_from_dict,
    facets_to_dict,
    merge_entities,
    term_key,
)
from alerts.errors import StoreError
from alerts.logs import event, get_logger
from alerts.matching.filters import accepts
from alerts.store.engine import SQLITE_BEGIN_OPTION
from alerts.store.models import (
    NEW_ONLY,
    AlertQueueRow,
    Base,
    ChannelRow,
    DeliveryRow,
    DigestRow,
    FeedRow,
    ItemRevisionRow,
    ItemRow,
    ListSnapshotRow,
    MatchRow,
    ServiceKeyRow,
    SubscriptionRow,
    TombstoneRow,
    WatchlistRow,
)

log = get_logger("store")

# Keeps IN (...) lists well below SQLite's and PostgreSQL's bound-parameter limits.
_CHUNK = 500

# The length of every String(200) name column (models.py); SQLite would not enforce it.
NAME_MAX_LENGTH = 200

_T = TypeVar("_T")
# "Do not check": the default of optional expectations (None is a value to compare).
_ANY: Any = object()


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What `record_poll` wrote."""

    new_items: int
    queued: int  # alerts queued for subscriptions: new stories and updates that add a match
    updated: int = 0  # stored items given a new revision
    members: int = 0  # later sources queued for subscriptions that have their story
    item_ids: Mapping[str, int] = field(default_factory=dict)  # identity key -> new item id


@dataclass(frozen=True, slots=True)
class ListSnapshot:
    """A list source's last file as stored: its format and serialised designations."""

    format: str
    published: datetime | None
    record_count: int
    data: bytes  # alerts.sources.lists.snapshots.dump_snapshot
    fetched_at: datetime | None = None  # when it was read (set when loaded from the store)


@dataclass(frozen=True, slots=True)
class DesignationPoint:
    """A stored list change as `alerts.dedup.stories.ListingIndex` needs it."""

    item_id: int
    story_key: str
    fetched_at: datetime
    names: tuple[str, ...]
    action: str
    issuer: str


@dataclass(frozen=True, slots=True)
class _Candidate:
    """An item that may be queued for a subscription (see `Store._queue`)."""

    subscription_id: int
    story_key: str
    item_id: int
    revision: int
    terms: frozenset[str]  # term_key()s of its matches in the subscription's watchlists


# Anomalies kept per feed, and boilerplate paragraph keys: the newest, bounded.
MAX_ANOMALIES = 20
MAX_BOILERPLATE_KEYS = 2000


def _terms(matches: Iterable[Match], followed: frozenset[str]) -> frozenset[str]:
    return frozenset(term_key(m.watchlist, m.term) for m in matches if m.watchlist in followed)


def _with_anomalies(
    current: Sequence[dict[str, str]], problems: Sequence[str], now: datetime
) -> list[dict[str, str]]:
    """`current` plus the problems not already among the recent ones, newest last."""
    recent = {a.get("problem") for a in current}
    added = [{"at": now.isoformat(), "problem": p} for p in problems if p not in recent]
    return [*current, *added][-MAX_ANOMALIES:]


def _with_boilerplate(current: Sequence[str], keys: Sequence[str]) -> list[str]:
    have = set(current)
    merged = [*current, *(k for k in dict.fromkeys(keys) if k not in have)]
    return merged[-MAX_BOILERPLATE_KEYS:]


@dataclass(frozen=True, slots=True)
class SubscriptionState:
    """A subscription with its scheduling state."""

    subscription: Subscription
    next_digest_at: datetime | None
    last_digest_at: datetime | None
    pending: int  # queued alerts not yet in a digest


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """A delivery as listed by the CLI (any status)."""

    id: int
    subscription: str
    channel: str
    status: DeliveryStatus
    attempts: int
    idempotency_key: str
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None
    entry_count: int
    item_ids: tuple[int, ...]  # the items whose queue rows this delivery's digest took
    kind: str = "digest"
    last_status: int | None = None  # HTTP status / SMTP code of the last attempt


@dataclass(frozen=True, slots=True)
class StoredItem:
    """A stored item as listed by the CLI and tests."""

    id: int
    feed: str
    key: str
    story_key: str
    guid: str | None
    link: str | None
    title: str
    summary: str
    content: str  # full article text, "" when none was extracted
    published_at: datetime | None
    fetched_at: datetime
    authors: tuple[str, ...]
    tags: tuple[str, ...]
    matches: tuple[Match, ...]
    revision: int = 1
    story_reason: str = ""
    canonical_url: str | None = None
    extract_error: str | None = None

    def as_item(self) -> Item:
        """The item as parsed, for matching it again (backtests)."""
        return Item(
            feed=self.feed,
            guid=self.guid,
            link=self.link,
            title=self.title,
            summary=self.summary,
            content=self.content,
            published=self.published_at,
            authors=self.authors,
            tags=self.tags,
        )


@dataclass(frozen=True, slots=True)
class QueuedAlert:
    """One alert_queue row: a story for a subscription, in a digest or still pending."""

    id: int
    subscription: str
    item_id: int
    story_key: str
    queued_at: datetime
    digest_id: int | None
    kind: AlertKind = AlertKind.NEW
    revision: int = 1


@dataclass(frozen=True, slots=True)
class StoryPoint:
    """A stored item as the story index needs it."""

    item_id: int
    story_key: str
    fingerprint: dict[str, Any]  # alerts.dedup.fingerprint record
    fetched_at: datetime
    official: bool


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What `import_entities` did to one watchlist's imported entities."""

    watchlist: str
    created: bool  # the watchlist did not exist: it was created, outside the config
    added: int
    updated: int
    unchanged: int
    removed: int  # only a replacing import removes entities
    total: int  # imported entities after the import


class StaleQueueError(StoreError):
    """`create_delivery` was given queue rows that are gone or already in another digest.

    Nothing was written; rebuild the digest from `pending_entries`.
    """


def _chunks(values: Sequence[_T], size: int = _CHUNK) -> Iterator[Sequence[_T]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class Store:
    """Repository over the SQLAlchemy engine. Thread-safe: it holds no session between calls."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._dialect = engine.dialect.name

    @property
    def engine(self) -> Engine:
        return self._engine

    # -- plumbing --------------------------------------------------------------------
    @contextmanager
    def _transaction(self, what: str, *, write: bool = True) -> Iterator[Session]:
        """One session in one transaction; database errors become StoreError."""
        try:
            with self._engine.connect() as connection:
                if write:
                    connection.execution_options(**{SQLITE_BEGIN_OPTION: "IMMEDIATE"})
                with (
                    Session(bind=connection, expire_on_commit=False) as session,
                    session.begin(),
                ):
                    yield session
        except StatementError as exc:
            # A bad value (naive datetime) is the caller's bug, not a database failure.
            if not isinstance(exc, DBAPIError) and isinstance(exc.orig, ValueError | TypeError):
                raise exc.orig from exc
            raise StoreError(f"could not {what}: {_describe(exc)}") from exc
        except SQLAlchemyError as exc:
            raise StoreError(f"could not {what}: {_describe(exc)}") from exc

    def transaction(self, what: str, *, write: bool = True) -> AbstractContextManager[Session]:
        """A session in one transaction for the store's companion modules (`subscribers`)."""
        return self._transaction(what, write=write)

    def insert(self, model: type[Base]) -> Any:
        """A dialect INSERT with `on_conflict_do_nothing`, for the companion modules."""
        return self._insert(model)

    def service_key(self, name: str, *, now: datetime) -> bytes:
        """The service's own secret `name`, generated (32 random bytes) on first use.

        Kept in the database so every replica uses the same one; two replicas creating it
        at once both end up with the first one written.
        """
        with self._transaction(f"read the service key {name!r}") as session:
            row = session.get(ServiceKeyRow, name)
            if row is None:
                value = secrets.token_urlsafe(32)
                session.execute(
                    self._insert(ServiceKeyRow)
                    .values(name=name, value=value, created_at=now)
                    .on_conflict_do_nothing(index_elements=["name"])
                )
                row = session.get(ServiceKeyRow, name, populate_existing=True)
                assert row is not None
            return row.value.encode("ascii")

    def _insert(self, model: type[Base]) -> Any:
        """A dialect INSERT, so `on_conflict_do_nothing` is available on both databases."""
        if self._dialect == "postgresql":
            return postgresql.insert(model)
        if self._dialect == "sqlite":
            return sqlite.insert(model)
        raise StoreError(f"unsupported database dialect {self._dialect!r}")

    @staticmethod
    def _feed(session: Session, name: str, *, lock: bool = False) -> FeedRow:
        stmt = select(FeedRow).where(FeedRow.name == name)
        if lock:
            stmt = stmt.with_for_update()  # ignored by SQLite, where BEGIN IMMEDIATE serialises
        row = session.scalars(stmt).one_or_none()
        if row is None:
            raise StoreError(f"unknown feed {name!r} (not in the synced configuration)")
        return row

    @staticmethod
    def _subscription(session: Session, name: str, *, lock: bool = False) -> SubscriptionRow:
        stmt = select(SubscriptionRow).where(SubscriptionRow.name == name)
        if lock:
            stmt = stmt.with_for_update()  # SQLite: BEGIN IMMEDIATE serialises instead
        row = session.scalars(stmt).one_or_none()
        if row is None:
            raise StoreError(f"unknown subscription {name!r} (not in the synced configuration)")
        return row

    # -- configuration -------------------------------------------------------------
    def sync_config(
        self,
        feeds: Sequence[Feed],
        watchlists: Sequence[Watchlist],
        channels: Sequence[ChannelConfig],
        subscriptions: Sequence[Subscription],
        now: datetime,
        *,
        keep: Collection[str] = (),
    ) -> None:
        """Upsert the configuration by name; what left the config is disabled, never deleted.

        A watchlist that left the config keeps its last config entries as history but no
        longer matches with them; it stays enabled (`in_config` false) while it has imported
        entities. A watchlist's revision goes up only when something about it changed.
        Watchlists named in `keep` (in the config, but rejected by checking) are left as
        saved, so a broken edit never replaces a working version.
        """
        with self._transaction("sync the configuration") as session:
            self._sync_feeds(session, feeds, now)
            self._sync_watchlists(session, watchlists, now, keep)
            self._sync_channels(session, channels)
            self._sync_subscriptions(session, subscriptions, now)

    @staticmethod
    def _sync_feeds(session: Session, feeds: Sequence[Feed], now: datetime) -> None:
        existing = {row.name: row for row in session.scalars(select(FeedRow))}
        for feed in feeds:
            interval = int(feed.interval.total_seconds())
            row = existing.pop(feed.name, None)
            if row is None:
                session.add(
                    FeedRow(
                        name=feed.name,
                        url=feed.url,
                        config_url=feed.url,
                        title=feed.title,
                        interval_seconds=interval,
                        enabled=feed.enabled,
                        error_count=0,
                        next_poll_at=now,
                        created_at=now,
                        fetch_article=feed.fetch_article,
                        official=feed.official,
                        kind=feed.kind.value,
                        issuer=feed.issuer,
                    )
                )
                continue
            if row.config_url != feed.url:
                # A new address: forget the redirect target and the old server's validators.
                row.url = row.config_url = feed.url
                row.etag = row.last_modified = None
            if row.interval_seconds != interval:
                row.interval_seconds = interval
                latest = now + timedelta(seconds=interval)
                if row.next_poll_at is not None and row.next_poll_at > latest:
                    row.next_poll_at = latest
            row.title = feed.title
            row.enabled = feed.enabled
            row.fetch_article = feed.fetch_article
            row.official = feed.official
            if row.kind != feed.kind.value:
                # Another kind reads the same URL differently: start from a fresh response.
                row.etag = row.last_modified = None
            row.kind = feed.kind.value
            row.issuer = feed.issuer
        for row in existing.values():
            row.enabled = False

    @staticmethod
    def _sync_watchlists(
        session: Session, watchlists: Sequence[Watchlist], now: datetime, keep: Collection[str]
    ) -> None:
        existing = {row.name: row for row in session.scalars(select(WatchlistRow))}
        for name in keep:
            existing.pop(name, None)
        for watchlist in watchlists:
            # A name the file now declares is the file's, even if the API made it first.
            values = {
                **_config_values(watchlist),
                "enabled": True,
                "in_config": True,
                "origin": "config",
            }
            row = existing.pop(watchlist.name, None)
            if row is None:
                _check_watchlist_name(watchlist.name, "sync the configuration")
                session.add(_new_watchlist_row(watchlist.name, values, now))
            else:
                _change_watchlist(row, values, now)
        for row in existing.values():
            if row.origin == "api":
                continue  # made through the API: not the file's to remove
            # Imported entities keep the watchlist on; its config entries stop counting.
            _change_watchlist(row, {"in_config": False, "enabled": bool(row.imported)}, now)

    @staticmethod
    def _sync_channels(session: Session, channels: Sequence[ChannelConfig]) -> None:
        # Channels have no history of their own (deliveries keep the name), so no flag.
        existing = {row.name: row for row in session.scalars(select(ChannelRow))}
        for channel in channels:
            row = existing.get(channel.name)
            if row is None:
                session.add(ChannelRow(name=channel.name, kind=str(channel.kind)))
            else:
                row.kind = str(channel.kind)

    @staticmethod
    def _sync_subscriptions(
        session: Session, subscriptions: Sequence[Subscription], now: datetime
    ) -> None:
        # Subscriptions people made themselves (origin "self") are not the config's: a
        # sync leaves them alone. A subscriber's `status` (unsubscribed) is never reset.
        existing = {
            row.name: row
            for row in session.scalars(
                select(SubscriptionRow).where(SubscriptionRow.origin == "config")
            )
        }
        taken = {
            name
            for name in session.scalars(
                select(SubscriptionRow.name).where(SubscriptionRow.origin != "config")
            )
        }
        for sub in subscriptions:
            if sub.name in taken:
                raise StoreError(
                    f"subscription {sub.name!r} in the config has the name of a subscriber's "
                    "own subscription; rename it"
                )
            row = existing.pop(sub.name, None)
            values = _subscription_values(sub)
            if row is None:
                # next_digest_at stays NULL: the scheduler computes it (set_next_digest).
                session.add(
                    SubscriptionRow(
                        name=sub.name,
                        **values,
                        enabled=True,
                        origin="config",
                        status="active",
                        created_at=now,
                    )
                )
                continue
            if (row.schedule, row.timezone, row.quiet_hours) != (
                values["schedule"],
                values["timezone"],
                values["quiet_hours"],
            ):
                row.next_digest_at = None
            if (row.email or "") != (values["email"] or ""):
                # Another address: the old one's unsubscribe does not speak for the new one.
                row.status, row.unsubscribed_at = "active", None
            for key, value in values.items():
                setattr(row, key, value)
            row.enabled = True
        for row in existing.values():
            row.enabled = False

    # -- watchlists ----------------------------------------------------------------
    def load_watchlists(self) -> list[Watchlist]:
        """Every enabled watchlist, by name, with its config entities then imported ones.

        An imported entity named like a config entity (ignoring case) is left out: the
        config's definition of it wins.
        """
        stmt = select(WatchlistRow).where(WatchlistRow.enabled.is_(True))
        with self._transaction("load the watchlists", write=False) as session:
            rows = sorted(session.scalars(stmt), key=lambda row: row.name)
            out = []
            for row in rows:
                try:
                    out.append(_watchlist(row))
                except StoreError as exc:
                    # One damaged row must not silence every other watchlist.
                    event(log, "watchlist_unreadable", level=logging.ERROR, error=str(exc))
            return out

    def imported_entities(self, name: str) -> tuple[Entity, ...]:
        """The entities imported into watchlist `name` (none when unknown)."""
        stmt = select(WatchlistRow.imported).where(WatchlistRow.name == name)
        with self._transaction(f"load watchlist {name!r}", write=False) as session:
            data = session.scalars(stmt).one_or_none() or []
        try:
            return tuple(entity_from_dict(d) for d in data)
        except (ValueError, TypeError, AttributeError) as exc:
            raise StoreError(f"watchlist {name!r} holds an unreadable entity: {exc}") from exc

    def saved_watchlist(self, name: str) -> Watchlist | None:
        """The watchlist as the service matches it now; None when unknown or disabled."""
        stmt = select(WatchlistRow).where(WatchlistRow.name == name)
        with self._transaction(f"load watchlist {name!r}", write=False) as session:
            row = session.scalars(stmt).one_or_none()
            return _watchlist(row) if row is not None and row.enabled else None

    def watchlists_version(self) -> str:
        """A token that changes whenever a watchlist is added, changed or removed.

        Rows are never deleted and every change bumps a revision, so the row count and the
        sum of revisions only grow. Read the version before `load_watchlists`: a change in
        between then costs one more rebuild, never a missed one.
        """
        stmt = select(
            func.count(),
            func.coalesce(func.sum(WatchlistRow.revision), 0),
            func.coalesce(func.max(WatchlistRow.id), 0),
        )
        with self._transaction("read the watchlists version", write=False) as session:
            count, revisions, last_id = session.execute(stmt).one()
        return f"{count}.{revisions}.{last_id}"

    def import_entities(
        self,
        name: str,
        entities: Sequence[Entity],
        *,
        source: str,
        replace: bool,
        now: datetime,
    ) -> ImportSummary:
        """Merge `entities` into the imported entities of watchlist `name`.

        An entity replaces the stored one with the same `id`; one without an id replaces the
        stored one with the same name (ignoring case and spacing), keeping its id. Within one
        import the last of two such entities wins. `replace` drops stored imported entities
        this import does not have. A missing watchlist is created outside the config; config
        entries are never touched. `source` (file name and time) is kept for operators.
        """
        what = f"import entities into watchlist {name!r}"
        _check_watchlist_name(name, what)
        incoming: list[dict[str, Any]] = []
        for number, entity in enumerate(entities, start=1):
            if not entity.name.strip():
                raise StoreError(f"could not {what}: entity {number} has an empty name")
            incoming.append(entity_to_dict(entity))
        with self._transaction(what) as session:
            # Row lock (PostgreSQL): two imports into one watchlist take turns.
            stmt = select(WatchlistRow).where(WatchlistRow.name == name).with_for_update()
            row = session.scalars(stmt).one_or_none()
            created = row is None
            current = [] if row is None else list(row.imported)
            merge = _merge_entities(current, incoming, replace=replace)
            in_config = row is not None and row.in_config
            values = {"imported": merge.entities, "enabled": in_config or bool(merge.entities)}
            if row is None:
                row = _new_watchlist_row(name, {**values, "in_config": False}, now)
                session.add(row)
            else:
                _change_watchlist(row, values, now)
            # Not a change of what is matched: no new revision for it alone.
            row.imported_source = source
            return ImportSummary(
                watchlist=name,
                created=created,
                added=merge.added,
                updated=merge.updated,
                unchanged=merge.unchanged,
                removed=merge.removed,
                total=len(merge.entities),
            )

    # -- feeds ---------------------------------------------------------------------
    def feed_states(self) -> list[FeedState]:
        """Every feed, enabled or not, by name, with its stored item count."""
        with self._transaction("list feeds", write=False) as session:
            return self._feed_states(session, due=None)

    def due_feeds(self, now: datetime) -> list[FeedState]:
        """Enabled feeds whose next poll is due (or never set), most overdue first."""
        with self._transaction("list due feeds", write=False) as session:
            return self._feed_states(session, due=now)

    @staticmethod
    def _feed_states(session: Session, *, due: datetime | None) -> list[FeedState]:
        stmt = select(FeedRow).order_by(FeedRow.name)
        if due is not None:
            stmt = (
                select(FeedRow)
                .where(FeedRow.enabled.is_(True))
                .where(FeedRow.next_poll_at.is_(None) | (FeedRow.next_poll_at <= due))
                .order_by(FeedRow.next_poll_at.asc().nulls_first(), FeedRow.name)
            )
        rows = list(session.scalars(stmt))
        counts: dict[int, int] = {}
        if rows:
            count_stmt = select(ItemRow.feed_id, func.count()).group_by(ItemRow.feed_id)
            counts = {feed_id: n for feed_id, n in session.execute(count_stmt)}
        return [
            FeedState(
                name=row.name,
                url=row.url,
                title=row.title,
                etag=row.etag,
                last_modified=row.last_modified,
                last_success_at=row.last_success_at,
                last_error_at=row.last_error_at,
                last_error=row.last_error,
                error_count=row.error_count,
                next_poll_at=row.next_poll_at,
                item_count=counts.get(row.id, 0),
                interval=timedelta(seconds=row.interval_seconds),
                enabled=row.enabled,
                fetch_article=row.fetch_article,
                official=row.official,
                guids_unreliable=row.guids_unreliable,
                links_unreliable=row.links_unreliable,
                boilerplate=frozenset(row.boilerplate or ()),
                anomalies=tuple(
                    f"{a.get('at', '')}: {a.get('problem', '')}" for a in row.anomalies or ()
                ),
            )
            for row in rows
        ]

    def known_keys(self, feed: str, keys: Sequence[str]) -> set[str]:
        """The subset of `keys` already stored for `feed`."""
        with self._transaction(f"look up known items of feed {feed!r}", write=False) as session:
            return self._known_keys(session, self._feed(session, feed).id, keys)

    @staticmethod
    def _known_keys(session: Session, feed_id: int, keys: Iterable[str]) -> set[str]:
        found: set[str] = set()
        for chunk in _chunks(sorted(set(keys))):
            stmt = select(ItemRow.key).where(ItemRow.feed_id == feed_id, ItemRow.key.in_(chunk))
            found.update(session.scalars(stmt))
        return found

    def identity_lookup(self, feed: str, keys: Collection[str]) -> tuple[list[KnownItem], set[str]]:
        """The feed's stored items found by any of `keys`, and the tombstoned ones of `keys`.

        `keys` are identity forms ("guid:...", "link:...", "hash:...", as
        `alerts.dedup.identity.lookup_keys` gives them): each is looked up as an item's key,
        guid key, link key or content hash.
        """
        what = f"look up known items of feed {feed!r}"
        with self._transaction(what, write=False) as session:
            feed_id = self._feed(session, feed).id
            wanted = sorted(set(keys))
            hashes = sorted({k.removeprefix("hash:") for k in wanted if k.startswith("hash:")})
            # Only what identity needs (not the HTML, fingerprint or authors): every poll
            # looks up every item its feed still carries. `content` goes with an edit.
            columns = (
                ItemRow.id,
                ItemRow.key,
                ItemRow.guid_key,
                ItemRow.link_key,
                ItemRow.content_hash,
                ItemRow.title,
                ItemRow.summary,
                ItemRow.revision,
                ItemRow.content,
            )
            rows: dict[int, Any] = {}
            lookups: list[tuple[Any, list[str]]] = [
                (ItemRow.key, wanted),
                (ItemRow.guid_key, [k for k in wanted if k.startswith("guid:")]),
                (ItemRow.link_key, [k for k in wanted if k.startswith("link:")]),
                (ItemRow.content_hash, hashes),
            ]
            for column, values in lookups:
                for chunk in _chunks(values):
                    stmt = select(*columns).where(ItemRow.feed_id == feed_id, column.in_(chunk))
                    rows.update((row.id, row) for row in session.execute(stmt))
            known = [
                KnownItem(
                    item_id=row.id,
                    key=row.key,
                    guid_key=row.guid_key,
                    link_key=row.link_key,
                    content_hash=row.content_hash,
                    title=row.title,
                    summary=row.summary,
                    revision=row.revision,
                    content=row.content,
                )
                for row in rows.values()
            ]
            dead: set[str] = set()
            for chunk in _chunks(wanted):
                stmt2 = select(TombstoneRow.key).where(
                    TombstoneRow.feed_id == feed_id, TombstoneRow.key.in_(chunk)
                )
                dead.update(session.scalars(stmt2))
            return known, dead

    def record_poll(
        self,
        feed: str,
        *,
        now: datetime,
        next_poll_at: datetime,
        url: str,
        etag: str | None,
        last_modified: str | None,
        items: Sequence[NewItem],
        updates: Sequence[ItemUpdate] = (),
        guids_unreliable: bool | None = None,
        links_unreliable: bool | None = None,
        anomalies: Sequence[str] = (),
        boilerplate: Sequence[str] = (),
        snapshot: ListSnapshot | None = None,
    ) -> PollOutcome:
        """Store a successful poll: new items, edited items, their matches, queued alerts.

        For a list source, `snapshot` (the file just read) replaces the stored one in the
        same transaction, so the change items and the snapshot they came from land together.

        Items already stored for the feed (and repeats within `items`) are skipped. For every
        enabled subscription following a watchlist an item matched, the story's first alert
        is queued as "new" (once per story, whichever feed carried it); a later item of a
        story the subscription has is queued as a "member", and an edited item whose matches
        gained an entry as an "update". Items of a story a subscription has are queued as
        members even when they match nothing themselves (the official notice of a story
        found in the press). The feed's habits, anomalies and boilerplate keys are saved.
        The previous `last_error` text is kept for the feed list; `error_count` says health.
        """
        with self._transaction(f"record the poll of feed {feed!r}") as session:
            # Row lock (PostgreSQL): two pollers of one feed take turns instead of deadlocking.
            row = self._feed(session, feed, lock=True)
            batch: dict[str, NewItem] = {}
            for new in items:
                batch.setdefault(new.identity.key, new)  # a feed may repeat a guid
            for key in self._known_keys(session, row.id, batch):
                del batch[key]

            watchlist_ids = self._watchlist_ids(session, [*batch.values(), *updates])
            subscriptions = [
                (sub.id, frozenset(sub.watchlists), sub.filter)
                for sub in session.scalars(
                    select(SubscriptionRow).where(
                        SubscriptionRow.enabled.is_(True), SubscriptionRow.status == "active"
                    )
                )
            ]
            item_ids: dict[str, int] = {}
            candidates: list[_Candidate] = []
            for new in batch.values():
                item_id = self._insert_item(session, row.id, new, now)
                if item_id is None:  # a concurrent poll stored it first
                    continue
                item_ids[new.identity.key] = item_id
                self._insert_matches(session, item_id, new.matches, watchlist_ids)
                story_key = new.identity.story_key
                for sub_id, followed, wanted in subscriptions:
                    if wanted and not accepts(wanted, new.item.facets):
                        continue  # the subscription's facet filter turns this item away
                    terms = _terms(new.matches, followed)
                    # Followers of the story hear of this source whether it matched or not.
                    candidates.append(_Candidate(sub_id, story_key, item_id, 1, terms))
            updated = 0
            for change in updates:
                before = self._stored_terms(session, change.item_id)
                revised = self._update_item(session, change, now)
                if revised is None:
                    continue
                revision, story_key = revised
                updated += 1
                session.execute(delete(MatchRow).where(MatchRow.item_id == change.item_id))
                self._insert_matches(session, change.item_id, change.matches, watchlist_ids)
                for sub_id, followed, wanted in subscriptions:
                    if wanted and not accepts(wanted, change.item.facets):
                        continue
                    terms = _terms(change.matches, followed)
                    if terms - before:  # only a gained match is news
                        candidates.append(
                            _Candidate(sub_id, story_key, change.item_id, revision, terms)
                        )
            queued, members = self._queue(session, candidates, now)

            row.error_count = 0
            row.last_success_at = now
            row.etag = etag
            row.last_modified = last_modified
            row.url = url
            row.next_poll_at = next_poll_at
            if guids_unreliable is not None:
                row.guids_unreliable = guids_unreliable
            if links_unreliable is not None:
                row.links_unreliable = links_unreliable
            if anomalies:
                row.anomalies = _with_anomalies(row.anomalies or [], anomalies, now)
            if boilerplate:
                row.boilerplate = _with_boilerplate(row.boilerplate or [], boilerplate)
            if snapshot is not None:
                self._save_snapshot(session, row.id, snapshot, now)
            return PollOutcome(
                new_items=len(item_ids),
                queued=queued,
                updated=updated,
                members=members,
                item_ids=item_ids,
            )

    def _queue(
        self, session: Session, candidates: Sequence[_Candidate], now: datetime
    ) -> tuple[int, int]:
        """Write the queue rows the candidates call for: (alerts, members) written.

        A candidate with matched terms starts the story ("new") for a subscription that
        does not have it, and is a "member" (or an "update", for a new revision) of one it
        has; a candidate without terms counts only for a story the subscription has.
        """
        if not candidates:
            return 0, 0
        have: set[tuple[int, str]] = set()
        for chunk in _chunks(sorted({c.story_key for c in candidates})):
            stmt = (
                select(AlertQueueRow.subscription_id, AlertQueueRow.story_key)
                .where(AlertQueueRow.story_key.in_(chunk))
                .distinct()
            )
            have.update((sub_id, key) for sub_id, key in session.execute(stmt))
        queued = members = 0
        # Key order: polls of different feeds carrying the same stories wait for each other
        # on PostgreSQL instead of deadlocking; within a story, matched items go first.
        for c in sorted(candidates, key=lambda c: (c.subscription_id, c.story_key, not c.terms)):
            known = (c.subscription_id, c.story_key) in have
            if not known and not c.terms:
                continue
            kind: AlertKind | None = None
            if not known:
                # The story's first alert, unless another poll (another process) queued it
                # meanwhile: then the partial unique index says no, and this is a member.
                kind = self._queue_row(session, c, AlertKind.NEW, now, new_story=True)
            if kind is None:
                later = AlertKind.UPDATE if c.revision > 1 else AlertKind.MEMBER
                kind = self._queue_row(session, c, later, now, new_story=False)
            if kind is None:
                continue  # this item revision is queued for the subscription already
            if kind is AlertKind.MEMBER:
                members += 1
            else:
                queued += 1
            have.add((c.subscription_id, c.story_key))
        return queued, members

    def _queue_row(
        self, session: Session, c: _Candidate, kind: AlertKind, now: datetime, *, new_story: bool
    ) -> AlertKind | None:
        """Insert one queue row; None when its unique key (the story's "new" row, or this
        item revision's row) is taken. Each conflict target is named, so a taken "new" row
        is told apart from a repeated item revision."""
        stmt = self._insert(AlertQueueRow).values(
            subscription_id=c.subscription_id,
            item_id=c.item_id,
            story_key=c.story_key,
            queued_at=now,
            kind=kind.value,
            revision=c.revision,
            terms=sorted(c.terms),
        )
        if new_story:
            stmt = stmt.on_conflict_do_nothing(
                index_elements=["subscription_id", "story_key"], index_where=NEW_ONLY
            )
        else:
            stmt = stmt.on_conflict_do_nothing(
                index_elements=["subscription_id", "item_id", "revision"]
            )
        inserted = session.execute(stmt.returning(AlertQueueRow.id)).scalar_one_or_none()
        return None if inserted is None else kind

    def _insert_matches(
        self,
        session: Session,
        item_id: int,
        matches: Sequence[Match],
        watchlist_ids: Mapping[str, int],
    ) -> None:
        if not matches:
            return
        session.execute(
            self._insert(MatchRow),
            [
                {
                    "item_id": item_id,
                    "watchlist_id": watchlist_ids[m.watchlist],
                    "term": m.term,
                    "field": m.field,
                    "start_offset": m.start,
                    "end_offset": m.end,
                    "snippet": m.snippet,
                    "kind": m.kind.value,
                    "matched": m.matched,
                    "score": m.score,
                    "highlight_start": None if m.highlight is None else m.highlight[0],
                    "highlight_end": None if m.highlight is None else m.highlight[1],
                }
                for m in matches
            ],
        )

    @staticmethod
    def _stored_terms(session: Session, item_id: int) -> frozenset[str]:
        stmt = (
            select(WatchlistRow.name, MatchRow.term)
            .join(WatchlistRow, WatchlistRow.id == MatchRow.watchlist_id)
            .where(MatchRow.item_id == item_id)
        )
        return frozenset(term_key(w, t) for w, t in session.execute(stmt))

    @staticmethod
    def _update_item(session: Session, change: ItemUpdate, now: datetime) -> tuple[int, str] | None:
        """Keep the item's current text as a revision and write the new one.

        Returns the new revision number and the item's story key; None when the item is gone.
        """
        row = session.get(ItemRow, change.item_id, with_for_update=True)
        if row is None:
            return None
        session.add(
            ItemRevisionRow(
                item_id=row.id,
                revision=row.revision,
                title=row.title,
                summary=row.summary,
                content=row.content,
                fetched_at=row.updated_at or row.fetched_at,
            )
        )
        item, identity = change.item, change.identity
        row.revision += 1
        row.title = item.title
        row.summary = item.summary
        row.summary_html = item.summary_html
        row.content = item.content or row.content  # a fetched article outlives feed edits
        row.published_at = item.published or row.published_at
        row.authors = list(item.authors)
        row.tags = list(item.tags)
        if item.facets.values:  # an edit can change what the item is about
            row.facets = facets_to_dict(item.facets)
        row.guid = item.guid
        row.link = item.link
        row.guid_key = identity.guid_key
        row.link_key = identity.link_key
        row.content_hash = identity.content_hash
        row.updated_at = now
        return row.revision, row.story_key

    @staticmethod
    def _watchlist_ids(session: Session, items: Iterable[NewItem | ItemUpdate]) -> dict[str, int]:
        names = {m.watchlist for new in items for m in new.matches}
        if not names:
            return {}
        stmt = select(WatchlistRow.name, WatchlistRow.id).where(WatchlistRow.name.in_(names))
        ids = {name: id_ for name, id_ in session.execute(stmt)}
        missing = names - ids.keys()
        if missing:
            raise StoreError(f"matches name unknown watchlists: {', '.join(sorted(missing))}")
        return ids

    def _insert_item(
        self, session: Session, feed_id: int, new: NewItem, now: datetime
    ) -> int | None:
        item = new.item
        stmt = (
            self._insert(ItemRow)
            .values(
                feed_id=feed_id,
                key=new.identity.key,
                story_key=new.identity.story_key,
                guid=item.guid,
                link=item.link,
                title=item.title,
                summary=item.summary,
                summary_html=item.summary_html,
                content=item.content,
                published_at=item.published,
                fetched_at=now,
                authors=list(item.authors),
                tags=list(item.tags),
                guid_key=new.identity.guid_key,
                link_key=new.identity.link_key,
                url_key=new.identity.url_key,
                content_hash=new.identity.content_hash,
                canonical_url=item.canonical_url,
                story_reason=new.story_reason,
                extract_error=new.extract_error,
                fingerprint=new.fingerprint,
                facets=facets_to_dict(item.facets) if item.facets.values else None,
                designation=designation_to_dict(item.designation) if item.designation else None,
            )
            .on_conflict_do_nothing(index_elements=["feed_id", "key"])
            .returning(ItemRow.id)
        )
        item_id: int | None = session.execute(stmt).scalar_one_or_none()
        return item_id

    def _save_snapshot(
        self, session: Session, feed_id: int, snapshot: ListSnapshot, now: datetime
    ) -> None:
        row = session.get(ListSnapshotRow, feed_id)
        if row is None:
            row = ListSnapshotRow(feed_id=feed_id)
            session.add(row)
        row.format = snapshot.format
        row.published_at = snapshot.published
        row.fetched_at = now
        row.record_count = snapshot.record_count
        row.data = snapshot.data

    def list_snapshot(self, feed: str) -> ListSnapshot | None:
        """The last list file stored for `feed` (None before its first successful poll)."""
        with self._transaction(f"read the list snapshot of {feed!r}") as session:
            row = session.execute(
                select(ListSnapshotRow)
                .join(FeedRow, FeedRow.id == ListSnapshotRow.feed_id)
                .where(FeedRow.name == feed)
            ).scalar_one_or_none()
            if row is None:
                return None
            return ListSnapshot(
                row.format, row.published_at, row.record_count, row.data, row.fetched_at
            )

    def list_snapshots(self) -> list[tuple[str, ListSnapshot, datetime]]:
        """(feed, snapshot without its data, fetched at) for every list source that has one."""
        stmt = (
            select(
                FeedRow.name,
                ListSnapshotRow.format,
                ListSnapshotRow.published_at,
                ListSnapshotRow.record_count,
                ListSnapshotRow.fetched_at,
            )
            .join(FeedRow, FeedRow.id == ListSnapshotRow.feed_id)
            .order_by(FeedRow.name)
        )
        with self._transaction("list the list snapshots", write=False) as session:
            return [
                (name, ListSnapshot(fmt, published, count, b""), fetched)
                for name, fmt, published, count, fetched in session.execute(stmt)
            ]

    def drop_list_snapshot(self, feed: str) -> bool:
        """Forget a list source's snapshot: its next file is a silent baseline. True if one
        was stored. The way out when a real mass delisting is refused as a bad download."""
        with self._transaction(f"drop the list snapshot of {feed!r}") as session:
            row = self._feed(session, feed)
            result = session.execute(
                delete(ListSnapshotRow).where(ListSnapshotRow.feed_id == row.id)
            )
            # Fetch the file again in full: a 304 would leave the baseline to the next
            # *changed* file, whose changes would then never be announced.
            row.etag = row.last_modified = None
            return bool(getattr(result, "rowcount", 0))

    def record_not_modified(self, feed: str, *, now: datetime, next_poll_at: datetime) -> None:
        """The server said 304: the feed is healthy and unchanged."""
        with self._transaction(f"record the poll of feed {feed!r}") as session:
            row = self._feed(session, feed)
            row.last_success_at = now
            row.error_count = 0
            row.next_poll_at = next_poll_at

    def record_feed_error(
        self, feed: str, *, now: datetime, error: str, next_poll_at: datetime
    ) -> None:
        """A poll failed: count it and schedule the retry. Stored items are untouched."""
        with self._transaction(f"record the error of feed {feed!r}") as session:
            row = self._feed(session, feed)
            row.error_count = FeedRow.error_count + 1  # in SQL: safe against a parallel update
            row.last_error = error
            row.last_error_at = now
            row.next_poll_at = next_poll_at

    # -- digests and deliveries ----------------------------------------------------
    def subscription_states(self) -> list[SubscriptionState]:
        """Enabled subscriptions by name, with their digest timing and pending count."""
        pending = (
            select(AlertQueueRow.subscription_id, func.count().label("n"))
            .where(AlertQueueRow.digest_id.is_(None))
            .group_by(AlertQueueRow.subscription_id)
            .subquery()
        )
        stmt = (
            select(SubscriptionRow, func.coalesce(pending.c.n, 0))
            .outerjoin(pending, pending.c.subscription_id == SubscriptionRow.id)
            .where(SubscriptionRow.enabled.is_(True), SubscriptionRow.status == "active")
            .order_by(SubscriptionRow.name)
        )
        with self._transaction("list subscriptions", write=False) as session:
            return [
                SubscriptionState(
                    subscription=_subscription(row),
                    next_digest_at=row.next_digest_at,
                    last_digest_at=row.last_digest_at,
                    pending=int(count),
                )
                for row, count in session.execute(stmt)
            ]

    def pending_entries(self, subscription: str) -> list[PendingEntry]:
        """Queued alerts not yet in a digest, newest first (published, else fetched).

        Each carries its story: every stored item of it (official sources first), whether
        an earlier digest of this subscription already told of the story, and the matched
        entries it was told of.
        """
        what = f"load pending alerts of subscription {subscription!r}"
        with self._transaction(what, write=False) as session:
            sub = self._subscription(session, subscription)
            stmt = (
                select(AlertQueueRow, ItemRow, FeedRow.name, FeedRow.title)
                .join(ItemRow, ItemRow.id == AlertQueueRow.item_id)
                .join(FeedRow, FeedRow.id == ItemRow.feed_id)
                .where(AlertQueueRow.subscription_id == sub.id, AlertQueueRow.digest_id.is_(None))
                .order_by(
                    func.coalesce(ItemRow.published_at, ItemRow.fetched_at).desc(),
                    AlertQueueRow.id.desc(),
                )
            )
            rows = list(session.execute(stmt))
            items = [item for _, item, _, _ in rows]
            matches = self._matches(session, [i.id for i in items], set(sub.watchlists))
            story_keys = {i.story_key for i in items}
            sources = self._story_sources(session, story_keys)
            sent: dict[str, tuple[bool, set[str]]] = {}
            for chunk in _chunks(sorted(story_keys)):
                stmt2 = select(
                    AlertQueueRow.story_key, AlertQueueRow.kind, AlertQueueRow.terms
                ).where(
                    AlertQueueRow.subscription_id == sub.id,
                    AlertQueueRow.story_key.in_(chunk),
                    AlertQueueRow.digest_id.is_not(None),
                )
                for key, kind, terms in session.execute(stmt2):
                    was_new, seen = sent.get(key, (False, set()))
                    seen.update(terms or ())
                    sent[key] = (was_new or kind == AlertKind.NEW.value, seen)
            entries = []
            for queue, item, feed_name, feed_title in rows:
                story = sources.get(item.story_key, ())
                story_sent, sent_terms = sent.get(item.story_key, (False, set()))
                entries.append(
                    PendingEntry(
                        queue_id=queue.id,
                        item_id=item.id,
                        feed=feed_name,
                        feed_title=feed_title,
                        title=item.title,
                        link=item.link,
                        summary=item.summary,
                        published=item.published_at,
                        fetched_at=item.fetched_at,
                        matches=tuple(matches.get(item.id, ())),
                        also_in=tuple(sorted({s.feed_title for s in story if s.feed != feed_name})),
                        story_key=item.story_key,
                        kind=AlertKind(queue.kind),
                        revision=queue.revision,
                        sources=story,
                        story_sent=story_sent,
                        sent_terms=frozenset(sent_terms),
                        facets=facets_from_dict(item.facets),
                    )
                )
            return entries

    @staticmethod
    def _story_sources(
        session: Session, story_keys: set[str]
    ) -> dict[str, tuple[StorySource, ...]]:
        """story key -> its items, official feeds first, then oldest first."""
        found: dict[str, list[tuple[tuple[bool, datetime, int], StorySource]]] = defaultdict(list)
        for chunk in _chunks(sorted(story_keys)):
            stmt = (
                select(ItemRow, FeedRow.name, FeedRow.title, FeedRow.official)
                .join(FeedRow, FeedRow.id == ItemRow.feed_id)
                .where(ItemRow.story_key.in_(chunk))
            )
            for item, name, title, official in session.execute(stmt):
                when = item.published_at or item.fetched_at
                found[item.story_key].append(
                    (
                        (not official, when, item.id),
                        StorySource(
                            item_id=item.id,
                            feed=name,
                            feed_title=title or name,
                            title=item.title,
                            link=item.link,
                            published=item.published_at,
                            official=bool(official),
                        ),
                    )
                )
        return {
            key: tuple(s for _, s in sorted(rows, key=lambda r: r[0]))
            for key, rows in found.items()
        }

    @classmethod
    def _matches(
        cls, session: Session, item_ids: Sequence[int], watchlists: set[str] | None = None
    ) -> dict[int, list[Match]]:
        found: dict[int, list[Match]] = defaultdict(list)
        for chunk in _chunks(item_ids):
            cls._load_matches(session, found, MatchRow.item_id.in_(chunk), watchlists)
        return found

    @staticmethod
    def _load_matches(
        session: Session,
        found: dict[int, list[Match]],
        where: ColumnElement[bool],
        watchlists: set[str] | None = None,
        *,
        only: set[int] | None = None,
    ) -> None:
        """Add the matches selected by `where` (of items in `only`) to `found`, in order."""
        stmt = (
            select(MatchRow, WatchlistRow.name)
            .join(WatchlistRow, WatchlistRow.id == MatchRow.watchlist_id)
            .where(where)
            .order_by(MatchRow.item_id, MatchRow.id)
        )
        if watchlists is not None:
            stmt = stmt.where(WatchlistRow.name.in_(sorted(watchlists)))
        for m, watchlist in session.execute(stmt):
            if only is not None and m.item_id not in only:
                continue
            highlight = None
            if m.highlight_start is not None and m.highlight_end is not None:
                highlight = (m.highlight_start, m.highlight_end)
            found[m.item_id].append(
                Match(
                    watchlist=watchlist,
                    term=m.term,
                    field=m.field,
                    start=m.start_offset,
                    end=m.end_offset,
                    snippet=m.snippet,
                    kind=MatchKind(m.kind),
                    matched=m.matched,
                    score=m.score,
                    highlight=highlight,
                )
            )

    def set_next_digest(self, subscription: str, next_digest_at: datetime | None) -> None:
        """Set when the subscription's next digest is due (None: not scheduled)."""
        what = f"schedule the next digest of subscription {subscription!r}"
        with self._transaction(what) as session:
            self._subscription(session, subscription).next_digest_at = next_digest_at

    def create_delivery(
        self,
        subscription: str,
        *,
        channel: str,
        idempotency_key: str,
        queue_ids: Sequence[int],
        payload: dict[str, Any],
        now: datetime,
        next_digest_at: datetime | None,
        expected_next_digest_at: datetime | object | None = _ANY,
    ) -> int:
        """Write a digest and its pending delivery, taking `queue_ids` out of the queue.

        Raises `StaleQueueError` (nothing written) when any queue row is not a pending row
        of this subscription any more, e.g. another digest took it: sending anyway would
        repeat a story the subscriber already has.
        """
        what = f"create a delivery for subscription {subscription!r}"
        with self._transaction(what) as session:
            sub = self._subscription(session, subscription, lock=True)
            if (
                expected_next_digest_at is not _ANY
                and sub.next_digest_at != expected_next_digest_at
            ):
                # Another planner (a replica, `alerts digest`) sent this slot meanwhile.
                raise StaleQueueError(f"could not {what}: its schedule moved while it was planned")
            wanted = sorted(set(queue_ids))
            digest = DigestRow(
                subscription_id=sub.id, created_at=now, payload=payload, entry_count=len(wanted)
            )
            session.add(digest)
            session.flush()
            taken: set[int] = set()
            for chunk in _chunks(wanted):
                stmt = (
                    update(AlertQueueRow)
                    .where(
                        AlertQueueRow.id.in_(chunk),
                        AlertQueueRow.subscription_id == sub.id,
                        AlertQueueRow.digest_id.is_(None),
                    )
                    .values(digest_id=digest.id)
                    .returning(AlertQueueRow.id)
                    .execution_options(synchronize_session=False)
                )
                taken.update(session.scalars(stmt))
            if len(taken) != len(wanted):
                stale = sorted(set(wanted) - taken)
                raise StaleQueueError(
                    f"could not {what}: queue rows {stale} are not pending for it any more"
                )
            delivery = DeliveryRow(
                digest_id=digest.id,
                kind="digest",
                subscription_id=sub.id,
                channel=channel,
                idempotency_key=idempotency_key,
                status=DeliveryStatus.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            session.add(delivery)
            sub.last_digest_at = now
            sub.next_digest_at = next_digest_at
            session.flush()
            return delivery.id

    def pending_deliveries(self, now: datetime) -> list[PendingDelivery]:
        """Messages to (re)try now, oldest first: due, and not held by a live worker's lease."""
        stmt = (
            select(DeliveryRow, DigestRow.payload, SubscriptionRow.name)
            .outerjoin(DigestRow, DigestRow.id == DeliveryRow.digest_id)
            .outerjoin(SubscriptionRow, SubscriptionRow.id == DeliveryRow.subscription_id)
            .where(
                DeliveryRow.status == DeliveryStatus.PENDING.value,
                DeliveryRow.next_attempt_at <= now,
                (DeliveryRow.claimed_until.is_(None)) | (DeliveryRow.claimed_until <= now),
            )
            .order_by(DeliveryRow.created_at, DeliveryRow.id)
        )
        with self._transaction("list pending deliveries", write=False) as session:
            return [
                pending_delivery(row, payload, sub_name)
                for row, payload, sub_name in session.execute(stmt)
            ]

    def mark_sent(self, delivery_id: int, *, now: datetime) -> None:
        """The channel accepted the digest."""
        with self._transaction(f"mark delivery {delivery_id} sent") as session:
            row = self._delivery(session, delivery_id)
            row.status = DeliveryStatus.SENT.value
            row.sent_at = now
            row.attempts = DeliveryRow.attempts + 1
            row.next_attempt_at = None

    def mark_failed(
        self, delivery_id: int, *, now: datetime, error: str, next_attempt_at: datetime | None
    ) -> None:
        """An attempt failed: retry at `next_attempt_at`, or give up (dead) when None.

        `now` is part of the contract but not stored: the schema keeps no attempt times.
        """
        with self._transaction(f"mark delivery {delivery_id} failed") as session:
            row = self._delivery(session, delivery_id)
            row.attempts = DeliveryRow.attempts + 1
            row.last_error = error
            row.next_attempt_at = next_attempt_at
            if next_attempt_at is None:
                row.status = DeliveryStatus.DEAD.value

    @staticmethod
    def _delivery(session: Session, delivery_id: int) -> DeliveryRow:
        row = session.get(DeliveryRow, delivery_id)
        if row is None:
            raise StoreError(f"unknown delivery {delivery_id}")
        return row

    # -- read helpers (CLI tables, tests) ------------------------------------------
    def deliveries(self, subscription: str | None = None) -> list[DeliveryRecord]:
        """Every delivery (of one subscription), newest first."""
        stmt = (
            select(DeliveryRow, SubscriptionRow.name, DigestRow.entry_count)
            .outerjoin(DigestRow, DigestRow.id == DeliveryRow.digest_id)
            .outerjoin(SubscriptionRow, SubscriptionRow.id == DeliveryRow.subscription_id)
            .order_by(DeliveryRow.created_at.desc(), DeliveryRow.id.desc())
        )
        if subscription is not None:
            stmt = stmt.where(SubscriptionRow.name == subscription)
        with self._transaction("list deliveries", write=False) as session:
            rows = list(session.execute(stmt))
            item_ids: dict[int, list[int]] = defaultdict(list)
            digest_ids = [row.digest_id for row, _, _ in rows if row.digest_id is not None]
            for chunk in _chunks(digest_ids):
                q = (
                    select(AlertQueueRow.digest_id, AlertQueueRow.item_id)
                    .where(AlertQueueRow.digest_id.in_(chunk))
                    .order_by(AlertQueueRow.item_id)
                )
                for digest_id, item_id in session.execute(q):
                    assert digest_id is not None
                    item_ids[digest_id].append(item_id)
            return [
                DeliveryRecord(
                    id=row.id,
                    subscription=sub_name or "",
                    channel=row.channel,
                    status=DeliveryStatus(row.status),
                    attempts=row.attempts,
                    idempotency_key=row.idempotency_key,
                    last_error=row.last_error,
                    created_at=row.created_at,
                    sent_at=row.sent_at,
                    next_attempt_at=row.next_attempt_at,
                    entry_count=entry_count or 0,
                    item_ids=tuple(item_ids.get(row.digest_id, ())) if row.digest_id else (),
                    kind=row.kind,
                    last_status=row.last_status,
                )
                for row, sub_name, entry_count in rows
            ]

    def items(self, feed: str | None = None, *, limit: int | None = None) -> list[StoredItem]:
        """Stored items (of one feed), newest first, with all their matches."""
        stmt = (
            select(ItemRow, FeedRow.name)
            .join(FeedRow, FeedRow.id == ItemRow.feed_id)
            .order_by(
                func.coalesce(ItemRow.published_at, ItemRow.fetched_at).desc(), ItemRow.id.desc()
            )
            .limit(limit)
        )
        if feed is not None:
            stmt = stmt.where(FeedRow.name == feed)
        with self._transaction("list items", write=False) as session:
            rows = list(session.execute(stmt))
            matches = self._matches(session, [item.id for item, _ in rows])
            return [_stored_item(item, feed_name, matches) for item, feed_name in rows]

    def items_since(
        self,
        since: datetime,
        *,
        until: datetime | None = None,
        limit: int | None = None,
        with_matches: bool = False,
    ) -> list[StoredItem]:
        """Items fetched in [since, until), newest fetch first: the input of a backtest.

        Two queries whatever the window: items, then (only `with_matches`) their stored
        matches; without `with_matches` every item's `matches` is empty.
        """
        window = [ItemRow.fetched_at >= since]
        if until is not None:
            window.append(ItemRow.fetched_at < until)
        stmt = (
            select(ItemRow, FeedRow.name)
            .join(FeedRow, FeedRow.id == ItemRow.feed_id)
            .where(*window)
            .order_by(ItemRow.fetched_at.desc(), ItemRow.id.desc())
            .limit(limit)
        )
        what = f"list items fetched since {since.isoformat()}"
        with self._transaction(what, write=False) as session:
            rows = list(session.execute(stmt))
            matches: dict[int, list[Match]] = defaultdict(list)
            if with_matches and rows:
                # The window cut at the oldest item returned: one query, never one per item
                # nor an IN list of every id. It may see a few more items (a concurrent
                # poll, equal fetch times past the limit); `only` drops them.
                window[0] = ItemRow.fetched_at >= rows[-1][0].fetched_at
                in_window = select(ItemRow.id).where(*window)
                only = {item.id for item, _ in rows}
                self._load_matches(session, matches, MatchRow.item_id.in_(in_window), only=only)
            return [_stored_item(item, feed_name, matches) for item, feed_name in rows]

    # -- stories, revisions, deletion -------------------------------------------------
    def story_points(self, *, since: datetime, after_id: int = 0) -> list[StoryPoint]:
        """Fingerprinted items fetched since `since` with an id above `after_id`, by id:
        what the story index is rebuilt (and kept in step with other processes) from."""
        stmt = (
            select(
                ItemRow.id,
                ItemRow.story_key,
                ItemRow.fingerprint,
                ItemRow.fetched_at,
                FeedRow.official,
            )
            .join(FeedRow, FeedRow.id == ItemRow.feed_id)
            .where(
                ItemRow.fetched_at >= since,
                ItemRow.id > after_id,
                ItemRow.fingerprint.is_not(None),
            )
            .order_by(ItemRow.id)
        )
        with self._transaction("load story fingerprints", write=False) as session:
            return [
                StoryPoint(item_id, story_key, fingerprint, fetched_at, bool(official))
                for item_id, story_key, fingerprint, fetched_at, official in session.execute(stmt)
                if isinstance(fingerprint, dict)
            ]

    def designation_points(self, *, since: datetime, after_id: int = 0) -> list[DesignationPoint]:
        """List changes fetched since `since` with an id above `after_id`, by id: what
        `ListingIndex` is rebuilt from. Only items of list sources are read (a JSON column
        holds SQL NULL and JSON null alike for "no designation", so it cannot filter)."""
        stmt = (
            select(
                ItemRow.id,
                ItemRow.story_key,
                ItemRow.fetched_at,
                ItemRow.designation,
                ItemRow.facets,
                FeedRow.issuer,
            )
            .join(FeedRow, FeedRow.id == ItemRow.feed_id)
            .where(FeedRow.kind == "list", ItemRow.fetched_at >= since, ItemRow.id > after_id)
            .order_by(ItemRow.id)
        )
        out = []
        with self._transaction("load list changes", write=False) as session:
            for item_id, story_key, fetched_at, data, facets, feed_issuer in session.execute(stmt):
                record = designation_from_dict(data)
                if record is None:
                    continue
                issuer = next(iter(facets_from_dict(facets).get("issuer")), feed_issuer or "")
                out.append(
                    DesignationPoint(
                        item_id, story_key, fetched_at, record.names, record.action, issuer
                    )
                )
        return out

    def fingerprint_names(self, item_ids: Collection[int]) -> dict[int, tuple[str, ...]]:
        """item id -> the names its fingerprint found in its text (none if unfingerprinted)."""
        found: dict[int, tuple[str, ...]] = {}
        with self._transaction("load the names of items", write=False) as session:
            for chunk in _chunks(sorted(set(item_ids))):
                stmt = select(ItemRow.id, ItemRow.fingerprint).where(ItemRow.id.in_(chunk))
                for item_id, record in session.execute(stmt):
                    names = record.get("names") if isinstance(record, dict) else None
                    if isinstance(names, list):
                        found[item_id] = tuple(str(n) for n in names)
        return found

    def stories_by_url(self, url_keys: Collection[str]) -> dict[str, str]:
        """url key -> story key of stored items with that page URL (in any feed)."""
        found: dict[str, str] = {}
        with self._transaction("look up stories by URL", write=False) as session:
            for chunk in _chunks(sorted(set(url_keys))):
                stmt = (
                    select(ItemRow.url_key, ItemRow.story_key)
                    .where(ItemRow.url_key.in_(chunk))
                    .order_by(ItemRow.id)
                )
                for url_key, story_key in session.execute(stmt):
                    if url_key is not None:
                        found.setdefault(url_key, story_key)
        return found

    def revisions(self, item_id: int) -> list[tuple[int, str, str, datetime]]:
        """Earlier texts of an item: (revision, title, summary, fetched_at), oldest first."""
        stmt = (
            select(
                ItemRevisionRow.revision,
                ItemRevisionRow.title,
                ItemRevisionRow.summary,
                ItemRevisionRow.fetched_at,
            )
            .where(ItemRevisionRow.item_id == item_id)
            .order_by(ItemRevisionRow.revision)
        )
        with self._transaction(f"list revisions of item {item_id}", write=False) as session:
            return [(r, t, s, f) for r, t, s, f in session.execute(stmt)]

    def delete_items(self, item_ids: Collection[int], *, now: datetime) -> int:
        """Delete items with their matches, revisions and queue rows, leaving tombstones
        for every key form, so a feed still carrying them never brings them back."""
        with self._transaction("delete items") as session:
            return self._delete_items(session, sorted(set(item_ids)), now)

    def prune(self, before: datetime, *, now: datetime) -> int:
        """Delete (with tombstones) items fetched before `before` that no pending alert
        still needs; the number deleted."""
        pending = select(AlertQueueRow.item_id).where(AlertQueueRow.digest_id.is_(None))
        stmt = select(ItemRow.id).where(ItemRow.fetched_at < before, ItemRow.id.not_in(pending))
        with self._transaction(f"prune items fetched before {before.isoformat()}") as session:
            return self._delete_items(session, list(session.scalars(stmt)), now)

    def _delete_items(self, session: Session, item_ids: Sequence[int], now: datetime) -> int:
        deleted = 0
        for chunk in _chunks(item_ids):
            rows = list(session.scalars(select(ItemRow).where(ItemRow.id.in_(chunk))))
            tombstones = {
                (row.feed_id, key)
                for row in rows
                for key in (row.key, row.guid_key, row.link_key)
                if key
            }
            if tombstones:
                session.execute(
                    self._insert(TombstoneRow).on_conflict_do_nothing(),
                    [{"feed_id": f, "key": k, "deleted_at": now} for f, k in sorted(tombstones)],
                )
            ids = [row.id for row in rows]
            session.execute(delete(MatchRow).where(MatchRow.item_id.in_(ids)))
            session.execute(delete(ItemRevisionRow).where(ItemRevisionRow.item_id.in_(ids)))
            session.execute(delete(AlertQueueRow).where(AlertQueueRow.item_id.in_(ids)))
            session.execute(delete(ItemRow).where(ItemRow.id.in_(ids)))
            deleted += len(ids)
        return deleted

    def queue(self, subscription: str | None = None) -> list[QueuedAlert]:
        """Every alert_queue row (of one subscription), in queue order."""
        stmt = (
            select(AlertQueueRow, SubscriptionRow.name)
            .join(SubscriptionRow, SubscriptionRow.id == AlertQueueRow.subscription_id)
            .order_by(AlertQueueRow.id)
        )
        if subscription is not None:
            stmt = stmt.where(SubscriptionRow.name == subscription)
        with self._transaction("list the alert queue", write=False) as session:
            return [
                QueuedAlert(
                    id=row.id,
                    subscription=sub_name,
                    item_id=row.item_id,
                    story_key=row.story_key,
                    queued_at=row.queued_at,
                    digest_id=row.digest_id,
                    kind=AlertKind(row.kind),
                    revision=row.revision,
                )
                for row, sub_name in session.execute(stmt)
            ]

    def counts(self) -> dict[str, int]:
        """Row count of every table, by table name."""
        with self._transaction("count rows", write=False) as session:
            return {
                table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
                for table in Base.metadata.sorted_tables
            }


def _stored_item(item: ItemRow, feed_name: str, matches: dict[int, list[Match]]) -> StoredItem:
    return StoredItem(
        id=item.id,
        feed=feed_name,
        key=item.key,
        story_key=item.story_key,
        guid=item.guid,
        link=item.link,
        title=item.title,
        summary=item.summary,
        content=item.content,
        published_at=item.published_at,
        fetched_at=item.fetched_at,
        authors=tuple(item.authors),
        tags=tuple(item.tags),
        matches=tuple(matches.get(item.id, ())),
        revision=item.revision,
        story_reason=item.story_reason,
        canonical_url=item.canonical_url,
        extract_error=item.extract_error,
    )


def _check_watchlist_name(name: str, what: str) -> None:
    """Names are checked here: SQLite does not enforce String(200), PostgreSQL's error is vague."""
    if not name.strip():
        raise StoreError(f"could not {what}: a watchlist name must not be empty")
    if len(name) > NAME_MAX_LENGTH:
        raise StoreError(
            f"could not {what}: the watchlist name is {len(name)} characters long, "
            f"the limit is {NAME_MAX_LENGTH}"
        )


def _config_values(watchlist: Watchlist) -> dict[str, Any]:
    """The watchlist columns that mirror the config, as stored."""
    return {
        "terms": list(watchlist.terms),
        "queries": list(watchlist.queries),
        "regexes": list(watchlist.regexes),
        "entities": [entity_to_dict(e) for e in watchlist.entities],
        "exclude": list(watchlist.exclude),
        "description": watchlist.description,
        "importance": watchlist.importance.value,
        "urgent": list(watchlist.urgent),
    }


def _new_watchlist_row(name: str, values: dict[str, Any], now: datetime) -> WatchlistRow:
    """A watchlist at revision 1: empty but for `values` (every column is set explicitly)."""
    empty = {**_config_values(Watchlist(name=name)), "imported": [], "imported_source": None}
    return WatchlistRow(name=name, **{**empty, **values}, updated_at=now, revision=1)


def _change_watchlist(row: WatchlistRow, values: dict[str, Any], now: datetime) -> None:
    """Set `values` on the row, with a new revision, when any of them differs."""
    changed = {key: value for key, value in values.items() if getattr(row, key) != value}
    if not changed:
        return
    for key, value in changed.items():
        setattr(row, key, value)  # new objects: the JSON columns see the change
    # In SQL: two syncs at once on PostgreSQL still give two revisions.
    row.revision = WatchlistRow.revision + 1
    row.updated_at = now


def _watchlist(row: WatchlistRow) -> Watchlist:
    """The stored watchlist as the matcher takes it: config entities, then imported ones.

    The config columns of a watchlist that left the config are history: they do not count.
    """
    try:
        configured = [entity_from_dict(data) for data in row.entities] if row.in_config else []
        entities = merge_entities(configured, [entity_from_dict(d) for d in row.imported])
    except (ValueError, TypeError, AttributeError) as exc:
        raise StoreError(f"watchlist {row.name!r} holds an unreadable entity: {exc}") from exc
    if not row.in_config:
        return Watchlist(name=row.name, entities=entities)
    return Watchlist(
        name=row.name,
        terms=tuple(row.terms),
        queries=tuple(row.queries),
        regexes=tuple(row.regexes),
        entities=entities,
        exclude=tuple(row.exclude),
        description=row.description,
        importance=Importance(row.importance),
        urgent=tuple(row.urgent),
    )


def _name_key(name: str) -> str:
    """How entity names are compared: ignoring case and spacing."""
    return " ".join(name.split()).casefold()


@dataclass(frozen=True, slots=True)
class _Merge:
    entities: list[dict[str, Any]]
    added: int
    updated: int
    unchanged: int
    removed: int


def _merge_entities(
    current: list[dict[str, Any]], incoming: list[dict[str, Any]], *, replace: bool
) -> _Merge:
    """Merge imported entity dicts: by id when the incoming one has one, else by name.

    An incoming entity with an id that is not stored yet may still take the place of a
    stored entity of the same name that has no id (a list re-imported with ids).
    """
    merged = list(current)
    by_id: dict[str, int] = {}
    by_name: dict[str, int] = {}  # first entity of each name
    by_name_without_id: dict[str, int] = {}

    def remember(index: int, data: dict[str, Any]) -> None:
        name = _name_key(data["name"])
        if ident := data.get("id"):
            by_id.setdefault(ident, index)
            if by_name_without_id.get(name) == index:
                del by_name_without_id[name]
        else:
            by_name_without_id.setdefault(name, index)
        by_name.setdefault(name, index)

    for index, data in enumerate(merged):
        remember(index, data)
    targets: dict[int, dict[str, Any]] = {}  # index in `merged` -> its new value
    for data in incoming:
        name = _name_key(data["name"])
        if ident := data.get("id"):
            found = by_id.get(ident, by_name_without_id.get(name))
        else:
            found = by_name_without_id.get(name, by_name.get(name))
        if found is None:
            found = len(merged)
            merged.append(data)
        elif not ident and (kept := merged[found].get("id")):
            data = {**data, "id": kept}
        targets[found] = data
        remember(found, data)

    old = len(current)
    updated = sum(1 for i, data in targets.items() if i < old and data != current[i])
    unchanged = sum(1 for i, data in targets.items() if i < old and data == current[i])
    for index, data in targets.items():
        merged[index] = data
    removed = 0
    if replace:
        removed = sum(1 for i in range(old) if i not in targets)
        merged = [data for i, data in enumerate(merged) if i in targets]
    return _Merge(
        entities=merged,
        added=len(targets) - updated - unchanged,
        updated=updated,
        unchanged=unchanged,
        removed=removed,
    )


def pending_delivery(
    row: DeliveryRow, payload: dict[str, Any] | None, sub_name: str | None
) -> PendingDelivery:
    return PendingDelivery(
        id=row.id,
        subscription=sub_name or "",
        channel=row.channel,
        payload=payload if payload is not None else (row.message or {}),
        attempts=row.attempts,
        created_at=row.created_at,
        last_error=row.last_error,
        kind=row.kind,
        idempotency_key=row.idempotency_key,
        queued_at=row.requeued_at or row.created_at,
        claim=row.claim or "",
    )


def _subscription_values(sub: Subscription) -> dict[str, Any]:
    """The subscription columns that mirror a `Subscription`."""
    return {
        "channel": sub.channel,
        "email": sub.email.lower() or None,
        "watchlists": list(sub.watchlists),
        "schedule": sub.schedule,
        "timezone": sub.timezone,
        "quiet_hours": sub.quiet_hours,
        "immediate_importance": (
            sub.immediate_importance.value if sub.immediate_importance else None
        ),
        "send_empty": sub.send_empty,
        "max_stories": sub.max_stories,
        "filter": sub.filter,
    }


def _subscription(row: SubscriptionRow) -> Subscription:
    return Subscription(
        name=row.name,
        watchlists=tuple(row.watchlists),
        channel=row.channel,
        schedule=row.schedule,
        email=row.email or "",
        timezone=row.timezone,
        quiet_hours=row.quiet_hours,
        immediate_importance=(
            Importance(row.immediate_importance) if row.immediate_importance else None
        ),
        send_empty=row.send_empty,
        max_stories=row.max_stories,
        origin=SubscriptionOrigin(row.origin),
        filter=row.filter,
    )


def _describe(exc: SQLAlchemyError) -> str:
    """The driver's message without SQLAlchemy's SQL dump and help link."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        message = str(exc.orig).strip() or type(exc.orig).__name__
        return f"{type(exc.orig).__name__}: {message}"
    return str(exc).split("\n", 1)[0]
