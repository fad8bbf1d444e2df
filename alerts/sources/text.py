"""Feed HTML made safe: plain text for matching, sanitised HTML for display."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from html.parser import HTMLParser
from urllib.parse import urljoin

import nh3

# Elements whose content a reader never sees as text.
_INVISIBLE = frozenset(
    {"script", "style", "template", "noscript", "head", "title", "svg", "math", "iframe", "object"}
)
# Elements whose boundaries separate words: "<p>a</p><p>b</p>" is "a b", never "ab".
_BREAKING = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "caption", "dd", "div", "dl", "dt",
        "figcaption", "figure", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
        "img", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tbody", "td", "tfoot",
        "th", "thead", "tr", "ul",
    }
)  # fmt: skip
# Invisible characters that would split a name in two for the matcher ("Na\u00advalny").
_INVISIBLE_CHARS = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))
_WHITESPACE = re.compile(r"\s+")
_BLANK_LINE = re.compile(r"\n[^\S\n]*\n\s*")  # a line holding only whitespace

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "cite", "code", "dd", "div", "dl", "dt", "em",
        "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "q", "s", "small",
        "span", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
# Removed with everything inside them, not just unwrapped.
_DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "template", "noscript", "iframe", "object", "svg", "math", "head", "title"}
)


def collapse_whitespace(text: str) -> str:
    """Turn every run of whitespace (newlines, tabs, no-break spaces) into one space; strip."""
    return _WHITESPACE.sub(" ", text).strip()


def plain_text(text: str) -> str:
    """Normalise text that is already plain: NFC, invisible characters dropped, spaces collapsed."""
    return collapse_whitespace(unicodedata.normalize("NFC", text.translate(_INVISIBLE_CHARS)))


def plain_paragraphs(text: str) -> str:
    """Plain text as paragraphs: blank lines separate them, single newlines are spaces.

    Each paragraph is normalised like `plain_text`; they are joined by "\\n" with no empty
    ones, the shape `html_to_paragraphs` gives.
    """
    return _join_paragraphs(_BLANK_LINE.split(text))


def _join_paragraphs(chunks: Iterable[str]) -> str:
    return "\n".join(p for chunk in chunks if (p := plain_text(chunk)))


class _TextExtractor(HTMLParser):
    """Visible text; `separator` is emitted at block boundaries ("\\n" keeps paragraphs)."""

    def __init__(self, separator: str = " ") -> None:
        super().__init__(convert_charrefs=True)  # entities come out unescaped
        self.parts: list[str] = []
        self._separator = separator
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _INVISIBLE:
            self._hidden_depth += 1
        elif tag in _BREAKING:
            self.parts.append(self._separator)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # <br/>, <hr/>, <img/>: a self-closed invisible element hides nothing.
        if tag in _BREAKING:
            self.parts.append(self._separator)

    def handle_endtag(self, tag: str) -> None:
        if tag in _INVISIBLE:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in _BREAKING:
            self.parts.append(self._separator)

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            # A newline in HTML text is a space; only block boundaries break paragraphs.
            self.parts.append(_WHITESPACE.sub(" ", data) if self._separator == "\n" else data)


def _visible(html: str, separator: str) -> str:
    parser = _TextExtractor(separator)
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment, for matching: one line, entities unescaped, NFC."""
    if "<" not in html and "&" not in html:
        return plain_text(html)
    return plain_text(_visible(html, " "))


def html_to_paragraphs(html: str) -> str:
    """Visible text of an HTML fragment as paragraphs joined by "\\n", for matching.

    Block elements (p, li, div, h1-h6, br, td, ...) end a paragraph; newlines inside text
    are spaces, as a browser shows them. Each paragraph is whitespace-collapsed, NFC, with
    invisible characters dropped; there are no empty paragraphs and no other newlines.
    Paragraphs let boilerplate (promo footers, share bars) be removed a block at a time.
    """
    if "<" not in html and "&" not in html:
        return plain_text(html)
    return _join_paragraphs(_visible(html, "\n").split("\n"))


def sanitize_html(html: str, *, base_url: str | None = None) -> str:
    """HTML safe to display: basic formatting and http(s)/mailto links only.

    Scripts, styles, frames, images, event handlers and `javascript:` URLs are removed;
    links get rel="noopener noreferrer nofollow". With `base_url`, relative hrefs are
    resolved against it (a digest is read far from the feed's site).
    """
    if not html.strip():
        return ""

    def resolve(element: str, attribute: str, value: str) -> str | None:
        if base_url and attribute == "href":
            return urljoin(base_url, value.strip())
        return value

    return nh3.clean(
        html,
        attribute_filter=resolve,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(_DROPPED_WITH_CONTENT),
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()
