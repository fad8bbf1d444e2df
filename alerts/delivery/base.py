"""The channel contract every destination implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from alerts.domain import Digest

# Receivers' answers are kept in the delivery log as an excerpt of at most this many chars.
RESPONSE_EXCERPT = 500


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the destination answered when it accepted a digest, for the delivery log.

    `status` is the HTTP status (or SMTP reply code) of the last request, `response` an
    excerpt of its body or reply text, `messages` how many requests or emails the digest
    took (a long Slack digest is several messages; an email digest one per recipient).
    """

    status: int | None = None
    response: str = ""
    messages: int = 1


def excerpt(text: str, limit: int = RESPONSE_EXCERPT) -> str:
    """`text` stripped and cut to `limit` characters (with an ellipsis when cut)."""
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


class Channel(Protocol):
    """A destination for digests.

    `send` either returns a `Receipt` (the destination accepted the digest) or raises
    `DeliveryError` (retry later; `retry_after` if the destination asked) or
    `PermanentDeliveryError` (retrying cannot help), both carrying `status`/`response`
    when the destination answered. It never raises anything else.
    The digest's `idempotency_key` travels with every send so receivers can drop repeats.
    """

    name: str

    async def send(self, digest: Digest) -> Receipt: ...

    async def aclose(self) -> None: ...
