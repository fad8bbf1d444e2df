"""Persistence layer: feeds, items, matches, the alert queue, digests and deliveries.

Everything the service remembers between polls lives here, behind `Store` (one transaction
per public method, domain objects in and out). The schema is owned by the Alembic
migrations in the repository's `migrations/` directory; `upgrade` applies them.

This layer knows nothing of HTTP, feed parsing or rendering: it must never import httpx,
feedparser or jinja2.
"""

from __future__ import annotations

from alerts.store.engine import DEFAULT_DATABASE_URL, make_engine, normalise_url
from alerts.store.migrate import current_revision, head_revision, is_up_to_date, upgrade
from alerts.store.repository import (
    DeliveryRecord,
    PollOutcome,
    QueuedAlert,
    StaleQueueError,
    Store,
    StoredItem,
    SubscriptionState,
)

__all__ = [
    "DEFAULT_DATABASE_URL",
    "DeliveryRecord",
    "PollOutcome",
    "QueuedAlert",
    "StaleQueueError",
    "Store",
    "StoredItem",
    "SubscriptionState",
    "current_revision",
    "head_revision",
    "is_up_to_date",
    "make_engine",
    "normalise_url",
    "upgrade",
]
