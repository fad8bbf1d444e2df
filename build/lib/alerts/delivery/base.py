"""The channel contract every destination implements."""

from __future__ import annotations

from typing import Protocol

from alerts.domain import Digest


class Channel(Protocol):
    """A destination for digests.

    `send` either returns (the destination accepted the digest) or raises
    `DeliveryError` (retry later; `retry_after` if the destination asked) or
    `PermanentDeliveryError` (retrying cannot help). It never raises anything else.
    The digest's `idempotency_key` travels with every send so receivers can drop repeats.
    """

    name: str

    async def send(self, digest: Digest) -> None: ...

    async def aclose(self) -> None: ...
