"""Feed HTML made safe: plain text for matching, sanitised HTML for display."""

from __future__ import annotations

import html
import re
import unicodedata
from html.parser import HTMLParser

import nh3

# Elements whose content is never text a reader sees.
_SKIP = {
    "script",
    "style",
    "template",
    "noscript",
    "head",
    "title",
    "svg",
    "math",
    "iframe",
    "object",
}
# Elements that end a line of text: their boundaries must separate words.
_BLOCK = {
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "td",
    "th",
    "table",
    "section",
    "article",
    "header",
    "footer",
    "blockquote",
    "pre",
    "hr",
    "dd",
    "dt",
    "dl",
    "figure",
    "figcaption",
    "aside",
    "nav",
    "main",
}
_WS = re.compile(r"\s+")

_ALLOWED_TAGS = {
    "a",
    "b",
    "strong",
    "i",
    "em",
    "u",
    "p",
    "br",
    "ul",
    "ol",
    "li",
    "blockquote",
    "code",
    "pre",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "table",
    "thead",
    "tbody",
    "tr",
    "td",
    "th",
    "sup",
    "sub",
    "abbr",
    "q",
    "cite",
    "span",
    "div",
    "hr",
}
_ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}


def collapse_whitespace(text: str) -> str:
    """Runs of whitespace (including non-breaking spaces and newlines) become one space."""
    return _WS.sub(" ", text.replace("\u00a0", " ")).strip()


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skipping += 1
        elif tag in _BLOCK:
            self.parts.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in _BLOCK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """Visible text of an HTML fragment: scripts and styles dropped, blocks separate words."""
    if "<" not in markup and "&" not in markup:
        return unicodedata.normalize("NFC", collapse_whitespace(markup))
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    # Double-escaped feeds ("&amp;amp;") leave entities behind; unescape what remains once.
    text = (
        html.unescape("".join(parser.parts))
        if "&" in "".join(parser.parts)
        else "".join(parser.parts)
    )
    return unicodedata.normalize("NFC", collapse_whitespace(text))


def sanitize_html(markup: str) -> str:
    """Keep basic formatting and http(s)/mailto links; drop scripts, styles, handlers, images."""
    return nh3.clean(
        markup,
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        clean_content_tags={"script", "style", "template", "noscript", "iframe", "object"},
        strip_comments=True,
    ).strip()
