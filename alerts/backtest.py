"""Backtests: what a watchlist, saved or proposed, would have caught in stored items.

Pure logic: the CLI reads the stored items and the saved watchlist, this module runs the
engine over them and compares. An *alert* is a story (items sharing a story key count
once), which is what a subscriber would have received.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from alerts.domain import Entity, Item, Match, Watchlist, merge_entities
from alerts.matching import WatchlistProblem, compile_watchlists

__all__ = ["BacktestItem", "BacktestReport", "Caught", "run_backtest", "with_imported"]


@dataclass(frozen=True, slots=True)
class BacktestItem:
    """A stored item as the backtest needs it."""

    id: int
    story_key: str
    when: datetime  # when it was fetched (what a subscriber would have seen)
    item: Item


@dataclass(frozen=True, slots=True)
class Caught:
    """An item a watchlist matched, with why."""

    entry: BacktestItem
    matches: tuple[Match, ...]


@dataclass(frozen=True, slots=True)
class BacktestReport:
    """What the proposed watchlist catches, and how that differs from the saved one."""

    watchlist: str
    since: datetime
    until: datetime
    scanned: int
    caught: tuple[Caught, ...]  # by the proposed version, newest first
    added: tuple[Caught, ...]  # caught now, not by the saved version
    removed: tuple[Caught, ...]  # caught by the saved version, not any more
    saved_exists: bool
    per_day: tuple[tuple[date, int], ...]  # alerts (stories) per day, every day in the window
    problems: tuple[WatchlistProblem, ...] = ()

    @property
    def days(self) -> float:
        return max((self.until - self.since) / timedelta(days=1), 1 / 24)

    @property
    def alerts(self) -> int:
        """Distinct stories caught: what subscribers would have been sent."""
        return len({c.entry.story_key for c in self.caught})

    @property
    def alerts_per_day(self) -> float:
        return self.alerts / self.days


def with_imported(watchlist: Watchlist, imported: Sequence[Entity]) -> Watchlist:
    """`watchlist` plus its imported entities, as the service matches it (the config's
    own entities win over imported ones of the same name)."""
    return replace(watchlist, entities=merge_entities(watchlist.entities, imported))


def _catch(
    watchlist: Watchlist, items: Sequence[BacktestItem]
) -> tuple[list[Caught], tuple[WatchlistProblem, ...]]:
    matcher = compile_watchlists([watchlist])
    if matcher.problems:
        return [], matcher.problems
    caught = []
    for entry in items:
        found = matcher.match(entry.item)
        if found:
            caught.append(Caught(entry, found))
    return caught, ()


def run_backtest(
    items: Sequence[BacktestItem],
    proposed: Watchlist,
    saved: Watchlist | None,
    *,
    since: datetime,
    until: datetime,
) -> BacktestReport:
    """Run `proposed` (and `saved`, if any) over `items` fetched in [since, until)."""
    window = sorted(
        (i for i in items if since <= i.when < until), key=lambda i: (i.when, i.id), reverse=True
    )
    caught, problems = _catch(proposed, window)
    before: list[Caught] = []
    if saved is not None and saved != proposed:
        before, _ = _catch(saved, window)
    elif saved is not None:
        before = caught
    now_ids = {c.entry.id for c in caught}
    before_ids = {c.entry.id for c in before}
    stories_by_day: dict[date, set[str]] = {}
    for c in caught:
        stories_by_day.setdefault(c.entry.when.date(), set()).add(c.entry.story_key)
    counts = Counter({day: len(keys) for day, keys in stories_by_day.items()})
    day = since.date()
    per_day = []
    while day <= (until - timedelta(microseconds=1)).date():
        per_day.append((day, counts.get(day, 0)))
        day += timedelta(days=1)
    return BacktestReport(
        watchlist=proposed.name,
        since=since,
        until=until,
        scanned=len(window),
        caught=tuple(caught),
        added=tuple(c for c in caught if c.entry.id not in before_ids) if saved else (),
        removed=tuple(c for c in before if c.entry.id not in now_ids),
        saved_exists=saved is not None,
        per_day=tuple(per_day),
        problems=problems,
    )
