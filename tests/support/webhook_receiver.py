"""A real HTTP server recording requests, for webhook and chat channel tests (and the demo).

    with WebhookReceiver() as rx:                 # or the `webhook_receiver` fixture
        rx.respond("/hook", statuses=[500, 200], retry_after="7", delay=0.0)
        ... POST to rx.url("/hook") ...
        [req] = rx.wait_for(1)

Each request is recorded (method, path, headers with lower-case names, body bytes, parsed
JSON) before the programmed delay, then answered with the next queued status (200 once
the queue is empty).

Faults for the next N requests to a path come first, in the order they were queued:

    rx.fail("/hook", 500, times=2, body=b"down")        # answer 500 twice
    rx.fail("/hook", 429, retry_after="3")              # 429 with Retry-After
    rx.hang("/hook")                                    # never answer: the client times out
    rx.reset("/hook")                                   # drop the connection with a TCP RST

`rx.verify("/hook", secret, *more)` checks Standard Webhooks signatures on a path with the
reference `standardwebhooks` library (not our code): a request no secret verifies is
answered 401 and recorded with `verified=False`. `rx.duplicates()` counts webhook-ids
that arrived more than once.
"""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

# How long a hung request is held (the client's timeout is always far shorter).
HANG_SECONDS = 30.0


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes
    json: Any  # None when the body is not JSON
    verified: bool | None = None  # None: the path checks no signatures
    answer: int | None = None  # the status we answered; None: hung up or reset


@dataclass(frozen=True)
class _Reply:
    status: int = 200
    retry_after: str | None = None
    delay: float = 0.0
    body: bytes = b"ok"
    content_type: str = "text/plain"
    mode: Literal["answer", "hang", "reset"] = "answer"


@dataclass
class _Plan:
    statuses: deque[int] = field(default_factory=deque)
    retry_after: str | None = None
    delay: float = 0.0
    body: bytes = b"ok"
    content_type: str = "text/plain"


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
        headers = {k.lower(): v for k, v in self.headers.items()}
        verified = rx._verify(path, headers, body)
        reply = rx._next_reply(path)
        if verified is False and reply.mode == "answer":
            reply = _Reply(401, body=b"signature does not verify")
        answer = reply.status if reply.mode == "answer" else None
        rx._record(RecordedRequest(self.command, path, headers, body, parsed, verified, answer))
        if reply.mode == "hang":
            rx._stopping.wait(HANG_SECONDS)
            self.close_connection = True
            return
        if reply.mode == "reset":
            # SO_LINGER 0: close() sends RST instead of FIN, a "connection reset by peer".
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
            return
        if reply.delay and rx._stopping.wait(reply.delay):
            return  # shutting down: drop the request
        self.send_response(reply.status)
        if reply.retry_after is not None:
            self.send_header("Retry-After", reply.retry_after)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    receiver: WebhookReceiver

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out and hung up, or a reset we made, is expected


class WebhookReceiver:
    """See the module docstring."""

    host = "127.0.0.1"

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._plans: dict[str, _Plan] = {}
        self._faults: dict[str, deque[_Reply]] = {}
        self._secrets: dict[str, list[str | bytes]] = {}
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
        content_type: str = "text/plain",
    ) -> None:
        """Program answers for `path`: `statuses` in order, then 200; the other arguments
        apply to every answer on the path."""
        with self._cond:
            self._plans[path] = _Plan(deque(statuses or []), retry_after, delay, body, content_type)

    def fail(
        self,
        path: str,
        status: int,
        *,
        times: int = 1,
        retry_after: str | None = None,
        body: bytes = b"",
        content_type: str = "text/plain",
    ) -> None:
        """Answer the next `times` requests to `path` with `status`."""
        self._queue(path, times, _Reply(status, retry_after, 0.0, body, content_type))

    def hang(self, path: str, *, times: int = 1) -> None:
        """Never answer the next `times` requests to `path` (the client times out)."""
        self._queue(path, times, _Reply(mode="hang"))

    def reset(self, path: str, *, times: int = 1) -> None:
        """Reset the connection of the next `times` requests to `path` without answering."""
        self._queue(path, times, _Reply(mode="reset"))

    def verify(self, path: str, secret: str | bytes, *more: str | bytes) -> None:
        """Check Standard Webhooks signatures on `path` with any of the secrets given
        (a `whsec_` string, or raw key bytes); requests that fail are answered 401."""
        with self._cond:
            self._secrets[path] = [secret, *more]

    def webhook_ids(self) -> Counter[str]:
        """How many times each webhook-id arrived."""
        with self._cond:
            return Counter(
                r.headers["webhook-id"] for r in self.requests if "webhook-id" in r.headers
            )

    def duplicates(self) -> int:
        """Requests that repeated a webhook-id already received."""
        return sum(n - 1 for n in self.webhook_ids().values())

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

    def _queue(self, path: str, times: int, reply: _Reply) -> None:
        with self._cond:
            self._faults.setdefault(path, deque()).extend([reply] * times)

    def _record(self, request: RecordedRequest) -> None:
        with self._cond:
            self.requests.append(request)
            self._cond.notify_all()

    def _verify(self, path: str, headers: dict[str, str], body: bytes) -> bool | None:
        with self._cond:
            secrets = list(self._secrets.get(path, ()))
        if not secrets:
            return None
        for secret in secrets:
            try:
                Webhook(secret).verify(body, headers)
            except (WebhookVerificationError, ValueError):
                continue
            return True
        return False

    def _next_reply(self, path: str) -> _Reply:
        with self._cond:
            faults = self._faults.get(path)
            if faults:
                return faults.popleft()
            plan = self._plans.get(path)
            if plan is None:
                return _Reply()
            status = plan.statuses.popleft() if plan.statuses else 200
            return _Reply(status, plan.retry_after, plan.delay, plan.body, plan.content_type)


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A running receiver, stopped after the test."""
    with WebhookReceiver() as receiver:
        yield receiver
