"""The console's Starlette app, mounted at /console by `alerts.web.create_app`.

    GET  /                 sources health (any logged-in role)
    GET  /login            the login form (?next=a console path to go to afterwards)
    POST /login            400 "wrong username or password", 429 while locked, else 303
    POST /logout           clears the session cookie
    GET  /assets/console.css

Anonymous visitors of a page are sent to the login form with `next` set; `next` accepts
only paths inside the console, so the login cannot be used as an open redirect. Every POST
carries the session's CSRF token (missing or wrong: 403). The Accounts lockout limits
password guessing. Security headers and the body-size limit come from the outer app.
"""

from __future__ import annotations

import asyncio
import math
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from alerts.accounts import AccountError
from alerts.accounts.roles import Role
from alerts.console import csrf, sessions
from alerts.console.pages import STYLESHEET_PATH, ConsolePages, root_of
from alerts.console.sessions import Session
from alerts.console.views import source_rows
from alerts.domain import Feed
from alerts.errors import StoreError
from alerts.logs import event, get_logger
from alerts.store.accounts import Accounts, LoginOutcome
from alerts.store.repository import Store
from alerts.web.pages import Link

log = get_logger("console")

SESSION_COOKIE = "alerts_session"
SESSION_LIFETIME = sessions.LIFETIME
MAX_NEXT_LENGTH = 2000
RETRY_AFTER_SECONDS = 60
WRONG_LOGIN = "Wrong username or password."


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class User:
    """Who is logged in, as the database says now."""

    username: str
    role: Role


@dataclass(frozen=True, slots=True)
class Visitor:
    """A request's valid session (None: none or a bad one) and its user (None: anonymous)."""

    session: Session | None
    user: User | None


def create_console(
    *,
    store: Store,
    key: bytes,
    secure: bool,
    feeds: Sequence[Feed] = (),
    clock: Callable[[], datetime] = _utc_now,
    accounts: Accounts | None = None,
) -> Starlette:
    """The console over `store`; `key` is the service key (sessions use a key derived from
    it), `secure` sets the cookie's Secure flag (the public URL is https), `feeds` are the
    configured ones (for each source's kind and issuer)."""
    console = _Console(
        store=store,
        accounts=accounts or Accounts(store),
        key=sessions.session_key(key),
        secure=secure,
        feeds=tuple(feeds),
        clock=clock,
        pages=ConsolePages(),
    )
    return Starlette(
        routes=[
            Route("/", console.sources, methods=["GET"]),
            Route("/login", console.login, methods=["GET", "POST"]),
            Route("/logout", console.logout, methods=["POST"]),
            Route(STYLESHEET_PATH, console.stylesheet, methods=["GET"]),
        ],
        exception_handlers={
            csrf.CsrfError: console.csrf_error,
            HTTPException: console.http_error,
            StoreError: console.store_error,
        },
    )


def safe_next(value: str | None, root: str) -> str:
    """`value` when it is a path inside the console (at `root`), else the console's home."""
    home = f"{root}/"
    if not value or len(value) > MAX_NEXT_LENGTH:
        return home
    if "\\" in value or any(unicodedata.category(c)[0] in "CZ" for c in value):
        return home  # control characters and spaces: browsers strip or reinterpret them
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or value.startswith("//"):
        return home
    if not value.startswith(home):
        return home
    return value


MAX_LOGIN_CHECKS = 4  # password hashes at once, per process
BUSY_RETRY_SECONDS = 5


class _Console:
    """The route handlers and what they share."""

    def __init__(
        self,
        *,
        store: Store,
        accounts: Accounts,
        key: bytes,
        secure: bool,
        feeds: tuple[Feed, ...],
        clock: Callable[[], datetime],
        pages: ConsolePages,
    ) -> None:
        self.store = store
        self.accounts = accounts
        self.logins = asyncio.Semaphore(MAX_LOGIN_CHECKS)
        self.key = key
        self.secure = secure
        self.feeds = feeds
        self.clock = clock
        self.pages = pages

    # -- sessions --------------------------------------------------------------------
    async def _visitor(self, request: Request) -> Visitor:
        session = sessions.decode(self.key, request.cookies.get(SESSION_COOKIE), now=self.clock())
        if session is None or not session.logged_in:
            return Visitor(session, None)
        record = await run_in_threadpool(self.accounts.user, session.username)
        if record is None or record.disabled or record.session_epoch != session.epoch:
            # Logged out (here or elsewhere), disabled, or given another role since: the
            # cookie must not be reused, wherever it was copied to.
            return Visitor(None, None)
        return Visitor(session, User(record.username, record.role))

    def _set_session(self, request: Request, response: Response, session: Session) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            sessions.encode(self.key, session, now=self.clock()),
            max_age=int(SESSION_LIFETIME.total_seconds()),
            path=root_of(request) or "/",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )

    def _clear_session(self, request: Request, response: Response) -> None:
        response.delete_cookie(
            SESSION_COOKIE,
            path=root_of(request) or "/",
            secure=self.secure,
            httponly=True,
            samesite="lax",
        )

    def _to_login(self, request: Request) -> Response:
        root = root_of(request)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(
            f"{root}/login?next={quote(safe_next(target, root), safe='/')}", status_code=303
        )

    # -- error pages -----------------------------------------------------------------
    async def csrf_error(self, request: Request, exc: Exception) -> Response:
        event(log, "console_csrf_refused", path=request.url.path)
        return self.pages.message(
            request,
            "This form has expired",
            "The form was sent without a valid security token. This happens when a page "
            "was open for a long time or cookies are blocked. Go back, reload the page and "
            "try again.",
            status_code=403,
            link=Link(f"{root_of(request)}/login", "Log in"),
        )

    async def http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        titles = {
            404: ("Page not found", "There is no console page at this address."),
            405: ("Not allowed", "This page cannot be used that way."),
            413: ("Too much data", "The form sent more data than this page takes."),
        }
        title, text = titles.get(exc.status_code, ("Request not understood", "Please try again."))
        allow = {k.lower(): v for k, v in (exc.headers or {}).items()}.get("allow")
        return self.pages.message(
            request,
            title,
            text,
            status_code=exc.status_code,
            headers={"allow": allow} if allow else None,
            link=Link(f"{root_of(request)}/", "Console home"),
        )

    async def store_error(self, request: Request, exc: Exception) -> Response:
        event(log, "console_store_error", error=str(exc))
        return self.pages.message(
            request,
            "Please try again in a minute",
            "The service cannot reach its database just now. Nothing was changed.",
            status_code=503,
            headers={"retry-after": str(RETRY_AFTER_SECONDS)},
        )

    # -- routes ----------------------------------------------------------------------
    async def stylesheet(self, request: Request) -> Response:
        return self.pages.stylesheet_response()

    async def sources(self, request: Request) -> Response:
        visitor = await self._visitor(request)
        if visitor.user is None or visitor.session is None:
            return self._to_login(request)
        states = await run_in_threadpool(self.store.feed_states)
        now = self.clock()
        rows = source_rows(states, self.feeds, now)
        return self.pages.render(
            request,
            "sources.html.j2",
            user=visitor.user,
            csrf_token=visitor.session.csrf,
            rows=rows,
            stale_count=sum(r.stale for r in rows),
            now=now,
        )

    def _login_page(
        self,
        request: Request,
        session: Session,
        *,
        next_path: str,
        username: str = "",
        error: str = "",
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> Response:
        return self.pages.render(
            request,
            "login.html.j2",
            status_code=status_code,
            headers=headers,
            csrf_token=session.csrf,
            next_path=next_path,
            username=username,
            error=error,
        )

    async def login(self, request: Request) -> Response:
        if request.method == "POST":
            return await self._login_post(request)
        root = root_of(request)
        next_path = safe_next(request.query_params.get("next"), root)
        visitor = await self._visitor(request)
        if visitor.user is not None:
            return RedirectResponse(next_path, status_code=303)
        session = visitor.session or sessions.anonymous()
        response = self._login_page(request, session, next_path=next_path)
        if visitor.session is None:
            self._set_session(request, response, session)
        return response

    async def _login_post(self, request: Request) -> Response:
        session = sessions.decode(self.key, request.cookies.get(SESSION_COOKIE), now=self.clock())
        async with request.form() as data:
            token = _text(data, csrf.FIELD)
            username = _text(data, "username").strip()
            password = _text(data, "password")
            next_path = safe_next(_text(data, "next"), root_of(request))
        csrf.check(session.csrf if session is not None else None, token)
        assert session is not None
        shown = username[:64]
        if not username or not password:
            return self._login_page(
                request,
                session,
                next_path=next_path,
                username=shown,
                error="Enter your username and password.",
                status_code=400,
            )
        now = self.clock()
        if self.logins.locked():
            # Each check is an argon2 hash (64 MiB, a core for ~50 ms): a burst of logins
            # is told to wait instead of taking the service's memory and CPU.
            return self._login_page(
                request,
                session,
                next_path=next_path,
                username=shown,
                error="Many logins are being checked right now; try again in a few seconds.",
                status_code=429,
                headers={"retry-after": str(BUSY_RETRY_SECONDS)},
            )
        try:
            async with self.logins:
                result = await run_in_threadpool(
                    self.accounts.authenticate, username, password, now=now
                )
        except AccountError:  # an over-long password: a guess like any other
            event(log, "console_login", outcome="malformed")
            return self._login_page(
                request,
                session,
                next_path=next_path,
                username=shown,
                error=WRONG_LOGIN,
                status_code=400,
            )
        event(log, "console_login", outcome=result.outcome.value)
        if result.outcome is LoginOutcome.LOCKED and result.locked_until is not None:
            until = result.locked_until.astimezone(UTC)
            wait = max(1, math.ceil((until - now).total_seconds()))
            return self._login_page(
                request,
                session,
                next_path=next_path,
                username=shown,
                error=(
                    "Too many failed attempts: logins for this user are locked until "
                    f"{until:%Y-%m-%d %H:%M:%S} UTC. Try again after that."
                ),
                status_code=429,
                headers={"retry-after": str(wait)},
            )
        if result.outcome is not LoginOutcome.OK or result.principal is None:
            return self._login_page(
                request,
                session,
                next_path=next_path,
                username=shown,
                error=WRONG_LOGIN,
                status_code=400,
            )
        principal = result.principal
        record = await run_in_threadpool(self.accounts.user, principal.username)
        epoch = record.session_epoch if record is not None else 0
        response = RedirectResponse(next_path, status_code=303)
        self._set_session(
            request, response, sessions.logged_in(principal.username, principal.role, epoch)
        )
        return response

    async def logout(self, request: Request) -> Response:
        session = sessions.decode(self.key, request.cookies.get(SESSION_COOKIE), now=self.clock())
        async with request.form() as data:
            token = _text(data, csrf.FIELD)
        csrf.check(session.csrf if session is not None else None, token)
        if session is not None and session.logged_in:
            # Server side too: a copy of this cookie stops working as well.
            await run_in_threadpool(self.accounts.end_sessions, session.username)
            event(log, "console_logout", user=session.username)
        response = RedirectResponse(f"{root_of(request)}/login", status_code=303)
        self._clear_session(request, response)
        return response


def _text(data: FormData, name: str) -> str:
    value = data.get(name)
    return "" if value is None or isinstance(value, UploadFile) else value
