"""Serve the web app with uvicorn inside the caller's event loop, beside the scheduler.

The caller owns SIGINT/SIGTERM and the stop event; uvicorn's own signal handling is turned
off so it neither replaces the caller's handlers nor raises the signal again on exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import math
import re
import socket
from collections.abc import Generator
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

from alerts.errors import AlertsError
from alerts.logs import event, get_logger

log = get_logger("web")

OFF = "off"
# In-flight requests get this long to finish once `stop` is set.
DEFAULT_SHUTDOWN_GRACE = 5.0
_BACKLOG = 128
_HOST_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?")
_EXAMPLE = "use HOST:PORT, e.g. 127.0.0.1:8080, 0.0.0.0:8080 or [::1]:8080"


class WebServerError(AlertsError):
    """The web server could not start (address in use, no permission) or stopped on its own."""


@dataclass(frozen=True, slots=True)
class Bind:
    """Where the web side listens."""

    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_bind(text: str) -> Bind | None:
    """Parse "127.0.0.1:8080", "[::1]:8080" or "localhost:8080"; None for "off".

    Raises ValueError saying what is wrong and what to write instead.
    """
    value = text.strip()
    if value.lower() == OFF:
        return None
    if not value:
        raise ValueError(f"the address is empty; {_EXAMPLE} (or 'off')")
    if value.startswith("["):
        host, closed, rest = value[1:].partition("]")
        if not closed or not rest.startswith(":"):
            raise ValueError(f"{text!r}: {_EXAMPLE}")
        port_text = rest[1:]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{text!r}: {host!r} is not an IPv6 address") from None
    else:
        host, colon, port_text = value.rpartition(":")
        if not colon:
            raise ValueError(f"{text!r} has no port; {_EXAMPLE}")
        if ":" in host:
            raise ValueError(f"{text!r}: put an IPv6 address in brackets, e.g. [::1]:8080")
        if not host:
            raise ValueError(f"{text!r} has no host; use 0.0.0.0:{port_text} for every interface")
        if not _HOST_NAME.fullmatch(host):
            raise ValueError(f"{text!r}: {host!r} is not a host name or IP address")
    if not port_text.isascii() or not port_text.isdigit():
        raise ValueError(f"{text!r}: the port must be a number from 1 to 65535")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise ValueError(f"{text!r}: the port must be a number from 1 to 65535")
    return Bind(host, port)


class _Server(uvicorn.Server):
    """uvicorn's server without signal handling of its own."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


async def serve_web(
    app: ASGIApp,
    *,
    host: str,
    port: int,
    stop: asyncio.Event,
    grace: float = DEFAULT_SHUTDOWN_GRACE,
) -> None:
    """Serve `app` on host:port until `stop` is set (or this task is cancelled).

    Raises WebServerError when the address cannot be bound or the server fails.
    """
    config = uvicorn.Config(
        app,
        log_config=None,  # the service configures logging; uvicorn must not replace it
        # Request lines hold tokens (unsubscribe, confirm): they must not reach the logs.
        access_log=False,
        lifespan="off",
        ws="none",
        http="h11",
        server_header=False,
        timeout_graceful_shutdown=max(1, math.ceil(grace)),
    )
    server = _Server(config)
    sock = await _listen(host, port)
    serving = asyncio.create_task(_run(server, sock), name="web-server")
    stopping = asyncio.create_task(stop.wait(), name="web-server-stop")
    event(log, "web_listening", address=str(Bind(host, sock.getsockname()[1])))
    try:
        await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        server.should_exit = True
        stopping.cancel()
        # Shielded: a cancelled caller still waits until the port is free again.
        await asyncio.shield(asyncio.wait({serving}))
        sock.close()
        failure = serving.exception()
    if failure is not None:
        raise failure
    if not stop.is_set():
        raise WebServerError("the web server stopped on its own")
    event(log, "web_stopped")


async def _run(server: uvicorn.Server, sock: socket.socket) -> None:
    try:
        await server.serve(sockets=[sock])
    except SystemExit as exc:
        # uvicorn exits the process when startup fails; here that must only end this task.
        raise WebServerError("the web server could not start") from exc
    except OSError as exc:
        raise WebServerError(f"the web server failed: {exc}") from exc


async def _listen(host: str, port: int) -> socket.socket:
    """A listening socket, bound here so that a bad address is our error, not an exit."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, _, _, _, address = infos[0]
        # SO_REUSEADDR (set on POSIX only) lets a restarted service bind at once.
        sock = socket.create_server(address, family=family, backlog=_BACKLOG)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise WebServerError(f"cannot listen on {Bind(host, port)}: {reason}") from exc
    return sock
