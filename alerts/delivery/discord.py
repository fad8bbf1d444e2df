"""Discord channel: the digest as embeds posted to a channel webhook.

One embed per story: its watchlist as author, the headline as a linked title, feed, time
and sources in the description, matched snippets as fields, its labels (issuer, action,
targets, ...: `alerts.delivery.labels`) as the footer, coloured by importance (grey for an
update line). Discord answers 204 No Content; 429 carries `Retry-After` and a JSON
`retry_after`. The URL holds the webhook token, so it is never logged.

Safety: `allowed_mentions: {"parse": []}` means nothing in a message can ping anyone,
whatever the text says. Feed text is flattened to one line and Discord's Markdown is
backslash-escaped (emphasis, code, spoilers, `[label](url)` links, `<@id>` mentions and
`<t:...>` tags, a leading heading, quote or list marker); `@everyone` / `@here` also get a
zero-width space, as a second guard. Embed and link URLs are http(s) only.

Limits (Discord's): 10 embeds and 6000 characters across them per message (titles,
descriptions, field names and values, footers, author names), content 2000, title 256,
description 4096, 25 fields of name 256 / value 1024, footer 2048, author 256. Our own caps
keep one embed under 6000 (title 256 + author 256 + description 2500 + 5 fields of
100 + 400 + footer 300); a digest is split into several messages between embeds.
Characters are counted in UTF-16 code units, as Discord's clients count them: never fewer
than code points.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
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
from alerts.delivery.webhook import ChatChannel
from alerts.domain import Digest, DigestEntry, Importance, Match, StorySource

log = logging.getLogger(__name__)

# Discord's limits.
MAX_EMBEDS = 10
MAX_TOTAL = 6000
MAX_CONTENT = 2000
MAX_TITLE = 256
MAX_DESCRIPTION = 4096
MAX_FIELDS = 25
MAX_FIELD_NAME = 256
MAX_FIELD_VALUE = 1024
MAX_FOOTER = 2048
MAX_AUTHOR = 256
# Ours: what one embed may use, so that any embed fits in a message on its own.
DESCRIPTION_CHARS = 2500
MATCH_FIELDS = 5
FIELD_NAME_CHARS = 100
FIELD_VALUE_CHARS = 400
FOOTER_CHARS = 300  # the story's labels
MAX_EMBED_CHARS = (
    MAX_TITLE
    + MAX_AUTHOR
    + DESCRIPTION_CHARS
    + MATCH_FIELDS * (FIELD_NAME_CHARS + FIELD_VALUE_CHARS)
    + FOOTER_CHARS
)
MAX_URL = 2000  # a longer link is left out rather than risk the whole message
META_CHARS = 500
MAX_SOURCE_TITLE = 150
ELLIPSIS = "…"
ZWSP = "\u200b"

_COLORS = {Importance.URGENT: 0xD1242F, Importance.HIGH: 0xBF8700, Importance.NORMAL: 0x0969DA}
_UPDATE_COLOR = 0x8C959F
_TAGS = {Importance.URGENT: "**Urgent**", Importance.HIGH: "**High**"}
_SPACES = re.compile(r"\s+")
# `[` starts a masked link, `<` a mention, channel, emoji or timestamp tag; the rest
# emphasis, code and spoilers. Headings, quotes and lists need a marker at a line start.
_MARKDOWN = re.compile(r"([\\*_~`|\[\]<])")
_LEADING_MARKER = re.compile(r"^([-+#>])")
_LEADING_NUMBER = re.compile(r"^(\d+)([.)])")
_MASS_MENTION = re.compile(r"@(?=everyone|here)", re.IGNORECASE)
_URL_ESCAPES = str.maketrans({" ": "%20", "(": "%28", ")": "%29", "<": "%3C", ">": "%3E"})


def discord_escape(text: str) -> str:
    """Feed text made inert in Discord Markdown (see the module docstring)."""
    text = _SPACES.sub(" ", text)
    text = _MARKDOWN.sub(r"\\\1", text)
    text = _LEADING_MARKER.sub(r"\\\1", text)
    text = _LEADING_NUMBER.sub(r"\1\\\2", text)
    return _MASS_MENTION.sub("@" + ZWSP, text)


def units(text: str) -> int:
    """Length in UTF-16 code units (an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def fit(text: str, limit: int, escape: Callable[[str], str] = discord_escape) -> str:
    """`escape(text)` within `limit` units; when cut, the raw text is cut (then escaped, then
    "…" added) so that no escape sequence is split."""
    out = escape(text)
    cut = len(text)
    while units(out) > limit and cut > 0:
        cut = max(0, cut - max(1, units(out) + len(ELLIPSIS) - limit))
        out = escape(text[:cut].rstrip()) + ELLIPSIS
    return out if units(out) <= limit else ""


def _plain(text: str) -> str:
    """For author names and footers, which Discord shows without Markdown or mentions."""
    return _MASS_MENTION.sub("@" + ZWSP, _SPACES.sub(" ", text))


def _embed_url(url: str | None) -> str | None:
    link = safe_link(url)
    return link.translate(_URL_ESCAPES) if link and len(link) <= MAX_URL else None


def markdown_link(label: str, url: str | None, limit: int) -> str:
    """`[label](url)` when the URL is safe, else the escaped label; the label within `limit`.
    Brackets in the label become parentheses rather than trusting escapes inside a label."""
    text = fit(label.replace("[", "(").replace("]", ")"), limit)
    link = _embed_url(url)
    return f"[{text}]({link})" if link else text


def discord_messages(
    d: Digest, *, max_embeds: int = MAX_EMBEDS, max_total: int = MAX_TOTAL
) -> list[dict[str, Any]]:
    """The digest as one or more execute-webhook bodies (see the module docstring)."""
    if not 1 <= max_embeds <= MAX_EMBEDS:
        raise ValueError(f"max_embeds must be between 1 and {MAX_EMBEDS}")
    if not MAX_EMBED_CHARS <= max_total <= MAX_TOTAL:
        raise ValueError(f"max_total must be between {MAX_EMBED_CHARS} and {MAX_TOTAL}")
    title = digest_subject(d)  # says [Urgent], or no new stories for a heartbeat
    if d.empty:
        text = f"No new alerts for {discord_escape(d.subscription)}."
        return [_message(title, [], extra=text)]
    zone = ZoneInfo(d.timezone)
    shown, cut = d.shown()
    labels = [section_label(s) for s in d.sections]
    embeds = [
        _story(e, f"{s.watchlist} ({label})", zone)
        for s, label in zip(shown, labels, strict=False)
        for e in s.entries
    ]
    if cut:
        embeds.append(_more(cut, d.more_url))

    pages: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    used = 0
    for embed in embeds:
        size = embed_chars(embed)
        if current and (len(current) == max_embeds or used + size > max_total):
            pages.append(current)
            current, used = [], 0
        current.append(embed)
        used += size
    pages.append(current)
    return [
        _message(title if len(pages) == 1 else f"{title} ({i}/{len(pages)})", page)
        for i, page in enumerate(pages, 1)
    ]


def embed_chars(embed: dict[str, Any]) -> int:
    """What an embed counts towards a message's 6000 characters."""
    total = units(embed.get("title", "")) + units(embed.get("description", ""))
    total += units(embed.get("author", {}).get("name", ""))
    total += units(embed.get("footer", {}).get("text", ""))
    return total + sum(units(f["name"]) + units(f["value"]) for f in embed.get("fields", []))


def _message(title: str, embeds: list[dict[str, Any]], *, extra: str = "") -> dict[str, Any]:
    content = "**" + fit(title, MAX_CONTENT - 4 - (units(extra) + 1 if extra else 0)) + "**"
    if extra:
        content += "\n" + extra
    return {
        "content": content,
        "embeds": embeds,
        # Nobody is pinged, whatever a feed writes: not @everyone, roles or users.
        "allowed_mentions": {"parse": []},
    }


def _more(cut: int, more_url: str) -> dict[str, Any]:
    embed: dict[str, Any] = {"title": f"and {cut} more", "color": _UPDATE_COLOR}
    if url := _embed_url(more_url):
        embed["url"] = url
        embed["description"] = f"[See the full digest]({url})"
    else:
        embed["description"] = "Not shown here."
    return embed


def _story(e: DigestEntry, author: str, zone: ZoneInfo) -> dict[str, Any]:
    title = e.title.strip() or "(untitled)"
    embed: dict[str, Any] = {
        "author": {"name": fit(author, MAX_AUTHOR, escape=_plain)},
        "title": fit(("Update: " if e.update else "") + title, MAX_TITLE),
        "color": _UPDATE_COLOR if e.update else _COLORS[e.importance],
    }
    if url := _embed_url(e.link):
        embed["url"] = url
    lines: list[str] = []
    if tag := _TAGS.get(e.importance):
        lines.append(tag)
    matches = unique_matches(e.matches)
    if e.update:
        lines.append(_update_line(e))
        if e.new_terms:
            lines.append("**New: " + fit(", ".join(e.new_terms), 300) + "**")
        matches = [m for m in matches if m.term in e.new_terms]
        description = "\n".join(lines)
    else:
        lines.append(_meta(e, zone))
        description = _with_sources(lines, e, zone)
    if len(matches) > MATCH_FIELDS:
        description = _append(description, f"and {len(matches) - MATCH_FIELDS} more matches")
    embed["description"] = description
    if matches:
        embed["fields"] = [_field(m) for m in matches[:MATCH_FIELDS]]
    if not e.update and (tags := label_texts(e.facets)):
        # Footers show no Markdown and ping nobody: the mass-mention guard is enough.
        embed["footer"] = {"text": fit(" · ".join(tags), FOOTER_CHARS, escape=_plain)}
    return embed


def _meta(e: DigestEntry, zone: ZoneInfo) -> str:
    meta = e.feed_title or e.feed or "unknown source"
    also_in = [name for name in e.also_in if name.strip()]
    if also_in and len(e.sources) <= 1:
        meta += " · also in: " + names_phrase(also_in)
    text = fit(meta, META_CHARS)
    if e.published:
        text += " · " + format_time(e.published, zone)
    return text


def _update_line(e: DigestEntry) -> str:
    parts = []
    if also := names_phrase(e.also_in):
        parts.append("also reported by " + fit(also, META_CHARS))
    if e.edited:
        parts.append("_updated_")
    return " · ".join(parts) or "new sources"


def _with_sources(lines: list[str], e: DigestEntry, zone: ZoneInfo) -> str:
    """The description with the story's sources (a story of several items), whole source
    lines dropped and counted in "and K more" to stay within our description budget."""
    head = "\n".join(lines)  # a few hundred characters at most (META_CHARS)
    if len(e.sources) <= 1:
        return head
    sources = ordered_sources(e)
    listed = [_source_line(s, e, zone) for s in sources[:MAX_SOURCES]]
    while True:
        more = len(sources) - len(listed)
        text = "\n".join(
            [
                head,
                f"**Sources ({len(sources)})**",
                *listed,
                *([f"and {more} more"] if more else []),
            ]
        )
        if units(text) <= DESCRIPTION_CHARS or not listed:
            return text
        listed.pop()


def _source_line(s: StorySource, e: DigestEntry, zone: ZoneInfo) -> str:
    name = s.feed_title or s.feed or "unknown source"
    title = s.title.strip()
    line = "- **official** " if s.official else "- "
    if title and not same_title(title, e.title):
        line += fit(name, MAX_SOURCE_TITLE) + ": " + markdown_link(title, s.link, MAX_SOURCE_TITLE)
    else:
        line += markdown_link(name, s.link, MAX_SOURCE_TITLE)
    if s.published:
        line += " · " + format_time(s.published, zone)
    return line


def _append(description: str, line: str) -> str:
    joined = f"{description}\n{line}" if description else line
    return joined if units(joined) <= DESCRIPTION_CHARS else description


def _field(m: Match) -> dict[str, Any]:
    name = fit(f"{m.term} ({m.field})", FIELD_NAME_CHARS)
    # The hit is bolded; cut the snippet first so the escapes are never split.
    half = FIELD_VALUE_CHARS // 2  # room for every character to be escaped
    snippet = m.snippet if len(m.snippet) <= half else m.snippet[: half - 1] + ELLIPSIS
    value = "".join(
        f"**{discord_escape(seg.text)}**" if seg.hit else discord_escape(seg.text)
        for seg in match_segments(m, snippet)
    )
    if units(value) > FIELD_VALUE_CHARS:
        value = fit(snippet, FIELD_VALUE_CHARS)  # escapes made it too long: no bold
    return {"name": name, "value": value or "-", "inline": False}


class DiscordChannel(ChatChannel):
    """Posts digests to a Discord channel webhook (`url` holds a token: never logged)."""

    label = "Discord"

    def messages(self, digest: Digest) -> list[dict[str, Any]]:
        return discord_messages(digest)
