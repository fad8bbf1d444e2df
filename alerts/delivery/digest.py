"""Build digests from pending entries, and serialise them for the delivery row. Pure: no I/O.

The payload written by `digest_to_payload` is what a retry sends, so it must round-trip
exactly through JSON (`digest_from_payload(json.loads(json.dumps(p))) == d`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alerts.domain import (
    AlertKind,
    Digest,
    DigestEntry,
    DigestSection,
    Importance,
    ItemFacets,
    Match,
    MatchKind,
    PendingEntry,
    StorySource,
    Subscription,
    facets_from_dict,
    facets_to_dict,
    term_key,
)

# 2: stories (sources, update lines); 3: importance, urgent, max_stories, more_url,
# recipients. Older payloads still load (the new fields take their defaults).
# Entries' `facets` (issue 6) were added within 3: a payload without them loads with empty
# facets, and a reader that predates them ignores the key, so nothing needed a new version
# (a 4 would have made a worker not yet upgraded refuse every new delivery row).
SCHEMA_VERSION = 3
# Subject lines name at most this many watchlists; the rest become "+N more".
_SUBJECT_WATCHLISTS = 3


def build_digest(
    subscription: Subscription,
    entries: Sequence[PendingEntry],
    *,
    idempotency_key: str,
    now: datetime,
    timezone: str = "UTC",
    importance: Callable[[Match], Importance] | None = None,
    urgent: bool = False,
    more_url: str = "",
    recipients: Sequence[str] = (),
) -> Digest:
    """One entry per story, grouped by the subscription's watchlists, in its order.

    `importance` rates a match (the watchlist's, or urgent for an urgent entry); a story
    takes its highest. The digest keeps every story; renderers show the subscription's
    `max_stories` and link the rest (`more_url`).

    Entries of one story (syndicated copies, the official notice, edits) become one
    `DigestEntry` listing every source, official ones first. A story the subscription
    was sent before becomes an update line (`update=True`), flagged by `new_terms` (matched
    entries it was not sent for yet) and `edited` (a publisher's edit changed the matches).
    Each story sits under the first followed watchlist any of its entries matched; entries
    with no match from a followed watchlist (the subscription changed since) are left out
    unless their story has one. New stories come first in a section, newest first
    (published, else fetched_at); then update lines.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    _check_zone(timezone)
    followed = subscription.watchlists
    stories: dict[str, list[PendingEntry]] = {}
    for entry in entries:
        stories.setdefault(entry.story_key or f"item:{entry.item_id}", []).append(entry)

    buckets: dict[str, list[tuple[bool, datetime, int, DigestEntry]]] = {n: [] for n in followed}
    for group in stories.values():
        matches = _merged_matches(group, set(followed))
        # A story is filed under its matches' first followed watchlist; a later source that
        # matches nothing itself (the official notice) under what the story was sent for.
        watchlists = {m.watchlist for m in matches} or {
            t.split("\x1f", 1)[0] for e in group if e.story_sent for t in e.sent_terms
        }
        home = next((name for name in followed if name in watchlists), None)
        if home is None:
            continue
        made = _story_entry(group, matches)
        if importance is not None and made.matches:
            made = replace(made, importance=max((importance(m) for m in made.matches), key=_rank))
        lead = next((e for e in group if e.item_id == made.item_id), group[0])
        sort_time = (lead.published or lead.fetched_at).astimezone(UTC)
        buckets[home].append((made.update, sort_time, made.item_id, made))

    sections: list[DigestSection] = []
    for name in dict.fromkeys(followed):  # a watchlist listed twice still gets one section
        rows = buckets[name]
        if not rows:
            continue
        # New stories before updates, newest first; item_id keeps rebuilds stable.
        rows.sort(key=lambda r: (not r[0], r[1], r[2]), reverse=True)
        sections.append(DigestSection(watchlist=name, entries=tuple(r[3] for r in rows)))
    return Digest(
        subscription=subscription.name,
        idempotency_key=idempotency_key,
        created_at=now.astimezone(UTC),
        sections=tuple(sections),
        timezone=timezone,
        max_stories=subscription.max_stories,
        more_url=more_url,
        urgent=urgent,
        recipients=tuple(recipients),
    )


def _rank(value: Importance) -> int:
    return value.rank


def is_news(d: Digest) -> bool:
    """Worth sending: a new story, or an update that adds a matched entry.

    An update line that only says "also reported by" waits for the next digest that
    carries news: a subscriber who has a story is never alerted again for a mere copy.
    """
    return any(not e.update or e.new_terms for s in d.sections for e in s.entries)


def _merged_matches(group: Sequence[PendingEntry], followed: set[str]) -> tuple[Match, ...]:
    merged: dict[Match, None] = {}
    for entry in group:
        for m in entry.matches:
            if m.watchlist in followed:
                merged.setdefault(m, None)
    return tuple(merged)


def _story_facets(lead: PendingEntry, group: Sequence[PendingEntry]) -> ItemFacets:
    """The story's facets: the lead's, unless another item says it is a sanctions action.

    A press headline may read as commentary while the official notice of the same story is
    clearly an action; the story is labelled by the item that says the most.
    """
    best = lead.facets
    if best.has("sanctions_action", "true"):
        return best
    for entry in group:
        if entry.facets.has("sanctions_action", "true"):
            return entry.facets
    return best


def _story_entry(group: Sequence[PendingEntry], matches: tuple[Match, ...]) -> DigestEntry:
    """The digest entry for one story's pending entries (all of one subscription)."""
    sent = any(e.story_sent for e in group) and not any(e.kind is AlertKind.NEW for e in group)
    # The headline: the earliest matched report (polls finish in any order, so the entry
    # that happened to start the story may be a later copy), else the earliest entry.
    lead = min(group, key=lambda e: (not e.matches, e.published or e.fetched_at, e.item_id))
    sent_terms = frozenset().union(*(e.sent_terms for e in group))
    new_terms: tuple[str, ...] = ()
    if sent:
        new_terms = tuple(
            dict.fromkeys(
                m.term for m in matches if term_key(m.watchlist, m.term) not in sent_terms
            )
        )
    sources = max((e.sources for e in group), key=len)
    if sent:
        # An update line names the sources it adds; the full list is in `sources`.
        also = tuple(
            dict.fromkeys(e.feed_title or e.feed for e in group if e.kind is AlertKind.MEMBER)
        )
    else:
        also = tuple(dict.fromkeys(s.feed_title for s in sources if s.feed != lead.feed))
        if not sources:
            also = lead.also_in
    return DigestEntry(
        facets=_story_facets(lead, group),
        item_id=lead.item_id,
        title=lead.title,
        link=lead.link,
        feed=lead.feed,
        feed_title=lead.feed_title,
        published=lead.published.astimezone(UTC) if lead.published else None,
        matches=matches,
        also_in=also,
        story_key=lead.story_key,
        sources=tuple(_utc_source(s) for s in sources),
        update=sent,
        # An edit made before the subscriber ever saw the story is not news to them.
        edited=sent and any(e.kind is AlertKind.UPDATE for e in group),
        new_terms=new_terms,
    )


def _utc_source(s: StorySource) -> StorySource:
    if s.published is None:
        return s
    return replace(s, published=s.published.astimezone(UTC))


def _check_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {name!r}") from exc


def digest_subject(d: Digest) -> str:
    """E.g. "Sanctions alerts: 3 new stories, 1 update (russia, iran)"; urgent sends say so."""
    if d.empty:
        return "Sanctions alerts: no new stories"
    prefix = "[Urgent] " if d.urgent else ""
    updates = sum(1 for s in d.sections for e in s.entries if e.update)
    n = d.entry_count - updates
    parts = []
    if n or not updates:
        parts.append(f"{n} new {'story' if n == 1 else 'stories'}")
    if updates:
        parts.append(f"{updates} {'update' if updates == 1 else 'updates'}")
    names = [s.watchlist for s in d.sections]
    shown = ", ".join(names[:_SUBJECT_WATCHLISTS])
    if len(names) > _SUBJECT_WATCHLISTS:
        shown += f", +{len(names) - _SUBJECT_WATCHLISTS} more"
    suffix = f" ({shown})" if shown else ""
    return f"{prefix}Sanctions alerts: {', '.join(parts)}{suffix}"


# -- payload ---------------------------------------------------------------------------


def digest_to_payload(d: Digest) -> dict[str, Any]:
    """The digest as JSON-safe data (datetimes as ISO 8601 UTC strings)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "subscription": d.subscription,
        "idempotency_key": d.idempotency_key,
        "created_at": _dt_out(d.created_at),
        "timezone": d.timezone,
        "max_stories": d.max_stories,
        "more_url": d.more_url,
        "urgent": d.urgent,
        "recipients": list(d.recipients),
        "notice": d.notice,
        "sections": [
            {
                "watchlist": s.watchlist,
                "entries": [
                    {
                        "item_id": e.item_id,
                        "title": e.title,
                        "link": e.link,
                        "feed": e.feed,
                        "feed_title": e.feed_title,
                        "published": _dt_out(e.published) if e.published else None,
                        "also_in": list(e.also_in),
                        "matches": [match_to_payload(m) for m in e.matches],
                        "story_key": e.story_key,
                        "sources": [_source_out(x) for x in e.sources],
                        "update": e.update,
                        "edited": e.edited,
                        "new_terms": list(e.new_terms),
                        "importance": e.importance.value,
                        # Left out when empty: such an entry keeps its pre-facets shape.
                        **({"facets": facets_to_dict(e.facets)} if _has_facets(e) else {}),
                    }
                    for e in s.entries
                ],
            }
            for s in d.sections
        ],
    }


def match_to_payload(m: Match) -> dict[str, Any]:
    """One match as JSON-safe data (also the `alerts match --json` shape)."""
    return {
        "watchlist": m.watchlist,
        "term": m.term,
        "field": m.field,
        "start": m.start,
        "end": m.end,
        "snippet": m.snippet,
        "kind": m.kind.value,
        "matched": m.matched,
        "score": m.score,
        "highlight": list(m.highlight) if m.highlight is not None else None,
    }


def match_from_payload(m: Mapping[str, Any]) -> Match:
    """Inverse of `match_to_payload`; payloads written before matches had kinds still load."""
    highlight = m.get("highlight")
    return Match(
        watchlist=str(m["watchlist"]),
        term=str(m["term"]),
        field=str(m["field"]),
        start=int(m["start"]),
        end=int(m["end"]),
        snippet=str(m["snippet"]),
        kind=MatchKind(m.get("kind", MatchKind.TERM.value)),
        matched=str(m.get("matched", "")),
        score=float(m.get("score", 1.0)),
        highlight=(int(highlight[0]), int(highlight[1])) if highlight else None,
    )


def digest_from_payload(p: Mapping[str, Any]) -> Digest:
    """Inverse of `digest_to_payload`; ValueError on an unknown version or a malformed payload."""
    version = p.get("schema_version")
    if version not in (1, 2, SCHEMA_VERSION):
        raise ValueError(f"unsupported digest payload schema_version {version!r}")
    try:
        return Digest(
            subscription=str(p["subscription"]),
            idempotency_key=str(p["idempotency_key"]),
            created_at=_dt_in(p["created_at"]),
            timezone=str(p.get("timezone", "UTC")),
            max_stories=int(p.get("max_stories", 0)),
            more_url=str(p.get("more_url", "")),
            urgent=bool(p.get("urgent", False)),
            recipients=tuple(str(r) for r in p.get("recipients", ())),
            notice=bool(p.get("notice", False)),
            sections=tuple(
                DigestSection(
                    watchlist=str(s["watchlist"]),
                    entries=tuple(_entry_in(e) for e in s["entries"]),
                )
                for s in p["sections"]
            ),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"malformed digest payload: {exc!r}") from exc


def _entry_in(e: Mapping[str, Any]) -> DigestEntry:
    return DigestEntry(
        item_id=int(e["item_id"]),
        title=str(e["title"]),
        link=e["link"],
        feed=str(e["feed"]),
        feed_title=str(e["feed_title"]),
        published=_dt_in(e["published"]) if e["published"] is not None else None,
        also_in=tuple(str(x) for x in e["also_in"]),
        matches=tuple(match_from_payload(m) for m in e["matches"]),
        story_key=str(e.get("story_key", "")),
        sources=tuple(_source_in(x) for x in e.get("sources", ())),
        update=bool(e.get("update", False)),
        edited=bool(e.get("edited", False)),
        new_terms=tuple(str(x) for x in e.get("new_terms", ())),
        importance=Importance(e.get("importance", Importance.NORMAL.value)),
        # Display only: anything unreadable gives no labels rather than an unsendable row.
        facets=facets_from_dict(e.get("facets")),
    )


def _has_facets(e: DigestEntry) -> bool:
    return bool(e.facets.values or e.facets.reasons)


def _source_out(s: StorySource) -> dict[str, Any]:
    return {
        "item_id": s.item_id,
        "feed": s.feed,
        "feed_title": s.feed_title,
        "title": s.title,
        "link": s.link,
        "published": _dt_out(s.published) if s.published else None,
        "official": s.official,
    }


def _source_in(s: Mapping[str, Any]) -> StorySource:
    return StorySource(
        item_id=int(s["item_id"]),
        feed=str(s["feed"]),
        feed_title=str(s["feed_title"]),
        title=str(s["title"]),
        link=s["link"],
        published=_dt_in(s["published"]) if s["published"] is not None else None,
        official=bool(s["official"]),
    )


def _dt_out(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat()


def _dt_in(value: str) -> datetime:
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        raise ValueError(f"naive datetime in digest payload: {value!r}")
    return dt.astimezone(UTC)
