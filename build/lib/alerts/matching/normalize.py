"""Text folding and tokenising for matching, with a map back to original offsets.

`fold` turns a field into its comparison form: case-folded, accent-free, width- and
compatibility-normalised (full-width letters, ligatures such as "ﬁ"). Every folded
character remembers the span of original text that produced it, so a match found in the
folded text is reported as offsets into, and a snippet of, the original text.

`tokenize` splits folded text into words: maximal runs of letters/digits (`str.isalnum`)
plus combining marks inside words. Everything else (spaces, punctuation, hyphens,
apostrophes) separates words. A possessive "'s" after a word is dropped, so "Iran's"
reads as "Iran". There is no stemming: "Навальным" is not "Навальный".
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass

__all__ = ["Folded", "Token", "fold", "fold_tokens", "tokenize"]

# A word in folded text: its text and its [start, end) in folded coordinates.
Token = tuple[str, int, int]

# Letters that casefold + NFKD leave alone but readers treat as accented forms of a base
# letter. Applied after folding, so only lower-case keys are needed.
_LETTERS = str.maketrans(
    {
        "ø": "o",
        "đ": "d",
        "ð": "d",
        "ł": "l",
        "ħ": "h",
        "ŧ": "t",
        "ı": "i",
        "ƀ": "b",
        "ɨ": "i",
        "ƚ": "l",
        "ʉ": "u",
        "æ": "ae",
        "œ": "oe",
        "þ": "th",
        # MODIFIER LETTER APOSTROPHE is a letter to str.isalnum, but in running text it
        # is an apostrophe ("Rosneftʼs"); make it one so it separates words.
        "ʼ": "'",
    }
)

# Cyrillic letters whose diacritic makes a different letter (й is not и, ї is not і);
# stripping it would conflate words. ё -> е, by contrast, is wanted and still happens.
_KEEP_COMPOSED = frozenset("йЙїЇўЎ")

# Invisible format characters (soft hyphen, joiners, bidi marks, BOM) are dropped so a
# soft hyphen inside "Naval\u00adny" does not split the word; ZERO WIDTH SPACE is the one
# format character that separates words.
_ZERO_WIDTH_SPACE = "\u200b"

_APOSTROPHES = frozenset("'’")
_WORD_RE = re.compile(r"[^\W_]+")  # runs of str.isalnum characters

# Per-character and per-cluster caches: text repeats the same few hundred characters, and
# unicodedata calls dominate the cost otherwise. Cleared when they grow past the limit so
# hostile input cannot make them grow without bound.
_CACHE_LIMIT = 50_000
_mark_cache: dict[str, bool] = {}
_cluster_cache: dict[str, tuple[str, bool]] = {}


def _strips_marks(base: str) -> bool:
    """Whether combining marks on `base` are accents (dropped) rather than letters (kept).

    True for Latin, Greek, Cyrillic, Armenian, Hebrew and Arabic, where marks are accents
    or optional vowel points. Elsewhere (Indic scripts, Thai, kana voicing marks...) a
    mark changes the word, so it is kept and counts as part of the word.
    """
    cp = ord(base)
    return (
        cp < 0x0700
        or 0x0750 <= cp < 0x0780  # Arabic Supplement
        or 0x1C80 <= cp < 0x1C90  # Cyrillic Extended-C
        or 0x1D00 <= cp < 0x1DC0  # phonetic extensions (Latin)
        or 0x1E00 <= cp < 0x2000  # Latin Extended Additional (Vietnamese), Greek Extended
        or 0x2C60 <= cp < 0x2C80  # Latin Extended-C
        or 0xA640 <= cp < 0xA6A0  # Cyrillic Extended-B
        or 0xA720 <= cp < 0xA800  # Latin Extended-D
        or 0xAB30 <= cp < 0xAB70  # Latin Extended-E
    )


def _is_mark(ch: str) -> bool:
    cached = _mark_cache.get(ch)
    if cached is None:
        if len(_mark_cache) > _CACHE_LIMIT:
            _mark_cache.clear()
        cached = _mark_cache[ch] = unicodedata.category(ch).startswith("M")
    return cached


def _fold_cluster(cluster: str) -> tuple[str, bool]:
    """Fold one base character with its combining marks; also say if marks remain."""
    cached = _cluster_cache.get(cluster)
    if cached is not None:
        return cached
    head = cluster[0]
    if unicodedata.category(head) == "Cf":
        folded = " " if head == _ZERO_WIDTH_SPACE else ""
    elif unicodedata.normalize("NFC", cluster) in _KEEP_COMPOSED:
        folded = unicodedata.normalize("NFC", cluster).casefold()
    else:
        # NFKD first: it splits accents off and maps compatibility forms (full-width,
        # ligatures, superscripts) to plain letters. Casefold can reintroduce marks
        # ("İ" -> "i̇"), hence the second NFKD.
        decomposed = unicodedata.normalize("NFKD", cluster)
        if _strips_marks(decomposed[0]):
            folded = "".join(
                c for c in unicodedata.normalize("NFKD", decomposed.casefold()) if not _is_mark(c)
            )
        else:
            folded = unicodedata.normalize("NFKC", decomposed.casefold())
        folded = folded.translate(_LETTERS)
    result = (folded, any(_is_mark(c) for c in folded))
    if len(_cluster_cache) > _CACHE_LIMIT:
        _cluster_cache.clear()
    _cluster_cache[cluster] = result
    return result


@dataclass(slots=True, eq=False)
class Folded:
    """A folded text and the way back to the original.

    `starts[i]`/`ends[i]` are the original [start, end) of the cluster (base character plus
    its combining marks) that produced folded character `i`. Both are None when the mapping
    is the identity (ASCII text, the common case, costs no lists) or when `sparse` holds it.
    """

    original: str
    text: str
    starts: list[int] | None
    ends: list[int] | None
    has_marks: bool  # combining marks remain (scripts where marks are letters)
    sparse: _SparseMap | None = None  # instead of the lists, when few characters expand

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a non-empty folded span [start, end) to the original text."""
        if self.sparse is not None:
            return self.sparse.original(start)[0], self.sparse.original(end - 1)[1]
        if self.starts is None or self.ends is None:
            return start, end
        return self.starts[start], self.ends[end - 1]


class _SparseMap:
    """Folded -> original offsets when only a few characters fold to 0 or 2+ characters.

    Built in O(irregular characters) instead of O(text); each lookup is a bisection. Only
    valid for text without combining marks (every original character is its own cluster).
    """

    __slots__ = ("_folded_at", "_positions", "_shift", "_widths")

    def __init__(self, positions: list[int], widths: list[int]) -> None:
        self._positions = positions  # original offsets of the irregular characters, sorted
        self._widths = widths  # how many folded characters each one became
        self._folded_at: list[int] = []  # where each one's folding starts in folded text
        self._shift: list[int] = []  # folded minus original offset just after each one
        shift = 0
        for at, width in zip(positions, widths, strict=True):
            self._folded_at.append(at + shift)
            shift += width - 1
            self._shift.append(shift)

    def original(self, index: int) -> tuple[int, int]:
        """The original [start, end) of the character that produced folded `index`."""
        k = bisect_right(self._folded_at, index) - 1
        if k < 0:
            return index, index + 1
        if index < self._folded_at[k] + self._widths[k]:
            at = self._positions[k]  # inside an expansion such as "ß" -> "ss"
            return at, at + 1
        at = index - self._shift[k]
        return at, at + 1


def _char_table(text: str) -> tuple[dict[int, str], dict[str, str]] | None:
    """Fold each distinct character of `text` on its own, when that is enough.

    Returns a `str.translate` table and the characters that do not fold to exactly one
    character ("ß", "ﬁ", "æ", soft hyphen), or None when `text` has combining marks, which
    must be folded with their base character on the per-cluster path.
    """
    table: dict[int, str] = {}
    irregular: dict[str, str] = {}
    for ch in set(text):
        if ch >= "\u0300" and _is_mark(ch):
            return None
        folded, marks = _fold_cluster(ch)
        if marks:
            return None
        table[ord(ch)] = folded
        if len(folded) != 1:
            irregular[ch] = folded
    return table, irregular


def fold(text: str) -> Folded:
    """Fold `text` for comparison, keeping the map from folded to original offsets."""
    if text.isascii():
        # For ASCII, casefold is lower() and NFKD changes nothing: offsets are the identity.
        return Folded(text, text.lower(), None, None, has_marks=False)
    chars = _char_table(text)
    if chars is None:
        return _fold_clusters(text)
    # Common case (Cyrillic, composed accented Latin): fold at C speed with translate, and
    # build offset lists only around the few characters that expand or vanish.
    table, irregular = chars
    folded_text = text.translate(table)
    if not irregular:
        return Folded(text, folded_text, None, None, has_marks=False)
    positions: list[int] = []
    for ch in irregular:
        at = text.find(ch)
        while at >= 0:
            positions.append(at)
            at = text.find(ch, at + 1)
    positions.sort()
    sparse = _SparseMap(positions, [len(irregular[text[at]]) for at in positions])
    return Folded(text, folded_text, None, None, has_marks=False, sparse=sparse)


def _fold_clusters(text: str) -> Folded:
    """The general path: fold each base character together with its combining marks."""
    parts: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    has_marks = False
    n = len(text)
    i = 0
    while i < n:
        j = i + 1
        # A cluster is a character and the combining marks after it, folded together so
        # that composed "é" and decomposed "e\u0301" give the same result and offsets.
        while j < n and text[j] >= "\u0300" and _is_mark(text[j]):
            j += 1
        folded, marks = _fold_cluster(text[i:j])
        has_marks = has_marks or marks
        if len(folded) == 1:
            parts.append(folded)
            starts.append(i)
            ends.append(j)
        elif folded:
            parts.append(folded)
            starts.extend([i] * len(folded))
            ends.extend([j] * len(folded))
        i = j
    return Folded(text, "".join(parts), starts, ends, has_marks)


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or _is_mark(ch)


def _word_spans(text: str, has_marks: bool) -> list[tuple[int, int]]:
    if not has_marks:
        return [m.span() for m in _WORD_RE.finditer(text)]
    # Rare path (Indic, Thai, kana...): marks are word characters, which `re` cannot say.
    spans: list[tuple[int, int]] = []
    start = -1
    for i, ch in enumerate(text):
        if _is_word_char(ch):
            if start < 0:
                start = i
        elif start >= 0:
            spans.append((start, i))
            start = -1
    if start >= 0:
        spans.append((start, len(text)))
    return spans


def tokenize(folded: Folded) -> list[Token]:
    """Split folded text into words, dropping possessive "'s" after a word."""
    text = folded.text
    tokens: list[Token] = []
    prev_end = -2
    for start, end in _word_spans(text, folded.has_marks):
        if (
            end - start == 1
            and text[start] == "s"
            and start == prev_end + 1
            and text[prev_end] in _APOSTROPHES
        ):
            # "Iran's", "Rosneft’s": the possessive is part of the word before it.
            continue
        tokens.append((text[start:end], start, end))
        prev_end = end
    return tokens


def fold_tokens(text: str) -> tuple[str, ...]:
    """The folded words of `text`, as used to compile a term."""
    return tuple(word for word, _, _ in tokenize(fold(text)))
