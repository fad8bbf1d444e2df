"""Watchlist endpoints: preview (the backtest) and create, replace, delete.

    POST   /api/v1/watchlists/preview   what a watchlist would match in the last `days` days
    POST   /api/v1/watchlists           create (edit:watchlists)
    PUT    /api/v1/watchlists/{name}    replace (edit:watchlists)
    DELETE /api/v1/watchlists/{name}    delete (edit:watchlists)

The preview runs `alerts.backtest.run_backtest`, as `alerts backtest` does, over the items
fetched in the window; saved watchlists are changed through `WatchlistEdits`, which audits
each change in its transaction and bumps the version the running matcher watches.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from alerts.accounts.roles import Action
from alerts.api.auth import BearerAuth
from alerts.api.body import bad_field, json_object, parse_days, parse_watchlist
from alerts.api.errors import ApiError, JsonResponse
from alerts.api.views import Views, match_json, query_params, watchlist_json
from alerts.backtest import BacktestItem, BacktestReport, Caught, run_backtest, with_imported
from alerts.store.accounts import Principal
from alerts.store.repository import Store
from alerts.store.watchlist_edits import (
    FileManagedError,
    UnknownWatchlistError,
    WatchlistEditError,
    WatchlistEdits,
    WatchlistExistsError,
)

DEFAULT_DAYS = 7
MAX_DAYS = 90
MAX_PREVIEW_ITEMS = 200  # newest first; `matched` counts them all
PREVIEW_NAME = "preview"  # the name of a previewed watchlist that gives none


MAX_PREVIEWS = 2  # at once, per process
BUSY_RETRY_SECONDS = 5


class WatchlistViews:
    """The watchlist handlers; `views` answers the read-only list."""

    def __init__(
        self,
        store: Store,
        auth: BearerAuth,
        views: Views,
        edits: WatchlistEdits,
        clock: Callable[[], datetime],
    ) -> None:
        self.previews = asyncio.Semaphore(MAX_PREVIEWS)
        self.store = store
        self.auth = auth
        self.views = views
        self.edits = edits
        self.clock = clock

    async def collection(self, request: Request) -> Response:
        if request.method == "POST":
            return await self.create(request)
        return await self.views.watchlists(request)

    async def one(self, request: Request) -> Response:
        if request.method == "DELETE":
            return await self.delete(request)
        return await self.replace(request)

    async def preview(self, request: Request) -> Response:
        await self.auth.require(request, Action.READ)
        query_params(request, ())
        raw = await json_object(request)
        days = parse_days(raw, default=DEFAULT_DAYS, most=MAX_DAYS)
        raw.setdefault("name", PREVIEW_NAME)
        proposed = parse_watchlist(raw)
        until = self.clock().astimezone(UTC)
        since = until - timedelta(days=days)

        def run() -> BacktestReport:
            saved = self.store.saved_watchlist(proposed.name)
            # As `alerts backtest`: the proposal edits the config part; imports stay.
            full = with_imported(proposed, self.store.imported_entities(proposed.name))
            stored = self.store.items_since(since, until=until)
            items = [BacktestItem(s.id, s.story_key, s.fetched_at, s.as_item()) for s in stored]
            return run_backtest(items, full, saved, since=since, until=until)

        # A preview reads and matches up to 90 days of items: a few at a time, the rest are
        # told to come back rather than queued behind them.
        if self.previews.locked():
            raise ApiError(
                429,
                "busy",
                "previews are running already; try again in a few seconds",
                headers={"retry-after": str(BUSY_RETRY_SECONDS)},
            )
        async with self.previews:
            report = await run_in_threadpool(run)
        return JsonResponse(_preview(report, days))

    async def create(self, request: Request) -> Response:
        principal = await self.auth.require(request, Action.EDIT_WATCHLISTS)
        query_params(request, ())
        watchlist = parse_watchlist(await json_object(request))
        await self._edit(
            lambda: self.edits.create(watchlist, actor=_actor(principal), now=self.clock())
        )
        return await self._saved(watchlist.name, status=201)

    async def replace(self, request: Request) -> Response:
        principal = await self.auth.require(request, Action.EDIT_WATCHLISTS)
        query_params(request, ())
        name = _path_name(request)
        raw = await json_object(request)
        if raw.setdefault("name", name) != name:
            raise bad_field("name", "must be the name in the address (renaming is not supported)")
        watchlist = parse_watchlist(raw)
        await self._edit(
            lambda: self.edits.replace(watchlist, actor=_actor(principal), now=self.clock())
        )
        return await self._saved(name, status=200)

    async def delete(self, request: Request) -> Response:
        principal = await self.auth.require(request, Action.EDIT_WATCHLISTS)
        query_params(request, ())
        name = _path_name(request)
        await self._edit(lambda: self.edits.delete(name, actor=_actor(principal), now=self.clock()))
        return Response(status_code=204)

    async def _edit(self, change: Callable[[], object]) -> None:
        try:
            await run_in_threadpool(change)
        except WatchlistEditError as exc:
            raise _refusal(exc) from None

    async def _saved(self, name: str, *, status: int) -> Response:
        saved = await run_in_threadpool(self.store.saved_watchlist, name)
        if saved is None:  # deleted again meanwhile
            raise ApiError(404, "not_found", f"no watchlist named {name!r}")
        return JsonResponse(watchlist_json(saved), status_code=status)


def _refusal(exc: WatchlistEditError) -> ApiError:
    if isinstance(exc, UnknownWatchlistError):
        return ApiError(404, "not_found", exc.message)
    if isinstance(exc, FileManagedError):
        return ApiError(409, "file_managed", exc.message, field="name")
    if isinstance(exc, WatchlistExistsError):
        return ApiError(409, "already_exists", exc.message, field="name")
    return ApiError(409, "conflict", exc.message)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _caught(c: Caught) -> dict[str, Any]:
    return {
        "id": c.entry.id,
        "feed": c.entry.item.feed,
        "title": c.entry.item.title,
        "link": c.entry.item.link,
        "fetched_at": _iso(c.entry.when),
        "story_key": c.entry.story_key,
        "matches": [match_json(m) for m in c.matches],
    }


def _preview(report: BacktestReport, days: int) -> dict[str, Any]:
    return {
        "watchlist": report.watchlist,
        "days": days,
        "since": _iso(report.since),
        "until": _iso(report.until),
        "scanned": report.scanned,
        "matched": len(report.caught),
        "alerts": report.alerts,
        "per_day": [{"date": d.isoformat(), "alerts": n} for d, n in report.per_day],
        "items": [_caught(c) for c in report.caught[:MAX_PREVIEW_ITEMS]],
        "saved_exists": report.saved_exists,
        "added": [c.entry.id for c in report.added],
        "removed": [c.entry.id for c in report.removed],
    }


def _path_name(request: Request) -> str:
    """The watchlist name in the address; one no watchlist can have is a 404 at once (a NUL
    would otherwise reach PostgreSQL, which refuses it)."""
    name = str(request.path_params["name"])
    if len(name) > 200 or any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise ApiError(404, "not_found", "no watchlist has such a name")
    return name


def _actor(principal: Principal) -> str:
    """Who the audit trail names: the user, and which of their tokens made the change."""
    if principal.token_id is None:
        return principal.username
    return f"{principal.username} (token {principal.token_id})"
