"""Feed bytes to Items: RSS 0.9x/1.0/2.0 and Atom through feedparser, JSON Feed 1.1 by hand.

Parsers take bytes and the response headers, never URLs, so encodings come out right (the
HTTP charset, the XML prolog and byte-order marks are weighed by feedparser) and every
parser is testable from a file. Slightly broken feeds are common: entries recovered from a
"bozo" feed are kept; only a feed with nothing readable is an error.
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
from alerts.sources.text import collapse_whitespace, html_to_text, sanitize_html

JSON_FEED_PREFIX = "https://jsonfeed.org/version/"
_HTML_STARTS = (b"<!doctype html", b"<html")
_FEED_MARKERS = (b"<rss", b"<feed", b"<rdf:rdf", b"<rdf")


def parse_feed(
    feed: str, body: bytes, *, url: str, headers: Mapping[str, str] | None = None
) -> list[Item]:
    """Parse a feed body into Items; raises ParseError with a clear message."""
    headers = {k.lower(): v for k, v in (headers or {}).items()}
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    stripped = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise ParseError(feed, "empty response body")
    if _looks_like_json_feed(stripped, content_type):
        return _parse_json_feed(feed, stripped, url)
    head = stripped[:2048].lower()
    if head.startswith(_HTML_STARTS) or (
        content_type == "text/html" and not any(m in head for m in _FEED_MARKERS)
    ):
        raise ParseError(
            feed, f"not a feed: the server sent an HTML page ({content_type or 'no content type'})"
        )
    response_headers = dict(headers)
    response_headers.setdefault("content-location", url)
    parsed = feedparser.parse(
        body, response_headers=response_headers, resolve_relative_uris=True, sanitize_html=False
    )
    entries = parsed.get("entries", [])
    if not entries and (parsed.get("bozo") or not parsed.get("version")):
        raise ParseError(feed, _bozo_message(parsed.get("bozo_exception")))
    base = parsed.get("href") or url
    items = [it for entry in entries if (it := _item(feed, entry, base)) is not None]
    return items


def _looks_like_json_feed(body: bytes, content_type: str) -> bool:
    if content_type in {"application/feed+json", "application/json"}:
        return True
    return body.startswith(b"{") and JSON_FEED_PREFIX.encode() in body[:512]


def _bozo_message(exc: object) -> str:
    if exc is None:
        return "not a feed: no RSS, Atom or JSON Feed document found"
    line = getattr(exc, "getLineNumber", None)
    where = f" (line {line()})" if callable(line) else ""
    text = getattr(exc, "getMessage", None)
    message = text() if callable(text) else str(exc)
    return f"malformed XML: {message}{where}"


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC) if isinstance(value, time.struct_time) else None
    except (TypeError, ValueError):
        return None


def _item(feed: str, entry: Mapping[str, Any], base: str) -> Item | None:
    title = html_to_text(str(entry.get("title", "") or ""))
    link = str(entry.get("link", "") or "").strip()
    if link:
        link = urljoin(base, link)
    summary_html = str(entry.get("summary", "") or "")
    if not summary_html and entry.get("content"):
        summary_html = str(entry["content"][0].get("value", "") or "")
    summary = html_to_text(summary_html)
    if not (title or link or summary):
        return None
    guid = str(entry.get("id", "") or "").strip() or None
    published = _time(entry.get("published_parsed")) or _time(entry.get("updated_parsed"))
    authors = tuple(
        name
        for a in entry.get("authors", []) or []
        if (name := collapse_whitespace(str(a.get("name", "") or "")))
    )
    if not authors and entry.get("author"):
        authors = (collapse_whitespace(str(entry["author"])),)
    tags = tuple(
        _unique(
            collapse_whitespace(str(t.get("term") or t.get("label") or ""))
            for t in entry.get("tags", []) or []
        )
    )
    return Item(
        feed=feed,
        guid=guid,
        link=link or None,
        title=title,
        summary=summary,
        summary_html=sanitize_html(summary_html),
        published=published,
        authors=authors,
        tags=tags,
    )


def _unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:
        if v:
            seen.setdefault(v, None)
    return list(seen)


def _parse_json_feed(feed: str, body: bytes, url: str) -> list[Item]:
    """JSON Feed 1.0/1.1 (https://jsonfeed.org/version/1.1)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(feed, f"invalid JSON Feed: {exc}") from exc
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith(JSON_FEED_PREFIX):
        raise ParseError(feed, 'invalid JSON Feed: no "version" naming jsonfeed.org')
    raw_items = data.get("items")
    if not isinstance(raw_items, list):
        raise ParseError(feed, 'invalid JSON Feed: "items" must be a list')
    base = str(data.get("feed_url") or data.get("home_page_url") or url)
    feed_authors = _json_authors(data)
    items = []
    for raw in raw_items:
        if not isinstance(raw, dict):
            continue
        link = str(raw.get("url") or raw.get("external_url") or "").strip()
        link = urljoin(base, link) if link else ""
        html_part = str(raw.get("content_html") or "")
        text_part = str(raw.get("summary") or raw.get("content_text") or "")
        summary = collapse_whitespace(text_part) if text_part else html_to_text(html_part)
        title = collapse_whitespace(str(raw.get("title") or ""))
        if not (title or link or summary):
            continue
        guid = str(raw.get("id") or "").strip() or None
        published = _iso(raw.get("date_published")) or _iso(raw.get("date_modified"))
        tags = raw.get("tags") if isinstance(raw.get("tags"), list) else []
        items.append(
            Item(
                feed=feed,
                guid=guid,
                link=link or None,
                title=title,
                summary=summary,
                summary_html=sanitize_html(html_part) if html_part else "",
                published=published,
                authors=_json_authors(raw) or feed_authors,
                tags=tuple(_unique(collapse_whitespace(str(t)) for t in tags or [])),
            )
        )
    return items


def _json_authors(obj: Mapping[str, Any]) -> tuple[str, ...]:
    authors = obj.get("authors")
    if not isinstance(authors, list):
        single = obj.get("author")
        authors = [single] if isinstance(single, dict) else []
    return tuple(
        collapse_whitespace(str(a["name"]))
        for a in authors
        if isinstance(a, dict) and a.get("name")
    )


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)
