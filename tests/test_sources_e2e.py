"""Issue 6 end to end: html, json and list sources through the whole service.

A real HTTP server serves the fixtures (in the publishers' shapes), a real SMTP server and
webhook receiver take the alerts, and the store is SQLite and PostgreSQL. The clock is
ours: tests move it instead of sleeping.
"""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from alerts.app import build_channels, build_links, build_mailer
from alerts.config import Settings, load_config
from alerts.domain import facets_from_dict
from alerts.pipeline import Pipeline, PollResult
from alerts.sources.fetch import Fetcher, FetchLimits
from alerts.store.models import FeedRow, ItemRow, ListSnapshotRow, MatchRow
from alerts.store.repository import Store
from tests.support.feed_server import FeedServer
from tests.support.smtp_server import SmtpTestServer
from tests.support.webhook_receiver import WebhookReceiver
from tests.test_pipeline import rss

DATA = Path(__file__).parent / "data"
START = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
BASE_URL = "https://alerts.example"

# Listing and API specs as the bundled feeds.toml writes them for these publishers.
OFAC_HTML = """
[feeds.html]
item = "div.action-row"
title = ".action-title a"
link = ".action-title a"
date = ".action-date"
date_formats = ["%B %d, %Y"]
category = ".action-category"
"""


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@dataclass
class Service:
    pipeline: Pipeline
    store: Store
    clock: Clock
    server: FeedServer

    async def poll(self, name: str) -> PollResult:
        [result] = await self.pipeline.poll_due(only=[name], force=True)
        return result

    def serve(self, path: str, fixture: str, **kwargs: Any) -> None:
        self.server.route(path, body=(DATA / fixture).read_bytes(), **kwargs)

    def items(self, feed_name: str) -> list[ItemRow]:
        with Session(self.store.engine) as session:
            rows = session.scalars(
                select(ItemRow)
                .join(FeedRow, FeedRow.id == ItemRow.feed_id)
                .where(FeedRow.name == feed_name)
                .order_by(ItemRow.id)
            ).all()
            session.expunge_all()
            return list(rows)

    def feed_error(self, name: str) -> tuple[int, str | None]:
        state = next(s for s in self.store.feed_states() if s.name == name)
        return state.error_count, state.last_error


Make = Callable[..., Awaitable[Service]]


@pytest.fixture
async def make_service(
    tmp_path: Path, store: Store, feed_server: FeedServer
) -> AsyncIterator[Make]:
    made: list[tuple[Pipeline, Fetcher]] = []

    async def make(body: str, **overrides: Any) -> Service:
        path = tmp_path / "feeds.toml"
        path.write_text('[settings]\ntimezone = "UTC"\n' + body, encoding="utf-8")
        config = load_config(path, environ={})
        values: dict[str, Any] = {
            "base_url": BASE_URL,
            "secret_key": "a-signing-key-for-tests-of-40-characters",
            "email_from": "Sanctions Alerts <alerts@example.org>",
            "outbox_dir": str(tmp_path / "outbox"),
        }
        settings = Settings(**(values | overrides))
        links = build_links(settings, store)
        fetcher = Fetcher(
            limits=FetchLimits(connect_timeout=2, read_timeout=2, total_timeout=4, max_bytes=65536)
        )
        clock = Clock()
        pipeline = Pipeline(
            config=config,
            settings=settings,
            store=store,
            fetcher=fetcher,
            channels=build_channels(config, settings, links),
            mailer=build_mailer(settings, links),
            links=links,
            clock=clock,
            rng=random.Random(6),
        )
        made.append((pipeline, fetcher))
        await pipeline.sync()
        await pipeline.refresh_matcher(force=True)
        return Service(pipeline, store, clock, feed_server)

    yield make
    for pipeline, fetcher in made:
        await pipeline.aclose()
        await fetcher.aclose()


def list_feed(name: str, url: str, fmt: str, title: str, extra: str = "") -> str:
    return (
        f'[[feeds]]\nname = "{name}"\ntitle = "{title}"\nkind = "list"\nurl = "{url}"\n'
        f'format = "{fmt}"\ninterval = "6h"\nofficial = true\nissuer = "UK"\n{extra}\n'
    )


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


# -- lists -------------------------------------------------------------------------------

UK_LIST = """
[[watchlists]]
name = "people"
entities = [{ name = "Marina Volkova", kind = "person" }]

[[subscriptions]]
name = "analyst"
email = "analyst@example.org"
watchlists = ["people"]
schedule = "immediate"
"""


async def test_list_diff_sends_designation_added_to_the_subscriber_watching_that_person(
    make_service: Make, feed_server: FeedServer, smtp_server: SmtpTestServer
) -> None:
    url = feed_server.url("/UK-Sanctions-List.xml")
    service = await make_service(
        list_feed("uk-list", url, "uk-sanctions-list-xml", "UK Sanctions List") + UK_LIST,
        smtp_url=smtp_server.url,
    )
    service.serve("/UK-Sanctions-List.xml", "lists/uk-sanctions-list-v1.xml")
    first = await service.poll("uk-list")
    # The first file is the baseline: stored, not announced.
    assert (first.status, first.new_items) == ("fetched", 0)
    assert await service.pipeline.deliver_due() == []

    service.clock.advance(hours=6)
    service.serve("/UK-Sanctions-List.xml", "lists/uk-sanctions-list-v2.xml")
    second = await service.poll("uk-list")
    assert (second.status, second.new_items) == ("fetched", 3), second.error  # +1 ~1 -1

    by_action = {row.designation["action"]: row for row in service.items("uk-list")}
    assert set(by_action) == {"added", "amended", "removed"}
    added = by_action["added"]
    assert added.designation["id"] == "RUS9107"
    assert added.designation["name"] == "VOLKOVA, Marina Olegovna"
    assert added.designation["aliases"] == ["Марина Олеговна ВОЛКОВА"]
    assert added.designation["programmes"] == ["Russia"]
    facets = facets_from_dict(added.facets)
    assert facets.has("sanctions_action", "true") and facets.has("issuer", "UK")
    assert facets.has("designation", "added") and facets.has("list", "uk-list")
    assert facets_from_dict(by_action["removed"].facets).has("designation", "removed")

    [sent] = await service.pipeline.deliver_due()
    assert (sent.subscription, sent.status, sent.stories) == ("analyst", "sent", 1)
    [mail] = smtp_server.wait_for(1)
    assert list(mail.rcpt_tos) == ["analyst@example.org"]
    text = text_of(mail.message)
    assert "VOLKOVA, Marina Olegovna (Russia) added to UK Sanctions List" in text
    assert "Marina Volkova" in text  # the watched entity, shown as why it fired

    # The same file again: nothing new, nothing sent.
    service.clock.advance(hours=6)
    third = await service.poll("uk-list")
    assert (third.status, third.new_items) == ("fetched", 0)
    assert await service.pipeline.deliver_due() == []


async def test_a_change_made_again_is_news_again(
    make_service: Make, feed_server: FeedServer
) -> None:
    # Listed, delisted, listed again: every transition is an alert, even when the files
    # are byte for byte the ones seen before.
    url = feed_server.url("/list.xml")
    service = await make_service(list_feed("uk-list", url, "uk-sanctions-list-xml", "UK list"))
    counts = []
    for fixture in ("v1", "v2", "v1", "v2"):
        service.serve("/list.xml", f"lists/uk-sanctions-list-{fixture}.xml")
        service.clock.advance(hours=6)
        counts.append((await service.poll("uk-list")).new_items)
    assert counts == [0, 3, 3, 3]
    added = [r for r in service.items("uk-list") if r.designation["action"] == "added"]
    assert [r.designation["id"] for r in added] == ["RUS9107", "CYB9105", "RUS9107"]


@pytest.mark.parametrize(
    ("fixture", "error"),
    [
        ("lists/uk-sanctions-list-truncated.xml", "truncated download"),
        ("lists/not-a-list.xml", "wrong file"),
        ("lists/eu-fsf-error-page.html", ""),
    ],
)
async def test_bad_list_file_is_a_source_error_and_the_snapshot_stays(
    make_service: Make, feed_server: FeedServer, fixture: str, error: str
) -> None:
    url = feed_server.url("/list.xml")
    service = await make_service(list_feed("uk-list", url, "uk-sanctions-list-xml", "UK list"))
    service.serve("/list.xml", "lists/uk-sanctions-list-v1.xml")
    assert (await service.poll("uk-list")).status == "fetched"
    before = _snapshot(service.store)

    service.serve("/list.xml", fixture)
    bad = await service.poll("uk-list")
    assert bad.status == "error" and bad.error
    assert error.lower() in bad.error.lower()
    assert service.feed_error("uk-list")[0] == 1
    assert _snapshot(service.store) == before
    assert service.items("uk-list") == []

    # The next good file is diffed against the last good snapshot, not the bad one.
    service.serve("/list.xml", "lists/uk-sanctions-list-v2.xml")
    good = await service.poll("uk-list")
    assert (good.status, good.new_items) == ("fetched", 3)
    assert service.feed_error("uk-list")[0] == 0


async def test_suspiciously_smaller_list_is_refused_not_turned_into_removals(
    make_service: Make, feed_server: FeedServer
) -> None:
    url = feed_server.url("/list.xml")
    service = await make_service(list_feed("uk-list", url, "uk-sanctions-list-xml", "UK list"))
    full = (DATA / "lists/uk-sanctions-list-v1.xml").read_text(encoding="utf-8")
    service.server.route("/list.xml", body=full.encode())
    assert (await service.poll("uk-list")).status == "fetched"

    # Keep only the first designation: a well-formed file, most entries gone.
    head, _, rest = full.partition("<Designation>")
    first, _, _ = rest.partition("</Designation>")
    small = f"{head}<Designation>{first}</Designation>\n</Designations>\n"
    service.server.route("/list.xml", body=small.encode())
    refused = await service.poll("uk-list")
    assert refused.status == "error"
    assert refused.error is not None and "would be removed" in refused.error
    assert service.items("uk-list") == []


async def test_delta_file_changes_become_items_once(
    make_service: Make, feed_server: FeedServer
) -> None:
    url = feed_server.url("/changes/latest")
    service = await make_service(
        list_feed("us-sls", url, "ofac-sls-delta", "OFAC SDN list").replace(
            'issuer = "UK"', 'issuer = "US"'
        )
    )
    service.serve("/changes/latest", "lists/ofac-sls-delta.xml")
    result = await service.poll("us-sls")
    assert result.status == "fetched" and result.new_items >= 2, result.error
    rows = service.items("us-sls")
    names = {row.designation["name"] for row in rows}
    assert "VOLKOVA, Marina Olegovna" in names
    assert all(facets_from_dict(r.facets).has("issuer", "US") for r in rows)
    again = await service.poll("us-sls")
    assert (again.status, again.new_items) == ("fetched", 0)


def _snapshot(store: Store) -> tuple[str, int, bytes] | None:
    with Session(store.engine) as session:
        row = session.get(ListSnapshotRow, 1)
        return None if row is None else (row.format, row.record_count, row.data)


# -- listing pages and APIs ---------------------------------------------------------------


async def test_listing_page_items_are_stored_with_facets(
    make_service: Make, feed_server: FeedServer
) -> None:
    url = feed_server.url("/recent-actions")
    service = await make_service(
        f'[[feeds]]\nname = "ofac-actions"\nkind = "html"\nurl = "{url}"\nofficial = true\n'
        f'issuer = "US"\n{OFAC_HTML}'
    )
    service.serve(
        "/recent-actions",
        "listings/ofac-recent-actions.html",
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    result = await service.poll("ofac-actions")
    assert result.status == "fetched" and result.new_items >= 3, result.error
    rows = service.items("ofac-actions")
    # Relative links are resolved against the page's URL; absolute ones are kept.
    assert any(
        row.link and row.link.startswith(feed_server.url("/recent-actions/")) for row in rows
    )
    assert all(row.link and row.link.startswith(("http://", "https://")) for row in rows)
    assert all(facets_from_dict(r.facets).has("issuer", "US") for r in rows)
    assert any(facets_from_dict(r.facets).has("sanctions_action", "true") for r in rows)
    # A row whose date is in an unexpected form ("Friday, 27 June") is kept, undated, and
    # the oddity is on the feed's record for operators.
    state = next(s for s in service.store.feed_states() if s.name == "ofac-actions")
    assert any("27 June" in problem for problem in state.anomalies), state.anomalies


async def test_listing_page_whose_layout_changed_is_a_source_error(
    make_service: Make, feed_server: FeedServer
) -> None:
    url = feed_server.url("/recent-actions")
    service = await make_service(
        f'[[feeds]]\nname = "ofac-actions"\nkind = "html"\nurl = "{url}"\n{OFAC_HTML}'
    )
    service.serve("/recent-actions", "listings/ofac-recent-actions.html")
    assert (await service.poll("ofac-actions")).status == "fetched"
    stored = len(service.items("ofac-actions"))

    service.serve("/recent-actions", "listings/changed-layout.html")
    result = await service.poll("ofac-actions")
    assert result.status == "error"
    assert result.error is not None and "layout may have changed" in result.error
    assert len(service.items("ofac-actions")) == stored  # nothing stored is lost


FR_JSON = """
[feeds.json]
items = "results"
title = "title"
guid = "document_number"
link = "html_url"
summary = "abstract"
published = "publication_date"
next_page = "next_page_url"
max_pages = 3
empty_if_missing = true
count = "count"
"""


async def test_json_api_follows_next_pages(make_service: Make, feed_server: FeedServer) -> None:
    page1 = json.loads((DATA / "listings/federal-register-page1.json").read_text())
    page1["next_page_url"] = feed_server.url("/documents.json?page=2")
    feed_server.route("/documents.json", body=json.dumps(page1).encode())
    feed_server.route(
        "/documents.json?page=2",
        body=(DATA / "listings/federal-register-page2.json").read_bytes(),
    )
    url = feed_server.url("/documents.json")
    service = await make_service(
        f'[[feeds]]\nname = "fr"\nkind = "json"\nurl = "{url}"\nissuer = "US"\n'
        f"official = true\n{FR_JSON}"
    )
    result = await service.poll("fr")
    assert result.status == "fetched", result.error
    pages = [
        json.loads((DATA / f"listings/federal-register-page{n}.json").read_text()) for n in (1, 2)
    ]
    expected = {r["document_number"] for p in pages for r in p.get("results", [])}
    assert {row.guid for row in service.items("fr")} == expected


async def test_json_api_error_answered_with_200_is_a_source_error(
    make_service: Make, feed_server: FeedServer
) -> None:
    feed_server.route(
        "/documents.json", body=(DATA / "listings/federal-register-error.json").read_bytes()
    )
    url = feed_server.url("/documents.json")
    service = await make_service(f'[[feeds]]\nname = "fr"\nkind = "json"\nurl = "{url}"\n{FR_JSON}')
    result = await service.poll("fr")
    assert result.status == "error"
    assert result.error is not None and "error" in result.error
    assert service.items("fr") == []


# -- facets: "any new designation" watchlists and subscription filters -----------------------

FACET_WATCH = """
[[watchlists]]
name = "new-russia-listings"
queries = ["designation:added AND target:RU"]

[[channels]]
name = "all"
type = "webhook"
url = "{all}"

[[channels]]
name = "uk-desk"
type = "webhook"
url = "{uk}"

[[subscriptions]]
name = "everything"
watchlists = ["new-russia-listings"]
channel = "all"

[[subscriptions]]
name = "uk-only"
watchlists = ["new-russia-listings"]
channel = "uk-desk"
filter = "issuer:UK"
"""


async def test_a_watchlist_follows_new_russia_listings_and_a_filter_keeps_the_uk_ones(
    make_service: Make, feed_server: FeedServer, webhook_receiver: WebhookReceiver
) -> None:
    uk = list_feed("uk-list", feed_server.url("/uk.xml"), "uk-sanctions-list-xml", "UK list")
    us = list_feed(
        "us-sls", feed_server.url("/sls.xml"), "ofac-sls-delta", "OFAC SDN list"
    ).replace('issuer = "UK"', 'issuer = "US"')
    service = await make_service(
        uk
        + us
        + FACET_WATCH.format(all=webhook_receiver.url("/all"), uk=webhook_receiver.url("/uk"))
    )
    service.serve("/uk.xml", "lists/uk-sanctions-list-v1.xml")
    assert (await service.poll("uk-list")).new_items == 0  # baseline
    service.serve("/uk.xml", "lists/uk-sanctions-list-v2.xml")
    service.serve("/sls.xml", "lists/ofac-sls-delta.xml")
    assert (await service.poll("uk-list")).new_items == 3
    assert (await service.poll("us-sls")).new_items == 3

    sent = await service.pipeline.deliver_due()
    assert sorted((r.subscription, r.stories) for r in sent) == [("everything", 2), ("uk-only", 1)]
    requests = {r.path: r.json for r in webhook_receiver.wait_for(2)}
    # Only additions to Russia programmes: not the amendment, not the delisted cyber group.
    everything = sorted(s["title"] for s in requests["/all"]["stories"])
    assert everything == [
        "VOLKOVA, Marina Olegovna (RUSSIA-EO14024) added to OFAC SDN list",
        "VOLKOVA, Marina Olegovna (Russia) added to UK list",
    ]
    [uk_story] = requests["/uk"]["stories"]
    assert uk_story["title"] == "VOLKOVA, Marina Olegovna (Russia) added to UK list"
    assert uk_story["facets"]["issuer"] == ["UK"]
    assert "Added to uk-list" in uk_story["labels"]
    # Why it fired: the two facets of the query, not words.
    assert {(m["field"], m["matched"]) for m in uk_story["matches"]} == {
        ("facet", "designation:added"),
        ("facet", "target:RU"),
    }


async def test_a_list_change_arrives_in_the_story_of_the_notice_naming_the_person(
    make_service: Make, feed_server: FeedServer, smtp_server: SmtpTestServer
) -> None:
    notice = (
        "<item><guid>fcdo-2026-07-01</guid><title>UK sanctions financier of Russian arms "
        "makers</title><link>https://www.gov.uk/government/news/fcdo-volkova</link>"
        "<description>The Foreign Secretary today designated Marina Olegovna Volkova, a "
        "financier who moved money for Russian military suppliers through front companies, "
        "under the Russia sanctions regime. She is subject to an asset freeze and a travel "
        "ban.</description><pubDate>Wed, 01 Jul 2026 09:00:00 GMT</pubDate></item>"
    )
    feed_server.route("/fcdo.atom", body=rss(notice))
    uk = list_feed("uk-list", feed_server.url("/uk.xml"), "uk-sanctions-list-xml", "UK list")
    service = await make_service(
        f'[[feeds]]\nname = "fcdo"\nurl = "{feed_server.url("/fcdo.atom")}"\nofficial = true\n'
        f'issuer = "UK"\n' + uk + UK_LIST,
        smtp_url=smtp_server.url,
    )
    service.serve("/uk.xml", "lists/uk-sanctions-list-v1.xml")
    assert (await service.poll("uk-list")).new_items == 0
    assert (await service.poll("fcdo")).new_items == 1
    [sent] = await service.pipeline.deliver_due()  # the notice names her: sent at once
    assert sent.stories == 1
    smtp_server.wait_for(1)

    service.clock.advance(hours=6)
    service.serve("/uk.xml", "lists/uk-sanctions-list-v2.xml")
    assert (await service.poll("uk-list")).new_items == 3
    [notice_row] = service.items("fcdo")
    added = next(r for r in service.items("uk-list") if r.designation["action"] == "added")
    assert added.story_key == notice_row.story_key
    assert "list change naming VOLKOVA, Marina Olegovna" in added.story_reason
    # The subscriber has the story already: the listing is a new source of it, not a
    # second alert; it rides along with the next digest that carries news.
    assert await service.pipeline.deliver_due() == []
    assert len(smtp_server.messages) == 1


async def test_a_failing_later_page_stores_nothing(
    make_service: Make, feed_server: FeedServer
) -> None:
    page1 = json.loads((DATA / "listings/federal-register-page1.json").read_text())
    page1["next_page_url"] = feed_server.url("/documents.json?page=2")
    feed_server.route("/documents.json", body=json.dumps(page1).encode())
    feed_server.route("/documents.json?page=2", status=500)
    url = feed_server.url("/documents.json")
    service = await make_service(f'[[feeds]]\nname = "fr"\nkind = "json"\nurl = "{url}"\n{FR_JSON}')
    result = await service.poll("fr")
    assert result.status == "error" and result.error is not None and "500" in result.error
    assert service.items("fr") == []  # page 1 alone does not pass for the whole answer
    assert service.feed_error("fr")[0] == 1


async def test_a_listing_row_is_matched_on_its_action_page(
    make_service: Make, feed_server: FeedServer
) -> None:
    page = (
        b"<!DOCTYPE html><html><head><title>Russia-related Designations</title></head><body>"
        b"<main><article><h1>Russia-related Designations</h1>"
        b"<p>The Office of Foreign Assets Control has added the following individual to its "
        b"Specially Designated Nationals and Blocked Persons List: VOLKOVA, Marina Olegovna "
        b"(a.k.a. Marina Volkova), born 3 March 1979, nationality Russia, pursuant to "
        b"Executive Order 14024 for operating in the financial services sector of the "
        b"Russian Federation economy.</p></article></main></body></html>"
    )
    feed_server.route(
        "/recent-actions/20260701_1",
        body=page,
        headers={"Content-Type": "text/html; charset=utf-8"},
    )
    url = feed_server.url("/recent-actions")
    service = await make_service(
        f'[[feeds]]\nname = "ofac-actions"\nkind = "html"\nurl = "{url}"\nofficial = true\n'
        f'issuer = "US"\nfetch_article = true\n{OFAC_HTML}'
        + '[[watchlists]]\nname = "people"\nentities = [{ name = "Marina Volkova" }]\n'
    )
    service.serve("/recent-actions", "listings/ofac-recent-actions.html")
    result = await service.poll("ofac-actions")
    assert result.status == "fetched", result.error
    row = next(r for r in service.items("ofac-actions") if r.link.endswith("/20260701_1"))
    assert "VOLKOVA, Marina Olegovna" in row.content
    with Session(service.store.engine) as session:
        fields = session.scalars(select(MatchRow.field).where(MatchRow.item_id == row.id)).all()
    assert "content" in fields


async def test_an_unreadable_snapshot_starts_a_new_baseline_and_says_so(
    make_service: Make, feed_server: FeedServer
) -> None:
    url = feed_server.url("/list.xml")
    service = await make_service(list_feed("uk-list", url, "uk-sanctions-list-xml", "UK list"))
    service.serve("/list.xml", "lists/uk-sanctions-list-v1.xml")
    assert (await service.poll("uk-list")).status == "fetched"
    with Session(service.store.engine) as session, session.begin():
        session.get_one(ListSnapshotRow, 1).data = b"garbage"
    service.serve("/list.xml", "lists/uk-sanctions-list-v2.xml")
    result = await service.poll("uk-list")
    assert (result.status, result.new_items) == ("fetched", 0)
    state = next(s for s in service.store.feed_states() if s.name == "uk-list")
    assert any("stored snapshot unreadable" in a for a in state.anomalies), state.anomalies
    assert _snapshot(service.store) is not None and _snapshot(service.store)[2] != b"garbage"


async def test_a_gap_between_change_files_is_reported(
    make_service: Make, feed_server: FeedServer
) -> None:
    url = feed_server.url("/changes")
    service = await make_service(list_feed("us-sls", url, "ofac-sls-delta", "OFAC SDN list"))
    first = (DATA / "lists/ofac-sls-delta.xml").read_text(encoding="utf-8")
    service.server.route("/changes", body=first.encode())
    assert (await service.poll("us-sls")).new_items == 3
    # The next file read is four days later: the ones in between were never fetched.
    later = first.replace(
        "<datePublished>2026-07-01T00:00:00-04:00</datePublished>",
        "<datePublished>2026-07-05T00:00:00-04:00</datePublished>",
    )
    service.server.route("/changes", body=later.encode())
    service.clock.advance(days=4)
    result = await service.poll("us-sls")
    assert result.status == "fetched" and result.new_items == 3  # each change, again: news
    state = next(s for s in service.store.feed_states() if s.name == "us-sls")
    assert any("were missed" in a for a in state.anomalies), state.anomalies


async def test_news_after_a_listing_joins_its_story_even_after_a_restart(
    make_service: Make, feed_server: FeedServer
) -> None:
    uk = list_feed("uk-list", feed_server.url("/uk.xml"), "uk-sanctions-list-xml", "UK list")
    press = (
        "<item><guid>wire-volkova</guid><title>Britain sanctions Russian financier Marina "
        "Volkova</title><link>https://wire.example/volkova</link><description>The UK "
        "imposed an asset freeze and a travel ban on Marina Volkova, a financier it accuses "
        "of moving money for Russian arms makers through front companies in Dubai and "
        "Istanbul, the Foreign Office said on Wednesday.</description></item>"
    )
    config = f'[[feeds]]\nname = "wire"\nurl = "{feed_server.url("/wire.xml")}"\n' + uk
    service = await make_service(config)
    service.serve("/uk.xml", "lists/uk-sanctions-list-v1.xml")
    await service.poll("uk-list")
    service.serve("/uk.xml", "lists/uk-sanctions-list-v2.xml")
    service.clock.advance(hours=6)
    assert (await service.poll("uk-list")).new_items == 3
    listing = next(r for r in service.items("uk-list") if r.designation["action"] == "added")

    # A restarted service rebuilds what it knows of recent list changes from the store.
    restarted = await make_service(config)
    restarted.clock.now = service.clock.now + timedelta(hours=2)
    feed_server.route("/wire.xml", body=rss(press))
    assert (await restarted.poll("wire")).new_items == 1
    [report] = restarted.items("wire")
    assert report.story_key == listing.story_key
    assert "listed as VOLKOVA, Marina Olegovna" in report.story_reason


async def test_a_weekend_without_change_files_is_no_gap(
    make_service: Make, feed_server: FeedServer
) -> None:
    # OFAC publishes change files on working days: Friday's then Monday's, with the feed
    # read successfully in between, is not a missed file.
    url = feed_server.url("/changes")
    service = await make_service(list_feed("us-sls", url, "ofac-sls-delta", "OFAC SDN list"))
    friday = (DATA / "lists/ofac-sls-delta.xml").read_text(encoding="utf-8")
    service.server.route("/changes", body=friday.encode())
    await service.poll("us-sls")
    for _ in range(6):  # Saturday and Sunday: the same file, read fine
        service.clock.advance(hours=12)
        assert (await service.poll("us-sls")).status == "fetched"
    monday = friday.replace("2026-07-01T00:00:00-04:00", "2026-07-04T00:00:00-04:00")
    service.server.route("/changes", body=monday.encode())
    service.clock.advance(hours=12)
    assert (await service.poll("us-sls")).status == "fetched"
    state = next(s for s in service.store.feed_states() if s.name == "us-sls")
    assert not any("were missed" in a for a in state.anomalies), state.anomalies


async def test_an_undated_change_file_tells_a_relisting_apart_by_its_etag(
    make_service: Make, feed_server: FeedServer
) -> None:
    url = feed_server.url("/delta.json")
    service = await make_service(
        list_feed("os", url, "opensanctions-delta", "OpenSanctions").replace(
            'issuer = "UK"', 'issuer = ""'
        )
    )
    add = (
        b'{"op": "ADD", "entity": {"id": "NK-1", "schema": "Person", "properties": '
        b'{"name": ["Marina Olegovna Volkova"]}}}\n'
    )
    remove = b'{"op": "DEL", "entity": {"id": "NK-1"}}\n'
    counts = []
    for etag, body in (('"v1"', add), ('"v2"', remove), ('"v3"', add), ('"v3"', add)):
        service.server.route("/delta.json", body=body, etag=etag)
        service.clock.advance(hours=6)
        counts.append((await service.poll("os")).new_items)
    # Listed, delisted, listed again (news again); the last poll is the same file (304).
    assert counts == [1, 1, 1, 0]
