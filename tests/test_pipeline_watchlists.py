"""The running pipeline and its watchlists: saved and imported ones are matched, a change
is compiled in the background and swapped in, a broken edit keeps the saved version."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

from alerts.config import Config, load_config
from alerts.domain import Entity, EntityKind, MatchKind
from alerts.pipeline import Pipeline
from alerts.store.repository import Store
from tests.support.feed_server import FeedServer
from tests.support.smtp_server import SmtpTestServer
from tests.test_pipeline import START, item, make_pipeline, rss, write_config

__all__ = ["make_pipeline"]  # the fixture, re-used from test_pipeline


class Wire:
    """One feed served at /wire.xml and a pipeline polling it, per test."""

    def __init__(
        self,
        tmp_path: Path,
        feed_server: FeedServer,
        smtp_server: SmtpTestServer,
        make_pipeline: Callable[..., Any],
    ) -> None:
        self.config_path = tmp_path / "feeds.toml"
        self._tmp, self._feeds, self._smtp, self._make = (
            tmp_path,
            feed_server,
            smtp_server,
            make_pipeline,
        )

    async def start(self, *items: str, delay: float = 0.0) -> Pipeline:
        self._feeds.route("/wire.xml", body=rss(*items), delay=delay)
        config = write_config(self._tmp, {"wire": self._feeds.url("/wire.xml")})
        return await self.pipeline(config)

    async def pipeline(self, config: Config) -> Pipeline:
        return cast(Pipeline, await self._make(config, smtp_url=self._smtp.url))


@pytest.fixture
def wire(
    tmp_path: Path,
    feed_server: FeedServer,
    smtp_server: SmtpTestServer,
    make_pipeline: Callable[..., Any],
) -> Wire:
    return Wire(tmp_path, feed_server, smtp_server, make_pipeline)


ROSNEFT_TITLE = "ПАО «Роснефть» под новыми санкциями"
ROSNEFT = item(
    "wire-7",
    ROSNEFT_TITLE,
    "https://wire.example/rosneft",
    "Минфин США включил Роснефть в список.",
)
HUGE = item("wire-8", "Navalny " + "ипсум 习近平 " * 2_000, "https://wire.example/huge")


async def test_imported_entities_are_matched_after_a_background_rebuild(
    wire: Wire,
    store: Store,
) -> None:
    pipeline = await wire.start(ROSNEFT)
    assert await pipeline.refresh_matcher() is True  # first read of the saved watchlists
    assert await pipeline.refresh_matcher() is False  # nothing changed: nothing rebuilt
    before = pipeline.matcher

    rosneft = Entity("PJSC Rosneft", kind=EntityKind.ORGANIZATION)
    store.import_entities("russia", [rosneft], source="test", replace=False, now=START)
    assert await pipeline.refresh_matcher() is True
    assert pipeline.matcher is not before  # swapped, not edited in place

    (result,) = await pipeline.poll_due(force=True)
    assert result.new_items == 1 and result.queued == 1, result
    (stored,) = store.items()
    match, in_summary = stored.matches
    assert in_summary.field == "summary"
    assert (match.kind, match.term, match.field) == (MatchKind.ENTITY, "PJSC Rosneft", "title")
    assert stored.title[match.start : match.end] == "Роснефть"
    assert match.highlight is not None


async def test_a_poll_keeps_the_matcher_it_started_with(
    wire: Wire,
    store: Store,
) -> None:
    pipeline = await wire.start(ROSNEFT, delay=0.5)
    await pipeline.refresh_matcher()
    poll = asyncio.create_task(pipeline.poll_due(force=True))
    await asyncio.sleep(0.1)  # the poll is waiting for the slow feed
    rosneft = Entity("PJSC Rosneft", kind=EntityKind.ORGANIZATION)
    store.import_entities("russia", [rosneft], source="test", replace=False, now=START)
    assert await pipeline.refresh_matcher() is True
    (result,) = await poll
    assert result.status == "fetched" and result.new_items == 1
    (stored,) = store.items()
    assert stored.matches == ()  # matched by the matcher of its own poll: no Rosneft yet


async def test_broken_edit_is_rejected_and_the_saved_version_keeps_working(
    wire: Wire,
    store: Store,
) -> None:
    first = await wire.start(HUGE)
    await first.refresh_matcher()

    # The same file, edited: the watchlist gains a query with a syntax error.
    path = wire.config_path
    text = path.read_text(encoding="utf-8").replace(
        'terms = ["Navalny", "sanctions against Russia"]',
        'terms = ["Navalny", "sanctions against Russia"]\nqueries = ["(Navalny"]',
    )
    path.write_text(text, encoding="utf-8")
    edited = load_config(path, environ={})
    assert [str(p).split(": ", 1)[1] for p in edited.watchlist_problems] == [
        'line 13, watchlist "russia": query col 1: unbalanced parenthesis'
    ]
    second = await wire.pipeline(edited)
    await second.refresh_matcher(force=True)
    saved = store.saved_watchlist("russia")
    assert saved is not None and saved.queries == ()  # the broken edit was not saved

    (result,) = await second.poll_due(force=True)
    # A 20,000-character title in mixed scripts is matched by the saved version.
    assert result.status == "fetched" and result.queued == 1, result
    assert [m.term for m in store.items()[0].matches] == ["Navalny"]


def test_watchlist_dataclass_round_trip_through_store(store: Store, tmp_path: Path) -> None:
    config = write_config(tmp_path, {"wire": "https://wire.example/feed.xml"})
    watchlist = dataclasses.replace(
        config.watchlists[0],
        queries=('title:sanctions AND "export restrictions" NEAR/5 Russia',),
        regexes=(r"\bEO\s?14024\b",),
        exclude=("football",),
        entities=(Entity("Sea Breeze", EntityKind.VESSEL, identifiers=("IMO 9187629",)),),
    )
    store.sync_config(config.feeds, [watchlist], config.channels, config.subscriptions, START)
    assert store.saved_watchlist("russia") == watchlist


class _Exploding:
    """A matcher that fails on one item: the pipeline's own handling is what is tested."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def match(self, item: Any) -> Any:
        if "Роснефть" in item.title:
            raise RuntimeError("engine bug")
        return self.inner.match(item)


async def test_a_matching_failure_costs_one_item_not_the_feed(
    wire: Wire,
    store: Store,
    caplog: Any,
) -> None:
    navalny = item("wire-1", "Navalny news", "https://wire.example/n", "About Navalny.")
    pipeline = await wire.start(ROSNEFT, navalny)
    pipeline.matcher = _Exploding(pipeline.matcher)
    (result,) = await pipeline.poll_due(force=True)
    assert result.status == "fetched" and result.new_items == 2 and result.queued == 1
    by_title = {i.title: i for i in store.items()}
    assert by_title["Navalny news"].matches and not by_title[ROSNEFT_TITLE].matches
    (record,) = [r for r in caplog.records if r.getMessage() == "match_failed"]
    assert record.fields["error"] == "RuntimeError: engine bug"  # type: ignore[attr-defined]
    assert record.fields["guid"] == "wire-7"  # type: ignore[attr-defined]
