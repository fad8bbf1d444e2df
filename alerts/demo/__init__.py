"""`alerts demo`: the real service against example feeds it serves itself on 127.0.0.1.

No network and no SMTP needed: three small feeds written for the demo (one story syndicated
by two outlets, one notice naming Navalny in Cyrillic) are served from this package, the
database is a temporary SQLite file, and the digest lands as an `.eml` file in the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import tempfile
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from pathlib import Path

import click

from alerts.app import serve
from alerts.config import Settings, load_config

DEMO_FEEDS = {
    "/globalwire.xml": "application/rss+xml",
    "/dailycourier.xml": "application/rss+xml",
    "/notices.atom": "application/atom+xml",
}

DEMO_CONFIG = """\
# Written by `alerts demo`: three local feeds, two watchlists, one email digest.
[settings]
timezone = "Europe/London"

[[feeds]]
name = "globalwire"
title = "Global Wire — World"
url = "{base}/globalwire.xml"
interval = "1m"

[[feeds]]
name = "dailycourier"
title = "The Daily Courier"
url = "{base}/dailycourier.xml"
interval = "1m"

[[feeds]]
name = "notices"
title = "Financial sanctions notices"
official = true
url = "{base}/notices.atom"
interval = "1m"

[[watchlists]]
name = "russia"
terms = ["Navalny", "sanctions against Russia", "Навальный", "Rosneft"]

[[watchlists]]
name = "iran"
terms = ["Iran", "shadow fleet"]

[[channels]]
name = "demo-inbox"
type = "email"
to = ["compliance@example.org"]

[[subscriptions]]
name = "demo"
watchlists = ["russia", "iran"]
channel = "demo-inbox"
schedule = "immediate"
"""


class _DemoHandler(BaseHTTPRequestHandler):
    server_version = "AlertsDemo/1"

    def do_GET(self) -> None:
        content_type = DEMO_FEEDS.get(self.path)
        if content_type is None:
            self.send_error(404)
            return
        body = files("alerts.demo").joinpath(self.path.lstrip("/")).read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the service logs its own polls."""


@contextlib.contextmanager
def serve_demo_feeds() -> Iterator[str]:
    """Serve the demo feeds on 127.0.0.1 (a free port); yields the base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _DemoHandler)
    thread = threading.Thread(target=server.serve_forever, name="demo-feeds", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


async def run_demo(outbox: Path, *, seconds: float = 60.0, keep_running: bool = False) -> int:
    """Run the service until the first digest lands in `outbox` (or `seconds` pass)."""
    before = await asyncio.to_thread(_eml_files, outbox)
    with tempfile.TemporaryDirectory(prefix="alerts-demo-") as tmp, serve_demo_feeds() as base:
        config_path = Path(tmp) / "demo.toml"
        config_path.write_text(DEMO_CONFIG.format(base=base), encoding="utf-8")
        config = load_config(config_path, environ={})
        settings = Settings(
            config_path=str(config_path),
            database_url=f"sqlite:///{Path(tmp) / 'demo.db'}",
            outbox_dir=str(outbox),
            tick_seconds=1.0,
            shutdown_grace=5.0,
        )
        click.echo(f"demo feeds on {base}; config {config_path}; outbox {outbox}/")
        stop = asyncio.Event()
        service = asyncio.create_task(serve(config, settings, stop))
        deadline = time.monotonic() + seconds
        landed: list[Path] = []
        while time.monotonic() < deadline and not service.done():
            landed = sorted(await asyncio.to_thread(_eml_files, outbox) - before)
            if landed and not keep_running:
                break
            await asyncio.sleep(0.2)
        stop.set()
        await service
    if not landed:
        click.echo(f"no digest landed within {seconds:.0f}s", err=True)
        return 1
    for path in landed:
        click.echo(f"\n--- digest written to {path} ---")
        click.echo(_text_part(path))
    return 0


def _eml_files(outbox: Path) -> set[Path]:
    outbox.mkdir(parents=True, exist_ok=True)
    return set(outbox.glob("*.eml"))


def _text_part(path: Path) -> str:
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    part = message.get_body(preferencelist=("plain",))
    header = f"Subject: {message['Subject']}\nTo: {message['To']}\n\n"
    return header + (part.get_content() if part is not None else "")
