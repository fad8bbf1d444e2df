"""Duplicate detection: how an item is recognised again, in its feed and across feeds.

`identify` gives each item an `Identity`: a per-feed `key` (guid, else canonical link,
else content hash) and a cross-feed `story_key` (canonical link without scheme, else
content hash). `canonical_url` holds the URL rules. Comparing identities with what is
already stored is the store's job; this package is pure logic.

It must not import I/O or framework packages (httpx, feedparser, sqlalchemy, jinja2,
apscheduler) nor any other `alerts` layer: only the standard library and `alerts.domain`.
"""

from alerts.dedup.identity import content_hash, identify, unique_items
from alerts.dedup.urls import canonical_url, url_story_key

__all__ = ["canonical_url", "content_hash", "identify", "unique_items", "url_story_key"]
