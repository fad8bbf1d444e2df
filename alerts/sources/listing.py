"""HTML listing pages without a feed (OFAC recent actions, Treasury press releases) to Items.

A `ListingSpec` names CSS selectors: one for the repeated item element, and, relative to
it, the title, the link, the date (read with strptime formats) and optionally a summary and
category labels. Parsing is pure: bytes in, a `ListingPage` of Items and problems out.

A page on which the item selector matches nothing raises ParseError: a changed layout must
show up as a source error, never as "no news". A single odd row (a date in an unexpected
format, a row without a link) is recorded in `problems` and the rest of the page is kept.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.etree  # type: ignore[import-untyped]
import lxml.html  # type: ignore[import-untyped]
from cssselect import SelectorError
from lxml.cssselect import CSSSelector  # type: ignore[import-untyped]

from alerts.domain import Item
from alerts.errors import ParseError
from alerts.sources.text import html_to_paragraphs, html_to_text, plain_text, sanitize_html

MAX_TITLE_CHARS = 500  # longer "titles" are a broken page or hostile input, not a headline
MAX_SUMMARY_CHARS = 5_000
MAX_ITEMS = 500  # rows read from one page; a listing shows tens
MAX_PROBLEMS = 50  # problems recorded per page; a count of the rest follows

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_ORDINAL = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")
_FEED_MARKERS = (b"<rss", b"<feed", b"<rdf:rdf")
_BINARY_MAGIC = {
    b"%PDF-": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (XLSX, DOCX, ...)",
    b"\x1f\x8b": "gzip data",
    b"\x89PNG": "a PNG image",
    b"GIF8": "a GIF image",
    b"\xff\xd8\xff": "a JPEG image",
}
_NOT_HTML_TYPES = ("application/json", "application/pdf", "application/zip", "image/", "video/")
_SAMPLE_DATE = datetime(2026, 7, 1, 12, 30, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ListingSpec:
    """CSS selectors that turn a listing page into items; ValueError names any bad field.

    `item` is matched against the whole page; every other selector is matched inside one
    item element (use `:scope` for the item element itself, e.g. a row that is an `<a>`).
    """

    item: str
    title: str
    link: str = "a"
    link_attribute: str = "href"
    date: str = ""
    date_formats: tuple[str, ...] = ()
    date_attribute: str = ""  # read the date from this attribute (`<time datetime=...>`)
    summary: str = ""
    category: str = ""

    def __post_init__(self) -> None:
        problems = []
        for name in ("item", "title", "link"):
            if not getattr(self, name).strip():
                problems.append(f"{name}: a CSS selector is required")
        for name in ("item", "title", "link", "date", "summary", "category"):
            selector = getattr(self, name)
            if selector.strip() and (error := _selector_error(selector)):
                problems.append(f"{name}: {selector!r} is not a valid CSS selector ({error})")
        if not self.link_attribute.strip():
            problems.append("link_attribute: must name an attribute, such as 'href'")
        if self.date and not self.date_formats:
            problems.append("date_formats: give at least one strptime format, e.g. '%B %d, %Y'")
        if self.date_formats and not self.date:
            problems.append("date: a selector is required when date_formats are given")
        problems.extend(date_format_problems(self.date_formats))
        if problems:
            raise ValueError("invalid listing spec: " + "; ".join(problems))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> ListingSpec:
        """A spec from a feeds.toml table; unknown keys and wrong types are ValueErrors."""
        return cls(**table_kwargs(cls, data))


@dataclass(frozen=True, slots=True)
class ListingPage:
    """Items read from one listing page, in page order, and what was odd about its rows."""

    items: tuple[Item, ...]
    problems: tuple[str, ...] = field(default=())


def parse_listing(
    feed_name: str,
    body: bytes,
    base_url: str,
    spec: ListingSpec,
    *,
    content_type: str | None = None,
) -> ListingPage:
    """Read a listing page into Items; ParseError if it is not HTML or no item matched."""
    text = _decode(feed_name, body, content_type or "")
    try:
        parser = lxml.html.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False)
        tree = lxml.html.document_fromstring(_XML_DECLARATION.sub("", text), parser=parser)
    except (lxml.etree.LxmlError, ValueError) as exc:
        raise ParseError(feed_name, f"unreadable HTML page: {exc}") from exc
    rows = _select(spec.item, tree)
    if not rows:
        raise ParseError(
            feed_name,
            f"no items matched {spec.item!r} – the page layout may have changed",
        )
    problems = _Problems()
    if len(rows) > MAX_ITEMS:
        problems.add(f"{len(rows)} items matched {spec.item!r}; only the first {MAX_ITEMS} read")
    items: list[Item] = []
    seen: set[str] = set()
    for number, row in enumerate(rows[:MAX_ITEMS], start=1):
        item = _row_item(feed_name, row, base_url, spec, number, problems)
        if item is None:
            continue
        if item.guid in seen:
            problems.add(f"item {number}: {item.link} is listed twice; the first kept")
            continue
        seen.add(item.guid or "")
        items.append(item)
    if not items:
        raise ParseError(
            feed_name,
            f"{len(rows)} elements matched {spec.item!r} but none had a title and a link "
            f"({problems.first()}) – the page layout may have changed",
        )
    return ListingPage(items=tuple(items), problems=problems.all())


def parse_date(text: str, formats: Sequence[str]) -> datetime | None:
    """A UTC datetime from `text` in one of the strptime `formats`, or None.

    Extra whitespace, ordinal suffixes ("July 1st") and trailing punctuation are tolerated;
    a date without a zone is taken as midnight (or the time given) in UTC. Japanese era
    years ("令和8年7月1日", Reiwa 8) read as Gregorian ("2026年7月1日"), so one format,
    "%Y年%m月%d日", covers Japanese government pages whichever they print.
    """
    cleaned = _ORDINAL.sub(r"\1", _SPACES.sub(" ", text).strip()).strip(" .,;")
    cleaned = _REIWA.sub(lambda m: f"{2018 + _era_year(m.group(1))}年", cleaned)
    for fmt in formats:
        try:
            parsed = datetime.strptime(cleaned, _SPACES.sub(" ", fmt).strip())  # noqa: DTZ007
        except ValueError:
            continue
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return None


_REIWA = re.compile(r"令和\s*(元|\d{1,2})\s*年")


def _era_year(value: str) -> int:
    return 1 if value == "元" else int(value)  # 元年: the era's first year


def date_format_problems(formats: Iterable[str]) -> list[str]:
    """What is wrong with each strptime format (no directive, or one strptime refuses)."""
    problems = []
    for fmt in formats:
        if not isinstance(fmt, str) or "%" not in fmt:
            problems.append(f"date format {fmt!r} has no % directive (e.g. '%B %d, %Y')")
            continue
        try:
            datetime.strptime(_SAMPLE_DATE.strftime(fmt), fmt)  # noqa: DTZ007
        except ValueError as exc:
            problems.append(f"date format {fmt!r} is not usable: {exc}")
    return problems


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters at a word boundary, marked with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip() + "…"


def clean_line(text: str) -> str:
    """One line of plain text: control characters dropped, whitespace collapsed, NFC."""
    return plain_text(drop_controls(text))


def drop_controls(text: str) -> str:
    """`text` without C0/C1 control characters (tabs and newlines kept) or lone surrogates."""
    return _CONTROL.sub("", text)


# --- internals ------------------------------------------------------------------------


class _Problems:
    """Problems of one page, capped so a broken page cannot flood the feed's record."""

    def __init__(self) -> None:
        self._kept: list[str] = []
        self._dropped = 0

    def add(self, problem: str) -> None:
        if len(self._kept) < MAX_PROBLEMS:
            self._kept.append(clip(clean_line(problem), 300))
        else:
            self._dropped += 1

    def first(self) -> str:
        return self._kept[0] if self._kept else "no problem recorded"

    def all(self) -> tuple[str, ...]:
        more = (f"... and {self._dropped} more problems",) if self._dropped else ()
        return (*self._kept, *more)


def table_kwargs(cls: type[Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments for a spec dataclass from a feeds.toml table, checked by type."""
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ValueError(
            f"unknown key(s) {', '.join(map(repr, unknown))}; expected some of "
            + ", ".join(sorted(known))
        )
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        default = known[name].default
        if isinstance(default, tuple) or name.endswith("formats"):
            if isinstance(value, str):
                value = (value,)
            if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"{name}: must be a string or a list of strings")
            value = tuple(value)
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise ValueError(f"{name}: must be true or false")
        elif isinstance(default, int):
            if not isinstance(value, int) or isinstance(value, bool):
                raise ValueError(f"{name}: must be a whole number")
        elif not isinstance(value, str):
            raise ValueError(f"{name}: must be a string")
        kwargs[name] = value
    return kwargs


@lru_cache(maxsize=256)
def _compiled(selector: str) -> Any:
    return CSSSelector(selector)


def _selector_error(selector: str) -> str | None:
    try:
        _compiled(selector)
    except SelectorError as exc:
        return str(exc) or type(exc).__name__
    return None


def _select(selector: str, element: Any) -> list[Any]:
    return [e for e in _compiled(selector)(element) if isinstance(e.tag, str)]


def _decode(feed: str, body: bytes, content_type: str) -> str:
    """The page as text; ParseError when the body is plainly not an HTML page."""
    start = body.lstrip(b" \t\r\n")
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if start.startswith(bom):
            text = start[len(bom) :].decode(codec, "replace")
            _check_html(feed, text.lstrip().encode("utf-8", "replace"), content_type)
            return _CONTROL.sub("", text)
    _check_html(feed, start, content_type)
    try:
        text = start.decode("utf-8")
    except UnicodeDecodeError:
        label = _CHARSET_PARAM.search(content_type)
        meta = _META_CHARSET.search(start[:4096])
        declared = label.group(1) if label else meta.group(1).decode("ascii") if meta else ""
        try:
            codec = codecs.lookup(declared).name if declared else "cp1252"
        except LookupError:
            codec = "cp1252"
        text = start.decode("cp1252" if codec.startswith("utf") else codec, "replace")
    return _CONTROL.sub("", text)


def _check_html(feed: str, start: bytes, content_type: str) -> None:
    if not start:
        raise ParseError(feed, "empty response body: expected an HTML listing page")
    mime = content_type.split(";", 1)[0].strip().lower()
    head = start[:4096].lower()
    what = next((name for magic, name in _BINARY_MAGIC.items() if start.startswith(magic)), None)
    if what is None and start[:1024].count(b"\x00") > 8:  # a stray NUL is only dropped
        what = "binary data"
    if what is None and start[:1] in (b"{", b"["):
        what = "JSON"
    if what is None and any(marker in head for marker in _FEED_MARKERS) and b"<html" not in head:
        what = 'an RSS/Atom feed (use kind = "feed")'
    if what is None and mime.startswith(_NOT_HTML_TYPES):
        what = f"a {mime} document"
    if what is None and b"<" not in head:
        what = "text without HTML markup"
    if what is not None:
        shown = content_type or "no Content-Type"
        raise ParseError(feed, f"not an HTML page: the body is {what} ({shown})")


def _row_item(
    feed: str, row: Any, base_url: str, spec: ListingSpec, number: int, problems: _Problems
) -> Item | None:
    title = clip(_text(_select(spec.title, row)[:1]), MAX_TITLE_CHARS)
    if not title:
        problems.add(f"item {number}: no title matched {spec.title!r}; row skipped")
        return None
    link = _link(row, base_url, spec)
    if link is None:
        problems.add(f"item {number} ({clip(title, 80)!r}): no usable link; row skipped")
        return None
    published = None
    if spec.date:
        published = _published(row, spec, number, title, problems)
    summary = summary_html = ""
    if spec.summary and (found := _select(spec.summary, row)):
        markup = "".join(_markup(e) for e in found)
        summary = clip(html_to_paragraphs(_CONTROL.sub("", markup)), MAX_SUMMARY_CHARS)
        if len(markup) <= 4 * MAX_SUMMARY_CHARS:
            summary_html = sanitize_html(markup, base_url=base_url)
    tags: tuple[str, ...] = ()
    if spec.category:
        labels = (clip(_text([e]), 100) for e in _select(spec.category, row))
        tags = tuple(dict.fromkeys(label for label in labels if label))
    return Item(
        feed=feed,
        guid=link,  # OFAC `/recent-actions/20260701` and `_1` suffixes are distinct actions
        link=link,
        title=title,
        summary=summary,
        summary_html=summary_html,
        published=published,
        tags=tags,
    )


def _link(row: Any, base_url: str, spec: ListingSpec) -> str | None:
    for element in _select(spec.link, row):
        href = clean_line(element.get(spec.link_attribute) or "")
        if not href:
            continue
        url = urljoin(base_url, href)
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc:
            return url
    return None


def _published(
    row: Any, spec: ListingSpec, number: int, title: str, problems: _Problems
) -> datetime | None:
    found = _select(spec.date, row)[:1]
    if spec.date_attribute and found:
        raw = clean_line(found[0].get(spec.date_attribute) or "")
    else:
        raw = _text(found)
    where = f"item {number} ({clip(title, 80)!r})"
    if not raw:
        problems.add(f"{where}: no date matched {spec.date!r}")
        return None
    published = parse_date(raw, spec.date_formats)
    if published is None:
        formats = ", ".join(map(repr, spec.date_formats))
        problems.add(f"{where}: date {clip(raw, 60)!r} does not match {formats}")
    return published


def _markup(element: Any) -> str:
    return str(lxml.html.tostring(element, encoding="unicode", with_tail=False))


def _text(elements: Sequence[Any]) -> str:
    """Visible text of the elements as one line (scripts and styles never leak in)."""
    return clean_line(" ".join(html_to_text(_markup(e)) for e in elements))
