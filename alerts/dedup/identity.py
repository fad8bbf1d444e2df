"""Item identity: recognising an item again in its feed, whatever the publisher does.

An item's `key` is its guid when the feed's guids are trustworthy, else its canonical link
when the feed's links are, else a hash of its title and summary. Publishers break each of
these in practice, so `resolve` checks a whole poll against what is stored:

- a guid shared by several different items (one guid for the whole feed, a CMS bug) makes
  the feed's guids untrustworthy; a link shared by several different items (every entry
  linking to the home page) does the same for links. The feed is flagged once and stays
  flagged, and the anomaly is reported so operators see it;
- an item whose guid changed but whose link did not (a CMS migration) is the same item;
- a stored guid re-used for a different article (different link, different words) is a
  new item, and the feed's guids are flagged;
- the same identity with a new title or summary is an UPDATE (a new revision), not a new
  item; the caller decides whether its new matches are worth announcing;
- a key in the tombstones (an item deleted by an operator or by retention) never comes back.

Pure: the store supplies `KnownItem`s and tombstones; nothing here does I/O.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from alerts.dedup.urls import canonical_url, url_story_key
from alerts.domain import Identity, Item

__all__ = [
    "FeedHabits",
    "KnownItem",
    "Resolution",
    "Resolved",
    "Verdict",
    "content_hash",
    "identify",
    "lookup_keys",
    "page_key",
    "resolve",
]

# Keys are stored under unique indexes; PostgreSQL caps an index entry at ~2.7 KB, and some
# publishers put whole URLs with long query strings (or worse) in guids.
MAX_KEY_LENGTH = 512
# Two texts sharing less than this share of their words (of the shorter one) are different
# articles: an edited title or summary keeps most of its words, a re-used guid does not.
SAME_ARTICLE_OVERLAP = 0.5
_WORD = re.compile(r"\w+")


def content_hash(title: str, summary: str) -> str:
    """First 32 hex chars of the SHA-256 of the normalised title and summary.

    Normalised: NFC, casefolded, whitespace collapsed, so re-wrapped or re-cased text
    hashes the same. The newline joining them cannot occur inside either after collapsing,
    so ("a b", "c") and ("a", "b c") differ.
    """
    data = f"{_norm(title)}\n{_norm(summary)}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()[:32]


def _norm(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


@dataclass(frozen=True, slots=True)
class FeedHabits:
    """What a feed's history says about its identifiers."""

    guids_unreliable: bool = False
    links_unreliable: bool = False


def identify(item: Item, habits: FeedHabits = FeedHabits()) -> Identity:
    """Every identity form of `item`, and its key under the feed's `habits`.

    A guid that is an http(s) URL is canonicalised like a link, so a feed flipping its
    guids between http and https (or adding tracking parameters) does not duplicate items.
    The story key starts as the link without scheme (else the content hash); clustering
    may give the item an existing story's key instead.
    """
    guid = (item.guid or "").strip()
    link = (item.link or "").strip()
    hashed = content_hash(item.title, item.summary)
    guid_key = _bounded(f"guid:{canonical_url(guid)}") if guid else None
    link_key = _bounded(f"link:{canonical_url(link)}") if link else None
    url_key = page_key(link) if link and not habits.links_unreliable else None
    if guid_key and not habits.guids_unreliable:
        key = guid_key
    elif link_key and not habits.links_unreliable:
        key = link_key
    else:
        key = f"hash:{hashed}"
    return Identity(
        key=key,
        # Without a page of its own, an item starts a story of its own: two feeds' empty
        # or one-word items must never share a story by having the same (lack of) text.
        story_key=url_key or _bounded(f"item:{item.feed}:{key}"),
        guid_key=guid_key,
        link_key=link_key,
        content_hash=hashed,
        url_key=url_key,
    )


def page_key(url: str) -> str | None:
    """The story key of a page URL ("url:" + the URL without scheme), or None for a URL
    that names no particular page: a site's home or section root, which feeds and
    canonical tags use as a catch-all."""
    key = url_story_key(url)
    path = key.partition("/")[2]
    if not path or "://" in key or "." not in key.partition("/")[0]:
        return None
    return _bounded(f"url:{key}")


def _bounded(key: str) -> str:
    """Keys longer than MAX_KEY_LENGTH become a prefix plus the SHA-256 of the whole."""
    if len(key) <= MAX_KEY_LENGTH:
        return key
    digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{key[: MAX_KEY_LENGTH - 72]}#sha256:{digest}"


@dataclass(frozen=True, slots=True)
class KnownItem:
    """A stored item that may be one of the polled ones (found by any of its keys)."""

    item_id: int
    key: str
    guid_key: str | None
    link_key: str | None
    content_hash: str
    title: str
    summary: str
    revision: int = 1
    content: str = ""  # the stored article text: an edit of the feed entry keeps it


class Verdict(StrEnum):
    """What a polled item is, compared with what is stored."""

    NEW = "new"
    UPDATE = "update"  # a stored item with a new title or summary
    SAME = "same"  # stored and unchanged
    DELETED = "deleted"  # tombstoned: never stored again


@dataclass(frozen=True, slots=True)
class Resolved:
    """One polled item's identity and verdict (`known`: the stored item, if any)."""

    item: Item
    identity: Identity
    verdict: Verdict
    known: KnownItem | None = None


@dataclass(frozen=True, slots=True)
class Resolution:
    """The verdicts of a poll, the feed's (possibly new) habits and what was odd about it."""

    items: list[Resolved]
    habits: FeedHabits
    anomalies: list[str] = field(default_factory=list)

    def of(self, verdict: Verdict) -> list[Resolved]:
        """The items with `verdict`, in feed order."""
        return [r for r in self.items if r.verdict is verdict]


def lookup_keys(items: Iterable[Item]) -> set[str]:
    """Every key form of `items`: what the store must look up (keys, guids, links, hashes)."""
    keys: set[str] = set()
    for item in items:
        identity = identify(item)
        keys.update(k for k in (identity.guid_key, identity.link_key) if k)
        keys.add(f"hash:{identity.content_hash}")
    return keys


def resolve(
    items: Sequence[Item],
    known: Collection[KnownItem],
    *,
    habits: FeedHabits = FeedHabits(),
    tombstones: Collection[str] = (),
) -> Resolution:
    """Decide for each polled item whether it is new, an update, unchanged or deleted.

    `known` holds the feed's stored items found by any key form of `items` (`lookup_keys`);
    `tombstones` the deleted keys among those forms.
    """
    anomalies: list[str] = []
    ids = [identify(item) for item in items]
    guids_bad = habits.guids_unreliable or _shared(ids, items, "guid_key", anomalies, known)
    links_bad = habits.links_unreliable or _shared(ids, items, "link_key", anomalies, known)
    new_habits = FeedHabits(guids_unreliable=guids_bad, links_unreliable=links_bad)

    by_key: dict[str, KnownItem] = {}
    by_guid: dict[str, KnownItem] = {}
    by_link: dict[str, KnownItem] = {}
    for k in known:
        by_key.setdefault(k.key, k)
        if k.guid_key:
            by_guid.setdefault(k.guid_key, k)
        if k.link_key:
            by_link.setdefault(k.link_key, k)
    dead = set(tombstones)

    resolved: list[Resolved] = []
    seen: set[str] = set()
    changed_guids = 0
    for item in items:
        identity = identify(item, new_habits)
        if identity.key in seen:
            continue  # the feed repeats an entry within this poll: keep the first
        seen.add(identity.key)
        # Only the forms the feed keeps unique identify: a tombstoned home-page link must
        # not kill every later item of a feed whose entries all link there.
        forms = {identity.key}
        if not guids_bad and identity.guid_key:
            forms.add(identity.guid_key)
        if not links_bad and identity.link_key:
            forms.add(identity.link_key)
        if dead & forms:
            resolved.append(Resolved(item, identity, Verdict.DELETED))
            continue
        match = by_key.get(identity.key)
        if match is None and identity.guid_key and not guids_bad:
            match = by_guid.get(identity.guid_key)
        if match is None and identity.link_key and not links_bad:
            match = by_link.get(identity.link_key)
            if match is not None and match.guid_key and identity.guid_key:
                changed_guids += 1
        # No match by content hash alone: two notices titled "Russia-related Designations"
        # with their own guids and links are two actions, and losing one is the worst
        # outcome. A copy under a new guid and link becomes a member of the same story.
        if match is None:
            resolved.append(Resolved(item, identity, Verdict.NEW))
            continue
        if match.key in seen and match.key != identity.key:
            continue  # two entries of this poll are one stored item: keep the first
        seen.add(match.key)
        # Stored under its own key form: keep that key so the unique index stays right.
        identity = replace(identity, key=match.key)
        # A hash missing (rows from before it was kept) is taken as unchanged.
        same = match.content_hash in ("", identity.content_hash)
        resolved.append(Resolved(item, identity, Verdict.SAME if same else Verdict.UPDATE, match))
    if changed_guids:
        anomalies.append(
            f"{changed_guids} item(s) came back with a new guid but the same link; "
            "recognised by their link"
        )
    return Resolution(resolved, new_habits, anomalies)


def _shared(
    ids: Sequence[Identity],
    items: Sequence[Item],
    form: str,
    anomalies: list[str],
    known: Collection[KnownItem] = (),
) -> bool:
    """True when one `form` key ("guid_key" or "link_key") stands for different articles.

    Within the poll: two entries with the same key but different words. Against the store:
    a stored item with the same key but another value of the other form (another link for
    a guid, another guid for a link) and other words: the publisher re-used the key, or
    links every entry to one landing page.
    """
    what, other, fallback = (
        ("guids", "link_key", "their links")
        if form == "guid_key"
        else ("links", "guid_key", "their content")
    )
    groups: dict[str, list[int]] = defaultdict(list)
    for index, identity in enumerate(ids):
        value = getattr(identity, form)
        if value:
            groups[value].append(index)
    for value, members in groups.items():
        hashes = {ids[i].content_hash for i in members}
        if len(hashes) > 1 and not _all_alike([items[i] for i in members]):
            anomalies.append(
                f"{len(members)} different items share one of the feed's {what} "
                f"({_short(value)}); items are now told apart by {fallback}"
            )
            return True
    stored: dict[str, list[KnownItem]] = defaultdict(list)
    for k in known:
        value = getattr(k, form)
        if value:
            stored[value].append(k)
    for identity, item in zip(ids, items, strict=True):
        value, mine = getattr(identity, form), getattr(identity, other)
        if not value or not mine:
            continue
        for k in stored.get(value, ()):
            theirs = getattr(k, other)
            if (
                theirs
                and theirs != mine
                and not _alike(f"{k.title} {k.summary}", f"{item.title} {item.summary}")
            ):
                anomalies.append(
                    f"the feed re-used {what[:-1]} {_short(value)} for a different "
                    f"article; items are now told apart by {fallback}"
                )
                return True
    return False


def _all_alike(items: Sequence[Item]) -> bool:
    first = f"{items[0].title} {items[0].summary}"
    return all(_alike(first, f"{item.title} {item.summary}") for item in items[1:])


def _alike(a: str, b: str) -> bool:
    """Do two texts share most of their words (an edit), or are they different articles?"""
    words_a = set(_WORD.findall(a.casefold()))
    words_b = set(_WORD.findall(b.casefold()))
    if not words_a or not words_b:
        return True  # nothing to compare: no evidence of a different article
    return len(words_a & words_b) / min(len(words_a), len(words_b)) >= SAME_ARTICLE_OVERLAP


def _short(key: str) -> str:
    value = key.split(":", 1)[-1]
    return value if len(value) <= 80 else value[:77] + "..."
