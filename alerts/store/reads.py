"""Paged reads for the JSON API: items with their facets, designation and matches;
deliveries with their attempts; each feed's kind and issuer.

A companion of `Store` with its contract (one transaction per method, plain dataclasses
out, `StoreError` when the database fails). Pages are keyset pages over ids, newest (highest
id) first: `before_id` is the last id of the previous page, so a page costs the same however
deep it is, and rows written meanwhile never shift a page already read.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from alerts.domain import (
    DeliveryStatus,
    DesignationRecord,
    ItemFacets,
    designation_from_dict,
    facets_from_dict,
)
from alerts.store.models import (
    DeliveryAttemptRow,
    DeliveryRow,
    DigestRow,
    FeedRow,
    ItemRow,
    SubscriptionRow,
)
from alerts.store.outbox import Attempt
from alerts.store.repository import Store, StoredItem, _stored_item


@dataclass(frozen=True, slots=True)
class ItemRecord:
    """A stored item with what it is about (facets) and, for list changes, its designation."""

    item: StoredItem
    facets: ItemFacets
    designation: DesignationRecord | None


@dataclass(frozen=True, slots=True)
class DeliveryView:
    """A delivery row with its recorded attempts, oldest first."""

    id: int
    kind: str
    subscription: str | None
    channel: str
    status: DeliveryStatus
    attempts: int
    last_status: int | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None
    entry_count: int
    attempt_log: tuple[Attempt, ...]


@dataclass(frozen=True, slots=True)
class SourceKind:
    """How a feed is read (`feed`, `html`, `json`, `list`) and who issues it."""

    kind: str
    issuer: str


class Reads:
    """Read-only pages over a `Store`. Thread-safe like it."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def items_page(
        self,
        *,
        limit: int,
        feed: str | None = None,
        since: datetime | None = None,
        before_id: int | None = None,
    ) -> list[ItemRecord]:
        """Up to `limit` items, highest id first, with their matches (fetched since `since`,
        of one feed, with ids below `before_id`)."""
        stmt = (
            select(ItemRow, FeedRow.name)
            .join(FeedRow, FeedRow.id == ItemRow.feed_id)
            .order_by(ItemRow.id.desc())
            .limit(limit)
        )
        if feed is not None:
            stmt = stmt.where(FeedRow.name == feed)
        if since is not None:
            stmt = stmt.where(ItemRow.fetched_at >= since)
        if before_id is not None:
            stmt = stmt.where(ItemRow.id < before_id)
        with self.store.transaction("list a page of items", write=False) as session:
            rows = list(session.execute(stmt))
            # The store's own loader: the API explains matches exactly as digests do.
            matches = self.store._matches(session, [item.id for item, _ in rows])
            return [
                ItemRecord(
                    item=_stored_item(item, feed_name, matches),
                    facets=facets_from_dict(item.facets),
                    designation=designation_from_dict(item.designation),
                )
                for item, feed_name in rows
            ]

    def deliveries_page(
        self,
        *,
        limit: int,
        status: DeliveryStatus | None = None,
        subscription: str | None = None,
        before_id: int | None = None,
    ) -> list[DeliveryView]:
        """Up to `limit` deliveries of any kind, highest id first, each with its attempts."""
        stmt = (
            select(DeliveryRow, SubscriptionRow.name, DigestRow.entry_count)
            .outerjoin(DigestRow, DigestRow.id == DeliveryRow.digest_id)
            .outerjoin(SubscriptionRow, SubscriptionRow.id == DeliveryRow.subscription_id)
            .order_by(DeliveryRow.id.desc())
            .limit(limit)
        )
        if status is not None:
            stmt = stmt.where(DeliveryRow.status == status.value)
        if subscription is not None:
            stmt = stmt.where(SubscriptionRow.name == subscription)
        if before_id is not None:
            stmt = stmt.where(DeliveryRow.id < before_id)
        with self.store.transaction("list a page of deliveries", write=False) as session:
            rows = list(session.execute(stmt))
            attempts: dict[int, list[Attempt]] = defaultdict(list)
            if rows:
                ids = [row.id for row, _, _ in rows]  # at most one page: a short IN list
                q = (
                    select(DeliveryAttemptRow)
                    .where(DeliveryAttemptRow.delivery_id.in_(ids))
                    .order_by(DeliveryAttemptRow.delivery_id, DeliveryAttemptRow.attempt)
                )
                for a in session.scalars(q):
                    attempts[a.delivery_id].append(
                        Attempt(
                            a.attempt,
                            a.started_at,
                            a.latency_ms,
                            a.outcome,
                            a.status,
                            a.response,
                            a.error,
                        )
                    )
            return [
                DeliveryView(
                    id=row.id,
                    kind=row.kind,
                    subscription=sub_name,
                    channel=row.channel,
                    status=DeliveryStatus(row.status),
                    attempts=row.attempts,
                    last_status=row.last_status,
                    last_error=row.last_error,
                    created_at=row.created_at,
                    sent_at=row.sent_at,
                    next_attempt_at=row.next_attempt_at,
                    entry_count=entry_count or 0,
                    attempt_log=tuple(attempts.get(row.id, ())),
                )
                for row, sub_name, entry_count in rows
            ]

    def source_kinds(self) -> dict[str, SourceKind]:
        """Each feed's kind and issuer, by feed name (what `Store.feed_states` leaves out)."""
        stmt = select(FeedRow.name, FeedRow.kind, FeedRow.issuer)
        with self.store.transaction("list feed kinds", write=False) as session:
            return {
                name: SourceKind(kind=kind, issuer=issuer or "")
                for name, kind, issuer in session.execute(stmt)
            }
