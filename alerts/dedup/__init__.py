"""Duplicate detection: how an item is recognised again, in its feed and across feeds.

`identity` gives each item its identity forms (guid, canonical link, content hash) and
decides, against what is stored, whether a polled item is new, an edit of a stored one,
unchanged, or deleted, learning a feed's habits (guids or links that repeat) as it goes.
`urls` holds the URL canonicalisation rules. `fingerprint` reduces an item's text to a
MinHash signature plus the names, programmes and numbers it mentions, and `stories` is the
incremental, memory-bounded index that puts each new item into a story (near-duplicate
text, an official notice of the same action, a rewrite). Comparing with what is stored is
the store's job; this package is pure logic.

It must not import I/O or framework packages (httpx, feedparser, sqlalchemy, jinja2,
apscheduler) nor any other `alerts` layer: only the standard library, numpy and
`alerts.domain`.
"""

from alerts.dedup.fingerprint import Fingerprint, fingerprint
from alerts.dedup.identity import (
    FeedHabits,
    KnownItem,
    Verdict,
    content_hash,
    identify,
    lookup_keys,
    page_key,
    resolve,
)
from alerts.dedup.stories import Placement, StoryIndex
from alerts.dedup.urls import canonical_url, url_story_key

__all__ = [
    "FeedHabits",
    "Fingerprint",
    "KnownItem",
    "Placement",
    "StoryIndex",
    "Verdict",
    "canonical_url",
    "content_hash",
    "fingerprint",
    "identify",
    "lookup_keys",
    "page_key",
    "resolve",
    "url_story_key",
]
