"""Security headers on every response, and a plain error page for anything unexpected.

The middleware sits outside Starlette's routing and exception handling, so 404s, 405s
and error pages get the headers too; an exception that reaches it is logged and answered
with a page of our own, never with a stack trace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from alerts.logs import get_logger

log = get_logger("web")

# No scripts at all, styles only from our own stylesheet, forms only back to us, and no
# framing (clickjacking of the confirm and unsubscribe buttons).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS: Mapping[str, str] = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-frame-options": "DENY",
    # Links carry signed tokens: never hand them to another site in a Referer.
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
# Pages are personal (an address, a subscription): no shared cache may keep them.
DEFAULT_CACHE_CONTROL = "no-store"


class SecurityHeaders:
    """ASGI middleware: adds `SECURITY_HEADERS` (and `no-store` unless set) to responses."""

    def __init__(self, app: ASGIApp, *, error_page: Callable[[Request], Response]) -> None:
        self.app = app
        self.error_page = error_page

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
                if "cache-control" not in headers:
                    headers["cache-control"] = DEFAULT_CACHE_CONTROL
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Logged with the path template only: paths hold tokens, tokens are secrets.
            route = getattr(scope.get("route"), "path", "?")
            log.log(
                logging.ERROR,
                "web_error",
                exc_info=True,
                extra={"fields": {"method": scope.get("method"), "route": route}},
            )
            if started:
                raise
            response = self.error_page(Request(scope, receive))
            await response(scope, receive, send_with_headers)
