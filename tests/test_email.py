"""Email: settings parsing, message building, SMTP against a real aiosmtpd server, outbox.

The SMTP tests send to a real server (tests/support/smtp_server.py) and read the mail
back: STARTTLS and implicit TLS with a throwaway CA, AUTH LOGIN/PLAIN, one connection
reused across sends, and the headers and bodies as a mail client would see them.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import re
import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest

from alerts.delivery.email import (
    UNSUBSCRIBE_POST,
    OutboxChannel,
    SmtpChannel,
    SmtpSettings,
    build_confirmation,
    build_message,
    message_id,
)
from alerts.delivery.links import Links
from alerts.delivery.tokens import read_token
from alerts.domain import ChannelConfig, ChannelKind
from alerts.errors import DeliveryError, PermanentDeliveryError
from tests.support.smtp_server import SmtpTestServer
from tests.test_digest import HOSTILE_FACETS, NOW, facet_digest, sample_digest, story_digest

SENDER = "Sanctions Alerts <alerts@example.org>"
TO = ("ana@example.com", "Bo <bo@example.net>")
KEY = b"k" * 32
LINKS = Links("https://alerts.example.org", KEY)
USER, PASSWORD = "alerts", "s3cr:t"

MakeChannel = Callable[..., SmtpChannel]


@pytest.fixture
async def make_channel() -> AsyncIterator[MakeChannel]:
    """Builds SMTP channels and closes them after the test (they keep a connection open)."""
    made: list[SmtpChannel] = []

    def make(
        server: SmtpTestServer | None = None,
        *,
        to: tuple[str, ...] = TO,
        url: str | None = None,
        **kwargs: Any,
    ) -> SmtpChannel:
        assert server is not None or url is not None
        settings = SmtpSettings.from_url(url or server.url)  # type: ignore[union-attr]
        if "idle_timeout" in kwargs:
            settings = replace(settings, idle_timeout=kwargs.pop("idle_timeout"))
        ch = SmtpChannel(
            "mail", settings, sender=SENDER, to=to, local_hostname="localhost", **kwargs
        )
        made.append(ch)
        return ch

    yield make
    for ch in made:
        await ch.aclose()


def body(msg: Any, kind: str) -> str:
    """The decoded text or HTML part."""
    return str(msg.get_body((kind,)).get_content())


def unsubscribe_url(msg: Any) -> str:
    header = str(msg["List-Unsubscribe"])
    assert header.startswith("<") and header.endswith(">")
    return header[1:-1]


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


def test_from_url_cafile(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not checked here")
    assert SmtpSettings.from_url(f"smtps://relay.corp?cafile={ca}").cafile == str(ca)
    assert SmtpSettings.from_url("smtp://relay.corp").cafile == ""
    with pytest.raises(ValueError, match=r"cafile .* is not a file"):
        SmtpSettings.from_url(f"smtp://relay.corp?cafile={tmp_path / 'missing.pem'}")
    with pytest.raises(ValueError, match="cafile is for TLS"):
        SmtpSettings.from_url(f"smtp://relay.corp?security=none&cafile={ca}")
    # A file that is not a CA bundle fails when the channel is built, not at the first send.
    with pytest.raises(ValueError, match="cannot be loaded"):
        SmtpChannel("m", SmtpSettings.from_url(f"smtp://relay.corp?cafile={ca}"), sender=SENDER)


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
    assert msg["List-Unsubscribe"] is None  # only with links
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


def test_build_message_with_unsubscribe_link_in_headers_and_both_footers() -> None:
    url = LINKS.unsubscribe("compliance-team", "ana@example.com", issued=NOW)
    msg = build_message(
        sample_digest(), sender=SENDER, to="ana@example.com", domain="x.org", unsubscribe_url=url
    )
    assert unsubscribe_url(msg) == url
    assert msg["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"Unsubscribe: {url}" in body(msg, "plain")
    assert f'<a href="{url}"' in body(msg, "html")
    # Re-flattened by the email package, the long URL stays one line (no encoded words).
    flat = msg.as_bytes(policy=email.policy.SMTP)
    assert f"List-Unsubscribe: <{url}>\r\n".encode() in flat


def test_plain_http_links_get_no_one_click_header() -> None:
    url = Links("http://localhost:8080", KEY).unsubscribe("s", "a@x.org", issued=NOW)
    msg = build_message(
        sample_digest(), sender=SENDER, to="a@x.org", domain="x.org", unsubscribe_url=url
    )
    assert unsubscribe_url(msg) == url
    assert msg["List-Unsubscribe-Post"] is None  # RFC 8058 one-click is HTTPS only


def test_story_digest_message_counts_updates_and_lists_sources() -> None:
    msg = build_message(story_digest(14), sender=SENDER, to="ana@example.com", domain="x.org")
    assert msg["Subject"] == "Sanctions alerts: 3 new stories, 2 updates (russia, iran)"
    text = body(msg, "plain")
    html = body(msg, "html")
    for part in (text, html):
        assert "3 new stories and 2 updates for" in part
        assert "Sources (15)" in part and "and 5 more" in part
        assert "Update:" in part and "New: Sovcomflot" in part
    assert "[official] OFAC Recent Actions" in text
    assert ">official</span>" in html


def test_message_shows_labels_in_both_parts_and_escapes_them() -> None:
    msg = build_message(facet_digest(), sender=SENDER, to="ana@example.com", domain="x.org")
    text, html = body(msg, "plain"), body(msg, "html")
    assert "[EU] [Sanctions package] [Russia] [Belarus] [Asset freeze] [Travel ban]" in text
    assert "[US] [Added to us-ofac-sdn] [Russia] [Asset freeze] [RUSSIA-EO14024]" in text
    assert re.search(r'<span class="label label-issuer" style="[^"]+">EU</span>', html)
    assert ">Added to us-ofac-sdn</span>" in html
    # Facet values from feeds are text in HTML, never markup; the subject has none.
    evil = build_message(
        facet_digest(HOSTILE_FACETS), sender=SENDER, to="ana@example.com", domain="x.org"
    )
    html = body(evil, "html")
    assert "<script" not in html and "<!channel>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;</span>" in html
    assert "[<script>alert(1)</script>]" in body(evil, "plain")
    assert "<" not in str(evil["Subject"])


def test_non_ascii_names_are_encoded_in_headers() -> None:
    d = replace(sample_digest(), subscription="Équipe conformité")
    msg = build_message(d, sender="Alertes Sécurité <a@x.org>", to="Zoë <z@x.org>", domain="x.org")
    raw = msg.as_bytes()
    assert raw.isascii()
    assert msg["X-Alerts-Subscription"] == "Équipe conformité"
    assert msg["From"] == "Alertes Sécurité <a@x.org>"
    assert msg["To"] == "Zoë <z@x.org>"


def test_confirmation_email() -> None:
    url = LINKS.confirm("russia-daily", "zoe@example.com", issued=NOW)
    msg = build_confirmation(
        SENDER, "zoe@example.com", "russia-daily", url, domain="example.org", now=NOW
    )
    assert msg["Subject"] == 'Confirm your Sanctions Alerts subscription "russia-daily"'
    assert msg["To"] == "zoe@example.com"
    assert msg["Date"] == "Sun, 29 Nov 2026 08:15:00 +0000"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["List-Unsubscribe"] is None  # not subscribed to anything yet
    assert url in body(msg, "plain")
    assert f'href="{url}"' in body(msg, "html")
    again = build_confirmation(
        SENDER, "zoe@example.com", "russia-daily", url, domain="example.org", now=NOW
    )
    assert again.as_bytes() == msg.as_bytes()
    with pytest.raises(ValueError, match="http"):
        build_confirmation(
            SENDER, "z@x.org", "s", "javascript:alert(1)", domain="example.org", now=NOW
        )


# -- SMTP: TLS and AUTH ----------------------------------------------------------------


@pytest.mark.parametrize("mechanism", ["LOGIN", "PLAIN"])
async def test_starttls_with_private_ca_and_auth(mechanism: str, make_channel: MakeChannel) -> None:
    with SmtpTestServer(
        auth=(USER, PASSWORD), tls="starttls", auth_mechanisms=(mechanism,)
    ) as server:
        assert "cafile=" in server.url
        receipt = await make_channel(server, to=("ana@example.com",)).send(sample_digest())
        [got] = server.wait_for(1)
        assert got.tls and got.authenticated_as == USER
        assert server.logins == [(mechanism, USER)]
        assert (receipt.status, receipt.messages) == (250, 1)
        assert "Message accepted" in receipt.response


async def test_implicit_tls_smtps(make_channel: MakeChannel) -> None:
    with SmtpTestServer(auth=(USER, PASSWORD), tls="implicit") as server:
        assert server.url.startswith("smtps://")
        await make_channel(server, to=("ana@example.com",)).send(sample_digest())
        [got] = server.wait_for(1)
        assert got.tls and got.authenticated_as == USER


async def test_untrusted_certificate_is_permanent(make_channel: MakeChannel) -> None:
    with SmtpTestServer(tls="starttls") as server:
        # The system's CAs do not know the test CA.
        ch = make_channel(url=f"smtp://{server.host}:{server.port}")
        with pytest.raises(PermanentDeliveryError, match="certificate"):
            await ch.send(sample_digest())
        assert server.messages == []


async def test_wrong_password_is_permanent_with_the_server_reply(
    make_channel: MakeChannel,
) -> None:
    with SmtpTestServer(auth=(USER, PASSWORD), tls="starttls") as server:
        bad = make_channel(url=server.url.replace(PASSWORD, "wrong"))
        with pytest.raises(PermanentDeliveryError) as info:
            await bad.send(sample_digest())
        assert info.value.status == 535
        assert "Authentication credentials invalid" in info.value.response
        assert "535" in str(info.value) and "wrong" not in str(info.value)
        assert server.messages == []


async def test_auth_over_plain_connection(make_channel: MakeChannel) -> None:
    with SmtpTestServer(auth=(USER, PASSWORD)) as server:
        ch = make_channel(server, to=("ana@example.com",))
        await ch.send(sample_digest())
        [got] = server.wait_for(1)
        assert got.authenticated_as == USER and not got.tls
        bad = make_channel(url=f"smtp://alerts:wrong@127.0.0.1:{server.port}?security=none")
        with pytest.raises(PermanentDeliveryError, match="535"):
            await bad.send(sample_digest())


async def test_starttls_not_offered_is_permanent_never_cleartext(
    smtp_server: SmtpTestServer, make_channel: MakeChannel
) -> None:
    ch = make_channel(url=f"smtp://127.0.0.1:{smtp_server.port}")
    with pytest.raises(PermanentDeliveryError, match="STARTTLS"):
        await ch.send(sample_digest())
    assert smtp_server.messages == []


# -- SMTP: messages as received --------------------------------------------------------


async def test_one_message_per_recipient_over_smtp(
    smtp_server: SmtpTestServer, make_channel: MakeChannel
) -> None:
    d = sample_digest(2, 1, title="Evil <script>alert(1)</script> Rosneft")
    receipt = await make_channel(smtp_server).send(d)
    received = smtp_server.wait_for(2)
    assert len(received) == 2 and receipt.messages == 2
    assert [r.rcpt_tos for r in received] == [("ana@example.com",), ("bo@example.net",)]
    assert all(r.mail_from == "alerts@example.org" for r in received)
    first = received[0].message
    assert first["To"] == "ana@example.com"  # never a shared list
    assert received[1].message["To"] == "Bo <bo@example.net>"
    assert first["Auto-Submitted"] == "auto-generated"
    assert first["X-Alerts-Idempotency-Key"] == "dg-7f3a"
    text = body(first, "plain")
    html = body(first, "html")
    assert "https://example.org/news/1" in text and "**Rosneft**" in text
    assert '<a href="https://example.org/news/1"' in html
    assert re.search(r"<mark style=\"[^\"]*background: #ffe066[^\"]*\">Rosneft</mark>", html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html


async def test_digest_recipients_replace_the_channel_list(
    smtp_server: SmtpTestServer, make_channel: MakeChannel
) -> None:
    d = replace(sample_digest(), recipients=("zoe@example.org", "Yan <yan@example.org>"))
    receipt = await make_channel(smtp_server).send(d)
    got = smtp_server.wait_for(2)
    assert [r.rcpt_tos for r in got] == [("zoe@example.org",), ("yan@example.org",)]
    assert [r.message["To"] for r in got] == ["zoe@example.org", "Yan <yan@example.org>"]
    assert receipt.messages == 2
    # A transport with no list of its own sends subscribers' digests only.
    transport = make_channel(smtp_server, to=())
    with pytest.raises(PermanentDeliveryError, match="no recipients"):
        await transport.send(sample_digest())


async def test_list_unsubscribe_headers_and_links_read_back(
    smtp_server: SmtpTestServer, make_channel: MakeChannel
) -> None:
    ch = make_channel(smtp_server, links=LINKS)
    d = sample_digest()
    await ch.send(d)
    for r, address in zip(
        smtp_server.wait_for(2), ("ana@example.com", "bo@example.net"), strict=True
    ):
        msg = r.message
        url = unsubscribe_url(msg)
        parts = urlsplit(url)
        assert (parts.scheme, parts.netloc) == ("https", "alerts.example.org")
        kind, token = parts.path.strip("/").split("/")
        assert kind == "unsubscribe"
        assert read_token(KEY, "unsubscribe", unquote(token), now=datetime.now(UTC)) == (
            "compliance-team",
            address,
        )
        assert msg["List-Unsubscribe-Post"] == UNSUBSCRIBE_POST == "List-Unsubscribe=One-Click"
        # On the wire as one plain line: clients do not decode RFC 2047 words here.
        assert f"List-Unsubscribe: <{url}>\r\n".encode() in r.raw
        assert f"Unsubscribe: {url}" in body(msg, "plain")
        assert f'<a href="{url}"' in body(msg, "html")


async def test_resend_is_byte_identical(
    smtp_server: SmtpTestServer, make_channel: MakeChannel
) -> None:
    d = sample_digest()
    ch = make_channel(smtp_server, to=("ana@example.com",), links=LINKS)
    await ch.send(d)
    await ch.send(d)
    a, b = smtp_server.wait_for(2)
    assert a.message["Message-ID"] == b.message["Message-ID"]
    assert a.message["Date"] == b.message["Date"] == "Sun, 29 Nov 2026 08:15:00 +0000"
    assert a.raw == b.raw


async def test_no_header_injection_from_names_titles_or_addresses(
    smtp_server: SmtpTestServer, make_channel: MakeChannel
) -> None:
    d = sample_digest(1, 0, title="Title\r\nBcc: victim@evil.example")
    section = replace(d.sections[0], watchlist="russia\r\nBcc: list@evil.example")
    d = replace(
        d,
        subscription="team\r\nBcc: sub@evil.example\u2028X-Evil: 1",
        idempotency_key="k\nX-Evil: 2",
        sections=(section,),
    )
    await make_channel(smtp_server, to=("ana@example.com",), links=LINKS).send(d)
    [got] = smtp_server.wait_for(1)
    msg = got.message
    assert got.rcpt_tos == ("ana@example.com",)
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert msg["X-Alerts-Subscription"] == "team Bcc: sub@evil.example X-Evil: 1"
    assert "\n" not in msg["Subject"] and "Bcc" in msg["Subject"]
    headers = got.raw.split(b"\r\n\r\n", 1)[0]
    assert not re.search(rb"^(Bcc|X-Evil):", headers, re.MULTILINE | re.IGNORECASE)
    # An address smuggling a second one is refused, never sent to.
    hostile = replace(sample_digest(), recipients=("a@example.org\r\nBcc: b@evil.example",))
    with pytest.raises(PermanentDeliveryError, match="invalid address"):
        await make_channel(smtp_server).send(hostile)
    assert len(smtp_server.messages) == 1


async def test_html_is_inlined_and_keeps_media_queries(
    smtp_server: SmtpTestServer, make_channel: MakeChannel
) -> None:
    await make_channel(smtp_server, to=("ana@example.com",)).send(sample_digest())
    html = body(smtp_server.wait_for(1)[0].message, "html")
    head, page = html.split("</head>", 1)
    assert '<meta name="color-scheme" content="light dark">' in head
    assert 'name="viewport"' in head
    assert "@media (prefers-color-scheme: dark)" in head and "@media (max-width:" in head
    assert "!important" in head
    # Rules outside @media went into style attributes and left the <style> block.
    assert "max-width: 600px" in page and "<body style=" in page
    assert '<h2 style="' in page and "mark {" not in head.split("@media", 1)[0]
    assert re.search(r"mark[^{]*\{[^}]*background", head.split("prefers-color-scheme", 1)[1])


async def test_times_are_in_the_subscriber_zone(
    smtp_server: SmtpTestServer, make_channel: MakeChannel
) -> None:
    d = replace(sample_digest(), timezone="Asia/Tokyo")
    await make_channel(smtp_server, to=("ana@example.com",)).send(d)
    msg = smtp_server.wait_for(1)[0].message
    for part in (body(msg, "plain"), body(msg, "html")):
        assert "29 Nov 2026 17:15 JST" in part  # created_at, 08:15 UTC
        assert "29 Nov 2026 16:15 JST" in part  # the first story, an hour earlier
        assert "GMT" not in part
    assert msg["Date"] == "Sun, 29 Nov 2026 08:15:00 +0000"  # headers stay UTC


async def test_more_stories_link_heartbeat_and_urgent(
    smtp_server: SmtpTestServer, make_channel: MakeChannel
) -> None:
    ch = make_channel(smtp_server, to=("ana@example.com",))
    more = "https://alerts.example.org/digests/tok"
    await ch.send(replace(sample_digest(3, 2), max_stories=2, more_url=more))
    await ch.send(replace(sample_digest(), idempotency_key="hb", sections=()))
    await ch.send(replace(sample_digest(), idempotency_key="urgent", urgent=True))
    cut, heartbeat, urgent = (r.message for r in smtp_server.wait_for(3))

    text, html = body(cut, "plain"), body(cut, "html")
    assert text.count("\n* ") == 2 and f"... and 3 more stories: {more}" in text
    assert re.search(rf'<a href="{more}"[^>]*>and 3 more stories', html)
    assert html.count('class="story"') == 2

    text, html = body(heartbeat, "plain"), body(heartbeat, "html")
    assert "No new alerts since the last digest" in text and "##" not in text
    assert "No new alerts since the last digest" in html and "<h2" not in html
    assert len(text) < 400

    text, html = body(urgent, "plain"), body(urgent, "html")
    assert text.startswith("!! URGENT")
    assert html.index('class="urgent"') < html.index("<h1")


# -- SMTP: the connection --------------------------------------------------------------


async def test_consecutive_sends_share_one_connection(
    smtp_server: SmtpTestServer, make_channel: MakeChannel
) -> None:
    ch = make_channel(smtp_server)
    for n in range(3):
        await ch.send(replace(sample_digest(), idempotency_key=f"k{n}"))
    assert len(smtp_server.wait_for(6)) == 6
    assert smtp_server.connections == 1


async def test_concurrent_sends_take_turns_on_one_connection(
    smtp_server: SmtpTestServer, make_channel: MakeChannel
) -> None:
    ch = make_channel(smtp_server)
    receipts = await asyncio.gather(
        *(ch.send(replace(sample_digest(), idempotency_key=f"k{n}")) for n in range(5))
    )
    assert [r.messages for r in receipts] == [2] * 5
    got = smtp_server.wait_for(10)
    assert len({r.message["Message-ID"] for r in got}) == 10
    assert smtp_server.connections == 1


async def test_a_dropped_connection_is_reopened(
    smtp_server: SmtpTestServer, make_channel: MakeChannel
) -> None:
    ch = make_channel(smtp_server)
    await ch.send(replace(sample_digest(), idempotency_key="a"))
    smtp_server.wait_for(2)
    assert smtp_server.drop_connections() == 1
    await asyncio.sleep(0.05)  # let the close reach the client
    await ch.send(replace(sample_digest(), idempotency_key="b"))
    got = smtp_server.wait_for(4)
    assert [r.message["X-Alerts-Idempotency-Key"] for r in got] == ["a", "a", "b", "b"]
    assert smtp_server.connections == 2


async def test_a_dropped_tls_connection_is_reopened(make_channel: MakeChannel) -> None:
    with SmtpTestServer(auth=(USER, PASSWORD), tls="starttls") as server:
        ch = make_channel(server, to=("ana@example.com",))
        await ch.send(replace(sample_digest(), idempotency_key="a"))
        server.drop_connections()
        await asyncio.sleep(0.05)
        await ch.send(replace(sample_digest(), idempotency_key="b"))
        assert len(server.wait_for(2)) == 2
        assert server.connections == 2 and len(server.logins) == 2


async def test_idle_connection_is_closed_and_aclose_closes(
    smtp_server: SmtpTestServer, make_channel: MakeChannel
) -> None:
    ch = make_channel(smtp_server, to=("ana@example.com",), idle_timeout=0.1)
    await ch.send(replace(sample_digest(), idempotency_key="a"))
    await asyncio.sleep(0.4)  # past the idle timeout: the channel said QUIT
    await ch.send(replace(sample_digest(), idempotency_key="b"))
    assert smtp_server.connections == 2
    await ch.aclose()
    await ch.send(replace(sample_digest(), idempotency_key="c"))  # usable after aclose
    assert smtp_server.connections == 3
    assert len(smtp_server.wait_for(3)) == 3


# -- SMTP: failures --------------------------------------------------------------------


async def test_server_down_is_retryable(make_channel: MakeChannel) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens once closed
    ch = make_channel(url=f"smtp://127.0.0.1:{port}?security=none&timeout=2")
    with pytest.raises(DeliveryError) as info:
        await ch.send(sample_digest())
    assert type(info.value) is DeliveryError
    assert info.value.channel == "mail"


async def test_451_is_retryable(smtp_server: SmtpTestServer, make_channel: MakeChannel) -> None:
    smtp_server.rcpt_reply = "451 4.3.0 try later"
    with pytest.raises(DeliveryError, match="451") as info:
        await make_channel(smtp_server).send(sample_digest())
    assert type(info.value) is DeliveryError
    assert info.value.status == 451 and "try later" in info.value.response


async def test_550_for_everyone_is_permanent(
    smtp_server: SmtpTestServer, make_channel: MakeChannel
) -> None:
    smtp_server.rcpt_reply = "550 5.1.1 no such user"
    with pytest.raises(PermanentDeliveryError, match="550") as info:
        await make_channel(smtp_server).send(sample_digest())
    assert info.value.status == 550


async def test_one_bad_recipient_does_not_block_the_others(
    smtp_server: SmtpTestServer, make_channel: MakeChannel
) -> None:
    smtp_server.refuse("bo@example.net")
    receipt = await make_channel(smtp_server).send(sample_digest())
    [got] = smtp_server.wait_for(1)
    assert got.rcpt_tos == ("ana@example.com",)
    assert receipt.messages == 1


async def test_data_refused_for_one_message_keeps_the_connection(
    smtp_server: SmtpTestServer, make_channel: MakeChannel
) -> None:
    smtp_server.data_reply = "554 5.6.0 message rejected"
    ch = make_channel(smtp_server, to=("ana@example.com",))
    with pytest.raises(PermanentDeliveryError, match="554"):
        await ch.send(sample_digest())
    smtp_server.data_reply = None
    await ch.send(replace(sample_digest(), idempotency_key="next"))
    assert len(smtp_server.wait_for(1)) == 1
    assert smtp_server.connections == 1


async def test_retry_after_partial_failure_skips_delivered(
    smtp_server: SmtpTestServer, make_channel: MakeChannel
) -> None:
    smtp_server.refuse("bo@example.net", "451 4.2.1 mailbox busy")
    ch = make_channel(smtp_server)
    d = sample_digest()
    with pytest.raises(DeliveryError, match=r"bo@example\.net"):
        await ch.send(d)
    smtp_server.refused.clear()
    receipt = await ch.send(d)
    got = smtp_server.wait_for(2)
    assert [r.rcpt_tos for r in got] == [("ana@example.com",), ("bo@example.net",)]
    assert receipt.messages == 2  # both recipients have it, over the two attempts


async def test_send_confirmation_over_smtp(
    smtp_server: SmtpTestServer, make_channel: MakeChannel
) -> None:
    url = LINKS.confirm("russia-daily", "zoe@example.com", issued=NOW)
    receipt = await make_channel(smtp_server, to=()).send_confirmation(
        to="zoe@example.com", subscription="russia-daily", confirm_url=url, created_at=NOW
    )
    [got] = smtp_server.wait_for(1)
    assert got.rcpt_tos == ("zoe@example.com",) and receipt.status == 250
    assert url in body(got.message, "plain")


def test_from_config_uses_channel_recipients() -> None:
    cfg = ChannelConfig("team", ChannelKind.EMAIL, to=("a@x.org", "b@x.org"))
    ch = SmtpChannel.from_config(cfg, SmtpSettings("h"), default_sender="alerts@x.org")
    assert ch.name == "team"
    with pytest.raises(ValueError, match="recipient"):
        SmtpChannel("x", SmtpSettings("h"), sender="alerts@x.org", to=("not an address",))
    with pytest.raises(ValueError, match="sender"):
        SmtpChannel("x", SmtpSettings("h"), sender="a@x.org\r\nBcc: b@y.org")


# -- outbox ----------------------------------------------------------------------------


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


async def test_outbox_writes_one_file_per_recipient_idempotently(tmp_path: Path) -> None:
    out = tmp_path / "outbox"
    ch = OutboxChannel("outbox", out, SENDER, TO)
    d = sample_digest()
    receipt = await ch.send(d)
    assert receipt.messages == 2
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


async def test_outbox_carries_unsubscribe_headers_and_digest_recipients(tmp_path: Path) -> None:
    ch = OutboxChannel("outbox", tmp_path, SENDER, links=LINKS)
    d = replace(sample_digest(), recipients=("zoe@example.org",))
    receipt = await ch.send(d)
    [name] = listing(tmp_path)
    assert receipt.messages == 1 and str(tmp_path) in receipt.response
    msg = email.message_from_bytes((tmp_path / name).read_bytes(), policy=email.policy.default)
    assert msg["To"] == "zoe@example.org"
    assert msg["List-Unsubscribe-Post"] == UNSUBSCRIBE_POST
    token = unquote(unsubscribe_url(msg).rsplit("/", 1)[1])
    assert read_token(KEY, "unsubscribe", token, now=NOW) == ("compliance-team", "zoe@example.org")
    with pytest.raises(PermanentDeliveryError, match="no valid recipients"):
        await ch.send(sample_digest())  # no list of its own, none in the digest


async def test_outbox_writes_confirmation(tmp_path: Path) -> None:
    ch = OutboxChannel("outbox", tmp_path, SENDER)
    url = LINKS.confirm("s", "zoe@example.org", issued=NOW)
    receipt = await ch.send_confirmation(
        to="zoe@example.org", subscription="s", confirm_url=url, created_at=NOW
    )
    [name] = listing(tmp_path)
    assert receipt.messages == 1 and name.startswith("20261129T081500Z-confirm-")
    msg = email.message_from_bytes((tmp_path / name).read_bytes(), policy=email.policy.default)
    assert url in body(msg, "plain")


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
    name = ch.file_name(replace(d, idempotency_key="../../etc/passwd"), 1)
    assert "/" not in name and name.endswith("-1.eml")
    assert name != ch.file_name(replace(d, idempotency_key="__.._etc_passwd"), 1)
