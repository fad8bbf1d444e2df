"""Generic JSON webhook channel, signed per Standard Webhooks (https://www.standardwebhooks.com),
and the HTTP plumbing every webhook-style channel (Slack, Teams, Discord) shares.

The body is documented and versioned in docs/webhooks.md and described by
docs/webhook.schema.json; change `SCHEMA` when it changes incompatibly.

`post_json` maps one HTTP exchange onto a `Receipt` (2xx), `DeliveryError` (408, 429, 5xx,
timeouts, connection errors: retry, honouring `Retry-After`) or `PermanentDeliveryError`
(every other status, 3xx included: a signed body is never sent on to another address).
`post_messages` sends a digest split into several chat messages and, when one fails,
lets the retry resume after the last accepted message. No error message, excerpt or log
line contains the URL: for Slack, Teams and Discord the URL itself is the credential.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

import alerts
from alerts.delivery.base import Receipt, excerpt
from alerts.delivery.labels import label_texts
from alerts.domain import Digest
from alerts.errors import DeliveryError, PermanentDeliveryError
from alerts.retry_after import parse_retry_after

log = logging.getLogger(__name__)

# v2 (issue 4): a story is every item of it (`sources`), and a story the subscriber had
# before comes back as an update line (`update`); v1's fields are all kept.
# Issue 5 added `urgent`, `heartbeat`, `more_url` and `stories[].importance` within v2:
# additions that change no existing field's type or meaning (see docs/webhooks.md).
# Issue 6 added `stories[].facets` and `stories[].labels`, and the match fields "facet" and
# "designation", within v2 on the same terms.
SCHEMA = "sanctions-alerts.digest/v2"
DEFAULT_TIMEOUT = 15.0
USER_AGENT = f"sanctions-alerts/{alerts.__version__}"
_DETAIL_CHARS = 200  # of the receiver's answer, in the error message (the log keeps more)
_MEMO_KEYS = 256
# A URL's path and query values at least this long are treated as credentials when
# redacting (Slack and Discord keep their token in the path, Power Automate in `sig=`);
# shorter ones are left alone, or "/a" would be cut out of "n/a".
_SECRET_CHARS = 8


# -- body and signature ----------------------------------------------------------------


def webhook_body(d: Digest) -> dict[str, Any]:
    """The JSON body (schema v2): one flat list of every story, each tagged with its watchlist.

    Unlike the chat channels the webhook is not cut to `max_stories`: a machine reads it.
    """
    return {
        "schema": SCHEMA,
        "idempotency_key": d.idempotency_key,
        "subscription": d.subscription,
        "created_at": _iso(d.created_at),
        "urgent": d.urgent,
        "heartbeat": d.empty,
        "more_url": d.more_url or None,
        "stories": [
            {
                "title": e.title,
                "link": e.link,
                "feed": e.feed,
                "feed_title": e.feed_title,
                "published": _iso(e.published) if e.published else None,
                "also_in": list(e.also_in),
                "watchlist": s.watchlist,
                "importance": e.importance.value,
                "matches": [
                    {
                        "watchlist": m.watchlist,
                        "term": m.term,
                        "field": m.field,
                        "snippet": m.snippet,
                        "kind": m.kind.value,
                        "matched": m.matched,
                        "score": m.score,
                        "highlight": list(m.highlight) if m.highlight is not None else None,
                    }
                    for m in e.matches
                ],
                "story_key": e.story_key,
                "sources": [
                    {
                        "feed": x.feed,
                        "feed_title": x.feed_title,
                        "title": x.title,
                        "link": x.link,
                        "published": _iso(x.published) if x.published else None,
                        "official": x.official,
                    }
                    for x in e.sources
                ],
                "update": e.update,
                "edited": e.edited,
                "new_terms": list(e.new_terms),
                "facets": {k: list(v) for k, v in e.facets.values.items() if v},
                "labels": label_texts(e.facets),
            }
            for s in d.sections
            for e in s.entries
        ],
    }


def encode_body(body: Mapping[str, Any]) -> bytes:
    """Compact UTF-8 JSON; the signature covers exactly these bytes."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signing_key(secret: str) -> bytes:
    """The HMAC key: a Standard Webhooks `whsec_<base64>` secret is decoded, else raw UTF-8."""
    if secret.startswith("whsec_"):
        try:
            key = base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except binascii.Error as exc:
            raise ValueError("webhook secret starts with whsec_ but is not base64") from exc
        if not key:
            raise ValueError("webhook secret whsec_ holds no key")
        return key
    return secret.encode("utf-8")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` (one `webhook-signature` entry)."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def webhook_headers(
    d: Digest, body: bytes, *, secret: str = "", previous_secret: str = "", timestamp: int
) -> dict[str, str]:
    """Headers for one attempt; the id is stable across retries, the timestamp is not.

    During a rotation (`previous_secret` set) the signature header carries both
    signatures, new first, space-separated: a receiver holding either secret accepts.
    """
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Idempotency-Key": d.idempotency_key,
        "webhook-id": d.idempotency_key,
        "webhook-timestamp": str(timestamp),
    }
    secrets = [s for s in dict.fromkeys((secret, previous_secret)) if s]
    if secrets:
        headers["webhook-signature"] = " ".join(
            sign(s, d.idempotency_key, timestamp, body) for s in secrets
        )
    return headers


class WebhookChannel:
    """POSTs the digest as signed JSON to `url` (see docs/webhooks.md)."""

    def __init__(
        self,
        name: str,
        url: str,
        secret: str = "",
        previous_secret: str = "",
        client: httpx.AsyncClient | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if previous_secret and not secret:
            raise ValueError("previous_secret is only used during a rotation: set secret too")
        for value in (secret, previous_secret):
            if value:
                signing_key(value)  # fail at configuration time, not at the first send
        self.name = name
        self._url = url
        self._secret = secret
        self._previous_secret = previous_secret
        self._timeout = timeout
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._clock = clock

    async def send(self, digest: Digest) -> Receipt:
        try:
            body = encode_body(webhook_body(digest))
            headers = webhook_headers(
                digest,
                body,
                secret=self._secret,
                previous_secret=self._previous_secret,
                timestamp=int(self._clock()),
            )
        except Exception as exc:  # the Channel contract: never anything but DeliveryError
            log.exception("cannot build webhook body for %s", digest.idempotency_key)
            raise DeliveryError(self.name, f"cannot build body: {exc}") from exc
        return await post_json(
            self._client, self.name, self._url, body, headers, request_timeout=self._timeout
        )

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()


# -- one HTTP exchange -----------------------------------------------------------------


async def post_json(
    client: httpx.AsyncClient,
    channel: str,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    request_timeout: float,
) -> Receipt:
    """POST `body`; a `Receipt` on 2xx, else DeliveryError / PermanentDeliveryError.

    Retryable: 408, 429, 5xx, timeouts and network errors, with `retry_after` from the
    `Retry-After` header (seconds or HTTP date) or a JSON body's `retry_after` (Discord).
    Permanent: every other status, 3xx included (redirects are not followed), and a URL
    that cannot be requested at all. Messages and excerpts never contain the URL.
    """
    redact = _redactor(url)
    try:
        response = await client.post(
            url,
            content=body,
            headers=dict(headers),
            timeout=request_timeout,
            follow_redirects=False,
        )
    except httpx.TimeoutException as exc:
        raise DeliveryError(
            channel, f"timed out after {request_timeout:g}s ({type(exc).__name__})"
        ) from exc
    except (httpx.UnsupportedProtocol, httpx.InvalidURL, httpx.LocalProtocolError) as exc:
        # The request itself is wrong (a configuration mistake): retrying cannot help.
        raise PermanentDeliveryError(
            channel, redact(f"cannot send: {type(exc).__name__}: {exc}")
        ) from exc
    except httpx.HTTPError as exc:  # connection refused or reset, DNS, protocol errors
        raise DeliveryError(channel, redact(f"{type(exc).__name__}: {exc}")) from exc
    except Exception as exc:  # the Channel contract: never anything but DeliveryError
        log.exception("unexpected error posting to channel %s", channel)
        raise DeliveryError(channel, f"unexpected {type(exc).__name__}") from exc

    status = response.status_code
    text = redact(response.text)
    if 200 <= status < 300:
        return Receipt(status=status, response=excerpt(text), messages=1)
    detail = excerpt(text, _DETAIL_CHARS)
    message = f"HTTP {status}" + (f": {detail}" if detail else "")
    if status in (408, 429) or status >= 500:
        raise DeliveryError(
            channel,
            message,
            retry_after=_retry_after(response),
            status=status,
            response=excerpt(text),
        )
    raise PermanentDeliveryError(channel, message, status=status, response=excerpt(text))


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds the receiver asked us to wait, if it said."""
    header = response.headers.get("Retry-After")
    seconds = parse_retry_after(header, datetime.now(UTC))
    if seconds is None and header:
        seconds = _seconds(header)  # Discord may send a fraction ("1.5")
    if seconds is None and response.status_code == 429:
        try:
            data = json.loads(response.content)
        except ValueError:
            return None
        if isinstance(data, dict):
            seconds = _seconds(data.get("retry_after"))
    return seconds


def _seconds(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        seconds = float(value) if isinstance(value, int | float | str) else math.nan
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _redactor(url: str) -> Callable[[str], str]:
    """A function that removes `url` and its secret-bearing parts from a text.

    A receiver may echo the path (Discord's token) or a query value (Power Automate's
    `sig`) rather than the whole URL, so those are removed too.
    """
    parts = urlsplit(url)
    secrets = {url, parts.path + (f"?{parts.query}" if parts.query else "")}
    if len(parts.path) >= _SECRET_CHARS:
        secrets.add(parts.path)
    for pair in parts.query.split("&"):
        value = pair.partition("=")[2]
        secrets |= {v for v in (value, unquote(value)) if len(v) >= _SECRET_CHARS}
    ordered = sorted((s for s in secrets if s), key=len, reverse=True)

    def redact(text: str) -> str:
        for secret in ordered:
            text = text.replace(secret, "<redacted>")
        return text

    return redact


def _iso(dt: datetime) -> str:
    """ISO 8601 in UTC with a `Z` suffix, e.g. 2026-11-29T08:15:00Z."""
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


# -- shared by the chat channels (Slack, Teams, Discord) -------------------------------


def chat_headers(idempotency_key: str) -> dict[str, str]:
    """Headers of a chat message; the key is ignored by the services, useful behind a proxy."""
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Idempotency-Key": idempotency_key,
    }


class MessageProgress:
    """How many messages of each split digest were accepted, by idempotency key.

    When message 3 of 5 fails, the retry (same digest, same split) resumes at 3 instead of
    reposting 1 and 2. In memory only and bounded: after a restart a retry may repeat
    messages, which the chat services cannot deduplicate for us.
    """

    def __init__(self, keys: int = _MEMO_KEYS) -> None:
        self._keys = keys
        self._accepted: OrderedDict[str, int] = OrderedDict()

    def accepted(self, key: str) -> int:
        return self._accepted.get(key, 0)

    def record(self, key: str, count: int) -> None:
        self._accepted[key] = count
        self._accepted.move_to_end(key)
        while len(self._accepted) > self._keys:
            self._accepted.popitem(last=False)

    def forget(self, key: str) -> None:
        self._accepted.pop(key, None)


async def post_messages(
    client: httpx.AsyncClient,
    channel: str,
    url: str,
    messages: Sequence[Mapping[str, Any]],
    *,
    key: str,
    progress: MessageProgress,
    request_timeout: float,
) -> Receipt:
    """POST each message in order, resuming after those a previous attempt got accepted.

    The receipt has the last answer and the digest's message count; an error names the
    message that failed ("message 2/3: HTTP 500 ...").
    """
    headers = chat_headers(key)
    total = len(messages)
    receipt = Receipt(status=None, response="", messages=total)
    for index in range(progress.accepted(key), total):
        body = encode_body(messages[index])
        try:
            got = await post_json(
                client, channel, url, body, headers, request_timeout=request_timeout
            )
        except DeliveryError as exc:
            if total == 1:
                raise
            raise type(exc)(
                exc.channel,
                f"message {index + 1}/{total}: {exc.message}",
                retry_after=exc.retry_after,
                status=exc.status,
                response=exc.response,
            ) from exc
        progress.record(key, index + 1)
        receipt = Receipt(status=got.status, response=got.response, messages=total)
    progress.forget(key)
    return receipt


class ChatChannel:
    """A chat destination fed by an incoming-webhook URL (Slack, Teams, Discord).

    Subclasses name the service (`label`, for logs) and turn a digest into the JSON
    messages to post (`messages`); sending, splitting progress and error mapping are
    shared. The URL holds a token: it is never logged or put into an error.
    """

    label = "chat"

    def __init__(
        self,
        name: str,
        url: str,
        client: httpx.AsyncClient | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.name = name
        self._url = url
        self._timeout = timeout
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._progress = MessageProgress()

    def messages(self, digest: Digest) -> list[dict[str, Any]]:
        """The JSON messages for one digest, in order."""
        raise NotImplementedError

    async def send(self, digest: Digest) -> Receipt:
        try:
            messages = self.messages(digest)
        except Exception as exc:  # the Channel contract: never anything but DeliveryError
            log.exception("cannot build %s messages for %s", self.label, digest.idempotency_key)
            raise DeliveryError(self.name, f"cannot build messages: {exc}") from exc
        return await post_messages(
            self._client,
            self.name,
            self._url,
            messages,
            key=digest.idempotency_key,
            progress=self._progress,
            request_timeout=self._timeout,
        )

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()
