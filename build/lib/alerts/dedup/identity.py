"""Item identity: the key that recognises an item again in its feed, and its story key."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence

from alerts.dedup.urls import canonical_url, url_story_key
from alerts.domain import Identity, Item

__all__ = ["content_hash", "identify", "unique_items"]


def content_hash(title: str, summary: str) -> str:
    """First 32 hex chars of the SHA-256 of the normalised title and summary.

    Normalised: NFC, casefolded, whitespace collapsed, so re-wrapped or re-cased text
    hashes the same. The newline joining them cannot occur inside either after collapsing,
    so ("a b", "c") and ("a", "b c") differ.
    """

    def norm(text: str) -> str:
        return " ".join(unicodedata.normalize("NFC", text).casefold().split())

    data = f"{norm(title)}\n{norm(summary)}".encode()
    return hashlib.sha256(data).hexdigest()[:32]


def identify(item: Item) -> Identity:
    """The item's key (guid, else canonical link, else content hash) and story key.

    A guid that is an http(s) URL is canonicalised like a link, so a feed flipping its
    guids between http and https (or adding tracking parameters) does not duplicate items.
    The story key is the link without scheme when there is a link, else the content hash.
    """
    guid = (item.guid or "").strip()
    link = (item.link or "").strip()
    hashed = f"hash:{content_hash(item.title, item.summary)}"
    if guid:
        key = f"guid:{canonical_url(guid)}"
    elif link:
        key = f"link:{canonical_url(link)}"
    else:
        key = hashed
    story_key = f"url:{url_story_key(link)}" if link else hashed
    return Identity(key=_bounded(key), story_key=_bounded(story_key))


# Keys are stored under unique indexes; PostgreSQL caps an index entry at ~2.7 KB, and some
# publishers put whole URLs with long query strings (or worse) in guids.
MAX_KEY_LENGTH = 512


def _bounded(key: str) -> str:
    """Keys longer than MAX_KEY_LENGTH become a prefix plus the SHA-256 of the whole."""
    if len(key) <= MAX_KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{key[: MAX_KEY_LENGTH - 72]}#sha256:{digest}"


def unique_items(items: Sequence[Item]) -> list[tuple[Item, Identity]]:
    """Identify each item, keeping the first of any that share a key within this batch."""
    seen: set[str] = set()
    result: list[tuple[Item, Identity]] = []
    for item in items:
        identity = identify(item)
        if identity.key in seen:
            continue
        seen.add(identity.key)
        result.append((item, identity))
    return result
