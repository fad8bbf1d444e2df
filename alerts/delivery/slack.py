"""Slack incoming-webhook channel: the digest as Block Kit messages.

Safety: Slack only pings or links through `<...>` sequences (`<!channel>`, `<@U123>`,
`<http://x|text>`), so escaping `&`, `<` and `>` in every piece of feed-supplied text is
enough to make it inert; a bare "@channel" in plain text does not notify anyone. Links we
build ourselves are http(s) only, with `|`, `<`, `>` and spaces percent-encoded so a URL
cannot close or relabel the link.

Stories (issue 4): a new story is a headline section and a context block (its labels as
code spans, feed, time, matches), plus a context block listing its sources (official
first, at most `render.MAX_SOURCES`) when it has several; an update line is one compact
block after the section's new stories: context when it only adds sources, section when it
adds a matched entry ("New: ...").

Issue 5: a digest shows at most `Digest.max_stories` stories (`Digest.shown()`), then an
"and K more" line linking the full digest (`more_url`); a heartbeat digest (nothing new)
is one short "No new alerts" message; an urgent digest says "[Urgent]" in its header and
notification text, and urgent or high-importance stories carry a tag.

Limits: at most `max_blocks` blocks per message and `max_text` characters per text object
(Slack's 50 and 3000), header text at most 150; longer digests are split into several
messages between stories, each with a header and a plain `text` fallback for notifications.
"""

from __future__ import annotations

import logging
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
from alerts.domain import Digest, DigestEntry, Importance, Match

log = logging.getLogger(__name__)

MAX_BLOCKS = 50
MAX_TEXT = 3000
MAX_HEADER = 150  # Slack's limit for a header block's plain_text
MAX_TITLE = 300  # a feed title longer than this is noise, not a headline
MAX_SOURCE_TITLE = 150  # a source's own headline, under the story's
ELLIPSIS = "…"
# Stories at or above high importance say so before their headline.
_TAGS = {Importance.URGENT: "`urgent` ", Importance.HIGH: "`high` "}


def slack_escape(text: str) -> str:
    """Escape the three characters Slack treats as control characters in text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_url(url: str) -> str:
    return (
        url.replace("&", "&amp;")
        .replace("<", "%3C")
        .replace(">", "%3E")
        .replace("|", "%7C")
        .replace(" ", "%20")
    )


def truncate(text: str, limit: int) -> str:
    """Cut `text` to at most `limit` characters ending in "…", never inside an escape
    (`&amp;`) or a link (`<url|title>`): a half link would be shown raw or rejected."""
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    lt = cut.rfind("<")
    if lt != -1 and ">" not in cut[lt:]:
        cut = cut[:lt]
    return cut + ELLIPSIS


def _clip_raw(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def slack_messages(
    d: Digest, *, max_blocks: int = MAX_BLOCKS, max_text: int = MAX_TEXT
) -> list[dict[str, Any]]:
    """The digest as one or more incoming-webhook payloads (see the module docstring)."""
    if max_blocks < 4:
        raise ValueError("max_blocks must leave room for a header, a heading and one story")
    if max_text < 40:
        raise ValueError("max_text is too small to hold a story")
    title = digest_subject(d)  # says [Urgent], or no new stories for a heartbeat
    if d.empty:
        text = f"No new alerts for *{slack_escape(d.subscription)}*."
        return [_message(title, [_mrkdwn_section(truncate(text, max_text))], max_text)]
    zone = ZoneInfo(d.timezone)
    shown, cut = d.shown()
    # Headings count the whole section, not the part shown: "and K more" explains the rest.
    labels = [section_label(s) for s in d.sections]
    room = max_blocks - 1  # every message starts with a header block
    pages: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    for section, label in zip(shown, labels, strict=False):
        started = False  # has this section begun in an earlier or the current page?
        heading_here = False
        for entry in section.entries:
            story = _story_blocks(entry, zone, max_text)
            if len(story) + 1 > room:
                # Tiny pages: the sources join the story's context block (10 elements max).
                story = _compact(story)
            if current and len(current) + len(story) + (0 if heading_here else 1) > room:
                pages.append(current)
                current, heading_here = [], False
            if not heading_here:
                current.append(_heading(section.watchlist, label, started, max_text))
                heading_here = True
            current.extend(story)
            started = True
    if cut:
        if len(current) + 1 > room:
            pages.append(current)
            current = []
        current.append(_more_block(cut, d.more_url, max_text))
    if current or not pages:
        pages.append(current)
    return [
        _message(title if len(pages) == 1 else f"{title} ({i}/{len(pages)})", blocks, max_text)
        for i, blocks in enumerate(pages, 1)
    ]


def _message(title: str, blocks: list[dict[str, Any]], max_text: int) -> dict[str, Any]:
    header = {
        "type": "header",
        "text": {"type": "plain_text", "text": _clip_raw(title, MAX_HEADER), "emoji": False},
    }
    return {
        "text": truncate(slack_escape(title), max_text),
        "blocks": [header, *blocks],
        # 120 link previews would bury the digest.
        "unfurl_links": False,
        "unfurl_media": False,
    }


def _heading(watchlist: str, label: str, continued: bool, max_text: int) -> dict[str, Any]:
    suffix = " (continued)" if continued else f" ({label})"
    return _mrkdwn_section(truncate(f"*{slack_escape(watchlist)}*{suffix}", max_text))


def _more_block(cut: int, more_url: str, max_text: int) -> dict[str, Any]:
    """ "and K more", linking the full digest on the web UI when there is one."""
    link = safe_link(more_url)
    if link:
        text = f"and {cut} more: <{_slack_url(link)}|see the full digest>"
    else:
        text = f"and {cut} more not shown here"
    return _mrkdwn_section(truncate(text, max_text))


def _mrkdwn_section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _compact(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The story's context blocks merged into one (a story then takes two blocks)."""
    first, *rest = blocks
    elements = [el for b in rest if b["type"] == "context" for el in b["elements"]]
    if not elements:
        return blocks
    return [first, {"type": "context", "elements": elements}]


def _headline(e: DigestEntry) -> str:
    title = slack_escape(_clip_raw(e.title.strip() or "(untitled)", MAX_TITLE))
    link = safe_link(e.link)
    return f"<{_slack_url(link)}|{title}>" if link else title


def _match_lines(matches: list[Match]) -> list[str]:
    lines = []
    for m in matches:
        snippet = "".join(
            f"*{slack_escape(seg.text)}*" if seg.hit else slack_escape(seg.text)
            for seg in match_segments(m)
        )
        lines.append(f"_{slack_escape(m.term)}_ ({slack_escape(m.field)}): {snippet}")
    return lines


def _labels_text(e: DigestEntry) -> str:
    """The story's labels as code spans: `EU` `Sanctions package` `Russia`. A backtick in a
    (feed-supplied) label would end its span early, so it becomes a quote."""
    return " ".join("`" + slack_escape(t.replace("`", "'")) + "`" for t in label_texts(e.facets))


def _story_blocks(e: DigestEntry, zone: ZoneInfo, max_text: int) -> list[dict[str, Any]]:
    if e.update:
        return [_update_block(e, max_text)]
    headline = _TAGS.get(e.importance, "") + f"*{_headline(e)}*"
    listed = len(e.sources) > 1  # a story of several items lists them below

    source = slack_escape(e.feed_title or e.feed or "unknown source")
    also_in = [name for name in e.also_in if name.strip()]
    if also_in and not listed:
        source += " · also in: " + slack_escape(", ".join(also_in))
    if e.published:
        source += " · " + format_time(e.published, zone)
    elements = [{"type": "mrkdwn", "text": truncate(source, max_text)}]
    if tags := _labels_text(e):
        elements.insert(0, {"type": "mrkdwn", "text": truncate(tags, max_text)})

    lines = _match_lines(unique_matches(e.matches))
    if lines:
        elements.append({"type": "mrkdwn", "text": truncate("\n".join(lines), max_text)})
    blocks = [
        # A headline cut by the limit loses its link rather than keeping half of one.
        _mrkdwn_section(truncate(headline, max_text)),
        {"type": "context", "elements": elements},
    ]
    if listed:
        text = _sources_text(e, zone, max_text)
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": text}]})
    return blocks


def _sources_text(e: DigestEntry, zone: ZoneInfo, max_text: int) -> str:
    """The sources list: a "Sources (N)" line, one line per source, then "and K more".
    Whole lines are dropped (and counted in K) rather than cut to fit `max_text`."""
    sources = ordered_sources(e)
    lines = []
    for s in sources[:MAX_SOURCES]:
        name = slack_escape(s.feed_title or s.feed or "unknown source")
        link = safe_link(s.link)
        title = s.title.strip()
        line = "`official` " if s.official else ""
        if title and not same_title(title, e.title):
            title = slack_escape(_clip_raw(title, MAX_SOURCE_TITLE))
            line += f"{name}: " + (f"<{_slack_url(link)}|{title}>" if link else title)
        else:
            line += f"<{_slack_url(link)}|{name}>" if link else name
        if s.published:
            line += " · " + format_time(s.published, zone)
        lines.append(line)
    head = f"*Sources ({len(sources)})*"
    while True:
        more = len(sources) - len(lines)
        text = "\n".join([head, *lines, *([f"and {more} more"] if more else [])])
        if len(text) <= max_text or not lines:
            return truncate(text, max_text)
        lines.pop()


def _update_block(e: DigestEntry, max_text: int) -> dict[str, Any]:
    """An update line: "Update: <title> — also reported by X, Y", flagged "New: ..." when
    the story now matches entries the subscriber was not sent for it."""
    line = _TAGS.get(e.importance, "") + f"*Update:* {_headline(e)}"
    if also := names_phrase(e.also_in):
        line += " — also reported by " + slack_escape(also)
    if e.edited:
        line += " · _updated_"
    if not e.new_terms:
        element = {"type": "mrkdwn", "text": truncate(line, max_text)}
        return {"type": "context", "elements": [element]}
    # The flag must survive a long headline: it gets its room first.
    flag = truncate("*New: " + slack_escape(", ".join(e.new_terms)) + "*", max_text // 3)
    head = truncate(line, max_text - len(flag) - 1)
    new = [m for m in unique_matches(e.matches) if m.term in e.new_terms]
    return _mrkdwn_section(truncate("\n".join([head, flag, *_match_lines(new)]), max_text))


class SlackChannel(ChatChannel):
    """Posts digests to a Slack incoming webhook (`url` is a secret: never logged)."""

    label = "Slack"

    def messages(self, digest: Digest) -> list[dict[str, Any]]:
        return slack_messages(digest)
