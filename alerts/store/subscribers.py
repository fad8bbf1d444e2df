"""What subscribers do themselves: subscribe (double opt-in), confirm, unsubscribe.

A companion of `Store` with the same contract: one transaction per public method, plain
dataclasses in and out, `StoreError` when the database fails.

Self-service subscriptions are named `self:<address>` (one per address, lower case) and
start `pending`; nothing is sent to them until the address confirms. The confirmation
email is written to the outbox (`deliveries`, kind "confirm") in the same transaction as
the subscription, so a crash can never leave one without the other.

Subscribing again:
- while pending (or after unsubscribing): the new preferences replace the old ones on the
  row at once (nothing is sent to a pending address) and a new confirmation is queued;
- while active: the subscription is left as it is and the new preferences travel in the
  confirmation message; confirming applies them. Whoever fills in the form with someone
  else's address can therefore change nothing without that person's click.
At most `CONFIRM_LIMIT` confirmations go to one address per `CONFIRM_WINDOW`; a request
beyond that writes nothing. Callers answer the same way in every case, so the form does
not tell who is subscribed.

Unsubscribing is idempotent. A subscriber's own subscription becomes `unsubscribed` (its
queued alerts stay, but the planner no longer plans it); a recipient of a channel's email
gets an opt-out row for that subscription.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from alerts.domain import ChannelKind, DeliveryStatus, SubscriptionOrigin
from alerts.store.models import ChannelRow, DeliveryRow, DigestRow, OptOutRow, SubscriptionRow
from alerts.store.repository import NAME_MAX_LENGTH, Store

SELF_PREFIX = "self:"
CONFIRM_KIND = "confirm"
# Enough for a typo'd first try and a lost mail; too few to flood anyone's inbox.
CONFIRM_LIMIT = 3
CONFIRM_WINDOW = timedelta(hours=24)
# Their outbox rows name the destination `email:<address>` in a String(200) column (and the
# subscription `self:<address>` in another). RFC 5321 allows 254 characters; real
# addresses are far shorter, so the longest ones are refused rather than cut.
MAX_ADDRESS_LENGTH = NAME_MAX_LENGTH - len("email:")


class SubscriptionStatus(StrEnum):
    """Where a subscription stands with its subscriber (`subscriptions.status`)."""

    PENDING = "pending"  # waiting for the address to confirm
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"


class SubscribeResult(StrEnum):
    """What `Subscribers.subscribe` did. Pages must not show the difference."""

    CREATED = "created"  # new (or re-opened after an unsubscribe): pending, confirmation queued
    RESENT = "resent"  # still pending: preferences replaced, a new confirmation queued
    CHANGE_REQUESTED = "change_requested"  # active: new preferences wait for a confirmation
    RATE_LIMITED = "rate_limited"  # too many confirmations lately: nothing written
    CONFLICT = "conflict"  # a configured subscription has this name: nothing written


class ConfirmOutcome(StrEnum):
    """What `Subscribers.confirm` did."""

    CONFIRMED = "confirmed"  # pending -> active
    UPDATED = "updated"  # active, and requested preferences were applied
    ALREADY_ACTIVE = "already_active"  # nothing to do
    UNSUBSCRIBED = "unsubscribed"  # the address unsubscribed since; subscribe again instead
    UNKNOWN = "unknown"  # no such self-service subscription for this address


class UnsubscribeOutcome(StrEnum):
    """What `Subscribers.unsubscribe` did."""

    UNSUBSCRIBED = "unsubscribed"
    ALREADY_UNSUBSCRIBED = "already_unsubscribed"
    UNKNOWN = "unknown"  # no such subscription, or it does not go to this address


@dataclass(frozen=True, slots=True)
class Preferences:
    """What a subscriber chose: watchlists, schedule and the zone it runs in."""

    watchlists: tuple[str, ...]
    schedule: str
    timezone: str

    def to_json(self) -> dict[str, Any]:
        return {
            "watchlists": list(self.watchlists),
            "schedule": self.schedule,
            "timezone": self.timezone,
        }

    @classmethod
    def from_json(cls, data: object) -> Preferences | None:
        """None unless `data` is what `to_json` wrote."""
        if not isinstance(data, Mapping):
            return None
        watchlists, schedule, zone = (
            data.get("watchlists"),
            data.get("schedule"),
            data.get("timezone"),
        )
        if (
            not isinstance(watchlists, list)
            or not all(isinstance(w, str) for w in watchlists)
            or not isinstance(schedule, str)
            or not isinstance(zone, str)
        ):
            return None
        return cls(tuple(watchlists), schedule, zone)


@dataclass(frozen=True, slots=True)
class SubscribeOutcome:
    """The result of a subscribe request, and the confirmation it queued (if any)."""

    result: SubscribeResult
    subscription: str
    delivery_id: int | None = None


@dataclass(frozen=True, slots=True)
class SubscriptionView:
    """A subscription as the subscriber pages show it."""

    name: str
    origin: SubscriptionOrigin
    status: SubscriptionStatus
    email: str  # "" for a channel subscription
    channel: str  # "" for a subscriber's own subscription
    preferences: Preferences
    # Preferences asked for on the form that a confirmation would apply (active only).
    requested: Preferences | None
    created_at: datetime | None
    confirmed_at: datetime | None
    unsubscribed_at: datetime | None


def normalise_address(email: str) -> str:
    """The form in which addresses are stored, signed into links and compared."""
    return email.strip().lower()


def self_subscription_name(email: str) -> str:
    """`self:<address>`, the one self-service subscription of an address."""
    return f"{SELF_PREFIX}{normalise_address(email)}"


class Subscribers:
    """Self-service subscriptions and opt-outs, over a `Store`. Thread-safe like it."""

    def __init__(self, store: Store, *, confirm_limit: int = CONFIRM_LIMIT) -> None:
        self._store = store
        self._confirm_limit = confirm_limit

    def subscribe(
        self,
        email: str,
        watchlists: Sequence[str],
        *,
        schedule: str,
        timezone: str,
        now: datetime,
        confirm_message: Mapping[str, Any],
    ) -> SubscribeOutcome:
        """Ask `email` to confirm a subscription to `watchlists` (see the module docstring).

        `confirm_message` is stored as the confirmation's message, with the requested
        preferences added under "preferences". The caller checks the address syntax, the
        watchlist names, the schedule and the zone; this raises ValueError only for no
        address (or one over `MAX_ADDRESS_LENGTH`) or no watchlist.
        """
        address = normalise_address(email)
        if "@" not in address or len(address) > MAX_ADDRESS_LENGTH:
            raise ValueError(
                f"a subscriber's address must be an email address of at most "
                f"{MAX_ADDRESS_LENGTH} characters"
            )
        if not watchlists:
            raise ValueError("a subscription needs at least one watchlist")
        wanted = Preferences(tuple(dict.fromkeys(watchlists)), schedule, timezone)
        name = self_subscription_name(address)
        with self._store.transaction("record a subscription request") as session:
            row = self._locked(session, name)
            created = row is None
            if row is None:
                session.execute(
                    self._store.insert(SubscriptionRow)
                    .values(
                        name=name,
                        channel="",
                        watchlists=list(wanted.watchlists),
                        schedule=wanted.schedule,
                        timezone=wanted.timezone,
                        enabled=True,
                        email=address,
                        origin=SubscriptionOrigin.SELF.value,
                        status=SubscriptionStatus.PENDING.value,
                        created_at=now,
                    )
                    .on_conflict_do_nothing(index_elements=["name"])
                )
                # Another request for the same address may have won the insert: use its row.
                row = self._locked(session, name)
                assert row is not None
            if row.origin != SubscriptionOrigin.SELF.value:
                return SubscribeOutcome(SubscribeResult.CONFLICT, name)
            if self._recent_confirmations(session, address, now) >= self._confirm_limit:
                return SubscribeOutcome(SubscribeResult.RATE_LIMITED, name)
            status = SubscriptionStatus(row.status)
            if created:
                result = SubscribeResult.CREATED
            elif status is SubscriptionStatus.ACTIVE:
                result = SubscribeResult.CHANGE_REQUESTED
            else:
                result = (
                    SubscribeResult.RESENT
                    if status is SubscriptionStatus.PENDING
                    else SubscribeResult.CREATED
                )
                # Nothing is sent to a pending address: its latest choice simply wins.
                _apply(row, wanted)
                row.status = SubscriptionStatus.PENDING.value
                row.enabled = True
            delivery = DeliveryRow(
                kind=CONFIRM_KIND,
                channel=f"email:{address}",
                subscription_id=row.id,
                idempotency_key=uuid.uuid4().hex,
                status=DeliveryStatus.PENDING.value,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
                message={**confirm_message, "preferences": wanted.to_json()},
            )
            session.add(delivery)
            session.flush()
            return SubscribeOutcome(result, name, delivery.id)

    def confirm(self, subscription: str, address: str, *, now: datetime) -> ConfirmOutcome:
        """Activate `subscription` of `address`, applying the preferences last asked for."""
        address = normalise_address(address)
        with self._store.transaction(f"confirm subscription {subscription!r}") as session:
            row = self._locked(session, subscription)
            if (
                row is None
                or row.origin != SubscriptionOrigin.SELF.value
                or normalise_address(row.email or "") != address
            ):
                return ConfirmOutcome.UNKNOWN
            status = SubscriptionStatus(row.status)
            if status is SubscriptionStatus.UNSUBSCRIBED:
                return ConfirmOutcome.UNSUBSCRIBED
            requested = self._requested(session, row)
            if requested is not None:
                _apply(row, requested)
            if status is SubscriptionStatus.PENDING:
                row.status = SubscriptionStatus.ACTIVE.value
                row.confirmed_at = now
                return ConfirmOutcome.CONFIRMED
            if requested is None:
                return ConfirmOutcome.ALREADY_ACTIVE
            row.confirmed_at = now
            return ConfirmOutcome.UPDATED

    def unsubscribe(self, subscription: str, address: str, *, now: datetime) -> UnsubscribeOutcome:
        """Stop sending `subscription` to `address`; repeating it changes nothing."""
        address = normalise_address(address)
        with self._store.transaction(f"unsubscribe from subscription {subscription!r}") as session:
            row = self._locked(session, subscription)
            if row is None:
                return UnsubscribeOutcome.UNKNOWN
            if row.email and normalise_address(row.email) == address:
                if row.status == SubscriptionStatus.UNSUBSCRIBED.value:
                    return UnsubscribeOutcome.ALREADY_UNSUBSCRIBED
                row.status = SubscriptionStatus.UNSUBSCRIBED.value
                row.unsubscribed_at = now
                return UnsubscribeOutcome.UNSUBSCRIBED
            if not row.channel or not self._is_email_channel(session, row.channel):
                return UnsubscribeOutcome.UNKNOWN
            # The signed link is the proof that the address is among the channel's
            # recipients: the store does not keep the configured `to` lists.
            inserted = session.scalar(
                self._store.insert(OptOutRow)
                .values(subscription_id=row.id, address=address, created_at=now)
                .on_conflict_do_nothing(index_elements=["subscription_id", "address"])
                .returning(OptOutRow.id)
            )
            if inserted is None:
                return UnsubscribeOutcome.ALREADY_UNSUBSCRIBED
            return UnsubscribeOutcome.UNSUBSCRIBED

    def opted_out(self, subscription: str) -> frozenset[str]:
        """The (lower-case) addresses that unsubscribed from channel subscription `subscription`."""
        stmt = (
            select(OptOutRow.address)
            .join(SubscriptionRow, SubscriptionRow.id == OptOutRow.subscription_id)
            .where(SubscriptionRow.name == subscription)
        )
        what = f"list opt-outs of subscription {subscription!r}"
        with self._store.transaction(what, write=False) as session:
            return frozenset(session.scalars(stmt))

    def digest_payload(self, idempotency_key: str) -> dict[str, Any] | None:
        """The frozen digest sent by the delivery with `idempotency_key`; None when unknown."""
        stmt = (
            select(DigestRow.payload)
            .join(DeliveryRow, DeliveryRow.digest_id == DigestRow.id)
            .where(DeliveryRow.idempotency_key == idempotency_key)
        )
        with self._store.transaction("load a digest", write=False) as session:
            payload = session.scalars(stmt).one_or_none()
        return payload if isinstance(payload, dict) else None

    def subscription_status(self, name: str) -> SubscriptionView | None:
        """Subscription `name` as a subscriber may see it; None when unknown."""
        with self._store.transaction(f"load subscription {name!r}", write=False) as session:
            row = session.scalars(
                select(SubscriptionRow).where(SubscriptionRow.name == name)
            ).one_or_none()
            if row is None:
                return None
            status = SubscriptionStatus(row.status)
            requested = (
                self._requested(session, row) if status is SubscriptionStatus.ACTIVE else None
            )
            return SubscriptionView(
                name=row.name,
                origin=SubscriptionOrigin(row.origin),
                status=status,
                email=row.email or "",
                channel=row.channel,
                preferences=_preferences(row),
                requested=requested,
                created_at=row.created_at,
                confirmed_at=row.confirmed_at,
                unsubscribed_at=row.unsubscribed_at,
            )

    # -- helpers ---------------------------------------------------------------------
    @staticmethod
    def _locked(session: Session, name: str) -> SubscriptionRow | None:
        # Row lock (PostgreSQL): two requests for one address take turns, so the rate
        # limit counts every confirmation. SQLite's BEGIN IMMEDIATE serialises anyway.
        stmt = select(SubscriptionRow).where(SubscriptionRow.name == name).with_for_update()
        return session.scalars(stmt).one_or_none()

    @staticmethod
    def _recent_confirmations(session: Session, address: str, now: datetime) -> int:
        stmt = select(func.count()).where(
            DeliveryRow.kind == CONFIRM_KIND,
            DeliveryRow.channel == f"email:{address}",
            DeliveryRow.status.in_([DeliveryStatus.PENDING.value, DeliveryStatus.SENT.value]),
            DeliveryRow.created_at > now - CONFIRM_WINDOW,
        )
        return int(session.scalar(stmt) or 0)

    @staticmethod
    def _requested(session: Session, row: SubscriptionRow) -> Preferences | None:
        """The preferences of the newest confirmation, when they differ from the row's and
        were asked for since the last confirmation."""
        stmt = (
            select(DeliveryRow.message, DeliveryRow.created_at)
            .where(DeliveryRow.kind == CONFIRM_KIND, DeliveryRow.subscription_id == row.id)
            .order_by(DeliveryRow.created_at.desc(), DeliveryRow.id.desc())
            .limit(1)
        )
        newest = session.execute(stmt).one_or_none()
        if newest is None:
            return None
        message, created_at = newest
        if row.confirmed_at is not None and created_at < row.confirmed_at:
            return None
        wanted = Preferences.from_json((message or {}).get("preferences"))
        return wanted if wanted is not None and wanted != _preferences(row) else None

    @staticmethod
    def _is_email_channel(session: Session, channel: str) -> bool:
        kind = session.scalars(select(ChannelRow.kind).where(ChannelRow.name == channel)).first()
        # A channel the config no longer declares: its past recipients may still opt out.
        return kind is None or kind == ChannelKind.EMAIL.value


def _preferences(row: SubscriptionRow) -> Preferences:
    return Preferences(tuple(row.watchlists), row.schedule, row.timezone)


def _apply(row: SubscriptionRow, wanted: Preferences) -> None:
    if (row.schedule, row.timezone) != (wanted.schedule, wanted.timezone):
        row.next_digest_at = None  # the scheduler computes it again (as a config sync does)
    row.watchlists = list(wanted.watchlists)
    row.schedule = wanted.schedule
    row.timezone = wanted.timezone
