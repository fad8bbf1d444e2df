"""Build digests from pending entries, and serialise them for the delivery row. Pure: no I/O.

The payload written by `digest_to_payload` is what a retry sends, so it must round-trip
exactly through JSON (`digest_from_payload(json.loads(json.dumps(p))) == d`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from alerts.domain import (
    Digest,
    DigestEntry,
    DigestSection,
    Match,
    MatchKind,
    PendingEntry,
    Subscription,
)

SCHEMA_VERSION = 1
# Subject lines name at most this many watchlists; the rest become "+N more".
_SUBJECT_WATCHLISTS = 3


def build_digest(
    subscription: Subscription,
    entries: Sequence[PendingEntry],
    *,
    idempotency_key: str,
    now: datetime,
    timezone: str = "UTC",
) -> Digest:
    """Group `entries` by the subscription's watchlists, in the subscription's order.

    Each item appears once, under the first followed watchlist that matched it; its
    `matches` keep every match from followed watchlists. Entries with no match from a
    followed watchlist (e.g. the subscription changed since they were queued) are left out.
    Newest first within a section (published, else fetched_at); empty sections are omitted.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    _check_zone(timezone)
    followed = subscription.watchlists
    # The same item may be queued more than once (e.g. matched again after an edit): merge.
    by_item: dict[int, PendingEntry] = {}
    for entry in entries:
        previous = by_item.get(entry.item_id)
        if previous is None:
            by_item[entry.item_id] = entry
        else:
            merged = previous.matches + tuple(m for m in entry.matches if m not in previous.matches)
            by_item[entry.item_id] = replace(previous, matches=merged)

    buckets: dict[str, list[tuple[datetime, PendingEntry, tuple[Match, ...]]]] = {
        name: [] for name in followed
    }
    for entry in by_item.values():
        matches = tuple(m for m in entry.matches if m.watchlist in buckets)
        if not matches:
            continue
        home = next(name for name in followed if any(m.watchlist == name for m in matches))
        sort_time = (entry.published or entry.fetched_at).astimezone(UTC)
        buckets[home].append((sort_time, entry, matches))

    sections: list[DigestSection] = []
    for name in dict.fromkeys(followed):  # a watchlist listed twice still gets one section
        rows = buckets[name]
        if not rows:
            continue
        # item_id breaks ties so the order is stable across rebuilds.
        rows.sort(key=lambda r: (r[0], r[1].item_id), reverse=True)
        sections.append(
            DigestSection(
                watchlist=name,
                entries=tuple(_to_digest_entry(entry, matches) for _, entry, matches in rows),
            )
        )
    return Digest(
        subscription=subscription.name,
        idempotency_key=idempotency_key,
        created_at=now.astimezone(UTC),
        sections=tuple(sections),
        timezone=timezone,
    )


def _to_digest_entry(entry: PendingEntry, matches: tuple[Match, ...]) -> DigestEntry:
    return DigestEntry(
        item_id=entry.item_id,
        title=entry.title,
        link=entry.link,
        feed=entry.feed,
        feed_title=entry.feed_title,
        published=entry.published.astimezone(UTC) if entry.published else None,
        matches=matches,
        also_in=entry.also_in,
    )


def _check_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown IANA time zone {name!r}") from exc


def digest_subject(d: Digest) -> str:
    """E.g. "Sanctions alerts: 3 new stories (russia, iran)"."""
    n = d.entry_count
    noun = "story" if n == 1 else "stories"
    names = [s.watchlist for s in d.sections]
    shown = ", ".join(names[:_SUBJECT_WATCHLISTS])
    if len(names) > _SUBJECT_WATCHLISTS:
        shown += f", +{len(names) - _SUBJECT_WATCHLISTS} more"
    suffix = f" ({shown})" if shown else ""
    return f"Sanctions alerts: {n} new {noun}{suffix}"


# -- payload ---------------------------------------------------------------------------


def digest_to_payload(d: Digest) -> dict[str, Any]:
    """The digest as JSON-safe data (datetimes as ISO 8601 UTC strings)."""
    return {
        "schema_version": SCHEMA_VERSION,
        "subscription": d.subscription,
        "idempotency_key": d.idempotency_key,
        "created_at": _dt_out(d.created_at),
        "timezone": d.timezone,
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
    if version != SCHEMA_VERSION:
        raise ValueError(f"unsupported digest payload schema_version {version!r}")
    try:
        return Digest(
            subscription=str(p["subscription"]),
            idempotency_key=str(p["idempotency_key"]),
            created_at=_dt_in(p["created_at"]),
            timezone=str(p.get("timezone", "UTC")),
            sections=tuple(
                DigestSection(
                    watchlist=str(s["watchlist"]),
                    entries=tuple(_entry_in(e) for e in s["entries"]),
                )
                for s in p["sections"]
            ),
        )
    except (KeyError, TypeError) as exc:
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
    )


def _dt_out(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat()


def _dt_in(value: str) -> datetime:
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        raise ValueError(f"naive datetime in digest payload: {value!r}")
    return dt.astimezone(UTC)
