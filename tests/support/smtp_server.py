"""A real SMTP server for tests and the demo (aiosmtpd on 127.0.0.1, a free port).

    with SmtpTestServer() as server:          # or the `smtp_server` fixture
        ... send to server.url ...
        [msg] = server.wait_for(1)

Received mail is parsed with `email.policy.default`. Make it refuse with
`server.refuse("bad@example.com", "550 5.1.1 no such user")` (one recipient) or
`server.rcpt_reply = "451 4.3.0 try later"` (every recipient). `auth=(user, password)`
enables AUTH over plain text (auth_require_tls=False), which smtplib can use in tests.
"""

from __future__ import annotations

import email
import email.policy
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as the server saw it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes
    authenticated_as: str | None = None


class _Handler:
    def __init__(self, server: SmtpTestServer) -> None:
        self.server = server

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # type: ignore[no-untyped-def]
        reply = self.server.refused.get(address.lower()) or self.server.rcpt_reply
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        if self.server.data_reply:
            return self.server.data_reply
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        login = (
            session.auth_data.login.decode()
            if isinstance(session.auth_data, LoginPassword)
            else None
        )
        self.server._store(
            ReceivedMessage(
                mail_from=envelope.mail_from,
                rcpt_tos=tuple(envelope.rcpt_tos),
                message=message,
                raw=raw,
                authenticated_as=login,
            )
        )
        return "250 Message accepted"


class _Controller(Controller):
    """Binds port 0 and reads back the port, so parallel test runs never collide."""

    def _create_server(self) -> Any:
        async def create() -> Any:
            srv = await self.loop.create_server(
                self._factory_invoker, host=self.hostname, port=0, ssl=self.ssl_context
            )
            self.port = srv.sockets[0].getsockname()[1]
            return srv

        return create()


class SmtpTestServer:
    """Start with `start()` / `with`, stop with `stop()`; see the module docstring."""

    host = "127.0.0.1"

    def __init__(self, *, auth: tuple[str, str] | None = None) -> None:
        self._auth = auth
        self.messages: list[ReceivedMessage] = []
        self.refused: dict[str, str] = {}
        self.rcpt_reply: str | None = None
        self.data_reply: str | None = None
        self._cond = threading.Condition()
        # Created on start(): a Controller owns an event loop from birth.
        self._controller: _Controller | None = None

    @property
    def port(self) -> int:
        assert self._controller is not None, "server not started"
        return int(self._controller.port)

    @property
    def url(self) -> str:
        """An `SmtpSettings.from_url` URL for this server (credentials included with auth)."""
        creds = f"{self._auth[0]}:{self._auth[1]}@" if self._auth else ""
        return f"smtp://{creds}{self.host}:{self.port}?security=none"

    def refuse(self, address: str, reply: str = "550 5.1.1 no such user") -> None:
        self.refused[address.lower()] = reply

    def start(self) -> SmtpTestServer:
        kwargs: dict[str, Any] = {}
        if self._auth is not None:
            kwargs = {"authenticator": self._authenticate, "auth_require_tls": False}
        self._controller = _Controller(_Handler(self), hostname=self.host, port=0, **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpTestServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for(self, n: int, timeout: float = 5.0) -> list[ReceivedMessage]:
        """Block until at least `n` messages arrived; AssertionError after `timeout` s."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.messages) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {n} messages, got {len(self.messages)}")
                self._cond.wait(left)
            return list(self.messages)

    def _store(self, msg: ReceivedMessage) -> None:
        with self._cond:
            self.messages.append(msg)
            self._cond.notify_all()

    def _authenticate(self, server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = (
            self._auth is not None
            and isinstance(auth_data, LoginPassword)
            and auth_data.login.decode() == self._auth[0]
            and auth_data.password.decode() == self._auth[1]
        )
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    """A running SMTP server without auth, stopped after the test."""
    with SmtpTestServer() as server:
        yield server
