"""The public links put into messages: unsubscribe, confirm, manage, and the full digest.

Every link carries a signed token (`alerts.delivery.tokens`) and points at the web side
served by `alerts run` / `alerts web` under the public `ALERTS_BASE_URL`. Tokens are derived
from the digest's own time, so a resent message carries the same links. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import quote

from alerts.delivery.tokens import make_token

UNSUBSCRIBE = "unsubscribe"
CONFIRM = "confirm"
DIGEST = "digest"


@dataclass(frozen=True, slots=True)
class Links:
    """Builds signed links under `base_url` (no trailing slash) with the service's key."""

    base_url: str
    key: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("https://", "http://")):
            raise ValueError("the public base URL must start with https:// (or http://)")

    def _url(self, path: str, token: str) -> str:
        return f"{self.base_url.rstrip('/')}/{path}/{quote(token, safe='')}"

    def unsubscribe(self, subscription: str, address: str, *, issued: datetime) -> str:
        """One-click unsubscribe of `address` from `subscription` (RFC 8058 POST or a page)."""
        token = make_token(self.key, UNSUBSCRIBE, subscription, address.lower(), issued=issued)
        return self._url("unsubscribe", token)

    def confirm(self, subscription: str, address: str, *, issued: datetime) -> str:
        """Double opt-in: confirm `address`'s new subscription."""
        token = make_token(self.key, CONFIRM, subscription, address.lower(), issued=issued)
        return self._url("confirm", token)

    def digest(self, idempotency_key: str, *, issued: datetime) -> str:
        """The full digest (every story, not only the first `max_stories`)."""
        return self._url("digests", make_token(self.key, DIGEST, idempotency_key, issued=issued))
