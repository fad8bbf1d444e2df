"""The ORM mapping of the schema. Alembic migrations create it; these classes only describe it.

Invariants the database enforces itself (so that no code path or restart can break them):
- a feed never stores the same entry twice: UNIQUE(items.feed_id, items.key);
- a subscription is told of a story as new at most once, across feeds and restarts:
  a partial UNIQUE(alert_queue.subscription_id, alert_queue.story_key) WHERE kind = 'new';
  later items of the story and revisions come as updates, each item revision at most
  once: UNIQUE(alert_queue.subscription_id, item_id, revision);
- a deleted item's keys stay in `tombstones`, so the item never comes back;
- a delivery is written once per idempotency key, and once per digest;
- a channel recipient who unsubscribed is recorded once: UNIQUE(optouts.subscription_id,
  optouts.address);
- a subscriber has one subscription per name, and its status is one of
  active / pending (double opt-in not confirmed yet) / unsubscribed.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Deterministic constraint names: the migrations spell them out, and SQLite batch
# migrations can only alter constraints that have a name.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

DELIVERY_STATUSES = ("pending", "sent", "dead")
SUBSCRIPTION_STATUSES = ("active", "pending", "unsubscribed")
# What a delivery row sends: a digest, a double opt-in confirmation, a channel test, or a
# notice to the operators' channel.
DELIVERY_KINDS = ("digest", "confirm", "test", "ops")
# The WHERE clause of the partial unique index on a story's "new" alert row.
NEW_ONLY = text("kind = 'new'")


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware datetime stored as UTC; always read back as aware UTC.

    PostgreSQL keeps `timestamptz`; SQLite has no time zones, so the value is stored as naive
    UTC text, which still sorts and compares correctly. Naive datetimes are refused: guessing
    their zone is how alerts end up hours early or late.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} refused: use an aware UTC time")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base carrying the shared metadata and naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class FeedRow(Base):
    """A configured feed and its polling state."""

    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str] = mapped_column(Text)  # current URL (a permanent redirect replaces it)
    config_url: Mapped[str] = mapped_column(Text)  # as configured: detects config changes
    title: Mapped[str] = mapped_column(Text)
    interval_seconds: Mapped[int] = mapped_column(Integer)
    enabled: Mapped[bool] = mapped_column(Boolean)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    error_count: Mapped[int] = mapped_column(Integer)
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fetch_article: Mapped[bool] = mapped_column(Boolean, server_default="0")
    official: Mapped[bool] = mapped_column(Boolean, server_default="0")
    # What this feed's history taught (alerts.dedup.identity.FeedHabits), and its oddities
    # for operators: [{"at": iso time, "problem": text}], newest last, bounded.
    guids_unreliable: Mapped[bool] = mapped_column(Boolean, server_default="0")
    links_unreliable: Mapped[bool] = mapped_column(Boolean, server_default="0")
    anomalies: Mapped[list[dict[str, str]]] = mapped_column(JSON, server_default="[]")
    # Keys of paragraphs found to be page furniture in this feed (alerts.sources.boilerplate).
    boilerplate: Mapped[list[str]] = mapped_column(JSON, server_default="[]")
    # How the body is read (alerts.domain.SourceKind) and who publishes it (issue 6).
    kind: Mapped[str] = mapped_column(String(10), server_default="feed")
    issuer: Mapped[str] = mapped_column(String(8), server_default="")

    # due_feeds(): enabled feeds by next poll time.
    __table_args__ = (Index(None, "enabled", "next_poll_at"),)


class ItemRow(Base):
    """One stored feed entry."""

    __tablename__ = "items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id"))
    key: Mapped[str] = mapped_column(Text)
    story_key: Mapped[str] = mapped_column(Text, index=True)  # also_in look-ups
    guid: Mapped[str | None] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    summary_html: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    authors: Mapped[list[str]] = mapped_column(JSON)
    tags: Mapped[list[str]] = mapped_column(JSON)
    # Full article text when extracted (plain text); "" for items stored before 0002.
    content: Mapped[str] = mapped_column(Text, server_default="")
    # Every identity form (alerts.domain.Identity), so a feed changing habits is followed.
    guid_key: Mapped[str | None] = mapped_column(Text)
    link_key: Mapped[str | None] = mapped_column(Text)
    url_key: Mapped[str | None] = mapped_column(Text, index=True)  # same page, any feed
    content_hash: Mapped[str] = mapped_column(String(64), server_default="")
    revision: Mapped[int] = mapped_column(Integer, server_default="1")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The page's own canonical URL when the article was fetched; why it joined its story;
    # why the article text could not be extracted.
    canonical_url: Mapped[str | None] = mapped_column(Text)
    story_reason: Mapped[str] = mapped_column(Text, server_default="")
    extract_error: Mapped[str | None] = mapped_column(Text)
    # alerts.dedup.fingerprint record: rebuilds the story index after a restart.
    fingerprint: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # alerts.domain.facets_to_dict (what the item is about) and, for items made from a
    # sanctions list change, alerts.domain.designation_to_dict.
    facets: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    designation: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (
        # The unique index also serves known_keys() and per-feed listings (feed_id first).
        UniqueConstraint("feed_id", "key"),
        # items_since(): backtests read a window of fetch times.
        Index(None, "fetched_at"),
        # identity_lookup(): an item is found again by any of its key forms.
        Index(None, "feed_id", "guid_key"),
        Index(None, "feed_id", "link_key"),
        Index(None, "feed_id", "content_hash"),
    )


class ListSnapshotRow(Base):
    """The last list file read from a `kind = "list"` source, to diff the next one against.

    Written in the poll's transaction with the change items it produced, so a crash
    leaves either both or neither: the next poll diffs against the same snapshot again.
    """

    __tablename__ = "list_snapshots"

    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id"), primary_key=True)
    format: Mapped[str] = mapped_column(String(40))  # a new format starts a new baseline
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    record_count: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)  # alerts.sources.lists.snapshots


class ItemRevisionRow(Base):
    """An earlier text of an item, kept when the publisher edited it."""

    __tablename__ = "item_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    revision: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    content: Mapped[str] = mapped_column(Text)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("item_id", "revision"),)


class TombstoneRow(Base):
    """A deleted item's key: polls skip it for good."""

    __tablename__ = "tombstones"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feeds.id"))
    key: Mapped[str] = mapped_column(Text)
    deleted_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("feed_id", "key"),)


class WatchlistRow(Base):
    """A watchlist: its entries from the config, and entities imported into it.

    The config columns (terms ... description) hold what the config last said; they count
    only while `in_config`. `imported` belongs to `alerts watchlists import` and a config
    sync never touches it. `revision` goes up by one on every change, so the row count and
    the sum of revisions identify the state of all watchlists cheaply.
    """

    __tablename__ = "watchlists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    terms: Mapped[list[str]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean)
    queries: Mapped[list[str]] = mapped_column(JSON, server_default="[]")
    regexes: Mapped[list[str]] = mapped_column(JSON, server_default="[]")
    # Config entities, each as `entity_to_dict` gives it.
    entities: Mapped[list[dict[str, Any]]] = mapped_column(JSON, server_default="[]")
    exclude: Mapped[list[str]] = mapped_column(JSON, server_default="[]")
    description: Mapped[str] = mapped_column(Text, server_default="")
    importance: Mapped[str] = mapped_column(String(10), server_default="normal")
    urgent: Mapped[list[str]] = mapped_column(JSON, server_default="[]")
    # Imported entities (`entity_to_dict`), and where the last import came from.
    imported: Mapped[list[dict[str, Any]]] = mapped_column(JSON, server_default="[]")
    imported_source: Mapped[str | None] = mapped_column(Text)
    # "config" (feeds.toml) or "api" (made through the API): a config sync leaves the
    # second alone instead of disabling what is not in the file.
    origin: Mapped[str] = mapped_column(String(10), server_default="config")
    in_config: Mapped[bool] = mapped_column(Boolean, server_default="1")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revision: Mapped[int] = mapped_column(Integer, server_default="1")


class MatchRow(Base):
    """Why an item matched a watchlist."""

    __tablename__ = "matches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    watchlist_id: Mapped[int] = mapped_column(ForeignKey("watchlists.id"), index=True)
    term: Mapped[str] = mapped_column(Text)
    field: Mapped[str] = mapped_column(String(20))
    # "start"/"end" are SQL keywords; *_offset keeps hand-written SQL painless.
    start_offset: Mapped[int] = mapped_column(Integer)
    end_offset: Mapped[int] = mapped_column(Integer)
    snippet: Mapped[str] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20), server_default="term")  # MatchKind
    matched: Mapped[str] = mapped_column(Text, server_default="")
    score: Mapped[float] = mapped_column(Float, server_default="1.0")
    # The hit within `snippet`; NULL for matches stored before 0002 (or without one).
    highlight_start: Mapped[int | None] = mapped_column(Integer)
    highlight_end: Mapped[int | None] = mapped_column(Integer)


class ChannelRow(Base):
    """A destination's name and kind. Secrets are never stored."""

    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(20))


class SubscriptionRow(Base):
    """Watchlists -> a channel or one subscriber's address, on a schedule, with its timing.

    `enabled` follows the config (a subscription removed from it is disabled, its history
    kept); `status` follows the subscriber (double opt-in, unsubscribe) and a config sync
    never changes it, so an unsubscribed address stays unsubscribed.
    """

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # The channel by name, not FK: channels come and go with the config, history stays.
    # "" for a subscriber's own subscription (`email`).
    channel: Mapped[str] = mapped_column(String(200))
    watchlists: Mapped[list[str]] = mapped_column(JSON)
    schedule: Mapped[str] = mapped_column(String(200))
    enabled: Mapped[bool] = mapped_column(Boolean)
    next_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    timezone: Mapped[str] = mapped_column(String(64), server_default="")
    quiet_hours: Mapped[str] = mapped_column(String(20), server_default="")
    immediate_importance: Mapped[str | None] = mapped_column(String(10))
    send_empty: Mapped[bool] = mapped_column(Boolean, server_default="0")
    max_stories: Mapped[int] = mapped_column(Integer, server_default="50")
    origin: Mapped[str] = mapped_column(String(10), server_default="config")
    # A facet-only query items must satisfy to be queued (alerts.matching.filters).
    filter: Mapped[str] = mapped_column(Text, server_default="")
    status: Mapped[str] = mapped_column(String(15), server_default="active")
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # `status` has no CHECK: SQLite can only add one by copying the table, and this table
    # is referenced by the queue and the digests. The repository writes the three values.


class OptOutRow(Base):
    """A recipient of a channel's email who unsubscribed from one subscription."""

    __tablename__ = "optouts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    address: Mapped[str] = mapped_column(String(320))  # lower case
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("subscription_id", "address"),)


class ServiceKeyRow(Base):
    """Secrets the service generates for itself when none is configured (the link key).

    Kept in the database so every replica signs and checks links with the same key.
    """

    __tablename__ = "service_keys"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DigestRow(Base):
    """What one delivery sends, frozen as JSON so a retry sends exactly the same."""

    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    entry_count: Mapped[int] = mapped_column(Integer)


class AlertQueueRow(Base):
    """A story waiting for (or already taken into) a subscription's digest."""

    __tablename__ = "alert_queue"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    story_key: Mapped[str] = mapped_column(Text)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("digests.id"), index=True)
    # "new": the story's first alert; "member": another source of a story already queued;
    # "update": an edited item whose matches changed.
    kind: Mapped[str] = mapped_column(String(10), server_default="new")
    revision: Mapped[int] = mapped_column(Integer, server_default="1")
    # "watchlist\x1fterm" of the matches that queued it: tells what an update adds.
    terms: Mapped[list[str]] = mapped_column(JSON, server_default="[]")

    __table_args__ = (
        # The guarantees: a story reaches a subscription as new at most once, and each
        # revision of an item at most once.
        Index(
            "uq_alert_queue_new_story",
            "subscription_id",
            "story_key",
            unique=True,
            sqlite_where=NEW_ONLY,
            postgresql_where=NEW_ONLY,
        ),
        UniqueConstraint("subscription_id", "item_id", "revision"),
        Index(None, "subscription_id", "story_key"),
        # Pending entries / counts: subscription_id = ? AND digest_id IS NULL.
        Index(None, "subscription_id", "digest_id"),
    )


class DeliveryRow(Base):
    """One message in the outbox: written before it is sent, then attempt-tracked.

    A digest delivery points at its digest; other kinds (a double opt-in confirmation, a
    channel test, an operators' notice) carry their message in `message`. A worker takes a
    row by setting `claimed_until` (a lease): another worker leaves it alone until the lease
    ends, so a worker killed mid-send has its row sent again, with the same idempotency key.
    """

    __tablename__ = "deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("digests.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(200))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(10))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    kind: Mapped[str] = mapped_column(String(10), server_default="digest")
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id"))
    message: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Which claim holds the lease (random per claim): a worker renews its own lease just
    # before each send, and skips the row if another worker has taken it since.
    claim: Mapped[str | None] = mapped_column(String(32))
    last_status: Mapped[int | None] = mapped_column(Integer)
    dead_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When an operator last put this dead letter back in the queue: its age (for
    # ALERTS_DELIVERY_MAX_AGE) counts from here, as its attempts start again from zero.
    requeued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sent', 'dead')", name="status"),
        CheckConstraint("kind IN ('digest', 'confirm', 'test', 'ops')", name="kind"),
        # pending_deliveries(): status = 'pending' AND next_attempt_at <= now.
        Index(None, "status", "next_attempt_at"),
    )


class DeliveryAttemptRow(Base):
    """One attempt at sending a delivery: when, how long, and what the receiver answered."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    latency_ms: Mapped[int] = mapped_column(Integer)
    # sent | retry (transient failure) | failed (permanent) | dead (gave up)
    outcome: Mapped[str] = mapped_column(String(10))
    status: Mapped[int | None] = mapped_column(Integer)  # HTTP status / SMTP reply code
    response: Mapped[str] = mapped_column(Text, server_default="")  # an excerpt
    error: Mapped[str | None] = mapped_column(Text)


class ChannelHealthRow(Base):
    """How a destination has been doing: failure streaks, and whether it is paused.

    A channel whose deliveries keep failing is flagged, and after a threshold paused (its
    deliveries wait, nothing is lost) until an operator resumes it.
    """

    __tablename__ = "channel_health"

    channel: Mapped[str] = mapped_column(String(200), primary_key=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, server_default="0")
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_failure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_reason: Mapped[str | None] = mapped_column(Text)


class UserRow(Base):
    """An operator who logs in to the console (alerts.store.accounts).

    `username` is stored in lower case, so the unique constraint makes names unique whatever
    their case. Failed logins count up to a lockout (`locked_until`); a good login resets them.
    """

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(Text)  # argon2id PHC string
    role: Mapped[str] = mapped_column(String(10))  # alerts.accounts.roles.Role
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_logins: Mapped[int] = mapped_column(Integer, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Console sessions carry the epoch they were made in; bumping it (logout, disable, a
    # role change) ends every session of the user, wherever its cookie was copied to.
    session_epoch: Mapped[int] = mapped_column(Integer, server_default="0")

    __table_args__ = (CheckConstraint("role IN ('viewer', 'editor', 'admin')", name="role"),)


class ApiTokenRow(Base):
    """An API token of a user: only its SHA-256 digest is kept (alerts.accounts.tokens)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)  # public: finds the row
    token_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[list[str]] = mapped_column(JSON)  # alerts.accounts.roles.Action values
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AuditRow(Base):
    """One change: who did what to which object, with the object before and after (JSON).

    `before` is NULL for a creation, `after` for a deletion. Secrets never go in either.
    """

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(200))  # a username, "cli:<login>" or "system"
    action: Mapped[str] = mapped_column(String(50))
    object_type: Mapped[str] = mapped_column(String(50))
    object_name: Mapped[str] = mapped_column(String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    # audit(): newest first, all or of one object type.
    __table_args__ = (Index(None, "at"), Index(None, "object_type", "at"))
