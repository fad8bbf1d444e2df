"""The one place that composes the layers: sources -> dedup -> matching -> store -> delivery.

A poll asks the store which feeds are due, fetches them concurrently (a 304 ends there),
parses the bytes into items, gives each an identity, drops the ones already stored, matches
the new ones and writes them with their matches and queued alerts in ONE transaction.
Delivery turns each due subscription's queued alerts into a digest, writes the delivery row
(and attaches the alerts to it) BEFORE sending, then marks it sent: a crash in between means
the same digest, with the same idempotency key, is sent again on restart (at-least-once),
never lost and never rebuilt with other content.

Database calls run on one worker thread so the event loop never blocks on I/O and SQLite
sees a single writer.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Literal, ParamSpec, TypeVar

from alerts.config import Config, Settings
from alerts.dedup import unique_items
from alerts.delivery.base import Channel
from alerts.delivery.digest import build_digest, digest_from_payload, digest_to_payload
from alerts.delivery.retry import next_attempt
from alerts.delivery.schedule import Schedule, parse_schedule
from alerts.domain import Digest, FeedState, Item, Match, NewItem, PendingDelivery
from alerts.errors import DeliveryError, PermanentDeliveryError, SourceError, StoreError
from alerts.logs import event, get_logger
from alerts.matching import Matcher, compile_watchlists
from alerts.sources.backoff import next_poll_after_error, next_poll_after_success
from alerts.sources.fetch import Fetcher
from alerts.sources.parse import parse_feed
from alerts.store.repository import Store

P = ParamSpec("P")
T = TypeVar("T")
log = get_logger("pipeline")


def utcnow() -> datetime:
    """The current time, aware UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class PollResult:
    """What one feed's poll did."""

    feed: str
    status: Literal["fetched", "not_modified", "error"]
    new_items: int = 0
    queued: int = 0
    error: str | None = None
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class SendResult:
    """What one delivery attempt did."""

    delivery_id: int
    subscription: str
    channel: str
    status: Literal["sent", "retry", "dead"]
    stories: int
    error: str | None = None


@dataclass(frozen=True, slots=True)
class PlannedDigest:
    """A digest built for a due subscription (and stored, unless it was a dry run)."""

    subscription: str
    channel: str
    digest: Digest
    delivery_id: int | None


class Pipeline:
    """Polls, matches, queues and delivers, with every step recorded in the store."""

    def __init__(
        self,
        *,
        config: Config,
        settings: Settings,
        store: Store,
        fetcher: Fetcher,
        matcher: Matcher | None = None,
        channels: Mapping[str, Channel],
        clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.settings = settings
        self.store = store
        self.fetcher = fetcher
        # Nothing matches until `refresh_matcher` has compiled the saved watchlists (on a
        # worker thread: a large list takes seconds); `open_pipeline` does it before use.
        self.matcher: Matcher = matcher or compile_watchlists([])
        self._watchlists_version: str | None = None
        self.channels = dict(channels)
        self.clock = clock
        self.rng = rng or random.Random()
        self.stopping = asyncio.Event()
        self._closed = False
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alerts-db")
        self._schedules: dict[str, Schedule] = {
            s.name: parse_schedule(s.schedule, config.timezone) for s in config.subscriptions
        }

    async def db(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run one store call (one transaction) on the database thread.

        Shielded: if the caller is cancelled (shutdown), the transaction still runs to its
        commit or rollback on that thread, so nothing is half-written.
        """
        loop = asyncio.get_running_loop()
        future = loop.run_in_executor(self._db, partial(fn, *args, **kwargs))
        return await asyncio.shield(future)

    async def aclose(self) -> None:
        """Wait for the database thread to finish its last transaction, then close channels."""
        if self._closed:
            return
        self._closed = True
        await asyncio.get_running_loop().run_in_executor(None, self._db.shutdown, True)
        for channel in self.channels.values():
            await channel.aclose()

    # -- configuration -----------------------------------------------------------------
    async def sync(self) -> None:
        """Write the configuration's feeds, watchlists and subscriptions into the store.

        Watchlists that do not compile are not written: the last saved version of each
        keeps working, and the problem is logged.
        """
        c = self.config
        for problem in c.watchlist_problems:
            event(log, "watchlist_rejected", level=logging.ERROR, problem=str(problem))
        await self.db(
            partial(self.store.sync_config, keep=c.rejected_watchlists),
            c.feeds,
            c.watchlists,
            c.channels,
            c.subscriptions,
            self.clock(),
        )

    async def refresh_matcher(self, *, force: bool = False) -> bool:
        """Recompile the saved watchlists if they changed; True when a new matcher is in use.

        The new matcher is built on a worker thread and swapped in with one assignment,
        so a poll running meanwhile keeps the matcher it started with.
        """
        version = await self.db(self.store.watchlists_version)
        if not force and version == self._watchlists_version:
            return False
        watchlists = await self.db(self.store.load_watchlists)
        started = time.monotonic()
        matcher = await asyncio.to_thread(compile_watchlists, watchlists)
        for problem in matcher.problems:
            event(log, "watchlist_rejected", level=logging.ERROR, problem=str(problem))
        self.matcher = matcher
        self._watchlists_version = version
        event(
            log,
            "matcher_compiled",
            watchlists=len(matcher.watchlists),
            entries=matcher.term_count,
            patterns=matcher.pattern_count,
            seconds=round(time.monotonic() - started, 3),
        )
        return True

    # -- polling -----------------------------------------------------------------------
    async def poll_due(
        self,
        *,
        only: Sequence[str] | None = None,
        force: bool = False,
        on_result: Callable[[PollResult], None] | None = None,
    ) -> list[PollResult]:
        """Poll every due feed (all of them with `force`, or the ones named in `only`)."""
        now = self.clock()
        states = await self.db(
            self.store.feed_states if force else partial(self.store.due_feeds, now)
        )
        states = [s for s in states if s.enabled and (only is None or s.name in only)]

        async def one(state: FeedState) -> PollResult:
            result = await self.poll_feed(state)
            if on_result is not None:
                on_result(result)
            return result

        return list(await asyncio.gather(*(one(s) for s in states)))

    async def poll_feed(self, state: FeedState) -> PollResult:
        """Fetch, parse, match and store one feed; errors are recorded on the feed."""
        started = time.monotonic()
        matcher = self.matcher  # one matcher for the whole poll, even if a rebuild lands
        if self.stopping.is_set():
            return PollResult(state.name, "error", error="shutting down")
        feed = self.config.feed(state.name)
        interval = feed.interval if feed else state.interval
        try:
            result = await self.fetcher.fetch(
                state.name, state.url, etag=state.etag, last_modified=state.last_modified
            )
            now = self.clock()
            if result.not_modified:
                await self.db(
                    self.store.record_not_modified,
                    state.name,
                    now=now,
                    next_poll_at=next_poll_after_success(now, interval),
                )
                outcome = PollResult(state.name, "not_modified", seconds=time.monotonic() - started)
                self._log_poll(outcome)
                return outcome
            assert result.body is not None
            items = parse_feed(state.name, result.body, url=result.url, headers=result.headers)
            identified = unique_items(items)
            known = await self.db(
                self.store.known_keys, state.name, [identity.key for _, identity in identified]
            )
            fresh = [(item, identity) for item, identity in identified if identity.key not in known]
            # Matching is CPU work (up to MAX_FIELD_CHARS per field): off the event loop.
            found = await asyncio.to_thread(
                lambda: [self._match_one(matcher, state.name, item) for item, _ in fresh]
            )
            new = [
                NewItem(item, identity, matches)
                for (item, identity), matches in zip(fresh, found, strict=True)
            ]
            stored = await self.db(
                self.store.record_poll,
                state.name,
                now=now,
                next_poll_at=next_poll_after_success(now, interval),
                url=result.permanent_url or state.url,
                etag=result.etag,
                last_modified=result.last_modified,
                items=new,
            )
            outcome = PollResult(
                state.name,
                "fetched",
                new_items=stored.new_items,
                queued=stored.queued,
                seconds=time.monotonic() - started,
            )
        except SourceError as exc:
            outcome = await self._poll_failed(
                state, interval, exc.message, getattr(exc, "retry_after", None), started
            )
        except StoreError as exc:
            # The database failed: nothing of this poll was written; try again next tick.
            outcome = PollResult(
                state.name, "error", error=f"database: {exc}", seconds=time.monotonic() - started
            )
        except Exception as exc:  # a bug must cost one feed one poll, not the whole job
            log.exception("poll failed", extra={"fields": {"feed": state.name}})
            message = f"internal error: {type(exc).__name__}: {exc}"
            outcome = await self._poll_failed(state, interval, message, None, started)
        self._log_poll(outcome)
        return outcome

    @staticmethod
    def _match_one(matcher: Matcher, feed: str, item: Item) -> tuple[Match, ...]:
        """The item's matches; an engine failure is logged and the item stored unmatched,
        so one odd item never holds back the rest of its feed."""
        try:
            return matcher.match(item)
        except Exception as exc:
            event(
                log,
                "match_failed",
                level=logging.ERROR,
                feed=feed,
                guid=item.guid,
                link=item.link,
                error=f"{type(exc).__name__}: {exc}",
            )
            return ()

    async def _poll_failed(
        self,
        state: FeedState,
        interval: timedelta,
        message: str,
        retry_after: float | None,
        started: float,
    ) -> PollResult:
        now = self.clock()
        next_at = next_poll_after_error(
            now, interval, state.error_count + 1, retry_after=retry_after, rng=self.rng
        )
        try:
            await self.db(
                self.store.record_feed_error,
                state.name,
                now=now,
                error=message,
                next_poll_at=next_at,
            )
        except StoreError as exc:
            message = f"{message}; and the error could not be recorded: {exc}"
        return PollResult(state.name, "error", error=message, seconds=time.monotonic() - started)

    def _log_poll(self, r: PollResult) -> None:
        event(
            log,
            "poll",
            level=logging.WARNING if r.status == "error" else logging.INFO,
            feed=r.feed,
            status=r.status,
            new=r.new_items,
            queued=r.queued,
            ms=round(r.seconds * 1000),
            error=r.error,
        )

    # -- digests -----------------------------------------------------------------------
    async def plan_digests(
        self, *, only: str | None = None, force: bool = False, dry_run: bool = False
    ) -> list[PlannedDigest]:
        """Build a digest for every due subscription and store it with its delivery row.

        `force` ignores the schedule (anything pending goes now); `dry_run` builds and
        returns the digests without writing anything.
        """
        now = self.clock()
        planned: list[PlannedDigest] = []
        for state in await self.db(self.store.subscription_states):
            sub = state.subscription
            if only is not None and sub.name != only:
                continue
            schedule = self._schedules.get(sub.name) or parse_schedule(
                sub.schedule, self.config.timezone
            )
            next_at = schedule.next_after(now)
            if not force:
                if schedule.immediate:
                    if state.pending == 0:
                        continue
                elif state.next_digest_at is None:
                    # First sight of this subscription: start its clock, send at the next slot.
                    if not dry_run:
                        await self.db(self.store.set_next_digest, sub.name, next_at)
                    continue
                elif state.next_digest_at > now:
                    continue
            entries = await self.db(self.store.pending_entries, sub.name)
            if not entries:
                if not dry_run and not schedule.immediate:
                    await self.db(self.store.set_next_digest, sub.name, next_at)
                continue
            key = uuid.uuid4().hex
            digest = build_digest(
                sub, entries, idempotency_key=key, now=now, timezone=schedule.zone
            )
            delivery_id = None
            if not dry_run:
                try:
                    delivery_id = await self.db(
                        self.store.create_delivery,
                        sub.name,
                        channel=sub.channel,
                        idempotency_key=key,
                        queue_ids=[e.queue_id for e in entries],
                        payload=digest_to_payload(digest),
                        now=now,
                        next_digest_at=next_at,
                    )
                except StoreError as exc:
                    # Nothing was written (e.g. the alerts were taken by another digest
                    # meanwhile); the next tick plans again from what is still pending.
                    event(
                        log,
                        "digest failed",
                        level=logging.WARNING,
                        subscription=sub.name,
                        error=str(exc),
                    )
                    continue
                event(
                    log,
                    "digest",
                    subscription=sub.name,
                    channel=sub.channel,
                    stories=digest.entry_count,
                    delivery=delivery_id,
                    key=key,
                )
            planned.append(PlannedDigest(sub.name, sub.channel, digest, delivery_id))
        return planned

    async def send_pending(self) -> list[SendResult]:
        """Send every pending delivery whose time has come; one channel's failure stops none."""
        pending = await self.db(self.store.pending_deliveries, self.clock())
        by_channel: dict[str, list[PendingDelivery]] = {}
        for delivery in pending:
            by_channel.setdefault(delivery.channel, []).append(delivery)

        async def channel_queue(items: list[PendingDelivery]) -> list[SendResult]:
            results = []
            for delivery in items:
                if self.stopping.is_set():
                    break
                results.append(await self.send(delivery))
            return results

        batches = await asyncio.gather(*(channel_queue(v) for v in by_channel.values()))
        return [r for batch in batches for r in batch]

    async def send(self, delivery: PendingDelivery) -> SendResult:
        """Attempt one delivery and record the outcome."""
        digest = digest_from_payload(delivery.payload)
        channel = self.channels.get(delivery.channel)
        status: Literal["sent", "retry", "dead"] = "sent"
        error: str | None = None
        try:
            if channel is None:
                raise DeliveryError(delivery.channel, "channel is not configured any more")
            await channel.send(digest)
        except DeliveryError as exc:
            now = self.clock()
            retry_at = None
            if not isinstance(exc, PermanentDeliveryError):
                retry_at = next_attempt(
                    now,
                    delivery.attempts + 1,
                    retry_after=exc.retry_after,
                    max_attempts=self.settings.max_delivery_attempts,
                    rng=self.rng,
                )
            await self.db(
                self.store.mark_failed,
                delivery.id,
                now=now,
                error=exc.message,
                next_attempt_at=retry_at,
            )
            status, error = ("retry" if retry_at else "dead"), exc.message
        else:
            await self.db(self.store.mark_sent, delivery.id, now=self.clock())
        result = SendResult(
            delivery.id, delivery.subscription, delivery.channel, status, digest.entry_count, error
        )
        event(
            log,
            "delivery",
            subscription=result.subscription,
            channel=result.channel,
            delivery=result.delivery_id,
            status=result.status,
            stories=result.stories,
            attempt=delivery.attempts + 1,
            key=digest.idempotency_key,
            error=result.error,
        )
        return result

    async def deliver_due(self) -> list[SendResult]:
        """Plan due digests, then send everything pending."""
        await self.plan_digests()
        return await self.send_pending()
