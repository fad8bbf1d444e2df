"""The web side for subscribers: subscribe, confirm, unsubscribe, and full digests.

    GET  /healthz              "ok" (plain text)
    GET  /subscribe            the form (404 when self-service is off)
    POST /subscribe            400 with a message by each bad field, else "check your inbox"
    GET  /confirm/{token}      what would be confirmed, with a button; changes nothing
    POST /confirm/{token}      activates the subscription (double opt-in)
    GET  /unsubscribe/{token}  a page with a button; changes nothing
    POST /unsubscribe/{token}  unsubscribes: RFC 8058 one-click posts and the page's button
    GET  /digests/{token}      the full digest
    GET  /assets/site.css      the pages' stylesheet
         /api/...              the JSON API when given (alerts.api)
         /console/...          the operators' console when given (alerts.console)

GET never changes anything: mail scanners and link previews fetch every link in a message.
The signed token is the only authority for confirming and unsubscribing (RFC 8058 posts
carry no cookies), so there are no sessions and no CSRF tokens. A bad token gets a 400 page
saying only that the link is not valid; no input leads to a 500.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.body_limit import RequestBodyLimitMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from alerts.delivery.digest import digest_from_payload
from alerts.delivery.links import CONFIRM, DIGEST, UNSUBSCRIBE, Links
from alerts.delivery.schedule import check_zone
from alerts.delivery.tokens import TokenError, read_token
from alerts.domain import SubscriptionOrigin
from alerts.errors import StoreError
from alerts.logs import event, get_logger
from alerts.store.repository import Store
from alerts.store.subscribers import (
    MAX_ADDRESS_LENGTH,
    ConfirmOutcome,
    Preferences,
    Subscribers,
    SubscriptionStatus,
    SubscriptionView,
    UnsubscribeOutcome,
    normalise_address,
    self_subscription_name,
)
from alerts.web.digests import digest_page_view
from alerts.web.forms import (
    DEFAULT_SCHEDULE,
    SCHEDULE_CHOICES,
    SubscribeForm,
    offered_schedules,
    read_subscribe_form,
)
from alerts.web.headers import SecurityHeaders
from alerts.web.pages import STYLESHEET_PATH, Link, Pages

log = get_logger("web")

# Confirmation links are short-lived; unsubscribe links never expire (RFC 8058 expects the
# header of an old message to keep working) and neither do full-digest links.
CONFIRM_MAX_AGE = timedelta(days=7)
# The largest form we take: a subscribe form is a few hundred bytes.
MAX_BODY_BYTES = 64 * 1024
RETRY_AFTER_SECONDS = 60


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _BodyLimitOutsideApi:
    """The site's body limit, except under /api: the API limits bodies itself and answers
    with its JSON error object, which a plain-text 413 from here would pre-empt."""

    def __init__(self, app: ASGIApp, *, max_body_size: int) -> None:
        self.app = app
        self.limited = RequestBodyLimitMiddleware(app, max_body_size=max_body_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", "")) if scope["type"] == "http" else ""
        if path == "/api" or path.startswith("/api/"):
            await self.app(scope, receive, send)
        else:
            await self.limited(scope, receive, send)


class BadLink(Exception):
    """A token that is malformed, forged, for another purpose, or (`expired`) too old."""

    def __init__(self, *, expired: bool = False) -> None:
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def create_app(
    *,
    store: Store,
    links: Links,
    watchlists: Sequence[str],
    default_timezone: str,
    clock: Callable[[], datetime] = _utc_now,
    self_service: bool = True,
    api: Starlette | None = None,
    console: Starlette | None = None,
) -> Starlette:
    """The ASGI app. `watchlists` are those offered on the form (none: no form); `api`
    (the JSON API, `alerts.api.create_api`) is mounted at /api and `console` (the
    operators' console, `alerts.console.create_console`) at /console when given.

    Raises ScheduleError (a ValueError) when `default_timezone` is not an IANA zone.
    """
    check_zone(default_timezone)
    pages = Pages()
    site = _Site(
        subscribers=Subscribers(store),
        links=links,
        watchlists=tuple(dict.fromkeys(watchlists)),
        default_timezone=default_timezone,
        clock=clock,
        pages=pages,
        self_service=self_service,
    )
    routes: list[BaseRoute] = [
        Route("/healthz", site.healthz, methods=["GET"]),
        Route(STYLESHEET_PATH, site.stylesheet, methods=["GET"]),
        _page("/confirm/{token}", site.confirm_page, site.confirm),
        _page("/unsubscribe/{token}", site.unsubscribe_page, site.unsubscribe),
        Route("/digests/{token}", site.digest, methods=["GET"]),
    ]
    if site.offers_form:
        routes += [
            Route("/", site.home, methods=["GET"]),
            _page("/subscribe", site.subscribe_page, site.subscribe),
        ]
    if api is not None:
        # Its own exception handlers answer in JSON, 404s and 405s under /api included.
        routes.append(Mount("/api", app=api))
    if console is not None:
        # Its own exception handlers answer with console pages (403 for a bad CSRF token).
        routes.append(Mount("/console", app=console))
    return Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders, error_page=site.server_error_page),
            # Inside SecurityHeaders, so its own 413 answers get the headers too.
            Middleware(_BodyLimitOutsideApi, max_body_size=MAX_BODY_BYTES),
        ],
        exception_handlers={
            BadLink: site.bad_link,
            HTTPException: site.http_error,
            StoreError: site.store_error,
        },
    )


class _Site:
    """The route handlers and what they share."""

    def __init__(
        self,
        *,
        subscribers: Subscribers,
        links: Links,
        watchlists: tuple[str, ...],
        default_timezone: str,
        clock: Callable[[], datetime],
        pages: Pages,
        self_service: bool,
    ) -> None:
        self.subscribers = subscribers
        self.links = links
        self.watchlists = watchlists
        self.default_timezone = default_timezone
        self.clock = clock
        self.pages = pages
        self.schedules = offered_schedules(default_timezone)
        self.offers_form = bool(self_service and watchlists and self.schedules)

    # -- plumbing --------------------------------------------------------------------
    def _read(
        self, purpose: str, request: Request, *, parts: int, max_age: timedelta | None = None
    ) -> tuple[str, ...]:
        """The parts of the path's token; raises BadLink."""
        token = str(request.path_params["token"])
        now = self.clock()
        try:
            values = read_token(self.links.key, purpose, token, now=now)
        except TokenError:
            raise BadLink() from None
        if len(values) != parts or not all(values):
            raise BadLink()
        if max_age is not None:
            # Asked apart from the signature, so only the holder of a genuine link hears
            # that it expired.
            try:
                read_token(self.links.key, purpose, token, now=now, max_age=max_age)
            except TokenError:
                raise BadLink(expired=True) from None
        return values

    def _home_link(self, request: Request) -> Link | None:
        if not self.offers_form:
            return None
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return Link(f"{root}/subscribe", "Subscribe again")

    def _schedule_label(self, prefs: Preferences) -> str:
        label = dict(SCHEDULE_CHOICES).get(prefs.schedule, prefs.schedule)
        return f"{label} ({prefs.timezone or self.default_timezone} time)"

    def _unknown(self, request: Request) -> Response:
        return self.pages.message(
            request,
            "Subscription not found",
            "We could not find the subscription this link belongs to. "
            "It may have been removed; you will get no messages from it.",
            status_code=404,
        )

    def _unsubscribed_since(self, request: Request) -> Response:
        return self.pages.message(
            request,
            "You unsubscribed",
            "This address has unsubscribed since this link was sent, so there is nothing "
            "to confirm. To get alerts again, subscribe again.",
            status_code=410,
            link=self._home_link(request),
        )

    # -- error pages -----------------------------------------------------------------
    async def bad_link(self, request: Request, exc: Exception) -> Response:
        if isinstance(exc, BadLink) and exc.expired:
            return self.pages.message(
                request,
                "This link has expired",
                "Confirmation links work for 7 days. Fill in the form again to get a new one.",
                status_code=400,
                link=self._home_link(request),
            )
        return self.pages.message(
            request,
            "This link is not valid",
            "The link may be incomplete: some mail programs break long links over two "
            "lines. Copy the whole link from the message into the address bar, or use "
            "the button in the message.",
            status_code=400,
        )

    async def http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        titles = {
            404: ("Page not found", "There is no page at this address."),
            405: ("Not allowed", "This page cannot be used that way."),
            413: ("Too much data", "The form sent more data than this page takes."),
        }
        title, text = titles.get(exc.status_code, ("Request not understood", "Please try again."))
        allow = {k.lower(): v for k, v in (exc.headers or {}).items()}.get("allow")
        headers = {"allow": allow} if allow else None
        return self.pages.message(
            request, title, text, status_code=exc.status_code, headers=headers
        )

    async def store_error(self, request: Request, exc: Exception) -> Response:
        event(log, "web_store_error", error=str(exc))
        return self.pages.message(
            request,
            "Please try again in a minute",
            "The service cannot reach its database just now. Nothing was changed.",
            status_code=503,
            headers={"retry-after": str(RETRY_AFTER_SECONDS)},
        )

    def server_error_page(self, request: Request) -> Response:
        return self.pages.message(
            request,
            "Something went wrong",
            "The service could not answer this request. Please try again later.",
            status_code=500,
        )

    # -- routes ----------------------------------------------------------------------
    async def healthz(self, request: Request) -> Response:
        return PlainTextResponse("ok")

    async def stylesheet(self, request: Request) -> Response:
        return self.pages.stylesheet_response()

    async def home(self, request: Request) -> Response:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return RedirectResponse(f"{root}/subscribe", status_code=303)

    def _form_page(self, request: Request, form: SubscribeForm, status_code: int = 200) -> Response:
        return self.pages.render(
            request,
            "subscribe.html.j2",
            status_code=status_code,
            form=form,
            watchlists=self.watchlists,
            schedules=self.schedules,
            default_timezone=self.default_timezone,
            max_address_length=MAX_ADDRESS_LENGTH,
        )

    async def subscribe_page(self, request: Request) -> Response:
        offered = [spec for spec, _ in self.schedules]
        schedule = DEFAULT_SCHEDULE if DEFAULT_SCHEDULE in offered else offered[0]
        single = self.watchlists if len(self.watchlists) == 1 else ()
        return self._form_page(request, SubscribeForm(watchlists=single, schedule=schedule))

    async def subscribe(self, request: Request) -> Response:
        async with request.form() as data:
            form = read_subscribe_form(
                _text(data, "email"),
                [v for v in data.getlist("watchlist") if isinstance(v, str)],
                _text(data, "schedule"),
                _text(data, "timezone"),
                known_watchlists=self.watchlists,
                schedules=self.schedules,
                default_timezone=self.default_timezone,
            )
        if not form.valid:
            return self._form_page(request, form, status_code=400)
        now = self.clock()
        name = self_subscription_name(form.address)
        message = {
            "to": form.address,
            "subscription": name,
            "confirm_url": self.links.confirm(name, form.address, issued=now),
        }
        outcome = await run_in_threadpool(
            self.subscribers.subscribe,
            form.address,
            form.watchlists,
            schedule=form.schedule,
            timezone=form.timezone or self.default_timezone,
            now=now,
            confirm_message=message,
        )
        # The result is logged, never shown: the page must not tell who is subscribed.
        event(log, "web_subscribe", result=outcome.result.value)
        return self.pages.message(
            request,
            "Check your inbox",
            f"If {form.address} can receive email, a message with a confirmation link is on "
            "its way. Open it and press “Confirm” to start your alerts: nothing is sent "
            "before you do.",
            "The link works for 7 days. If no message arrives within a few minutes, look in "
            "your spam folder.",
        )

    async def confirm_page(self, request: Request) -> Response:
        name, address = self._read(CONFIRM, request, parts=2, max_age=CONFIRM_MAX_AGE)
        view = await run_in_threadpool(self.subscribers.subscription_status, name)
        if view is None or not _self_service_of(view, address):
            return self._unknown(request)
        if view.status is SubscriptionStatus.UNSUBSCRIBED:
            return self._unsubscribed_since(request)
        if view.status is SubscriptionStatus.ACTIVE and view.requested is None:
            return self.pages.message(
                request,
                "Already confirmed",
                f"Alerts for {address} are on; there is nothing left to confirm.",
            )
        prefs = view.requested or view.preferences
        return self.pages.render(
            request,
            "confirm.html.j2",
            address=address,
            change=view.status is SubscriptionStatus.ACTIVE,
            watchlists=prefs.watchlists,
            schedule=self._schedule_label(prefs),
        )

    async def confirm(self, request: Request) -> Response:
        name, address = self._read(CONFIRM, request, parts=2, max_age=CONFIRM_MAX_AGE)
        outcome = await run_in_threadpool(self.subscribers.confirm, name, address, now=self.clock())
        event(log, "web_confirm", outcome=outcome.value)
        if outcome is ConfirmOutcome.UNKNOWN:
            return self._unknown(request)
        if outcome is ConfirmOutcome.UNSUBSCRIBED:
            return self._unsubscribed_since(request)
        if outcome is ConfirmOutcome.UPDATED:
            return self.pages.message(
                request, "Changes saved", f"Your new alert settings for {address} are in force."
            )
        if outcome is ConfirmOutcome.ALREADY_ACTIVE:
            return self.pages.message(
                request,
                "Already confirmed",
                f"Alerts for {address} are on; there is nothing left to confirm.",
            )
        return self.pages.message(
            request,
            "Subscription confirmed",
            f"Alerts will go to {address}. Every message has a link to unsubscribe.",
        )

    async def unsubscribe_page(self, request: Request) -> Response:
        name, address = self._read(UNSUBSCRIBE, request, parts=2)
        view = await run_in_threadpool(self.subscribers.subscription_status, name)
        if view is None:
            return self._unknown(request)
        if view.email and normalise_address(view.email) == address:
            done = view.status is SubscriptionStatus.UNSUBSCRIBED
        elif view.channel:
            done = address in await run_in_threadpool(self.subscribers.opted_out, name)
        else:
            return self._unknown(request)
        return self.pages.render(
            request,
            "unsubscribe.html.j2",
            address=address,
            subscription=name if view.channel else "",
            watchlists=view.preferences.watchlists,
            done=done,
        )

    async def unsubscribe(self, request: Request) -> Response:
        # The body (`List-Unsubscribe=One-Click` from a mail provider, the same field from
        # our page) is not needed: the token says who and what. RFC 8058 wants a plain
        # answer here, never a redirect.
        name, address = self._read(UNSUBSCRIBE, request, parts=2)
        outcome = await run_in_threadpool(
            self.subscribers.unsubscribe, name, address, now=self.clock()
        )
        event(log, "web_unsubscribe", outcome=outcome.value)
        if outcome is UnsubscribeOutcome.UNKNOWN:
            return self._unknown(request)
        if outcome is UnsubscribeOutcome.ALREADY_UNSUBSCRIBED:
            return self.pages.message(
                request,
                "Already unsubscribed",
                f"{address} was already unsubscribed from these alerts. Nothing more will be sent.",
            )
        return self.pages.message(
            request,
            "You are unsubscribed",
            f"No more of these alerts will be sent to {address}. A message already on its "
            "way may still arrive.",
        )

    async def digest(self, request: Request) -> Response:
        (key,) = self._read(DIGEST, request, parts=1)
        payload = await run_in_threadpool(self.subscribers.digest_payload, key)
        if payload is None:
            return self.pages.message(
                request,
                "Digest not found",
                "This digest is not kept any more, or the link belongs to another service.",
                status_code=404,
            )
        try:
            d = digest_from_payload(payload)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            # Our own stored data is damaged: a bug to fix, not the reader's fault.
            event(log, "web_digest_unreadable", error=str(exc))
            return self.server_error_page(request)
        return self.pages.render(request, "digest.html.j2", **digest_page_view(d))


Endpoint = Callable[[Request], Awaitable[Response]]


def _page(path: str, get: Endpoint, post: Endpoint) -> Route:
    """One route for a page and its form, so a 405 lists both methods in `Allow`."""

    async def endpoint(request: Request) -> Response:
        return await (post if request.method == "POST" else get)(request)

    return Route(path, endpoint, methods=["GET", "POST"])


def _text(data: FormData, name: str) -> str:
    value = data.get(name)
    return "" if value is None or isinstance(value, UploadFile) else value


def _self_service_of(view: SubscriptionView, address: str) -> bool:
    return view.origin is SubscriptionOrigin.SELF and normalise_address(view.email) == address
