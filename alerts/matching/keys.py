"""Words and their comparison keys: the one normal form every term and every text share.

Text is split into words (`words`, `word_spans`); each word becomes a *key* (`text_key`)
that two spellings of the same word share:

* case, accents, width and compatibility forms are folded (NFKC, casefold, marks dropped
  in alphabetic scripts): "ROSNEFT", "Rosneft", "Ｒｏｓｎｅｆｔ" -> "rosneft";
* possessives and apostrophes go: "Rosneft's" -> "rosneft", "O'Brien" -> "obrien",
  "l'Union" -> "union";
* other scripts are transliterated to Latin with `anyascii` (pure Python, tables for every
  Unicode block, no system ICU): "Навальный" -> "naval'nyy";
* common romanisation variants collapse (`romanise`): kh/h, dh/d, ks/x, q/k, ph/f,
  y/j/i, doubled letters, so -iy/-yy/-ii/-y/-i endings agree: Navalny, Navalnyy, Navalnyi
  and "Навальный" all give "navalni"; Gaddafi and Qadhafi give "gadafi" and "kadafi"
  (one letter apart: fuzzy matching takes it from there).

Two scripts get a marked key of their own, because a plain transliteration is not enough:

* Cyrillic and Greek words are inflected ("Навального", "Роснефти", "Μητσοτάκη"), so
  their key is a light stem of the transliteration, marked with `CYRILLIC`: "^navaln",
  "^rosneft", "^mitsotak";
* Arabic and Hebrew are written without most vowels, so their key is the consonant
  skeleton of the transliteration, without the article, marked with `ABJAD`:
  "القذافي" -> "~kdf", as is "Gaddafi" spelt in Latin.

Terms are written in one script but must find the word in any: `variants` gives a term's
word sequence in each key form (plain, Cyrillic stem, consonant skeleton), and the engine
looks for all of them. Han and kana characters are words of one character each (those
scripts do not separate words with spaces), so a Chinese or Japanese term is a phrase of
characters.

Pure functions with bounded caches; no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from anyascii import anyascii

__all__ = [
    "ABJAD",
    "APOSTROPHES",
    "CYRILLIC",
    "abjad_skeleton",
    "cyrillic_stem",
    "forget_compile_words",
    "key_cache",
    "plain_key",
    "romanise",
    "text_key",
    "variants",
    "word_spans",
    "words",
]

CYRILLIC = "^"  # marks the key of a Cyrillic or Greek word (a stem)
ABJAD = "~"  # marks the key of an Arabic or Hebrew word (a consonant skeleton)
PLACEHOLDER = "_"  # the key of a word that folds to nothing; no term has it
MAX_WORD = 64  # characters; longer "words" (encoded blobs) key to PLACEHOLDER

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f"
# Marks and invisible joiners that belong inside a word: combining marks (Latin accents
# in decomposed text, Indic vowel signs, Arabic harakat, kana voicing), soft hyphen,
# zero-width (non-)joiners. `[^\W_]` alone would split "हिन्दी" or "Naval\u00adny".
_IN_WORD = (
    "\u00ad\u200c\u200d\u0300-\u036f\u0483-\u0489\u0591-\u05c7\u0610-\u061a\u064b-\u065f"
    "\u0670\u06d6-\u06ed\u0900-\u0dff\u0e31-\u0e3a\u0e47-\u0e4e\u1ab0-\u1aff\u1dc0-\u1dff"
    "\u20d0-\u20ff\u3099\u309a\ufe20-\ufe2f"
)
APOSTROPHES = "'’ʼ‘`"  # every apostrophe inside or after a word
# ASCII text (most of what we read) takes the simple expression, which is much faster.
_ASCII_WORD_RE = re.compile(r"[^\W_]+(?:['`][^\W_]+)*")
_LETTER = rf"(?:[^\W_{_CJK}]|[{_IN_WORD}])"
_WORD_RE = re.compile(rf"[{_CJK}]|{_LETTER}+(?:[{APOSTROPHES}]{_LETTER}+)*")

# Elided articles and pronouns before an apostrophe: "l'Union", "d'Ivoire", "qu'il".
_ELISION_RE = re.compile(r"^(?:l|d|j|m|n|s|t|c|qu)'(?=[^\W_]{2})")
_DROP_CHARS = dict.fromkeys(map(ord, "\u00ad\u200c\u200d\u2060\ufeff"), None)
_NOT_KEY_RE = re.compile(r"[^a-z0-9]+")
_DOUBLE_RE = re.compile(r"([a-z])\1+")

# Digraphs first, then single letters. Each pair is a spelling difference that
# romanisation systems (BGN/PCGN, ISO 9, French and German conventions, Arabic
# transcriptions) make for the same sound; y/j/i last so "kh" is seen before "y".
_DIGRAPHS = (("kh", "h"), ("dh", "d"), ("ph", "f"), ("ks", "x"), ("q", "k"), ("y", "i"), ("j", "i"))

# Russian/Ukrainian/Belarusian case endings after transliteration and `romanise`, longest
# first: -ого/-его, -ому/-ему, -ими/-ами/-ями, -ой/-ей/-ий/-ый, -ом/-ем/-им/-ым, -их/-ах...
_CYRILLIC_ENDINGS = (
    "iami",
    "ogo",
    "ego",
    "omu",
    "emu",
    "imi",
    "ami",
    "oi",
    "ei",
    "om",
    "em",
    "im",
    "ih",
    "ah",
    "iu",
    "ia",
    "ie",
    "a",
    "e",
    "i",
    "o",
    "u",
)
_MIN_STEM = 4  # shorter stems would merge different short words ("Русь" and "Russia")
# Nominative endings of Greek and of foreign names written in Cyrillic (-ος -ης -ας -ες -ων,
# "Мицотакис"), taken off after the case ending: "Николаса" -> "nikolas" -> "nikol", as
# "Николас"; "Μητσοτάκη" and "Мицотакиса" both end as "mitsotak".
_NOMINATIVE_ENDINGS = ("os", "is", "as", "es", "us", "on")
_VOWELS_RE = re.compile(r"[aeiouw]+")
_MIN_SKELETON = 4
_LATIN_C_RE = re.compile(r"c(?!h)")  # w and y (-> i) carry long vowels in Arabic script

_CACHE_LIMIT = 200_000
key_cache: dict[str, str] = {}  # word -> text_key(word); read directly in hot loops
_plain_cache: dict[str, str] = {}
_stem_cache: dict[str, str] = {}


def words(text: str) -> list[str]:
    """The words of `text`, as written (see `word_spans` for their offsets)."""
    if text.isascii():
        return _ASCII_WORD_RE.findall(text)
    return _WORD_RE.findall(text)


def word_spans(text: str) -> list[tuple[int, int]]:
    """The [start, end) of every word of `text`, in the same order as `words`."""
    pattern = _ASCII_WORD_RE if text.isascii() else _WORD_RE
    return [m.span() for m in pattern.finditer(text)]


def _script(ch: str) -> str:
    """ "cyrillic", "abjad", "cjk" or "" for the script of a (non-ASCII) letter."""
    cp = ord(ch)
    if 0x0400 <= cp < 0x0530 or 0x1C80 <= cp < 0x1C90 or 0x2DE0 <= cp < 0x2E00:
        return "cyrillic"
    if 0xA640 <= cp < 0xA6A0:
        return "cyrillic"
    if 0x0370 <= cp < 0x0400 or 0x1F00 <= cp < 0x2000:
        return "cyrillic"  # Greek: inflected too, stemmed the same way (see cyrillic_stem)
    if 0x0590 <= cp < 0x0900 or 0xFB1D <= cp < 0xFE00 or 0xFE70 <= cp < 0xFF00:
        return "abjad"  # Hebrew, Arabic, Syriac, Thaana, and their presentation forms
    if 0x3040 <= cp < 0x3100 or 0x3400 <= cp < 0xA000 or 0xF900 <= cp < 0xFB00:
        return "cjk"
    if cp >= 0x20000:
        return "cjk"
    return ""


def _fold(word: str) -> str:
    """Case-, width- and accent-folded, apostrophes and possessives resolved."""
    text = unicodedata.normalize("NFKC", word).casefold().translate(_DROP_CHARS)
    for a in APOSTROPHES[1:]:
        if a in text:
            text = text.replace(a, "'")
    if "'" in text:
        if text.endswith("'s"):
            text = text[:-2]
        text = _ELISION_RE.sub("", text).replace("'", "")
    return text


def romanise(latin: str) -> str:
    """Collapse romanisation variants in lower-case ASCII letters and digits.

    A leading y or j stays (so "Jis" and "Yin" do not become "is" and "in"), and doubled
    letters merge only in words of five letters or more ("Assad", "Hassan"), so short
    words keep apart ("Ann" is not "an", "Inn" is not "in").
    """
    original = latin
    for old, new in _DIGRAPHS:
        if old in latin:
            latin = latin.replace(old, new)
    if latin[:1] == "i" and original[:1] in "yj":
        latin = original[0] + latin[1:]
    if len(latin) >= 5:
        latin = _DOUBLE_RE.sub(r"\1", latin)
    return latin


def _latin(folded: str) -> str:
    """Lower-case ASCII letters and digits for a folded word (transliterated if needed)."""
    if not folded.isascii():
        # Strip accents first so the transliteration sees base letters ("é" -> "e"); in
        # scripts whose marks are letters (Indic), anyascii still romanises them.
        base = "".join(c for c in unicodedata.normalize("NFKD", folded) if not _is_accent(c))
        folded = anyascii(base).lower()
    return _NOT_KEY_RE.sub("", folded)


def _is_accent(ch: str) -> bool:
    # Combining marks on Latin, Greek and Cyrillic letters are accents ("é", "ё", "й");
    # elsewhere (Devanagari vowel signs...) they are letters and must stay.
    return "\u0300" <= ch <= "\u036f"


def forget_compile_words() -> None:
    """Drop the word caches a compile filled (hundreds of thousands of name parts).

    Matching refills them with the words of news text, which is what is worth keeping.
    """
    _plain_cache.clear()
    _stem_cache.clear()


def plain_key(word: str) -> str:
    """The script-neutral key of one word: folded, transliterated, romanised."""
    if len(word) > MAX_WORD:
        return PLACEHOLDER  # no name or term is this long (base64, URLs): not cached
    key = _plain_cache.get(word)
    if key is None:
        key = romanise(_latin(_fold(word))) or PLACEHOLDER
        if key == "el":
            key = "al"  # the Arabic article: "el-Qaddafi" is "al-Qaddafi"
        if len(_plain_cache) >= _CACHE_LIMIT:
            _plain_cache.clear()  # bounded: hostile input cannot grow it without end
        _plain_cache[word] = key
    return key


def cyrillic_stem(plain: str) -> str:
    """The Cyrillic/Greek-text key for a plain key: a case ending, trailing vowels, then a
    nominative ending removed."""
    stem = _stem_cache.get(plain)
    if stem is None:
        if len(_stem_cache) >= _CACHE_LIMIT:
            _stem_cache.clear()
        stem = _stem_cache[plain] = _cyrillic_stem(plain)
    return stem


def _cyrillic_stem(plain: str) -> str:
    if not plain.isalpha():
        return CYRILLIC + plain
    stem = plain
    for ending in _CYRILLIC_ENDINGS:
        if stem.endswith(ending) and len(stem) - len(ending) >= _MIN_STEM:
            stem = stem[: -len(ending)]
            break
    while len(stem) > _MIN_STEM and stem[-1] in "aeiou":
        stem = stem[:-1]
    for ending in _NOMINATIVE_ENDINGS:
        if stem.endswith(ending) and len(stem) - len(ending) >= _MIN_STEM:
            stem = stem[: -len(ending)]
            break
    return CYRILLIC + stem


def abjad_skeleton(plain: str, *, article: bool = False) -> str:
    """The Arabic/Hebrew-text key for a plain key: its consonants, doubled ones merged.

    `article`: the word began with the Arabic article (ال), dropped from the skeleton
    because Latin spellings write it as a separate word ("al-Assad") or not at all.
    """
    if article and plain.startswith("l") and len(plain) > 2:
        plain = plain[1:]  # "الأسد" -> "lsd" -> "sd", as "Assad"
    # Arabic has no g: Latin spellings use g for the qaf or jim that the script writes.
    skeleton = _DOUBLE_RE.sub(r"\1", _VOWELS_RE.sub("", plain).replace("g", "k"))
    if len(skeleton) > 2 and skeleton.endswith("h"):
        skeleton = skeleton[:-1]  # a final heh is mostly a vowel: "خامنه‌ای" is Khamenei
    return ABJAD + (skeleton or plain)


def text_key(word: str) -> str:
    """The key of a word found in text: plain, Cyrillic stem or consonant skeleton."""
    key = key_cache.get(word)
    if key is not None:
        return key
    if len(word) > MAX_WORD:
        return PLACEHOLDER
    key = plain_key(word)
    if not word.isascii() and key != PLACEHOLDER:
        script = _first_script(word)
        if script == "cyrillic":
            key = cyrillic_stem(key)
        elif script == "abjad":
            key = abjad_skeleton(key, article=word.startswith("ال"))
        elif script == "cjk":
            key = word  # one character; kept as written so Chinese terms match Chinese
    if len(key_cache) >= _CACHE_LIMIT:
        key_cache.clear()
    key_cache[word] = key
    return key


def _first_script(word: str) -> str:
    for ch in word:
        if ch.isalpha() and not ch.isascii():
            return _script(ch)
        if ch.isalpha():
            return ""
    return ""


def variants(
    term_words: Sequence[str],
    *,
    abjad_form: bool = False,
    scripts: frozenset[str] = frozenset({"latin", "cyrillic", "abjad"}),
) -> list[tuple[str, ...]]:
    """The key sequences under which a term's words can appear in text, without repeats.

    A term in any script is looked for in Latin text (plain keys) and in Cyrillic and
    Greek text (stems), as `scripts` allows. It is looked for in Arabic/Hebrew text
    (consonant skeletons) when it is written in that script or `abjad_form` is set
    (entity names), and only with at least four consonants in all. CJK characters are
    looked for as written.
    """
    plain: list[str] = []
    cyrillic: list[str] = []
    in_abjad = abjad_form or any(_first_script(w) == "abjad" for w in term_words)
    abjad: list[str] | None = [] if in_abjad and "abjad" in scripts else None
    for word in term_words:
        base = _plain_cache.get(word) or plain_key(word)
        if base == PLACEHOLDER:
            continue
        if not word.isascii() and _first_script(word) == "cjk":
            plain.append(word)
            cyrillic.append(word)
            abjad = None
            continue
        plain.append(base)
        if "c" in base and _first_script(word) == "":
            # Russian writes the Latin c as к ("Николас", "Франциско"); only "ch" stays.
            cyrillic.append(cyrillic_stem(_LATIN_C_RE.sub("k", base)))
        else:
            cyrillic.append(_stem_cache.get(base) or cyrillic_stem(base))
        if abjad is not None:
            skeleton = abjad_skeleton(base, article=word.startswith("ال"))
            if not base.isalpha():
                abjad = None  # digits have no skeleton
            else:
                abjad.append(skeleton)
    # Skeletons are loose: a name is looked for in Arabic script only with at least four
    # consonants in all ("Ali Khamenei": l + hmn), and no part without one.
    if abjad is not None and (
        sum(len(k) - 1 for k in abjad) < _MIN_SKELETON or any(len(k) < 2 for k in abjad)
    ):
        abjad = None
    out: list[tuple[str, ...]] = []
    chosen = (
        plain if "latin" in scripts else None,
        cyrillic if "cyrillic" in scripts else None,
        abjad,
    )
    for seq in chosen:
        if seq and tuple(seq) not in out:
            out.append(tuple(seq))
    return out


def prefix_variants(term_words: Sequence[str]) -> list[tuple[str, ...]]:
    """Key sequences for a term whose last word is a prefix (`Russ*`, `economic sanction*`).

    A prefix is not a word: its doubled letters merge whatever its length ("Russ" must find
    "Russia", keyed "rusia"), it is not stemmed in the Cyrillic form, and a final k or p
    also stands for the digraph it may begin ("Mik*" finds "Mikhail", keyed "mihail").
    """
    if not term_words:
        return []
    head = variants(term_words[:-1]) if len(term_words) > 1 else [()]
    last = _DOUBLE_RE.sub(r"\1", plain_key(term_words[-1]))
    if last == PLACEHOLDER:
        return []
    endings = {last}
    if last.endswith("k"):
        endings |= {last[:-1] + "h", last[:-1] + "x"}  # kh -> h, ks -> x
    elif last.endswith("p"):
        endings.add(last[:-1] + "f")  # ph -> f
    out: list[tuple[str, ...]] = []
    for seq in head:
        marker = seq[0][:1] if seq and seq[0][:1] in (CYRILLIC, ABJAD) else ""
        if marker == ABJAD:
            continue  # skeletons drop letters: a prefix of one means little
        for ending in sorted(endings):
            candidate = (*seq, marker + ending)
            if candidate not in out:
                out.append(candidate)
    if len(term_words) == 1:
        out += [(CYRILLIC + e,) for e in sorted(endings)]
    return out
