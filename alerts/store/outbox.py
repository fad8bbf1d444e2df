"""The outbox: messages are rows first, then a worker claims, sends and records each attempt.

Every message (a digest, a double opt-in confirmation, a channel test, an operators' notice)
is written as a `deliveries` row in the same transaction as whatever caused it. A worker
claims due rows with a lease (`claimed_until`): on PostgreSQL with `FOR UPDATE SKIP LOCKED`,
so replicas never take the same row; on SQLite a write transaction serialises the claim.
A worker killed mid-send leaves its lease to expire, and the row is sent again with the
same idempotency key; a row recorded as sent is never claimed again.

Each attempt is a `delivery_attempts` row (when, how long, status, the receiver's answer),
and each channel's failure streak is kept in `channel_health`, which pauses a channel that
keeps failing (its rows wait, nothing is dropped) until an operator resumes it.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from alerts.domain import DeliveryStatus, PendingDelivery
from alerts.errors import StoreError
from alerts.logs import get_logger
from alerts.store.models import (
    ChannelHealthRow,
    DeliveryAttemptRow,
    DeliveryRow,
    DigestRow,
    SubscriptionRow,
)
from alerts.store.repository import Store, pending_delivery

log = get_logger("outbox")
Outcome = Literal["sent", "retry", "failed", "dead"]
MessageKind = Literal["confirm", "test", "ops"]
# A channel is shown as failing after this many failed attempts in a row.
FLAG_AFTER = 3


@dataclass(frozen=True, slots=True)
class Attempt:
    """One recorded attempt, as `alerts deliveries show` lists it."""

    attempt: int
    started_at: datetime
    latency_ms: int
    outcome: str
    status: int | None
    response: str
    error: str | None


@dataclass(frozen=True, slots=True)
class ChannelHealth:
    """A channel's record: failure streak, last success, and whether it is paused."""

    channel: str
    consecutive_failures: int = 0
    failing_since: datetime | None = None
    last_success_at: datetime | None = None
    last_failure_at: datetime | None = None
    last_error: str | None = None
    paused_at: datetime | None = None
    paused_reason: str | None = None

    @property
    def failing(self) -> bool:
        return self.consecutive_failures >= FLAG_AFTER

    @property
    def paused(self) -> bool:
        return self.paused_at is not None


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What recording an attempt changed: the channel's health, and whether it just paused."""

    health: ChannelHealth
    paused_now: bool


class Outbox:
    """The delivery side of the store (one transaction per method)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._postgres = store.engine.dialect.name == "postgresql"

    # -- writing messages ----------------------------------------------------------
    def enqueue(
        self,
        kind: MessageKind,
        channel: str,
        message: dict[str, Any],
        *,
        now: datetime,
        subscription: str | None = None,
        idempotency_key: str | None = None,
    ) -> int:
        """Write a non-digest message (confirmation, test, notice); returns its id."""
        key = idempotency_key or uuid.uuid4().hex
        with self.store.transaction(f"queue a {kind} message for {channel!r}") as session:
            sub_id = None
            if subscription is not None:
                sub_id = session.scalar(
                    select(SubscriptionRow.id).where(SubscriptionRow.name == subscription)
                )
                if sub_id is None:
                    raise StoreError(f"unknown subscription {subscription!r}")
            row = DeliveryRow(
                kind=kind,
                channel=channel,
                subscription_id=sub_id,
                message=message,
                idempotency_key=key,
                status=DeliveryStatus.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            session.add(row)
            session.flush()
            return row.id

    # -- the worker ----------------------------------------------------------------
    def claim(
        self,
        now: datetime,
        *,
        lease: timedelta,
        limit: int = 200,
        skip_channels: Collection[str] = (),
    ) -> list[PendingDelivery]:
        """Take up to `limit` due rows for `lease`, oldest first; nobody else takes them."""
        due = (
            select(DeliveryRow.id)
            .where(
                DeliveryRow.status == DeliveryStatus.PENDING.value,
                DeliveryRow.next_attempt_at <= now,
                DeliveryRow.claimed_until.is_(None) | (DeliveryRow.claimed_until <= now),
            )
            .order_by(DeliveryRow.created_at, DeliveryRow.id)
            .limit(limit)
        )
        if skip_channels:
            due = due.where(DeliveryRow.channel.not_in(list(skip_channels)))
        if self._postgres:
            due = due.with_for_update(skip_locked=True)
        token = uuid.uuid4().hex
        with self.store.transaction("claim deliveries") as session:
            ids = list(session.scalars(due))
            if not ids:
                return []
            session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id.in_(ids))
                .values(claimed_until=now + lease, claim=token)
                .execution_options(synchronize_session=False)
            )
            return _loaded(session, ids)

    def renew(self, delivery: PendingDelivery, now: datetime, *, lease: timedelta) -> bool:
        """Extend this worker's lease on a claimed row just before sending it.

        False when the row is no longer this claim's (the lease ran out and another worker
        took it) or no longer pending (sent or dead meanwhile): the caller must not send.
        """
        with self.store.transaction(f"renew the lease on delivery {delivery.id}") as session:
            result = session.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.id == delivery.id,
                    DeliveryRow.claim == delivery.claim,
                    DeliveryRow.status == DeliveryStatus.PENDING.value,
                )
                .values(claimed_until=now + lease)
                .execution_options(synchronize_session=False)
            )
            return bool(getattr(result, "rowcount", 0))

    def claim_one(
        self, delivery_id: int, now: datetime, *, lease: timedelta
    ) -> PendingDelivery | None:
        """Claim one pending row by id (a channel test sent at once); None if taken."""
        token = uuid.uuid4().hex
        with self.store.transaction(f"claim delivery {delivery_id}") as session:
            result = session.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.id == delivery_id,
                    DeliveryRow.status == DeliveryStatus.PENDING.value,
                    DeliveryRow.claimed_until.is_(None) | (DeliveryRow.claimed_until <= now),
                )
                .values(claimed_until=now + lease, claim=token)
                .execution_options(synchronize_session=False)
            )
            if not getattr(result, "rowcount", 0):
                return None
            [loaded] = _loaded(session, [delivery_id])
            return loaded

    def release(self, delivery_ids: Sequence[int]) -> None:
        """Give claimed rows back at once (their lease ends now), without an attempt."""
        with self.store.transaction("release deliveries") as session:
            session.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id.in_(list(delivery_ids)))
                .values(claimed_until=None, claim=None)
                .execution_options(synchronize_session=False)
            )

    def is_sent(self, delivery_id: int) -> bool:
        """Whether the row is recorded as sent (a worker checks before sending)."""
        with self.store.transaction("read a delivery", write=False) as session:
            status = session.scalar(select(DeliveryRow.status).where(DeliveryRow.id == delivery_id))
            return status == DeliveryStatus.SENT.value

    def record(
        self,
        delivery_id: int,
        *,
        outcome: Outcome,
        started_at: datetime,
        latency_ms: int,
        now: datetime,
        status: int | None = None,
        response: str = "",
        error: str | None = None,
        next_attempt_at: datetime | None = None,
        pause_after: int = 20,
    ) -> AttemptResult:
        """Record one attempt, settle the row, and update its channel's health.

        `sent` marks the row sent; `retry` schedules it at `next_attempt_at`; `failed`
        (permanent) and `dead` (out of attempts or too old) dead-letter it. The lease is
        released in every case.
        """
        with self.store.transaction(f"record an attempt of delivery {delivery_id}") as session:
            if outcome == "sent":
                # The hot path (one per message sent): three plain statements.
                done = self._record_sent(
                    session, delivery_id, started_at, latency_ms, now, status, response
                )
                if done is not None:
                    return done
            row = session.get(DeliveryRow, delivery_id, with_for_update=self._postgres)
            if row is None:
                raise StoreError(f"unknown delivery {delivery_id}")
            attempt = 1 + (
                session.scalar(
                    select(func.count())
                    .select_from(DeliveryAttemptRow)
                    .where(DeliveryAttemptRow.delivery_id == delivery_id)
                )
                or 0
            )
            session.add(
                DeliveryAttemptRow(
                    delivery_id=delivery_id,
                    attempt=attempt,
                    started_at=started_at,
                    latency_ms=max(0, latency_ms),
                    outcome=outcome,
                    status=status,
                    response=response,
                    error=error,
                )
            )
            row.attempts = row.attempts + 1
            row.last_status = status
            row.claimed_until = None
            row.claim = None
            if row.status == DeliveryStatus.SENT.value:
                # Sent already (by a worker whose lease this one outlived): the attempt is
                # logged, but a sent message never turns pending or dead again.
                log.warning(
                    "delivery %s: a late %s for a message already sent", delivery_id, outcome
                )
            elif outcome == "sent":
                row.status = DeliveryStatus.SENT.value
                row.sent_at = now
                row.next_attempt_at = None
                row.last_error = None
            elif outcome == "retry":
                row.last_error = error
                row.next_attempt_at = next_attempt_at
            else:
                row.status = DeliveryStatus.DEAD.value
                row.dead_at = now
                row.last_error = error
                row.next_attempt_at = None
            return self._health_after(session, row.channel, outcome, now, error, pause_after)

    def _record_sent(
        self,
        session: Session,
        delivery_id: int,
        started_at: datetime,
        latency_ms: int,
        now: datetime,
        status: int | None,
        response: str,
    ) -> AttemptResult | None:
        """Settle a pending row as sent; None when it is unknown or was sent already."""
        channel = session.execute(
            update(DeliveryRow)
            .where(DeliveryRow.id == delivery_id, DeliveryRow.status != DeliveryStatus.SENT.value)
            .values(
                status=DeliveryStatus.SENT.value,
                sent_at=now,
                next_attempt_at=None,
                last_error=None,
                attempts=DeliveryRow.attempts + 1,
                last_status=status,
                claimed_until=None,
                claim=None,
            )
            .returning(DeliveryRow.channel)
            .execution_options(synchronize_session=False)
        ).scalar_one_or_none()
        if channel is None:
            return None
        number = (
            select(func.count() + 1)
            .select_from(DeliveryAttemptRow)
            .where(DeliveryAttemptRow.delivery_id == delivery_id)
            .scalar_subquery()
        )
        session.execute(
            insert(DeliveryAttemptRow).values(
                delivery_id=delivery_id,
                attempt=number,
                started_at=started_at,
                latency_ms=max(0, latency_ms),
                outcome="sent",
                status=status,
                response=response,
            )
        )
        healthy = session.execute(
            update(ChannelHealthRow)
            .where(ChannelHealthRow.channel == channel)
            .values(consecutive_failures=0, failing_since=None, last_success_at=now)
            .execution_options(synchronize_session=False)
        )
        if not getattr(healthy, "rowcount", 0):
            session.execute(
                self.store.insert(ChannelHealthRow)
                .values(channel=channel, consecutive_failures=0, last_success_at=now)
                .on_conflict_do_nothing(index_elements=["channel"])
            )
        return AttemptResult(ChannelHealth(channel, last_success_at=now), paused_now=False)

    @staticmethod
    def _health_after(
        session: Session,
        channel: str,
        outcome: Outcome,
        now: datetime,
        error: str | None,
        pause_after: int,
    ) -> AttemptResult:
        health = session.get(ChannelHealthRow, channel)
        if health is None:
            health = ChannelHealthRow(channel=channel, consecutive_failures=0)
            session.add(health)
        paused_now = False
        if outcome == "sent":
            health.consecutive_failures = 0
            health.failing_since = None
            health.last_success_at = now
        else:
            health.consecutive_failures = (health.consecutive_failures or 0) + 1
            health.failing_since = health.failing_since or now
            health.last_failure_at = now
            health.last_error = error
            if health.paused_at is None and health.consecutive_failures >= pause_after:
                health.paused_at = now
                health.paused_reason = (
                    f"{health.consecutive_failures} failed attempts in a row; last: {error}"
                )
                paused_now = True
        session.flush()
        return AttemptResult(_health(health), paused_now)

    # -- operators -----------------------------------------------------------------
    def retry(self, delivery_id: int, *, now: datetime) -> PendingDelivery:
        """Put a dead letter back in the queue, due now, with a fresh attempt budget."""
        with self.store.transaction(f"retry delivery {delivery_id}") as session:
            row = session.get(DeliveryRow, delivery_id)
            if row is None:
                raise StoreError(f"no delivery {delivery_id}")
            if row.status != DeliveryStatus.DEAD.value:
                raise StoreError(
                    f"delivery {delivery_id} is {row.status}, not dead: only a dead letter "
                    "can be retried"
                )
            row.status = DeliveryStatus.PENDING.value
            row.attempts = 0
            row.next_attempt_at = now
            row.dead_at = None
            row.claimed_until = None
            row.claim = None
            row.requeued_at = now
            session.flush()
            return pending_delivery(row, None, None)

    def attempts(self, delivery_id: int) -> list[Attempt]:
        """Every attempt of one delivery, oldest first."""
        stmt = (
            select(DeliveryAttemptRow)
            .where(DeliveryAttemptRow.delivery_id == delivery_id)
            .order_by(DeliveryAttemptRow.attempt)
        )
        with self.store.transaction("list delivery attempts", write=False) as session:
            return [
                Attempt(
                    a.attempt, a.started_at, a.latency_ms, a.outcome, a.status, a.response, a.error
                )
                for a in session.scalars(stmt)
            ]

    def health(self, channels: Sequence[str] = ()) -> list[ChannelHealth]:
        """Every channel's health (only those in `channels` when given), by name."""
        stmt = select(ChannelHealthRow).order_by(ChannelHealthRow.channel)
        if channels:
            stmt = stmt.where(ChannelHealthRow.channel.in_(list(channels)))
        with self.store.transaction("read channel health", write=False) as session:
            return [_health(row) for row in session.scalars(stmt)]

    def paused_channels(self) -> set[str]:
        """Channels whose messages wait until an operator resumes them."""
        with self.store.transaction("list paused channels", write=False) as session:
            return set(
                session.scalars(
                    select(ChannelHealthRow.channel).where(ChannelHealthRow.paused_at.is_not(None))
                )
            )

    def resume(self, channel: str, *, now: datetime) -> bool:
        """Resume a paused channel: its streak starts again and its waiting messages are due
        at once (not at their backoff time). False when it was not paused."""
        with self.store.transaction(f"resume channel {channel!r}") as session:
            row = session.get(ChannelHealthRow, channel)
            if row is None or row.paused_at is None:
                return False
            row.paused_at = None
            row.paused_reason = None
            row.consecutive_failures = 0
            session.execute(
                update(DeliveryRow)
                .where(
                    DeliveryRow.channel == channel,
                    DeliveryRow.status == DeliveryStatus.PENDING.value,
                    DeliveryRow.next_attempt_at > now,
                )
                .values(next_attempt_at=now)
                .execution_options(synchronize_session=False)
            )
            return True

    def counts(self) -> dict[str, int]:
        """Deliveries by status, for `alerts status` and metrics."""
        stmt = select(DeliveryRow.status, func.count()).group_by(DeliveryRow.status)
        with self.store.transaction("count deliveries", write=False) as session:
            return {status: int(n) for status, n in session.execute(stmt)}


def _loaded(session: Session, ids: Sequence[int]) -> list[PendingDelivery]:
    """Claimed rows with their digest payload and subscription name, oldest first."""
    stmt = (
        select(DeliveryRow, DigestRow.payload, SubscriptionRow.name)
        .outerjoin(DigestRow, DigestRow.id == DeliveryRow.digest_id)
        .outerjoin(SubscriptionRow, SubscriptionRow.id == DeliveryRow.subscription_id)
        .where(DeliveryRow.id.in_(list(ids)))
        .order_by(DeliveryRow.created_at, DeliveryRow.id)
        .execution_options(populate_existing=True)
    )
    return [pending_delivery(row, payload, name) for row, payload, name in session.execute(stmt)]


def _health(row: ChannelHealthRow) -> ChannelHealth:
    return ChannelHealth(
        channel=row.channel,
        consecutive_failures=row.consecutive_failures or 0,
        failing_since=row.failing_since,
        last_success_at=row.last_success_at,
        last_failure_at=row.last_failure_at,
        last_error=row.last_error,
        paused_at=row.paused_at,
        paused_reason=row.paused_reason,
    )
