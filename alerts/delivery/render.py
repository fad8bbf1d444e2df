"""Render digests and confirmation emails with the Jinja2 templates in `templates/`.

Templates get a prepared view (strings only) rather than domain objects, so formatting
rules (time zones, highlighting, which links are safe) live here and are tested once.
HTML autoescaping is on; the only markup we add ourselves is `<mark>` around matched words,
built with `markupsafe` so that everything else in a snippet stays escaped.

HTML templates keep their CSS in one `<style>` block; `inline_css` (css_inline) copies it
into `style` attributes, since several mail clients drop `<style>`, and keeps only the
`@media` rules (dark mode, narrow screens) in the block for the clients that read them.

A story's facets (issue 6) show as labels under its headline (`alerts.delivery.labels`): pill
badges in HTML, "[EU] [Sanctions package] [Russia]" in text. Matches on a facet
(`field="facet"`, a query like `issuer:EU`) show their reason without highlighting; matches
on an official list entry (`field="designation"`) highlight the listed name they matched
(`match_segments`).

A digest entry is a story (issue 4): a new story lists its sources (official ones first,
at most `MAX_SOURCES`, then "and K more"); an update line (`DigestEntry.update`) tells of a
story the subscriber already has and comes after the section's new stories.

An email is rendered once per digest (`render_email`) with a slot where each recipient's
unsubscribe link goes; `EmailBody.personalise` fills it in with a string join, so a digest
sent to many addresses is rendered, escaped and CSS-inlined only once.
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from alerts import resources
from alerts.delivery.digest import digest_subject
from alerts.delivery.labels import labels
from alerts.domain import Digest, DigestEntry, DigestSection, Importance, Match, StorySource

TEXT_TEMPLATE = "digest.txt.j2"
HTML_TEMPLATE = "digest.html.j2"
CONFIRM_TEXT_TEMPLATE = "confirm.txt.j2"
CONFIRM_HTML_TEMPLATE = "confirm.html.j2"
# Plain-text highlight markers (Markdown-style bold reads fine in any mail client).
TEXT_MARK = ("**", "**")
# A story carried by 20 outlets lists the first 10 (official first) and counts the rest.
MAX_SOURCES = 10
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Where a recipient's unsubscribe link goes in a body rendered for everyone. Random per
# process, so no feed text can contain it and be replaced by a link.
_UNSUBSCRIBE_SLOT = f"alerts-unsubscribe-slot-{secrets.token_hex(12)}"
# Remote stylesheets are never fetched: templates are self-contained, and a feed must not
# make the renderer open connections. A digest has hundreds of elements: allocating room
# for them up front halves the inliner's time (its default is 32).
_INLINER = css_inline.CSSInliner(
    keep_at_rules=True, load_remote_stylesheets=False, preallocate_node_capacity=1024
)


def make_environment(templates_dir: Path | None = None) -> Environment:
    """A strict environment over `templates_dir` (default: the repo's `templates/`)."""
    return Environment(
        loader=FileSystemLoader(templates_dir or resources.templates_dir()),
        # Templates are named *.html.j2 / *.txt.j2: escape the HTML ones only.
        autoescape=select_autoescape(("html", "html.j2"), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        # Compiled once: without this every `get_template` (and every `include` of a story)
        # stats the file to see whether it changed. Templates ship with the code.
        auto_reload=False,
    )


_default_env: Environment | None = None


def _env(templates_dir: Path | None) -> Environment:
    global _default_env
    if templates_dir is not None:
        return make_environment(templates_dir)
    if _default_env is None:
        _default_env = make_environment()
    return _default_env


def inline_css(html: str) -> str:
    """`html` with its `<style>` rules copied into `style` attributes; `@media` rules kept.

    A document without a `<style>` block is returned as it is (css_inline would reserialise
    it, adding `<html>`/`<body>` around a fragment).
    """
    if "<style" not in html:
        return html
    return str(_INLINER.inline(html))


def render_text(d: Digest, *, templates_dir: Path | None = None) -> str:
    """The digest as plain text (matched words wrapped in `**`), without unsubscribe link."""
    return _env(templates_dir).get_template(TEXT_TEMPLATE).render(digest_view(d, html=False))


def render_html(d: Digest, *, templates_dir: Path | None = None) -> str:
    """The digest as a self-contained HTML document (CSS inlined, no external assets)."""
    return inline_css(
        _env(templates_dir).get_template(HTML_TEMPLATE).render(digest_view(d, html=True))
    )


@dataclass(frozen=True, slots=True)
class EmailBody:
    """A digest's text and HTML, rendered once, with a slot for each recipient's link."""

    text: str
    html: str
    unsubscribe: bool = False  # rendered with the unsubscribe slot

    def personalise(self, unsubscribe_url: str = "") -> tuple[str, str]:
        """(text, html) for one recipient: the slot replaced by `unsubscribe_url`."""
        if not self.unsubscribe:
            return self.text, self.html
        if not unsubscribe_url:
            raise ValueError("this body was rendered for an unsubscribe link; pass one")
        return (
            self.text.replace(_UNSUBSCRIBE_SLOT, unsubscribe_url),
            self.html.replace(_UNSUBSCRIBE_SLOT, str(escape(unsubscribe_url))),
        )


def render_email(
    d: Digest, *, unsubscribe: bool = False, templates_dir: Path | None = None
) -> EmailBody:
    """Text and CSS-inlined HTML of `d`, once for all recipients.

    With `unsubscribe`, both footers carry an unsubscribe link to be filled in per
    recipient by `EmailBody.personalise`.
    """
    env = _env(templates_dir)
    text_view, html_view = _digest_views(d, _UNSUBSCRIBE_SLOT if unsubscribe else "")
    text = env.get_template(TEXT_TEMPLATE).render(text_view)
    html = inline_css(env.get_template(HTML_TEMPLATE).render(html_view))
    return EmailBody(text, html, unsubscribe)


def render_confirmation(
    subscription: str,
    confirm_url: str,
    *,
    watchlists: Sequence[str] = (),
    schedule: str = "",
    templates_dir: Path | None = None,
) -> tuple[str, str]:
    """(text, HTML) of the double opt-in email asking to confirm `subscription`."""
    link = safe_link(confirm_url)
    if link is None:
        raise ValueError("the confirmation link must be an http(s) URL")
    env = _env(templates_dir)
    view = {
        "subject": confirmation_subject(subscription),
        "subscription": subscription,
        "confirm_url": link,
        "watchlists": list(watchlists),
        "schedule": schedule,
    }
    text = env.get_template(CONFIRM_TEXT_TEMPLATE).render(view)
    html = inline_css(env.get_template(CONFIRM_HTML_TEMPLATE).render(view))
    return text, html


def confirmation_subject(subscription: str) -> str:
    """E.g. 'Confirm your Sanctions Alerts subscription "russia-daily"'."""
    return f'Confirm your Sanctions Alerts subscription "{subscription}"'


# -- view ------------------------------------------------------------------------------


def digest_view(d: Digest, *, html: bool, unsubscribe_url: str = "") -> dict[str, Any]:
    """The template context. With `html`, snippets are `Markup` with `<mark>` tags.

    Each section has its new `stories` and, after them, its `updates` (update lines).
    Sections are cut to `d.max_stories` stories; `more` counts the rest, `more_url` links
    to the full digest. `heartbeat` is set for a digest with nothing new.
    """
    return _digest_views(d, unsubscribe_url)[1 if html else 0]


def _digest_views(d: Digest, unsubscribe_url: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(text, HTML) contexts, built in one pass: they differ only in their snippets."""
    zone = ZoneInfo(d.timezone)
    new, updates = story_counts(d.sections)
    shown, more = d.shown()
    text_sections: list[dict[str, Any]] = []
    html_sections: list[dict[str, Any]] = []
    # `shown` is a prefix of `d.sections`, each cut or whole: counts describe the whole.
    for s, whole in zip(shown, d.sections, strict=False):
        pairs = [_story_views(e, zone) for e in s.entries]
        for out, i in ((text_sections, 0), (html_sections, 1)):
            views = [p[i] for p in pairs]
            out.append(
                {
                    "watchlist": s.watchlist,
                    "count": section_label(whole),
                    "stories": [v for v in views if not v["is_update"]],
                    "updates": [v for v in views if v["is_update"]],
                }
            )
    common = {
        "subject": digest_subject(d),
        "subscription": d.subscription,
        "created": format_time(d.created_at, zone),
        "count": d.entry_count,
        "new_count": new,
        "update_count": updates,
        "counts": counts_phrase(new, updates),
        "idempotency_key": d.idempotency_key,
        "urgent": d.urgent,
        "heartbeat": d.empty,
        "more": more,
        "more_url": safe_link(d.more_url) or "",
        "unsubscribe_url": unsubscribe_url,
    }
    return {**common, "sections": text_sections}, {**common, "sections": html_sections}


def story_counts(sections: Sequence[DigestSection]) -> tuple[int, int]:
    """(new stories, update lines) in `sections`."""
    updates = sum(1 for s in sections for e in s.entries if e.update)
    return sum(len(s.entries) for s in sections) - updates, updates


def counts_phrase(new: int, updates: int) -> str:
    """E.g. "3 new stories and 1 update", "1 new story", "2 updates"."""
    stories = f"{new} new {'story' if new == 1 else 'stories'}"
    if not updates:
        return stories
    lines = f"{updates} {'update' if updates == 1 else 'updates'}"
    return f"{stories} and {lines}" if new else lines


def section_label(section: DigestSection) -> str:
    """What a section heading counts: "2", or "2 new, 1 update" when it has update lines."""
    new, updates = story_counts((section,))
    if not updates:
        return str(new)
    lines = f"{updates} {'update' if updates == 1 else 'updates'}"
    return f"{new} new, {lines}" if new else lines


def names_phrase(names: Sequence[str], limit: int = MAX_SOURCES) -> str:
    """E.g. "A, B and 3 more": at most `limit` names (empty ones skipped)."""
    shown = [n for n in names if n.strip()]
    more = len(shown) - limit
    if more > 0:
        return ", ".join(shown[:limit]) + f" and {more} more"
    return ", ".join(shown)


def unique_matches(matches: Sequence[Match]) -> list[Match]:
    """The first match of each (watchlist, entry, field): 20 syndicated copies of a story
    each match "Rosneft" in their title, and one snippet says it."""
    seen: dict[tuple[str, str, str], Match] = {}
    for m in matches:
        seen.setdefault((m.watchlist, m.term, m.field), m)
    return list(seen.values())


def ordered_sources(e: DigestEntry) -> list[StorySource]:
    """The story's sources, official first (a stable sort: the digest's order otherwise)."""
    return sorted(e.sources, key=lambda s: not s.official)


def same_title(a: str, b: str) -> bool:
    """Titles equal but for case and spacing (a syndicated copy under the wire headline)."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def _story_views(e: DigestEntry, zone: ZoneInfo) -> tuple[dict[str, Any], dict[str, Any]]:
    """(text, HTML) views of one story; everything but the snippets is shared."""
    title = e.title.strip() or "(untitled)"
    text_matches, html_matches = [], []
    for m in unique_matches(e.matches):
        segments = match_segments(m)
        about = {
            "watchlist": m.watchlist,
            "term": m.term,
            "field": m.field,
            "kind": m.kind.value,
            "matched": m.matched,
            "score": m.score,
        }
        text_matches.append({**about, "snippet": _text_snippet(segments)})
        html_matches.append({**about, "snippet": _html_snippet(segments)})
    # A story of one item shows as before; a story of several lists them all.
    sources = ordered_sources(e) if len(e.sources) > 1 else []
    view = {
        "title": title,
        "link": safe_link(e.link),
        "feed_title": e.feed_title or e.feed,
        # Feeds without a title would show as an empty name.
        "also_in": [name for name in e.also_in if name.strip()],
        # An update line's "also reported by": the feeds of its new sources, capped.
        "also_reported": names_phrase(e.also_in),
        "published": format_time(e.published, zone) if e.published else "",
        "is_update": e.update,  # not "update": a dict method to Jinja's `.`
        # "urgent" / "high" shows as a badge; normal stories carry none.
        "importance": "" if e.importance is Importance.NORMAL else e.importance.value,
        "edited": e.edited,
        "new_terms": list(e.new_terms),
        "source_count": len(sources),
        "sources": [_source_view(s, e, title, zone) for s in sources[:MAX_SOURCES]],
        "more_sources": max(0, len(sources) - MAX_SOURCES),
        # Plain text: the templates escape it; `kind` is ours, safe as a class name.
        "labels": [{"kind": x.kind, "text": x.text} for x in labels(e.facets)],
    }
    # An update line is flagged by the snippets of the entries it was not sent for.
    new = set(e.new_terms)
    return (
        {
            **view,
            "matches": text_matches,
            "new_matches": [m for m in text_matches if m["term"] in new],
        },
        {
            **view,
            "matches": html_matches,
            "new_matches": [m for m in html_matches if m["term"] in new],
        },
    )


def _source_view(s: StorySource, e: DigestEntry, headline: str, zone: ZoneInfo) -> dict[str, Any]:
    title = s.title.strip()
    return {
        "feed_title": s.feed_title or s.feed,
        # Only when it differs: 20 copies of the wire headline would repeat it 20 times.
        "title": "" if not title or same_title(title, headline) else title,
        "link": safe_link(s.link),
        # The headline's own item: its link is printed right under the headline already.
        "own": s.item_id == e.item_id,
        "published": format_time(s.published, zone) if s.published else "",
        "official": s.official,
    }


# The same items reach many subscribers: their times are formatted once per zone.
@functools.lru_cache(maxsize=4096)
def format_time(dt: datetime, zone: ZoneInfo) -> str:
    """E.g. "29 Nov 2026 08:15 GMT"; month names fixed in English whatever the locale."""
    local = dt.astimezone(zone)
    return f"{local.day} {_MONTHS[local.month - 1]} {local.year} {local:%H:%M} {local:%Z}"


def safe_link(link: str | None) -> str | None:
    """The link if it is http(s); feed-supplied `javascript:` and the like are dropped."""
    if not link:
        return None
    try:
        scheme = urlsplit(link.strip()).scheme.lower()
    except ValueError:
        return None
    return link.strip() if scheme in ("http", "https") else None


# -- highlighting ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of a snippet; `hit` when it is the matched term."""

    text: str
    hit: bool


def highlight_segments(
    snippet: str, term: str, highlight: tuple[int, int] | None = None
) -> list[Segment]:
    """Split `snippet` into plain and matched pieces.

    The engine gives the hit's place in the snippet (`Match.highlight`); that is used when
    present and sane. Older stored matches have none, so the term is found again:
    case-insensitive, any whitespace between words, whole words preferred (falling back
    to substrings, e.g. for terms the matcher found inside a longer word).
    """
    if highlight is not None and 0 <= highlight[0] < highlight[1] <= len(snippet):
        a, b = highlight
        pieces = [Segment(snippet[:a], False), Segment(snippet[a:b], True)]
        pieces.append(Segment(snippet[b:], False))
        return [p for p in pieces if p.text]
    words = term.split()
    if not words or not snippet:
        return [Segment(snippet, False)] if snippet else []
    core = r"\s+".join(re.escape(w) for w in words)
    found: list[re.Match[str]] = []
    for pattern in (rf"(?<!\w){core}(?!\w)", core):
        found = list(re.finditer(pattern, snippet, re.IGNORECASE))
        if found:
            break
    segments: list[Segment] = []
    pos = 0
    for m in found:
        if m.start() > pos:
            segments.append(Segment(snippet[pos : m.start()], False))
        segments.append(Segment(m.group(0), True))
        pos = m.end()
    if pos < len(snippet):
        segments.append(Segment(snippet[pos:], False))
    return segments


def match_segments(m: Match, snippet: str | None = None) -> list[Segment]:
    """`m.snippet` (or a cut `snippet` of it) split for highlighting, by the match's field.

    A facet match (`issuer:EU`) has a reason for a snippet and no span in it: nothing is
    highlighted (the query's words may well occur in the reason by chance). A designation
    match without a span highlights the listed name it matched (`m.matched`), else its term.
    """
    text = m.snippet if snippet is None else snippet
    if m.field == "facet":
        return [Segment(text, False)] if text else []
    if m.field == "designation" and m.highlight is None and m.matched:
        return highlight_segments(text, m.matched)
    return highlight_segments(text, m.term, m.highlight)


def match_html(m: Match) -> Markup:
    """`highlight_html` for a match, by its field (see `match_segments`)."""
    return _html_snippet(match_segments(m))


def highlight_html(snippet: str, term: str, highlight: tuple[int, int] | None = None) -> Markup:
    """Escaped snippet with the matched words in `<mark>`; nothing else is left unescaped."""
    return _html_snippet(highlight_segments(snippet, term, highlight))


def _html_snippet(segments: Sequence[Segment]) -> Markup:
    return Markup("").join(
        Markup("<mark>%s</mark>") % seg.text if seg.hit else escape(seg.text)  # `%` escapes
        for seg in segments
    )


def highlight_text(snippet: str, term: str, highlight: tuple[int, int] | None = None) -> str:
    """Snippet with the matched words wrapped in `**`."""
    return _text_snippet(highlight_segments(snippet, term, highlight))


def _text_snippet(segments: Sequence[Segment]) -> str:
    start, end = TEXT_MARK
    return "".join(f"{start}{seg.text}{end}" if seg.hit else seg.text for seg in segments)
