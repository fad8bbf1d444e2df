"""Email channels: SMTP (`SmtpChannel`) and a folder of `.eml` files (`OutboxChannel`).

Every recipient gets their own message (never a shared To list, which would disclose the
subscriber list). A message is fully determined by the digest and the recipient: same
Date, same Message-ID, same unsubscribe link, so a resend after a failure is byte-identical
and can be recognised as a duplicate by mail clients and by the outbox (which overwrites
the same file name).

The body is rendered once per digest (`render.render_email`); only the unsubscribe link
differs between recipients and is filled in with a string join. With `links`, every
message carries RFC 8058 one-click unsubscribe headers pointing at the web side.

Both channels also send the double opt-in confirmation email (`send_confirmation`), so
either can be the service's own mail transport for subscribers' digests, whose addresses
come with each digest (`Digest.recipients`) rather than from the channel's `to`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import hashlib
import logging
import os
import re
import smtplib
import ssl
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.headerregistry import BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.policy import EmailPolicy, Policy
from email.policy import default as DEFAULT_POLICY
from email.utils import format_datetime, formataddr, getaddresses, parseaddr
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, quote, unquote, urlsplit

from alerts.delivery.base import Receipt, excerpt
from alerts.delivery.digest import digest_subject
from alerts.delivery.links import Links
from alerts.delivery.render import confirmation_subject, render_confirmation, render_email
from alerts.domain import ChannelConfig, Digest
from alerts.errors import DeliveryError, PermanentDeliveryError

log = logging.getLogger(__name__)

Security = Literal["starttls", "tls", "none"]
_SECURITIES: tuple[Security, ...] = ("starttls", "tls", "none")
_DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
DEFAULT_TIMEOUT = 30.0
# Long enough to carry a batch of digests over one connection, well under the 5 minutes
# after which servers drop an idle client (RFC 5321 4.5.3.2.7).
DEFAULT_IDLE_TIMEOUT = 30.0
_MEMO_KEYS = 256
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
# C0/C1 controls (CR and LF among them) and Unicode line/paragraph separators: anything
# that could end a header line or hide in one.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
UNSUBSCRIBE_POST = "List-Unsubscribe=One-Click"  # RFC 8058, the only value allowed


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """How to reach the SMTP server. `password` is kept out of `repr` (and so out of logs).

    `cafile` trusts a private CA (PEM) instead of the system's; `idle_timeout` is how long
    an unused connection stays open between sends.
    """

    host: str
    port: int = 587
    security: Security = "starttls"
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = DEFAULT_TIMEOUT
    cafile: str = ""
    idle_timeout: float = DEFAULT_IDLE_TIMEOUT

    def __post_init__(self) -> None:
        if not self.host:
            raise ValueError("SMTP host is empty")
        if not 0 < self.port < 65536:
            raise ValueError(f"SMTP port {self.port} is out of range")
        if self.security not in _SECURITIES:
            raise ValueError(f"SMTP security must be one of {', '.join(_SECURITIES)}")
        if self.timeout <= 0:
            raise ValueError("SMTP timeout must be positive")
        if self.idle_timeout <= 0:
            raise ValueError("SMTP idle timeout must be positive")
        if self.cafile and self.security == "none":
            raise ValueError("SMTP cafile is for TLS; security=none never uses it")

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        """Parse `smtp://user:pass@host:587` (STARTTLS), `smtps://host:465` (implicit TLS).

        Query options: `security=starttls|tls|none` (`none` sends in clear, for local relays
        and tests), `timeout=<seconds>`, `cafile=/path/ca.pem` (a private CA to trust; the
        file must exist). Credentials are percent-decoded.
        """
        where = "SMTP URL"  # never echo the URL: it may hold a password
        try:
            parts = urlsplit(url.strip())
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"{where} is malformed ({exc})") from exc
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS:
            raise ValueError(f"{where} must start with smtp:// or smtps://, not {scheme or '?'}://")
        if not parts.hostname:
            raise ValueError(f"{where} has no host (expected smtp://user:pass@host:587)")
        if parts.path not in ("", "/") or parts.fragment:
            raise ValueError(f"{where} must not have a path or fragment")
        query = parse_qs(parts.query, keep_blank_values=True)
        unknown = set(query) - {"security", "timeout", "cafile"}
        if unknown:
            raise ValueError(f"{where} has unknown options: {', '.join(sorted(unknown))}")
        security_raw = query.get("security", ["tls" if scheme == "smtps" else "starttls"])[-1]
        if security_raw not in _SECURITIES:
            raise ValueError(f"{where}: security must be one of {', '.join(_SECURITIES)}")
        security: Security = security_raw
        if scheme == "smtps" and security != "tls":
            raise ValueError(f"{where}: smtps:// always uses TLS; use smtp:// for {security}")
        timeout = DEFAULT_TIMEOUT
        if "timeout" in query:
            try:
                timeout = float(query["timeout"][-1])
            except ValueError as exc:
                raise ValueError(f"{where}: timeout must be a number of seconds") from exc
        cafile = query.get("cafile", [""])[-1]
        # Checked here so a typo fails at start-up, not at the first digest.
        if cafile and not os.path.isfile(cafile):
            raise ValueError(f"{where}: cafile {cafile} is not a file")
        return cls(
            host=parts.hostname,
            port=port or _DEFAULT_PORTS[scheme],
            security=security,
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            timeout=timeout,
            cafile=cafile,
        )


# -- messages --------------------------------------------------------------------------
#
# Messages are assembled as bytes rather than with EmailMessage: the email package spends
# milliseconds per message parsing and refolding headers and choosing encodings, which at
# thousands of digests a day is most of the cost of sending. Headers shared by a digest's
# messages are folded once (by the email package, so non-ASCII text is encoded properly);
# per recipient only To, Message-ID, the unsubscribe headers and the bodies are written.


class _VerbatimHeader(UnstructuredHeader, BaseHeader):
    """A header written on one line as it is.

    The email package folds a long header at 78 characters and, where a word (a URL) does
    not fit, turns it into RFC 2047 encoded words, which no mail client decodes in
    List-Unsubscribe. One line of up to 998 characters is what RFC 5322 allows.
    """

    def fold(self, *, policy: Policy) -> str:
        return f"{self.name}: {self}{policy.linesep}"


def _message_policy() -> EmailPolicy[EmailMessage]:
    registry = HeaderRegistry()
    registry.map_to_type("list-unsubscribe", _VerbatimHeader)
    registry.map_to_type("list-unsubscribe-post", _VerbatimHeader)
    return DEFAULT_POLICY.clone(header_factory=registry)


# For parsing our own messages back (`build_message`): a re-flattened message keeps its
# List-Unsubscribe header on one line.
_POLICY = _message_policy()
_CRLF = b"\r\n"
# RFC 5322 recommends lines of at most 78 characters: a longer header is folded, a text
# with longer lines gets a transfer encoding.
_MAX_PLAIN_LINE = 78


def header_text(value: str) -> str:
    """`value` made safe for a header: control characters and line breaks become spaces."""
    return _CONTROL.sub(" ", value).strip()


def _header(name: str, value: str) -> bytes:
    """One header, folded and (when not ASCII) RFC 2047-encoded by the email package."""
    value = header_text(value)
    if value.isascii() and len(name) + len(value) + 2 <= _MAX_PLAIN_LINE:
        # Nothing to fold or encode (the common case); the email package takes ~100 µs.
        return f"{name}: {value}\r\n".encode("ascii")
    folded = SMTP_POLICY.header_factory(name, value).fold(policy=SMTP_POLICY)
    return str(folded).encode("ascii")


def message_id(idempotency_key: str, recipient: str, domain: str) -> str:
    """`<hash@domain>` from the key and the recipient's address: stable across resends."""
    return f"<{_token(idempotency_key, recipient, 'message-id')}@{domain}>"


def _token(idempotency_key: str, recipient: str, purpose: str) -> str:
    address = _addr(recipient) or recipient.lower()
    return hashlib.sha256(f"{purpose}\n{idempotency_key}\n{address}".encode()).hexdigest()[:40]


def recipient_problem(recipient: str) -> str | None:
    """Why `recipient` cannot be sent to (None when it can): one plain ASCII address."""
    if _CONTROL.search(recipient):
        return "contains control characters"
    found = _parsed(recipient)
    if len(found) != 1 or "@" not in found[0][1]:
        return "is not one email address"
    if not found[0][1].isascii():
        # smtplib would need SMTPUTF8, which few relays offer.
        return "has non-ASCII characters in its address"
    return None


def _to_header(recipient: str) -> bytes:
    problem = recipient_problem(recipient)
    if problem:
        raise ValueError(f"invalid email recipient {recipient!r}: {problem}")
    # formataddr quotes a display name that needs it and encodes a non-ASCII one.
    return b"To: " + formataddr(_parsed(recipient)[0], "utf-8").encode("ascii") + _CRLF


def _unsubscribe_headers(url: str) -> bytes:
    # Spaces, "<", ">" and "," would end the URL inside the header's <...> list; anything
    # not ASCII (an IDN base URL) is percent-encoded.
    url = quote(re.sub(r"[\s<>,]", "", header_text(url)), safe=_URL_SAFE)
    lines = b"List-Unsubscribe: <" + url.encode("ascii") + b">" + _CRLF
    # RFC 8058 one-click needs an HTTPS URL; an http:// one (a dev setup) gets the plain
    # RFC 2369 header only, which clients treat as a link to open.
    if url.lower().startswith("https://"):
        lines += b"List-Unsubscribe-Post: " + UNSUBSCRIBE_POST.encode("ascii") + _CRLF
    return lines


_URL_SAFE = ":/?#[]@!$&'()*+;=%-._~"


def _check_domain(domain: str) -> None:
    if not domain or not re.fullmatch(r"[A-Za-z0-9.-]+", domain):
        raise ValueError(f"invalid Message-ID domain {domain!r}")


def _part(subtype: str, content: str) -> bytes:
    """A text/`subtype` MIME part: 7bit when it can be, else the shorter of QP and base64."""
    data = content.replace("\r\n", "\n").replace("\r", "\n").encode("utf-8")
    if data.isascii() and max(map(len, data.split(b"\n"))) <= _MAX_PLAIN_LINE:
        cte, payload = "7bit", data
    else:
        cte, payload = "quoted-printable", binascii.b2a_qp(data, istext=True)
        # Mostly non-Latin text (a Russian digest) triples in QP; base64 adds a third.
        if len(payload) > len(data) * 4 // 3 + len(data) // 57 + 2:
            cte, payload = "base64", base64.encodebytes(data)
    head = (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\nContent-Transfer-Encoding: {cte}\r\n\r\n'
    )
    return head.encode("ascii") + payload.replace(b"\n", _CRLF)


def _assemble(headers: bytes, text: str, html: str, boundary: str) -> bytes:
    """The message: `headers` (CRLF-terminated lines), then multipart/alternative text+HTML."""
    b = boundary.encode("ascii")
    return b"".join(
        (
            headers,
            b'MIME-Version: 1.0\r\nContent-Type: multipart/alternative;\r\n boundary="',
            b,
            b'"\r\n\r\n--',
            b,
            _CRLF,
            _part("plain", text),
            b"\r\n--",
            b,
            _CRLF,
            _part("html", html),
            b"\r\n--",
            b,
            b"--\r\n",
        )
    )


@dataclass(frozen=True, slots=True)
class _DigestHeaders:
    """The headers every recipient of one digest gets, folded once."""

    top: bytes  # Subject, From
    rest: bytes  # Date, Auto-Submitted, X-Alerts-*

    @classmethod
    def of(cls, d: Digest, sender: str) -> _DigestHeaders:
        return cls(
            top=_header("Subject", digest_subject(d)) + _header("From", sender),
            rest=b"".join(
                (
                    # The digest's own time, not "now": a resend must be the same message.
                    _header("Date", format_datetime(d.created_at)),
                    b"Auto-Submitted: auto-generated\r\n",  # RFC 3834: no vacation replies
                    _header("X-Alerts-Idempotency-Key", d.idempotency_key),
                    _header("X-Alerts-Subscription", d.subscription),
                )
            ),
        )


def _digest_bytes(
    d: Digest,
    heads: _DigestHeaders,
    to: str,
    domain: str,
    text: str,
    html: str,
    unsubscribe_url: str,
) -> bytes:
    headers = b"".join(
        (
            heads.top,
            _to_header(to),
            b"Message-ID: " + message_id(d.idempotency_key, to, domain).encode("ascii") + _CRLF,
            heads.rest,
            _unsubscribe_headers(unsubscribe_url) if unsubscribe_url else b"",
        )
    )
    # A derived boundary (not a random one) keeps a resend byte-identical.
    return _assemble(headers, text, html, "==alerts-" + _token(d.idempotency_key, to, "boundary"))


def _parse(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=_POLICY)
    assert isinstance(msg, EmailMessage)
    return msg


def build_message(
    d: Digest,
    *,
    sender: str,
    to: str,
    domain: str,
    text: str | None = None,
    html: str | None = None,
    unsubscribe_url: str = "",
) -> EmailMessage:
    """One multipart/alternative message (text + HTML) for one recipient.

    Pass `text`/`html` (from `render_email(...).personalise(...)`) to use bodies rendered
    once for many recipients. With `unsubscribe_url` the message carries RFC 8058
    one-click unsubscribe headers (and, when rendered here, the link in its footers).
    The channels send the same bytes this message is parsed from.
    """
    _check_domain(domain)
    if text is None or html is None:
        rendered = render_email(d, unsubscribe=bool(unsubscribe_url)).personalise(unsubscribe_url)
        text = rendered[0] if text is None else text
        html = rendered[1] if html is None else html
    heads = _DigestHeaders.of(d, sender)
    msg = _parse(_digest_bytes(d, heads, to, domain, text, html, unsubscribe_url))
    for name in ("List-Unsubscribe", "List-Unsubscribe-Post"):
        if name in msg:
            # Stored as header objects, so a caller flattening with another policy (the
            # stock SMTP one) still writes them verbatim instead of refolding the source.
            msg.replace_header(name, str(msg[name]))
    return msg


def confirmation_bytes(
    sender: str,
    to: str,
    subscription: str,
    confirm_url: str,
    *,
    domain: str,
    now: datetime,
) -> bytes:
    """`build_confirmation`'s message as it goes on the wire (CRLF line ends)."""
    _check_domain(domain)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    text, html = render_confirmation(subscription, confirm_url)
    key = f"confirm\n{subscription}\n{now.astimezone(UTC).isoformat()}"
    headers = b"".join(
        (
            _header("Subject", confirmation_subject(subscription)),
            _header("From", sender),
            _to_header(to),
            _header("Date", format_datetime(now.astimezone(UTC))),
            b"Message-ID: " + message_id(key, to, domain).encode("ascii") + _CRLF,
            b"Auto-Submitted: auto-generated\r\n",
            _header("X-Alerts-Subscription", subscription),
        )
    )
    return _assemble(headers, text, html, "==alerts-" + _token(key, to, "boundary"))


def build_confirmation(
    sender: str,
    to: str,
    subscription: str,
    confirm_url: str,
    *,
    domain: str,
    now: datetime,
) -> EmailMessage:
    """The double opt-in email asking `to` to confirm `subscription` at `confirm_url`.

    `now` is when the request was made: it is the Date and part of the Message-ID, so a
    resend of the same request is the same message. No unsubscribe headers: `to` is not
    subscribed to anything until they confirm.
    """
    return _parse(confirmation_bytes(sender, to, subscription, confirm_url, domain=domain, now=now))


def _domain_of(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] if "@" in address else ""


def _check_sender(sender: str) -> str:
    """The envelope address of `sender`; ValueError when it is not one plain address."""
    if recipient_problem(sender):
        raise ValueError(f"invalid email sender {sender!r}")
    return parseaddr(sender)[1]


def _check_recipients(to: Sequence[str]) -> tuple[str, ...]:
    recipients = tuple(to)
    for r in recipients:
        if problem := recipient_problem(r):
            raise ValueError(f"invalid email recipient {r!r}: {problem}")
    return recipients


@functools.lru_cache(maxsize=4096)
def _parsed(recipient: str) -> tuple[tuple[str, str], ...]:
    """The (name, address) pairs in `recipient`; cached, as a send looks at each one often."""
    return tuple(getaddresses([recipient]))


def _addr(recipient: str) -> str:
    """The lower-cased address of `recipient` (`Bo <Bo@X.org>` -> `bo@x.org`)."""
    found = _parsed(recipient)
    return found[0][1].lower() if found else ""


def _unique(recipients: Iterable[str]) -> list[str]:
    """First of each address (case-insensitive): a list naming someone twice sends once."""
    seen: dict[str, str] = {}
    for r in recipients:
        seen.setdefault(_addr(r) or r, r)
    return list(seen.values())


@dataclass(frozen=True, slots=True)
class _Outgoing:
    """One message ready for the wire."""

    recipient: str  # as given, for logs and errors
    address: str  # the envelope RCPT TO
    data: bytes  # CRLF line ends, 7-bit


def _compose(
    d: Digest,
    recipients: Sequence[str],
    *,
    sender: str,
    domain: str,
    links: Links | None,
) -> list[_Outgoing]:
    """Render `d` once, then one message per recipient with its own unsubscribe link."""
    if d.notice:
        links = None  # a notice or a test belongs to no subscription: nothing to leave
    body = render_email(d, unsubscribe=links is not None)
    heads = _DigestHeaders.of(d, sender)
    out = []
    for r in recipients:
        url = ""
        if links is not None:
            # Issued at the digest's time, not now: a resend carries the same link.
            url = links.unsubscribe(d.subscription, _addr(r), issued=d.created_at)
        text, html = body.personalise(url)
        out.append(_Outgoing(r, _addr(r), _digest_bytes(d, heads, r, domain, text, html, url)))
    return out


def _sort_recipients(recipients: Sequence[str]) -> tuple[list[str], dict[str, str]]:
    """(sendable recipients, {unsendable: why}); duplicates dropped."""
    good: list[str] = []
    bad: dict[str, str] = {}
    for r in _unique(recipients):
        problem = recipient_problem(r)
        if problem:
            bad[r] = f"invalid address: {problem}"
        else:
            good.append(r)
    return good, bad


# -- SMTP ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Progress:
    """What one send achieved before it returned or failed (filled in the worker thread)."""

    accepted: list[str] = field(default_factory=list)
    temporary: dict[str, str] = field(default_factory=dict)
    permanent: dict[str, str] = field(default_factory=dict)
    last_code: int | None = None  # the server's last reply, for the receipt or the error
    last_reply: str = ""

    def reply(self, code: int, reply: bytes | str) -> None:
        self.last_code, self.last_reply = code, _decode(reply)

    def file(self, recipient: str, code: int, reply: bytes | str) -> None:
        """A recipient refused: for good (5xx) or for now."""
        self.reply(code, reply)
        text = f"{code} {self.last_reply}"
        if 500 <= code < 600:
            self.permanent[recipient] = text
        else:
            self.temporary[recipient] = text


@dataclass(slots=True)
class _Memo:
    """What earlier attempts at one digest did, so a retry skips who has it already."""

    accepted: set[str] = field(default_factory=set)
    refused: dict[str, str] = field(default_factory=dict)  # refused for good
    last_code: int | None = None
    last_reply: str = ""

    @property
    def done(self) -> set[str]:
        return self.accepted | {_addr(r) for r in self.refused}


class SmtpChannel:
    """Sends one message per recipient, over one SMTP connection kept open between sends.

    Recipients are the digest's own (`Digest.recipients`, fixed when it was planned), or
    else the channel's `to`. A recipient refused for good (5xx) while others accepted is
    logged and dropped; when every recipient is refused for good the send is a permanent
    failure. When a send fails part-way, the recipients already done are remembered (in
    memory) and skipped by the retry of the same digest, so they do not get it twice.

    The connection is reused by consecutive sends (a batch of digests costs one TLS
    handshake and one login), reopened if the server dropped it, and closed after
    `SmtpSettings.idle_timeout` without sends and by `aclose()`. Sends run in worker threads
    (smtplib blocks) one at a time: an asyncio lock queues them without holding threads,
    a thread lock guards the connection itself.
    """

    def __init__(
        self,
        name: str,
        settings: SmtpSettings,
        *,
        sender: str,
        to: Sequence[str] = (),
        domain: str | None = None,
        local_hostname: str | None = None,
        links: Links | None = None,
    ) -> None:
        self.name = name
        self._settings = settings
        self._sender = sender
        self._envelope_from = _check_sender(sender)
        self._to = _check_recipients(to)
        self._domain = domain or _domain_of(sender)
        _check_domain(self._domain)
        # None lets smtplib use the host's FQDN in EHLO.
        self._local_hostname = local_hostname
        self._links = links
        self._tls = _tls_context(settings)
        self._memo: OrderedDict[str, _Memo] = OrderedDict()
        self._smtp: smtplib.SMTP | None = None
        self._conn_lock = threading.Lock()
        self._lock: asyncio.Lock | None = None
        self._lock_loop: asyncio.AbstractEventLoop | None = None
        self._idle_handle: asyncio.TimerHandle | None = None
        self._idle_task: asyncio.Task[None] | None = None

    @classmethod
    def from_config(
        cls,
        config: ChannelConfig,
        settings: SmtpSettings,
        *,
        default_sender: str = "",
        links: Links | None = None,
    ) -> SmtpChannel:
        """A channel for an `email` ChannelConfig (recipients from `config.to`)."""
        return cls(
            config.name,
            settings,
            sender=config.sender or default_sender,
            to=config.to,
            links=links,
        )

    async def send(self, digest: Digest) -> Receipt:
        recipients = _unique(digest.recipients or self._to)
        if not recipients:
            raise PermanentDeliveryError(self.name, "the digest has no recipients")
        key = digest.idempotency_key
        memo = self._memo.get(key) or _Memo()
        progress = _Progress()
        try:
            done = memo.done
            good, bad = _sort_recipients([r for r in recipients if _addr(r) not in done])
            progress.permanent.update(bad)
            if good:
                compose = functools.partial(
                    _compose,
                    digest,
                    good,
                    sender=self._sender,
                    domain=self._domain,
                    links=self._links,
                )
                await self._transmit(compose, progress)
        except DeliveryError:
            raise
        except Exception as exc:
            raise self._translate(exc) from exc
        finally:
            memo.accepted.update(_addr(r) for r in progress.accepted)
            memo.refused.update(progress.permanent)
            if progress.last_code is not None:
                memo.last_code, memo.last_reply = progress.last_code, progress.last_reply
            self._remember(key, memo)

        if progress.temporary:
            raise self._refused(DeliveryError, "recipients deferred", progress.temporary)
        if not memo.accepted:
            raise self._refused(PermanentDeliveryError, "all recipients refused", memo.refused)
        if progress.permanent:
            log.warning(
                "channel %s: recipients refused for good: %s",
                self.name,
                _summary(progress.permanent),
            )
        self._memo.pop(key, None)
        return Receipt(memo.last_code, excerpt(memo.last_reply), len(memo.accepted))

    async def send_confirmation(
        self, *, to: str, subscription: str, confirm_url: str, created_at: datetime
    ) -> Receipt:
        """Send the double opt-in email (see `build_confirmation`)."""
        try:
            data = await asyncio.to_thread(
                confirmation_bytes,
                self._sender,
                to,
                subscription,
                confirm_url,
                domain=self._domain,
                now=created_at,
            )
        except ValueError as exc:
            raise PermanentDeliveryError(self.name, f"cannot build the email: {exc}") from exc
        progress = _Progress()
        try:
            await self._transmit(lambda: [_Outgoing(to, _addr(to), data)], progress)
        except DeliveryError:
            raise
        except Exception as exc:
            raise self._translate(exc) from exc
        if progress.temporary:
            raise self._refused(DeliveryError, "recipient deferred", progress.temporary)
        if progress.permanent:
            raise self._refused(PermanentDeliveryError, "recipient refused", progress.permanent)
        return Receipt(progress.last_code, excerpt(progress.last_reply), 1)

    def _refused(
        self, kind: type[DeliveryError], what: str, failures: dict[str, str]
    ) -> DeliveryError:
        """The error for refused recipients; its status is the first refusal's reply code."""
        summary = _summary(failures)
        first = next(iter(failures.values()), "")
        status = int(first[:3]) if first[:3].isdigit() else None
        return kind(self.name, f"{what}: {summary}", status=status, response=excerpt(summary))

    def _remember(self, key: str, memo: _Memo) -> None:
        self._memo[key] = memo
        self._memo.move_to_end(key)
        while len(self._memo) > _MEMO_KEYS:
            self._memo.popitem(last=False)

    # -- the connection ------------------------------------------------------------------

    def _async_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock_loop is not loop:
            # An asyncio.Lock belongs to one loop; a channel reused under a new loop (one
            # CLI command after another) starts a new lock, and the old loop's timer is void.
            self._lock, self._lock_loop = asyncio.Lock(), loop
            self._cancel_idle()
        return self._lock

    async def _transmit(self, compose: Callable[[], list[_Outgoing]], progress: _Progress) -> None:
        """Compose and send in one worker thread, one send at a time."""
        async with self._async_lock():
            self._cancel_idle()
            worker = asyncio.ensure_future(asyncio.to_thread(self._deliver, compose, progress))
            try:
                await asyncio.shield(worker)
            except asyncio.CancelledError:
                # The thread cannot be stopped mid-message: let it finish (each SMTP step is
                # bounded by the timeout) so `progress`, and the retry memo, are complete.
                await asyncio.wait([worker])
                raise
            finally:
                self._idle_handle = asyncio.get_running_loop().call_later(
                    self._settings.idle_timeout, self._on_idle
                )

    def _cancel_idle(self) -> None:
        if self._idle_handle is not None:
            self._idle_handle.cancel()
            self._idle_handle = None

    def _on_idle(self) -> None:
        self._idle_handle = None
        self._idle_task = asyncio.get_running_loop().create_task(self._close_idle())

    async def _close_idle(self) -> None:
        async with self._async_lock():
            if self._idle_handle is None:  # no send came in while we waited for the lock
                await asyncio.to_thread(self._close)

    def _deliver(self, compose: Callable[[], list[_Outgoing]], progress: _Progress) -> None:
        """Runs in a worker thread: send each message over the open (or a new) connection."""
        # Rendering here rather than in a thread of its own: overlapping it with another
        # send gains nothing under the GIL (the sending thread waits for it after every
        # server reply) and costs a thread hop.
        outgoing = compose()
        with self._conn_lock:
            try:
                for out in outgoing:
                    self._send_one(out, progress)
            except BaseException:
                # The session is in an unknown state: the next send starts a new one.
                self._discard()
                raise

    def _send_one(self, out: _Outgoing, progress: _Progress) -> None:
        smtp = self._begin()
        reply: bytes | str
        code, reply = smtp.rcpt(out.address)
        if code not in (250, 251):
            progress.file(out.recipient, code, reply)
            self._reset(smtp, code)
            return
        try:
            code, reply = smtp.data(out.data)
        except smtplib.SMTPDataError as exc:  # DATA itself refused (no 354)
            code, reply = exc.smtp_code, exc.smtp_error
        if code != 250:
            progress.file(out.recipient, code, reply)
            self._reset(smtp, code)
            return
        progress.reply(code, reply)
        progress.accepted.append(out.recipient)

    def _begin(self) -> smtplib.SMTP:
        """MAIL FROM on the open connection, or on a new one if there is none or it died."""
        smtp = self._smtp
        if smtp is not None:
            try:
                code, reply = smtp.mail(self._envelope_from)
            except smtplib.SMTPServerDisconnected:
                code, reply = 421, b"connection lost"
            if code != 421:
                return self._sender_accepted(smtp, code, reply)
            # Nothing was sent on it yet, so reconnecting cannot send a message twice.
            log.debug("channel %s: SMTP connection was closed by the server; reopening", self.name)
            self._discard()
        smtp = self._smtp = self._connect()
        code, reply = smtp.mail(self._envelope_from)
        return self._sender_accepted(smtp, code, reply)

    def _sender_accepted(self, smtp: smtplib.SMTP, code: int, reply: bytes) -> smtplib.SMTP:
        if code != 250:
            raise smtplib.SMTPSenderRefused(code, reply, self._envelope_from)
        return smtp

    def _reset(self, smtp: smtplib.SMTP, code: int) -> None:
        """After a refusal: RSET for the next message, or drop a connection the server ends."""
        if code == 421:
            self._discard()
            return
        try:
            smtp.rset()
        except smtplib.SMTPServerDisconnected:
            self._discard()

    def _connect(self) -> smtplib.SMTP:
        s = self._settings
        smtp: smtplib.SMTP
        if s.security == "tls":
            smtp = smtplib.SMTP_SSL(
                s.host,
                s.port,
                local_hostname=self._local_hostname,
                timeout=s.timeout,
                context=self._tls,
            )
        else:
            smtp = smtplib.SMTP(
                s.host, s.port, local_hostname=self._local_hostname, timeout=s.timeout
            )
        try:
            smtp.ehlo()
            if s.security == "starttls":
                # Raises SMTPNotSupportedError when not offered: never fall back to clear text.
                smtp.starttls(context=self._tls)
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _discard(self) -> None:
        """Drop the connection without a goodbye (it failed, or the server is closing it)."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def _close(self) -> None:
        """Say QUIT and close (runs in a worker thread)."""
        with self._conn_lock:
            smtp, self._smtp = self._smtp, None
            if smtp is None:
                return
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def _translate(self, exc: Exception) -> DeliveryError:
        """Map smtplib/socket errors: 5xx and missing features are permanent, the rest retry."""
        where = f"{self._settings.host}:{self._settings.port}"
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return PermanentDeliveryError(self.name, f"{where}: {exc} (check security/auth)")
        if isinstance(exc, smtplib.SMTPResponseException):
            reply = _decode(exc.smtp_error)
            text = f"{where}: {exc.smtp_code} {reply}"
            kind = PermanentDeliveryError if 500 <= exc.smtp_code < 600 else DeliveryError
            return kind(self.name, text, status=exc.smtp_code, response=excerpt(reply))
        if isinstance(exc, ssl.SSLCertVerificationError):
            # A certificate we cannot trust will not fix itself by retrying.
            return PermanentDeliveryError(
                self.name, f"{where}: TLS certificate not trusted: {exc.verify_message}"
            )
        if isinstance(exc, TimeoutError):
            return DeliveryError(self.name, f"{where}: timed out after {self._settings.timeout:g}s")
        if isinstance(exc, smtplib.SMTPException | OSError):
            return DeliveryError(self.name, f"{where}: {type(exc).__name__}: {exc}")
        log.error("channel %s: unexpected error", self.name, exc_info=exc)
        return DeliveryError(self.name, f"unexpected {type(exc).__name__}: {exc}")

    async def aclose(self) -> None:
        """Close the connection (QUIT); a later send opens a new one."""
        self._cancel_idle()
        task, self._idle_task = self._idle_task, None
        if task is not None:
            task.cancel()
        async with self._async_lock():
            await asyncio.to_thread(self._close)


def _tls_context(settings: SmtpSettings) -> ssl.SSLContext | None:
    """The context for STARTTLS or implicit TLS, built once (loading CAs is slow)."""
    if settings.security == "none":
        return None
    try:
        return ssl.create_default_context(cafile=settings.cafile or None)
    except (OSError, ssl.SSLError) as exc:
        raise ValueError(f"SMTP cafile {settings.cafile} cannot be loaded: {exc}") from exc


def _decode(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _summary(failures: dict[str, str]) -> str:
    return "; ".join(f"{r}: {why}" for r, why in failures.items())


# -- outbox ----------------------------------------------------------------------------


class OutboxChannel:
    """Writes one `.eml` file per recipient into `directory` (for demos, tests, air gaps).

    Names are `<created_at UTC>-<idempotency key>-<n>.eml`: re-sending a digest replaces
    the same files. Each file is written to a temporary name in the same directory and
    renamed into place, so a reader never sees half a message. Recipients are the digest's
    own, or else the channel's `to`, as for `SmtpChannel`.
    """

    def __init__(
        self,
        name: str,
        directory: Path,
        sender: str,
        to: Sequence[str] = (),
        *,
        domain: str | None = None,
        links: Links | None = None,
    ) -> None:
        self.name = name
        self.directory = Path(directory)
        self._sender = sender
        _check_sender(sender)
        self._to = _check_recipients(to)
        self._domain = domain or _domain_of(sender) or "localhost"
        _check_domain(self._domain)
        self._links = links

    @classmethod
    def from_config(
        cls,
        config: ChannelConfig,
        directory: Path,
        *,
        default_sender: str = "",
        links: Links | None = None,
    ) -> OutboxChannel:
        """An outbox for an `email` ChannelConfig (recipients from `config.to`)."""
        return cls(config.name, directory, config.sender or default_sender, config.to, links=links)

    def file_name(self, digest: Digest, n: int) -> str:
        """The file for the `n`-th recipient (1-based)."""
        return self._name(digest.created_at, digest.idempotency_key, n)

    @staticmethod
    def _name(created_at: datetime, key: str, n: int) -> str:
        stamp = created_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        safe = _SAFE_NAME.sub("_", key)
        if safe != key:
            # Two keys differing only in unsafe characters must not share a file.
            safe += "_" + hashlib.sha256(key.encode()).hexdigest()[:8]
        return f"{stamp}-{safe[:120]}-{n}.eml"

    async def send(self, digest: Digest) -> Receipt:
        recipients, bad = _sort_recipients(digest.recipients or self._to)
        if bad:
            log.warning("channel %s: recipients skipped: %s", self.name, _summary(bad))
        if not recipients:
            raise PermanentDeliveryError(
                self.name, "no valid recipients" + (f": {_summary(bad)}" if bad else "")
            )
        try:
            messages = await asyncio.to_thread(
                _compose,
                digest,
                recipients,
                sender=self._sender,
                domain=self._domain,
                links=self._links,
            )
            files = [
                (self.directory / self.file_name(digest, n), m.data)
                for n, m in enumerate(messages, 1)
            ]
        except Exception as exc:
            raise self._translate(exc) from exc
        return await self._write(files)

    async def send_confirmation(
        self, *, to: str, subscription: str, confirm_url: str, created_at: datetime
    ) -> Receipt:
        """Write the double opt-in email (see `build_confirmation`)."""
        try:
            data = confirmation_bytes(
                self._sender, to, subscription, confirm_url, domain=self._domain, now=created_at
            )
        except ValueError as exc:
            raise PermanentDeliveryError(self.name, f"cannot build the email: {exc}") from exc
        key = "confirm-" + _token(subscription, to, "confirm-file")[:16]
        path = self.directory / self._name(created_at, key, 1)
        return await self._write([(path, data)])

    async def _write(self, files: list[tuple[Path, bytes]]) -> Receipt:
        try:
            await asyncio.to_thread(self._write_all, files)
        except Exception as exc:
            raise self._translate(exc) from exc
        return Receipt(None, f"wrote {len(files)} file(s) to {self.directory}", len(files))

    def _translate(self, exc: Exception) -> DeliveryError:
        if isinstance(exc, DeliveryError):
            return exc
        if isinstance(exc, OSError):
            return DeliveryError(self.name, f"cannot write to {self.directory}: {exc}")
        log.error("channel %s: unexpected error", self.name, exc_info=exc)
        return DeliveryError(self.name, f"unexpected {type(exc).__name__}: {exc}")

    def _write_all(self, files: list[tuple[Path, bytes]]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        for path, data in files:
            _write_atomic(path, data)

    async def aclose(self) -> None:
        """Nothing to close."""


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
