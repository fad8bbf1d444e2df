"""The web side: pages for subscribers (subscribe, confirm, unsubscribe, full digests).

`create_app` builds the Starlette app over a `Store` and the signed `Links`; `serve_web`
runs it with uvicorn inside the service's event loop. The app reads and writes through
`alerts.store.subscribers` only. This layer never imports httpx or feedparser, and holds
no business rules of its own beyond checking what people type.
"""

from __future__ import annotations

from alerts.web.app import CONFIRM_MAX_AGE, create_app
from alerts.web.server import Bind, WebServerError, parse_bind, serve_web

__all__ = ["CONFIRM_MAX_AGE", "Bind", "WebServerError", "create_app", "parse_bind", "serve_web"]
