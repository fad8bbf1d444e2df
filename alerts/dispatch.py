"""Delivery: turn queued alerts into digests on each subscription's terms, then send the outbox.

Planning decides, per subscription, what goes now (`alerts.delivery.policy`: schedules in
the subscription's zone, quiet hours, urgent matches, heartbeats) and writes each digest
with its outbox row in one transaction, before anything is sent. Sending claims due rows
with a lease (`alerts.store.outbox`), sends each through its channel, and records the
attempt: what the receiver answered, how long it took, and what happens next (sent, retry
with backoff, or dead letter). A channel that keeps failing is paused, and the operators'
channel is told; its messages wait, none is dropped.

Messages to one destination go one at a time, in order; destinations run side by side.
Every subscriber's own email goes through the one mail transport, as one queue.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from typing import Literal, ParamSpec, Protocol, TypeVar

from alerts.config import Config, Settings
from alerts.delivery.base import Channel, Receipt
from alerts.delivery.digest import (
    build_digest,
    digest_from_payload,
    digest_to_payload,
    is_news,
)
from alerts.delivery.links import Links
from alerts.delivery.policy import PendingAlert, SendPlan, plan_send
from alerts.delivery.retry import next_attempt
from alerts.delivery.schedule import QuietHours, check_zone, parse_schedule
from alerts.domain import (
    ChannelKind,
    Digest,
    DigestEntry,
    DigestSection,
    Importance,
    Match,
    PendingDelivery,
    PendingEntry,
    Subscription,
    Watchlist,
)
from alerts.errors import DeliveryError, PermanentDeliveryError, StoreError
from alerts.logs import event, get_logger
from alerts.store.outbox import Outbox
from alerts.store.repository import Store, SubscriptionState
from alerts.store.subscribers import Subscribers

P = ParamSpec("P")
T = TypeVar("T")
log = get_logger("delivery")

EMAIL_PREFIX = "email:"
# The queue name every subscriber's own email shares (one SMTP connection, in order).
MAIL_QUEUE = "email:*"


class Db(Protocol):
    """The pipeline's way of running one store call on its database thread."""

    def __call__(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Awaitable[T]: ...


class Mailer(Protocol):
    """The service's own mail transport: subscribers' digests and confirmation emails."""

    name: str

    async def send(self, digest: Digest) -> Receipt: ...

    async def send_confirmation(
        self, *, to: str, subscription: str, confirm_url: str, created_at: datetime
    ) -> Receipt: ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SendResult:
    """What one delivery attempt did."""

    delivery_id: int
    subscription: str
    channel: str
    status: Literal["sent", "retry", "dead"]
    stories: int
    error: str | None = None
    http_status: int | None = None
    response: str = ""


@dataclass(frozen=True, slots=True)
class PlannedDigest:
    """A digest built for a due subscription (and stored, unless it was a dry run)."""

    subscription: str
    channel: str
    digest: Digest
    delivery_id: int | None
    reason: str = ""


class Dispatcher:
    """Plans digests and works the outbox for one process (several may share a database)."""

    def __init__(
        self,
        *,
        config: Config,
        settings: Settings,
        store: Store,
        db: Db,
        channels: Mapping[str, Channel],
        mailer: Mailer | None = None,
        links: Links | None = None,
        clock: Callable[[], datetime],
        rng: random.Random | None = None,
        stopping: asyncio.Event | None = None,
    ) -> None:
        self.config = config
        self.settings = settings
        self.store = store
        self.outbox = Outbox(store)
        self.subscribers = Subscribers(store)
        self.db = db
        self.channels = dict(channels)
        self.mailer = mailer
        self.links = links
        self.clock = clock
        self.rng = rng or random.Random()
        self.stopping = stopping or asyncio.Event()
        self._watchlists: dict[str, Watchlist] = {w.name: w for w in config.watchlists}
        self._paused: set[str] = set()  # channels paused (read per batch, added on a pause)

    # -- planning ----------------------------------------------------------------------
    def _importance(self, match: Match) -> Importance:
        watchlist = self._watchlists.get(match.watchlist)
        return watchlist.importance_of(match.term) if watchlist else Importance.NORMAL

    def _entry_importance(self, entry: PendingEntry) -> Importance:
        return max(
            (self._importance(m) for m in entry.matches),
            key=lambda i: i.rank,
            default=Importance.NORMAL,
        )

    async def plan_digests(
        self,
        *,
        only: str | None = None,
        force: bool = False,
        dry_run: bool = False,
        collect: bool = True,
    ) -> list[PlannedDigest]:
        """Build and store a digest for every subscription with something to send now.

        `force` sends everything pending now, whatever the schedule and quiet hours;
        `dry_run` builds and returns the digests without writing anything. With
        `collect=False` (the service's own ticks) nothing is returned: 10,000 digests
        due at once are not all kept in memory.
        """
        now = self.clock()
        planned: list[PlannedDigest] = []
        for state in await self.db(self.store.subscription_states):
            if only is not None and state.subscription.name != only:
                continue
            try:
                made = await self._plan_one(state, now, force=force, dry_run=dry_run)
            except (ValueError, KeyError, StoreError) as exc:
                # One subscription's problem (a zone gone from tzdata, a stale queue) must
                # not hold up the others; its alerts stay queued.
                event(
                    log,
                    "digest failed",
                    level=logging.WARNING,
                    subscription=state.subscription.name,
                    error=str(exc),
                )
                continue
            if made is not None and (collect or dry_run):
                planned.append(made)
        return planned

    async def _plan_one(
        self, state: SubscriptionState, now: datetime, *, force: bool, dry_run: bool
    ) -> PlannedDigest | None:
        sub = state.subscription
        zone = sub.timezone or self.config.timezone
        check_zone(zone)  # a zone gone from tzdata: this subscription waits, the rest go on
        schedule = parse_schedule(sub.schedule, zone)
        quiet = QuietHours.parse(sub.quiet_hours) if sub.quiet_hours else None
        if not force and state.pending == 0:
            if schedule.immediate:
                return None
            due = state.next_digest_at is None or state.next_digest_at <= now
            if not due:
                return None
        entries = await self.db(self.store.pending_entries, sub.name) if state.pending else []
        if force:
            plan = SendPlan(
                send=tuple(e.queue_id for e in entries),
                heartbeat=not entries and sub.send_empty,
                urgent=False,
                scheduled=True,
                next_digest_at=None if schedule.immediate else schedule.next_after(now),
                reason="forced",
            )
        else:
            plan = plan_send(
                now,
                schedule,
                next_digest_at=state.next_digest_at,
                pending=[PendingAlert(e.queue_id, self._entry_importance(e)) for e in entries],
                quiet=quiet,
                zone=zone,
                immediate_importance=sub.immediate_importance,
                send_empty=sub.send_empty,
            )
        chosen_ids = set(plan.send)
        chosen = [e for e in entries if e.queue_id in chosen_ids]
        moved = plan.next_digest_at != state.next_digest_at

        async def keep_schedule() -> None:
            if moved and not dry_run:
                await self.db(self.store.set_next_digest, sub.name, plan.next_digest_at)

        if not chosen and not plan.heartbeat:
            await keep_schedule()
            return None
        recipients = await self._recipients(sub)
        if recipients == ():
            # Every recipient of the channel unsubscribed: nothing to send to anyone.
            await keep_schedule()
            return None
        key = uuid.uuid4().hex
        more_url = self.links.digest(key, issued=now) if self.links else ""
        digest = build_digest(
            sub,
            chosen,
            idempotency_key=key,
            now=now,
            timezone=zone,
            importance=self._importance,
            urgent=plan.urgent,
            more_url=more_url,
            recipients=recipients or (),
        )
        if chosen and not is_news(digest):
            # Only "also reported by" lines: they wait for a digest that has news. A
            # subscriber who asked for a heartbeat still gets one at the scheduled time.
            if schedule.immediate or not (plan.scheduled and sub.send_empty):
                await keep_schedule()
                return None
            chosen = []
            digest = replace(digest, sections=())
        delivery_id = None
        if not dry_run:
            delivery_id = await self.db(
                self.store.create_delivery,
                sub.name,
                channel=sub.destination,
                idempotency_key=key,
                queue_ids=[e.queue_id for e in chosen],
                payload=digest_to_payload(digest),
                now=now,
                next_digest_at=plan.next_digest_at,
                expected_next_digest_at=state.next_digest_at,
            )
            event(
                log,
                "digest",
                subscription=sub.name,
                channel=sub.destination,
                stories=digest.entry_count,
                urgent=plan.urgent,
                reason=plan.reason,
                delivery=delivery_id,
                key=key,
            )
        return PlannedDigest(sub.name, sub.destination, digest, delivery_id, plan.reason)

    async def _recipients(self, sub: Subscription) -> tuple[str, ...] | None:
        """Who an email digest goes to: the subscriber, or the channel's list minus opt-outs.

        None for other kinds of channel; () when every recipient has unsubscribed.
        """
        if sub.email:
            return (sub.email,)
        channel = self.config.channel_by_name.get(sub.channel)
        if channel is None or channel.kind is not ChannelKind.EMAIL:
            return None
        opted_out = await self.db(self.subscribers.opted_out, sub.name)
        return tuple(a for a in channel.to if _address(a) not in opted_out)

    # -- sending -----------------------------------------------------------------------
    async def send_pending(self) -> list[SendResult]:
        """Claim what is due and send it; destinations in parallel, each in order."""
        started = self.clock()
        lease = timedelta(seconds=self.settings.delivery_lease)
        results: list[SendResult] = []
        while not self.stopping.is_set():
            # Read again before each claim: a channel paused in the last batch waits.
            self._paused = await self.db(self.outbox.paused_channels)
            claimed_at = max(started, self.clock())
            claimed = await self.db(
                self.outbox.claim,
                claimed_at,
                lease=lease,
                skip_channels=set(self._paused),
            )
            if not claimed:
                break
            queues: dict[str, list[PendingDelivery]] = {}
            for delivery in claimed:
                queue = MAIL_QUEUE if delivery.channel.startswith(EMAIL_PREFIX) else None
                queues.setdefault(queue or delivery.channel, []).append(delivery)

            async def work(
                items: list[PendingDelivery], claimed_at: datetime = claimed_at
            ) -> list[SendResult]:
                done: list[SendResult] = []
                held: list[int] = []
                for delivery in items:
                    if self.stopping.is_set():
                        break  # the lease runs out and another tick (or replica) sends it
                    if delivery.channel in self._paused:
                        # Paused by a failure earlier in this batch: it waits, unattempted.
                        held.append(delivery.id)
                        continue
                    # The batch may have taken longer than the lease: past half of it, send
                    # only after renewing (another replica may have taken the row meanwhile).
                    # Before that nobody else can hold it, so no write is needed.
                    now = self.clock()
                    if now - claimed_at > lease / 2 and not await self.db(
                        self.outbox.renew, delivery, now, lease=lease
                    ):
                        continue
                    done.append(await self.send(delivery))
                if held:
                    await self.db(self.outbox.release, held)
                return done

            batches = await asyncio.gather(*(work(v) for v in queues.values()))
            results.extend(r for batch in batches for r in batch)
        return results

    async def send(self, delivery: PendingDelivery) -> SendResult:
        """Attempt one claimed delivery and record the attempt."""
        started_at = self.clock()
        started = time.perf_counter()
        stories = 0
        try:
            receipt, stories = await self._send(delivery)
        except DeliveryError as exc:
            return await self._failed(delivery, exc, started_at, started, stories)
        latency = round((time.perf_counter() - started) * 1000)
        await self.db(
            self.outbox.record,
            delivery.id,
            outcome="sent",
            started_at=started_at,
            latency_ms=latency,
            now=self.clock(),
            status=receipt.status,
            response=receipt.response,
        )
        return self._logged(
            delivery,
            SendResult(
                delivery.id,
                delivery.subscription,
                delivery.channel,
                "sent",
                stories,
                http_status=receipt.status,
                response=receipt.response,
            ),
            latency,
        )

    async def _send(self, delivery: PendingDelivery) -> tuple[Receipt, int]:
        """Send through the right channel; only DeliveryError escapes."""
        try:
            if delivery.kind == "confirm":
                mailer = self._mailer(delivery.channel)
                message = delivery.payload
                receipt = await mailer.send_confirmation(
                    to=str(message["to"]),
                    subscription=str(message["subscription"]),
                    confirm_url=str(message["confirm_url"]),
                    created_at=delivery.created_at,
                )
                return receipt, 0
            digest = digest_from_payload(delivery.payload)
        except DeliveryError:
            raise
        except (KeyError, TypeError, ValueError) as exc:
            raise PermanentDeliveryError(
                delivery.channel, f"the stored message cannot be read: {exc}"
            ) from exc
        if delivery.channel.startswith(EMAIL_PREFIX):
            channel: Channel | Mailer = self._mailer(delivery.channel)
        else:
            found = self.channels.get(delivery.channel)
            if found is None:
                raise DeliveryError(delivery.channel, "channel is not configured any more")
            channel = found
        return await channel.send(digest), digest.entry_count

    def _mailer(self, destination: str) -> Mailer:
        if self.mailer is None:
            raise DeliveryError(destination, "no mail transport is configured")
        return self.mailer

    async def _failed(
        self,
        delivery: PendingDelivery,
        exc: DeliveryError,
        started_at: datetime,
        started: float,
        stories: int,
    ) -> SendResult:
        now = self.clock()
        latency = round((time.perf_counter() - started) * 1000)
        retry_at = None
        queued_at = delivery.queued_at or delivery.created_at
        too_old = now - queued_at > timedelta(hours=self.settings.delivery_max_age)
        permanent = isinstance(exc, PermanentDeliveryError)
        if not permanent and not too_old:
            retry_at = next_attempt(
                now,
                delivery.attempts + 1,
                retry_after=exc.retry_after,
                max_attempts=self.settings.max_delivery_attempts,
                rng=self.rng,
            )
        error = exc.message + (" (given up: older than the delivery max age)" if too_old else "")
        outcome: Literal["retry", "failed", "dead"] = (
            "retry" if retry_at else ("failed" if permanent else "dead")
        )
        result = await self.db(
            self.outbox.record,
            delivery.id,
            outcome=outcome,
            started_at=started_at,
            latency_ms=latency,
            now=now,
            status=exc.status,
            response=exc.response,
            error=error,
            next_attempt_at=retry_at,
            pause_after=self.settings.channel_pause_after,
        )
        if result.paused_now:
            self._paused.add(delivery.channel)
            await self._tell_operators(delivery.channel, result.health.paused_reason or "")
        return self._logged(
            delivery,
            SendResult(
                delivery.id,
                delivery.subscription,
                delivery.channel,
                "retry" if retry_at else "dead",
                stories,
                error,
                http_status=exc.status,
                response=exc.response,
            ),
            latency,
        )

    async def _tell_operators(self, channel: str, reason: str) -> None:
        event(log, "channel paused", level=logging.ERROR, channel=channel, reason=reason)
        ops = self.config.ops_channel
        if not ops or ops == channel:
            return  # never ask a paused channel to carry the news of its own pause
        notice = ops_notice(
            f"Channel {channel} is paused",
            f"{reason}. Its messages are kept and wait; resume it with "
            f"`alerts channels resume {channel}` once it works again.",
            now=self.clock(),
        )
        await self.db(self.outbox.enqueue, "ops", ops, digest_to_payload(notice), now=self.clock())

    def _logged(self, delivery: PendingDelivery, result: SendResult, latency: int) -> SendResult:
        event(
            log,
            "delivery",
            level=logging.INFO if result.status == "sent" else logging.WARNING,
            kind=delivery.kind,
            subscription=result.subscription,
            channel=result.channel,
            delivery=result.delivery_id,
            status=result.status,
            code=result.http_status,
            ms=latency,
            stories=result.stories,
            attempt=delivery.attempts + 1,
            key=delivery.idempotency_key,
            error=result.error,
        )
        return result

    # -- operators ---------------------------------------------------------------------
    async def send_test(self, channel: str) -> SendResult:
        """Queue a test message to `channel` and send it now; the result says what came back."""
        if channel not in self.channels:
            raise ValueError(f"no channel named {channel!r}")
        now = self.clock()
        notice = ops_notice(
            "Test message from Sanctions Alerts",
            f"If you can read this, the channel {channel} works.",
            now=now,
        )
        delivery_id = await self.db(
            self.outbox.enqueue, "test", channel, digest_to_payload(notice), now=now
        )
        lease = timedelta(seconds=self.settings.delivery_lease)
        mine = await self.db(self.outbox.claim_one, delivery_id, now, lease=lease)
        if mine is None:
            raise StoreError(f"the test message {delivery_id} was taken by another worker")
        return await self.send(mine)


def ops_notice(title: str, text: str, *, now: datetime) -> Digest:
    """A one-line message for the operators' channel, shaped as a digest every channel sends."""
    entry = DigestEntry(
        item_id=0,
        title=title,
        link=None,
        feed="sanctions-alerts",
        feed_title="Sanctions Alerts",
        published=now,
        matches=(
            Match(
                watchlist="operations",
                term="notice",
                field="summary",
                start=0,
                end=0,
                snippet=text,
            ),
        ),
    )
    return Digest(
        subscription="operations",
        idempotency_key=uuid.uuid4().hex,
        created_at=now.astimezone(UTC),
        sections=(DigestSection("operations", (entry,)),),
        urgent=True,
        notice=True,
    )


def _address(recipient: str) -> str:
    return (parseaddr(recipient)[1] or recipient).lower()
