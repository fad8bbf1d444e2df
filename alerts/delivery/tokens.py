"""Signed tokens for links in emails: unsubscribe, confirm a subscription, manage it.

A token is `<payload>.<signature>`, both base64url: the payload is JSON `[purpose, issued,
parts...]`, the signature HMAC-SHA256 over the payload with the service's secret key. The
purpose and every part (e.g. the subscription and the address) are signed, so a token for
one subscription or one purpose cannot be used for another, and none can be forged
without the key. Pure: no I/O; the clock is passed in.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from datetime import datetime, timedelta

MIN_KEY_BYTES = 16


class TokenError(ValueError):
    """The token is malformed, forged, for another purpose, or expired."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key(secret: bytes) -> bytes:
    if len(secret) < MIN_KEY_BYTES:
        raise ValueError(f"the secret key must be at least {MIN_KEY_BYTES} bytes")
    return secret


def make_token(secret: bytes, purpose: str, *parts: str, issued: datetime) -> str:
    """A token binding `purpose` and `parts`, issued at `issued` (aware)."""
    if issued.tzinfo is None:
        raise ValueError("issued must be timezone-aware")
    payload = json.dumps(
        [purpose, int(issued.timestamp()), *parts], ensure_ascii=False, separators=(",", ":")
    ).encode("utf-8")
    mac = hmac.new(_key(secret), payload, hashlib.sha256).digest()
    return f"{_b64(payload)}.{_b64(mac)}"


def read_token(
    secret: bytes,
    purpose: str,
    token: str,
    *,
    now: datetime,
    max_age: timedelta | None = None,
) -> tuple[str, ...]:
    """The parts of a valid token for `purpose`; raises TokenError saying what is wrong."""
    payload_b64, dot, mac_b64 = token.strip().partition(".")
    if not dot or not payload_b64 or not mac_b64 or len(token) > 4096:
        raise TokenError("this link is incomplete or malformed")
    try:
        payload, mac = _unb64(payload_b64), _unb64(mac_b64)
    except (binascii.Error, ValueError) as exc:
        raise TokenError("this link is incomplete or malformed") from exc
    expected = hmac.new(_key(secret), payload, hashlib.sha256).digest()
    if not hmac.compare_digest(mac, expected):
        raise TokenError("this link is not valid (it was changed or not issued here)")
    try:
        data = json.loads(payload)
    except ValueError as exc:  # signed by us, so only a key shared with something else
        raise TokenError("this link is not valid") from exc
    if (
        not isinstance(data, list)
        or len(data) < 2
        or not isinstance(data[1], int)
        or not all(isinstance(p, str) for p in [data[0], *data[2:]])
    ):
        raise TokenError("this link is not valid")
    if data[0] != purpose:
        raise TokenError("this link is for something else")
    if max_age is not None and now.timestamp() - data[1] > max_age.total_seconds():
        raise TokenError("this link has expired")
    return tuple(data[2:])
