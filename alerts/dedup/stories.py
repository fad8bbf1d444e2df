"""Story clustering: an incremental, memory-bounded index of recent item fingerprints.

`StoryIndex.place` says which stored story a new item belongs to, and why; `add` stores
the item under the story the caller settled on. An item joins a story in one of two ways.

1. **Near-duplicate text.** The signature is cut into `BANDS` bands of `ROWS` rows; items
   sharing any whole band are candidates (locality-sensitive hashing). Two texts whose
   shingle sets overlap by Jaccard s share a given band with probability s**3, so they
   become candidates with probability

       P(s) = 1 - (1 - s**3)**42

       s     0.05   0.1   0.2   0.3   0.4   0.5   0.6
       P(s)  0.005  0.04  0.29  0.68  0.94  0.996 1.00

   The curve is steepest at (1/42)**(1/3) = 0.29, on the 0.3 threshold. Syndicated copies
   sit near 0.6 (median 0.64 on our labelled set, 0.58 in the earlier study), where P is
   1.00, and a story needs only one of its copies found. Unrelated sanctions news shares
   boilerplate (overlap 0.02-0.05), where three rows keep candidates to 3e-4 - 5e-3 of the
   stored items. Two rows (64 bands) would make 15% of them candidates at 0.05; four rows
   (32 bands) find only 23% of pairs at 0.3. Candidates are checked on the full signature
   (estimated Jaccard >= threshold), then vetoed when they name different packages of a
   series ("13th" vs "14th" package) or specific names on both sides, none in common,
   while the texts are not near-copies (two OFAC actions with the same boilerplate).

2. **Official notice <-> report.** Issuers word their notices unlike the press, so when no
   near-duplicate exists an item may join a story through an *official* item published
   within `link_window` (either direction, and official to official, so that the OFAC and
   State notices of one action meet before the press arrives). Two reports link this way
   only as a rewrite: strong evidence and a text overlap of at least `REWRITE_OVERLAP`
   (an outlet rewriting wire copy in its own words). The two must share enough facts, see
   `_Evidence.enough`: in short three facts (specific names, listing counts such as "52
   vessels"); or a programme in common and two facts, a name of three words or more, or
   the same package number; or a programme and one fact within `WEAK_LINK_SECONDS`. Names
   are compared by a consonant skeleton that absorbs transliteration ("Aleksandr" and
   "Alexander", Cyrillic inflections, patronymics). Keys carried by more than
   `COMMON_KEY_ITEMS` items in the window are ignored: they identify no action, and
   skipping them bounds the work. Of several candidates the one with the most evidence
   wins, then the most programmes in common, then the closest in time.

Memory: entries leave, oldest first, once older than `window` (a deque in arrival order),
and are removed from every band bucket and key posting. A bucket is an int key mapped to
an item id, or to a list of ids when several share it (capped at `MAX_BUCKET`, the oldest
dropped). benchmarks/bench_clustering.py measures 0.33 GB for the index at 100,000 items.

Pure: no I/O; the caller persists fingerprints and story ids.
"""

from __future__ import annotations

import re
import sys
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Final

import numpy as np
from anyascii import anyascii

from alerts.dedup.fingerprint import MIN_SHINGLES, NUM_PERM, Fingerprint, signature_values

__all__ = ["BANDS", "ROWS", "Placement", "StoryIndex"]

BANDS: Final = 42
ROWS: Final = 3
# At most this many ids per bucket: a bucket shared by hundreds of items means a text
# repeated verbatim (a stock paragraph); the newest copies are enough to find the story.
MAX_BUCKET: Final = 32
# A name (or count, or package) carried by more items than this in the window identifies
# no particular action: it neither links nor vetoes.
COMMON_KEY_ITEMS: Final = 100
# Above this estimated overlap two texts are copies even if their names differ: they are
# near-verbatim, so different names can only be an extraction quirk. Below it, specific
# names on both sides with none in common veto the match: two OFAC actions of one day can
# share three quarters of their text in boilerplate.
NAME_VETO_BELOW: Final = 0.9
# One fact (a name, a count) and a programme link an official notice only this close in
# time, and only when no other story in the window carries that fact: the press covers an
# action within hours, and a person named in two actions is how wrong links happen.
WEAK_LINK_SECONDS: Final = 12 * 3600
# Two reports with strong shared evidence (three names, say) join when their texts still
# overlap this much: an outlet's own rewrite of the wire copy keeps a fifth of its 3-grams
# (0.2 on our fixture pages), unrelated reports on the same people keep almost none (hard
# negatives on the labelled set: median 0.02, p90 0.12, and those name other people).
REWRITE_OVERLAP: Final = 0.15

_KEY_MASK: Final = (1 << 60) - 1
# Dicts are rebuilt (see `StoryIndex._compact`) only above this many entries at the peak.
_COMPACT_MIN: Final = 1024


@dataclass(frozen=True, slots=True)
class Placement:
    """Where `StoryIndex.place` puts an item: the story, its closest item, and why."""

    story_id: str  # the story's key (the caller's: alerts.domain.Identity.story_key)
    item_id: int
    score: float  # estimated Jaccard; for a link, evidence weight w as w / (w + 2)
    reason: str


class _Entry:
    """What the index keeps of a stored item (slots: 100,000 of them are kept)."""

    __slots__ = (
        "at",
        "item_id",
        "keys",
        "numbers",
        "official",
        "programmes",
        "signature",
        "story_id",
    )

    def __init__(
        self,
        item_id: int,
        story_id: str,
        fp: Fingerprint,
        keys: tuple[str, ...],
        at: float,
        official: bool,
    ) -> None:
        self.item_id = item_id
        self.story_id = story_id
        self.signature = fp.signature
        self.keys = keys
        self.programmes = fp.programmes
        self.numbers = fp.numbers
        self.at = at
        self.official = official


class StoryIndex:
    """Recent items by story, for placing new items (see the module docstring)."""

    def __init__(
        self,
        *,
        window: timedelta = timedelta(days=14),
        threshold: float = 0.3,
        link_window: timedelta = timedelta(days=4),
    ) -> None:
        if not 0.0 < threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {threshold}")
        if window <= timedelta(0) or link_window < timedelta(0):
            raise ValueError("window must be positive and link_window not negative")
        self._window = window.total_seconds()
        self._threshold = threshold
        self._link_window = link_window.total_seconds()
        self._entries: dict[int, _Entry] = {}
        self._order: deque[int] = deque()
        self._buckets: dict[int, int | list[int]] = {}
        # Link key (name skeleton, "count:52", "package:14") -> ids of items carrying it;
        # official items apart, since every link involves one (the press side is big).
        self._press_keys: dict[str, set[int]] = {}
        self._official_keys: dict[str, set[int]] = {}
        self._newest = float("-inf")
        self._evicted = 0
        self._last_bands: tuple[Fingerprint | None, list[int]] = (None, [])
        self._peak = 0  # most entries held since the dicts were last rebuilt

    def __len__(self) -> int:
        return len(self._entries)

    def stats(self) -> dict[str, int]:
        """Sizes for logs and benchmarks (walks the buckets: not for every item)."""
        lists = [v for v in self._buckets.values() if isinstance(v, list)]
        return {
            "items": len(self._entries),
            "official": sum(1 for e in self._entries.values() if e.official),
            "buckets": len(self._buckets),
            "shared_buckets": len(lists),
            "bucket_entries": len(self._buckets) - len(lists) + sum(map(len, lists)),
            "link_keys": len(self._press_keys) + len(self._official_keys),
            "evicted": self._evicted,
        }

    # ------------------------------------------------------------------ placing

    def place(self, fp: Fingerprint, *, at: datetime, official: bool) -> Placement | None:
        """The story `fp` joins, or None for a new story. Does not change the index."""
        when = _seconds(at)
        if fp.shingles < MIN_SHINGLES:
            return None  # too little text to say anything: never joins, never attracts
        keys = _name_keys(fp.names)
        bands = self._bands_of(fp)
        return self._near_duplicate(fp, bands, keys, when) or self._link(fp, keys, when, official)

    def _bands_of(self, fp: Fingerprint) -> list[int]:
        """Band keys of `fp`, remembered for the `add` that usually follows `place`."""
        if self._last_bands[0] is not fp:
            self._last_bands = (fp, _band_keys(fp.signature))
        return self._last_bands[1]

    def _near_duplicate(
        self, fp: Fingerprint, bands: list[int], keys: tuple[str, ...], when: float
    ) -> Placement | None:
        candidates: set[int] = set()
        get = self._buckets.get
        for band in bands:
            found = get(band)
            if found is None:
                continue
            if isinstance(found, int):
                candidates.add(found)
            else:
                candidates.update(found)
        if not candidates:
            return None
        horizon = when - self._window
        entries = [e for i in candidates if (e := self._entries[i]).at >= horizon]
        if not entries:
            return None
        stacked = np.frombuffer(b"".join(e.signature for e in entries), dtype="<u4")
        equal = np.count_nonzero(stacked.reshape(-1, NUM_PERM) == signature_values(fp), axis=1)
        best: tuple[float, _Entry] | None = None
        for entry, same in zip(entries, equal.tolist(), strict=True):
            score = same / NUM_PERM
            if score < self._threshold or (best is not None and score <= best[0]):
                continue
            if _numbers_conflict(fp.numbers, entry.numbers):
                continue
            if score < NAME_VETO_BELOW and self._names_conflict(keys, entry.keys):
                continue
            best = (score, entry)
        if best is None:
            return None
        score, entry = best
        return Placement(
            story_id=entry.story_id,
            item_id=entry.item_id,
            score=score,
            reason=f"near-duplicate of item {entry.item_id} (estimated overlap {score:.2f})",
        )

    def is_common(self, name: str) -> bool:
        """Whether a name found in text is carried by so many items that it links nothing."""
        return self._common(_skeleton(name))

    def _names_conflict(self, mine: tuple[str, ...], theirs: tuple[str, ...]) -> bool:
        """Both sides name specific entities and none of them in common."""
        a = {k for k in mine if not self._common(k)}
        b = {k for k in theirs if not self._common(k)}
        return bool(a) and bool(b) and a.isdisjoint(b)

    def _only_in_story(self, key: str, story_id: str) -> bool:
        """Every stored item carrying `key` belongs to `story_id` (at most COMMON_KEY_ITEMS)."""
        return all(
            self._entries[item_id].story_id == story_id
            for index in (self._press_keys, self._official_keys)
            for item_id in index.get(key, ())
        )

    def _common(self, key: str) -> bool:
        return (
            len(self._press_keys.get(key, ())) + len(self._official_keys.get(key, ()))
            > COMMON_KEY_ITEMS
        )

    def _link(
        self, fp: Fingerprint, keys: tuple[str, ...], when: float, official: bool
    ) -> Placement | None:
        mine = {k for k in (*keys, *fp.numbers) if not self._common(k)}
        if not mine:
            return None
        # Reports link to reports too, but only as rewrites: see REWRITE_OVERLAP.
        pools = (self._official_keys, self._press_keys)
        shared: dict[int, list[str]] = {}  # item id -> keys in common
        for key in mine:
            for pool in pools:
                for item_id in pool.get(key, ()):
                    shared.setdefault(item_id, []).append(key)
        best: tuple[tuple[int, int, float], _Entry, _Evidence] | None = None
        for item_id, common in shared.items():
            entry = self._entries[item_id]
            if abs(entry.at - when) > self._link_window:
                continue
            if _numbers_conflict(fp.numbers, entry.numbers):
                continue
            evidence = _Evidence(common, set(fp.programmes).intersection(entry.programmes))
            strength = evidence.strength()
            if strength is _Strength.NONE:
                continue
            # Two reports: strong evidence AND overlapping wording, i.e. one outlet rewrote
            # the other's copy (below the near-duplicate threshold).
            if (
                not official
                and not entry.official
                and (strength is not _Strength.STRONG or _overlap(fp, entry) < REWRITE_OVERLAP)
            ):
                continue
            if strength is _Strength.WEAK and not (
                abs(entry.at - when) <= WEAK_LINK_SECONDS
                and self._only_in_story(common[0], entry.story_id)
            ):
                continue
            # The most evidence first, then the most programmes, then the closest in time.
            rank = (evidence.weight(), len(evidence.programmes), -abs(entry.at - when))
            if best is None or rank > best[0]:
                best = (rank, entry, evidence)
        if best is None:
            return None
        _, entry, evidence = best
        readable = dict(zip(keys, fp.names, strict=True))
        kind = "official notice" if official else "report"
        other = "official notice" if entry.official else "report"
        return Placement(
            story_id=entry.story_id,
            item_id=entry.item_id,
            score=evidence.weight() / (evidence.weight() + 2),
            reason=f"{kind} sharing {evidence.describe(readable)} with {other} {entry.item_id}",
        )

    def naming_candidates(self, names: Iterable[str], *, at: datetime) -> list[Placement]:
        """Stories a sanctions list change may belong to: items naming the entity, best first.

        `names` are a designation's names as listed ("VOLKOVA, Marina Olegovna" reads as
        "Marina Olegovna VOLKOVA"). Items are found by name skeleton within the link window,
        official notices before reports, newest first; only names of two words or more
        count, and names carried by many stories (see `COMMON_KEY_ITEMS`) link nothing.
        Skeletons drop vowels ("Ali Hassan" and "Ali Hussein" share one), so the caller
        confirms a candidate by its full names (`same_person`) before joining its story.
        """
        when = _seconds(at)
        wanted: dict[str, str] = {}
        for name in names:
            spoken = spoken_name(name)
            if " " in spoken:
                wanted.setdefault(_skeleton(spoken), name)
        found: list[tuple[bool, float, Placement]] = []
        seen: set[int] = set()
        for official, pool in ((True, self._official_keys), (False, self._press_keys)):
            for key, name in wanted.items():
                if self._common(key):
                    continue
                for item_id in pool.get(key, ()):
                    entry = self._entries[item_id]
                    if item_id in seen or abs(entry.at - when) > self._link_window:
                        continue
                    seen.add(item_id)
                    other = "official notice" if entry.official else "report"
                    reason = f"list change naming {name}, as {other} {entry.item_id} does"
                    placement = Placement(entry.story_id, entry.item_id, 1.0, reason)
                    found.append((official, entry.at, placement))
        found.sort(key=lambda f: (not f[0], -f[1]))
        return [p for _, _, p in found]

    # ------------------------------------------------------------------ storing

    def add(
        self, item_id: int, story_id: str, fp: Fingerprint, *, at: datetime, official: bool
    ) -> None:
        """Store an item under `story_id`, then evict what has left the window.

        Items too short to cluster (see `MIN_SHINGLES`) and items older than the window
        (measured from the newest item seen) are not stored. Items should arrive roughly in
        time order: eviction goes by arrival, so a late item stays as long as its
        neighbours.
        """
        if item_id in self._entries:
            raise ValueError(f"item {item_id} is already in the index")
        when = _seconds(at)
        self._newest = max(self._newest, when)
        self._evict(self._newest - self._window)
        if fp.shingles < MIN_SHINGLES or when < self._newest - self._window:
            return
        keys = _name_keys(fp.names)
        entry = _Entry(item_id, story_id, fp, keys, when, official)
        self._entries[item_id] = entry
        self._order.append(item_id)
        self._peak = max(self._peak, len(self._entries))
        buckets = self._buckets
        for band in self._bands_of(fp):
            found = buckets.get(band)
            if found is None:
                buckets[band] = item_id
            elif isinstance(found, int):
                buckets[band] = [found, item_id]
            else:
                if len(found) >= MAX_BUCKET:
                    del found[0]
                found.append(item_id)
        index = self._official_keys if official else self._press_keys
        for key in {*keys, *fp.numbers}:
            index.setdefault(key, set()).add(item_id)

    def _evict(self, horizon: float) -> None:
        order, entries = self._order, self._entries
        while order and entries[order[0]].at < horizon:
            self._remove(entries.pop(order.popleft()))
        if self._peak > _COMPACT_MIN and len(entries) * 4 < self._peak:
            self._compact()

    def _compact(self) -> None:
        """Rebuild the dicts after the window has shrunk to a quarter of its peak.

        A dict never gives back its table when entries are deleted; copying it allocates
        one sized for what is left. (In a steady window deleted slots are reused, so this
        only matters after a burst, but then it returns hundreds of megabytes.)
        """
        self._entries = dict(self._entries)
        self._buckets = dict(self._buckets)
        self._press_keys = dict(self._press_keys)
        self._official_keys = dict(self._official_keys)
        self._peak = len(self._entries)

    def _remove(self, entry: _Entry) -> None:
        item_id, buckets = entry.item_id, self._buckets
        for band in _band_keys(entry.signature):
            found = buckets.get(band)
            if found == item_id:
                del buckets[band]
            elif isinstance(found, list):
                if item_id in found:  # may have been pushed out of a full bucket already
                    found.remove(item_id)
                if len(found) == 1:
                    buckets[band] = found[0]
        index = self._official_keys if entry.official else self._press_keys
        for key in {*entry.keys, *entry.numbers}:
            posting = index.get(key)
            if posting is not None:
                posting.discard(item_id)
                if not posting:
                    del index[key]
        self._evicted += 1


_BAND_BYTES: Final = 4 * ROWS
# Per band: where its rows start in the signature, and a salt so that equal rows in two
# bands never share a bucket. Keys stay below 2**60: CPython stores such ints in 32 bytes.
_BANDS_AT: Final = tuple(
    (band * _BAND_BYTES, (band + 1) * 0x9E3779B97F4A7C15 & _KEY_MASK) for band in range(BANDS)
)


def _seconds(at: datetime) -> float:
    if at.tzinfo is None:
        raise ValueError(f"datetimes must be timezone-aware (UTC), got {at}")
    return at.timestamp()


def _band_keys(signature: bytes) -> list[int]:
    """One int per band, from the band's bytes of the signature.

    Python's bytes hash is salted per process, which is fine: band keys live in memory
    only, and the index is rebuilt from stored signatures after a restart.
    """
    return [(hash(signature[at : at + _BAND_BYTES]) ^ salt) & _KEY_MASK for at, salt in _BANDS_AT]


def _overlap(fp: Fingerprint, entry: _Entry) -> float:
    """Estimated Jaccard overlap of `fp`'s text with a stored entry's."""
    stored = np.frombuffer(entry.signature, dtype="<u4")
    return float(np.count_nonzero(stored == signature_values(fp))) / NUM_PERM


def _numbers_conflict(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Both name a package (or round) of a series, and never the same one."""
    mine = {n for n in a if n.startswith("package:")}
    if not mine:
        return False
    theirs = {n for n in b if n.startswith("package:")}
    return bool(theirs) and mine.isdisjoint(theirs)


class _Strength(Enum):
    """How much what two items share says they report one action (see `_Evidence`)."""

    NONE = 0
    WEAK = 1
    STRONG = 2


class _Evidence:
    """What an item and an official notice have in common, and whether it makes a link."""

    def __init__(self, keys: list[str], programmes: set[str]) -> None:
        self.names = [k for k in keys if ":" not in k]
        self.counts = [k for k in keys if k.startswith("count:")]
        self.packages = [k for k in keys if k.startswith("package:")]
        self.programmes = sorted(programmes)

    def weight(self) -> int:
        return len(self.names) + len(self.counts) + 2 * len(self.packages)

    def strength(self) -> _Strength:
        """STRONG: three facts (names, counts); or with a programme in common, two facts, a
        name of three words or more, or the same package number with another fact or
        programme. WEAK: one fact and a programme, which links only within
        `WEAK_LINK_SECONDS` and when no other story in the window carries the fact.

        A person's name alone is weak: one person figures in many actions (Navalny's
        poisoning in 2021, his colony's chiefs in 2024, his death days later), and a name
        like "Vladimir Putin" in most reports on Russia.
        """
        facts = len(self.names) + len(self.counts)
        if facts >= 3:
            return _Strength.STRONG
        if not self.programmes:
            return _Strength.NONE
        if facts >= 2 or any(name.count(" ") >= 2 for name in self.names):
            return _Strength.STRONG
        if self.packages and (facts >= 1 or len(self.programmes) >= 2):
            return _Strength.STRONG
        return _Strength.WEAK if facts == 1 and not self.packages else _Strength.NONE

    def describe(self, readable: dict[str, str]) -> str:
        parts = [", ".join(readable.get(k, k) for k in sorted(self.names))]
        parts.append(", ".join(k.replace(":", " ") for k in sorted(self.packages + self.counts)))
        parts.append(f"programme {', '.join(self.programmes)}" if self.programmes else "")
        return "; ".join(p for p in parts if p)


# ---------------------------------------------------------------------- name skeletons

_CYRILLIC_LATIN: Final = (
    "a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "i", "k", "l", "m", "n", "o", "p", "r",
    "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "-", "y", "-", "e", "yu", "ya", "i", "i",
    "e", "g",
)  # fmt: skip
_CYRILLIC: Final = dict(zip("абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґ", _CYRILLIC_LATIN, strict=True))
# Case endings of Russian nouns and adjectives, longest first: "Навального" -> "Навальн".
_CYRILLIC_ENDINGS: Final = (
    "ого", "его", "ому", "ему", "ыми", "ими", "ами", "ями", "ой", "ей", "ый", "ий", "ая",
    "яя", "ое", "ее", "ым", "им", "ом", "ем", "ах", "ях", "ов", "ев", "а", "я", "у", "ю",
    "ы", "и", "е", "о",
)  # fmt: skip
_VOWELS: Final = frozenset("aeiouyjh-")
_PATRONYMIC: Final = (
    *("ovich", "evich", "ovna", "evna", "ович", "евич", "овна", "евна"),
    *("ovych", "evych", "ivna", "йович", "івна"),  # Ukrainian spellings
)
_LATIN_PATRONYMIC: Final = ("ovich", "evich", "ovna", "evna", "ovych", "evych", "ivna", "yevich")
_SKELETONS: dict[str, str] = {}
_SKELETON_CACHE_LIMIT: Final = 1 << 16


def spoken_name(name: str) -> str:
    """A listed name in reading order, casefolded: "VOLKOVA, Marina" -> "marina volkova"."""
    last, comma, first = name.partition(",")
    return " ".join((f"{first} {last}" if comma else name).casefold().split())


def same_person(listed: str, named: str) -> bool:
    """Whether a listed name and a name found in text are the same, word for word.

    Both are transliterated to Latin letters and casefolded; a patronymic on either side is
    optional ("Marina Olegovna Volkova" is "Marina Volkova"). Stricter than the skeletons,
    which stand for a spelling family: "Ali Hassan" is not "Ali Hussein".
    """
    a, b = _name_words(spoken_name(listed)), _name_words(spoken_name(named))
    return len(a) >= 2 and a == b


def _name_words(name: str) -> tuple[str, ...]:
    words = [w for w in re.split(r"[^a-z0-9]+", anyascii(name).casefold()) if w]
    if len(words) >= 3:
        # Only between the given name and the surname: "Abramovich" and "Yanukovych" are
        # surnames that merely look like patronymics.
        middle = [w for w in words[1:-1] if not (len(w) > 5 and w.endswith(_LATIN_PATRONYMIC))]
        words = [words[0], *middle, words[-1]]
    return tuple(words)


def _name_keys(names: tuple[str, ...]) -> tuple[str, ...]:
    """Skeletons of `names`, in the same order (interned: names repeat across items)."""
    return tuple(_skeleton(name) for name in names)


def _skeleton(name: str) -> str:
    """A spelling-tolerant key: transliterated, consonants only after the first letter.

    "Aleksandr Bortnikov", "Alexander Bortnikov" and "Александра Бортникова" all give
    "alksndr brtnkv"; "FSB" and "ФСБ" give "fsb". Acronyms keep every letter.
    """
    cached = _SKELETONS.get(name)
    if cached is not None:
        return cached
    words = []
    parts = name.split()
    if len(parts) >= 3:  # "Yevgeny Aleksandrovich Sorokin" is the press's "Yevgeny Sorokin"
        # Middle words only: "Roman Arkadyevich Abramovich" keeps its surname.
        parts = [parts[0], *(w for w in parts[1:-1] if not w.endswith(_PATRONYMIC)), parts[-1]]
    for word in parts:
        if any("а" <= c <= "я" or c in "ёіїєґ" for c in word):
            if len(word) > 3:
                for ending in _CYRILLIC_ENDINGS:
                    if word.endswith(ending) and len(word) - len(ending) >= 3:
                        word = word[: -len(ending)]
                        break
            word = "".join(_CYRILLIC.get(c, c) for c in word)
        word = word.replace("x", "ks").replace("w", "v").replace("q", "k").replace("c", "k")
        if " " not in name:
            words.append(word)  # an acronym (one-word names are nothing else): every letter
            continue
        tail = [c for c in word[1:] if c not in _VOWELS]
        collapsed = [c for i, c in enumerate(tail) if i == 0 or c != tail[i - 1]]
        words.append(word[:1] + "".join(collapsed))
    key = sys.intern(" ".join(words))
    if len(_SKELETONS) >= _SKELETON_CACHE_LIMIT:
        _SKELETONS.clear()
    _SKELETONS[name] = key
    return key


class ListingIndex:
    """Recent sanctions list changes by the names they list, so that news naming a listed
    person later joins the list change's story (the reverse of `naming_candidates`).

    List changes are not in `StoryIndex` (they have no text to fingerprint); this keeps
    their names for `link_window`. A report joins only on a whole-word name match
    (`same_person`), and the caller asks only for items classified as sanctions actions,
    so a court story that happens to name a listed person days later stays apart.
    """

    def __init__(self, *, link_window: timedelta = timedelta(days=4)) -> None:
        self._window = link_window.total_seconds()
        # skeleton -> (when, item id, story id, listed name, issuer)
        self._by_key: dict[str, list[tuple[float, int, str, str, str]]] = {}
        self._count = 0
        self._prune_at = _LISTING_PRUNE_AT

    def __len__(self) -> int:
        return self._count

    @property
    def window(self) -> timedelta:
        """How long a list change stays linkable."""
        return timedelta(seconds=self._window)

    def add(
        self,
        item_id: int,
        story_id: str,
        names: Iterable[str],
        *,
        at: datetime,
        issuer: str = "",
    ) -> None:
        """Remember a stored list change's names (primary name and strong aliases).

        Only additions and removals belong here: an amendment (a renewal touching hundreds
        of entries) is not the action the next report about that person describes.
        """
        when = _seconds(at)
        for name in dict.fromkeys(names):
            spoken = spoken_name(name)
            if " " not in spoken:
                continue  # one word names no one
            row = (when, item_id, story_id, name, issuer.upper())
            self._by_key.setdefault(_skeleton(spoken), []).append(row)
            self._count += 1
        if self._count > self._prune_at:
            self._prune(when)

    def find(self, names: Iterable[str], *, at: datetime, issuer: str = "") -> Placement | None:
        """The story of the newest list change within the window listing one of `names`,
        by the same `issuer` when both are known (a US listing is not the UK's action)."""
        when = _seconds(at)
        wanted = issuer.upper()
        best: tuple[float, int, str, str, str] | None = None
        for named in names:
            for seen, item_id, story_id, listed, by in self._by_key.get(_skeleton(named), ()):
                if abs(seen - when) > self._window or not same_person(listed, named):
                    continue
                if wanted and by and wanted != by:
                    continue
                if best is None or seen > best[0]:
                    best = (seen, item_id, story_id, listed, named)
        if best is None:
            return None
        _, item_id, story_id, listed, named = best
        return Placement(
            story_id=story_id,
            item_id=item_id,
            score=1.0,
            reason=f"names {named}, listed as {listed} by list change {item_id}",
        )

    def _prune(self, now: float) -> None:
        horizon = now - self._window
        kept: dict[str, list[tuple[float, int, str, str, str]]] = {}
        for key, rows in self._by_key.items():
            recent = [r for r in rows if r[0] >= horizon]
            if recent:
                kept[key] = recent
        self._by_key = kept
        self._count = sum(map(len, kept.values()))
        self._prune_at = max(_LISTING_PRUNE_AT, 2 * self._count)  # amortised: not every add


_LISTING_PRUNE_AT: Final = 50_000
