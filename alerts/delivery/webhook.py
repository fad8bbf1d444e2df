"""Generic JSON webhook channel, signed per Standard Webhooks (https://www.standardwebhooks.com).

The body is documented and versioned in docs/webhook-schema.md; change `SCHEMA` when it
changes incompatibly. `post_json` is shared with the Slack channel: it maps HTTP outcomes
onto `DeliveryError` (retry) and `PermanentDeliveryError` (give up).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

import alerts
from alerts.domain import Digest
from alerts.errors import DeliveryError, PermanentDeliveryError
from alerts.retry_after import parse_retry_after

log = logging.getLogger(__name__)

# v2 (issue 4): a story is every item of it (`sources`), and a story the subscriber had
# before comes back as an update line (`update`); v1's fields are all kept.
SCHEMA = "sanctions-alerts.digest/v2"
DEFAULT_TIMEOUT = 15.0
USER_AGENT = f"sanctions-alerts/{alerts.__version__}"
_DETAIL_CHARS = 200


def webhook_body(d: Digest) -> dict[str, Any]:
    """The JSON body (schema v2): one flat list of stories, each tagged with its watchlist."""
    return {
        "schema": SCHEMA,
        "idempotency_key": d.idempotency_key,
        "subscription": d.subscription,
        "created_at": _iso(d.created_at),
        "stories": [
            {
                "title": e.title,
                "link": e.link,
                "feed": e.feed,
                "feed_title": e.feed_title,
                "published": _iso(e.published) if e.published else None,
                "also_in": list(e.also_in),
                "watchlist": s.watchlist,
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
            return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
        except binascii.Error as exc:
            raise ValueError("webhook secret starts with whsec_ but is not base64") from exc
    return secret.encode("utf-8")


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` (a `webhook-signature` value)."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def webhook_headers(d: Digest, body: bytes, *, secret: str = "", timestamp: int) -> dict[str, str]:
    """Headers for one attempt; the id is stable across retries, the timestamp is not."""
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Idempotency-Key": d.idempotency_key,
        "webhook-id": d.idempotency_key,
        "webhook-timestamp": str(timestamp),
    }
    if secret:
        headers["webhook-signature"] = sign(secret, d.idempotency_key, timestamp, body)
    return headers


class WebhookChannel:
    """POSTs the digest as signed JSON to `url`."""

    def __init__(
        self,
        name: str,
        url: str,
        secret: str = "",
        client: httpx.AsyncClient | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if secret:
            signing_key(secret)  # fail at configuration time, not at the first send
        self.name = name
        self._url = url
        self._secret = secret
        self._timeout = timeout
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(timeout=timeout)
        self._clock = clock

    async def send(self, digest: Digest) -> None:
        try:
            body = encode_body(webhook_body(digest))
            headers = webhook_headers(
                digest, body, secret=self._secret, timestamp=int(self._clock())
            )
        except Exception as exc:  # the Channel contract: never anything but DeliveryError
            log.exception("cannot build webhook body for %s", digest.idempotency_key)
            raise DeliveryError(self.name, f"cannot build body: {exc}") from exc
        await post_json(
            self._client, self.name, self._url, body, headers, request_timeout=self._timeout
        )

    async def aclose(self) -> None:
        if self._own_client:
            await self._client.aclose()


async def post_json(
    client: httpx.AsyncClient,
    channel: str,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    request_timeout: float,
) -> None:
    """POST `body`; return on 2xx, else raise DeliveryError / PermanentDeliveryError.

    429, 5xx, timeouts and network errors are retryable; any other status (3xx included:
    we do not follow redirects with a signed body) is permanent. Error messages never
    contain the URL, which is a secret for Slack.
    """
    try:
        response = await client.post(
            url, content=body, headers=dict(headers), timeout=request_timeout
        )
    except httpx.TimeoutException as exc:
        raise DeliveryError(
            channel, f"timed out after {request_timeout:g}s ({type(exc).__name__})"
        ) from exc
    except httpx.HTTPError as exc:
        raise DeliveryError(channel, _redact(f"{type(exc).__name__}: {exc}", url)) from exc
    except Exception as exc:  # the Channel contract: never anything but DeliveryError
        log.exception("unexpected error posting to channel %s", channel)
        raise DeliveryError(channel, f"unexpected {type(exc).__name__}") from exc
    status = response.status_code
    if 200 <= status < 300:
        return
    detail = _redact(response.text[:_DETAIL_CHARS].strip(), url)
    message = f"HTTP {status}" + (f": {detail}" if detail else "")
    if status == 429:
        retry_after = parse_retry_after(response.headers.get("Retry-After"), datetime.now(UTC))
        raise DeliveryError(channel, message, retry_after=retry_after)
    if status >= 500:
        retry_after = parse_retry_after(response.headers.get("Retry-After"), datetime.now(UTC))
        raise DeliveryError(channel, message, retry_after=retry_after)
    raise PermanentDeliveryError(channel, message)


def _redact(text: str, url: str) -> str:
    return text.replace(url, "<url>") if url else text


def _iso(dt: datetime) -> str:
    """ISO 8601 in UTC with a `Z` suffix, e.g. 2026-11-29T08:15:00Z."""
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")
