"""A deterministic synthetic corpus for the matching benchmark: watched names and news items.

Everything comes from one seeded `random.Random`; nothing is downloaded, so two runs with
the same seed produce the same terms and the same items, byte for byte.

* Watched names (`make_watched`) come in three sorts, cycling so that any prefix holds
  them in equal shares: person names (2-3 parts from invented syllables, a few with
  accents, about one in twelve in Cyrillic script with its Latin spelling as an alias),
  company names (an invented brand, up to two industry words, often a legal form such
  as "PJSC" or "Holding") and phrases (2-4 common English words such as "export
  restrictions on tankers").
* News items (`make_items`) have a title of about 10 words and a summary of about 90,
  drawn from a 5,000-word vocabulary (common English words first, invented words after)
  with Zipf frequencies; a few words carry a possessive "'s" or are hyphenated to the
  next. A few per cent of items mention one to three watched names, in the spellings news
  uses: as written, possessive, upper case, hyphenated, or an alias (a company without
  its legal form, "Surname First", a Cyrillic name in Latin letters).

Mentions pick watched names log-uniformly by position, so every prefix of the watched
list (1,000, 10,000, 100,000 terms) is mentioned somewhere and larger lists find more.
Phrases are made of real words that also occur in running text, so some match by
chance, as real phrase terms do.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from alerts.domain import Entity, EntityKind, Item, Watchlist

__all__ = [
    "Corpus",
    "Sort",
    "Watched",
    "make_corpus",
    "make_items",
    "make_vocabulary",
    "make_watched",
    "watchlists",
]


def _split(text: str) -> tuple[str, ...]:
    """The words of a word list written as running text (easier to read than a literal)."""
    return tuple(text.split())


VOCABULARY_SIZE = 5_000
ZIPF_EXPONENT = 1.0  # word frequency ~ 1 / rank**s; about 1 for English
MENTION_RATE = 0.04  # share of items that mention watched names
WATCHLIST_COUNT = 10  # terms are dealt over this many watchlists, as teams would keep them

# Function words lead the ranking; news words are spread over the ranks with the invented
# ones, so phrases made of them occur by chance at realistic, not absurd, rates.
FUNCTION_WORDS = _split(
    "the of to and a in on for that is said was with by as at from has have it are be will "
    "its not an which but were after this been had they their more about also who over would "
    "than into up two one last other could new"
)
ADJECTIVES = _split(
    "new secondary financial economic foreign western russian chinese iranian european "
    "british american global illegal state-owned frozen sanctioned maritime military "
    "strategic critical dual-use sensitive corporate private public national regional "
    "international additional further major senior former current crude refined strict "
    "broad targeted sweeping direct indirect commercial offshore domestic federal legal "
    "formal joint temporary permanent initial final key large small high low"
)
NOUNS = _split(
    "sanctions export exports import imports restrictions trade oil gas bank banks ministry "
    "minister officials government state company companies market markets price prices "
    "energy shipping vessel vessels tanker tankers cargo port ports finance assets asset "
    "freeze treasury council union president policy security defence war crude pipeline "
    "supply chain tariffs tariff measures package talks deal agreement court ruling law "
    "regulators regulator investigation probe report week month year percent billion "
    "million dollars euros shares stocks investors economy growth inflation rates "
    "technology chips semiconductors components parts equipment weapons drones missiles "
    "aircraft engines software payments transfers accounts funds fund insurance insurers "
    "ships fleet flag registry owners owner operators brokers traders trading network "
    "networks entities individuals persons designations designation listing delisting "
    "violations evasion enforcement penalties penalty fines fine licence licences "
    "exemptions exemption waiver controls control authorities authority agency agencies "
    "commission parliament lawmakers senators embassy envoy diplomats summit leaders "
    "allies partners neighbours region border borders coast sea waters routes route "
    "shipments shipment deliveries volumes revenue revenues profits losses debt bonds "
    "reserves currency rouble dollar euro yuan gold metals steel aluminium copper nickel "
    "grain wheat fertiliser coal power electricity nuclear uranium refinery refineries "
    "terminal terminals warehouse customs data documents records filings statement "
    "spokesperson spokesman sources analysts experts observers critics supporters"
)
_FUNCTION_SET = frozenset(FUNCTION_WORDS)
PREPOSITIONS = ("on", "of", "against", "for", "to", "from", "in", "over", "with")

# Invented words and name parts: an onset, a vowel and an optional coda per syllable.
_ONSETS = _split("b br d dr f g gr h k kl l m n p r s st t tr v z sh ch j w")
_VOWELS = ("a", "e", "i", "o", "u", "a", "e", "i", "o", "ai", "ei", "ou")
_CODAS = ["", "", "", "n", "r", "l", "s", "th", "k", "m", "x", "nd"]
_SURNAME_ENDINGS = ["", "", "", "son", "berg", "ez", "ova", "ani", "sen", "ard", "elli"]
_ACCENTS = {"a": "á", "e": "é", "o": "ö", "u": "ü", "i": "í"}

# Cyrillic names are built from syllables known in both scripts, so each name has an
# exact Latin spelling (as English news would print it) alongside the Cyrillic one.
# fmt: off
_CYRILLIC_SYLLABLES = (
    ("ka", "ка"), ("lo", "ло"), ("vi", "ви"), ("ra", "ра"), ("mi", "ми"), ("to", "то"),
    ("ne", "не"), ("sho", "шо"), ("zha", "жа"), ("dru", "дру"), ("gor", "гор"),
    ("sla", "сла"), ("bo", "бо"), ("le", "ле"), ("pe", "пе"), ("tri", "три"), ("ku", "ку"),
    ("zo", "зо"), ("na", "на"), ("ro", "ро"), ("vo", "во"), ("da", "да"), ("se", "се"),
    ("mo", "мо"), ("chu", "чу"), ("bel", "бел"), ("kra", "кра"), ("pol", "пол"),
)
# Surname endings, masculine and feminine, each in (Latin, Cyrillic).
_CYRILLIC_ENDINGS = (
    (("ov", "ов"), ("ova", "ова")), (("ev", "ев"), ("eva", "ева")),
    (("in", "ин"), ("ina", "ина")), (("sky", "ский"), ("skaya", "ская")),
    (("enko", "енко"), ("enko", "енко")), (("yuk", "юк"), ("yuk", "юк")),
)
_CYRILLIC_MEN = (
    ("Aleksei", "Алексей"), ("Dmitry", "Дмитрий"), ("Sergei", "Сергей"), ("Igor", "Игорь"),
    ("Oleg", "Олег"), ("Yuri", "Юрий"), ("Viktor", "Виктор"), ("Nikolai", "Николай"),
    ("Pavel", "Павел"), ("Andrei", "Андрей"), ("Mikhail", "Михаил"), ("Roman", "Роман"),
)
_CYRILLIC_WOMEN = (
    ("Olga", "Ольга"), ("Irina", "Ирина"), ("Yelena", "Елена"), ("Tatiana", "Татьяна"),
    ("Natalia", "Наталья"), ("Svetlana", "Светлана"), ("Anna", "Анна"), ("Marina", "Марина"),
)
# A father's name as a patronymic stem; + "ovich"/"ovna" or "evich"/"evna".
_PATRONYMIC_STEMS = (
    ("Ivan", "Иван", "ov"), ("Petr", "Петр", "ov"), ("Viktor", "Виктор", "ov"),
    ("Oleg", "Олег", "ov"), ("Igor", "Игор", "ev"), ("Sergey", "Серге", "ev"),
    ("Nikolaye", "Николае", "v"), ("Vladimir", "Владимир", "ov"),
)
# fmt: on
CYRILLIC_SHARE = 1 / 12  # of person names

INDUSTRY_WORDS = _split(
    "Energy Shipping Trading Metals Petroleum Capital Logistics Marine Chemicals Mining "
    "Aviation Grain Steel Finance Technologies Systems Resources Industries Tankers Gas "
    "Oil Invest Electronics Engineering Defence Export"
)
LEGAL_FORMS = (
    "PJSC", "LLC", "JSC", "Ltd", "Holding", "Group", "GmbH", "AG", "SA", "Limited", "Inc",
    "Holdings", "Corp", "FZE", "LLP",
)  # fmt: skip
_BRAND_ENDINGS = ["", "", "ex", "on", "ia", "ar", "tek", "is", "um", "co"]


class Sort(StrEnum):
    """What a watched name is."""

    PERSON = "person"
    COMPANY = "company"
    PHRASE = "phrase"


@dataclass(frozen=True, slots=True)
class Watched:
    """One watched name and the other spellings an entity for it would list."""

    sort: Sort
    name: str
    aliases: tuple[str, ...] = ()
    weak_aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Corpus:
    """Watched names, news items, and which names were planted in which item."""

    seed: int
    vocabulary: tuple[str, ...]
    watched: tuple[Watched, ...]
    items: tuple[Item, ...]
    mentions: tuple[tuple[int, ...], ...]  # per item: indexes into `watched`


def make_corpus(seed: int, watched: int, items: int) -> Corpus:
    """The whole corpus; smaller runs use prefixes of `watched` and `items`."""
    rng = random.Random(seed)
    vocabulary = make_vocabulary(rng, VOCABULARY_SIZE)
    names = make_watched(rng, watched, reserved=set(vocabulary))
    news, mentions = make_items(rng, vocabulary, names, items)
    return Corpus(seed, tuple(vocabulary), tuple(names), tuple(news), tuple(mentions))


def make_vocabulary(rng: random.Random, size: int) -> list[str]:
    """`size` lower-case words, most frequent first: function words, then the rest mixed."""
    real = list(dict.fromkeys(w for w in (*ADJECTIVES, *NOUNS, *PREPOSITIONS) if "-" not in w))
    real = [w for w in real if w not in FUNCTION_WORDS]
    taken = set(FUNCTION_WORDS) | set(real)
    invented: list[str] = []
    while len(FUNCTION_WORDS) + len(real) + len(invented) < size:
        word = _invented_word(rng, rng.randint(1, 3))
        if word not in taken and len(word) > 2:
            taken.add(word)
            invented.append(word)
    rest = real + invented
    rng.shuffle(rest)
    return [*FUNCTION_WORDS, *rest][:size]


def make_watched(rng: random.Random, count: int, reserved: set[str]) -> list[Watched]:
    """`count` distinct watched names cycling person, company, phrase.

    Invented name parts never equal a `reserved` (vocabulary) word, so names are found
    only where they were planted; phrases, made of vocabulary words, also occur by chance.
    """
    seen: set[str] = set()
    makers = {Sort.PERSON: _person, Sort.COMPANY: _company, Sort.PHRASE: _phrase}
    sorts = itertools.cycle((Sort.PERSON, Sort.COMPANY, Sort.PHRASE))
    watched: list[Watched] = []
    while len(watched) < count:
        sort = next(sorts)
        while True:
            candidate = makers[sort](rng, reserved)
            key = candidate.name.casefold()
            if key not in seen:
                seen.add(key)
                watched.append(candidate)
                break
    return watched


def make_items(
    rng: random.Random, vocabulary: Sequence[str], watched: Sequence[Watched], count: int
) -> tuple[list[Item], list[tuple[int, ...]]]:
    """`count` news items, and for each the indexes of the watched names planted in it."""
    ranks = range(1, len(vocabulary) + 1)
    cum_weights = list(itertools.accumulate(1 / rank**ZIPF_EXPONENT for rank in ranks))
    items: list[Item] = []
    mentions: list[tuple[int, ...]] = []
    log_count = math.log(len(watched))
    for i in range(count):
        title = _sentences(rng, vocabulary, cum_weights, rng.randint(8, 12), max_length=12)
        summary = _sentences(rng, vocabulary, cum_weights, rng.randint(80, 100), max_length=20)
        planted: tuple[int, ...] = ()
        if rng.random() < MENTION_RATE:
            how_many = rng.choices((1, 2, 3), weights=(70, 20, 10))[0]
            # Log-uniform positions: each decade of the list gets an equal share.
            planted = tuple(
                min(len(watched) - 1, int(math.exp(rng.uniform(0, log_count))) - 1)
                for _ in range(how_many)
            )
            for index in planted:
                sentence = rng.choice(title if rng.random() < 0.25 else summary)
                sentence.insert(rng.randint(0, len(sentence)), _mention(rng, watched[index]))
        items.append(
            Item(
                feed="bench",
                guid=str(i),
                link=f"https://news.example/{i}",
                title=_render(title, end=""),
                summary=_render(summary, end="."),
            )
        )
        mentions.append(planted)
    return items, mentions


def watchlists(watched: Sequence[Watched], entities: bool) -> list[Watchlist]:
    """`watched` dealt over `WATCHLIST_COUNT` watchlists.

    With `entities`, persons and companies become `Entity` records (with their aliases)
    until they are half the entries; the other half stay plain terms.
    """
    as_entities: set[int] = set()
    if entities:
        people = [i for i, w in enumerate(watched) if w.sort is not Sort.PHRASE]
        as_entities = set(people[: len(watched) // 2])
    lists: list[Watchlist] = []
    for k in range(WATCHLIST_COUNT):
        share = range(k, len(watched), WATCHLIST_COUNT)
        lists.append(
            Watchlist(
                name=f"list{k:02d}",
                terms=tuple(watched[i].name for i in share if i not in as_entities),
                entities=tuple(_entity(watched[i]) for i in share if i in as_entities),
            )
        )
    return lists


def _entity(watched: Watched) -> Entity:
    kind = EntityKind.PERSON if watched.sort is Sort.PERSON else EntityKind.ORGANIZATION
    return Entity(
        name=watched.name,
        kind=kind,
        aliases=watched.aliases,
        weak_aliases=watched.weak_aliases,
    )


def _syllable(rng: random.Random) -> str:
    return rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)


def _invented_word(rng: random.Random, syllables: int) -> str:
    return "".join(_syllable(rng) for _ in range(syllables))


def _name_part(rng: random.Random, reserved: set[str], syllables: int, ending: str = "") -> str:
    while True:
        part = _invented_word(rng, syllables) + ending
        if part not in reserved and len(part) > 2:
            vowels = [k for k, ch in enumerate(part) if ch in _ACCENTS]
            if vowels and rng.random() < 0.04:  # "Brändt": folding must see through it
                k = rng.choice(vowels)
                part = part[:k] + _ACCENTS[part[k]] + part[k + 1 :]
            return part.capitalize()


def _person(rng: random.Random, reserved: set[str]) -> Watched:
    middle = rng.random() < 0.3
    if rng.random() < CYRILLIC_SHARE:
        woman = rng.random() < 0.3
        first_latin, first = rng.choice(_CYRILLIC_WOMEN if woman else _CYRILLIC_MEN)
        stem = [rng.choice(_CYRILLIC_SYLLABLES) for _ in range(rng.randint(1, 3))]
        end_latin, end = rng.choice(_CYRILLIC_ENDINGS)[1 if woman else 0]
        last_latin = "".join(p[0] for p in stem).capitalize() + end_latin
        last = "".join(p[1] for p in stem).capitalize() + end
        parts, latin = [first, last], [first_latin, last_latin]
        if middle:  # a patronymic, as Russian names have: "Ivanovich", "Sergeevna"
            father_latin, father, link = rng.choice(_PATRONYMIC_STEMS)
            suffix_latin = link + ("na" if woman else "ich")
            suffix = {"ov": "ов", "ev": "ев", "v": "в"}[link] + ("на" if woman else "ич")
            parts.insert(1, father + suffix)
            latin.insert(1, father_latin + suffix_latin)
        return Watched(
            Sort.PERSON,
            " ".join(parts),
            aliases=(" ".join(latin), f"{last} {first}"),
            weak_aliases=(last,),
        )
    first = _name_part(rng, reserved, rng.randint(1, 2))
    last = _name_part(rng, reserved, rng.randint(1, 2), rng.choice(_SURNAME_ENDINGS))
    parts = [first, _name_part(rng, reserved, 2), last] if middle else [first, last]
    return Watched(Sort.PERSON, " ".join(parts), aliases=(f"{last} {first}",), weak_aliases=(last,))


def _company(rng: random.Random, reserved: set[str]) -> Watched:
    brand = _name_part(rng, reserved, rng.randint(1, 2), rng.choice(_BRAND_ENDINGS))
    words = [brand, *rng.sample(INDUSTRY_WORDS, rng.choice((0, 0, 1, 1, 2)))]
    base = " ".join(words)
    if rng.random() < 0.6:
        name = f"{base} {rng.choice(LEGAL_FORMS)}"
        aliases: tuple[str, ...] = (base,)
    else:
        name, aliases = base, ()
    weak = (brand,) if len(words) > 1 else ()
    return Watched(Sort.COMPANY, name, aliases=aliases, weak_aliases=weak)


def _phrase(rng: random.Random, reserved: set[str]) -> Watched:
    shape = rng.choice(("an", "nn", "npn", "anpn", "nnpn"))  # a: adjective, n: noun, p: prep.
    pools = {"a": ADJECTIVES, "n": NOUNS, "p": PREPOSITIONS}
    words = [rng.choice(pools[c]) for c in shape]
    return Watched(Sort.PHRASE, " ".join(words))


def _mention(rng: random.Random, watched: Watched) -> str:
    """`watched` as a news story would print it."""
    name = watched.name
    roll = rng.random()
    if watched.sort is Sort.PHRASE:
        if roll < 0.1 and " " in name:
            return name.replace(" ", "-", 1)  # "oil-embargo on tankers"
        return name
    if _is_cyrillic(name) and rng.random() < 0.5:
        return watched.aliases[0]  # a Cyrillic name in Latin letters, as English news has it
    if roll < 0.55:
        return name
    if roll < 0.70:
        return f"{name}'s"
    if roll < 0.78:
        return name.upper()
    if roll < 0.86:
        # hyphenated: "Zorvex-Energy PJSC", or a compound such as "Tomas Brandt-linked"
        if watched.sort is Sort.COMPANY and " " in name:
            return name.replace(" ", "-", 1)
        return f"{name}-linked"
    return rng.choice(watched.aliases) if watched.aliases else name


def _is_cyrillic(text: str) -> bool:
    return any("\u0400" <= ch <= "\u04ff" for ch in text)


def _sentences(
    rng: random.Random,
    vocabulary: Sequence[str],
    cum_weights: list[float],
    length: int,
    max_length: int,
) -> list[list[str]]:
    """`length` Zipf-drawn words cut into sentences of 6 to `max_length` words.

    Content words (not function words: "the's" is not English) now and then take a
    possessive, a hyphen joining them to the next word, a comma, or become a number.
    """
    drawn = rng.choices(vocabulary, cum_weights=cum_weights, k=length)
    words: list[str] = []
    for k, word in enumerate(drawn):
        if word not in _FUNCTION_SET:
            roll = rng.random()
            if roll < 0.03:
                word += "'s"
            elif roll < 0.07 and k + 1 < length and drawn[k + 1] not in _FUNCTION_SET:
                word += "-"  # joined to the next word when rendered
            elif roll < 0.08:
                word = str(rng.randint(2, 2030))
            elif roll < 0.14:
                word += ","
        words.append(word)
    sentences: list[list[str]] = []
    while words:
        cut = rng.randint(min(6, max_length), max_length)
        sentences.append(words[:cut])
        words = words[cut:]
    return sentences


def _render(sentences: list[list[str]], end: str) -> str:
    """Sentences as text: capitalised, ended with `end`, hyphens joining words."""
    rendered: list[str] = []
    for sentence in sentences:
        text = " ".join(sentence).replace("- ", "-").rstrip("-,")
        rendered.append(text[:1].upper() + text[1:] + end)
    return " ".join(rendered)
