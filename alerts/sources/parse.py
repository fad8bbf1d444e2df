"""Feed bytes to Items: RSS 0.9x/1.0/2.0 and Atom through feedparser, JSON Feed 1.x with json.

Parsers take bytes and the response headers, never URLs, so encodings come out right (the
HTTP charset, the XML prolog and byte-order marks are weighed by feedparser) and every
parser is testable from a file. Slightly broken feeds are common: entries recovered from a
"bozo" feed are kept; only a body with nothing readable in it is an error.

Summaries and contents keep their paragraphs, one per line ("\\n" between paragraphs and
nowhere else), so promo footers can be dropped a paragraph at a time
(`alerts.sources.boilerplate`); titles are one line.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import feedparser

from alerts.domain import Item
from alerts.errors import ParseError
from alerts.sources.text import (
    collapse_whitespace,
    html_to_paragraphs,
    html_to_text,
    plain_paragraphs,
    sanitize_html,
)

JSON_FEED_VERSION_PREFIX = "https://jsonfeed.org/version/"
_JSON_TYPES = frozenset({"application/feed+json", "application/json"})
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_HTML_STARTS = (b"<!doctype html", b"<html")
_FEED_MARKERS = (b"<rss", b"<feed", b"<rdf:rdf", b"<channel")
# Only the encoding was wrong: feedparser decoded the body another way and read it fine.
_HARMLESS_BOZO = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


def parse_feed(
    feed: str, body: bytes, *, url: str, headers: Mapping[str, str] | None = None
) -> list[Item]:
    """Parse a feed body into Items (possibly none); raise ParseError if it is not a feed."""
    lowered = {name.lower(): value for name, value in (headers or {}).items()}
    content_type = lowered.get("content-type", "").split(";", 1)[0].strip().lower()
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not start:
        raise ParseError(feed, "empty response body")
    if _is_json_feed(start, content_type):
        return _parse_json_feed(feed, start, url)
    head = start[:4096].lower()
    if head.startswith(_HTML_STARTS) or (
        content_type in _HTML_TYPES and not any(marker in head for marker in _FEED_MARKERS)
    ):
        shown = content_type or "no Content-Type"
        raise ParseError(feed, f"not a feed: the server sent an HTML page ({shown})")

    # No base URI for feedparser: it would resolve RSS <guid>s too (isPermaLink defaults to
    # true), turning an identifier such as "2026-21834" into a URL under the feed's own URL,
    # so a permanent redirect of the feed would change every guid and re-alert every item.
    # Links and hrefs in summaries are resolved against the feed URL in _entry_item instead.
    response_headers = {k: v for k, v in lowered.items() if k != "content-location"}
    parsed = feedparser.parse(
        body, response_headers=response_headers, resolve_relative_uris=True, sanitize_html=False
    )
    entries = parsed.get("entries") or []
    if not entries:
        problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
        if problem is not None and not isinstance(problem, _HARMLESS_BOZO):
            raise ParseError(feed, _malformed(problem))
        if not parsed.get("version"):
            raise ParseError(feed, "not a feed: no RSS, Atom or JSON Feed document found")
    return [item for entry in entries if (item := _entry_item(feed, entry, url)) is not None]


def _is_json_feed(start: bytes, content_type: str) -> bool:
    # Servers label JSON Feeds as application/json too; the body must still look like JSON.
    if content_type in _JSON_TYPES and start[:1] in (b"{", b"["):
        return True
    return start[:1] == b"{" and JSON_FEED_VERSION_PREFIX.encode() in start[:4096]


def _malformed(problem: object) -> str:
    get_message = getattr(problem, "getMessage", None)
    message = str(get_message()) if callable(get_message) else str(problem)
    get_line = getattr(problem, "getLineNumber", None)
    where = f" (line {get_line()})" if callable(get_line) else ""
    return f"malformed XML: {message or type(problem).__name__}{where}"


def _struct_time(value: Any) -> datetime | None:
    # feedparser normalises every date it understands to a UTC struct_time.
    if not isinstance(value, time.struct_time):
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def _entry_item(feed: str, entry: Mapping[str, Any], base: str) -> Item | None:
    title = html_to_text(str(entry.get("title") or ""))
    link = str(entry.get("link") or "").strip()
    # Atom's summary (RSS description) is the teaser; content (Atom content, RSS
    # content:encoded) is the full text: matched as `content`, or the summary if none.
    summary_html = str(entry.get("summary") or "")
    content_html = str(entry["content"][0].get("value") or "") if entry.get("content") else ""
    if not summary_html.strip():
        summary_html, content_html = content_html, ""
    summary = html_to_paragraphs(summary_html)
    content = html_to_paragraphs(content_html) if content_html.strip() else ""
    if content == summary:
        content = ""  # feedparser gives RSS descriptions as content too
    if not (title or link or summary):
        return None
    authors = _unique(
        collapse_whitespace(str(author.get("name") or "")) for author in entry.get("authors") or []
    )
    if not authors and entry.get("author"):
        authors = _unique([collapse_whitespace(str(entry["author"]))])
    tags = _unique(
        collapse_whitespace(str(tag.get("term") or tag.get("label") or ""))
        for tag in entry.get("tags") or []
    )
    return Item(
        feed=feed,
        guid=str(entry.get("id") or "").strip() or None,
        link=urljoin(base, link) if link else None,
        title=title,
        summary=summary,
        summary_html=sanitize_html(summary_html, base_url=base),
        content=content,
        published=_struct_time(entry.get("published_parsed"))
        or _struct_time(entry.get("updated_parsed")),
        authors=authors,
        tags=tags,
    )


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value for value in values if value))


def _parse_json_feed(feed: str, body: bytes, url: str) -> list[Item]:
    """JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1/)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(feed, f"invalid JSON Feed: {exc}") from exc
    if not isinstance(data, dict):
        raise ParseError(feed, "invalid JSON Feed: the top level is not an object")
    if not str(data.get("version") or "").startswith(JSON_FEED_VERSION_PREFIX):
        raise ParseError(
            feed, f'invalid JSON Feed: "version" must start with {JSON_FEED_VERSION_PREFIX}'
        )
    raw_items = data.get("items", [])
    if not isinstance(raw_items, list):
        raise ParseError(feed, 'invalid JSON Feed: "items" is not a list')
    feed_authors = _json_authors(data)
    items = []
    for raw in raw_items:
        if isinstance(raw, dict) and (item := _json_item(feed, raw, url, feed_authors)):
            items.append(item)
    return items


def _json_item(
    feed: str, raw: Mapping[str, Any], base: str, feed_authors: tuple[str, ...]
) -> Item | None:
    link = _json_str(raw, "url") or _json_str(raw, "external_url")
    content_html = _json_str(raw, "content_html")
    plain = _json_str(raw, "summary") or _json_str(raw, "content_text")
    summary = plain_paragraphs(plain) if plain else html_to_paragraphs(content_html)
    full = _json_str(raw, "content_text")
    content = plain_paragraphs(full) if full else html_to_paragraphs(content_html)
    if content == summary:
        content = ""
    summary_html = sanitize_html(content_html, base_url=base) if content_html else ""
    title = html_to_text(_json_str(raw, "title"))
    if not (title or link or summary):
        return None
    raw_tags = raw.get("tags")
    tags = raw_tags if isinstance(raw_tags, list) else []
    return Item(
        feed=feed,
        guid=str(raw.get("id") or "").strip() or None,  # ids may be numbers in the wild
        link=urljoin(base, link) if link else None,
        title=title,
        summary=summary,
        summary_html=summary_html,
        content=content,
        published=_iso_datetime(raw.get("date_published"))
        or _iso_datetime(raw.get("date_modified")),
        authors=_json_authors(raw) or feed_authors,
        tags=_unique(collapse_whitespace(str(tag)) for tag in tags),
    )


def _json_str(obj: Mapping[str, Any], key: str) -> str:
    value = obj.get(key)
    return value.strip() if isinstance(value, str) else ""


def _json_authors(obj: Mapping[str, Any]) -> tuple[str, ...]:
    authors = obj.get("authors")
    if not isinstance(authors, list):  # JSON Feed 1.0 had a single "author"
        single = obj.get("author")
        authors = [single] if isinstance(single, dict) else []
    return _unique(
        collapse_whitespace(str(author.get("name") or ""))
        for author in authors
        if isinstance(author, dict)
    )


def _iso_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:  # RFC 3339 requires an offset; assume UTC rather than drop it
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
