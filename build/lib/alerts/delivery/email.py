"""Email channels: SMTP (`SmtpChannel`) and a folder of `.eml` files (`OutboxChannel`).

Every recipient gets their own message (never a shared To list, which would disclose the
subscriber list). A message is fully determined by the digest and the recipient: same
Date, same Message-ID, so a resend after a failure can be recognised as a duplicate by
mail clients and by the outbox (which overwrites the same file name).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import smtplib
import ssl
import tempfile
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from alerts.delivery.digest import digest_subject
from alerts.delivery.render import render_html, render_text
from alerts.domain import ChannelConfig, Digest
from alerts.errors import DeliveryError, PermanentDeliveryError

log = logging.getLogger(__name__)

Security = Literal["starttls", "tls", "none"]
_SECURITIES: tuple[Security, ...] = ("starttls", "tls", "none")
_DEFAULT_PORTS = {"smtp": 587, "smtps": 465}
_MEMO_KEYS = 256
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """How to reach the SMTP server. `password` is kept out of `repr` (and so out of logs)."""

    host: str
    port: int = 587
    security: Security = "starttls"
    username: str = ""
    password: str = field(default="", repr=False)
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if not self.host:
            raise ValueError("SMTP host is empty")
        if not 0 < self.port < 65536:
            raise ValueError(f"SMTP port {self.port} is out of range")
        if self.security not in _SECURITIES:
            raise ValueError(f"SMTP security must be one of {', '.join(_SECURITIES)}")
        if self.timeout <= 0:
            raise ValueError("SMTP timeout must be positive")

    @classmethod
    def from_url(cls, url: str) -> SmtpSettings:
        """Parse `smtp://user:pass@host:587` (STARTTLS), `smtps://host:465` (implicit TLS).

        Query options: `security=starttls|tls|none` (`none` sends in clear, for local relays
        and tests), `timeout=<seconds>`. Credentials are percent-decoded.
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
        unknown = set(query) - {"security", "timeout"}
        if unknown:
            raise ValueError(f"{where} has unknown options: {', '.join(sorted(unknown))}")
        security_raw = query.get("security", ["tls" if scheme == "smtps" else "starttls"])[-1]
        if security_raw not in _SECURITIES:
            raise ValueError(f"{where}: security must be one of {', '.join(_SECURITIES)}")
        security: Security = security_raw
        if scheme == "smtps" and security != "tls":
            raise ValueError(f"{where}: smtps:// always uses TLS; use smtp:// for {security}")
        timeout = 30.0
        if "timeout" in query:
            try:
                timeout = float(query["timeout"][-1])
            except ValueError as exc:
                raise ValueError(f"{where}: timeout must be a number of seconds") from exc
        return cls(
            host=parts.hostname,
            port=port or _DEFAULT_PORTS[scheme],
            security=security,
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            timeout=timeout,
        )


# -- messages --------------------------------------------------------------------------


def message_id(idempotency_key: str, recipient: str, domain: str) -> str:
    """`<hash@domain>` from the key and the recipient's address: stable across resends."""
    return f"<{_token(idempotency_key, recipient, 'message-id')}@{domain}>"


def _token(idempotency_key: str, recipient: str, purpose: str) -> str:
    address = parseaddr(recipient)[1].lower() or recipient.lower()
    return hashlib.sha256(f"{purpose}\n{idempotency_key}\n{address}".encode()).hexdigest()[:40]


def build_message(
    d: Digest,
    *,
    sender: str,
    to: str,
    domain: str,
    text: str | None = None,
    html: str | None = None,
) -> EmailMessage:
    """One multipart/alternative message (text + HTML) for one recipient.

    Pass `text`/`html` when sending to many recipients to render the digest once.
    """
    if not domain or not re.fullmatch(r"[A-Za-z0-9.-]+", domain):
        raise ValueError(f"invalid Message-ID domain {domain!r}")
    msg = EmailMessage()
    msg["Subject"] = digest_subject(d)
    msg["From"] = sender
    msg["To"] = to
    # The digest's own time, not "now": a resend must be the same message.
    msg["Date"] = format_datetime(d.created_at)
    msg["Message-ID"] = message_id(d.idempotency_key, to, domain)
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation auto-replies
    msg["X-Alerts-Idempotency-Key"] = d.idempotency_key
    msg["X-Alerts-Subscription"] = d.subscription
    msg.set_content(render_text(d) if text is None else text)
    msg.add_alternative(render_html(d) if html is None else html, subtype="html")
    # The default boundary is random; a derived one keeps a resend byte-identical.
    msg.set_boundary("==alerts-" + _token(d.idempotency_key, to, "boundary"))
    return msg


def _domain_of(sender: str) -> str:
    address = parseaddr(sender)[1]
    return address.rpartition("@")[2] if "@" in address else ""


def _check_recipients(to: Sequence[str]) -> tuple[str, ...]:
    recipients = tuple(to)
    if not recipients:
        raise ValueError("an email channel needs at least one recipient")
    for r in recipients:
        if "@" not in parseaddr(r)[1]:
            raise ValueError(f"invalid email recipient {r!r}")
    return recipients


def _messages(
    d: Digest, sender: str, recipients: Sequence[str], domain: str
) -> list[tuple[str, EmailMessage]]:
    text, html = render_text(d), render_html(d)
    return [
        (r, build_message(d, sender=sender, to=r, domain=domain, text=text, html=html))
        for r in recipients
    ]


# -- SMTP ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Progress:
    """What one send achieved before it returned or failed (filled in the worker thread)."""

    accepted: list[str] = field(default_factory=list)
    temporary: dict[str, str] = field(default_factory=dict)
    permanent: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class _Memo:
    done: set[str] = field(default_factory=set)  # accepted, or refused for good
    any_accepted: bool = False


class SmtpChannel:
    """Sends one message per recipient over a single SMTP connection per digest.

    A recipient refused for good (5xx) while others accepted is logged and dropped; when
    every recipient is refused for good the send is permanent failure. When the send fails
    part-way, the recipients already done are remembered (in memory) and skipped by the
    retry of the same digest, so they do not get it twice.
    """

    def __init__(
        self,
        name: str,
        settings: SmtpSettings,
        *,
        sender: str,
        to: Sequence[str],
        domain: str | None = None,
        local_hostname: str | None = None,
    ) -> None:
        self.name = name
        self._settings = settings
        self._sender = sender
        self._envelope_from = parseaddr(sender)[1]
        if "@" not in self._envelope_from:
            raise ValueError(f"invalid email sender {sender!r}")
        self._to = _check_recipients(to)
        self._domain = domain or _domain_of(sender)
        # None lets smtplib use the host's FQDN in EHLO.
        self._local_hostname = local_hostname
        self._memo: OrderedDict[str, _Memo] = OrderedDict()

    @classmethod
    def from_config(
        cls, config: ChannelConfig, settings: SmtpSettings, *, default_sender: str = ""
    ) -> SmtpChannel:
        """A channel for an `email` ChannelConfig (recipients from `config.to`)."""
        return cls(config.name, settings, sender=config.sender or default_sender, to=config.to)

    async def send(self, digest: Digest) -> None:
        key = digest.idempotency_key
        memo = self._memo.get(key) or _Memo()
        progress = _Progress()
        try:
            pending = [
                (r, m)
                for r, m in _messages(digest, self._sender, self._to, self._domain)
                if _addr(r) not in memo.done
            ]
            if pending:
                await asyncio.to_thread(self._deliver, pending, progress)
        except DeliveryError:
            raise
        except Exception as exc:
            raise self._translate(exc) from exc
        finally:
            memo.done.update(_addr(r) for r in progress.accepted)
            memo.done.update(_addr(r) for r in progress.permanent)
            memo.any_accepted = memo.any_accepted or bool(progress.accepted)
            self._remember(key, memo)

        if progress.temporary:
            raise DeliveryError(self.name, "recipients deferred: " + _summary(progress.temporary))
        if progress.permanent:
            if not memo.any_accepted:
                raise PermanentDeliveryError(
                    self.name, "all recipients refused: " + _summary(progress.permanent)
                )
            log.warning(
                "channel %s: recipients refused for good: %s",
                self.name,
                _summary(progress.permanent),
            )
        self._memo.pop(key, None)

    def _remember(self, key: str, memo: _Memo) -> None:
        self._memo[key] = memo
        self._memo.move_to_end(key)
        while len(self._memo) > _MEMO_KEYS:
            self._memo.popitem(last=False)

    def _deliver(self, messages: list[tuple[str, EmailMessage]], progress: _Progress) -> None:
        """Runs in a worker thread: connect once, send each message, quit."""
        smtp = self._connect()
        try:
            for recipient, msg in messages:
                try:
                    smtp.send_message(
                        msg, from_addr=self._envelope_from, to_addrs=[_addr(recipient)]
                    )
                except smtplib.SMTPRecipientsRefused as exc:
                    for code, reply in exc.recipients.values():
                        _file(progress, recipient, code, reply)
                except smtplib.SMTPDataError as exc:
                    _file(progress, recipient, exc.smtp_code, exc.smtp_error)
                else:
                    progress.accepted.append(recipient)
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def _connect(self) -> smtplib.SMTP:
        s = self._settings
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if s.security == "tls":
            smtp = smtplib.SMTP_SSL(
                s.host,
                s.port,
                local_hostname=self._local_hostname,
                timeout=s.timeout,
                context=context,
            )
        else:
            smtp = smtplib.SMTP(
                s.host, s.port, local_hostname=self._local_hostname, timeout=s.timeout
            )
        try:
            smtp.ehlo()
            if s.security == "starttls":
                # Raises SMTPNotSupportedError when not offered: never fall back to clear text.
                smtp.starttls(context=context)
                smtp.ehlo()
            if s.username:
                smtp.login(s.username, s.password)
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _translate(self, exc: Exception) -> DeliveryError:
        """Map smtplib/socket errors: 5xx and missing features are permanent, the rest retry."""
        where = f"{self._settings.host}:{self._settings.port}"
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            return PermanentDeliveryError(self.name, f"{where}: {exc} (check security/auth)")
        if isinstance(exc, smtplib.SMTPResponseException):
            text = f"{where}: {exc.smtp_code} {_decode(exc.smtp_error)}"
            if 500 <= exc.smtp_code < 600:
                return PermanentDeliveryError(self.name, text)
            return DeliveryError(self.name, text)
        if isinstance(exc, TimeoutError):
            return DeliveryError(self.name, f"{where}: timed out after {self._settings.timeout:g}s")
        if isinstance(exc, smtplib.SMTPException | OSError):
            return DeliveryError(self.name, f"{where}: {type(exc).__name__}: {exc}")
        log.error("channel %s: unexpected error", self.name, exc_info=exc)
        return DeliveryError(self.name, f"unexpected {type(exc).__name__}: {exc}")

    async def aclose(self) -> None:
        """Nothing to close: each send opens and quits its own connection."""


def _addr(recipient: str) -> str:
    return parseaddr(recipient)[1].lower()


def _decode(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply


def _file(progress: _Progress, recipient: str, code: int, reply: bytes | str) -> None:
    text = f"{code} {_decode(reply)}"
    if 500 <= code < 600:
        progress.permanent[recipient] = text
    else:
        progress.temporary[recipient] = text


def _summary(failures: dict[str, str]) -> str:
    return "; ".join(f"{r}: {why}" for r, why in failures.items())


# -- outbox ----------------------------------------------------------------------------


class OutboxChannel:
    """Writes one `.eml` file per recipient into `directory` (for demos, tests, air gaps).

    Names are `<created_at UTC>-<idempotency key>-<n>.eml`: re-sending a digest replaces
    the same files. Each file is written to a temporary name in the same directory and
    renamed into place, so a reader never sees half a message.
    """

    def __init__(
        self,
        name: str,
        directory: Path,
        sender: str,
        to: Sequence[str],
        *,
        domain: str | None = None,
    ) -> None:
        self.name = name
        self.directory = Path(directory)
        self._sender = sender
        self._to = _check_recipients(to)
        self._domain = domain or _domain_of(sender) or "localhost"

    @classmethod
    def from_config(
        cls, config: ChannelConfig, directory: Path, *, default_sender: str = ""
    ) -> OutboxChannel:
        """An outbox for an `email` ChannelConfig (recipients from `config.to`)."""
        return cls(config.name, directory, config.sender or default_sender, config.to)

    def file_name(self, digest: Digest, n: int) -> str:
        """The file for the `n`-th recipient (1-based)."""
        stamp = digest.created_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        key = _SAFE_NAME.sub("_", digest.idempotency_key)
        if key != digest.idempotency_key:
            # Two keys differing only in unsafe characters must not share a file.
            key += "_" + hashlib.sha256(digest.idempotency_key.encode()).hexdigest()[:8]
        return f"{stamp}-{key[:120]}-{n}.eml"

    async def send(self, digest: Digest) -> None:
        try:
            files = [
                (self.directory / self.file_name(digest, n), msg.as_bytes(policy=SMTP_POLICY))
                for n, (_, msg) in enumerate(
                    _messages(digest, self._sender, self._to, self._domain), 1
                )
            ]
            await asyncio.to_thread(self._write_all, files)
        except OSError as exc:
            raise DeliveryError(self.name, f"cannot write to {self.directory}: {exc}") from exc
        except Exception as exc:
            log.error("channel %s: unexpected error", self.name, exc_info=exc)
            raise DeliveryError(self.name, f"unexpected {type(exc).__name__}: {exc}") from exc

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
