"""APScheduler wiring only: jobs that ask the pipeline (and so the database) what is due.

Three jobs run every tick: polls, deliveries, and a watchlist check that recompiles the
matcher in a worker thread when the saved watchlists changed (config sync or import).

The scheduler keeps no state of its own worth saving: feeds' next polls, subscriptions' next
digests and deliveries' next attempts live in the database, so a restart resumes exactly
where the previous process stopped. Each job runs at most once at a time; a poll that queued
alerts wakes the delivery job at once so `immediate` subscriptions do not wait for a tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from alerts.logs import event, get_logger
from alerts.pipeline import Pipeline

log = get_logger("scheduler")


class Service:
    """The long-running service: polls and deliveries on a tick, until asked to stop."""

    def __init__(
        self, pipeline: Pipeline, *, tick_seconds: float, grace_seconds: float, deliver: bool = True
    ) -> None:
        self.pipeline = pipeline
        self.tick_seconds = tick_seconds
        self.grace_seconds = grace_seconds
        self.deliver = deliver
        self._inflight: set[asyncio.Task[object]] = set()
        self._scheduler: AsyncIOScheduler | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Run until `stop` is set, then finish or abandon in-flight work cleanly."""
        scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler = scheduler
        now = datetime.now(UTC)
        common = {
            "trigger": "interval",
            "seconds": self.tick_seconds,
            "max_instances": 1,
            "coalesce": True,
            "misfire_grace_time": None,
            "next_run_time": now,
        }
        scheduler.add_job(self._tracked(self._poll), id="poll", **common)
        # Its own job, so polls go on with the current matcher while a new one compiles.
        scheduler.add_job(self._tracked(self._watchlists), id="watchlists", **common)
        if self.deliver:
            scheduler.add_job(self._tracked(self._deliver), id="deliver", **common)
        scheduler.start()
        event(
            log,
            "started",
            tick_seconds=self.tick_seconds,
            feeds=len(self.pipeline.config.feeds),
            subscriptions=len(self.pipeline.config.subscriptions),
        )
        try:
            await stop.wait()
        finally:
            await self._shutdown(scheduler)

    def _tracked(self, job: Callable[[], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
        async def wrapper() -> None:
            task = asyncio.current_task()
            if task is not None:
                self._inflight.add(task)
            try:
                await job()
            except Exception:  # a job must never kill the scheduler; log and go on
                log.exception("job failed", extra={"fields": {"job": job.__name__}})
            finally:
                if task is not None:
                    self._inflight.discard(task)

        wrapper.__name__ = job.__name__
        return wrapper

    async def _watchlists(self) -> None:
        try:
            await self.pipeline.refresh_matcher()
        except Exception as exc:  # keep polling with the matcher we have
            event(log, "matcher_refresh_failed", level=logging.ERROR, error=str(exc))

    async def _poll(self) -> None:
        results = await self.pipeline.poll_due()
        if self.deliver and any(r.queued for r in results) and self._scheduler is not None:
            with contextlib.suppress(Exception):  # the job may be gone during shutdown
                self._scheduler.modify_job("deliver", next_run_time=datetime.now(UTC))

    async def _deliver(self) -> None:
        await self.pipeline.deliver_due()

    async def _shutdown(self, scheduler: AsyncIOScheduler) -> None:
        event(log, "stopping", inflight=len(self._inflight), grace_seconds=self.grace_seconds)
        self.pipeline.stopping.set()
        scheduler.shutdown(wait=False)
        tasks = set(self._inflight)
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=self.grace_seconds)
            for task in late:
                # Abandoned work is safe: every store call is one transaction (shielded,
                # so it commits or rolls back), and an unsent delivery stays pending.
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=5)
        await self.pipeline.aclose()
        event(log, "stopped", abandoned=sum(1 for t in tasks if t.cancelled()))
