"""A real HTTP server on 127.0.0.1 serving feeds, for tests and the demo.

    with FeedServer() as server:                  # or the `feed_server` fixture
        server.route("/wire.xml", body=b"<rss ...>", etag='"v1"', delay=0.5)
        server.redirect("/old.xml", "/wire.xml", status=301)
        ... GET server.url("/wire.xml") ...
        assert server.requests[-1].headers["if-none-match"] == '"v1"'

Files under the directory (tests/data/feeds by default) are served at their relative path
with a Content-Type from the extension; a sidecar `x.headers.json` ({"Content-Type": ...})
overrides the headers of `x`. A route answers 304 to a matching If-None-Match /
If-Modified-Since, can wait before the headers (`delay`) or before the body (`body_delay`),
gzip its body or stream it chunked (no Content-Length). Every request is logged, and
`max_in_flight` is the most requests the server handled at once.
"""

from __future__ import annotations

import gzip as gzip_module
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

FEEDS_DIR = Path(__file__).resolve().parents[1] / "data" / "feeds"
CONTENT_TYPES = {
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".rdf": "application/rdf+xml",
    ".json": "application/feed+json",
    ".html": "text/html; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
HEADERS_SUFFIX = ".headers.json"


@dataclass(frozen=True)
class Request:
    """One request as the server saw it."""

    method: str
    path: str  # with the query string
    headers: dict[str, str]  # lower-case names


@dataclass
class Route:
    """How to answer one path."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0  # seconds before the status line
    body_delay: float = 0.0  # seconds between the headers and the body
    gzip: bool = False
    chunked: bool = False
    location: str | None = None  # a redirect


def _etag_matches(header: str, etag: str) -> bool:
    # Weak comparison (RFC 9110 13.1.2): W/"x" matches "x"; "*" matches anything.
    def strip(tag: str) -> str:
        tag = tag.strip()
        return tag[2:] if tag.startswith("W/") else tag

    return any(t.strip() == "*" or strip(t) == strip(etag) for t in header.split(","))


def _not_modified_since(header: str, last_modified: str) -> bool:
    try:
        return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return header.strip() == last_modified.strip()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def _handle(self) -> None:
        owner = self.server.owner
        headers = {name.lower(): value for name, value in self.headers.items()}
        owner._enter(Request(self.command, self.path, headers))
        try:
            self._answer(owner, owner._route_for(self.path), headers)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (size cap, timeout): expected in tests
        finally:
            owner._leave()

    def _answer(self, owner: FeedServer, route: Route | None, headers: dict[str, str]) -> None:
        if route is None:
            self._send(404, b"not found\n", {"Content-Type": "text/plain"})
            return
        if route.delay and owner._stopping.wait(route.delay):
            return  # shutting down: drop the request
        if route.location is not None:
            self._send(route.status, b"", {"Location": route.location})
            return
        extra = dict(route.headers)
        if route.etag:
            extra["ETag"] = route.etag
        if route.last_modified:
            extra["Last-Modified"] = route.last_modified
        if route.status == 200 and self._fresh(route, headers):
            self._send(304, b"", {k: v for k, v in extra.items() if k.lower() != "content-type"})
            return
        body = route.body
        if route.gzip:
            body = gzip_module.compress(body)
            extra["Content-Encoding"] = "gzip"
        extra.setdefault("Content-Type", "application/rss+xml; charset=utf-8")
        self.send_response(route.status)
        for name, value in extra.items():
            self.send_header(name, value)
        if route.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.flush()
        if route.body_delay and owner._stopping.wait(route.body_delay):
            return
        if self.command == "HEAD":
            return
        if route.chunked:
            for start in range(0, len(body), 16 * 1024):
                chunk = body[start : start + 16 * 1024]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.wfile.write(body)

    @staticmethod
    def _fresh(route: Route, headers: dict[str, str]) -> bool:
        # If-None-Match wins over If-Modified-Since when both are sent (RFC 9110 13.2.2).
        if "if-none-match" in headers:
            return route.etag is not None and _etag_matches(headers["if-none-match"], route.etag)
        if "if-modified-since" in headers and route.last_modified:
            return _not_modified_since(headers["if-modified-since"], route.last_modified)
        return False

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: FeedServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that time out and hang up are expected in tests


class FeedServer:
    """See the module docstring. Start with `start()` or `with`; stop with `stop()`."""

    host = "127.0.0.1"

    def __init__(self, directory: Path | str = FEEDS_DIR) -> None:
        self.directory = Path(directory)
        self.requests: list[Request] = []
        self.max_in_flight = 0
        self._in_flight = 0
        self._routes: dict[str, Route] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return int(self._server.server_address[1])

    def url(self, path: str = "/") -> str:
        """The full URL of `path` on this server."""
        return f"http://{self.host}:{self.port}/{path.lstrip('/')}"

    def route(
        self,
        path: str,
        *,
        body: bytes = b"",
        status: int = 200,
        headers: dict[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        delay: float = 0.0,
        body_delay: float = 0.0,
        gzip: bool = False,
        chunked: bool = False,
    ) -> None:
        """Serve `body` at `path`, replacing any earlier route or file there."""
        with self._lock:
            self._routes[path] = Route(
                body=body,
                status=status,
                headers=dict(headers or {}),
                etag=etag,
                last_modified=last_modified,
                delay=delay,
                body_delay=body_delay,
                gzip=gzip,
                chunked=chunked,
            )

    def redirect(self, path: str, to: str, status: int = 301) -> None:
        """Redirect `path` to `to` (a path on this server or a full URL)."""
        with self._lock:
            self._routes[path] = Route(status=status, location=to)

    def hits(self, path: str) -> int:
        """How many requests asked for `path` (query string included)."""
        with self._lock:
            return sum(1 for r in self.requests if r.path == path)

    def reset(self) -> None:
        """Forget routes, the request log and the in-flight high-water mark."""
        with self._lock:
            self._routes.clear()
            self.requests.clear()
            self.max_in_flight = 0

    def _enter(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _route_for(self, path: str) -> Route | None:
        with self._lock:
            route = self._routes.get(path) or self._routes.get(path.split("?", 1)[0])
        return route if route is not None else self._file_route(path.split("?", 1)[0])

    def _file_route(self, path: str) -> Route | None:
        root = self.directory.resolve()
        file = (root / path.lstrip("/")).resolve()
        if root not in file.parents or not file.is_file():
            return None
        headers = {"Content-Type": CONTENT_TYPES.get(file.suffix, "application/octet-stream")}
        sidecar = file.with_name(file.name + HEADERS_SUFFIX)
        if sidecar.is_file():
            headers.update(json.loads(sidecar.read_text(encoding="utf-8")))
        return Route(body=file.read_bytes(), headers=headers)

    def start(self) -> FeedServer:
        """Bind a free port and serve from a daemon thread."""
        self._stopping.clear()
        self._server = _Server((self.host, 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="feed-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket; delayed answers are dropped."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A running feed server over tests/data/feeds, stopped after the test."""
    with FeedServer() as server:
        yield server
