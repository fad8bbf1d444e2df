"""The full digest page: every story of a sent digest, with all its sources.

An email shows at most `max_stories` stories and ten sources a story; this page is where
"and K more" leads, so it leaves nothing out. The formatting rules (times in the digest's
zone, `<mark>` around matched words, only http(s) links) are the email renderer's own.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alerts.delivery.digest import digest_subject
from alerts.delivery.labels import labels
from alerts.delivery.render import (
    counts_phrase,
    format_time,
    match_html,
    ordered_sources,
    safe_link,
    same_title,
    section_label,
    story_counts,
    unique_matches,
)
from alerts.domain import Digest, DigestEntry, Importance, StorySource


def digest_page_view(d: Digest) -> dict[str, Any]:
    """The template context of `digest.html.j2` (strings and `Markup` only)."""
    try:
        zone = ZoneInfo(d.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    new, updates = story_counts(d.sections)
    return {
        "subject": digest_subject(d),
        "counts": counts_phrase(new, updates),
        "created": format_time(d.created_at, zone),
        "reference": d.idempotency_key,
        "sections": [
            {
                "watchlist": s.watchlist,
                "count": section_label(s),
                # New stories first, then update lines, as in the email.
                "stories": [_story(e, zone) for e in sorted(s.entries, key=lambda e: e.update)],
            }
            for s in d.sections
        ],
    }


def _story(e: DigestEntry, zone: ZoneInfo) -> dict[str, Any]:
    title = e.title.strip() or "(untitled)"
    return {
        "title": title,
        "link": safe_link(e.link),
        "feed_title": e.feed_title or e.feed,
        "published": format_time(e.published, zone) if e.published else "",
        "is_update": e.update,
        "importance": "" if e.importance is Importance.NORMAL else e.importance.value,
        "edited": e.edited,
        "new_terms": list(e.new_terms),
        "labels": [{"kind": x.kind, "text": x.text} for x in labels(e.facets)],
        "matches": [
            {
                "term": m.term,
                "field": m.field,
                "matched": m.matched,
                "fuzzy": f"{m.score:.2f}" if m.score < 1 else "",
                "snippet": match_html(m),
            }
            for m in unique_matches(e.matches)
        ],
        "sources": [_source(s, title, zone) for s in ordered_sources(e)],
    }


def _source(s: StorySource, headline: str, zone: ZoneInfo) -> dict[str, Any]:
    title = s.title.strip()
    return {
        "feed_title": s.feed_title or s.feed,
        # Only when it differs: twenty copies of the wire headline say nothing new.
        "title": "" if not title or same_title(title, headline) else title,
        "link": safe_link(s.link),
        "published": format_time(s.published, zone) if s.published else "",
        "official": s.official,
    }
