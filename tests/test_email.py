"""Email: settings parsing, message building, SMTP against a real aiosmtpd server, outbox."""

from __future__ import annotations

import email
import email.policy
import os
import socket
from pathlib import Path

import pytest

from alerts.delivery.email import (
    OutboxChannel,
    SmtpChannel,
    SmtpSettings,
    build_message,
    message_id,
)
from alerts.domain import ChannelConfig, ChannelKind
from alerts.errors import DeliveryError, PermanentDeliveryError
from tests.support.smtp_server import SmtpTestServer
from tests.test_digest import sample_digest, story_digest

SENDER = "Sanctions Alerts <alerts@example.org>"
TO = ("ana@example.com", "Bo <bo@example.net>")


def channel(
    server: SmtpTestServer | None, to: tuple[str, ...] = TO, url: str | None = None
) -> SmtpChannel:
    assert server is not None or url is not None
    settings = SmtpSettings.from_url(url or server.url)  # type: ignore[union-attr]
    return SmtpChannel("mail", settings, sender=SENDER, to=to, local_hostname="localhost")


# -- settings --------------------------------------------------------------------------


def test_from_url_starttls_default_and_decoded_credentials() -> None:
    s = SmtpSettings.from_url("smtp://me%40corp.com:p%3Ass%2Fw@mail.corp.com:587")
    assert (s.host, s.port, s.security) == ("mail.corp.com", 587, "starttls")
    assert (s.username, s.password) == ("me@corp.com", "p:ss/w")
    assert "p:ss/w" not in repr(s)
    assert SmtpSettings.from_url("smtp://relay").port == 587


def test_from_url_tls_none_and_timeout() -> None:
    assert SmtpSettings.from_url("smtps://mail.corp.com").port == 465
    assert SmtpSettings.from_url("smtps://mail.corp.com:465").security == "tls"
    s = SmtpSettings.from_url("smtp://127.0.0.1:2525?security=none&timeout=5")
    assert (s.security, s.port, s.timeout) == ("none", 2525, 5.0)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://mail.corp.com", "smtp:// or smtps://"),
        ("smtp://", "no host"),
        ("smtp://host:99999", "malformed"),
        ("smtp://host?security=ssl", "security must be one of"),
        ("smtps://host?security=none", "always uses TLS"),
        ("smtp://host?tls=1", "unknown options"),
        ("smtp://host/path", "path"),
        ("smtp://host?timeout=soon", "timeout"),
    ],
)
def test_from_url_rejects_bad_urls_clearly(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SmtpSettings.from_url(url)


# -- messages --------------------------------------------------------------------------


def test_build_message_headers_and_parts() -> None:
    d = sample_digest()
    msg = build_message(d, sender=SENDER, to="ana@example.com", domain="example.org")
    assert msg["Subject"] == "Sanctions alerts: 3 new stories (russia, iran)"
    assert msg["To"] == "ana@example.com"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Alerts-Idempotency-Key"] == "dg-7f3a"
    assert msg["X-Alerts-Subscription"] == "compliance-team"
    assert msg["Date"] == "Sun, 29 Nov 2026 08:15:00 +0000"
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    # Deterministic per key and recipient, different per recipient.
    again = build_message(d, sender=SENDER, to="ANA@example.com", domain="example.org")
    other = build_message(d, sender=SENDER, to="bo@example.net", domain="example.org")
    assert (
        msg["Message-ID"]
        == again["Message-ID"]
        == message_id("dg-7f3a", "ana@example.com", "example.org")
    )
    assert msg["Message-ID"] != other["Message-ID"]
    assert msg["Message-ID"].endswith("@example.org>")


def test_story_digest_message_counts_updates_and_lists_sources() -> None:
    msg = build_message(story_digest(14), sender=SENDER, to="ana@example.com", domain="x.org")
    assert msg["Subject"] == "Sanctions alerts: 3 new stories, 2 updates (russia, iran)"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    for part in (text, html):
        assert "3 new stories and 2 updates for" in part
        assert "Sources (15)" in part and "and 5 more" in part
        assert "Update:" in part and "New: Sovcomflot" in part
    assert "[official] OFAC Recent Actions" in text
    assert ">official</span>" in html


# -- SMTP ------------------------------------------------------------------------------


async def test_one_message_per_recipient_over_smtp(smtp_server: SmtpTestServer) -> None:
    d = sample_digest(2, 1, title="Evil <script>alert(1)</script> Rosneft")
    ch = channel(smtp_server)
    await ch.send(d)
    await ch.aclose()
    received = smtp_server.wait_for(2)
    assert len(received) == 2
    assert [r.rcpt_tos for r in received] == [("ana@example.com",), ("bo@example.net",)]
    assert all(r.mail_from == "alerts@example.org" for r in received)
    first = received[0].message
    assert first["To"] == "ana@example.com"  # never a shared list
    assert received[1].message["To"] == "Bo <bo@example.net>"
    assert first["Auto-Submitted"] == "auto-generated"
    assert first["X-Alerts-Idempotency-Key"] == "dg-7f3a"
    text = first.get_body(("plain",)).get_content()
    html = first.get_body(("html",)).get_content()
    assert "https://example.org/news/1" in text and "**Rosneft**" in text
    assert '<a href="https://example.org/news/1"' in html
    assert "<mark>Rosneft</mark>" in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html


async def test_resend_has_same_message_id(smtp_server: SmtpTestServer) -> None:
    d = sample_digest()
    ch = channel(smtp_server, to=("ana@example.com",))
    await ch.send(d)
    await ch.send(d)
    a, b = smtp_server.wait_for(2)
    assert a.message["Message-ID"] == b.message["Message-ID"]


async def test_auth_over_plain_connection() -> None:
    with SmtpTestServer(auth=("alerts", "s3cr:t")) as server:
        ch = channel(server, to=("ana@example.com",))
        await ch.send(sample_digest())
        [got] = server.wait_for(1)
        assert got.authenticated_as == "alerts"
        bad = channel(server, url=f"smtp://alerts:wrong@127.0.0.1:{server.port}?security=none")
        with pytest.raises(PermanentDeliveryError, match="535"):
            await bad.send(sample_digest())


async def test_starttls_not_offered_is_permanent_never_cleartext(
    smtp_server: SmtpTestServer,
) -> None:
    ch = channel(smtp_server, url=f"smtp://127.0.0.1:{smtp_server.port}")
    with pytest.raises(PermanentDeliveryError, match="STARTTLS"):
        await ch.send(sample_digest())
    assert smtp_server.messages == []


async def test_server_down_is_retryable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once closed
    ch = channel(None, url=f"smtp://127.0.0.1:{port}?security=none&timeout=2")
    with pytest.raises(DeliveryError) as info:
        await ch.send(sample_digest())
    assert type(info.value) is DeliveryError
    assert info.value.channel == "mail"


async def test_451_is_retryable(smtp_server: SmtpTestServer) -> None:
    smtp_server.rcpt_reply = "451 4.3.0 try later"
    with pytest.raises(DeliveryError, match="451") as info:
        await channel(smtp_server).send(sample_digest())
    assert type(info.value) is DeliveryError


async def test_550_for_everyone_is_permanent(smtp_server: SmtpTestServer) -> None:
    smtp_server.rcpt_reply = "550 5.1.1 no such user"
    with pytest.raises(PermanentDeliveryError, match="550"):
        await channel(smtp_server).send(sample_digest())


async def test_one_bad_recipient_does_not_block_the_others(smtp_server: SmtpTestServer) -> None:
    smtp_server.refuse("bo@example.net")
    await channel(smtp_server).send(sample_digest())
    [got] = smtp_server.wait_for(1)
    assert got.rcpt_tos == ("ana@example.com",)


async def test_retry_after_partial_failure_skips_delivered(smtp_server: SmtpTestServer) -> None:
    smtp_server.refuse("bo@example.net", "451 4.2.1 mailbox busy")
    ch = channel(smtp_server)
    d = sample_digest()
    with pytest.raises(DeliveryError, match=r"bo@example\.net"):
        await ch.send(d)
    smtp_server.refused.clear()
    await ch.send(d)
    got = smtp_server.wait_for(2)
    assert [r.rcpt_tos for r in got] == [("ana@example.com",), ("bo@example.net",)]


def test_from_config_uses_channel_recipients() -> None:
    cfg = ChannelConfig("team", ChannelKind.EMAIL, to=("a@x.org", "b@x.org"))
    ch = SmtpChannel.from_config(cfg, SmtpSettings("h"), default_sender="alerts@x.org")
    assert ch.name == "team"
    with pytest.raises(ValueError, match="recipient"):
        SmtpChannel("x", SmtpSettings("h"), sender="alerts@x.org", to=())


# -- outbox ----------------------------------------------------------------------------


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


async def test_outbox_writes_one_file_per_recipient_idempotently(tmp_path: Path) -> None:
    out = tmp_path / "outbox"
    ch = OutboxChannel("outbox", out, SENDER, TO)
    d = sample_digest()
    await ch.send(d)
    names = listing(out)
    assert names == ["20261129T081500Z-dg-7f3a-1.eml", "20261129T081500Z-dg-7f3a-2.eml"]
    first = (out / names[0]).read_bytes()
    await ch.send(d)  # a retry replaces, never adds
    assert listing(out) == names
    assert (out / names[0]).read_bytes() == first
    msg = email.message_from_bytes(first, policy=email.policy.default)
    assert msg["To"] == "ana@example.com"
    assert msg.get_body(("html",)) is not None
    await ch.aclose()


async def test_outbox_is_atomic_and_cleans_up_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ch = OutboxChannel("outbox", tmp_path, SENDER, ("ana@example.com",))
    d = sample_digest()
    replaced: list[tuple[str, str]] = []
    real_replace = os.replace

    def spy(src: str, dst: str) -> None:
        replaced.append((os.fspath(src), os.fspath(dst)))
        assert Path(src).parent == tmp_path  # temp file in the same directory
        assert Path(src).read_bytes().startswith(b"Subject:")  # complete before the rename
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    await ch.send(d)
    assert len(replaced) == 1 and replaced[0][1].endswith("-1.eml")

    def fail(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(DeliveryError, match="No space"):
        await ch.send(sample_digest(1, 1))
    assert listing(tmp_path) == [Path(replaced[0][1]).name]  # no temp file left


def test_outbox_file_names_are_safe() -> None:
    ch = OutboxChannel("o", Path("/tmp/x"), SENDER, ("a@x.org",))
    d = sample_digest()
    from dataclasses import replace

    name = ch.file_name(replace(d, idempotency_key="../../etc/passwd"), 1)
    assert "/" not in name and name.endswith("-1.eml")
    assert name != ch.file_name(replace(d, idempotency_key="__.._etc_passwd"), 1)
