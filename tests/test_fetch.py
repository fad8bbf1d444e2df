"""Fetching against a real local HTTP server, and the backoff schedule after failures."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from alerts.domain import Item
from alerts.errors import FetchError, ParseError
from alerts.sources.fetch import DEFAULT_USER_AGENT, Fetcher, FetchLimits
from alerts.sources.parse import parse_feed
from tests.support.feed_server import FEEDS_DIR, FeedServer

RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>'
# Small numbers so that failures are quick; the defaults are tested separately.
LIMITS = FetchLimits(
    connect_timeout=1.0,
    read_timeout=0.3,
    total_timeout=3.0,
    max_bytes=64 * 1024,
    max_redirects=3,
    max_connections=10,
    max_per_host=2,
)


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(limits=LIMITS) as f:
        yield f


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def fetch_error(fetcher: Fetcher, url: str) -> FetchError:
    with pytest.raises(FetchError) as info:
        await fetcher.fetch("wire", url)
    assert info.value.feed == "wire"
    return info.value


def test_defaults_are_named_and_bounded() -> None:
    limits = FetchLimits()
    assert (limits.connect_timeout, limits.read_timeout, limits.total_timeout) == (10, 30, 60)
    assert limits.max_bytes == 10 * 1024 * 1024 and limits.max_redirects == 5
    assert "Mozilla/5.0" in DEFAULT_USER_AGENT and "SanctionsAlerts" in DEFAULT_USER_AGENT


async def test_etag_is_sent_back_and_304_has_no_body(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.route("/wire.xml", body=RSS, etag='"v1"')

    first = await fetcher.fetch("wire", feed_server.url("/wire.xml"))
    assert (first.status, first.body, first.etag) == (200, RSS, '"v1"')
    assert not first.not_modified and first.permanent_url is None
    assert first.url == feed_server.url("/wire.xml")
    sent = feed_server.requests[0].headers
    assert sent["user-agent"] == DEFAULT_USER_AGENT
    assert "application/rss+xml" in sent["accept"] and "gzip" in sent["accept-encoding"]
    assert "if-none-match" not in sent

    second = await fetcher.fetch("wire", feed_server.url("/wire.xml"), etag=first.etag)
    assert second.not_modified and second.status == 304 and second.body is None
    assert second.etag == '"v1"'
    assert feed_server.requests[-1].headers["if-none-match"] == '"v1"'


async def test_last_modified_is_sent_back(feed_server: FeedServer, fetcher: Fetcher) -> None:
    stamp = "Wed, 25 Nov 2026 10:00:00 GMT"
    feed_server.route("/wire.xml", body=RSS, last_modified=stamp)

    first = await fetcher.fetch("wire", feed_server.url("/wire.xml"))
    assert first.status == 200 and first.last_modified == stamp and first.etag is None

    second = await fetcher.fetch("wire", feed_server.url("/wire.xml"), last_modified=stamp)
    assert second.not_modified and second.last_modified == stamp
    assert feed_server.requests[-1].headers["if-modified-since"] == stamp
    assert feed_server.hits("/wire.xml") == 2


async def test_files_are_served_with_their_content_type(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    result = await fetcher.fetch("atom", feed_server.url("/govuk_ofsi.atom"))
    assert result.headers["content-type"] == "application/atom+xml"
    assert result.body is not None and b"tag:www.gov.uk,2005:" in result.body


async def test_all_permanent_redirects_give_the_new_url(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.route("/new.xml", body=RSS)
    feed_server.redirect("/old.xml", "/middle.xml", status=301)
    feed_server.redirect("/middle.xml", feed_server.url("/new.xml"), status=308)

    result = await fetcher.fetch("wire", feed_server.url("/old.xml"))
    assert result.status == 200 and result.body == RSS
    assert result.url == feed_server.url("/new.xml")
    assert result.permanent_url == feed_server.url("/new.xml")


@pytest.mark.parametrize("temporary", [302, 303, 307])
async def test_a_temporary_hop_keeps_the_stored_url(
    feed_server: FeedServer, fetcher: Fetcher, temporary: int
) -> None:
    feed_server.route("/new.xml", body=RSS)
    feed_server.redirect("/old.xml", "/middle.xml", status=301)
    feed_server.redirect("/middle.xml", "/new.xml", status=temporary)

    result = await fetcher.fetch("wire", feed_server.url("/old.xml"))
    assert result.url == feed_server.url("/new.xml") and result.body == RSS
    assert result.permanent_url is None


async def test_redirect_loop_is_named(feed_server: FeedServer, fetcher: Fetcher) -> None:
    feed_server.redirect("/loop-a", "/loop-b")
    feed_server.redirect("/loop-b", "/loop-a", status=302)

    error = await fetch_error(fetcher, feed_server.url("/loop-a"))
    a, b = feed_server.url("/loop-a"), feed_server.url("/loop-b")
    assert error.message == f"redirect loop: {a} -> {b} -> {a}"


async def test_too_many_redirects(feed_server: FeedServer, fetcher: Fetcher) -> None:
    for n in range(5):
        feed_server.redirect(f"/r{n}", f"/r{n + 1}")
    feed_server.route("/r5", body=RSS)

    error = await fetch_error(fetcher, feed_server.url("/r0"))
    assert error.message.startswith("too many redirects: more than 3")
    assert feed_server.hits("/r4") == 0  # stopped before following a fourth hop


async def test_redirect_without_location(feed_server: FeedServer, fetcher: Fetcher) -> None:
    feed_server.route("/moved", status=301)
    error = await fetch_error(fetcher, feed_server.url("/moved"))
    assert error.message == "HTTP 301 redirect without a Location header"


async def test_redirect_to_another_scheme_is_refused(
    feed_server: FeedServer, fetcher: Fetcher
) -> None:
    feed_server.redirect("/ftp", "ftp://files.example.org/feed.xml")
    error = await fetch_error(fetcher, feed_server.url("/ftp"))
    assert "invalid URL 'ftp://files.example.org/feed.xml'" in error.message


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (404, "HTTP 404 Not Found"),
        (500, "HTTP 500 Internal Server Error"),
        (403, "HTTP 403 Forbidden"),
    ],
)
async def test_http_errors(
    feed_server: FeedServer, fetcher: Fetcher, status: int, message: str
) -> None:
    feed_server.route("/x.xml", body=b"<html>nope</html>", status=status)
    error = await fetch_error(fetcher, feed_server.url("/x.xml"))
    assert (error.message, error.status, error.retry_after) == (message, status, None)
    assert str(error) == f"feed 'wire': {message}"


async def test_unknown_path_is_404(feed_server: FeedServer, fetcher: Fetcher) -> None:
    error = await fetch_error(fetcher, feed_server.url("/nothing-here.xml"))
    assert error.message == "HTTP 404 Not Found"


async def test_retry_after_in_seconds(feed_server: FeedServer, fetcher: Fetcher) -> None:
    feed_server.route("/busy", status=429, headers={"Retry-After": "120"})
    error = await fetch_error(fetcher, feed_server.url("/busy"))
    assert error.status == 429 and error.retry_after == 120
    assert error.message == "HTTP 429 Too Many Requests (retry after 120s)"


async def test_retry_after_as_http_date(feed_server: FeedServer, fetcher: Fetcher) -> None:
    when = datetime.now(UTC) + timedelta(hours=1)
    feed_server.route(
        "/down", status=503, headers={"Retry-After": format_datetime(when, usegmt=True)}
    )
    error = await fetch_error(fetcher, feed_server.url("/down"))
    assert error.status == 503 and error.message.startswith("HTTP 503 Service Unavailable")
    assert error.retry_after is not None and 3590 <= error.retry_after <= 3600


async def test_connection_refused(fetcher: Fetcher) -> None:
    port = closed_port()
    error = await fetch_error(fetcher, f"http://127.0.0.1:{port}/feed.xml")
    assert error.message == f"connection refused: 127.0.0.1:{port}"
    assert error.status is None


@pytest.mark.parametrize(
    "url",
    ["not a url", "ftp://example.org/feed.xml", "http://", "http://127.0.0.1:99999/feed.xml"],
)
async def test_invalid_urls(fetcher: Fetcher, url: str) -> None:
    error = await fetch_error(fetcher, url)
    assert error.message.startswith(f"invalid URL {url!r}")


async def test_waiting_for_headers_times_out(feed_server: FeedServer, fetcher: Fetcher) -> None:
    feed_server.route("/slow", body=RSS, delay=2.0)
    error = await fetch_error(fetcher, feed_server.url("/slow"))
    assert error.message == f"timed out after 0.3s reading {feed_server.url('/slow')}"


async def test_a_stalled_body_times_out(feed_server: FeedServer, fetcher: Fetcher) -> None:
    feed_server.route("/stall", body=RSS, body_delay=2.0)
    error = await fetch_error(fetcher, feed_server.url("/stall"))
    assert error.message == f"timed out after 0.3s reading {feed_server.url('/stall')}"
    assert error.status == 200


async def test_total_deadline(feed_server: FeedServer) -> None:
    # Each hop is quick enough for the read timeout; together they exceed the total.
    feed_server.redirect("/a", "/b")
    feed_server.route("/a-slow", body=RSS, delay=0.25)
    feed_server.redirect("/b", "/a-slow")
    limits = FetchLimits(read_timeout=1.0, total_timeout=0.15)
    async with Fetcher(limits=limits) as fetcher:
        error = await fetch_error(fetcher, feed_server.url("/a"))
    assert error.message == f"timed out after 0.15s in total fetching {feed_server.url('/a-slow')}"


async def test_waiting_in_the_queue_does_not_count_against_the_deadline(
    feed_server: FeedServer,
) -> None:
    feed_server.route("/wire.xml", body=RSS, delay=0.2)
    limits = FetchLimits(read_timeout=1.0, total_timeout=0.6, max_per_host=1)
    async with Fetcher(limits=limits) as fetcher:
        url = feed_server.url("/wire.xml")
        results = await asyncio.gather(*(fetcher.fetch(f"f{n}", url) for n in range(4)))
    assert [r.status for r in results] == [200] * 4
    assert feed_server.max_in_flight == 1


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
async def test_body_over_the_cap(feed_server: FeedServer, fetcher: Fetcher, chunked: bool) -> None:
    feed_server.route("/huge", body=b"<rss>" + b" " * (200 * 1024) + b"</rss>", chunked=chunked)
    error = await fetch_error(fetcher, feed_server.url("/huge"))
    how = "streamed" if chunked else f"Content-Length {200 * 1024 + 11}"
    assert error.message == f"response body over 64 KiB cap ({how})"


async def test_cap_counts_decompressed_bytes(feed_server: FeedServer, fetcher: Fetcher) -> None:
    # 1 MiB of spaces gzips to about 1 KiB: the Content-Length alone would let it through.
    feed_server.route("/bomb", body=b" " * (1024 * 1024), gzip=True)
    error = await fetch_error(fetcher, feed_server.url("/bomb"))
    assert error.message == "response body over 64 KiB cap (streamed)"


async def test_default_cap_is_named_in_mib() -> None:
    from alerts.sources.fetch import _too_big

    assert _too_big(FetchLimits(), "streamed") == "response body over 10 MiB cap (streamed)"


async def test_a_request_can_raise_the_cap(fetcher: Fetcher, feed_server: FeedServer) -> None:
    # A list file is bigger than any feed: the pipeline fetches it with its own limits.
    feed_server.route("/big", body=b"x" * (200 * 1024))
    error = await fetch_error(fetcher, feed_server.url("/big"))
    assert "64 KiB cap" in error.message
    bigger = FetchLimits(max_bytes=1024 * 1024)
    result = await fetcher.fetch("f", feed_server.url("/big"), limits=bigger)
    assert result.body is not None and len(result.body) == 200 * 1024


async def test_gzip_body_is_decoded(feed_server: FeedServer, fetcher: Fetcher) -> None:
    feed_server.route("/wire.xml", body=RSS * 20, gzip=True)
    result = await fetcher.fetch("wire", feed_server.url("/wire.xml"))
    assert result.body == RSS * 20
    assert result.headers["content-encoding"] == "gzip"


async def test_per_host_concurrency_is_bounded(feed_server: FeedServer, fetcher: Fetcher) -> None:
    feed_server.route("/slow.xml", body=RSS, delay=0.15)
    url = feed_server.url("/slow.xml")
    results = await asyncio.gather(*(fetcher.fetch(f"feed{n}", url) for n in range(5)))
    assert all(r.status == 200 for r in results)
    assert feed_server.hits("/slow.xml") == 5
    assert feed_server.max_in_flight == 2  # max_per_host, although max_connections is 10


async def test_closed_by_context_manager(feed_server: FeedServer) -> None:
    feed_server.route("/wire.xml", body=RSS)
    async with Fetcher(limits=LIMITS) as fetcher:
        await fetcher.fetch("wire", feed_server.url("/wire.xml"))
    assert fetcher._client.is_closed


# The fixtures written for this suite (tests/test_parse.py checks another set by name).
FIXTURES = (
    "eu_council_press.xml",
    "govuk_ofsi.atom",
    "federal_register_ofac.rss",
    "un_press.xml",
    "eurlex_oj.rdf",
    "sanctions_desk.json",
    "dailycourier_navalny.xml",
    "lejournal_latin1.xml",
    "wienerblatt_header_charset.xml",  # served as charset=utf-8; the bytes are windows-1252
    "relative_links.atom",
    "bozo_recovered.xml",
    "empty_channel.xml",
    "broken_html_page.html",
    "broken_malformed.xml",
    "broken_empty.xml",
)


def item_json(item: Item) -> dict[str, Any]:
    return {
        "guid": item.guid,
        "link": item.link,
        "title": item.title,
        "summary": item.summary,
        "summary_html": item.summary_html,
        "published": item.published.isoformat() if item.published else None,
        "authors": list(item.authors),
        "tags": list(item.tags),
    }


@pytest.mark.parametrize("name", FIXTURES)
async def test_served_fixture_parses_to_its_expected_json(
    feed_server: FeedServer, fetcher: Fetcher, name: str
) -> None:
    """Over the wire, so the Content-Type (and a sidecar's wrong charset) reach the parser."""
    path = FEEDS_DIR / name
    expected = json.loads(
        path.with_name(f"{path.name.rsplit('.', 1)[0]}.expected.json").read_text(encoding="utf-8")
    )
    result = await fetcher.fetch(name, feed_server.url(f"/{name}"))
    assert result.body == path.read_bytes()
    # A fixed URL keeps the resolved links in the expected files independent of the port.
    url = f"https://feeds.example.org/feeds/{name}"
    if "error" in expected:
        with pytest.raises(ParseError) as info:
            parse_feed(name, result.body, url=url, headers=result.headers)
        assert info.value.message == expected["error"]
        return
    items = parse_feed(name, result.body, url=url, headers=result.headers)
    assert [item_json(item) for item in items] == expected["items"]
    assert all(item.feed == name for item in items)
    assert all(
        item.published is None or item.published.utcoffset() == timedelta(0) for item in items
    )


async def test_a_spooled_body_comes_as_a_file(fetcher: Fetcher, feed_server: FeedServer) -> None:
    payload = bytes(range(256)) * 1024  # 256 KiB
    feed_server.route("/list.xml", body=payload, gzip=True)
    limits = FetchLimits(max_bytes=1024 * 1024, spool_over=16 * 1024)
    result = await fetcher.fetch("f", feed_server.url("/list.xml"), limits=limits)
    assert result.body is None and result.file is not None
    assert result.file.read() == payload  # decompressed, positioned at the start
    result.close()
    assert result.file.closed
    # The cap still applies while spooling.
    small = FetchLimits(max_bytes=64 * 1024, spool_over=16 * 1024)
    with pytest.raises(FetchError, match="64 KiB cap"):
        await fetcher.fetch("f", feed_server.url("/list.xml"), limits=small)
