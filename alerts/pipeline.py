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
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, Literal, ParamSpec, TypeVar

from alerts.classify import designation_facets, item_facets
from alerts.config import Config, Settings
from alerts.dedup.fingerprint import fingerprint, fingerprint_from_record, fingerprint_to_record
from alerts.dedup.identity import FeedHabits, Verdict, lookup_keys, page_key, resolve
from alerts.dedup.stories import ListingIndex, Placement, StoryIndex, same_person
from alerts.delivery.base import Channel
from alerts.delivery.links import Links
from alerts.dispatch import Dispatcher, Mailer, PlannedDigest, SendResult
from alerts.domain import (
    Feed,
    FeedState,
    Identity,
    Item,
    ItemUpdate,
    Match,
    NewItem,
    SourceKind,
)
from alerts.errors import (
    ExtractionError,
    ParseError,
    SourceError,
    StoreError,
)
from alerts.logs import event, get_logger
from alerts.matching import Matcher, compile_watchlists
from alerts.sources.article import extract_article
from alerts.sources.backoff import next_poll_after_error, next_poll_after_success
from alerts.sources.boilerplate import clean_items, clean_text
from alerts.sources.fetch import Fetcher, FetchResult
from alerts.sources.jsonapi import JsonApiSpec
from alerts.sources.lists import ListFormatError, Snapshot, diff
from alerts.sources.lists.items import change_items
from alerts.sources.lists.model import Delta
from alerts.sources.lists.snapshots import dump_snapshot, load_snapshot
from alerts.sources.lists.spec import ListSpec, read_list
from alerts.sources.lists.xmlstream import Source
from alerts.sources.read import read_page
from alerts.store.repository import ListSnapshot, Store

P = ParamSpec("P")
LIST_MAX_BYTES = 256 * 1024 * 1024  # the UK list is ~50 MB, the SDN XML ~29 MB
LIST_TOTAL_TIMEOUT = 900.0
LIST_SPOOL_OVER = 4 * 1024 * 1024  # a bigger list file goes to a temporary file, not memory
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
    updated: int = 0  # stored items the publisher edited (new revisions)
    joined: int = 0  # later sources of stories subscriptions already have (update lines)
    error: str | None = None
    seconds: float = 0.0


class StoryTracker:
    """Puts each new item into a story, across feeds, polls and restarts.

    An item joins the story of a stored item with the same page URL (its link, or the
    canonical URL its page names), else the story the near-duplicate index places it in
    (`alerts.dedup.stories`), else starts a story keyed by its own URL (or content hash).
    The index holds the last `window` of fingerprinted items; it is rebuilt from the store
    on start and caught up with items other processes stored before each placement.
    """

    def __init__(
        self,
        store: Store,
        db: Callable[..., Awaitable[Any]],
        *,
        window: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self._db = db
        self.window = window
        self.clock = clock
        self.index = StoryIndex(window=window)
        self.lock = asyncio.Lock()
        self._cursor = 0  # every stored item up to this id is in the index (or too old)
        self._added: set[int] = set()  # ids above the cursor that are in the index already
        # List changes by listed name, so later news naming the person joins their story.
        self.listings = ListingIndex()
        self._listing_cursor = 0
        self._listed: set[int] = set()  # ids above that cursor already in `listings`

    async def load(self) -> int:
        """Add the fingerprinted items stored since the last load; how many were added."""
        since = self.clock() - self.window
        points = await self._db(self.store.story_points, since=since, after_id=self._cursor)
        added = 0
        for point in points:
            if point.item_id not in self._added:
                try:
                    fp = fingerprint_from_record(point.fingerprint)
                except ValueError as exc:  # written by another version: skip, don't crash
                    event(log, "fingerprint_unreadable", item=point.item_id, error=str(exc))
                    continue
                try:
                    self.index.add(
                        point.item_id,
                        point.story_key,
                        fp,
                        at=point.fetched_at,
                        official=point.official,
                    )
                except ValueError:  # already there (a `remember` that failed half-way)
                    continue
                added += 1
            self._cursor = max(self._cursor, point.item_id)
        self._added = {i for i in self._added if i > self._cursor}
        changes = await self._db(
            self.store.designation_points,
            since=self.clock() - self.listings.window,
            after_id=self._listing_cursor,
        )
        for point in changes:
            if point.item_id not in self._listed and point.action in LISTING_ACTIONS:
                self.listings.add(
                    point.item_id, point.story_key, point.names, at=point.fetched_at,
                    issuer=point.issuer,
                )  # fmt: skip
            self._listing_cursor = max(self._listing_cursor, point.item_id)
        self._listed = {i for i in self._listed if i > self._listing_cursor}
        return added

    async def fingerprint(self, new: Sequence[NewItem]) -> list[NewItem]:
        """`new` with fingerprints (computed on a worker thread)."""

        def compute() -> list[NewItem]:
            # Designation items are not fingerprinted: "X added to the SDN list" items of
            # one file read alike and would fold into one story, hiding all but the first.
            return [
                n
                if n.item.designation is not None
                else replace(
                    n,
                    fingerprint=fingerprint_to_record(
                        fingerprint(n.item.title, n.item.content or n.item.summary)
                    ),
                )
                for n in new
            ]

        return await asyncio.to_thread(compute) if new else []

    async def assign(
        self, new: Sequence[NewItem], *, official: bool, now: datetime
    ) -> list[NewItem]:
        """`new` with their story keys and reasons. Call with `lock` held."""
        if not new:
            return []
        await self.load()
        urls = {k for n in new for k in _page_keys(n.item, n.identity) if k}
        by_url = await self._db(self.store.stories_by_url, urls)
        batch = StoryIndex(window=self.window)  # this poll's items find each other too
        placed: list[NewItem] = []
        for position, n in enumerate(new):
            story, reason = None, ""
            for key in _page_keys(n.item, n.identity):
                if key in by_url:
                    story, reason = by_url[key], "same page URL as an earlier item"
                    break
            fp = fingerprint_from_record(n.fingerprint) if n.fingerprint else None
            record = n.item.designation
            if story is None and record is not None:
                placement = await self._naming_story(record.names, now)
                if placement is not None:
                    story, reason = placement.story_id, placement.reason
            if story is None and fp is not None:
                placement = self.index.place(fp, at=now, official=official) or batch.place(
                    fp, at=now, official=official
                )
                if placement is not None:
                    story, reason = placement.story_id, placement.reason
            if story is None and fp is not None and n.item.facets.has("sanctions_action", "true"):
                # News of an action naming someone listed in the last days: the listing's story.
                named = [name for name in fp.names if not self.index.is_common(name)]
                issuer = next(iter(n.item.facets.get("issuer")), "")
                placement = self.listings.find(named, at=now, issuer=issuer)
                if placement is not None:
                    story, reason = placement.story_id, placement.reason
            story = story or n.identity.story_key
            if fp is not None:
                batch.add(-1 - position, story, fp, at=now, official=official)
            for key in _page_keys(n.item, n.identity):
                by_url.setdefault(key, story)
            placed.append(
                replace(n, identity=replace(n.identity, story_key=story), story_reason=reason)
            )
        return placed

    async def _naming_story(self, names: Sequence[str], now: datetime) -> Placement | None:
        """The story of the newest notice (else report) naming a listed entity, if any."""
        candidates = self.index.naming_candidates(names, at=now)
        if not candidates:
            return None
        found = await self._db(self.store.fingerprint_names, [c.item_id for c in candidates])
        for candidate in candidates:
            texts = found.get(candidate.item_id, ())
            if any(same_person(listed, named) for listed in names for named in texts):
                return candidate
        return None

    def remember(
        self,
        new: Sequence[NewItem],
        item_ids: Mapping[str, int],
        *,
        official: bool,
        now: datetime,
    ) -> None:
        """Add the stored items of a poll to the index. Call with `lock` held."""
        for n in new:
            item_id = item_ids.get(n.identity.key)
            record = n.item.designation
            if item_id is not None and record is not None and record.action in LISTING_ACTIONS:
                issuer = next(iter(n.item.facets.get("issuer")), "")
                self.listings.add(
                    item_id, n.identity.story_key, record.names, at=now, issuer=issuer
                )
                if item_id > self._listing_cursor:
                    self._listed.add(item_id)
            if item_id is None or n.fingerprint is None:
                continue
            fp = fingerprint_from_record(n.fingerprint)
            self.index.add(item_id, n.identity.story_key, fp, at=now, official=official)
            if item_id > self._cursor:
                self._added.add(item_id)


DELTA_GAP = timedelta(hours=36)  # change files are daily; a day and a half apart is a gap
# List changes that later news about the person describes (not amendments: a renewal can
# amend hundreds of entries, and the next report naming one of them is about something else).
LISTING_ACTIONS = frozenset({"added", "removed"})


def _delta_gap(
    state: FeedState, stored: ListSnapshot | None, published: datetime | None, now: datetime
) -> list[str]:
    """A warning when this change file was published long after the last one read AND
    the source went unread meanwhile (no file over a weekend is normal: OFAC publishes
    on working days; what matters is whether we could have fetched one)."""
    if stored is None or stored.published is None or published is None:
        return []
    gap = published - stored.published
    unread = now - state.last_success_at if state.last_success_at else gap
    if gap <= DELTA_GAP or unread <= DELTA_GAP:
        return []
    return [
        f"change file of {published:%Y-%m-%d %H:%M} follows one of "
        f"{stored.published:%Y-%m-%d %H:%M}: files published in between (if any) were "
        "missed; compare with the full list"
    ]


def _classified(items: Sequence[Item], *, issuer: str, official: bool) -> list[Item]:
    """Items with their facets: from the record for designations, else from the text."""
    out = []
    for item in items:
        if item.designation is not None:
            facets = designation_facets(item.designation, issuer=issuer)
        else:
            facets = item_facets(item.title, item.summary, issuer=issuer, official=official)
        out.append(replace(item, facets=facets))
    return out


def _without_furniture(
    items: Sequence[Item], state: FeedState
) -> tuple[list[Item], frozenset[str]]:
    """The items' text without page furniture, and the feed's furniture keys.

    News feeds learn: a paragraph recurring across different stories of the feed is the
    site's promo box or footer. Official feeds do not: their recurring paragraphs are legal
    text ("all property and interests in property ... are blocked", "E.O. 13662") that a
    watchlist may well be looking for; cue phrases still remove their page furniture.
    """
    if not state.official:
        return clean_items(items, state.boilerplate)
    return [
        replace(
            item,
            summary=clean_text(item.summary, boilerplate=state.boilerplate),
            content=clean_text(item.content, boilerplate=state.boilerplate),
        )
        for item in items
    ], state.boilerplate


def _page_keys(item: Item, identity: Identity) -> list[str]:
    """The item's page URL keys: its link's, and its page's canonical URL's."""
    keys = [identity.url_key] if identity.url_key else []
    canonical = page_key(item.canonical_url) if item.canonical_url else None
    if canonical and canonical not in keys:
        keys.append(canonical)
    return keys


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
        mailer: Mailer | None = None,
        links: Links | None = None,
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
        # Official list files are tens of MB: a bigger cap and a longer deadline for them.
        self._list_limits = replace(
            fetcher.limits,
            max_bytes=max(fetcher.limits.max_bytes, LIST_MAX_BYTES),
            total_timeout=max(fetcher.limits.total_timeout, LIST_TOTAL_TIMEOUT),
            spool_over=LIST_SPOOL_OVER,
        )
        self.stories = StoryTracker(
            store, self.db, window=timedelta(days=settings.story_window_days), clock=clock
        )
        self.mailer = mailer
        self.dispatcher = Dispatcher(
            config=config,
            settings=settings,
            store=store,
            db=self.db,
            channels=self.channels,
            mailer=mailer,
            links=links,
            clock=clock,
            rng=self.rng,
            stopping=self.stopping,
        )

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
        if self.mailer is not None:
            await self.mailer.aclose()

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
        kind = feed.kind if feed else SourceKind.FEED
        try:
            result = await self.fetcher.fetch(
                state.name,
                state.url,
                etag=state.etag,
                last_modified=state.last_modified,
                limits=self._list_limits if kind is SourceKind.LIST else None,
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
            snapshot: ListSnapshot | None = None
            problems: list[str] = []
            if kind is SourceKind.LIST:
                try:
                    body = result.file if result.file is not None else result.body
                    assert body is not None
                    items, snapshot, problems = await self._read_list(
                        state, feed, body, now=now,
                        fallback_occasion=result.etag or result.last_modified or "",
                    )  # fmt: skip
                finally:
                    result.close()
            else:
                items, problems = await self._read_pages(state, feed, kind, result)
            # Identity from the text as published: what counts as furniture is learned as
            # polls go by, and must not make an item look edited (or new) when it does.
            known, dead = await self.db(self.store.identity_lookup, state.name, lookup_keys(items))
            habits = FeedHabits(state.guids_unreliable, state.links_unreliable)
            resolution = resolve(items, known, habits=habits, tombstones=dead)
            for problem in resolution.anomalies:
                event(log, "feed_anomaly", level=logging.WARNING, feed=state.name, problem=problem)
            if kind is SourceKind.LIST:  # no furniture in records we wrote ourselves
                cleaned, boilerplate = items, state.boilerplate
            else:
                cleaned, boilerplate = _without_furniture(items, state)
            cleaned = await asyncio.to_thread(
                _classified, cleaned, issuer=feed.issuer if feed else "", official=state.official
            )
            clean = {id(raw): item for raw, item in zip(items, cleaned, strict=True)}
            fresh = [(clean[id(r.item)], r.identity) for r in resolution.of(Verdict.NEW)]
            # An edited entry is matched with the article text already stored for it, so
            # the edit neither loses those matches nor counts them as new.
            edits = [
                replace(
                    r,
                    item=replace(
                        clean[id(r.item)], content=clean[id(r.item)].content or r.known.content
                    ),
                )
                for r in resolution.of(Verdict.UPDATE)
                if r.known is not None
            ]
            errors: list[str | None] = [None] * len(fresh)
            if state.fetch_article and fresh:
                fresh, errors, boilerplate = await self._with_articles(
                    state.name, fresh, boilerplate, official=state.official
                )
            # Matching is CPU work (up to MAX_FIELD_CHARS per field): off the event loop.
            to_match = [item for item, _ in fresh] + [r.item for r in edits]
            found = await asyncio.to_thread(
                lambda: [self._match_one(matcher, state.name, item) for item in to_match]
            )
            new = [
                NewItem(item, identity, matches, extract_error=error)
                for (item, identity), matches, error in zip(
                    fresh, found[: len(fresh)], errors, strict=True
                )
            ]
            updates = [
                ItemUpdate(r.known.item_id, r.item, r.identity, matches)
                for r, matches in zip(edits, found[len(fresh) :], strict=True)
                if r.known is not None
            ]
            new = await self.stories.fingerprint(new)
            # One poll at a time from placing its items in stories to storing them, so a
            # story syndicated in two feeds polled together still becomes one story.
            async with self.stories.lock:
                new = await self.stories.assign(new, official=state.official, now=now)
                stored = await self.db(
                    self.store.record_poll,
                    state.name,
                    now=now,
                    next_poll_at=next_poll_after_success(now, interval),
                    url=result.permanent_url or state.url,
                    etag=result.etag,
                    last_modified=result.last_modified,
                    items=new,
                    updates=updates,
                    guids_unreliable=resolution.habits.guids_unreliable,
                    links_unreliable=resolution.habits.links_unreliable,
                    anomalies=[*resolution.anomalies, *problems],
                    boilerplate=sorted(boilerplate - state.boilerplate),
                    snapshot=snapshot,
                )
                try:
                    self.stories.remember(new, stored.item_ids, official=state.official, now=now)
                except Exception:  # stored already: the next load() adds them from the store
                    log.exception(
                        "story index update failed", extra={"fields": {"feed": state.name}}
                    )
            outcome = PollResult(
                state.name,
                "fetched",
                new_items=stored.new_items,
                queued=stored.queued,
                updated=stored.updated,
                joined=stored.members,
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

    async def _read_pages(
        self, state: FeedState, feed: Feed | None, kind: SourceKind, first: FetchResult
    ) -> tuple[list[Item], list[str]]:
        """Items of a feed, listing page or JSON API (following an API's next pages), and
        the problems found in them (rows skipped, dates unread), for the feed's anomalies.

        Later pages are fetched unconditionally, up to the spec's `max_pages`; a failing
        later page fails the poll (nothing is stored, the next poll starts over), so a
        half-read answer never passes for the whole one. Stopping the service, or reaching
        `max_pages` with more pages announced, keeps the pages read: identity dedup makes
        the next poll's overlap harmless, and the page cap is reported.
        """
        spec = feed.spec if feed else None
        max_pages = spec.max_pages if isinstance(spec, JsonApiSpec) else 1
        assert first.body is not None
        page = read_page(state.name, kind, spec, first.body, url=first.url, headers=first.headers)
        items, problems, seen = list(page.items), list(page.problems), {first.url}
        while page.next_url and len(seen) < max_pages and not self.stopping.is_set():
            if page.next_url in seen:
                problems.append(f"next page {page.next_url} was already read; stopped there")
                break
            seen.add(page.next_url)
            result = await self.fetcher.fetch(state.name, page.next_url)
            if result.body is None:
                break
            page = read_page(
                state.name, kind, spec, result.body, url=result.url, headers=result.headers
            )
            items.extend(page.items)
            problems.extend(page.problems)
        if page.next_url and len(seen) >= max_pages > 1:
            problems.append(f"stopped after max_pages = {max_pages}; more pages were announced")
        for problem in problems:
            event(log, "source_problem", level=logging.WARNING, feed=state.name, problem=problem)
        return items, problems

    async def _read_list(
        self,
        state: FeedState,
        feed: Feed | None,
        body: Source,
        *,
        now: datetime,
        fallback_occasion: str = "",
    ) -> tuple[list[Item], ListSnapshot | None, list[str]]:
        """Designation items for what changed in a list file, the snapshot to store, and
        what operators should know (a stored snapshot that could not be read).

        A change file (OFAC SLS, OpenSanctions delta) gives its changes as they are; a full
        list is diffed against the stored snapshot (none yet: a silent baseline). The diff
        refuses a truncated or suspiciously smaller file (a source error; the stored
        snapshot stays), so a bad download never turns into "removed" alerts.
        """
        spec = feed.spec if feed else None
        if not isinstance(spec, ListSpec):
            raise ParseError(state.name, "not configured as a list source (no format)")
        title = feed.title if feed else state.title
        parsed = await asyncio.to_thread(read_list, spec, state.name, body)
        stored = await self.db(self.store.list_snapshot, state.name)
        if isinstance(parsed, Delta):
            # A file without a date (OpenSanctions) is told apart by its validators.
            occasion = parsed.published.isoformat() if parsed.published else fallback_occasion
            items = change_items(
                state.name, title, parsed.changes, published=parsed.published or now,
                occasion=occasion,
            )  # fmt: skip
            # Only the publication date is kept for a change file: enough to notice that
            # files were missed while the source was failing (they are not fetched again).
            problems = _delta_gap(state, stored, parsed.published, now)
            published = parsed.published or (stored.published if stored else None)
            mark = ListSnapshot(spec.format.value, published, len(parsed.changes), b"")
            return items, mark, problems
        previous: Snapshot | None = None
        problems = []
        if stored is not None and stored.format == spec.format.value:
            try:
                previous = await asyncio.to_thread(load_snapshot, stored.data)
            except ListFormatError as exc:  # written by another version: start again
                problems.append(f"{exc.message}; this file is a new baseline, changes since "
                                "the last good file are not announced")  # fmt: skip
                event(log, "list_baseline", level=logging.WARNING, feed=state.name, why=str(exc))
        changes = await asyncio.to_thread(
            diff, previous, parsed, max_removed_share=spec.max_removed_share
        )
        if changes.baseline:
            event(log, "list_baseline", feed=state.name, records=len(parsed.records))
        data = await asyncio.to_thread(dump_snapshot, parsed)
        snapshot = ListSnapshot(spec.format.value, parsed.published, len(parsed.records), data)
        # Named after the snapshot diffed against, not the clock: two pollers diffing the
        # same snapshot make the same items (deduplicated), while a change made again
        # later is diffed against a later snapshot and is news again.
        since = stored.fetched_at.isoformat() if stored and stored.fetched_at else "baseline"
        items = change_items(
            state.name, title, changes.changes, published=parsed.published or now,
            occasion=since,
        )  # fmt: skip
        return items, snapshot, problems

    async def _with_articles(
        self,
        feed: str,
        fresh: list[tuple[Item, Identity]],
        boilerplate: frozenset[str],
        *,
        official: bool,
    ) -> tuple[list[tuple[Item, Identity]], list[str | None], frozenset[str]]:
        """Fetch each new item's page and use its main text as the item's content.

        Only new items, at most `max_articles_per_poll` of them, through the shared fetcher
        (its overall and per-host limits and size cap apply). A page that fails keeps the
        item with its feed text and the error recorded on it. Paragraphs that recur across
        the pages of this poll are learned as the site's furniture, like feed text (not
        for official feeds, see `_without_furniture`).
        """
        limit = self.settings.max_articles_per_poll

        async def one(index: int, item: Item) -> tuple[Item, str | None]:
            if not item.link:
                return item, "no link to fetch the article from"
            if index >= limit:
                return item, f"article not fetched: over {limit} new items in one poll"
            try:
                page = await self.fetcher.fetch(feed, item.link)
                if page.body is None:
                    return item, "article page answered 304 Not Modified to a first request"
                article = await asyncio.to_thread(
                    extract_article,
                    page.body,
                    url=page.url,
                    content_type=page.headers.get("content-type", ""),
                    feed_text=item.content or item.summary,
                    feed=feed,
                )
            except SourceError as exc:
                message = exc.message
                if not isinstance(exc, ExtractionError):  # those name the page already
                    message = f"article {item.link}: {message}"
                event(
                    log,
                    "article_failed",
                    level=logging.WARNING,
                    feed=feed,
                    link=item.link,
                    error=message,
                )
                return item, message
            return (
                replace(
                    item,
                    content=article.text,
                    canonical_url=article.canonical_url,
                    published=item.published or article.published,
                ),
                None,
            )

        done = await asyncio.gather(*(one(i, item) for i, (item, _) in enumerate(fresh)))
        if official:
            cleaned = [
                replace(item, content=clean_text(item.content, boilerplate=boilerplate))
                for item, _ in done
            ]
        else:
            cleaned, boilerplate = clean_items([item for item, _ in done], boilerplate)
        return (
            [(item, identity) for item, (_, identity) in zip(cleaned, fresh, strict=True)],
            [error for _, error in done],
            boilerplate,
        )

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
            updated=r.updated,
            queued=r.queued,
            joined=r.joined,
            ms=round(r.seconds * 1000),
            error=r.error,
        )

    # -- delivery (alerts.dispatch) -----------------------------------------------------
    async def plan_digests(
        self, *, only: str | None = None, force: bool = False, dry_run: bool = False
    ) -> list[PlannedDigest]:
        """Build and store the digests due now (see `Dispatcher.plan_digests`)."""
        return await self.dispatcher.plan_digests(only=only, force=force, dry_run=dry_run)

    async def send_pending(self) -> list[SendResult]:
        """Send every message whose time has come (see `Dispatcher.send_pending`)."""
        return await self.dispatcher.send_pending()

    async def deliver_due(self) -> list[SendResult]:
        """Plan due digests, then send everything pending."""
        await self.dispatcher.plan_digests(collect=False)
        return await self.send_pending()
