"""Fuzzy name matching: one typo in a long name part, anchored on an exact part.

A watched name of two words or more is looked for around every capitalised text word that
is exactly one of its parts (the anchor). Each other part may differ by one edit
(substitution, insertion, deletion or transposition, measured with rapidfuzz's OSA
distance) if it has `MIN_FUZZY_PART` letters or more, or by one vowel if it has four:
"Mikhail Khodorkovksy", "Seif al-Islam". Shorter parts must be exact, so "Kim Jong Il" is
not Kim Jong Un, and one-word names never match fuzzily (Hamad is not Hamas). Anchoring
keeps the look-up to one dictionary of name parts instead of an index of every deletion
of every part, which at 100,000 names cost more memory than the automaton itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rapidfuzz.distance import OSA

from alerts.matching.keys import CYRILLIC
from alerts.matching.names import MIN_FUZZY_PART

__all__ = ["MAX_ANCHOR_NAMES", "fuzzy_score", "is_anchor", "loose", "vowel_variant"]

MIN_ANCHOR = 3  # letters; "al", "un" are no anchors
# A part shared by very many names ("Holdings", "Group", "Mohammed") says little and
# would make every occurrence check hundreds of names: it is no anchor.
MAX_ANCHOR_NAMES = 50
_NOT_ANCHORS = frozenset({"bin", "ibn", "abu", "abd", "bint", "^bin", "^ibn", "^abu"})
_VOWELS_RE = re.compile(r"[aeiou]")


def is_anchor(key: str) -> bool:
    """Whether a name part's key may anchor a fuzzy look-up."""
    return len(key.lstrip(CYRILLIC)) >= MIN_ANCHOR and key not in _NOT_ANCHORS


def fuzzy_score(parts: Sequence[str], keys: list[str], start: int) -> float | None:
    """Score of a name form found at word `start` with one edit in some long parts."""
    if start < 0 or start + len(parts) > len(keys):
        return None
    edits = 0
    for part, key in zip(parts, keys[start : start + len(parts)], strict=True):
        if part == key:
            continue
        if (part[:1] == CYRILLIC) != (key[:1] == CYRILLIC):
            return None  # one script per name
        shortest = MIN_FUZZY_PART - (part[:1] == CYRILLIC)  # stems lost a letter
        part, key = part.lstrip(CYRILLIC), key.lstrip(CYRILLIC)
        if len(part) < shortest or len(key) < shortest - 1:
            # Short parts must match exactly (Un is not Il), except for one vowel in a
            # part of four letters or more: "Seif"/"Saif", "Omar"/"Umar".
            if not vowel_variant(part, key):
                return None
        elif OSA.distance(loose(part), loose(key), score_cutoff=1) > 1:
            return None
        edits += 1
    if edits == 0:
        return None  # an exact hit; the automaton reported it already
    total = sum(len(p.lstrip(CYRILLIC)) for p in parts)
    return round(1 - edits / total, 3)


def loose(key: str) -> str:
    """The key with spellings that other transcriptions confuse merged, for fuzzy look-ups.

    Keys spell "ks" as "x", so a typo next to it ("Khodorkovksy") would count twice;
    German and Polish write kh as ch and v as w ("Michail Chodorkowski").
    """
    return key.replace("x", "ks").replace("w", "v").replace("ch", "h")


def vowel_variant(part: str, key: str) -> bool:
    """Same length (>= 4), same consonants, one vowel different: "saif"/"seif"."""
    if len(part) < 4 or len(part) != len(key) or not key.isalpha():
        return False
    if sum(a != b for a, b in zip(part, key, strict=True)) != 1:
        return False
    return _VOWELS_RE.sub("", part) == _VOWELS_RE.sub("", key)
