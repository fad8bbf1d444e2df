"""Near-duplicate fingerprints of news items: a MinHash signature plus story markers.

`fingerprint(title, text)` reduces an item to what story clustering needs:

- `signature`: the MinHash of the text's word 3-gram shingles. The share of equal
  positions in two signatures estimates the Jaccard overlap of their shingle sets (the
  standard error is sqrt(J(1-J)/NUM_PERM), 0.04 at J = 0.3). Signatures are persisted, so
  every hash here is stable across processes and releases: words are hashed with BLAKE2b,
  the permutations come from fixed BLAKE2b-derived constants, and `FINGERPRINT_VERSION`
  changes whenever any of it does (records of another version are refused).
- `shingles`: how many distinct shingles the signature summarises. Below `MIN_SHINGLES`
  the estimate is noise and the item never clusters by text.
- `names`, `programmes`, `numbers`: named entities, sanctions programme keywords, package
  ordinals and listing counts. They tell apart distinct stories that share boilerplate
  (two OFAC actions on one day, the EU's 13th and 14th packages) and link an official
  notice to the press story of the same action when the wording differs.

Text is NFKC-normalised and casefolded; words are runs of letters and digits in any
script. Short promotional lines (newsletter, app, copyright footers) are dropped first.

Only the text feeds the shingles: outlets write their own headlines, and on our labelled
set shingling headline + text lowered the overlap of syndicated copies (median 0.64 ->
0.59, 5th percentile 0.46 -> 0.42, benchmarks/bench_story_quality.py) without separating
other stories any better; a title-only item must not cluster at all. The title does feed
the names (unless it is in Headline Case), programmes and numbers.

Pure: standard library and numpy only.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "FINGERPRINT_VERSION",
    "MIN_SHINGLES",
    "NUM_PERM",
    "Fingerprint",
    "fingerprint",
    "fingerprint_from_record",
    "fingerprint_to_record",
    "signature_values",
    "similarity",
]

NUM_PERM: Final = 128
# Below this many distinct shingles (about a dozen words) an overlap estimate means nothing:
# "Sanctions update" or a one-line summary would match anything that starts the same way.
MIN_SHINGLES: Final = 12
# Only the first words of a very long text are shingled: it bounds the cost of an item, and
# a copy that shares none of the first 2,000 words is not a syndicated copy.
MAX_WORDS: Final = 2000
# Bump when tokenising, shingling or hashing changes: persisted signatures become invalid.
FINGERPRINT_VERSION: Final = 1

_U64 = np.uint64
_U32_MAX: Final = 0xFFFFFFFF


def _word_set(text: str) -> frozenset[str]:
    """The whitespace-separated words of `text` (keeps the word lists below readable)."""
    return frozenset(text.split())


def _stable_u64(label: str) -> int:
    return int.from_bytes(hashlib.blake2b(label.encode(), digest_size=8).digest(), "little")


# The permutations: x -> (a*x + b) mod 2**32 with odd a is a bijection of the 32-bit shingle
# hashes, so each row is a true permutation of the universe. The shingle hashes themselves
# are uniformly random (built from BLAKE2b word hashes), and on random sets this family
# estimated Jaccard as accurately as 64-bit multiply-add-shift (bias < 0.001, sd 0.035 at
# 128 permutations, the theoretical sqrt(J(1-J)/128)) at half the cost: numpy multiplies
# uint32 arrays twice as fast as uint64 ones.
_PERM_A: Final = np.array(
    [_stable_u64(f"alerts.minhash.a.{i}") & _U32_MAX | 1 for i in range(NUM_PERM)], np.uint32
)
_PERM_B: Final = np.array(
    [_stable_u64(f"alerts.minhash.b.{i}") & _U32_MAX for i in range(NUM_PERM)], np.uint32
)
_SHINGLE_MUL: Final = (
    _U64(_stable_u64("alerts.shingle.1") | 1),
    _U64(_stable_u64("alerts.shingle.2") | 1),
)
_S32: Final = _U64(32)
_EMPTY_SIGNATURE: Final = np.full(NUM_PERM, _U32_MAX, np.uint32)


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What story clustering keeps of an item (see the module docstring)."""

    signature: bytes  # NUM_PERM little-endian uint32 minima
    shingles: int  # distinct shingles in the text
    names: tuple[str, ...]  # normalised named entities, sorted
    programmes: tuple[str, ...]  # sanctions programme keywords, sorted
    numbers: tuple[str, ...]  # "package:14" (ordinal in a series), "count:52" (listed), sorted


def fingerprint(title: str, text: str) -> Fingerprint:
    """The fingerprint of an item: `text` is the article text, else the feed summary."""
    body = unicodedata.normalize("NFKC", text)
    folded = body.casefold()
    words = _words(folded)
    if not _PROMO_WORDS.isdisjoint(words):
        body, folded, words = _without_promo(body, folded, words)
    shingles = _shingle_hashes(words[:MAX_WORDS])
    if title := unicodedata.normalize("NFKC", title).strip():
        folded_title = title.casefold()
        folded = f"{folded_title}\n{folded}"
        words = _words(folded_title) + words
        # "Headline | Outlet": the site's name is no name in the story.
        headline = title.rpartition(" | ")[0] or title
        if not _title_case(headline):
            body = f"{headline}\n{body}"
    present = set(words)
    return Fingerprint(
        signature=_minhash(shingles).astype("<u4").tobytes(),
        shingles=len(shingles),
        names=tuple(sorted(_names(body))),
        programmes=tuple(sorted(_programmes(words, present))),
        numbers=tuple(sorted(_numbers(folded, present))),
    )


def signature_values(fp: Fingerprint) -> npt.NDArray[np.uint32]:
    """The signature as a read-only uint32 array (a view on the bytes, no copy)."""
    return np.frombuffer(fp.signature, dtype="<u4")


def similarity(a: Fingerprint, b: Fingerprint) -> float:
    """Estimated Jaccard overlap of the two texts' shingle sets (0.0 for a too-short text)."""
    if min(a.shingles, b.shingles) < MIN_SHINGLES:
        return 0.0
    return float(np.count_nonzero(signature_values(a) == signature_values(b))) / NUM_PERM


# --------------------------------------------------------------------------- records


def fingerprint_to_record(fp: Fingerprint) -> dict[str, Any]:
    """A JSON-safe record; the signature is base64 text, tagged with the scheme version."""
    return {
        "version": FINGERPRINT_VERSION,
        "signature": base64.b64encode(fp.signature).decode("ascii"),
        "shingles": fp.shingles,
        "names": list(fp.names),
        "programmes": list(fp.programmes),
        "numbers": list(fp.numbers),
    }


def fingerprint_from_record(data: dict[str, Any]) -> Fingerprint:
    """Inverse of `fingerprint_to_record`; ValueError says what is wrong with the record.

    A record of another `FINGERPRINT_VERSION` is refused: its signature was made by other
    hash functions and comparing it with new ones would give meaningless overlaps.
    """
    if data.get("version") != FINGERPRINT_VERSION:
        raise ValueError(
            f"fingerprint version {data.get('version')!r} is not {FINGERPRINT_VERSION}; "
            "recompute it from the item's text"
        )
    try:
        signature = base64.b64decode(str(data["signature"]), validate=True)
    except (KeyError, ValueError) as error:
        raise ValueError(f"signature must be base64 text: {error}") from None
    if len(signature) != 4 * NUM_PERM:
        raise ValueError(f"signature must be {4 * NUM_PERM} bytes, got {len(signature)}")
    shingles = data.get("shingles")
    if not isinstance(shingles, int) or isinstance(shingles, bool) or shingles < 0:
        raise ValueError("shingles must be a non-negative integer")
    lists: dict[str, tuple[str, ...]] = {}
    for key in ("names", "programmes", "numbers"):
        values = data.get(key, [])
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ValueError(f"{key} must be a list of strings")
        lists[key] = tuple(sorted(values))
    return Fingerprint(signature=signature, shingles=shingles, **lists)


# --------------------------------------------------------------------------- shingles

# Words of any script: letters and digits; apostrophes and hyphens split words, so
# "Russia's" and "Russia" share "russia" and "counter-terrorism" equals "counter terrorism".
_WORD = re.compile(r"\w+")


# ASCII text (much English news) is split three times faster by translating every
# character that is not a word character to a space; the result is the same as _WORD's.
_ASCII_NON_WORD: Final = str.maketrans(
    {c: " " for c in map(chr, range(128)) if not (c.isalnum() or c == "_")}
)


def _words(folded: str) -> list[str]:
    if folded.isascii():
        return folded.translate(_ASCII_NON_WORD).split()
    return _WORD.findall(folded)


class _WordHashes(dict[str, int]):
    """Word -> stable 64-bit hash, computed once per word. News vocabulary repeats, so the
    cache pays; it is emptied when full, which is cheaper than LRU bookkeeping and refills
    within a few items."""

    limit: Final = 1 << 18

    def __missing__(self, word: str) -> int:
        if len(self) >= self.limit:
            self.clear()
        digest = hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=8)
        value = self[word] = int.from_bytes(digest.digest(), "little")
        return value


_WORD_HASHES: Final = _WordHashes()


def _shingle_hashes(words: list[str]) -> npt.NDArray[np.uint32]:
    """Distinct 32-bit hashes of the word 3-grams (empty for fewer than three words)."""
    if len(words) < 3:
        return np.empty(0, np.uint32)
    hashes = np.fromiter(map(_WORD_HASHES.__getitem__, words), np.uint64, len(words))
    mul1, mul2 = _SHINGLE_MUL
    # Word hashes are uniformly random 64-bit values, so an order-sensitive linear
    # combination of three of them is too; its top 32 bits are the shingle's hash.
    h = hashes[:-2] * mul1
    h += hashes[1:-1] * mul2
    h += hashes[2:]
    shingles = np.sort((h >> _S32).astype(np.uint32))
    # Sort and keep the first of each run: np.unique is four times slower on short arrays.
    distinct: npt.NDArray[np.uint32] = shingles[
        np.concatenate(([True], shingles[1:] != shingles[:-1]))
    ]
    return distinct


def _minhash(shingles: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    if not len(shingles):
        return _EMPTY_SIGNATURE
    permuted = np.multiply.outer(_PERM_A, shingles)  # uint32 arithmetic wraps: mod 2**32
    permuted += _PERM_B[:, None]
    result: npt.NDArray[np.uint32] = permuted.min(axis=1)
    return result


# Promotional paragraphs (newsletter, donation, app, copyright, share bars) differ between
# outlets carrying one story and repeat across unrelated stories of one outlet: both push
# the overlap the wrong way. Extraction usually drops them; this catches what it leaves.
# A word of the set is a cheap first test; the phrases decide, line by line.
_PROMO_WORDS: Final = _word_set(
    "subscribe unsubscribe newsletter contribute contribution donate reserved copyright follow "
    "download app privacy cookie cookies read share related member tip syndicated inbox sign"
)
_PROMO = re.compile(
    r"\b(?:subscribe|unsubscribe|newsletter|sign up for|contribut(?:e|ion)|donate|"
    r"all rights reserved|copyright|follow us|download our|our free app|privacy policy|"
    r"cookie|read more|share this article|related topics|become a member|log in here|"
    r"got a tip|syndicated feed|in your inbox)\b"
)
_PROMO_MAX_WORDS: Final = 60


def _without_promo(body: str, folded: str, words: list[str]) -> tuple[str, str, list[str]]:
    """The text (as is, casefolded, in words) without short lines that read like promotion."""
    lines = folded.split("\n")
    drop = {
        n
        for n, line in enumerate(lines)
        if _PROMO.search(line) and len(line.split()) <= _PROMO_MAX_WORDS
    }
    originals = body.split("\n")
    # Casefolding never adds line breaks; be safe anyway.
    if not drop or len(originals) != len(lines):
        return body, folded, words
    keep = [n for n in range(len(lines)) if n not in drop]
    folded = "\n".join(lines[n] for n in keep)
    return "\n".join(originals[n] for n in keep), folded, _words(folded)


# --------------------------------------------------------------------------- names


def _upper_class() -> str:
    """A regex character class body with every upper- and title-case letter below U+3000."""
    ranges: list[tuple[int, int]] = []
    for code in range(0x3000):
        char = chr(code)
        if char.isupper() or char.istitle():
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1] = (ranges[-1][0], code)
            else:
                ranges.append((code, code))
    return "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )


_UP = _upper_class()
_SPACE = r"[ \t\u00a0]+"
# The patterns start with the capital-letter class and check what precedes it after
# matching it (a look-behind first would stop the regex engine from skipping ahead fast).
# A capital that starts a word: a name may start after a hyphen ("al-Noor Exchange"), an
# acronym may not ("IRGC-QF" is not "QF").
_NAME_START = rf"[{_UP}](?<![\w'’][{_UP}])"
_ACRONYM_START = rf"[{_UP}](?<![\w'’\-][{_UP}])"
_GIVEN = rf"[{_UP}][^\W\d_]+"
# A run of two or more capitalised words, with the lower-case particles that may sit
# inside a name: "Office of Foreign Assets Control", "Bank of Russia", "Abu Bakr al
# Baghdadi". Not "and": "Iran and Syria" is two names. Runs are split into names in Python.
_RUN = re.compile(
    rf"{_NAME_START}[\w'’\-]*(?:{_SPACE}(?:(?:of the|of|for|de|del|da|dos|al|el|bin|ibn|"
    rf"von|van|der|den|la|le|du){_SPACE})?{_NAME_START}[\w'’\-]*)+"
)
# A word in capitals on its own: "FSB", "IK-3", "ФСБ" (not one of "ANGARA STAR").
_CAPITALS = re.compile(
    rf"{_ACRONYM_START}(?<![{_UP}] [{_UP}])[{_UP}\d][{_UP}\d\-]*(?![\w'’]| [{_UP}][{_UP}\d])"
)
# "Yamalo-Nenets", "Al-Shabaab": one word, yet a name. Looked for where "-X" occurs.
_HYPHEN_CAPITAL = re.compile(rf"-[{_UP}]")
_HYPHENATED = re.compile(rf"{_GIVEN}(?:-{_GIVEN})+(?![\w\-])")
# Sanctions lists write "SOROKIN, Yevgeny Aleksandrovich": the press's "Yevgeny Sorokin".
# Tried where a word in capitals is followed by a comma.
_LISTED = re.compile(
    rf"([{_UP}]{{3,}}(?:[ \-][{_UP}]{{2,}})*),{_SPACE}({_GIVEN}(?:{_SPACE}{_GIVEN})*)"
)
# "Lady Maria II": a numeral continues a name rather than being an acronym.
_ROMAN: Final = _word_set("I II III IV V VI VII VIII IX X XI XII XIII XIV XV XVI XVII XVIII XIX XX")
_ACRONYM_MAX = 6

# Words that capitalise a run without being part of a name: sentence openers, titles
# and ranks ("Prosecutor General Igor Krasnov" is "Igor Krasnov"), days and months.
_NOT_NAME_WORDS: Final = _word_set(
    """
    the a an in on at for but and or this that these those it its he she they we our his
    в во на по из с со к о об и но а у за при для от до это
    her their today yesterday earlier later last under after before while with also as by
    from meanwhile however separately according among other others some many several most
    all both each every new when where what which who why how if then there here since
    until than such so not no yes one two three first second third
    mr mrs ms dr sir madam president presidents minister ministers prime deputy secretary
    chairman chairwoman chair ceo director head chief general prosecutor governor senator
    spokesman spokeswoman spokesperson ambassador commander colonel col gen lieutenant
    admiral officer king prince sheikh emir judge justice former acting vice major captain
    sergeant private
    monday tuesday wednesday thursday friday saturday sunday
    january february march april may june july august september october november december
    """
)
# Legal forms around company names: "Open Joint Stock Company Rosneft Oil Company" and
# "Rosneft Oil" are one company.
_LEGAL_FORM = re.compile(
    r"^(?:(?:open |closed |public |private )?joint stock company |limited liability company )"
    r"| (?:co|corp|corporation|company|ltd|limited|llc|inc|plc|jsc|pjsc|oao|ooo|gmbh|fze|"
    r"fzco|dmcc|sa|ag|bv)$"
)
# Names in nearly every sanctions item: issuers, the big jurisdictions, legal boilerplate
# and company forms. They say nothing about which action an item reports.
_GENERIC: Final = _word_set(
    """
    us usa uk eu un g7 ofac ofsi hmt hm fcdo cfsp eo sdn unsc nato ceo uae сша ес оон рф
    llc ltd jsc pjsc ojsc cjsc ooo oao zao fze fzco fzc dmcc plc inc gmbh ag sa bv co
    """
) | frozenset(
    """
    united states|united kingdom|european union|united nations|security council|
    department of the treasury|treasury department|us treasury|department of state|
    state department|department of commerce|commerce department|white house|
    office of foreign assets control|council of the european union|european commission|
    european council|official journal|foreign office|executive order|federal register|
    russian federation|government of the russian federation|his majesty s treasury|
    hm treasury|office of financial sanctions implementation|north korea|north korean|
    south korea|hong kong|united arab emirates|saudi arabia|new york|new zealand|sri lanka|
    european parliament|supreme court|united nations security council
    """.replace("\n", "")
    .replace("|    ", "|")
    .strip()
    .split("|")
)


def _title_case(title: str) -> bool:
    """Headline Case ("EU Adopts New Package") capitalises every word: no names there."""
    words = [w for w in title.split() if len(w) > 3 and w[0].isalpha()]
    return len(words) >= 3 and sum(w[0].isupper() for w in words) >= 0.6 * len(words)


def _names(text: str) -> set[str]:
    """Named entities: multi-word names, acronyms, "Yamalo-Nenets", "SOROKIN, Yevgeny"."""
    names: set[str] = set()
    for run in _RUN.finditer(text):
        value = run.group(0)
        found = _RUN_NAMES.get(value)
        if found is None:
            if len(_RUN_NAMES) >= _RUN_CACHE_LIMIT:
                _RUN_NAMES.clear()
            found = _RUN_NAMES[value] = _run_names(value)
        names.update(found)
        if value.isupper() and text.startswith(",", run.end()):
            names.update(_listed(text, run.start()))
    for match in _CAPITALS.finditer(text):
        value = match.group(0)
        if key := _single_name(value):
            names.add(key)
        if len(value) > 2 and text.startswith(",", match.end()):
            names.update(_listed(text, match.start()))
    for hyphen in _HYPHEN_CAPITAL.finditer(text):
        start = hyphen.start()
        while start and (text[start - 1].isalpha() or text[start - 1] == "-"):
            start -= 1
        if (word := _HYPHENATED.match(text, start)) and word.end() > hyphen.start():
            names.add(_name_key(word.group(0)))
    return names - _GENERIC


# Runs of capitalised words repeat (every copy of a story names the same people), and
# splitting one into names is the costly part: remember the results, boundedly.
_RUN_NAMES: dict[str, tuple[str, ...]] = {}
_RUN_CACHE_LIMIT: Final = 1 << 16


def _run_names(run: str) -> tuple[str, ...]:
    names: list[str] = []
    for part in _name_parts(run.split()):
        if len(part) > 1:
            key = _LEGAL_FORM.sub("", _name_key(" ".join(part)))
            if " " in key:
                names.append(key)
        elif part and (key := _single_name(part[0])):
            names.append(key)
    return tuple(names)


def _listed(text: str, at: int) -> list[str]:
    """The person of a "SURNAME, Given Names" entry at `at`, in press order, if any."""
    match = _LISTED.match(text, at)
    if match is None:
        return []
    given = [w for w in match.group(2).split() if w.casefold() not in _NOT_NAME_WORDS]
    return [_name_key(" ".join([*given, match.group(1)]))] if given else []


def _single_name(word: str) -> str:
    """An acronym ("FSB", "IK-3", "ФСБ") or a hyphenated name ("Yamalo-Nenets"), else ""."""
    if word.isupper():
        letters = sum(c.isalpha() for c in word)
        if 2 <= letters <= _ACRONYM_MAX and "'" not in word and word not in _ROMAN:
            return _name_key(word)
        return ""
    if "-" in word:
        pieces = word.split("-")
        if all(p[:1].isupper() and len(p) > 1 for p in pieces):
            return _name_key(word)
    return ""


def _name_parts(words: list[str]) -> list[list[str]]:
    """The names in a run of capitalised words.

    Titles, sentence words and possessives end a name ("Treasury's Office of Foreign Assets
    Control", "Prosecutor General Igor Krasnov" gives "Igor Krasnov"); words in capitals
    form names of their own ("ANGARA STAR", "FSB"); "Taipei-registered" ends one; particles
    cannot start one.
    """
    parts: list[list[str]] = []
    current: list[str] = []
    capitals = False
    for word in words:
        if word.islower():  # a particle
            if current:
                current.append(word)
            continue
        if word.casefold().strip("'’") in _NOT_NAME_WORDS:
            parts.append(current)
            current = []
            continue
        if current and word in _ROMAN:  # "Lady Maria II" and "LADY MARIA II"
            current.append(word)
            continue
        upper = len(word) > 1 and word.isupper()
        if upper != capitals:
            parts.append(current)
            current, capitals = [], upper
        if "-" in word and word.partition("-")[2][:1].islower():
            current.append(word.partition("-")[0])
            parts.append(current)
            current = []
        elif word.endswith(("'s", "’s")):
            current.append(word)
            parts.append(current)
            current = []
        else:
            current.append(word)
    parts.append(current)
    for part in parts:
        while part and part[-1].islower():
            part.pop()
    return parts


_POSSESSIVE = re.compile(r"['’]s$")


def _name_key(name: str) -> str:
    """A name as compared: NFKC, casefolded, accents and possessive dropped, hyphens as spaces."""
    name = _POSSESSIVE.sub("", name.strip())
    if not name.isascii():
        decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", name))
        name = unicodedata.normalize(
            "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
        )
    return " ".join(name.casefold().replace("-", " ").replace("'", " ").replace("’", " ").split())


# --------------------------------------------------------------------------- programmes

# Keyword -> sanctions programme. Inflected forms are listed because matching is by whole
# word; Russian stems cover the Russian-language feeds.
_PROGRAMME_WORDS: Final[dict[str, str]] = {
    word: programme
    for programme, words in {
        "russia": "russia russian russians moscow kremlin putin россия россии россию "
        "российский российские российских российской российского кремль кремле москва "
        "russland russischen russische russie russe russes rusia ruso rusos",
        "ukraine": "ukraine ukrainian crimea donbas donbass украина украины ukrainische ucrania",
        "iran": "iran iranian iranians tehran irgc иран ирана irán iraní",
        "dprk": "dprk pyongyang кндр",
        "syria": "syria syrian damascus assad сирия сирии",
        "venezuela": "venezuela venezuelan venezolano venezolana maduro caracas pdvsa венесуэла",
        "belarus": "belarus belarusian belarussian lukashenko minsk беларусь белоруссия",
        "cyber": "cyber cyberattack cyberattacks ransomware hacker hackers hacking malware "
        "cybercrime cybercriminals",
        "counter-terrorism": "terrorism terrorist terrorists counterterrorism hizballah "
        "hezbollah hamas isis isil qaida qaeda shabaab",
        "narcotics": "narcotics narcotic cartel cartels fentanyl cocaine heroin",
        "global-magnitsky": "magnitsky",
        "houthis": "houthi houthis ansarallah",
        "cuba": "cuba cuban havana",
        "myanmar": "myanmar burma burmese",
        "sudan": "sudan sudanese khartoum",
        "china": "china chinese beijing",
        "afghanistan": "afghanistan taliban",
        "libya": "libya libyan",
        "nicaragua": "nicaragua nicaraguan ortega",
        "haiti": "haiti haitian",
        "mali": "mali malian",
        "somalia": "somalia somali",
        "yemen": "yemen yemeni",
        "lebanon": "lebanon lebanese",
        "iraq": "iraq iraqi",
        "zimbabwe": "zimbabwe zimbabwean",
        "congo": "congo congolese",
        "ethiopia": "ethiopia ethiopian",
        "moldova": "moldova moldovan",
        "guatemala": "guatemala guatemalan",
        "balkans": "balkans bosnia serbia serbian kosovo montenegro",
        "burundi": "burundi",
        "transnational-crime": "gang gangs mafia",
        "non-proliferation": "proliferation nonproliferation",
    }.items()
    for word in words.split()
}
# Phrases, as words: (first word, the words after it, programme).
_PROGRAMME_PHRASES: Final = (
    ("north", ("korea",), "dprk"),
    ("north", ("korean",), "dprk"),
    ("human", ("rights",), "human-rights"),
    ("drug", ("trafficking",), "narcotics"),
    ("drug", ("traffickers",), "narcotics"),
    ("ansar", ("allah",), "houthis"),
    ("hong", ("kong",), "china"),
    ("weapons", ("of", "mass", "destruction"), "non-proliferation"),
)
_PHRASE_FIRST_WORDS: Final = frozenset(first for first, _, _ in _PROGRAMME_PHRASES)


def _programmes(words: list[str], present: set[str]) -> set[str]:
    found = {_PROGRAMME_WORDS[w] for w in present.intersection(_PROGRAMME_WORDS)}
    if present.isdisjoint(_PHRASE_FIRST_WORDS):
        return found
    for first, rest, programme in _PROGRAMME_PHRASES:
        if first in present and programme not in found and _has_phrase(words, first, rest):
            found.add(programme)
    return found


def _has_phrase(words: list[str], first: str, rest: tuple[str, ...]) -> bool:
    at = -1
    with contextlib.suppress(ValueError):
        while True:
            at = words.index(first, at + 1)
            if tuple(words[at + 1 : at + 1 + len(rest)]) == rest:
                return True
    return False


# --------------------------------------------------------------------------- numbers

_ORDINAL_WORDS: Final = (
    "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
    "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
    "seventeenth", "eighteenth", "nineteenth", "twentieth",
)  # fmt: skip
_SPELLED: Final = {word: n for n, word in enumerate(_ORDINAL_WORDS, start=1)}
_SPELLED.update({f"twenty{sep}{w}": 20 + n for w, n in list(_SPELLED.items())[:9] for sep in "- "})
_ORDINAL = r"(\d{1,3})(?:st|nd|rd|th)|(" + "|".join(sorted(_SPELLED, key=len, reverse=True)) + ")"
# Which package of a series an item is about: "14th package", "14th sanctions package",
# "fourteenth round of sanctions", "14. Sanktionspaket", "14-й пакет" (the number before
# the word) or "package 14", "package No. 14" (after it). The word is found first, then
# the number is looked for just around it: scanning the whole text for ordinals is slow.
_PACKAGE_WORD = re.compile(r"(?:sanktions)?(?:package|round|tranche|paket|пакет)")
_PACKAGE_CONTEXT = 40
_ORDINAL_BEFORE = re.compile(rf"\b(?:{_ORDINAL})(?:[ \-]+[^\W\d]+){{0,2}}?[ \-]+$")
# German and Russian write the ordinal as a number: "14. Sanktionspaket", "14-й пакет".
_NUMBER_BEFORE = re.compile(r"\b(\d{1,3})(?:\.\s*|\s*-?\s*(?:й|го|м|ий|ого)?\s+)$")
_NUMBER_AFTER = re.compile(r"s?\s+(?:no\.?\s*|number\s+|#)?(\d{1,3})\b")
# How many were listed: "52 vessels", "106 individuals and 88 entities", "18 GRU officers".
# The issuer and the press quote the same counts, whatever their wording; below 10 they
# are too common to tell actions apart. The pattern starts with a digit so that the regex
# engine skips ahead quickly; what precedes the number is checked in Python.
_COUNT_NOUNS: Final = _word_set(
    "individuals entities people persons vessels ships tankers companies firms businesses "
    "officers officials organisations organizations targets units banks subsidiaries parties "
    "aircraft addresses designations listings members judges exchangers wallets personnes "
    "entités navires personas entidades лиц компаний судов"
)
_COUNT = re.compile(
    r"\d[\d,]*\s+(?:[^\W\d]+[ \-]+){0,3}?(?:" + "|".join(sorted(_COUNT_NOUNS)) + r")\b"
)
_COUNT_DIGITS = re.compile(r"\d{1,3}(?:,\d{3})+|\d{2,5}")
_MIN_COUNT: Final = 10
# Words that may name a package of a series; the package patterns run only if one is there.
_PACKAGE_WORDS: Final = _word_set(
    "package packages round rounds tranche tranches paket sanktionspaket пакет пакета"
)


def _numbers(folded: str, present: set[str]) -> set[str]:
    """Package ordinals ("package:14") and listing counts ("count:52")."""
    found: set[str] = set()
    if not _PACKAGE_WORDS.isdisjoint(present):
        for word in _PACKAGE_WORD.finditer(folded):
            start, end = word.span()
            if (start and folded[start - 1].isalpha()) or (
                end < len(folded) and folded[end].isalpha() and folded[end] != "s"
            ):
                continue  # "around", "packaged", "roundtable"
            context = max(0, start - _PACKAGE_CONTEXT)
            if word.group(0).endswith(("paket", "пакет")):
                if before := _NUMBER_BEFORE.search(folded, context, start):
                    found.add(f"package:{int(before.group(1))}")
            elif before := _ORDINAL_BEFORE.search(folded, context, start):
                digits, spelled = before.groups()
                found.add(f"package:{_SPELLED[spelled] if spelled else int(digits)}")
            if before is None and (after := _NUMBER_AFTER.match(folded, end)):
                found.add(f"package:{int(after.group(1))}")
    if _COUNT_NOUNS.isdisjoint(present):
        return found
    for match in _COUNT.finditer(folded):
        start = match.start()
        if start and folded[start - 1] in "0123456789.,/":
            continue  # part of a larger number, a decimal or a date
        digits = match.group(0).split(maxsplit=1)[0].rstrip(",")
        if not _COUNT_DIGITS.fullmatch(digits):
            continue
        n = int(digits.replace(",", ""))
        if n >= _MIN_COUNT and ("," in digits or not 1900 <= n <= 2100):  # not a year
            found.add(f"count:{n}")
    return found
