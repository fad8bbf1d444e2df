"""A real HTTP server recording requests, for webhook and Slack tests (and the demo).

    with WebhookReceiver() as rx:                 # or the `webhook_receiver` fixture
        rx.respond("/hook", statuses=[500, 200], retry_after="7", delay=0.0)
        ... POST to rx.url("/hook") ...
        [req] = rx.wait_for(1)

Each request is recorded (method, path, headers with lower-case names, body bytes, parsed
JSON) before the programmed delay, then answered with the next queued status (200 once
the queue is empty).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    json: Any  # None when the body is not JSON


@dataclass
class _Plan:
    statuses: deque[int] = field(default_factory=deque)
    retry_after: str | None = None
    delay: float = 0.0
    body: bytes = b"ok"


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_GET(self) -> None:
        self._handle()

    def _handle(self) -> None:
        rx = self.server.receiver
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        path = self.path.split("?", 1)[0]
        rx._record(
            RecordedRequest(
                method=self.command,
                path=path,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=body,
                json=parsed,
            )
        )
        status, retry_after, delay, reply = rx._next_response(path)
        if delay and rx._stopping.wait(delay):
            return  # shutting down: drop the request
        self.send_response(status)
        if retry_after is not None:
            self.send_header("Retry-After", retry_after)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: WebhookReceiver

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and hung up is expected in tests


class WebhookReceiver:
    """See the module docstring."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._plans: dict[str, _Plan] = {}
        self._cond = threading.Condition()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None, "receiver not started"
        return int(self._server.server_address[1])

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def respond(
        self,
        path: str,
        statuses: list[int] | None = None,
        *,
        retry_after: str | None = None,
        delay: float = 0.0,
        body: bytes = b"ok",
    ) -> None:
        """Program answers for `path`: `statuses` in order, then 200."""
        with self._cond:
            self._plans[path] = _Plan(deque(statuses or []), retry_after, delay, body)

    def start(self) -> WebhookReceiver:
        self._server = _Server((self.host, 0), _Handler)
        self._server.receiver = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
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

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for(self, n: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until at least `n` requests arrived; AssertionError after `timeout` s."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.requests) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {n} requests, got {len(self.requests)}")
                self._cond.wait(left)
            return list(self.requests)

    def _record(self, request: RecordedRequest) -> None:
        with self._cond:
            self.requests.append(request)
            self._cond.notify_all()

    def _next_response(self, path: str) -> tuple[int, str | None, float, bytes]:
        with self._cond:
            plan = self._plans.get(path)
            if plan is None:
                return 200, None, 0.0, b"ok"
            status = plan.statuses.popleft() if plan.statuses else 200
            return status, plan.retry_after, plan.delay, plan.body


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A running receiver, stopped after the test."""
    with WebhookReceiver() as receiver:
        yield receiver
