"""A real HTTP server on 127.0.0.1 serving feeds for tests, with programmable routes.

Files under tests/data/feeds are served by default (content type from the extension);
`route()` serves given bytes with a status, headers, ETag / Last-Modified (answering 304 to
matching conditional requests), a delay or gzip; `redirect()` adds a redirect. Every request
is logged so tests can assert what the client sent. Usable outside pytest as a context
manager (`with FeedServer() as server:`).
"""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "feeds"
TYPES = {
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
    ".json": "application/feed+json",
    ".html": "text/html; charset=utf-8",
}


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0
    gzip: bool = False
    chunked: bool = False
    location: str | None = None


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        owner = self.server.owner
        headers = {k.lower(): v for k, v in self.headers.items()}
        path = self.path
        owner._record(Request("GET", path, headers))
        with owner._lock:
            owner._in_flight += 1
            owner.max_in_flight = max(owner.max_in_flight, owner._in_flight)
        try:
            self._answer(owner, path, headers)
        finally:
            with owner._lock:
                owner._in_flight -= 1

    def _answer(self, owner: FeedServer, path: str, headers: dict[str, str]) -> None:
        route = owner._route(path)
        if route is None:
            self._send(404, b"not found", {"Content-Type": "text/plain"})
            return
        if route.delay and owner._stopping.wait(route.delay):
            return
        if route.location is not None:
            self._send(route.status, b"", {"Location": route.location})
            return
        extra = dict(route.headers)
        if route.etag:
            extra["ETag"] = route.etag
        if route.last_modified:
            extra["Last-Modified"] = route.last_modified
        fresh = (route.etag and headers.get("if-none-match") == route.etag) or (
            route.last_modified and headers.get("if-modified-since") == route.last_modified
        )
        if fresh and route.status == 200:
            self._send(304, b"", extra)
            return
        body = route.body
        if route.gzip:
            body = gzip.compress(body)
            extra["Content-Encoding"] = "gzip"
        extra.setdefault("Content-Type", "application/rss+xml; charset=utf-8")
        if route.chunked:
            self._send_chunked(route.status, body, extra)
        else:
            self._send(route.status, body, extra)

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _send_chunked(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        try:
            for start in range(0, len(body), 16384):
                chunk = body[start : start + 16384]
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hit its size cap and hung up, as it should

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: FeedServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that time out and hang up are expected in tests


class FeedServer:
    """See the module docstring."""

    host = "127.0.0.1"

    def __init__(self, directory: Path = DATA) -> None:
        self.directory = directory
        self.requests: list[Request] = []
        self._routes: dict[str, Route] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._in_flight = 0
        self.max_in_flight = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "server not started"
        return int(self._server.server_address[1])

    def url(self, path: str) -> str:
        return f"http://{self.host}:{self.port}{path}"

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
        gzip: bool = False,
        chunked: bool = False,
    ) -> None:
        """Serve `body` at `path` (replacing any earlier route)."""
        with self._lock:
            self._routes[path] = Route(
                body, status, dict(headers or {}), etag, last_modified, delay, gzip, chunked
            )

    def redirect(self, path: str, to: str, status: int = 301) -> None:
        """Redirect `path` to `to` (a path on this server or a full URL)."""
        with self._lock:
            self._routes[path] = Route(status=status, location=to)

    def hits(self, path: str) -> int:
        return sum(1 for r in self.requests if r.path == path)

    def _record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def _route(self, path: str) -> Route | None:
        with self._lock:
            route = self._routes.get(path)
        if route is not None:
            return route
        file = (self.directory / path.split("?", 1)[0].lstrip("/")).resolve()
        if self.directory.resolve() in file.parents and file.is_file():
            content_type = TYPES.get(file.suffix, "application/octet-stream")
            return Route(file.read_bytes(), headers={"Content-Type": content_type})
        return None

    def start(self) -> FeedServer:
        self._server = _Server((self.host, 0), _Handler)
        self._server.owner = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
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
    """A running feed server, stopped after the test."""
    with FeedServer() as server:
        yield server
