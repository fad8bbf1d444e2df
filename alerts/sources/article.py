"""Article pages to text: the main text of an item's page, without the site's furniture.

`extract_article(body, url=..., content_type=...)` takes the bytes the fetcher got and
returns an `Article`: the main text as paragraphs (trafilatura, favouring precision, then
`alerts.sources.boilerplate.strip_promo` over its paragraphs), the canonical URL, the
publication time and the title. Pure: no I/O, testable from a file.

Pages are decoded here, not by the extractor, because publishers get charsets wrong: a BOM
wins, then bytes that are valid UTF-8, then the HTTP charset or `<meta charset>`; a page
labelled UTF-8 whose bytes are not is read as windows-1251 or windows-1252, whichever gives
words in one script. Control characters and lone surrogates never reach the text.

Anything that gives no usable text raises `ExtractionError` with a message an operator can
act on; the item then keeps its feed text: a body that is not HTML (a PDF, JSON, an image,
a feed), an empty body, a page over `MAX_PAGE_CHARS`, no main text, or a paywall teaser.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.etree  # type: ignore[import-untyped]
import lxml.html  # type: ignore[import-untyped]
import trafilatura

from alerts.errors import ExtractionError
from alerts.sources.boilerplate import clean_text, paragraph_key, strip_promo
from alerts.sources.text import plain_text

__all__ = [
    "MAX_PAGE_CHARS",
    "MIN_TEXT_CHARS",
    "PAYWALL_FEED_RATIO",
    "STUB_CHARS",
    "Article",
    "extract_article",
]

# Decoded characters of HTML. Article pages are 50 KB to 1.5 MB, inline scripts included;
# past this the page is an app shell or a data dump. Extraction of a page dense with
# paragraphs costs about 1 s per million characters on one core, so this bounds it at ~3 s.
MAX_PAGE_CHARS = 3_000_000
# Main text shorter than this is no article: a cookie wall, a "page not found", a shell.
MIN_TEXT_CHARS = 80
# A page whose text is shorter than this share of the feed's own text is a teaser.
PAYWALL_FEED_RATIO = 0.6
# Text shorter than this on a page with paywall cues is a teaser, not the article.
STUB_CHARS = 1_500


@dataclass(frozen=True, slots=True)
class Article:
    """The readable part of an article page."""

    text: str  # main text: paragraphs joined by "\n", each whitespace-collapsed, no furniture
    canonical_url: str | None = None  # <link rel=canonical>, else og:url; absolute
    published: datetime | None = None  # aware UTC
    title: str = ""


def extract_article(
    body: bytes, *, url: str, content_type: str = "", feed_text: str = "", feed: str = ""
) -> Article:
    """The main text and metadata of an article page; ExtractionError if there is none.

    `content_type` is the response's Content-Type header (charset included); `feed_text` is
    the item's text from the feed, used to recognise a teaser; `feed` names the feed in
    errors.
    """

    def fail(problem: str) -> ExtractionError:
        return ExtractionError(feed, f"article {url}: {problem}")

    mime = content_type.split(";", 1)[0].strip().lower()
    start = body.lstrip(_SPACE)
    if start.startswith(codecs.BOM_UTF8):
        start = start[len(codecs.BOM_UTF8) :].lstrip(_SPACE)
    if not start.strip(b"\xff\xfe\x00" + _SPACE):
        raise fail("empty response body")
    if (kind := _not_html(start, mime)) is not None:
        raise fail(f"not an HTML page: the server sent {kind}; matching uses the feed text")
    if len(body) > 4 * MAX_PAGE_CHARS:  # no encoding packs more than 4 bytes in a character
        raise fail(_too_large(f"{len(body):,} bytes"))
    html = _decode(body, content_type)
    if len(html) > MAX_PAGE_CHARS:
        raise fail(_too_large(f"{len(html):,} characters"))
    tree = _parse(html)
    if tree is None:
        raise fail("no main text found: the page has no HTML body")

    meta = _Metadata(tree, url)
    raw = _main_paragraphs(tree, url)
    title = meta.title()
    paragraphs = strip_promo(raw)
    if title:
        # The headline (under a kicker or a section label) is the title, not text to match
        # twice.
        for i, paragraph in enumerate(paragraphs[:_HEADLINE_WITHIN]):
            if paragraph_key(paragraph) == paragraph_key(title):
                del paragraphs[i]
                break
    text = "\n".join(paragraphs)

    teaser = _teaser(text, raw, tree, meta.free is False, feed_text)
    if teaser:
        raise fail(teaser)
    if len(text) < MIN_TEXT_CHARS:
        found = f"only {len(text)} characters" if text else "nothing"
        raise fail(
            f"no main text found ({found} after removing navigation and footers); "
            "the page may need JavaScript or block robots"
        )
    return Article(
        text=text, canonical_url=meta.canonical_url(), published=meta.published(), title=title
    )


_HEADLINE_WITHIN = 5  # paragraphs from the top where a copy of the title is dropped


def _too_large(size: str) -> str:
    return f"page too large to extract: {size}, over the {MAX_PAGE_CHARS:,}-character cap"


# --- what the body is -----------------------------------------------------------------

_SPACE = b" \t\r\n\f"
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# Labels that may carry HTML anyway; anything else (application/pdf, image/*, ...) is refused
# unless the bytes are plainly HTML.
_VAGUE_TYPES = frozenset({"", "text/plain", "application/octet-stream", "binary/octet-stream"})
_MAGIC = (
    (b"%PDF-", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"PK\x03\x04", "a ZIP archive (an Office document?)"),
    (b"\x1f\x8b", "a gzip file"),
    (b"\xd0\xcf\x11\xe0", "an old Office document"),
)
_HTML_TAG = re.compile(
    rb"<(?:!doctype\s+html|html|head|body|meta|title|div|p|article|main|section|h1|table)[\s>/]"
)
_FEED_TAG = re.compile(rb"<(?:rss|feed|rdf:rdf)[\s>]")


def _not_html(start: bytes, mime: str) -> str | None:
    """What the body is when it is not an HTML page (None for HTML)."""
    label = f" (Content-Type {mime})" if mime else " (no Content-Type)"
    for magic, kind in _MAGIC:
        if start.startswith(magic):
            return kind + label
    if start[4:12] in (b"ftypavif", b"ftypheic") or (
        start.startswith(b"RIFF") and start[8:12] == b"WEBP"
    ):
        return "an image" + label
    head = start[:4096].lower()
    if start.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in start[:4]:
        head = start[:8192].decode("utf-16", "replace").encode("utf-8").lower()
    if head[:1] in (b"{", b"["):  # HTML never starts so; JSON may hold "<p>" strings
        return "JSON data" + label
    if _FEED_TAG.search(head) and b"<html" not in head:
        return "an RSS/Atom feed, not an article" + label
    if _HTML_TAG.search(head) or mime in _HTML_TYPES:
        return None
    if mime.startswith("image/"):
        return "an image" + label
    if mime in _VAGUE_TYPES:
        return "data without HTML markup" + label
    return "a document that is not HTML" + label


# --- decoding -------------------------------------------------------------------------

_CHARSET_PARAM = re.compile(r"""charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)
# WHATWG: these labels mean windows-1252 in a browser, and pages count on it.
_AS_CP1252 = frozenset({"latin-1", "iso8859-1", "ascii"})
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_ENCODED_SURROGATE = re.compile(rb"\xed[\xa0-\xbf][\x80-\xbf]")
_ESCAPED = re.compile("[\udc80-\udcff]+")  # bytes that were not UTF-8, kept by surrogateescape
_LETTERS = re.compile(r"[^\W\d_]{2,}")
_CYRILLIC = re.compile("[\u0400-\u04ff]")
_LATIN = re.compile("[A-Za-z]")


def _codec(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip()).name
    except LookupError:
        return None
    return "cp1252" if name in _AS_CP1252 else name


def _decode(body: bytes, content_type: str) -> str:
    """HTML text from bytes, never failing; control characters and surrogates removed."""
    for bom, codec in (
        (codecs.BOM_UTF8, "utf-8"),
        (codecs.BOM_UTF16_LE, "utf-16-le"),
        (codecs.BOM_UTF16_BE, "utf-16-be"),
    ):
        if body.startswith(bom):
            return _CONTROL.sub("", body[len(bom) :].decode(codec, "replace"))
    header = _CHARSET_PARAM.search(content_type)
    meta = _META_CHARSET.search(body[:4096])
    declared = _codec(header.group(1) if header else None) or _codec(
        meta.group(1).decode("ascii", "replace") if meta else None
    )
    try:
        # Valid UTF-8 with non-ASCII in it is almost never a legacy charset: the bytes win
        # over a label, as the feed parser does.
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        if declared and not declared.startswith("utf"):
            text = body.decode(declared, "replace")
        else:
            # Surrogates encoded as UTF-8 (CESU-8 from Java or JavaScript) are no text.
            text = _decode_mislabelled(_ENCODED_SURROGATE.sub(b"", body))
    return _CONTROL.sub("", text)


def _decode_mislabelled(body: bytes) -> str:
    """Bytes labelled (or taken as) UTF-8 that are not: a legacy page, or stray bytes."""
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    text = body.decode("utf-8", "surrogateescape")
    stray = sum(len(run) for run in _ESCAPED.findall(text))
    high = sum(1 for byte in body if byte >= 0x80)
    if stray * 2 >= high:  # most non-ASCII bytes are not UTF-8: the whole page is legacy
        return body.decode(_legacy_codec(body), "replace")
    # A UTF-8 page with a few pasted windows-1252 characters (curly quotes from a word
    # processor): keep the UTF-8 and read only those bytes as windows-1252.
    return _ESCAPED.sub(
        lambda run: run.group().encode("utf-8", "surrogateescape").decode("cp1252", "replace"),
        text,
    )


def _legacy_codec(body: bytes) -> str:
    """windows-1251 when it gives Cyrillic words, windows-1252 otherwise.

    Read as windows-1251, Russian gives words wholly in Cyrillic, while French or German
    gives Latin words with Cyrillic letters inside ("Sociйtй", "Mьller").
    """
    words = _LETTERS.findall(body.decode("cp1251", "replace"))
    cyrillic = sum(1 for w in words if _CYRILLIC.search(w) and not _LATIN.search(w))
    mixed = sum(1 for w in words if _CYRILLIC.search(w) and _LATIN.search(w))
    return "cp1251" if cyrillic > 2 * mixed else "cp1252"


def _parse(html: str) -> lxml.html.HtmlElement | None:
    parser = lxml.html.HTMLParser(
        encoding="utf-8", remove_comments=True, remove_pis=True, collect_ids=False
    )
    try:
        tree = lxml.html.document_fromstring(html.encode("utf-8"), parser=parser)
    except (lxml.etree.ParserError, ValueError):
        return None
    return tree if tree.find("body") is not None or len(tree) else None


# --- main text ------------------------------------------------------------------------

# Elements of trafilatura's output that end a paragraph; table cells are joined with " | ".
_BLOCKS = frozenset({"p", "head", "item", "list", "quote", "code", "table", "row", "lb", "div"})


def _main_paragraphs(tree: lxml.html.HtmlElement, url: str) -> list[str]:
    """Main text paragraphs as trafilatura finds them (furniture not yet removed)."""
    try:
        document = trafilatura.bare_extraction(
            tree,
            url=url,
            favor_precision=True,
            include_comments=False,
            # Designation annexes are tables of names: exactly what watchlists match.
            include_tables=True,
            include_images=False,
            include_links=False,
            with_metadata=False,
            deduplicate=False,  # trafilatura's duplicate cache is process-wide state
        )
    except (lxml.etree.LxmlError, ValueError, TypeError, AttributeError, RecursionError):
        # The extractor failing on a strange tree is no crash: there is no main text.
        return []
    body = getattr(document, "body", None)
    if body is None:
        return []
    return [p for chunk in _walk(body) if (p := plain_text(chunk))]


def _walk(body: Any) -> Iterator[str]:
    """Text of trafilatura's XML body, one string per block."""
    parts: list[str] = []
    for event, element in lxml.etree.iterwalk(body, events=("start", "end")):
        tag = element.tag if isinstance(element.tag, str) else ""
        if event == "start":
            if tag in _BLOCKS:
                yield "".join(parts)
                parts.clear()
            elif tag == "cell" and parts and "".join(parts).strip():
                parts.append(" | ")
            if element.text and tag != "body":
                parts.append(element.text)
        else:
            if tag in _BLOCKS:
                yield "".join(parts)
                parts.clear()
            if element.tail and element is not body:
                parts.append(element.tail)
    yield "".join(parts)


# --- teasers --------------------------------------------------------------------------

_PAYWALL_CUES = re.compile(
    "|".join(
        (
            r"subscribe to (?:continue|keep) reading",
            r"subscribe (?:now )?to read",
            r"to continue reading",
            r"(?:only )?(?:available )?(?:for|to) (?:paying )?subscribers",
            r"subscribers only",
            r"this (?:article|story) is (?:for|reserved for|exclusive to) (?:subscribers|members)",
            r"unlock this (?:article|story)",
            r"you have reached your (?:limit|free)",
            r"(?:sign|log) in to (?:read|continue)",
            r"register to (?:read|continue)",
            r"nur für abonnenten",
            r"weiterlesen mit",
            r"réservé aux abonnés",
            r"для подписчиков",
            r"оформите подписку",
            r"чтобы (?:продолжить|дочитать)",
        )
    ),
    re.IGNORECASE,
)
# Words every cue above contains: a cheap test before the regex (pages are long).
_PAYWALL_WORDS = (
    "subscri", "member", "continue", "unlock", "reached your", "sign in", "log in", "register",
    "abonn", "weiterlesen", "подпис", "чтобы",
)  # fmt: skip
_HIDDEN = frozenset({"script", "style", "noscript", "template", "svg"})


def _paywall_cue(text: str) -> re.Match[str] | None:
    lowered = text.lower()
    if not any(word in lowered for word in _PAYWALL_WORDS):
        return None
    return _PAYWALL_CUES.search(text)


def _teaser(
    text: str,
    raw: list[str],
    tree: lxml.html.HtmlElement,
    not_free: bool,
    feed_text: str,
) -> str | None:
    """Why the extracted text is a paywall teaser, or None."""
    feed_chars = len(clean_text(feed_text)) if feed_text.strip() else 0
    if feed_chars and len(text) < PAYWALL_FEED_RATIO * feed_chars:
        return (
            f"paywall or teaser page: {len(text)} characters of text, less than the "
            f"{feed_chars} the feed gives; if every item is like this, set "
            "fetch_article = false for the feed"
        )
    if len(text) >= STUB_CHARS:
        return None
    cue = _paywall_cue("\n".join(raw)) or _paywall_cue(_visible_text(tree))
    if cue is None and not not_free:
        return None
    why = f'"{cue.group()}"' if cue else "isAccessibleForFree: false"
    return (
        f"paywall: only {len(text)} characters of text and the page says {why}; "
        "if every item is like this, set fetch_article = false for the feed"
    )


def _visible_text(tree: lxml.html.HtmlElement) -> str:
    return " ".join(
        text
        for element in tree.iter()
        if isinstance(element.tag, str) and element.tag not in _HIDDEN
        for text in (element.text, element.tail)
        if text and text.strip()
    )


# --- metadata -------------------------------------------------------------------------

_ARTICLE_TYPES = frozenset(
    {"article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "blogposting",
     "report", "webpage", "governmentservice", "pressrelease"}
)  # fmt: skip


class _Metadata:
    """Canonical URL, dates and title read from a page's head and structured data."""

    def __init__(self, tree: lxml.html.HtmlElement, url: str) -> None:
        self._tree = tree
        self._url = url
        self._meta: dict[str, str] = {}
        for element in tree.iter("meta"):
            key = element.get("property") or element.get("name") or element.get("itemprop")
            content = element.get("content")
            if key and content and content.strip():
                self._meta.setdefault(key.strip().lower(), content.strip())
        self._ld = list(_json_ld(tree))
        self.free = self._accessible_for_free()

    def canonical_url(self) -> str | None:
        for link in self._tree.iter("link"):
            rel = (link.get("rel") or "").lower().split()
            if "canonical" in rel and (resolved := self._absolute(link.get("href"))):
                return resolved
        return self._absolute(self._meta.get("og:url"))

    def _absolute(self, href: str | None) -> str | None:
        if not href or not href.strip():
            return None
        try:
            resolved = urljoin(self._url, href.strip())
            parts = urlsplit(resolved)
        except ValueError:  # "http://[broken/": an invalid IPv6 host
            return None
        return resolved if parts.scheme in ("http", "https") and parts.netloc else None

    def published(self) -> datetime | None:
        for key in ("article:published_time", "og:published_time", "datepublished"):
            if found := _parse_datetime(self._meta.get(key)):
                return found
        for node in self._ld:
            if found := _parse_datetime(node.get("datePublished")):
                return found
        if found := self._time_element():
            return found
        for key in ("dc.date.issued", "dcterms.issued", "dc.date", "date", "pubdate"):
            if found := _parse_datetime(self._meta.get(key)):
                return found
        # Last, trafilatura's own search (htmldate): a calendar day, taken as midnight UTC.
        try:
            document = trafilatura.extract_metadata(
                self._tree, default_url=self._url, extensive=False
            )
        except (ValueError, TypeError, AttributeError):
            return None
        return _parse_datetime(getattr(document, "date", None))

    def _time_element(self) -> datetime | None:
        # Inside the article first: a sidebar of other stories has <time>s of its own.
        for path in ("//article//time[@datetime]", "//main//time[@datetime]", "//time[@datetime]"):
            for element in self._tree.xpath(path):
                if found := _parse_datetime(element.get("datetime")):
                    return found
        return None

    def title(self) -> str:
        candidates = [self._meta.get("og:title"), self._meta.get("twitter:title")]
        candidates += [node.get("headline") for node in self._ld]
        for path in ("//article//h1", "//h1", "//title"):
            candidates += [element.text_content() for element in self._tree.xpath(path)[:1]]
        for candidate in candidates:
            if isinstance(candidate, str) and (title := plain_text(candidate)):
                return title
        return ""

    def _accessible_for_free(self) -> bool | None:
        for node in self._ld:
            value = node.get("isAccessibleForFree")
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in ("true", "false"):
                return value.strip().lower() == "true"
        return None


def _json_ld(tree: lxml.html.HtmlElement) -> Iterator[dict[str, Any]]:
    """Article-like JSON-LD nodes, in page order; broken JSON is skipped."""
    for script in tree.xpath('//script[@type="application/ld+json"]'):
        try:
            data = json.loads(script.text or "")
        except ValueError:
            continue
        yield from _ld_nodes(data, depth=0)


def _ld_nodes(data: Any, depth: int) -> Iterator[dict[str, Any]]:
    if depth > 4:
        return
    if isinstance(data, list):
        for entry in data:
            yield from _ld_nodes(entry, depth + 1)
    elif isinstance(data, dict):
        types = data.get("@type")
        names = types if isinstance(types, list) else [types]
        if any(isinstance(name, str) and name.lower() in _ARTICLE_TYPES for name in names):
            yield data
        if "@graph" in data:
            yield from _ld_nodes(data["@graph"], depth + 1)


def _parse_datetime(value: Any) -> datetime | None:
    """An aware UTC datetime from ISO 8601 or RFC 2822 text; a bare date is midnight UTC."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if not 1990 <= parsed.year <= 2200:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)  # no offset given: UTC rather than nothing
    return parsed.astimezone(UTC)
