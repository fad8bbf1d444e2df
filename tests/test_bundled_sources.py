"""The bundled feeds.toml: every official source is complete, polite and readable.

Each html/json source is parsed with its own [feeds.html] / [feeds.json] table from a page
in that publisher's shape (tests/data/sources/, written by hand; see SOURCES.md for which
shapes are confirmed), so a selector typo in feeds.toml fails here, not in production.
"""

from __future__ import annotations

import re
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from alerts.config import load_config, parse_interval
from alerts.domain import Item
from alerts.sources.jsonapi import JsonApiSpec, parse_json_api
from alerts.sources.listing import ListingSpec, parse_listing

ROOT = Path(__file__).resolve().parents[1]
CONFIG = ROOT / "feeds.toml"
README = ROOT / "README.md"
SOURCES = Path(__file__).parent / "data" / "sources"

TEXT = CONFIG.read_text(encoding="utf-8")
FEEDS: list[dict[str, Any]] = tomllib.loads(TEXT)["feeds"]
BY_NAME = {feed["name"]: feed for feed in FEEDS}

# Source name -> its fixture under tests/data/sources/.
FIXTURES = {
    "us-ofac-recent-actions": "us-ofac-recent-actions.html",
    "us-treasury-press": "us-treasury-press.html",
    "federal-register-ofac": "federal-register-ofac.json",
    "au-dfat-news": "au-dfat-news.html",
    "ch-seco-news": "ch-seco-news.html",
    "jp-mof-sanctions": "jp-mof-sanctions.html",
}
LIST_FORMATS = {
    "ofac-sdn-xml",
    "ofac-sls-delta",
    "uk-sanctions-list-xml",
    "un-consolidated-xml",
    "eu-fsf-xml",
    "opensanctions-delta",
}
ISSUERS = {"US", "EU", "UK", "UN", "CA", "AU", "CH", "JP", "NZ"}
# Polling etiquette per kind: (shortest, longest) interval.
POLITE = {
    "feed": (timedelta(minutes=30), timedelta(hours=1)),
    "html": (timedelta(hours=1), timedelta(hours=24)),
    "json": (timedelta(hours=1), timedelta(hours=24)),
    "list": (timedelta(hours=2), timedelta(hours=24)),
}
# Each fixture holds sanctions news and other news, as the real pages do.
SANCTIONS = re.compile(r"sanction|designat|listed|asset freeze|制裁|資産凍結", re.IGNORECASE)


def kind(feed: dict[str, Any]) -> str:
    return str(feed.get("kind", "feed"))


def names(*kinds: str) -> list[str]:
    return [feed["name"] for feed in FEEDS if kind(feed) in kinds]


OFFICIAL = [feed["name"] for feed in FEEDS if feed.get("official")]


def assert_complete(feed: dict[str, Any], items: tuple[Item, ...]) -> None:
    """At least 3 items with a title, an absolute link on the publisher's host and a date."""
    host = urlsplit(feed["url"]).netloc
    complete = [
        i
        for i in items
        if i.title
        and i.link
        and urlsplit(i.link).scheme == "https"
        and urlsplit(i.link).netloc == host
        and i.published is not None
    ]
    assert len(complete) >= 3, [(i.title, i.link, i.published) for i in items]
    assert len(complete) == len(items)
    titles = [i.title for i in items]
    assert any(SANCTIONS.search(t) for t in titles), titles
    assert not all(SANCTIONS.search(t) for t in titles), titles


# --- the whole file -------------------------------------------------------------------------


def test_names_are_unique_lowercase_dashes() -> None:
    all_names = [feed["name"] for feed in FEEDS]
    assert len(all_names) == len(set(all_names))
    assert all(re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", n) for n in all_names), all_names


def test_existing_feed_names_are_kept() -> None:
    kept = {
        "eu-council-press",
        "eu-official-journal-l",
        "uk-ofsi",
        "uk-fcdo-sanctions",
        "un-press",
        "us-state-press",
        "federal-register-ofac",
        "bbc-world",
        "guardian-world",
        "aljazeera",
    }
    assert kept <= set(BY_NAME)


def test_every_html_and_json_source_has_a_fixture() -> None:
    assert set(names("html", "json")) == set(FIXTURES)
    assert all((SOURCES / path).is_file() for path in FIXTURES.values())


@pytest.mark.parametrize("name", OFFICIAL)
def test_official_sources_name_an_issuer_and_poll_politely(name: str) -> None:
    feed = BY_NAME[name]
    assert feed.get("issuer") in ISSUERS
    assert feed["url"].startswith("https://")
    shortest, longest = POLITE[kind(feed)]
    assert shortest <= parse_interval(feed["interval"]) <= longest


@pytest.mark.parametrize("name", OFFICIAL)
def test_official_sources_say_what_they_publish(name: str) -> None:
    # The comment lines inside the source's [[feeds]] block (up to the next table).
    block = TEXT.split(f'name = "{name}"\n', 1)[1].split("\n[", 1)[0]
    comments = [line for line in block.splitlines() if line.lstrip().startswith("#")]
    assert sum(len(line) for line in comments) >= 80, block


# --- html listings --------------------------------------------------------------------------


@pytest.mark.parametrize("name", names("html"))
def test_html_source_reads_its_fixture(name: str) -> None:
    feed = BY_NAME[name]
    spec = ListingSpec.from_mapping(feed["html"])
    body = (SOURCES / FIXTURES[name]).read_bytes()
    page = parse_listing(name, body, feed["url"], spec)
    assert page.problems == ()
    assert_complete(feed, page.items)


def test_ofac_actions_of_the_same_day_keep_their_date() -> None:
    feed = BY_NAME["us-ofac-recent-actions"]
    body = (SOURCES / FIXTURES["us-ofac-recent-actions"]).read_bytes()
    page = parse_listing(feed["name"], body, feed["url"], ListingSpec.from_mapping(feed["html"]))
    dated = {i.link.rsplit("/", 1)[1]: i.published for i in page.items if i.link}
    july_1 = dated["20260701"]
    assert july_1 is not None and july_1.strftime("%Y%m%d") == "20260701"
    assert dated["20260701_1"] == july_1


def test_japanese_dates_are_read() -> None:
    feed = BY_NAME["jp-mof-sanctions"]
    body = (SOURCES / FIXTURES["jp-mof-sanctions"]).read_bytes()
    page = parse_listing(feed["name"], body, feed["url"], ListingSpec.from_mapping(feed["html"]))
    first = page.items[0]
    assert (
        first.published is not None and first.published.isoformat() == "2026-07-03T00:00:00+00:00"
    )


# --- json APIs ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", names("json"))
def test_json_source_reads_its_fixture(name: str) -> None:
    feed = BY_NAME[name]
    spec = JsonApiSpec.from_mapping(feed["json"])
    body = (SOURCES / FIXTURES[name]).read_bytes()
    page = parse_json_api(name, body, spec, base_url=feed["url"])
    assert page.problems == ()
    assert_complete(feed, page.items)
    assert page.next_url is None or urlsplit(page.next_url).netloc == urlsplit(feed["url"]).netloc


def test_federal_register_titles_lose_their_trailing_spaces_and_keep_document_numbers() -> None:
    feed = BY_NAME["federal-register-ofac"]
    body = (SOURCES / FIXTURES["federal-register-ofac"]).read_bytes()
    page = parse_json_api(feed["name"], body, JsonApiSpec.from_mapping(feed["json"]))
    assert page.items[0].title == "Notice of OFAC Sanctions Actions"
    assert [i.guid for i in page.items][:2] == ["2026-14388", "2026-14102"]


# --- list files -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", names("list"))
def test_list_sources_name_a_known_format(name: str) -> None:
    feed = BY_NAME[name]
    assert feed["format"] in LIST_FORMATS
    assert 0 < feed.get("max_removed_share", 0.2) <= 1
    assert parse_interval(feed["interval"]) >= timedelta(hours=2)
    assert not {"html", "json", "fetch_article"} & set(feed)


def test_the_opensanctions_delta_is_off_and_not_official() -> None:
    feed = BY_NAME["opensanctions-sanctions"]
    assert feed["enabled"] is False and feed["official"] is False
    assert "CC BY-NC" in TEXT.split('name = "opensanctions-sanctions"', 1)[1]


def test_the_full_sdn_list_is_off_because_the_delta_is_preferred() -> None:
    assert BY_NAME["us-ofac-sdn"]["enabled"] is False
    assert BY_NAME["us-ofac-sls-delta"].get("enabled", True) is True


# --- docs and the real loader ---------------------------------------------------------------


def test_readme_table_lists_every_official_source() -> None:
    readme = README.read_text(encoding="utf-8")
    section = readme.split("## Bundled sources", 1)[1].split("\n## ", 1)[0]
    missing = [name for name in OFFICIAL if f"`{name}`" not in section]
    assert not missing, f"sources missing from README 'Bundled sources': {missing}"


def test_the_config_loader_accepts_every_bundled_source() -> None:
    config = load_config(CONFIG, environ={})
    assert [f.name for f in config.feeds] == [feed["name"] for feed in FEEDS]
    for feed in FEEDS:
        loaded = config.feed(feed["name"])
        assert loaded is not None
        assert loaded.kind == kind(feed)
        assert loaded.issuer == feed.get("issuer", "")
        assert loaded.enabled is feed.get("enabled", True)
