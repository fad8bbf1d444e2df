"""Delivery throughput and memory: `python benchmarks/bench_delivery.py [--subscribers N]`.

Measures the service's own delivery path, end to end, against real local servers:

- a real database (an SQLite file; with `--postgres`, PostgreSQL in a fresh schema too),
  migrated with `alerts.store.upgrade`, holding N subscribers' own subscriptions
  (`Subscription(email=..., schedule="daily 08:00", timezone=...)` in twelve IANA zones)
  synced by `Pipeline.sync`. A first `plan_digests` a day before the measured run starts
  their schedules (a new subscription's first plan only sets its next slot), then
  `Store.record_poll` writes real items and queue rows: nine stories matched by the real
  matcher, one of them carried by three feeds, so each subscriber has 3, 4 or 5 stories
  waiting (7 queue rows for a third of them);
- planning: `Dispatcher.plan_digests` (through `Pipeline`, with a fixed clock at which every
  digest is due) reads each subscription's pending alerts, builds the digest and writes it
  with its outbox row;
- sending: `Dispatcher.send_pending` claims the outbox with leases, renews each lease,
  sends each digest and records each attempt. Email goes through `build_mailer`
  (`SmtpChannel`) to an aiosmtpd server in another process, with `build_links` set (base
  URL https://alerts.example), so every message carries List-Unsubscribe and
  List-Unsubscribe-Post; webhooks go through `build_channels` (`WebhookChannel`, Standard
  Webhooks signing with a secret) to a small asyncio HTTP server in another process that
  checks every signature with the reference `standardwebhooks` library and answers 200.

Setting up the database runs in its own process, and each measured run in a fresh process
of its own, so the peak RSS reported (`ru_maxrss`) is that run's: imports, plan and send.
The servers run in processes of their own, so their CPU is not ours; but this machine may
have few cores, and the servers (and PostgreSQL) share them with the benchmark.
Logging is configured as the service does it (`alerts.logs.configure`, INFO, text), to a
file, so each run pays for its log lines. The run checks that every digest was planned,
sent, recorded and received (with its unsubscribe headers, or a valid signature).

`--steps` times each step of the path (store calls, rendering, SMTP, HTTP) at a few µs per
call. `--profile` runs the scenarios under cProfile, one profiler per thread; rates under
the profiler are slower. `--tracemalloc` adds the traced peak (and slows the run).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import cProfile
import hashlib
import multiprocessing
import os
import pstats
import resource
import secrets
import shutil
import sys
import tempfile
import threading
import time
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alerts.app import build_channels, build_links, build_mailer
from alerts.config import Config, Settings
from alerts.dedup.identity import identify
from alerts.domain import (
    ChannelConfig,
    ChannelKind,
    Feed,
    Item,
    NewItem,
    Subscription,
    Watchlist,
)
from alerts.logs import configure
from alerts.matching import compile_watchlists
from alerts.pipeline import Pipeline
from alerts.sources.fetch import Fetcher
from alerts.store import Store, make_engine, normalise_url, upgrade
from benchmarks.bench_matching import machine  # where and when the figures were taken

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BASE_URL = "https://alerts.example"
SENDER = "Sanctions Alerts <alerts@alerts.example>"
LINK_KEY = "bench-delivery-link-signing-key-0123456789abcdef"
# A Standard Webhooks secret: "whsec_" and the base64 of 24 bytes.
HOOK_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TARGET_EMAILS = 200.0  # per second
TARGET_WEBHOOKS = 500.0  # per second
TARGET_RSS_MB = 300.0

# The schedules start at T_START (a first plan, nothing pending); the alerts are queued at
# T_QUEUE; at T_RUN, a day and a bit after T_START, every zone's 08:00 has passed once.
T_START = datetime(2026, 11, 28, 6, 0, tzinfo=UTC)
T_QUEUE = datetime(2026, 11, 28, 18, 0, tzinfo=UTC)
T_RUN = T_START + timedelta(days=1, minutes=5)
ZONES = (
    "UTC",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Kyiv",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/New_York",
    "America/Los_Angeles",
)

FEEDS = (
    Feed("wire", "https://wire.example/sanctions.xml", timedelta(minutes=15), "Global Wire"),
    Feed("courier", "https://courier.example/world.rss", timedelta(minutes=30), "Daily Courier"),
    Feed(
        "ofac",
        "https://ofac.example/recent-actions.xml",
        timedelta(minutes=30),
        "OFAC Recent Actions",
        official=True,
    ),
)
WATCHLISTS = (
    Watchlist(name="russia", terms=("Russia", "Rosneft", "Sovcomflot", "Gazprombank")),
    Watchlist(name="iran", terms=("Iran", "IRGC", "shadow fleet")),
    Watchlist(name="dprk", terms=("North Korea", "DPRK", "Pyongyang")),
)

# (story, feed, title, summary, hours before T_QUEUE). Story 1 is carried by three feeds:
# its later sources are queued as members of the story and listed under it.
STORIES = (
    (
        1,
        "wire",
        "US sanctions Rosneft trading arm over oil price cap breaches",
        "The US Treasury on Friday sanctioned a Dubai-based trading arm of Rosneft and eight "
        "tankers it said carried crude above the G7 price cap. Officials said the network "
        "moved more than 40 million barrels this year through shell companies in three "
        "jurisdictions to hide the oil's origin. Russia's embassy called the measures "
        "illegitimate and said exports would continue.",
        9,
    ),
    (
        1,
        "courier",
        "Washington targets Rosneft trader in price-cap crackdown",
        "Washington has blacklisted a trading company linked to Rosneft, Russia's largest oil "
        "producer, together with eight tankers accused of carrying crude above the price cap, "
        "in its latest move against Moscow's oil revenues. Traders said freight rates for the "
        "remaining fleet rose on the news.",
        8,
    ),
    (
        1,
        "ofac",
        "Russia-related Designations",
        "The Department of the Treasury's Office of Foreign Assets Control (OFAC) today "
        "designated one entity and identified eight vessels as blocked property in connection "
        "with Rosneft's oil trading. All property and interests in property of the designated "
        "persons that are in the United States are blocked.",
        7,
    ),
    (
        2,
        "wire",
        "EU adopts 20th sanctions package aimed at Russia's shadow fleet",
        "European Union ambassadors approved a 20th package of sanctions against Russia, "
        "listing 118 more vessels of the so-called shadow fleet, banning transactions with two "
        "Gazprombank subsidiaries in Central Asia and extending the export ban on machine "
        "tools. Several of the listed tankers also carried oil from the Gulf, diplomats said.",
        6,
    ),
    (
        3,
        "wire",
        "UK designates IRGC oil network and 12 tankers",
        "Britain sanctioned a network of companies it said sells oil for the Islamic "
        "Revolutionary Guard Corps (IRGC), along with 12 tankers that switch off their "
        "transponders in the Gulf of Oman. The Foreign Office said the proceeds fund drone and "
        "missile programmes in Iran and abroad.",
        5,
    ),
    (
        4,
        "wire",
        "Treasury targets DPRK IT workers paid through banks in Russia",
        "The United States sanctioned five people and three front companies that it said "
        "placed IT workers in remote jobs at Western firms and moved their pay through "
        "accounts in Russia and the UAE. The DPRK uses such schemes to fund its weapons "
        "programmes, the Treasury said in a statement.",
        4,
    ),
    (
        5,
        "wire",
        "Gazprombank subsidiaries added to EU and UK lists",
        "Two Gazprombank subsidiaries in Kazakhstan and Armenia were added to the EU and UK "
        "sanctions lists after officials said they processed payments for military imports. "
        "The bank said it would challenge the listings in court.",
        3,
    ),
    (
        6,
        "wire",
        "UN experts say North Korea shipped missiles via Iran-linked brokers",
        "A confidential report by the UN panel of experts says North Korea shipped ballistic "
        "missile parts to buyers in the Middle East through brokers with ties to Iran, "
        "using ship-to-ship transfers off the coast of Oman to avoid inspection.",
        2,
    ),
    (
        7,
        "wire",
        "Pyongyang's crypto thefts reached $1.3bn this year, report says",
        "Hackers working for Pyongyang stole about $1.3bn in cryptocurrency this year, a "
        "blockchain analysis firm said, much of it laundered through over-the-counter brokers "
        "in South-East Asia before being converted into cash.",
        2,
    ),
    (
        8,
        "wire",
        "Sovcomflot tankers barred from Turkish ports",
        "Turkish port authorities have stopped accepting tankers managed by Sovcomflot, the "
        "Russian state shipping group under US and UK sanctions, shipping agents said, "
        "forcing cargoes to be transferred at sea.",
        1,
    ),
    (
        9,
        "wire",
        "Iran's central bank governor added to US list",
        "The US Treasury designated the governor of Iran's central bank and two deputies, "
        "saying they helped move oil revenue to the Quds Force through exchange houses in "
        "Dubai and Istanbul.",
        1,
    ),
)


# -- the job and its configuration ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Job:
    """One measured run: a database, a scenario and how big it is (picklable for spawn)."""

    database: str  # "SQLite" or "PostgreSQL"
    url: str
    scenario: str  # "email" or "webhook"
    count: int  # subscriptions, all due: one digest each
    hook_channels: int  # webhook scenario: the subscriptions are spread over this many
    smtp_port: int
    hook_port: int
    log_path: str
    profile: bool = False
    steps: bool = False
    tracemalloc: bool = False

    @property
    def label(self) -> str:
        if self.scenario == "email":
            return "email (SMTP)"
        plural = "s" if self.hook_channels > 1 else ""
        return f"webhook, {self.hook_channels} channel{plural}"


def build_config(job: Job) -> Config:
    """The same configuration in the setup and the measuring process."""
    channels: list[ChannelConfig] = []
    subscriptions: list[Subscription] = []
    if job.scenario == "email":
        for i in range(job.count):
            subscriptions.append(
                Subscription(
                    name=f"sub-{i:05d}",
                    watchlists=(WATCHLISTS[i % len(WATCHLISTS)].name,),
                    email=f"subscriber{i:05d}@example.org",
                    schedule="daily 08:00",
                    timezone=ZONES[i % len(ZONES)],
                )
            )
    else:
        for k in range(job.hook_channels):
            channels.append(
                ChannelConfig(
                    name=f"hook-{k:02d}",
                    kind=ChannelKind.WEBHOOK,
                    url=f"http://127.0.0.1:{job.hook_port}/hooks/{k}",
                    secret=HOOK_SECRET,
                )
            )
        for i in range(job.count):
            subscriptions.append(
                Subscription(
                    name=f"hook-sub-{i:05d}",
                    watchlists=(WATCHLISTS[i % len(WATCHLISTS)].name,),
                    channel=channels[i % len(channels)].name,
                    schedule="daily 08:00",
                    timezone=ZONES[i % len(ZONES)],
                )
            )
    return Config(
        path="<bench_delivery>",
        feeds=FEEDS,
        watchlists=WATCHLISTS,
        channels=tuple(channels),
        subscriptions=tuple(subscriptions),
        timezone="UTC",
        channel_by_name={c.name: c for c in channels},
    )


def build_settings(job: Job) -> Settings:
    return Settings.from_env(
        {},
        database_url=job.url,
        smtp_url=f"smtp://127.0.0.1:{job.smtp_port}?security=none",
        email_from=SENDER,
        base_url=BASE_URL,
        secret_key=LINK_KEY,
    )


def poll_items() -> dict[str, list[NewItem]]:
    """The stories as each feed's poll stores them, matched by the real matcher."""
    matcher = compile_watchlists(list(WATCHLISTS))
    story_keys: dict[int, str] = {}
    polls: dict[str, list[NewItem]] = defaultdict(list)
    for story, feed, title, summary, hours in STORIES:
        slug = title.lower().replace(" ", "-").replace("'", "")[:60]
        item = Item(
            feed=feed,
            guid=f"https://{feed}.example/{slug}",
            link=f"https://{feed}.example/{slug}",
            title=title,
            summary=summary,
            summary_html=f"<p>{summary}</p>",
            published=T_QUEUE - timedelta(hours=hours),
        )
        identity = identify(item)
        key = story_keys.setdefault(story, identity.story_key)
        matches = matcher.match(item)
        polls[feed].append(NewItem(item, replace(identity, story_key=key), matches))
    return polls


# -- setting up the database (its own process) ------------------------------------------------


def prepare(job: Job) -> dict[str, Any]:
    """Migrate, sync the subscriptions, start their schedules, queue the alerts."""
    started = time.perf_counter()
    engine = make_engine(job.url)
    try:
        upgrade(engine)
        store = Store(engine)
        config = build_config(job)
        timings: dict[str, float] = {"migrate": time.perf_counter() - started}
        asyncio.run(_start_schedules(config, build_settings(job), store, timings))
        began = time.perf_counter()
        queued = 0
        polls = poll_items()
        for feed in FEEDS:
            outcome = store.record_poll(
                feed.name,
                now=T_QUEUE,
                next_poll_at=T_QUEUE + feed.interval,
                url=feed.url,
                etag=None,
                last_modified=None,
                items=polls[feed.name],
            )
            queued += outcome.queued + outcome.members
        timings["queue"] = time.perf_counter() - began
        counts = store.counts()
    finally:
        engine.dispose()
    return {"timings": timings, "queued": queued, "queue_rows": counts["alert_queue"]}


async def _start_schedules(
    config: Config, settings: Settings, store: Store, timings: dict[str, float]
) -> None:
    """Sync the configuration, then one plan at T_START: each schedule's first slot is set."""
    fetcher = Fetcher()
    pipeline = Pipeline(
        config=config,
        settings=settings,
        store=store,
        fetcher=fetcher,
        channels={},
        clock=lambda: T_START,
    )
    try:
        began = time.perf_counter()
        await pipeline.sync()
        timings["sync"] = time.perf_counter() - began
        began = time.perf_counter()
        planned = await pipeline.plan_digests()
        timings["schedules"] = time.perf_counter() - began
        assert planned == [], "nothing is pending yet: the first plan only starts schedules"
    finally:
        await pipeline.aclose()
        await fetcher.aclose()


# -- the measured run (a fresh process) -------------------------------------------------------


def measure(job: Job) -> dict[str, Any]:
    """Plan and send every due digest; timings, checks and this process's peak RSS."""
    logger = configure("INFO", "text")
    log_file = open(job.log_path, "a", encoding="utf-8")  # noqa: SIM115 (closed below)
    for handler in logger.handlers:
        handler.setStream(log_file)  # type: ignore[attr-defined]
    try:
        return asyncio.run(_measure(job))
    finally:
        log_file.close()


def _rss_mb() -> tuple[float, float]:
    """(current RSS, high-water mark) of this process in MB, from /proc/self/status."""
    found = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                found[key] = int(value.split()[0]) / 1024
    return found["VmRSS"], found["VmHWM"]


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _measure(job: Job) -> dict[str, Any]:
    config = build_config(job)
    settings = build_settings(job)
    engine = make_engine(job.url)
    store = Store(engine)
    links = build_links(settings, store)
    fetcher = Fetcher()
    pipeline = Pipeline(
        config=config,
        settings=settings,
        store=store,
        fetcher=fetcher,
        channels=build_channels(config, settings, links),
        mailer=build_mailer(settings, links),
        links=links,
        clock=lambda: T_RUN,
    )
    profiles = ThreadProfiles() if job.profile else None
    if profiles is not None:
        profiles.attach(pipeline)
    steps = StepTimer() if job.steps else None
    if steps is not None:
        steps.attach(pipeline)
    result: dict[str, Any] = {}
    try:
        result["rss_before_mb"] = _rss_mb()[0]
        if job.tracemalloc:
            tracemalloc.start()
        if profiles is not None:
            profiles.start()
        cpu0, t0 = _cpu_seconds(), time.perf_counter()
        planned = await pipeline.plan_digests()
        cpu1, t1 = _cpu_seconds(), time.perf_counter()
        result["rss_after_plan_mb"] = _rss_mb()[0]
        sent = await pipeline.send_pending()
        cpu2, t2 = _cpu_seconds(), time.perf_counter()
        if profiles is not None:
            result["profile"] = await profiles.collect(pipeline)
        if steps is not None:
            result["steps"] = steps.rows()
            steps.detach()
        if job.tracemalloc:
            result["traced_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        result["rss_after_send_mb"], result["hwm_mb"] = _rss_mb()
        states = await pipeline.db(store.subscription_states)
        counts = await pipeline.db(store.counts)
        sent_rows = await pipeline.db(_sent_deliveries, store)
    finally:
        await pipeline.aclose()
        await fetcher.aclose()
        engine.dispose()
    stories = Counter(p.digest.entry_count for p in planned)
    result.update(
        planned=len(planned),
        stories=dict(sorted(stories.items())),
        statuses=dict(Counter(r.status for r in sent)),
        errors=sorted({r.error or "" for r in sent if r.status != "sent"})[:3],
        plan_s=t1 - t0,
        send_s=t2 - t1,
        plan_cpu_s=cpu1 - cpu0,
        send_cpu_s=cpu2 - cpu1,
        still_pending=sum(s.pending for s in states),
        deliveries=counts["deliveries"],
        attempts=counts["delivery_attempts"],
        sent_rows=sent_rows,
        maxrss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    )
    return result


def _sent_deliveries(store: Store) -> int:
    with store.transaction("count sent deliveries", write=False) as session:
        return int(session.scalar(text("SELECT count(*) FROM deliveries WHERE status = 'sent'")))


# -- step timings ------------------------------------------------------------------------------


class StepTimer:
    """Wall and thread-CPU time of each step of the delivery path, at a few µs per call.

    Wraps the store, outbox, digest, rendering and channel functions the dispatcher calls
    (instance attributes, or the module globals it looks up at call time), so the code that
    runs is the service's own; only a timer is put around each call. `db round trip` is an
    await of `Pipeline.db`: the store call plus the hop to the database thread and back.
    """

    def __init__(self) -> None:
        self.totals: dict[str, list[float]] = defaultdict(lambda: [0, 0.0, 0.0])
        self._restore: list[tuple[Any, str, Any, bool]] = []

    def _record(self, label: str, wall: float, cpu: float) -> None:
        row = self.totals[label]
        row[0] += 1
        row[1] += wall
        row[2] += cpu

    def _wrap(self, owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)
        record = self._record

        if asyncio.iscoroutinefunction(original):

            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                started = time.perf_counter()
                try:
                    return await original(*args, **kwargs)
                finally:
                    record(label, time.perf_counter() - started, 0.0)

            replacement: Any = timed_async
        else:

            def timed(*args: Any, **kwargs: Any) -> Any:
                started, cpu = time.perf_counter(), time.thread_time()
                try:
                    return original(*args, **kwargs)
                finally:
                    record(label, time.perf_counter() - started, time.thread_time() - cpu)

            replacement = timed
        self._restore.append((owner, name, original, name in vars(owner)))
        setattr(owner, name, replacement)

    def attach(self, pipeline: Pipeline) -> None:
        import alerts.delivery.email as email_module
        import alerts.delivery.webhook as webhook_module
        import alerts.dispatch as dispatch_module

        dispatcher = pipeline.dispatcher
        for name in (
            "subscription_states",
            "pending_entries",
            "create_delivery",
            "set_next_digest",
        ):
            self._wrap(pipeline.store, name, f"store.{name} [db thread]")
        for name in ("claim", "renew", "record", "release", "paused_channels"):
            self._wrap(dispatcher.outbox, name, f"outbox.{name} [db thread]")
        self._wrap(dispatcher, "db", "db round trip (await, main)")
        for name in ("build_digest", "digest_to_payload", "digest_from_payload", "event"):
            self._wrap(dispatch_module, name, f"{name} [main]")
        if dispatcher.mailer is not None:
            self._wrap(dispatcher.mailer, "send", "mailer.send (await, main)")
            self._wrap(dispatcher.mailer, "_send_one", "SMTP MAIL/RCPT/DATA [send thread]")
        self._wrap(email_module, "_compose", "compose message [send thread]")
        self._wrap(email_module, "render_email", "render_email [send thread]")
        for channel in dispatcher.channels.values():
            self._wrap(channel, "send", "webhook channel.send (await, main)")
        self._wrap(webhook_module, "post_json", "post_json (await, main)")
        self._wrap(webhook_module, "webhook_body", "webhook_body [main]")
        self._wrap(webhook_module, "webhook_headers", "webhook_headers + signing [main]")

    def detach(self) -> None:
        for owner, name, original, own in reversed(self._restore):
            if own:
                setattr(owner, name, original)
            else:
                delattr(owner, name)
        self._restore.clear()

    def rows(self) -> list[tuple[str, int, float, float]]:
        return sorted(
            ((label, int(n), wall, cpu) for label, (n, wall, cpu) in self.totals.items()),
            key=lambda row: -row[2],
        )


# -- profiling ---------------------------------------------------------------------------------


class ThreadProfiles:
    """One cProfile per thread (main, database, send worker).

    The pipeline runs store calls on its own database thread and smtplib in `to_thread`
    workers; cProfile sees only the thread it was enabled in, so each thread gets one.
    Times are wall time spent in each thread, waits for the GIL included (a per-thread CPU
    timer is a system call per event, which distorts more); `--steps` has exact CPU times.
    Profiling only: the database executor is swapped for an identical one with a hook.
    """

    def __init__(self) -> None:
        self.profiles: dict[str, cProfile.Profile] = {}

    def _begin(self) -> None:
        profile = cProfile.Profile()
        self.profiles[threading.current_thread().name] = profile
        profile.enable()

    def _end(self) -> None:
        self.profiles[threading.current_thread().name].disable()

    def attach(self, pipeline: Pipeline) -> None:
        pipeline._db = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="alerts-db", initializer=self._begin
        )
        asyncio.get_running_loop().set_default_executor(
            concurrent.futures.ThreadPoolExecutor(
                max_workers=1, thread_name_prefix="to-thread", initializer=self._begin
            )
        )

    def start(self) -> None:
        self._begin()

    async def collect(self, pipeline: Pipeline) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(pipeline._db, self._end)
        await loop.run_in_executor(None, self._end)
        self._end()
        threads = {}
        merged: pstats.Stats | None = None
        for name, profile in self.profiles.items():
            stats = pstats.Stats(profile)
            threads[name] = stats.total_tt  # type: ignore[attr-defined]
            if merged is None:
                merged = stats
            else:
                merged.add(stats)
        assert merged is not None
        rows = merged.stats  # type: ignore[attr-defined]
        areas: dict[str, float] = defaultdict(float)
        for (path, _, func), (_, _, tottime, _, _) in rows.items():
            areas[_area(path, func)] += tottime
        top = sorted(
            (
                (tottime, calls, _where(path, line, func))
                for (path, line, func), (_, calls, tottime, _, _) in rows.items()
            ),
            reverse=True,
        )[:25]
        cumulative = {}
        for (path, line, func), (_, calls, _, cumtime, _) in rows.items():
            if f"{Path(path).name}:{func}" in WATCHED_FUNCTIONS:
                cumulative[_where(path, line, func)] = (cumtime, calls)
        return {
            "threads": threads,
            "areas": sorted(areas.items(), key=lambda kv: -kv[1]),
            "top": top,
            "cumulative": sorted(cumulative.items(), key=lambda kv: -kv[1][0]),
        }


# Functions whose cumulative time (in their own thread) says what each step costs.
WATCHED_FUNCTIONS = {
    "dispatch.py:plan_digests",
    "dispatch.py:_plan_one",
    "dispatch.py:send_pending",
    "dispatch.py:send",
    "repository.py:subscription_states",
    "repository.py:pending_entries",
    "repository.py:create_delivery",
    "repository.py:set_next_digest",
    "outbox.py:claim",
    "outbox.py:renew",
    "outbox.py:record",
    "digest.py:build_digest",
    "digest.py:digest_to_payload",
    "digest.py:digest_from_payload",
    "email.py:send",
    "email.py:_compose",
    "email.py:_send_one",
    "email.py:_deliver",
    "render.py:render_email",
    "render.py:inline_css",
    "render.py:digest_view",
    "links.py:unsubscribe",
    "links.py:digest",
    "webhook.py:send",
    "webhook.py:post_json",
    "webhook.py:webhook_body",
    "webhook.py:webhook_headers",
    "logs.py:event",
}


def _where(path: str, line: int, func: str) -> str:
    if path == "~":
        return func
    parts = Path(path).parts
    for anchor in ("alerts", "site-packages"):
        if anchor in parts:
            at = parts.index(anchor)
            return f"{'/'.join(parts[at + (anchor == 'site-packages') :])}:{line}({func})"
    return f"{Path(path).name}:{line}({func})"


WAITING = "(waiting: idle event loop, executor queue, locks)"


def _area(path: str, func: str) -> str:
    """A coarse owner of a function's own time."""
    if path == "~":
        if any(w in func for w in ("'poll' of 'select", "'get' of '_queue", "acquire", "'wait'")):
            return WAITING
        if "sqlite3" in func:
            return "sqlite3 (C: SQL execution)"
        if "psycopg" in func or "pq" in func:
            return "psycopg (C)"
        if any(w in func for w in ("socket", "recv", "send", "select", "poll", "epoll")):
            return "sockets and polling (C)"
        if "lock" in func or "acquire" in func:
            return "thread locks"
        if "css_inline" in func or "inline" in func:
            return "css_inline (Rust)"
        return "other built-ins (str, dict, hashing, ...)"
    if "/alerts/" in path:
        parts = Path(path).with_suffix("").parts
        return ".".join(parts[len(parts) - 1 - parts[::-1].index("alerts") :])
    for name in (
        "sqlalchemy",
        "psycopg",
        "jinja2",
        "markupsafe",
        "httpx",
        "httpcore",
        "h11",
        "anyio",
        "aiosmtpd",
    ):
        if f"/{name}/" in path:
            return name
    if path.startswith("<template") or path.endswith(".j2"):
        return "jinja2 templates"
    stdlib = Path(path).parent.name
    if stdlib in ("asyncio", "concurrent", "logging", "json", "email", "zoneinfo", "http"):
        return stdlib
    return Path(path).stem


# -- servers (their own processes) -------------------------------------------------------------

# Counters shared with the servers: SMTP messages, bytes, messages with both unsubscribe
# headers, recipients; webhook requests, bytes, verified signatures.
SMTP_MESSAGES, SMTP_BYTES, SMTP_UNSUBSCRIBE, SMTP_RECIPIENTS = range(4)
HOOK_REQUESTS, HOOK_BYTES, HOOK_VERIFIED = range(4, 7)
UNSUBSCRIBE_HEADER = f"\r\nList-Unsubscribe: <{BASE_URL}/unsubscribe/".encode()
ONE_CLICK_HEADER = b"\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"


def serve_smtp(ready: Any, counters: Any) -> None:
    """An aiosmtpd server that counts and discards what it receives."""
    from aiosmtpd.smtp import SMTP

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            data = envelope.original_content or envelope.content
            headers = data.partition(b"\r\n\r\n")[0]
            counters[SMTP_MESSAGES] += 1
            counters[SMTP_BYTES] += len(data)
            counters[SMTP_RECIPIENTS] += len(envelope.rcpt_tos)
            if UNSUBSCRIBE_HEADER in headers and ONE_CLICK_HEADER in headers + b"\r\n":
                counters[SMTP_UNSUBSCRIBE] += 1
            return "250 2.0.0 Accepted"

    handler = Handler()
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(
        loop.create_server(
            lambda: SMTP(handler, hostname="smtp.bench.local", ident="bench"), "127.0.0.1", 0
        )
    )
    ready.put(server.sockets[0].getsockname()[1])
    loop.run_forever()


def serve_webhooks(ready: Any, counters: Any) -> None:
    """An HTTP/1.1 keep-alive server answering 200 to requests whose signature verifies."""
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError

    hook = Webhook(HOOK_SECRET)
    ok = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nok"
    refused = b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n"

    async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                headers = {}
                for line in head.decode("latin-1").split("\r\n")[1:]:
                    name, _, value = line.partition(":")
                    if name:
                        headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                counters[HOOK_REQUESTS] += 1
                counters[HOOK_BYTES] += len(body)
                try:
                    hook.verify(body, headers, json_parse=False)
                except WebhookVerificationError:
                    writer.write(refused)
                else:
                    counters[HOOK_VERIFIED] += 1
                    writer.write(ok)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def main() -> None:
        server = await asyncio.start_server(connection, "127.0.0.1", 0)
        ready.put(server.sockets[0].getsockname()[1])
        await server.serve_forever()

    asyncio.run(main())


@dataclass
class Servers:
    smtp_port: int
    hook_port: int
    counters: Any
    processes: list[Any] = field(default_factory=list)

    def snapshot(self) -> list[int]:
        return [int(value) for value in self.counters]

    def cpu_seconds(self) -> float:
        """CPU time the server processes used so far (from /proc/<pid>/stat)."""
        ticks = os.sysconf("SC_CLK_TCK")
        total = 0.0
        for process in self.processes:
            with open(f"/proc/{process.pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rpartition(")")[2].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        return total


@contextmanager
def servers(ctx: Any) -> Iterator[Servers]:
    counters = ctx.Array("q", 7, lock=False)
    ports = []
    processes = []
    try:
        for target in (serve_smtp, serve_webhooks):
            ready = ctx.Queue()
            process = ctx.Process(target=target, args=(ready, counters), daemon=True)
            process.start()
            processes.append(process)
            ports.append(ready.get(timeout=30))
        yield Servers(ports[0], ports[1], counters, processes)
    finally:
        for process in processes:
            process.terminate()
            process.join(5)


# -- databases ---------------------------------------------------------------------------------


@contextmanager
def sqlite_database(folder: Path, name: str) -> Iterator[str]:
    yield f"sqlite:///{folder / name / 'alerts.db'}"


@contextmanager
def postgres_database(base: str) -> Iterator[str]:
    """A fresh schema, selected through the URL's search_path, dropped afterwards."""
    schema = f"bench_{secrets.token_hex(5)}"
    admin = make_engine(base)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = normalise_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        admin.dispose()


def postgres_problem(url: str) -> str | None:
    """Why PostgreSQL at `url` cannot be used (None when it answers)."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except Exception as exc:
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
    finally:
        engine.dispose()
    return None


def in_fresh_process(ctx: Any, fn: Callable[[Job], dict[str, Any]], job: Job) -> dict[str, Any]:
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        return pool.submit(fn, job).result()


# -- running and reporting ---------------------------------------------------------------------


def code_digest() -> str:
    """A hash of the code under test (the package, templates, migrations), committed or not:
    other people may be changing the checkout while a run goes on."""
    digest = hashlib.sha256()
    for folder in ("alerts", "templates", "migrations"):
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def run(job: Job, ctx: Any, srv: Servers) -> dict[str, Any]:
    print(f"  {job.database}, {job.label}: setting up {job.count:,} subscriptions ...", flush=True)
    setup = in_fresh_process(ctx, prepare, job)
    before, cpu_before = srv.snapshot(), srv.cpu_seconds()
    print(f"  {job.database}, {job.label}: planning and sending ...", flush=True)
    load_before = os.getloadavg()[0]
    result = in_fresh_process(ctx, measure, job)
    result["load"] = (load_before, os.getloadavg()[0])
    after = srv.snapshot()
    result["server_cpu_s"] = srv.cpu_seconds() - cpu_before
    result["received"] = [b - a for a, b in zip(before, after, strict=True)]
    result["setup"] = setup
    result["job"] = job
    return result


def check(result: dict[str, Any]) -> list[str]:
    """What went wrong in a run (an empty list: every digest planned, sent and recorded)."""
    job: Job = result["job"]
    got = result["received"]
    n = job.count
    problems = []
    if result["planned"] != n:
        problems.append(f"planned {result['planned']} digests, expected {n}")
    if result["statuses"] != {"sent": n}:
        problems.append(f"send results {result['statuses']} {result['errors']}")
    if result["still_pending"]:
        problems.append(f"{result['still_pending']} queued alerts left out of digests")
    if not result["sent_rows"] == result["attempts"] == result["deliveries"] == n:
        problems.append(
            f"deliveries {result['deliveries']}, sent {result['sent_rows']}, "
            f"attempts {result['attempts']}"
        )
    if job.scenario == "email":
        if got[SMTP_MESSAGES] != n or got[SMTP_RECIPIENTS] != n:
            problems.append(f"SMTP server received {got[SMTP_MESSAGES]} messages")
        if got[SMTP_UNSUBSCRIBE] != got[SMTP_MESSAGES]:
            problems.append(f"only {got[SMTP_UNSUBSCRIBE]} messages had List-Unsubscribe")
    elif got[HOOK_REQUESTS] != n or got[HOOK_VERIFIED] != n:
        problems.append(f"receiver: {got[HOOK_REQUESTS]} requests, {got[HOOK_VERIFIED]} verified")
    return problems


def report(info: dict[str, str], results: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print()
    print(f"- Machine: {info['cpu']}, {info['cpus']} CPUs, {info['memory']} RAM")
    print(f"- Python: {info['python']} on {info['os']}")
    print(f"- Date: {info['date']}; commit {info['commit']}")
    print(
        f"- Subscribers: {args.subscribers:,} email (daily 08:00 in {len(ZONES)} zones, "
        f"all due), {args.webhooks:,} webhook subscriptions"
    )
    if results:
        stories = Counter[int]()
        for r in results:
            stories.update({int(k): v for k, v in r["stories"].items()})
        shown = ", ".join(f"{k} stories: {v:,}" for k, v in sorted(stories.items()))
        print(f"- Digests by size (all runs): {shown}")
    print()
    print(
        "| database | run | digests | plan s | plan/s | send s | send msg/s | "
        "plan+send msg/s | our CPU / wall (send) | server CPU s | KB/msg | peak RSS MB |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        job: Job = r["job"]
        n = r["planned"]
        got = r["received"]
        size = got[SMTP_BYTES] if job.scenario == "email" else got[HOOK_BYTES]
        print(
            f"| {job.database} | {job.label} | {n:,} | {r['plan_s']:.1f} | "
            f"{n / r['plan_s']:,.0f} | {r['send_s']:.1f} | {n / r['send_s']:,.0f} | "
            f"{n / (r['plan_s'] + r['send_s']):,.0f} | {r['send_cpu_s'] / r['send_s']:.2f} | "
            f"{r['server_cpu_s']:.1f} | {size / max(n, 1) / 1024:.1f} | {r['maxrss_mb']:.0f} |"
        )
    print()
    print("Load average (1 min) before and after each measured run (other work on the machine):")
    print(
        "- "
        + "; ".join(
            f"{r['job'].database}, {r['job'].label}: {r['load'][0]:.2f} -> {r['load'][1]:.2f}"
            for r in results
        )
    )
    print()
    print("Memory (MB): RSS before planning -> after planning -> after sending; high-water mark")
    for r in results:
        job = r["job"]
        traced = f"; tracemalloc peak {r['traced_peak_mb']:.0f}" if "traced_peak_mb" in r else ""
        print(
            f"- {job.database}, {job.label}: {r['rss_before_mb']:.0f} -> "
            f"{r['rss_after_plan_mb']:.0f} -> {r['rss_after_send_mb']:.0f}; "
            f"ru_maxrss {r['maxrss_mb']:.0f}{traced}"
        )
    print()
    print("Setup, not timed above (s): migrate, sync, start schedules, queue alerts (rows)")
    for r in results:
        job, s = r["job"], r["setup"]
        t = s["timings"]
        print(
            f"- {job.database}, {job.label}: {t['migrate']:.1f}, {t['sync']:.1f}, "
            f"{t['schedules']:.1f}, {t['queue']:.1f} ({s['queue_rows']:,} queue rows)"
        )
    print()
    print("Checks:")
    for r in results:
        job = r["job"]
        problems = check(r)
        got = r["received"]
        if job.scenario == "email":
            seen = (
                f"{got[SMTP_MESSAGES]:,} messages received, {got[SMTP_UNSUBSCRIBE]:,} with "
                "List-Unsubscribe + One-Click"
            )
        else:
            seen = f"{got[HOOK_REQUESTS]:,} requests received, {got[HOOK_VERIFIED]:,} verified"
        verdict = "; ".join(problems) if problems else "ok"
        print(
            f"- {job.database}, {job.label}: {seen}; {r['attempts']:,} attempts recorded; {verdict}"
        )
    print()
    print("| target | figure | |")
    print("|---|---|---|")
    for r in results:
        job = r["job"]
        n = r["planned"]
        if job.scenario == "email":
            for what, seconds in (("send", r["send_s"]), ("plan+send", r["plan_s"] + r["send_s"])):
                rate = n / seconds
                print(
                    f"| >= {TARGET_EMAILS:.0f} emails/s ({job.database}, {what}) | "
                    f"{rate:,.0f} | {'met' if rate >= TARGET_EMAILS else 'NOT met'} |"
                )
        else:
            for what, seconds in (("send", r["send_s"]), ("plan+send", r["plan_s"] + r["send_s"])):
                rate = n / seconds
                print(
                    f"| >= {TARGET_WEBHOOKS:.0f} webhooks/s ({job.database}, {job.label}, "
                    f"{what}) | {rate:,.0f} | {'met' if rate >= TARGET_WEBHOOKS else 'NOT met'} |"
                )
    worst = max((r["maxrss_mb"] for r in results), default=0.0)
    print(
        f"| < {TARGET_RSS_MB:.0f} MB peak RSS | {worst:.0f} MB (largest run) | "
        f"{'met' if worst < TARGET_RSS_MB else 'NOT met'} |"
    )
    for r in results:
        if "steps" in r:
            print_steps(r)
        if "profile" in r:
            print_profile(r)


def print_steps(r: dict[str, Any]) -> None:
    job: Job = r["job"]
    print()
    print(
        f"### Steps: {job.database}, {job.label} (plan {r['plan_s']:.1f} s + send "
        f"{r['send_s']:.1f} s wall; our CPU {r['plan_cpu_s'] + r['send_cpu_s']:.1f} s)"
    )
    print()
    print("| step [thread] | calls | wall s | wall ms/call | CPU ms/call |")
    print("|---|---:|---:|---:|---:|")
    for label, calls, wall, cpu in r["steps"]:
        shown = f"{cpu / calls * 1000:.2f}" if cpu else "-"
        print(f"| {label} | {calls:,} | {wall:.1f} | {wall / calls * 1000:.2f} | {shown} |")


def print_profile(r: dict[str, Any]) -> None:
    job: Job = r["job"]
    profile = r["profile"]
    busy = sum(seconds for area, seconds in profile["areas"] if area != WAITING)
    print()
    print(f"### Profile: {job.database}, {job.label} (seconds per thread, under cProfile)")
    print()
    for name, seconds in sorted(profile["threads"].items(), key=lambda kv: -kv[1]):
        print(f"- thread {name}: {seconds:.2f} s")
    print()
    print("| own time by area | s | share of busy time |")
    print("|---|---:|---:|")
    for area, seconds in profile["areas"][:20]:
        share = "" if area == WAITING else f"{seconds / busy:.0%}"
        print(f"| {area} | {seconds:.2f} | {share} |")
    print()
    print("| cumulative, in its thread (a coroutine counts a call per resumption) | s | calls |")
    print("|---|---:|---:|")
    for where, (seconds, calls) in profile["cumulative"]:
        print(f"| {where} | {seconds:.2f} | {calls:,} |")
    print()
    print("| own time, top functions | s | calls |")
    print("|---|---:|---:|")
    for seconds, calls, where in profile["top"]:
        print(f"| {where} | {seconds:.2f} | {calls:,} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--subscribers", type=int, default=10_000, help="email digests (default 10,000)"
    )
    parser.add_argument(
        "--webhooks", type=int, default=1_000, help="webhook digests (default 1,000)"
    )
    parser.add_argument(
        "--webhook-channels",
        type=int,
        nargs="+",
        default=[1, 10],
        help="webhook runs: the subscriptions spread over this many channels (default: 1 10)",
    )
    parser.add_argument(
        "--postgres",
        nargs="?",
        const=DEFAULT_POSTGRES,
        metavar="URL",
        help=f"also run on PostgreSQL, in a fresh schema (default URL: {DEFAULT_POSTGRES})",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile each run (slower)")
    parser.add_argument(
        "--steps", action="store_true", help="time each step of the path (a few µs per call)"
    )
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also trace allocations (slower)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()

    info = machine()
    code = code_digest()
    ctx = multiprocessing.get_context("spawn")
    folder = Path(tempfile.mkdtemp(prefix="bench-delivery-"))
    databases: list[tuple[str, Callable[[str], Any]]] = [
        ("SQLite", lambda name: sqlite_database(folder, name))
    ]
    if args.postgres:
        problem = postgres_problem(args.postgres)
        if problem is None:
            databases.append(("PostgreSQL", lambda _name: postgres_database(args.postgres)))
        else:
            print(f"PostgreSQL at {args.postgres} skipped: {problem}")
    started = time.perf_counter()
    results = []
    try:
        with servers(ctx) as srv:
            print(f"SMTP server on port {srv.smtp_port}, webhook receiver on {srv.hook_port}")
            for database, make in databases:
                plans = [("email", args.subscribers, 1)] + [
                    ("webhook", args.webhooks, k) for k in args.webhook_channels
                ]
                for scenario, count, channels in plans:
                    if count <= 0:
                        continue
                    name = f"{scenario}-{channels}"
                    with make(name) as url:
                        job = Job(
                            database=database,
                            url=url,
                            scenario=scenario,
                            count=count,
                            hook_channels=channels,
                            smtp_port=srv.smtp_port,
                            hook_port=srv.hook_port,
                            log_path=str(folder / f"{database}-{name}.log"),
                            profile=args.profile,
                            steps=args.steps,
                            tracemalloc=args.tracemalloc,
                        )
                        results.append(run(job, ctx, srv))
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"\n{time.perf_counter() - started:.0f} s in all")
    if code_digest() != code:
        print("WARNING: alerts/, templates/ or migrations/ changed during the run")
    info["commit"] += f", code {code}"
    report(info, results, args)


if __name__ == "__main__":
    main()
