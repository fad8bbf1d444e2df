"""The v1 endpoints: query parameters in, JSON out.

Each handler checks the token first, then its query parameters (an unknown or repeated
parameter is refused, so a typo such as `limt=5` is not silently ignored), then reads the
store in a worker thread. Feed text goes out as JSON strings, never as markup.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from alerts.accounts.roles import Action
from alerts.api.auth import BearerAuth
from alerts.api.errors import JsonResponse, bad_parameter
from alerts.api.pagination import decode_cursor, encode_cursor, parse_limit
from alerts.domain import (
    DeliveryStatus,
    DesignationRecord,
    FeedState,
    Match,
    Watchlist,
    facets_to_dict,
)
from alerts.store.reads import DeliveryView, ItemRecord, Reads, SourceKind
from alerts.store.repository import Store

MAX_NAME_LENGTH = 200  # feed and subscription names: String(200) in the store
MAX_DATETIME_LENGTH = 40
# Control characters have no place in a name, and PostgreSQL refuses NUL outright.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_T = TypeVar("_T")


class Views:
    """The handlers and what they share."""

    def __init__(self, store: Store, auth: BearerAuth) -> None:
        self.store = store
        self.reads = Reads(store)
        self.auth = auth

    async def sources(self, request: Request) -> Response:
        await self.auth.require(request, Action.READ)
        query_params(request, ())
        states = await run_in_threadpool(self.store.feed_states)
        kinds = await run_in_threadpool(self.reads.source_kinds)
        return JsonResponse({"data": [_source(s, kinds.get(s.name)) for s in states]})

    async def watchlists(self, request: Request) -> Response:
        await self.auth.require(request, Action.READ)
        query_params(request, ())
        watchlists = await run_in_threadpool(self.store.load_watchlists)
        return JsonResponse({"data": [watchlist_json(w) for w in watchlists]})

    async def items(self, request: Request) -> Response:
        await self.auth.require(request, Action.READ)
        query = query_params(request, ("feed", "since", "limit", "cursor"))
        feed = _name(query, "feed")
        since = _datetime(query, "since")
        limit = parse_limit(query.get("limit"))
        before = decode_cursor(query.get("cursor"))

        def read() -> list[ItemRecord]:
            # One row more than asked: whether another page exists, without a count.
            return self.reads.items_page(limit=limit + 1, feed=feed, since=since, before_id=before)

        rows = await run_in_threadpool(read)
        page, next_cursor = _page(rows, limit, lambda r: r.item.id)
        return JsonResponse({"data": [_item(r) for r in page], "next_cursor": next_cursor})

    async def deliveries(self, request: Request) -> Response:
        await self.auth.require(request, Action.READ)
        query = query_params(request, ("status", "subscription", "limit", "cursor"))
        status = _status(query)
        subscription = _name(query, "subscription")
        limit = parse_limit(query.get("limit"))
        before = decode_cursor(query.get("cursor"))

        def read() -> list[DeliveryView]:
            return self.reads.deliveries_page(
                limit=limit + 1, status=status, subscription=subscription, before_id=before
            )

        rows = await run_in_threadpool(read)
        page, next_cursor = _page(rows, limit, lambda r: r.id)
        return JsonResponse({"data": [_delivery(r) for r in page], "next_cursor": next_cursor})


# -- query parameters --------------------------------------------------------------------
def query_params(request: Request, allowed: Collection[str]) -> dict[str, str]:
    """The query parameters, each at most once and each one `allowed`."""
    found: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key not in allowed:
            names = ", ".join(allowed) or "none"
            raise bad_parameter(
                key[:MAX_NAME_LENGTH],
                f"unknown query parameter {key[:MAX_NAME_LENGTH]!r} (this endpoint takes: {names})",
                "unknown_parameter",
            )
        if key in found:
            raise bad_parameter(key, f"{key} may be given only once", "repeated_parameter")
        found[key] = value
    return found


def _name(query: dict[str, str], field: str) -> str | None:
    value = query.get(field)
    if value is None:
        return None
    if not value or len(value) > MAX_NAME_LENGTH or _CONTROL.search(value):
        raise bad_parameter(
            field, f"{field} must be 1 to {MAX_NAME_LENGTH} characters, without control characters"
        )
    return value


def _datetime(query: dict[str, str], field: str) -> datetime | None:
    value = query.get(field)
    if value is None:
        return None
    hint = (
        f"{field} must be an ISO 8601 date and time with an offset, e.g. 2026-03-01T12:00:00Z "
        "(write '+' as %2B in a URL)"
    )
    if len(value) > MAX_DATETIME_LENGTH:
        raise bad_parameter(field, hint)
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            raise bad_parameter(field, hint)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise bad_parameter(field, hint) from None


def _status(query: dict[str, str]) -> DeliveryStatus | None:
    value = query.get("status")
    if value is None:
        return None
    try:
        return DeliveryStatus(value)
    except ValueError:
        choices = ", ".join(s.value for s in DeliveryStatus)
        raise bad_parameter("status", f"status must be one of: {choices}") from None


def _page(rows: list[_T], limit: int, key: Callable[[_T], int]) -> tuple[list[_T], str | None]:
    """The first `limit` rows, and the cursor of the next page when there are more."""
    if len(rows) <= limit:
        return rows, None
    page = rows[:limit]
    return page, encode_cursor(key(page[-1]))


# -- JSON shapes (documented in openapi.py) -------------------------------------------------
def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def _source(state: FeedState, kind: SourceKind | None) -> dict[str, Any]:
    return {
        "name": state.name,
        "title": state.title,
        "kind": kind.kind if kind else "feed",
        "issuer": kind.issuer if kind else "",
        "url": state.url,
        "enabled": state.enabled,
        "official": state.official,
        "interval_seconds": int(state.interval.total_seconds()),
        "last_success_at": _iso(state.last_success_at),
        "last_error_at": _iso(state.last_error_at),
        "last_error": state.last_error,
        "error_streak": state.error_count,
        "next_poll_at": _iso(state.next_poll_at),
        "item_count": state.item_count,
        "anomalies": list(state.anomalies),
    }


def watchlist_json(w: Watchlist) -> dict[str, Any]:
    return {
        "name": w.name,
        "description": w.description,
        "importance": w.importance.value,
        "terms": list(w.terms),
        "queries": list(w.queries),
        "regexes": list(w.regexes),
        "entities_count": len(w.entities),
        "exclusions": list(w.exclude),
        "urgent": list(w.urgent),
    }


def match_json(m: Match) -> dict[str, Any]:
    return {
        "watchlist": m.watchlist,
        "term": m.term,
        "kind": m.kind.value,
        "field": m.field,
        "matched": m.matched,
        "snippet": m.snippet,
        "highlight": list(m.highlight) if m.highlight is not None else None,
        "score": m.score,
    }


def _designation(d: DesignationRecord | None) -> dict[str, Any] | None:
    if d is None:
        return None
    # Every key always present (the stored form leaves empty ones out).
    return {
        "list": d.list,
        "id": d.id,
        "action": d.action,
        "kind": d.kind,
        "name": d.name,
        "aliases": list(d.aliases),
        "weak_aliases": list(d.weak_aliases),
        "programmes": list(d.programmes),
        "changed": list(d.changed),
        "listed": d.listed,
    }


def _item(record: ItemRecord) -> dict[str, Any]:
    item = record.item
    return {
        "id": item.id,
        "feed": item.feed,
        "title": item.title,
        "summary": item.summary,
        "link": item.link,
        "canonical_url": item.canonical_url,
        "guid": item.guid,
        "published_at": _iso(item.published_at),
        "fetched_at": _iso(item.fetched_at),
        "authors": list(item.authors),
        "tags": list(item.tags),
        "story_key": item.story_key,
        "story_reason": item.story_reason,
        "revision": item.revision,
        "facets": facets_to_dict(record.facets),
        "designation": _designation(record.designation),
        "matches": [match_json(m) for m in item.matches],
    }


def _delivery(d: DeliveryView) -> dict[str, Any]:
    return {
        "id": d.id,
        "kind": d.kind,
        "subscription": d.subscription,
        "channel": d.channel,
        "status": d.status.value,
        "attempts": d.attempts,
        "last_status": d.last_status,
        "last_error": d.last_error,
        "created_at": _iso(d.created_at),
        "sent_at": _iso(d.sent_at),
        "next_attempt_at": _iso(d.next_attempt_at),
        "entry_count": d.entry_count,
        "attempt_log": [
            {
                "attempt": a.attempt,
                "started_at": _iso(a.started_at),
                "latency_ms": a.latency_ms,
                "outcome": a.outcome,
                "status": a.status,
                "error": a.error,
            }
            for a in d.attempt_log
        ],
    }
