"""The API's Starlette application (mounted at `/api` by `alerts.web.create_app`).

    GET /api/v1/sources         every source with its health
    GET /api/v1/watchlists      every enabled watchlist
    POST /api/v1/watchlists/preview         what a watchlist would match (the backtest)
    POST /api/v1/watchlists                 create a watchlist (edit:watchlists)
    PUT|DELETE /api/v1/watchlists/{name}    replace or delete one (edit:watchlists)
    GET /api/v1/items           items, newest stored first, with matches (paged)
    GET /api/v1/deliveries      deliveries, newest first, with attempts (paged)
    GET /api/v1/openapi.json    the OpenAPI 3.1 document (also at /api/openapi.json)

Everything it answers is JSON, errors included: an unknown path under /api is a JSON 404,
a wrong method a JSON 405 with `Allow`, a database outage a 503 with `Retry-After`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from alerts.api.auth import BearerAuth
from alerts.api.errors import DEFAULT_CODES, ApiError, JsonResponse, error_response
from alerts.api.openapi import DOCUMENT
from alerts.api.views import Views, query_params
from alerts.api.watchlists import WatchlistViews
from alerts.errors import StoreError
from alerts.logs import event, get_logger
from alerts.store.accounts import Accounts
from alerts.store.repository import Store
from alerts.store.watchlist_edits import WatchlistEdits

log = get_logger("api")
RETRY_AFTER_SECONDS = 60
_MESSAGES = {
    404: "there is nothing at this address; see /api/openapi.json",
    405: "this address does not take that method",
    413: "the request is too large",
}


def _utc_now() -> datetime:
    return datetime.now(UTC)


def create_api(
    store: Store,
    *,
    clock: Callable[[], datetime] = _utc_now,
    file_managed: Collection[str] = (),
) -> Starlette:
    """The API over `store`; `clock` decides when tokens expire and stamps changes.

    `file_managed` names the watchlists the config file declares (rejected ones included):
    the API refuses to change those, as the next sync would overwrite the change.
    """
    auth = BearerAuth(Accounts(store), clock)
    views = Views(store, auth)
    edits = WatchlistEdits(store, file_managed=file_managed)
    watchlists = WatchlistViews(store, auth, views, edits, clock)
    routes = [
        Route("/v1/sources", views.sources, methods=["GET"]),
        Route("/v1/watchlists", watchlists.collection, methods=["GET", "POST"]),
        Route("/v1/watchlists/preview", watchlists.preview, methods=["POST"]),
        Route("/v1/watchlists/{name}", watchlists.one, methods=["PUT", "DELETE"]),
        Route("/v1/items", views.items, methods=["GET"]),
        Route("/v1/deliveries", views.deliveries, methods=["GET"]),
        Route("/v1/openapi.json", _openapi, methods=["GET"]),
        Route("/openapi.json", _openapi, methods=["GET"]),
    ]
    return Starlette(
        routes=routes,
        exception_handlers={
            ApiError: _api_error,
            HTTPException: _http_error,
            StoreError: _store_error,
            Exception: _server_error,
        },
    )


async def _openapi(request: Request) -> Response:
    query_params(request, ())
    return JsonResponse(DOCUMENT)


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    headers = {k.lower(): v for k, v in (exc.headers or {}).items()}
    allow = {"allow": headers["allow"]} if "allow" in headers else None
    message = _MESSAGES.get(status, "the request was not understood")
    return error_response(
        ApiError(status, DEFAULT_CODES.get(status, "bad_request"), message, headers=allow)
    )


async def _store_error(request: Request, exc: Exception) -> Response:
    event(log, "api_store_error", error=str(exc))
    return error_response(
        ApiError(
            503,
            "unavailable",
            "the service cannot reach its database just now; try again in a minute",
            headers={"retry-after": str(RETRY_AFTER_SECONDS)},
        )
    )


async def _server_error(request: Request, exc: Exception) -> Response:
    # Starlette logs and re-raises it after this answer; the body says nothing of it.
    return error_response(ApiError(500, "internal_error", "the service could not answer"))
