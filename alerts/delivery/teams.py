"""Microsoft Teams channel: the digest as Adaptive Cards posted to a Workflows webhook.

Teams' Office 365 connectors are retired; a channel now gets a Power Automate "Workflows"
webhook ("Post to a channel when a webhook request is received"), which takes a message
with Adaptive Card attachments and answers 202 Accepted before the card is posted. The
URL carries its credential (`sig=`), so it is never logged.

Safety: every TextBlock is Markdown (bold, italic, lists, `[label](url)` links) and also
expands `{{DATE(...)}}` / `{{TIME(...)}}`. Feed text is flattened to one line, its Markdown
characters (and `<`, which opens an autolink or a tag) are backslash-escaped, a leading list
or heading marker is escaped and `{{` is broken with a zero-width space, so a title can
neither link nor format. Brackets in link
labels become parentheses: some card renderers end a label at any `]`, escaped or not.
Links we build are http(s) only, with the characters that could end a Markdown link
destination percent-encoded.

A new story's labels (issuer, action, targets, ...: `alerts.delivery.labels`) are a small
accent-coloured line under its headline, escaped like any feed text.

Limits: Teams rejects a message over about 28 KB; each message's UTF-8 JSON stays under
`max_bytes`, the digest being split into several messages between stories. A story too big
for a message on its own is shown without its sources, then as its headline only.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from alerts.delivery.digest import digest_subject
from alerts.delivery.labels import label_texts
from alerts.delivery.render import (
    MAX_SOURCES,
    format_time,
    match_segments,
    names_phrase,
    ordered_sources,
    safe_link,
    same_title,
    section_label,
    unique_matches,
)
from alerts.delivery.webhook import ChatChannel, encode_body
from alerts.domain import Digest, DigestEntry, Importance, Match

log = logging.getLogger(__name__)

# Teams' documented limit is ~28 KB per message; Workflows adds its own envelope, and
# reports of lower effective limits exist, so we keep a margin.
MAX_BYTES = 27_000
MIN_BYTES = 8_000  # below this even a headline-only story might not fit beside the header
CARD_VERSION = "1.4"  # 1.5 is not rendered on every Teams client yet
MAX_TITLE = 300
MAX_SOURCE_TITLE = 150
MAX_NAME = 150  # feed titles and watchlist names
MAX_SNIPPET = 500
MAX_URL = 2000  # a longer link is shown as text rather than linked
ELLIPSIS = "…"
ZWSP = "\u200b"

_SPACES = re.compile(r"\s+")
# `<` would open an autolink (`<https://...>`) or an inline HTML tag.
_MARKDOWN = re.compile(r"([\\`*_\[\]~<])")
_LEADING_MARKER = re.compile(r"^([-+#>])")
_LEADING_NUMBER = re.compile(r"^(\d+)([.)])")
# What could end or confuse a Markdown link destination, percent-encoded.
_URL_ESCAPES = str.maketrans(
    {
        " ": "%20",
        "(": "%28",
        ")": "%29",
        "<": "%3C",
        ">": "%3E",
        "[": "%5B",
        "]": "%5D",
        "\\": "%5C",
        '"': "%22",
    }
)
_COLORS = {Importance.URGENT: "Attention", Importance.HIGH: "Warning"}
_TAGS = {Importance.URGENT: "**Urgent:** ", Importance.HIGH: "**High:** "}


def teams_escape(text: str) -> str:
    """Feed text made inert in an Adaptive Card TextBlock (see the module docstring)."""
    text = _SPACES.sub(" ", text)  # a newline could start a list or a paragraph
    text = _MARKDOWN.sub(r"\\\1", text)
    text = _LEADING_MARKER.sub(r"\\\1", text)
    text = _LEADING_NUMBER.sub(r"\1\\\2", text)
    return text.replace("{{", "{" + ZWSP + "{")


def markdown_link(label: str, url: str | None) -> str:
    """`[label](url)` for an http(s) URL of sane length, else the escaped label alone."""
    link = safe_link(url)
    text = teams_escape(label.replace("[", "(").replace("]", ")"))
    if not link or len(link) > MAX_URL:
        return text
    return f"[{text}]({link.translate(_URL_ESCAPES)})"


def teams_messages(d: Digest, *, max_bytes: int = MAX_BYTES) -> list[dict[str, Any]]:
    """The digest as one or more Workflows webhook bodies (see the module docstring)."""
    if max_bytes < MIN_BYTES:
        raise ValueError(f"max_bytes must be at least {MIN_BYTES}")
    title = digest_subject(d)  # says [Urgent], or no new stories for a heartbeat
    zone = ZoneInfo(d.timezone)
    if d.empty:
        text = f"No new alerts for {teams_escape(_clip(d.subscription, MAX_NAME))}."
        return [_message(title, d, zone, [_text(text, wrap=True)])]

    # Sized with the longest page suffix we could add, so numbering never overflows.
    base = _size(_message(f"{title} (999/999)", d, zone, []))
    shown, cut = d.shown()
    labels = [section_label(s) for s in d.sections]
    pages: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    used = 0
    for section, label in zip(shown, labels, strict=False):
        started = heading_here = False
        for entry in section.entries:
            fresh = _heading(section.watchlist, label, continued=started)
            story = _fitting_story(entry, zone, max_bytes - base - _size(fresh))
            heading = None if heading_here else fresh
            need = _size(story) + (_size(heading) if heading else 0)
            if current and base + used + need > max_bytes:
                pages.append(current)
                current, used, heading_here = [], 0, False
                heading = _heading(section.watchlist, label, continued=started)
            if heading is not None:
                current.append(heading)
                used += _size(heading)
                heading_here = True
            current.append(story)
            used += _size(story)
            started = True
    if cut:
        more = _more(cut, d.more_url)
        if current and base + used + _size(more) > max_bytes:
            pages.append(current)
            current = []
        current.append(more)
    if current or not pages:
        pages.append(current)
    return [
        _message(title if len(pages) == 1 else f"{title} ({i}/{len(pages)})", d, zone, page)
        for i, page in enumerate(pages, 1)
    ]


def _size(element: dict[str, Any]) -> int:
    """Bytes `element` adds to a message: its JSON and the comma before it."""
    return len(encode_body(element)) + 1


def _message(title: str, d: Digest, zone: ZoneInfo, body: list[dict[str, Any]]) -> dict[str, Any]:
    header = _text(teams_escape(title), size="Large", weight="Bolder", wrap=True)
    if d.urgent:
        header["color"] = "Attention"
    about = f"{teams_escape(_clip(d.subscription, MAX_NAME))} · {format_time(d.created_at, zone)}"
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "fallbackText": title,
        "msteams": {"width": "Full"},
        "body": [header, _subtle(about, spacing="None"), *body],
    }
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


def _text(text: str, **props: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **props}


def _subtle(text: str, **props: Any) -> dict[str, Any]:
    return _text(text, isSubtle=True, size="Small", **props)


def _heading(watchlist: str, label: str, *, continued: bool) -> dict[str, Any]:
    suffix = " (continued)" if continued else f" ({label})"
    name = teams_escape(_clip(watchlist, MAX_NAME))
    return _text(name + suffix, size="Medium", weight="Bolder", separator=True, spacing="Large")


def _more(cut: int, more_url: str) -> dict[str, Any]:
    link = safe_link(more_url)
    if link:
        return _text(f"and {cut} more: {markdown_link('see the full digest', link)}")
    return _text(f"and {cut} more not shown here")


def _fitting_story(e: DigestEntry, zone: ZoneInfo, room: int) -> dict[str, Any]:
    """The story in full if it fits `room` bytes, else without sources, else headline only."""
    for detail in (2, 1):
        story = _story(e, zone, detail)
        if _size(story) <= room:
            return story
    return _story(e, zone, 0)


def _story(e: DigestEntry, zone: ZoneInfo, detail: int) -> dict[str, Any]:
    """A story as a Container: `detail` 2 is everything, 1 leaves out the sources and all
    but three matches, 0 is the headline alone (short title, short link)."""
    if detail == 0:
        link = e.link if e.link and len(e.link) <= 500 else None
        short = markdown_link(_clip(e.title.strip() or "(untitled)", 200), link)
        return _container([_text(_TAGS.get(e.importance, "") + short, weight="Bolder")])
    if e.update:
        return _container(_update_items(e, detail))
    headline = _text(_TAGS.get(e.importance, "") + _headline(e), weight="Bolder")
    if color := _COLORS.get(e.importance):
        headline["color"] = color
    items = [headline]
    if tags := label_texts(e.facets):
        # Labels are short and capped (alerts.delivery.labels): they fit any story budget.
        text = " · ".join(teams_escape(t) for t in tags)
        items.append(_text(text, size="Small", weight="Bolder", color="Accent", spacing="None"))

    listed = len(e.sources) > 1
    meta = teams_escape(_clip(e.feed_title or e.feed or "unknown source", MAX_NAME))
    also_in = [name for name in e.also_in if name.strip()]
    if also_in and not listed:
        meta += " · also in: " + teams_escape(_clip(names_phrase(also_in), 500))
    if e.published:
        meta += " · " + format_time(e.published, zone)
    items.append(_subtle(meta, spacing="None"))

    matches = unique_matches(e.matches)
    if matches:
        items.append(_text(_match_list(matches if detail == 2 else matches[:3], detail)))
    if listed and detail == 2:
        items.append(_subtle(_sources_text(e, zone), spacing="Small"))
    return _container(items)


def _container(items: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "Container", "items": items, "separator": True, "spacing": "Medium"}


def _headline(e: DigestEntry) -> str:
    return markdown_link(_clip(e.title.strip() or "(untitled)", MAX_TITLE), e.link)


def _match_list(matches: Sequence[Match], detail: int) -> str:
    """A Markdown list: "- _term_ (field): snippet with the **hit**"."""
    limit = MAX_SNIPPET if detail == 2 else 200
    lines = []
    for m in matches:
        snippet = "".join(
            f"**{teams_escape(seg.text)}**" if seg.hit else teams_escape(seg.text)
            for seg in match_segments(m, _clip(m.snippet, limit))
        )
        term = teams_escape(_clip(m.term, 200))
        lines.append(f"- _{term}_ ({teams_escape(m.field)}): {snippet}")
    return "\n".join(lines)


def _sources_text(e: DigestEntry, zone: ZoneInfo) -> str:
    sources = ordered_sources(e)
    lines = []
    for s in sources[:MAX_SOURCES]:
        name = _clip(s.feed_title or s.feed or "unknown source", MAX_NAME)
        title = s.title.strip()
        line = "- **official** " if s.official else "- "
        if title and not same_title(title, e.title):
            line += (
                teams_escape(name) + ": " + markdown_link(_clip(title, MAX_SOURCE_TITLE), s.link)
            )
        else:
            line += markdown_link(name, s.link)
        if s.published:
            line += " · " + format_time(s.published, zone)
        lines.append(line)
    more = len(sources) - len(lines)
    text = f"**Sources ({len(sources)})**\n\n" + "\n".join(lines)
    return text + (f"\n\nand {more} more" if more else "")


def _update_items(e: DigestEntry, detail: int) -> list[dict[str, Any]]:
    """An update line, flagged "New: ..." with the new entries' snippets when it has them."""
    line = _TAGS.get(e.importance, "") + "**Update:** " + _headline(e)
    if also := names_phrase(e.also_in):
        line += " — also reported by " + teams_escape(_clip(also, 500))
    if e.edited:
        line += " · _updated_"
    items = [_text(line)]
    if e.new_terms:
        flag = "**New: " + teams_escape(_clip(", ".join(e.new_terms), 300)) + "**"
        items.append(_text(flag, color="Attention", spacing="None"))
        new = [m for m in unique_matches(e.matches) if m.term in e.new_terms]
        if new:
            items.append(_text(_match_list(new if detail == 2 else new[:3], detail)))
    return items


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


class TeamsChannel(ChatChannel):
    """Posts digests to a Teams Workflows webhook (`url` is a secret: never logged)."""

    label = "Teams"

    def messages(self, digest: Digest) -> list[dict[str, Any]]:
        return teams_messages(digest)
