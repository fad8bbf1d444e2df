"""JSON APIs (Federal Register documents, gov.uk search) to Items, by field paths.

A `JsonApiSpec` says where the list of results is and where each Item field sits in one
result, as dotted paths with list indexes (`"agencies.0.name"` or `"agencies[0].name"`).
Parsing is pure: one page's bytes in, a `JsonPage` out, with the next page's URL for the
fetcher to follow (at most `max_pages`).

APIs answer errors with status 200 too (`{"errors": [...]}`, `{"status": 400, ...}`): those
raise ParseError naming the error, so a broken query is a source error, never "no news".
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from alerts.domain import Item
from alerts.errors import ParseError
from alerts.sources.listing import (
    MAX_ITEMS,
    MAX_SUMMARY_CHARS,
    MAX_TITLE_CHARS,
    clean_line,
    clip,
    date_format_problems,
    drop_controls,
    parse_date,
    table_kwargs,
)
from alerts.sources.text import html_to_paragraphs, html_to_text

_PATH = re.compile(r"^[\w$@-]+(?:\.[\w$@-]+|\[\d+\])*$")
_INDEX = re.compile(r"\[(\d+)\]")
_ERROR_KEYS = ("errors", "error")
_STATUS_KEYS = ("status", "statusCode", "code")
_MESSAGE_KEYS = ("message", "detail", "title", "error_description", "description")
_MISSING: Any = object()  # a path that leads nowhere (None is a JSON null)


@dataclass(frozen=True, slots=True)
class JsonApiSpec:
    """Where the results and each Item field are in an API answer; ValueError if malformed.

    `guid` falls back to the link. With `empty_if_missing`, an answer without the items
    path is an empty page (the Federal Register omits `results` when nothing matches);
    `count`, when set, must then read 0, so an unrelated object is not taken for "empty".
    """

    items: str
    title: str
    guid: str = ""
    link: str = ""
    summary: str = ""
    published: str = ""
    date_formats: tuple[str, ...] = ()  # tried first; ISO 8601 and epoch seconds always work
    tags: str = ""  # a string or a list of strings per result (e.g. "type", "format")
    next_page: str = ""  # path of the next page's URL in the answer
    max_pages: int = 1
    empty_if_missing: bool = False
    count: str = ""

    def __post_init__(self) -> None:
        problems = []
        for name in ("items", "title"):
            if not getattr(self, name):
                problems.append(f"{name}: a field path is required")
        for name in ("items", "title", "guid", "link", "summary", "published", "tags"):
            path = getattr(self, name)
            if path and not _PATH.match(path):
                problems.append(f"{name}: {path!r} is not a dotted path such as 'a.b.0.c'")
        for name in ("next_page", "count"):
            path = getattr(self, name)
            if path and not _PATH.match(path):
                problems.append(f"{name}: {path!r} is not a dotted path such as 'a.b.0.c'")
        if not 1 <= self.max_pages <= 100:
            problems.append(f"max_pages: {self.max_pages} is not between 1 and 100")
        if self.max_pages > 1 and not self.next_page:
            problems.append("max_pages: needs next_page, the path of the next page's URL")
        if self.count and not self.empty_if_missing:
            problems.append("count: only used with empty_if_missing = true")
        problems.extend(date_format_problems(self.date_formats))
        if problems:
            raise ValueError("invalid JSON API spec: " + "; ".join(problems))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> JsonApiSpec:
        """A spec from a feeds.toml table; unknown keys and wrong types are ValueErrors."""
        return cls(**table_kwargs(cls, data))


@dataclass(frozen=True, slots=True)
class JsonPage:
    """One page of an API answer: Items in answer order, the next page's URL, oddities."""

    items: tuple[Item, ...]
    next_url: str | None = None
    problems: tuple[str, ...] = ()


def parse_json_api(
    feed_name: str, body: bytes, spec: JsonApiSpec, *, base_url: str | None = None
) -> JsonPage:
    """Read one API answer into Items; ParseError for errors answered with 200 and bad JSON.

    Relative links and next-page URLs are resolved against `base_url` (the request URL).
    """
    data = _load(feed_name, body)
    if message := _error_message(data):
        raise ParseError(feed_name, f"the API answered an error: {message}")
    raw_items = _lookup(data, spec.items)
    if raw_items is _MISSING:
        if not spec.empty_if_missing:
            raise ParseError(feed_name, f"no {spec.items!r} in the answer (keys: {_keys(data)})")
        if spec.count and (count := _lookup(data, spec.count)) != 0:
            shown = "missing" if count is _MISSING else repr(count)
            raise ParseError(
                feed_name, f"no {spec.items!r} in the answer but {spec.count!r} is {shown}"
            )
        return JsonPage(items=())
    if not isinstance(raw_items, list):
        raise ParseError(feed_name, f"{spec.items!r} is {_kind(raw_items)}, not a list of results")
    problems: list[str] = []
    if len(raw_items) > MAX_ITEMS:
        problems.append(f"{len(raw_items)} results; only the first {MAX_ITEMS} read")
    items: list[Item] = []
    for number, raw in enumerate(raw_items[:MAX_ITEMS], start=1):
        if not isinstance(raw, dict):
            problems.append(f"result {number} is {_kind(raw)}, not an object; skipped")
            continue
        if item := _item(feed_name, raw, spec, base_url, number, problems):
            items.append(item)
    return JsonPage(
        items=tuple(items),
        next_url=_next_url(data, spec, base_url, problems),
        problems=tuple(clip(clean_line(p), 300) for p in problems[:50]),
    )


def _lookup(data: Any, path: str) -> Any:
    """The value at a dotted path (`a.b.0.c` or `a.b[0].c`), or `_MISSING`."""
    value = data
    for part in _INDEX.sub(r".\1", path).split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


# --- internals ------------------------------------------------------------------------


def _load(feed: str, body: bytes) -> dict[str, Any]:
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not start:
        raise ParseError(feed, "empty response body: expected a JSON answer")
    if start[:1] == b"<":
        raise ParseError(feed, "not JSON: the body is HTML or XML (an error page?)")
    try:
        data = json.loads(start)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ParseError(feed, f"malformed JSON: {clip(str(exc), 200)}") from exc
    if not isinstance(data, dict):
        raise ParseError(feed, f"the JSON answer is {_kind(data)}, not an object")
    return data


def _error_message(data: dict[str, Any]) -> str | None:
    """What an error object answered with status 200 says, or None for a normal answer."""
    for key in _ERROR_KEYS:
        if data.get(key):
            return clip(clean_line(f"{key}: {_describe(data[key])}"), 300)
    for key in _STATUS_KEYS:
        status = data.get(key)
        if isinstance(status, int) and not isinstance(status, bool) and status >= 400:
            message = next((data[k] for k in _MESSAGE_KEYS if data.get(k)), "")
            detail = f": {_describe(message)}" if message else ""
            return clip(clean_line(f"{key} {status}{detail}"), 300)
    return None


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return "; ".join(_describe(v) for v in value[:5])
    if isinstance(value, dict):
        found = [str(value[k]) for k in _MESSAGE_KEYS if isinstance(value.get(k), str | int)]
        return " ".join(found) or json.dumps(value)[:200]
    return str(value)


def _item(
    feed: str,
    raw: dict[str, Any],
    spec: JsonApiSpec,
    base_url: str | None,
    number: int,
    problems: list[str],
) -> Item | None:
    title = clip(html_to_text(clean_line(_string(raw, spec.title))), MAX_TITLE_CHARS)
    link = _url(_string(raw, spec.link), base_url) if spec.link else None
    guid = clean_line(_string(raw, spec.guid)) if spec.guid else ""
    if not title:
        problems.append(f"result {number}: no title at {spec.title!r}; skipped")
        return None
    summary = ""
    if spec.summary:
        summary = clip(
            html_to_paragraphs(drop_controls(_string(raw, spec.summary))), MAX_SUMMARY_CHARS
        )
    published = None
    if spec.published:
        value = _lookup(raw, spec.published)
        published = _datetime(value, spec.date_formats)
        if published is None and value not in (_MISSING, None, ""):
            problems.append(
                f"result {number} ({clip(title, 80)!r}): date {clip(str(value), 60)!r} "
                "is not ISO 8601 or one of the date formats"
            )
    tags: tuple[str, ...] = ()
    if spec.tags:
        value = _lookup(raw, spec.tags)
        values = value if isinstance(value, list) else [value]
        labels = (clip(clean_line(v), 100) for v in values if isinstance(v, str))
        tags = tuple(dict.fromkeys(label for label in labels if label))
    return Item(
        feed=feed,
        guid=clip(guid, 1000) or link,
        link=link,
        title=title,
        summary=summary,
        published=published,
        tags=tags,
    )


def _string(raw: dict[str, Any], path: str) -> str:
    value = _lookup(raw, path)
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)  # ids are numbers in some APIs
    return ""


def _url(value: str, base_url: str | None) -> str | None:
    href = clean_line(value)
    if not href:
        return None
    url = urljoin(base_url, href) if base_url else href
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def _datetime(value: Any, formats: tuple[str, ...]) -> datetime | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    if formats and (parsed := parse_date(value, formats)):
        return parsed
    try:
        iso = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return iso.replace(tzinfo=UTC) if iso.tzinfo is None else iso.astimezone(UTC)


def _next_url(
    data: dict[str, Any], spec: JsonApiSpec, base_url: str | None, problems: list[str]
) -> str | None:
    if not spec.next_page:
        return None
    value = _lookup(data, spec.next_page)
    if not isinstance(value, str) or not value.strip():
        return None
    url = _url(value, base_url)
    if url is None:
        problems.append(f"next page {clip(value, 100)!r} is not an http(s) URL; not followed")
        return None
    if base_url and urlsplit(url).netloc != urlsplit(base_url).netloc:
        problems.append(f"next page {clip(url, 100)!r} is on another host; not followed")
        return None
    return url


def _keys(data: dict[str, Any]) -> str:
    keys = sorted(map(str, data))
    return ", ".join(keys[:10]) + (", ..." if len(keys) > 10 else "") if keys else "none"


def _kind(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    return names.get(type(value), "a number" if isinstance(value, int | float) else "a value")
