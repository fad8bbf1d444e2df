"""A real SMTP server for tests and the demo (aiosmtpd on 127.0.0.1, a free port).

    with SmtpTestServer() as server:          # or the `smtp_server` fixture
        ... send to server.url ...
        [msg] = server.wait_for(1)

Received mail is parsed with `email.policy.default`. Make it refuse with
`server.refuse("bad@example.com", "550 5.1.1 no such user")` (one recipient) or
`server.rcpt_reply = "451 4.3.0 try later"` (every recipient). `auth=(user, password)`
enables AUTH; without TLS it is offered over plain text (auth_require_tls=False), which
smtplib can use in tests.

`tls="starttls"` offers and requires STARTTLS (and, with `auth`, requires AUTH over TLS
before any mail); `tls="implicit"` speaks TLS from the first byte (smtps). The server's
certificate is issued by a throwaway CA (trustme) whose PEM file is `server.ca_file`;
`server.url` names it (`?cafile=`), so `SmtpSettings.from_url(server.url)` trusts it.
`auth_mechanisms=("LOGIN",)` offers only those mechanisms.

`server.connections` counts the SMTP sessions opened since start; `drop_connections()`
closes every open session from the server's side, as a relay does to an idle client.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import shutil
import ssl
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

Tls = Literal["starttls", "implicit"]
MECHANISMS = ("LOGIN", "PLAIN")  # aiosmtpd's built-in AUTH mechanisms


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as the server saw it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    raw: bytes
    authenticated_as: str | None = None
    tls: bool = False  # the session was encrypted (STARTTLS or implicit TLS)


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
        transport = server.transport
        self.server._store(
            ReceivedMessage(
                mail_from=envelope.mail_from,
                rcpt_tos=tuple(envelope.rcpt_tos),
                message=message,
                raw=raw,
                authenticated_as=login,
                tls=transport is not None and transport.get_extra_info("ssl_object") is not None,
            )
        )
        return "250 Message accepted"


class _Controller(Controller):
    """Binds port 0 and reads back the port, so parallel test runs never collide.

    Keeps each session's SMTP protocol object, to count and to drop connections.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sessions: list[SMTP] = []

    def factory(self) -> SMTP:
        smtp = super().factory()
        self.sessions.append(smtp)
        return smtp

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

    def __init__(
        self,
        *,
        auth: tuple[str, str] | None = None,
        tls: Tls | None = None,
        auth_mechanisms: Sequence[str] = MECHANISMS,
    ) -> None:
        self._auth = auth
        self._tls = tls
        self._mechanisms = tuple(auth_mechanisms)
        self.messages: list[ReceivedMessage] = []
        self.refused: dict[str, str] = {}
        self.rcpt_reply: str | None = None
        self.data_reply: str | None = None
        self.logins: list[tuple[str, str]] = []  # (mechanism, user) of each successful AUTH
        self._cond = threading.Condition()
        self._tmp: Path | None = None
        # Created on start(): a Controller owns an event loop from birth.
        self._controller: _Controller | None = None
        self._baseline = 0

    @property
    def port(self) -> int:
        assert self._controller is not None, "server not started"
        return int(self._controller.port)

    @property
    def ca_file(self) -> str:
        """The PEM file of the CA that issued the server's certificate (TLS servers only)."""
        assert self._tmp is not None, "not a TLS server, or not started"
        return str(self._tmp / "ca.pem")

    @property
    def url(self) -> str:
        """An `SmtpSettings.from_url` URL for this server (credentials included with auth)."""
        creds = f"{self._auth[0]}:{self._auth[1]}@" if self._auth else ""
        if self._tls == "implicit":
            return f"smtps://{creds}{self.host}:{self.port}?cafile={self.ca_file}"
        if self._tls == "starttls":
            return f"smtp://{creds}{self.host}:{self.port}?cafile={self.ca_file}"
        return f"smtp://{creds}{self.host}:{self.port}?security=none"

    @property
    def connections(self) -> int:
        """SMTP sessions opened by clients since the server started."""
        assert self._controller is not None, "server not started"
        return len(self._controller.sessions) - self._baseline

    def refuse(self, address: str, reply: str = "550 5.1.1 no such user") -> None:
        self.refused[address.lower()] = reply

    def start(self) -> SmtpTestServer:
        kwargs: dict[str, Any] = {}
        context = self._server_context() if self._tls else None
        if self._tls == "starttls":
            kwargs |= {"tls_context": context, "require_starttls": True}
        elif self._tls == "implicit":
            kwargs["ssl_context"] = context
        if self._auth is not None:
            kwargs |= {
                "authenticator": self._authenticate,
                "auth_exclude_mechanism": [m for m in MECHANISMS if m not in self._mechanisms],
                # aiosmtpd counts only STARTTLS as TLS (aio-libs/aiosmtpd#281): over implicit
                # TLS it would refuse AUTH unless told TLS is not required.
                "auth_require_tls": self._tls == "starttls",
                "auth_required": self._tls == "starttls",
            }
        self._controller = _Controller(_Handler(self), hostname=self.host, port=0, **kwargs)
        self._controller.start()
        # start() opens one session itself to check that the server answers.
        self._baseline = len(self._controller.sessions)
        return self

    def _server_context(self) -> ssl.SSLContext:
        ca = trustme.CA()
        self._tmp = Path(tempfile.mkdtemp(prefix="smtp-test-ca-"))
        ca.cert_pem.write_to_path(str(self._tmp / "ca.pem"))
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ca.issue_cert(self.host, "localhost").configure_cert(context)
        return context

    def stop(self) -> None:
        if self._controller is not None:
            # Clients may still hold a connection (channels keep one open between sends);
            # stopping the loop would leave those sockets for the garbage collector. A TLS
            # close waits for the peer's goodbye, so sockets are aborted instead.
            self._end_sessions(abort=True)
            self._controller.stop()
            self._controller = None
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

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

    def drop_connections(self, timeout: float = 5.0) -> int:
        """Close every open session from the server's side; how many were open."""
        return self._end_sessions(abort=False, timeout=timeout)

    def _end_sessions(self, *, abort: bool, timeout: float = 5.0) -> int:
        controller = self._controller
        assert controller is not None, "server not started"

        async def end() -> int:
            open_ = [s for s in controller.sessions if s.transport is not None]
            for session in open_:
                if not abort:
                    session.transport.close()
                    continue
                # After STARTTLS the socket sits under the TLS transport.
                for transport in (session.transport, session._original_transport):
                    if transport is not None:
                        transport.abort()
            return len(open_)

        return asyncio.run_coroutine_threadsafe(end(), controller.loop).result(timeout)

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
        if ok:
            self.logins.append((mechanism, auth_data.login.decode()))
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    """A running SMTP server without auth, stopped after the test."""
    with SmtpTestServer() as server:
        yield server
