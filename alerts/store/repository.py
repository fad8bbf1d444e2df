"""The store's contract: every method takes and returns domain objects (STUB, to be implemented).

Each public method is one transaction: it commits everything or nothing, and raises
`StoreError` (with the cause chained) when the database fails.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from alerts.domain import (
    ChannelConfig,
    Feed,
    FeedState,
    NewItem,
    PendingDelivery,
    PendingEntry,
    Subscription,
    Watchlist,
)


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What `record_poll` wrote."""

    new_items: int
    queued: int  # alerts queued for subscriptions (after cross-feed dedup)


@dataclass(frozen=True, slots=True)
class SubscriptionState:
    """A subscription with its scheduling state."""

    subscription: Subscription
    next_digest_at: datetime | None
    last_digest_at: datetime | None
    pending: int  # queued alerts not yet in a digest


class Store:
    """Repository over the SQLAlchemy engine."""

    def __init__(self, engine: Any) -> None:
        raise NotImplementedError

    # -- configuration -------------------------------------------------------------
    def sync_config(
        self,
        feeds: Sequence[Feed],
        watchlists: Sequence[Watchlist],
        channels: Sequence[ChannelConfig],
        subscriptions: Sequence[Subscription],
        now: datetime,
    ) -> None:
        raise NotImplementedError

    # -- feeds ---------------------------------------------------------------------
    def feed_states(self) -> list[FeedState]:
        raise NotImplementedError

    def due_feeds(self, now: datetime) -> list[FeedState]:
        raise NotImplementedError

    def known_keys(self, feed: str, keys: Sequence[str]) -> set[str]:
        raise NotImplementedError

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
    ) -> PollOutcome:
        raise NotImplementedError

    def record_not_modified(self, feed: str, *, now: datetime, next_poll_at: datetime) -> None:
        raise NotImplementedError

    def record_feed_error(
        self, feed: str, *, now: datetime, error: str, next_poll_at: datetime
    ) -> None:
        raise NotImplementedError

    # -- digests and deliveries ----------------------------------------------------
    def subscription_states(self) -> list[SubscriptionState]:
        raise NotImplementedError

    def pending_entries(self, subscription: str) -> list[PendingEntry]:
        raise NotImplementedError

    def set_next_digest(self, subscription: str, next_digest_at: datetime | None) -> None:
        raise NotImplementedError

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
    ) -> int:
        raise NotImplementedError

    def pending_deliveries(self, now: datetime) -> list[PendingDelivery]:
        raise NotImplementedError

    def mark_sent(self, delivery_id: int, *, now: datetime) -> None:
        raise NotImplementedError

    def mark_failed(
        self, delivery_id: int, *, now: datetime, error: str, next_attempt_at: datetime | None
    ) -> None:
        raise NotImplementedError
